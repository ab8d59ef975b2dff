"""What each mapping transform needs as arguments, and checking them.

The mapping editor shows one input per argument (from ``spec()``) and the admin
form refuses arguments ``problems()`` finds, so a mapping cannot be saved that
would fail on every record (a value map without a map, a currency conversion
without currencies).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.models import Transform, XrefKind

TEXT, NUMBER, MAPPING, LIST, CHOICE = "text", "number", "map", "list", "choice"


@dataclass(frozen=True)
class Argument:
    name: str
    label: str
    kind: str = TEXT
    required: bool = False
    default: Any = None
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()


ARGUMENTS: dict[str, tuple[Argument, ...]] = {
    Transform.TRUNCATE: (
        Argument("length", "Keep at most (characters)", NUMBER, default=30),
    ),
    Transform.ZERO_PAD: (
        Argument("length", "Zero-fill to (characters)", NUMBER, default=7),
    ),
    Transform.DATE_FORMAT: (
        Argument(
            "format", "Write as", default="%Y-%m-%d", help="e.g. %Y-%m-%d or %m/%d/%Y"
        ),
        Argument(
            "input",
            "Read as (when not ISO)",
            help="e.g. %d/%m/%Y; ISO dates are always understood",
        ),
    ),
    Transform.DECIMAL: (
        Argument("quantum", "Round to", default="0.01", help="e.g. 0.01 or 1"),
    ),
    Transform.VALUE_MAP: (
        Argument(
            "map",
            "Values",
            MAPPING,
            required=True,
            help="One per line: source value = target value",
        ),
        Argument("default", "When the value is not listed", help="Empty: an error"),
    ),
    Transform.XREF: (
        Argument(
            "kind",
            "Cross-reference table",
            CHOICE,
            required=True,
            choices=tuple(XrefKind.choices),
        ),
    ),
    Transform.CONCAT: (
        Argument(
            "fields",
            "Fields to join",
            LIST,
            required=True,
            help="Source fields, separated by commas",
        ),
        Argument("separator", "Between them", default=" "),
    ),
    Transform.SPLIT: (
        Argument("separator", "Split at", default=" "),
        Argument(
            "index", "Keep piece number", NUMBER, default=0, help="0 first, -1 last"
        ),
    ),
    Transform.CURRENCY: (
        Argument("from", "From currency", required=True, help="e.g. EUR"),
        Argument("to", "To currency", required=True, help="e.g. USD"),
        Argument("places", "Decimal places", NUMBER, default=2),
    ),
    Transform.ADDRESS: (
        Argument(
            "prefix",
            "Sage column prefix",
            help="ShipTo or BillTo for an order's addresses; empty for a customer",
        ),
    ),
}

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def arguments(transform: str) -> tuple[Argument, ...]:
    return ARGUMENTS.get(transform, ())


def spec() -> list[dict]:
    """Every transform with its arguments, for the editor's JavaScript."""
    return [
        {
            "value": value,
            "label": label,
            "arguments": [asdict(argument) for argument in arguments(value)],
        }
        for value, label in Transform.choices
    ]


def problems(transform: str, args: Any) -> list[str]:
    """What is wrong with ``args`` for ``transform``, in plain words (empty: fine)."""
    if transform not in Transform.values:
        return [f"{transform!r} is not a transform this product knows."]
    if args in (None, ""):
        args = {}
    if not isinstance(args, dict):
        return ["The transform's arguments must be a set of named values."]
    known = {argument.name: argument for argument in arguments(transform)}
    found = [
        f"{Transform(transform).label} takes no argument {name!r}."
        for name in args
        if name not in known
    ]
    for argument in known.values():
        value = args.get(argument.name)
        if value in (None, "", {}, []):
            if argument.required:
                found.append(f"{argument.label} is needed for this transform.")
            continue
        found.extend(_check(transform, argument, value))
    return found


def _check(transform: str, argument: Argument, value: Any) -> list[str]:
    label = argument.label
    if argument.kind == NUMBER:
        try:
            int(str(value))
        except ValueError:
            return [f"{label} must be a whole number, not {value!r}."]
        if argument.name in {"length", "places"} and int(str(value)) < 0:
            return [f"{label} cannot be negative."]
    elif argument.kind == MAPPING:
        if not isinstance(value, dict) or not all(
            isinstance(v, str | int | float) for v in value.values()
        ):
            return [f"{label} must list source values and what each becomes."]
    elif argument.kind == LIST:
        if not isinstance(value, list) or not all(
            isinstance(v, str) and v for v in value
        ):
            return [f"{label} must be a list of field names."]
    elif argument.kind == CHOICE:
        if value not in {choice for choice, _ in argument.choices}:
            return [f"{label}: {value!r} is not one of the choices."]
    elif not isinstance(value, str):
        return [f"{label} must be text."]
    if (
        transform == Transform.CURRENCY
        and argument.name in {"from", "to"}
        and not _CURRENCY.match(str(value).upper())
    ):
        return [f"{label} must be a three-letter currency code, e.g. USD."]
    if transform == Transform.DECIMAL:
        try:
            Decimal(str(value))
        except InvalidOperation:
            return [f"{label} must be a number such as 0.01."]
    if transform == Transform.DATE_FORMAT and argument.name == "format":
        try:
            date(2024, 1, 31).strftime(str(value))
        except ValueError:
            return [f"{label}: {value!r} is not a date format."]
    return []
