"""How the simulated business objects accept a value (SAGE100-FACTS.md 1, 4).

``nSetValue`` in Sage's BOI checks a value against the column before anything
is written: the column must be in the object's IOList, the value must fit and
be in the valid list, keys are zero-filled or upper-cased. These functions do
the same against ``schema.Column`` definitions and return the value in the
form the simulator stores (text, ``YYYY-MM-DD`` dates, decimal text numbers).
Messages copy the wording of BOI's ``sLastErrorMsg``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from integrations.agent.backends.base import BOIError
from integrations.sandbox.sage100.schema import (
    DATE,
    NUMBER,
    UDF_PREFIX,
    YES_NO,
    Column,
    Table,
)

Stored = str | None  # a value as the simulator keeps it
_DIGITS = re.compile(r"^\d+$")
_TRAILING_DIGITS = re.compile(r"(\d+)$")


# -- messages ----------------------------------------------------------------
def not_in_iolist(name: str) -> BOIError:
    return BOIError(
        f"The column {name} is not in the IOList.", code="invalid", column=name
    )


def invalid(name: str) -> BOIError:
    return BOIError(f"The {name} is invalid.", code="invalid", column=name)


def missing(name: str) -> BOIError:
    return BOIError(f"Required field {name} is missing.", code="invalid", column=name)


def not_on_file(message: str, column: str) -> BOIError:
    return BOIError(message, code="not_on_file", column=column)


def locked(table: str) -> BOIError:
    return BOIError(
        "The record is in use by another user.", code="locked", column=table
    )


# -- columns -----------------------------------------------------------------
def columns_of(table: Table, udfs: Iterable[Column] = ()) -> dict[str, Column]:
    """The object's IOList: schema columns plus the table's live UDFs.

    Keyed by lower-case name: ProvideX variable names are not case sensitive.
    """
    found = {c.name.lower(): c for c in table.columns}
    found.update({c.name.lower(): c for c in udfs})
    return found


def resolve(columns: Mapping[str, Column], name: str) -> Column:
    """The column a caller named; BOI's string columns may carry a ``$``."""
    column = columns.get(str(name).rstrip("$").lower())
    if column is None:
        raise not_in_iolist(str(name).rstrip("$"))
    return column


# -- values ------------------------------------------------------------------
def normalise(column: Column, value: Any) -> Stored:
    """``value`` as stored in ``column``, or BOIError("The X is invalid.")."""
    if column.kind == NUMBER:
        return _number(column, value)
    if column.kind == DATE:
        return _date(column, value)
    if column.kind == YES_NO:
        return _yes_no(column, value)
    return _string(column, value)


def _string(column: Column, value: Any) -> str:
    if value is None:
        value = ""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise invalid(column.name)
    text = str(value)
    if column.zero_fill and text:
        if _DIGITS.match(text):
            text = text.zfill(column.length)
        elif column.name.endswith("DivisionNo"):
            raise invalid(column.name)  # divisions are digits only
        else:
            text = text.upper()  # CHARNUM: letters are kept, upper-cased
    if column.upper:
        text = text.upper()
    if len(text) > column.length:
        raise invalid(column.name)  # rejected, never cut
    blank_udf = text == "" and column.name.startswith(UDF_PREFIX)
    if column.choices and text not in column.choices and not blank_udf:
        raise invalid(column.name)
    return text


def _number(column: Column, value: Any) -> str:
    if value is None or value == "":
        value = 0
    if isinstance(value, bool):
        raise invalid(column.name)
    try:
        if isinstance(value, float):
            number = Decimal(repr(value))
        else:
            number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise invalid(column.name) from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** column.length:
        raise invalid(column.name)
    number = quantize(number, column.scale)
    if abs(number) >= Decimal(10) ** column.length:
        raise invalid(column.name)  # 999999999999.996 rounds up past the field
    return f"{number:f}"


def _date(column: Column, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise invalid(column.name)


def _yes_no(column: Column, value: Any) -> str:
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value or "").strip().upper()
    if text == "" and column.name.startswith(UDF_PREFIX):
        return ""
    if text not in ("Y", "N"):
        raise invalid(column.name)
    return text


def quantize(number: Decimal, scale: int) -> Decimal:
    return number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def apply(
    columns: Mapping[str, Column],
    values: Mapping[str, Any],
    *,
    protected: Iterable[str] = (),
) -> dict[str, Stored]:
    """Every caller value checked and normalised, in the caller's order.

    Read-only columns (and any the object computes itself, ``protected``) are
    refused: BOI's ``nSetValue`` returns 0 for them.
    """
    refused = {p.lower() for p in protected}
    out: dict[str, Stored] = {}
    for name, value in values.items():
        column = resolve(columns, name)
        if column.read_only or column.name.lower() in refused:
            raise invalid(column.name)
        out[column.name] = normalise(column, value)
    return out


def blank(column: Column) -> Stored:
    """What a new record holds in a column nobody set."""
    if column.kind == NUMBER:
        return f"{quantize(Decimal(0), column.scale):f}"
    if column.kind == DATE:
        return None
    return ""


def to_record(columns: Iterable[Column], row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as the agent returns it: JSON-ready text, Sage's names.

    SQLite turns decimal text into numbers (the columns have numeric
    affinity), so numbers are written back out with the column's scale.
    """
    out: dict[str, Any] = {}
    for column in columns:
        if column.name not in row:
            continue
        value = row[column.name]
        if column.kind == NUMBER:
            number = Decimal(repr(value)) if isinstance(value, float) else value
            out[column.name] = f"{quantize(Decimal(str(number or 0)), column.scale):f}"
        elif column.kind == DATE:
            out[column.name] = value or None
        else:
            out[column.name] = "" if value is None else str(value)
    return out


def decimal(value: Any) -> Decimal:
    """A stored number (int, float or text) as a Decimal."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def key_text(values: Iterable[Any]) -> str:
    """A record's key as ``SIM_RecordLock`` holds it: key values joined by ``|``."""
    return "|".join("" if v is None else str(v) for v in values)


def next_number(current: str, width: int) -> str:
    """The counter after ``current``: its trailing digits plus one, same width."""
    match = _TRAILING_DIGITS.search(current or "")
    if not match:
        return (current or "") + "1".zfill(max(1, width - len(current or "")))
    digits = match.group(1)
    bumped = str(int(digits) + 1).zfill(len(digits))
    return current[: match.start()] + bumped
