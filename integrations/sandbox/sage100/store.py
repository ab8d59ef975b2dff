"""One business-object write: a transaction on the company file, and its stamps.

Every write the simulated BOI makes goes through a ``Txn``: rows are filled
with Sage's blanks, stamped with the server-local clock and the user's key,
and refused when another user holds the record (``SIM_RecordLock``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

from integrations.agent.backends.base import BOIError
from integrations.sandbox.sage100 import rules
from integrations.sandbox.sage100.database import CompanyDatabase, decimal_hours
from integrations.sandbox.sage100.schema import TABLES, Column, Table

CREATED = ("DateCreated", "TimeCreated", "UserCreatedKey")
UPDATED = ("DateUpdated", "TimeUpdated", "UserUpdatedKey")


class Txn:
    """Row access inside one IMMEDIATE transaction."""

    def __init__(
        self,
        db: CompanyDatabase,
        connection: sqlite3.Connection,
        *,
        user: str,
        now: datetime,
    ) -> None:
        self.db = db
        self.con = connection
        self.user = (user or "").upper()
        self.now = now
        self._columns: dict[str, dict[str, Column]] = {}
        self._user_key: str | None = None

    # -- columns -------------------------------------------------------------
    def columns(self, table: str) -> dict[str, Column]:
        """The table's IOList (schema plus live UDFs), by lower-case name."""
        if table not in self._columns:
            self._columns[table] = rules.columns_of(
                TABLES[table], self.db.udfs(self.con, table)
            )
        return self._columns[table]

    def apply(
        self, table: str, values: dict[str, Any], *, protected: tuple[str, ...] = ()
    ) -> dict[str, rules.Stored]:
        """Caller values checked as ``nSetValue`` checks them."""
        return rules.apply(self.columns(table), values, protected=protected)

    def value(self, table: str, column: str, raw: Any) -> rules.Stored:
        """A value read from one row, stored in ``table``'s ``column``."""
        spec = self.columns(table)[column.lower()]
        if spec.kind == "number":
            raw = rules.decimal(raw)
        return rules.normalise(spec, raw)

    def normalise_key(self, table: str, values: dict[str, Any]) -> dict[str, str]:
        """Key values zero-filled / upper-cased as the table stores them."""
        columns = self.columns(table)
        return {
            k: rules.normalise(columns[k.lower()], values.get(k)) or ""
            for k in TABLES[table].key
        }

    # -- reading -------------------------------------------------------------
    def get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        rows = self.select(table, key)
        return rows[0] if rows else None

    def select(
        self, table: str, where: dict[str, Any], *, order_by: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        conditions = " AND ".join(f'"{c}" = ?' for c in where) or "1 = 1"
        order = ", ".join(f'"{c}"' for c in (order_by or TABLES[table].key))
        cursor = self.con.execute(
            f'SELECT * FROM "{table}" WHERE {conditions} ORDER BY {order}',
            tuple(where.values()),
        )
        return [dict(row) for row in cursor]

    def record(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """A raw row as WriteResult carries it (numbers as scaled text)."""
        columns = [*TABLES[table].columns, *self.db.udfs(self.con, table)]
        return rules.to_record(columns, row)

    def option(self, table: str, column: str) -> Any:
        row = self.con.execute(f'SELECT "{column}" FROM "{table}"').fetchone()
        return row[0] if row else None

    def set_option(self, table: str, column: str, value: Any) -> None:
        self.con.execute(f'UPDATE "{table}" SET "{column}" = ?', (value,))

    # -- writing -------------------------------------------------------------
    def insert(self, table: str, values: dict[str, Any], *, stamp: bool = True):
        spec: Table = TABLES[table]
        row = {c.name: rules.blank(c) for c in self.columns(table).values()}
        row.update(values)
        if stamp and spec.stamped:
            row.update(self.stamps(created=True))
        names = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        self.con.execute(
            f'INSERT INTO "{table}" ({names}) VALUES ({marks})', tuple(row.values())
        )
        return row

    def update(
        self,
        table: str,
        key: dict[str, Any],
        values: dict[str, Any],
        *,
        stamp: bool = True,
    ) -> None:
        values = dict(values)
        if stamp and TABLES[table].stamped:
            values.update(self.stamps(created=False))
        if not values:
            return
        assignments = ", ".join(f'"{c}" = ?' for c in values)
        conditions = " AND ".join(f'"{c}" = ?' for c in key)
        self.con.execute(
            f'UPDATE "{table}" SET {assignments} WHERE {conditions}',
            (*values.values(), *key.values()),
        )

    def add(self, table: str, key: dict[str, Any], column: str, amount) -> None:
        """A running total changed by a transaction: no stamps (Sage's own)."""
        row = self.get(table, key)
        if row is None:
            return
        scale = TABLES[table].column(column).scale
        total = rules.quantize(rules.decimal(row[column]) + amount, scale)
        self.update(table, key, {column: f"{total:f}"}, stamp=False)

    def delete(self, table: str, where: dict[str, Any]) -> None:
        conditions = " AND ".join(f'"{c}" = ?' for c in where)
        self.con.execute(
            f'DELETE FROM "{table}" WHERE {conditions}', tuple(where.values())
        )

    def stamps(self, *, created: bool) -> dict[str, str]:
        moment = (self.now.date().isoformat(), decimal_hours(self.now), self.user_key)
        values = dict(zip(UPDATED, moment, strict=True))
        if created:
            values.update(zip(CREATED, moment, strict=True))
        return values

    @property
    def user_key(self) -> str:
        """The user's 10-digit key, as Sage's ``SY_User`` assigns it."""
        if self._user_key is None:
            row = self.con.execute(
                "SELECT UserKey FROM SIM_User WHERE UserLogon = ?", (self.user,)
            ).fetchone()
            if row is None:
                (last,) = self.con.execute(
                    "SELECT MAX(CAST(UserKey AS INTEGER)) FROM SIM_User"
                ).fetchone()
                key = str((last or 0) + 1).zfill(10)
                self.con.execute(
                    "INSERT INTO SIM_User (UserLogon, UserKey) VALUES (?, ?)",
                    (self.user, key),
                )
                row = (key,)
            self._user_key = row[0]
        return self._user_key

    # -- locks ---------------------------------------------------------------
    def check_unlocked(self, table: str, key: dict[str, Any]) -> None:
        """Refuse to write a record another user holds, as BOI does."""
        text = rules.key_text(key[k] for k in TABLES[table].key)
        row = self.con.execute(
            "SELECT LockedBy FROM SIM_RecordLock WHERE TableName = ? AND RecordKey = ?",
            (table, text),
        ).fetchone()
        if row is not None and row[0].upper() != self.user:
            raise rules.locked(table)


# -- references: what BOI's nSetValue checks against other files --------------
def division(txn: Txn, number: str, *, column: str = "ARDivisionNo") -> dict:
    row = txn.get("AR_Division", {"ARDivisionNo": number})
    if row is None:
        raise rules.not_on_file(f"Division {number} is not on file.", column)
    return row


def customer(txn: Txn, division_no: str, customer_no: str) -> dict:
    row = txn.get(
        "AR_Customer", {"ARDivisionNo": division_no, "CustomerNo": customer_no}
    )
    if row is None:
        raise rules.not_on_file("The customer number is invalid.", "CustomerNo")
    return row


def terms(txn: Txn, code: str) -> None:
    if code and txn.get("AR_TermsCode", {"TermsCode": code}) is None:
        raise rules.not_on_file(f"Terms code {code} is not on file.", "TermsCode")


def warehouse(txn: Txn, code: str, *, column: str = "WarehouseCode") -> None:
    if txn.get("IM_Warehouse", {"WarehouseCode": code}) is None:
        raise rules.not_on_file(f"Warehouse {code} is not on file.", column)


def ship_to(txn: Txn, division_no: str, customer_no: str, code: str) -> dict:
    row = txn.get(
        "AR_CustomerShipAddress",
        {"ARDivisionNo": division_no, "CustomerNo": customer_no, "ShipToCode": code},
    )
    if row is None:
        raise rules.not_on_file(f"Ship-to code {code} is not on file.", "ShipToCode")
    return row


def vendor(txn: Txn, division_no: str, vendor_no: str) -> dict:
    if txn.get("AP_Division", {"APDivisionNo": division_no}) is None:
        raise rules.not_on_file(
            f"Division {division_no} is not on file.", "APDivisionNo"
        )
    row = txn.get("AP_Vendor", {"APDivisionNo": division_no, "VendorNo": vendor_no})
    if row is None:
        raise rules.not_on_file(
            f"Vendor {division_no}-{vendor_no} is not on file.", "VendorNo"
        )
    return row


def item(txn: Txn, code: str, *, warehouse_code: str = "") -> dict:
    """An active item, stocked in ``warehouse_code`` when it is an inventory item."""
    row = txn.get("CI_Item", {"ItemCode": code})
    if row is None:
        raise rules.not_on_file(f"Item {code} is not on file.", "ItemCode")
    if row["InactiveItem"] == "Y":
        raise BOIError(f"Item {code} is inactive.", code="invalid", column="ItemCode")
    if warehouse_code and row["ItemType"] == "1":
        stocked = txn.get(
            "IM_ItemWarehouse", {"ItemCode": code, "WarehouseCode": warehouse_code}
        )
        if stocked is None:
            raise rules.not_on_file(
                f"Item {code} is not stocked in warehouse {warehouse_code}.",
                "ItemCode",
            )
    return row


def next_number(
    txn: Txn,
    options: str,
    counter: str,
    taken: Callable[[str], bool],
    *,
    width: int | None = None,
) -> str:
    """Take the module's next number (``nGetNext...No``), skipping used ones."""
    width = width or TABLES[options].column(counter).length
    candidate = txn.option(options, counter) or rules.next_number("", width)
    while taken(candidate):
        candidate = rules.next_number(candidate, width)
    txn.set_option(options, counter, rules.next_number(candidate, width))
    return candidate
