"""Selectors over Sage 100's ODBC view: plain dicts with Sage's column names.

Every query is parametrised and leads its WHERE clause with the table's key
columns, because the ProvideX driver reads a whole file for anything else
(SAGE100-FACTS.md section 3). Keys are normalised first (``keys.py``), so
``"abf"`` finds ``"ABF"`` and ``"123"`` finds order ``"0000123"``. Values arrive
converted by ``OdbcReader``: DECIMAL → ``Decimal``, DATE → ``date``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from integrations.connectors.base import CallLog, Throttle, no_log
from integrations.connectors.sage100 import changes, keys
from integrations.connectors.sage100.odbc import OdbcReader
from integrations.connectors.sage100.settings import (
    QUANTITIES,
    Sage100Settings,
    udf_name,
)
from integrations.engine.errors import DuplicateAmbiguous, SyncError, ValidationFailed

CHUNK = 50  # parameters per IN (...): small enough for any ODBC driver
CREDIT_COLUMNS = (
    "ARDivisionNo, CustomerNo, CustomerName, CustomerStatus, CreditLimit, "
    "CreditHold, CurrentBalance, OpenOrderAmt"
)
ZERO = Decimal("0")


@dataclass(frozen=True)
class CreditPosition:
    """What Sage 100 says a customer may still buy on credit, read live.

    ``available_credit`` is ``CreditLimit - CurrentBalance - OpenOrderAmt`` (the
    rule Sage's sales order entry applies); ``None`` when the limit is zero,
    which Sage treats as "no limit" [INFERRED].
    """

    customer: str  # Sage's display form, 01-ABF
    division: str
    customer_no: str
    name: str
    credit_limit: Decimal
    current_balance: Decimal
    open_order_amt: Decimal
    available_credit: Decimal | None
    on_hold: bool
    status: str

    @property
    def unlimited(self) -> bool:
        return self.available_credit is None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CreditPosition:
        limit = row.get("CreditLimit") or ZERO
        balance = row.get("CurrentBalance") or ZERO
        open_orders = row.get("OpenOrderAmt") or ZERO
        return cls(
            customer=keys.display(row["ARDivisionNo"], row["CustomerNo"]),
            division=row["ARDivisionNo"],
            customer_no=row["CustomerNo"],
            name=row.get("CustomerName") or "",
            credit_limit=limit,
            current_balance=balance,
            open_order_amt=open_orders,
            available_credit=None if limit == ZERO else limit - balance - open_orders,
            on_hold=(row.get("CreditHold") or "N").upper() == "Y",
            status=row.get("CustomerStatus") or "",
        )


def chunks(values: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    """``values`` in slices of ``size``, one ``IN (...)`` each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def marks(count: int) -> str:
    """The ``?, ?, ...`` placeholders of an ``IN (...)`` of ``count`` values."""
    return ", ".join("?" * count)


class Sage100Reader:
    def __init__(
        self,
        odbc: OdbcReader,
        settings: Sage100Settings,
        *,
        throttle: Throttle | None = None,
        log: CallLog = no_log,
    ) -> None:
        self.odbc = odbc
        self.settings = settings
        self.throttle = throttle
        self.log = log

    # -- every call to Sage goes through here --------------------------------
    def _call(self, table: str, method: str, work):
        """Run one ODBC call under the connection's budget, and log it."""
        started = time.monotonic()
        try:
            with self.throttle.call() if self.throttle else nullcontext():
                result = work()
        except SyncError as exc:
            self.log("sage100", method, f"odbc:{table}", type(exc).__name__, started)
            raise
        count = len(result) if isinstance(result, list) else None
        status = "ok" if count is None else f"{count} row{'' if count == 1 else 's'}"
        self.log("sage100", method, f"odbc:{table}", status, started)
        return result

    def select(self, table: str, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        """A parametrised SELECT on ``table``, throttled and logged (change feeds)."""
        return self._call(
            table, "SELECT", lambda: self.odbc.select(table, sql, list(params))
        )

    def _one(self, table: str, sql: str, params: Sequence[Any]) -> dict | None:
        rows = self.select(table, sql, params)
        return rows[0] if rows else None

    # -- customers -----------------------------------------------------------
    def customer(self, division: str, customer_no: str) -> dict | None:
        return self._one(
            "AR_Customer",
            "SELECT * FROM AR_Customer WHERE ARDivisionNo = ? AND CustomerNo = ?",
            [keys.division(division), keys.customer_no(customer_no)],
        )

    def customer_by_udf(self, udf_column: str, value: str) -> dict | None:
        """The customer whose UDF holds ``value`` (e.g. a Salesforce account id).

        UDFs are not indexed, so this reads the whole file on a real server:
        prefer a cross-reference when one exists.
        """
        table, name = "AR_Customer", udf_name(udf_column)
        sql = f"SELECT * FROM AR_Customer WHERE {name} = ?"

        def work() -> list[dict]:
            self._require_udf(table, name)
            return self.odbc.select(table, sql, [str(value).strip()])

        rows = self._call(table, "SELECT", work)
        if len(rows) > 1:
            found = [keys.display(r["ARDivisionNo"], r["CustomerNo"]) for r in rows]
            raise DuplicateAmbiguous(
                f"Several Sage 100 customers have {name} = {value!r}: "
                f"{', '.join(found)}.",
                candidates=found,
                field=name,
            )
        return rows[0] if rows else None

    def find_customer(self, ref: str, division: str | None = None) -> dict | None:
        """A customer from ``"01-ABF"``, ``"ABF"`` or ``"abf"`` with ``division``.

        Without a division, the customer number alone is looked up (Sage indexes
        it); found in several divisions, the caller must say which. ``"12-345"``
        may be division 12's customer 345 or a customer number with a hyphen:
        the split form is tried first, then the whole text.
        """
        text = str(ref).strip()
        split_division, number = keys.customer_ref(text)
        whole = number
        if split_division is not None:
            try:
                whole = keys.customer_no(text, "customer")
            except ValidationFailed:
                whole = None
        if division is not None and str(division).strip():
            wanted = keys.division(division)
            tries = [number] if split_division in (None, wanted) else []
            if split_division is not None and whole is not None:
                tries.append(whole)
            for candidate in tries:
                row = self.customer(wanted, candidate)
                if row is not None:
                    return row
            return None
        if split_division is not None:
            row = self.customer(split_division, number)
            if row is not None or whole is None:
                return row
        rows = self.select(
            "AR_Customer", "SELECT * FROM AR_Customer WHERE CustomerNo = ?", [whole]
        )
        if len(rows) > 1:
            found = [keys.display(r["ARDivisionNo"], r["CustomerNo"]) for r in rows]
            raise DuplicateAmbiguous(
                f"Customer {whole} exists in several divisions ({', '.join(found)}); "
                "say which division.",
                candidates=found,
                field="division",
            )
        return rows[0] if rows else None

    def credit_position(self, division: str, customer_no: str) -> CreditPosition | None:
        row = self._one(
            "AR_Customer",
            f"SELECT {CREDIT_COLUMNS} FROM AR_Customer "
            "WHERE ARDivisionNo = ? AND CustomerNo = ?",
            [keys.division(division), keys.customer_no(customer_no)],
        )
        return CreditPosition.from_row(row) if row else None

    def open_invoices(
        self, division: str, customer_no: str, *, due_before: date | None = None
    ) -> list[dict]:
        """Open A/R items, oldest due first; ``due_before`` keeps the overdue ones."""
        sql = "SELECT * FROM AR_OpenInvoice WHERE ARDivisionNo = ? AND CustomerNo = ?"
        if due_before is not None:
            sql += f" AND InvoiceDueDate < {odbc_date(due_before)}"
        sql += " ORDER BY InvoiceDueDate, InvoiceNo"
        return self.select(
            "AR_OpenInvoice",
            sql,
            [keys.division(division), keys.customer_no(customer_no)],
        )

    # -- items and inventory -------------------------------------------------
    def item(self, code: str) -> dict | None:
        return self._one(
            "CI_Item",
            "SELECT * FROM CI_Item WHERE ItemCode = ?",
            [keys.item_code(code)],
        )

    def items(self, codes: Iterable[str]) -> dict[str, dict]:
        """Items by code, in batches; codes Sage does not have are left out."""
        wanted = sorted({keys.item_code(code) for code in codes})
        found: dict[str, dict] = {}
        for chunk in chunks(wanted):
            sql = f"SELECT * FROM CI_Item WHERE ItemCode IN ({marks(len(chunk))})"
            for row in self.select("CI_Item", sql, chunk):
                found[row["ItemCode"]] = row
        return found

    def quantities(
        self, item_codes: Iterable[str] | None = None, warehouse: str | None = None
    ) -> list[dict]:
        """Per item and warehouse: the quantities and ``available`` by the formula.

        Without item codes this reads every row of IM_ItemWarehouse (a warehouse
        alone is not a leading key column): fine for a nightly sync, not a page.
        """
        columns = ", ".join(["ItemCode", "WarehouseCode", *QUANTITIES.values()])
        where, params = [], []
        if warehouse is not None:
            where.append("WarehouseCode = ?")
            params.append(keys.warehouse_code(warehouse))
        if item_codes is None:
            clause = f" WHERE {where[0]}" if where else ""
            batches = [(f"SELECT {columns} FROM IM_ItemWarehouse{clause}", params)]
        else:
            codes = sorted({keys.item_code(code) for code in item_codes})
            batches = [
                (
                    f"SELECT {columns} FROM IM_ItemWarehouse WHERE ItemCode IN "
                    f"({marks(len(chunk))})" + "".join(f" AND {w}" for w in where),
                    [*chunk, *params],
                )
                for chunk in chunks(codes)
            ]
        rows = []
        for sql, batch_params in batches:
            rows.extend(self.select("IM_ItemWarehouse", sql, batch_params))
        rows.sort(key=lambda r: (r["ItemCode"], r["WarehouseCode"]))
        return [self._with_available(row) for row in rows]

    def _with_available(self, row: dict) -> dict:
        out = {
            "ItemCode": row["ItemCode"],
            "WarehouseCode": row["WarehouseCode"],
        }
        for name, column in QUANTITIES.items():
            out[name] = row.get(column) or ZERO
        out["available"] = sum(
            (sign * out[name] for sign, name in self.settings.available_formula), ZERO
        )
        return out

    # -- sales orders --------------------------------------------------------
    def sales_order(self, number: str) -> dict | None:
        """An open order's header with its ``lines`` in display order."""
        number = keys.sales_order_no(number)
        header = self._one(
            "SO_SalesOrderHeader",
            "SELECT * FROM SO_SalesOrderHeader WHERE SalesOrderNo = ?",
            [number],
        )
        if header is None:
            return None
        header["lines"] = self.select(
            "SO_SalesOrderDetail",
            "SELECT * FROM SO_SalesOrderDetail WHERE SalesOrderNo = ? "
            "ORDER BY LineSeqNo, LineKey",
            [number],
        )
        return header

    def sales_order_headers(self, numbers: Iterable[str]) -> dict[str, dict]:
        """Open orders' headers by number, in batches; closed ones are left out."""
        wanted = sorted({keys.sales_order_no(number) for number in numbers})
        found: dict[str, dict] = {}
        for chunk in chunks(wanted):
            sql = (
                "SELECT * FROM SO_SalesOrderHeader "
                f"WHERE SalesOrderNo IN ({marks(len(chunk))})"
            )
            for row in self.select("SO_SalesOrderHeader", sql, chunk):
                found[row["SalesOrderNo"]] = row
        return found

    def orders_by_customer_po(
        self,
        po: str,
        division: str | None = None,
        customer_no: str | None = None,
        *,
        include_history: bool = False,
    ) -> list[dict]:
        """Order headers carrying this CustomerPONo (how our reference is found).

        With a customer, the KDUPLICATEPO index (division + customer + PO) is
        used; without, KCUSTOMERPO. ``include_history`` also looks in
        SO_SalesOrderHistoryHeader, where invoiced-and-closed orders go; those
        rows carry ``"_table"``.
        """
        po = keys.customer_po(po)
        if (division is None) != (customer_no is None):
            raise ValidationFailed(
                "Give both the division and the customer number, or neither.",
                field="division" if division is None else "customer_no",
            )
        if division is not None:
            where = "ARDivisionNo = ? AND CustomerNo = ? AND CustomerPONo = ?"
            params = [keys.division(division), keys.customer_no(customer_no), po]
        else:
            where, params = "CustomerPONo = ?", [po]
        tables = ["SO_SalesOrderHeader"]
        if include_history:
            tables.append("SO_SalesOrderHistoryHeader")
        found = []
        for table in tables:
            rows = self.select(
                table,
                f"SELECT * FROM {table} WHERE {where} ORDER BY SalesOrderNo",
                params,
            )
            if include_history:
                for row in rows:
                    row["_table"] = table
            found.extend(rows)
        return found

    # -- what changed (SAGE100-FACTS.md section 6) ---------------------------
    def changed_since(self, table: str, since: datetime) -> list[dict]:
        """Rows of ``table`` stamped at or after ``since`` (Sage-local, naive),
        oldest first, ties by key: the change feeds' query (``changes.py``).

        Stamps miss bulk changes; a change feed's reconciliation catches those.
        """
        if not isinstance(since, datetime):
            raise ValidationFailed(
                "since must be a date and time on the Sage server's clock.",
                field="since",
            )
        rows = changes.rows_changed_since(self, table, since)
        rows.sort(key=lambda row: (changes.stamp(row), changes.key_text(table, row)))
        return rows

    def customers_changed_since(self, since: datetime) -> list[dict]:
        return self.changed_since("AR_Customer", since)

    def items_changed_since(self, since: datetime) -> list[dict]:
        return self.changed_since("CI_Item", since)

    def vendors_changed_since(self, since: datetime) -> list[dict]:
        return self.changed_since("AP_Vendor", since)

    def ap_invoices_changed_since(self, since: datetime) -> list[dict]:
        """Open A/P invoices entered or paid since ``since`` (a payment stamps
        the invoice). A fully paid invoice stays on file with a zero balance
        until Sage purges it."""
        return self.changed_since("AP_OpenInvoice", since)

    def purchase_orders_changed_since(
        self, since: datetime, *, lines: bool = True
    ) -> list[dict]:
        """PO headers stamped since ``since``; each with its ``lines`` unless
        ``lines=False``. Detail rows carry no stamps: the header's stands for
        the order."""
        headers = self.changed_since("PO_PurchaseOrderHeader", since)
        if lines and headers:
            found = self._po_lines([h["PurchaseOrderNo"] for h in headers])
            for header in headers:
                header["lines"] = found.get(header["PurchaseOrderNo"], [])
        return headers

    # -- vendors and purchasing ----------------------------------------------
    def vendor(self, division: str, vendor_no: str) -> dict | None:
        return self._one(
            "AP_Vendor",
            "SELECT * FROM AP_Vendor WHERE APDivisionNo = ? AND VendorNo = ?",
            [keys.division(division, "APDivisionNo"), keys.vendor_no(vendor_no)],
        )

    def purchase_order(self, number: str) -> dict | None:
        """A purchase order's header with its ``lines`` in display order."""
        number = keys.purchase_order_no(number)
        header = self._one(
            "PO_PurchaseOrderHeader",
            "SELECT * FROM PO_PurchaseOrderHeader WHERE PurchaseOrderNo = ?",
            [number],
        )
        if header is None:
            return None
        header["lines"] = self._po_lines([number]).get(number, [])
        return header

    def _po_lines(self, numbers: Sequence[str]) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for chunk in chunks(sorted(set(numbers))):
            sql = (
                "SELECT * FROM PO_PurchaseOrderDetail "
                f"WHERE PurchaseOrderNo IN ({marks(len(chunk))}) "
                "ORDER BY PurchaseOrderNo, LineSeqNo, LineKey"
            )
            for row in self.select("PO_PurchaseOrderDetail", sql, chunk):
                found.setdefault(row["PurchaseOrderNo"], []).append(row)
        return found

    def ap_open_invoice(
        self, division: str, vendor_no: str, invoice_no: str
    ) -> dict | None:
        """One open A/P invoice by its full key; the invoice number is the
        vendor's own (ten characters, upper-case), not a Sage counter."""
        return self._one(
            "AP_OpenInvoice",
            "SELECT * FROM AP_OpenInvoice "
            "WHERE APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
            [
                keys.division(division, "APDivisionNo"),
                keys.vendor_no(vendor_no),
                keys.ap_invoice_no(invoice_no),
            ],
        )

    def gl_accounts(self, *, active_only: bool = False) -> list[dict]:
        """The chart of accounts: ``AccountKey`` (internal), ``Account`` (the
        printable number), ``AccountDesc``, ``AccountType``, ``Status``."""
        sql = (
            "SELECT AccountKey, Account, AccountDesc, AccountType, Status "
            "FROM GL_Account ORDER BY AccountKey"
        )
        rows = self.select("GL_Account", sql)
        if active_only:
            rows = [row for row in rows if (row.get("Status") or "A") == "A"]
        return rows

    # -- the schema ----------------------------------------------------------
    def udf_columns(self, table: str) -> list[dict]:
        """The table's UDF columns as Sage has them now (for the mapping editor)."""
        columns = self._call(
            table, "COLUMNS", lambda: self.odbc.columns(table, refresh=True)
        )
        return [
            {"name": c.name, "type": c.type_name, "size": c.size}
            for c in columns.values()
            if c.name.upper().startswith("UDF_")
        ]

    def _require_udf(self, table: str, name: str) -> None:
        """Refuse, naming it, a UDF the table does not have (after a fresh look)."""
        if name in self.odbc.columns(table):
            return
        if name in self.odbc.columns(table, refresh=True):  # added since we looked
            return
        raise ValidationFailed(
            f"Sage 100's {table} has no column {name}: add the UDF in Custom "
            "Office or correct the setting.",
            field=name,
        )

    def ping(self) -> dict:
        """Reach the company through the driver; say which one answered."""
        row = self._one(
            "SY_Company",
            "SELECT CompanyCode, CompanyName FROM SY_Company WHERE CompanyCode = ?",
            [self.settings.company],
        )
        if row is None:
            raise ValidationFailed(
                f"Sage 100 answered but has no company {self.settings.company}.",
                field="settings.company",
            )
        return {"company": row["CompanyCode"], "name": row["CompanyName"]}


def odbc_date(value: date) -> str:
    """An ODBC date escape, ``{d '2026-01-31'}``: the literal ProvideX accepts.

    Built from a ``date`` only, so no caller text reaches the SQL.
    """
    if not isinstance(value, date):
        raise TypeError("odbc_date needs a datetime.date")
    return "{d '" + value.strftime("%Y-%m-%d") + "'}"
