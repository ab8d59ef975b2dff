"""What the change poller reads from Sage 100 (SAGE100-FACTS.md section 6).

Sage has no webhooks and no change log: integrators read ``DateUpdated`` +
``TimeUpdated`` per table. ``TimeUpdated`` is a string of decimal hours
(``"14.50000"`` is 14:30, ``"9.00000"`` is 09:00), so it is never compared as a
string in SQL: the query filters on the date alone and the time is compared
here, as seconds of the day. Plain SQL only (ProvideX answers little else), and
no Django: the poller hands us an ``OdbcReader``-like object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

from integrations.engine.errors import ValidationFailed

# Sage's key per table (SAGE100-FACTS.md section 2).
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "AR_Customer": ("ARDivisionNo", "CustomerNo"),
    "CI_Item": ("ItemCode",),
    "IM_ItemWarehouse": ("ItemCode", "WarehouseCode"),
    "SO_SalesOrderHeader": ("SalesOrderNo",),
    "SO_SalesOrderHistoryHeader": ("SalesOrderNo",),
    "AR_InvoiceHistoryHeader": ("InvoiceNo", "HeaderSeqNo"),
    "AP_Vendor": ("APDivisionNo", "VendorNo"),
    "PO_PurchaseOrderHeader": ("PurchaseOrderNo",),
    "AP_OpenInvoice": ("APDivisionNo", "VendorNo", "InvoiceNo"),
}
# Where a row goes when it leaves its table: an order that is no longer in
# SO_SalesOrderHeader was invoiced-and-closed or deleted; its history says which.
HISTORY_TABLES = {"SO_SalesOrderHeader": "SO_SalesOrderHistoryHeader"}
# History statuses that mean "left the open-order file": completed, deleted,
# deleted quote. (A active and Q quote still live in SO_SalesOrderHeader.)
CLOSED_STATUSES = frozenset({"C", "X", "Z"})
# Written by the business object on every write, so not business data: a hash
# over them would report a save that changed nothing.
STAMP_COLUMNS = frozenset(
    {
        "DateCreated",
        "TimeCreated",
        "UserCreatedKey",
        "DateUpdated",
        "TimeUpdated",
        "UserUpdatedKey",
    }
)
KEY_SEPARATOR = "|"
# Tables whose free-length key column comes first (the rest are fixed width).
_FREE_FIRST = frozenset({"IM_ItemWarehouse"})


class Reader(Protocol):
    def select(self, table: str, sql: str, params: Any = ()) -> list[dict]: ...


def key_columns(table: str) -> tuple[str, ...]:
    try:
        return KEY_COLUMNS[table]
    except KeyError:
        raise ValidationFailed(
            f"Change detection does not know the Sage 100 table {table!r}.",
            field="table",
        ) from None


# -- stamps ----------------------------------------------------------------------


def seconds_of_day(time_updated: Any) -> int | None:
    """``"14.50000"`` → 52200; None when blank or not a number of hours."""
    if time_updated is None:
        return None
    try:
        hours = Decimal(str(time_updated).strip())
    except InvalidOperation:
        return None
    if not hours.is_finite() or hours < 0:
        return None
    seconds = int((hours * 3600).to_integral_value(rounding=ROUND_HALF_UP))
    return min(seconds, 86399)


def stamp(row: dict) -> datetime | None:
    """When Sage says the row last changed (server-local, naive).

    A blank or unreadable ``TimeUpdated`` counts as the start of the day; a row
    without ``DateUpdated`` has no stamp (only a reconciliation sees it).
    """
    day = row.get("DateUpdated")
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, date):
        return None
    seconds = seconds_of_day(row.get("TimeUpdated")) or 0
    return datetime.combine(day, time()) + timedelta(seconds=seconds)


def _changed_since(row: dict, since: datetime) -> bool:
    moment = stamp(row)
    if moment is None:
        return False
    if moment >= since:
        return True
    # Same day, time unreadable: keep it. A re-read is cheap (the hash drops
    # it); a miss is not.
    return (
        moment.date() == since.date() and seconds_of_day(row.get("TimeUpdated")) is None
    )


# -- reading ------------------------------------------------------------------------


def rows_changed_since(reader: Reader, table: str, since: datetime) -> list[dict]:
    """Rows stamped at or after ``since`` (Sage-local time).

    The WHERE holds only the date, as an ODBC date escape (built from a date
    object, so nothing from outside reaches the SQL text); the time of day is
    filtered here.
    """
    key_columns(table)
    escape = "{d '" + since.date().isoformat() + "'}"
    rows = reader.select(table, f"SELECT * FROM {table} WHERE DateUpdated >= {escape}")
    return [row for row in rows if _changed_since(row, since)]


def all_rows(reader: Reader, table: str, columns: Iterable[str] = ()) -> list[dict]:
    """Every row of ``table`` (a reconciliation): the whole file, once."""
    key_columns(table)
    names = ", ".join(columns) or "*"
    return reader.select(table, f"SELECT {names} FROM {table}")


def row_by_key(reader: Reader, table: str, key: dict[str, Any]) -> dict | None:
    """One row by its full key: the fast path on ProvideX (leading key columns)."""
    columns = key_columns(table)
    where = " AND ".join(f"{column} = ?" for column in columns)
    rows = reader.select(
        table,
        f"SELECT * FROM {table} WHERE {where}",
        [key[column] for column in columns],
    )
    return rows[0] if rows else None


def closed_since(reader: Reader, table: str, since: datetime) -> list[dict]:
    """History rows of orders that left ``table`` (closed, deleted) since ``since``."""
    history = HISTORY_TABLES.get(table)
    if history is None:
        return []
    rows = rows_changed_since(reader, history, since)
    return [r for r in rows if str(r.get("OrderStatus") or "") in CLOSED_STATUSES]


# -- identity and content --------------------------------------------------------


def key_of(table: str, row: dict) -> dict[str, str]:
    return {column: str(row.get(column) or "").strip() for column in key_columns(table)}


def key_text(table: str, row: dict) -> str:
    """``"01|ABF"``. Unambiguous: every key has at most one free-length column."""
    return KEY_SEPARATOR.join(key_of(table, row).values())


def parse_key(table: str, text: str) -> dict[str, str]:
    """``key_text`` read back, even when the free-length column holds a ``|``."""
    columns = key_columns(table)
    splits = len(columns) - 1
    if table in _FREE_FIRST:
        parts = text.rsplit(KEY_SEPARATOR, splits)
    else:
        parts = text.split(KEY_SEPARATOR, splits)
    if len(parts) != len(columns):
        raise ValidationFailed(f"{text!r} is not a {table} key.", field="key")
    return dict(zip(columns, parts, strict=True))


def json_safe(value: Any) -> Any:
    """Values an event body can carry: Decimal → str, date → ISO text."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value


def _hashable(value: Any) -> Any:
    # "10.00" and "10" are the same quantity; drivers differ in which they send.
    if isinstance(value, Decimal) and value.is_finite():
        return format(value.normalize(), "f")
    return json_safe(value)


def row_hash(row: dict) -> str:
    """SHA-256 of the business columns (UDFs included, stamps excluded).

    Empty values are left out, so adding a UDF column (empty in every row)
    does not make the whole table look changed.
    """
    content = {
        name: _hashable(value)
        for name, value in row.items()
        if name not in STAMP_COLUMNS and value not in (None, "")
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
