"""Apply admin-edited FieldMapping rows to a source document."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from integrations.engine.errors import ReferenceMissing, ValidationFailed
from integrations.models import FieldMapping, Transform

_MISSING = object()


def get_path(document: Any, path: str) -> Any:
    """``lines.0.sku`` style lookup; a missing step yields _MISSING."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def set_path(document: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        document = document.setdefault(part, {})
    document[parts[-1]] = value


def _transform(mapping: FieldMapping, value: Any, xref) -> Any:
    args, kind = mapping.transform_args or {}, mapping.transform
    if value is None or kind == Transform.NONE:
        return value
    if kind == Transform.UPPER:
        return str(value).upper()
    if kind == Transform.LOWER:
        return str(value).lower()
    if kind == Transform.TRIM:
        return str(value).strip()
    if kind == Transform.TRUNCATE:
        return str(value)[: int(args.get("length", 30))]
    if kind == Transform.ZERO_PAD:
        return str(value).strip().zfill(int(args.get("length", 7)))
    if kind == Transform.DECIMAL:
        try:
            quantum = Decimal(args.get("quantum", "0.01"))
            # Half-up, as invoices and ledgers round, not banker's rounding.
            return str(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))
        except InvalidOperation:
            raise ValidationFailed(
                f"{value!r} is not a number.", field=mapping.source_field
            ) from None
    if kind == Transform.DATE_FORMAT:
        return _format_date(mapping, value, args)
    if kind == Transform.VALUE_MAP:
        table = args.get("map", {})
        if str(value) in table:
            return table[str(value)]
        if "default" in args:
            return args["default"]
        raise ValidationFailed(
            f"{value!r} has no entry in the value map of {mapping.target_field}.",
            field=mapping.source_field,
        )
    if kind == Transform.XREF:
        found = xref(args.get("kind", ""), str(value))
        if found is None:
            raise ReferenceMissing(
                f"No {args.get('kind', '')} cross-reference for {value!r}: add one "
                f"under Cross-references.",
                field=mapping.source_field,
            )
        return found
    if kind == Transform.CURRENCY:
        return _convert(mapping, value, args)
    if kind == Transform.ADDRESS:
        return _address(value, args)
    if kind == Transform.SPLIT:
        pieces = str(value).split(args.get("separator", " "))
        index = int(args.get("index", 0))
        return pieces[index] if -len(pieces) <= index < len(pieces) else ""
    return value


def _convert(mapping: FieldMapping, value: Any, args: dict) -> str:
    """``{"from": "EUR", "to": "USD", "places": 2}``: at today's rate table."""
    from integrations.services import currency

    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(
            f"{value!r} is not a number.", field=mapping.source_field
        ) from None
    converted = currency.convert(
        amount,
        str(args.get("from", "")).upper(),
        str(args.get("to", "")).upper(),
        date.today(),
        places=int(args.get("places", 2)),
    )
    return str(converted)


def _address(value: Any, args: dict) -> Any:
    """A whole address (street, city, state, postal_code, country) becomes Sage's
    columns (``{"prefix": "ShipTo"}`` for an order's ship-to); a street alone
    becomes its standardised first line."""
    from integrations.services import addresses

    if isinstance(value, dict):
        fields = {k: str(value.get(k) or "") for k in addresses.Address.__annotations__}
        return addresses.standardise(addresses.Address(**fields)).as_sage(
            str(args.get("prefix", ""))
        )
    return addresses.standardise(addresses.Address(street=str(value))).lines[0]


def _format_date(mapping: FieldMapping, value: Any, args: dict) -> str:
    if isinstance(value, (date, datetime)):
        parsed = value
    else:
        text = str(value)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = datetime.strptime(text, args.get("input", "%Y-%m-%d"))
            except ValueError:
                raise ValidationFailed(
                    f"{value!r} is not a date.", field=mapping.source_field
                ) from None
    return parsed.strftime(args.get("format", "%Y-%m-%d"))


def apply(
    mappings: Iterable[FieldMapping],
    document: Any,
    *,
    xref: Callable[[str, str], str | None],
) -> dict:
    """Build the target document; required fields that stay empty are named."""
    result: dict = {}
    for mapping in mappings:
        if mapping.transform == Transform.CONCAT:
            parts = [
                get_path(document, p) for p in mapping.transform_args.get("fields", [])
            ]
            value = mapping.transform_args.get("separator", " ").join(
                str(p) for p in parts if p not in (_MISSING, None, "")
            )
        else:
            value = (
                get_path(document, mapping.source_field)
                if mapping.source_field
                else _MISSING
            )
            value = None if value is _MISSING else _transform(mapping, value, xref)
        if value in (None, "") and mapping.default:
            value = mapping.default
        name = mapping.source_field or mapping.target_field
        if value in (None, "") and mapping.required:
            raise ValidationFailed(f"{name} is required but empty.", field=name)
        if value is not None:
            set_path(result, mapping.target_field, value)
    return result
