"""Turning a JSON value into what a field stores, with Salesforce's complaints.

Stored values: str for text-like fields and ids, bool, int/float for numbers,
"YYYY-MM-DD" for dates, "YYYY-MM-DDTHH:MM:SS.000+0000" (UTC) for datetimes.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from integrations.sandbox.salesforce.errors import ApiError
from integrations.sandbox.salesforce.schema import FieldMeta

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
JAVA_TYPES = {
    "boolean": "boolean",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "int": "int",
    "date": "date",
    "datetime": "datetime",
}


def format_datetime(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.UTC)
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
    )


def parse_datetime(text: str) -> dt.datetime | None:
    """Accepts the ISO 8601 forms Salesforce accepts (Z, ±hh:mm, ±hhmm, ms)."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    match = re.match(
        r"^(.*[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([+-]\d{2})(\d{2})$", value
    )
    if match:
        value = f"{match.group(1)}{match.group(2)}:{match.group(3)}"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if "T" not in value and " " not in value:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def _parser_error(meta: FieldMeta, value) -> ApiError:
    token = {
        str: "VALUE_STRING",
        bool: "VALUE_TRUE" if value is True else "VALUE_FALSE",
        int: "VALUE_NUMBER_INT",
        float: "VALUE_NUMBER_FLOAT",
        dict: "START_OBJECT",
        list: "START_ARRAY",
    }.get(type(value), "VALUE_STRING")
    java = JAVA_TYPES.get(meta.type, "string")
    return ApiError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {java} from {token} value {value} "
        "or request may be missing a required field",
        [meta.name],
    )


def coerce(meta: FieldMeta, value):
    """The stored form of ``value`` for ``meta`` or an ApiError naming the field."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise _parser_error(meta, value)
    kind = meta.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _parser_error(meta, value)
    if kind in ("double", "currency", "percent", "int"):
        return _number(meta, value)
    if kind == "date":
        return _date(meta, value)
    if kind == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise _parser_error(meta, value)
        return format_datetime(moment)
    # Text-like: numbers are accepted and written as text, booleans are not.
    if isinstance(value, bool):
        raise _parser_error(meta, value)
    text = value if isinstance(value, str) else str(value)
    return _text(meta, text)


def _date(meta: FieldMeta, value) -> str:
    """ "YYYY-MM-DD"; a datetime is cut to its (UTC) day, as the API does."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return dt.date.fromisoformat(text).isoformat()
            except ValueError:
                pass
        else:
            moment = parse_datetime(text)
            if moment is not None:
                return moment.astimezone(dt.UTC).date().isoformat()
    raise _parser_error(meta, value)


def _number(meta: FieldMeta, value):
    if isinstance(value, bool):
        raise _parser_error(meta, value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _parser_error(meta, value) from None
    if not number.is_finite():
        raise _parser_error(meta, value)
    if meta.type == "int":
        if number != number.to_integral_value():
            raise _parser_error(meta, value)
        result = int(number)
    else:
        number = number.quantize(Decimal(1).scaleb(-meta.scale), rounding=ROUND_HALF_UP)
        result = float(number)
    whole_digits = meta.precision - meta.scale if meta.type != "int" else meta.precision
    if whole_digits and abs(number) >= Decimal(10) ** whole_digits:
        raise ApiError(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{meta.label}: value outside of valid range on numeric field: {value}",
            [meta.name],
        )
    return result


def _text(meta: FieldMeta, text: str) -> str:
    if (
        meta.type == "picklist"
        and meta.restricted_picklist
        and text not in meta.picklist
    ):
        raise ApiError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{meta.label}: bad value for restricted picklist field: {text}",
            [meta.name],
        )
    if meta.type == "email" and text and not EMAIL.match(text):
        raise ApiError(
            "INVALID_EMAIL_ADDRESS",
            f"{meta.label}: invalid email address: {text}",
            [meta.name],
        )
    if meta.length and len(text) > meta.length and meta.type not in ("id", "reference"):
        raise ApiError(
            "STRING_TOO_LONG",
            f"{meta.label}: data value too large: {text} (max length={meta.length})",
            [meta.name],
        )
    return text
