"""The simulated Business Object Interface: the agent's ``simulator`` backend.

It offers the same calls as the Windows BOI backend and writes the company
file the way Sage's business objects do (SAGE100-FACTS.md section 4): one
transaction per ``nWrite``, BOI's checks and messages, stamps on the Sage
server's local clock, counters, and the side effects on customer balances and
item quantities. Fault switches (``faults.py``) are honoured on every call.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from integrations.agent.backends.base import BOIError, Reference, WriteResult
from integrations.sandbox.sage100 import orders, payables, receipts, rules, store
from integrations.sandbox.sage100.database import CompanyDatabase, server_now
from integrations.sandbox.sage100.faults import Faults
from integrations.sandbox.sage100.schema import TABLES
from integrations.sandbox.sage100.store import Txn

log = logging.getLogger(__name__)

# Business object → (header table, detail table) that ``find`` searches.
OBJECTS = {
    "AR_Customer": ("AR_Customer", None),
    "CI_ItemCode": ("CI_Item", None),
    "CI_Item": ("CI_Item", None),
    "SO_SalesOrder": ("SO_SalesOrderHeader", "SO_SalesOrderDetail"),
    "PO_PurchaseOrder": ("PO_PurchaseOrderHeader", "PO_PurchaseOrderDetail"),
    "AP_Vendor": ("AP_Vendor", None),
    "AP_Invoice": ("AP_OpenInvoice", None),
}
# Checks live in the simulator's own bookkeeping (payables.py), not a Sage table.
PAYMENT_OBJECT = "AP_ManualCheck"
CUSTOMER = "AR_Customer"
# Item columns the object keeps itself or that name the record: update_item
# refuses them (read-only columns are refused by the schema already).
ITEM_FIXED = ("ItemCode", "ItemType")
ITEM_DEFAULTS = {
    "ItemType": "1",
    "ProductType": "F",
    "Valuation": "2",
    "StandardUnitOfMeasure": "EACH",
    "InactiveItem": "N",
    "UseInSO": "Y",
    "UseInPO": "Y",
    "AllowBackOrders": "Y",
    "DefaultWarehouseCode": "000",
    "TaxClass": "TX",
}


class SimulatorBackend:
    """Sage 100's business objects against the simulator's company file.

    ``lock_timeout`` is how long a write waits for a file another task holds
    before failing "in use" (BOI waits too). Other agent options are ignored.
    """

    def __init__(
        self,
        root: str | Path,
        company: str = "ABC",
        user: str = "",
        password: str = "",
        *,
        lock_timeout: float = 5.0,
        **options: Any,
    ) -> None:
        self.company = company.upper()
        self.user = user
        self.password = password  # the simulator has no logins to check
        self.lock_timeout = float(lock_timeout)
        self.db = CompanyDatabase(root, self.company)
        self.faults = Faults(root, self.company)
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        if options:
            log.info("The simulator ignores options: %s", ", ".join(sorted(options)))

    # -- plumbing ------------------------------------------------------------
    @contextmanager
    def _object(self) -> Iterator[Txn]:
        """One business-object call: faults first, then one transaction."""
        state = self.faults.refresh()
        if state["slow"]:
            time.sleep(state["slow"])
        if state["down"] or not self.db.exists():
            offline = self.db.path.with_name(self.db.path.name + ".offline")
            if not state["down"] and not offline.exists():
                raise BOIError(
                    f"Company {self.company} does not exist at {self.db.root}; "
                    "create it with 'manage.py sage100_sim create'.",
                    code="unavailable",
                )
            raise _unavailable(self.company)
        try:
            with self.db.connect(timeout=self.lock_timeout) as connection:
                yield Txn(
                    self.db, connection, user=self.user, now=server_now(state["skew"])
                )
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise BOIError(
                    "The file is in use by another user or task.", code="locked"
                ) from exc
            if "unable to open" in text or "disk I/O" in text:
                raise _unavailable(self.company) from exc  # went down mid-call
            raise  # a simulator bug: let it show

    def start_watchdog(self, interval: float = 0.5) -> threading.Thread:
        """End due outages even when nobody writes (readers recover too)."""
        if self._watchdog is None or not self._watchdog.is_alive():
            self._stop.clear()
            self._watchdog = threading.Thread(
                target=self._watch, args=(interval,), daemon=True
            )
            self._watchdog.start()
        return self._watchdog

    def stop_watchdog(self) -> None:
        self._stop.set()

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.faults.refresh()
            except OSError:
                log.exception("Sage 100 simulator watchdog could not refresh faults")

    # -- reads ---------------------------------------------------------------
    def ping(self) -> dict[str, Any]:
        with self._object() as txn:
            row = txn.get("SY_Company", {"CompanyCode": self.company})
        return {
            "company": self.company,
            "company_name": row["CompanyName"] if row else "",
            "backend": "simulator",
        }

    def find(self, object_name: str, reference: Reference) -> WriteResult | None:
        """The record whose ``reference.column`` holds ``reference.value``.

        An order that was closed is found in ``SO_SalesOrderHistoryHeader``.
        """
        name = object_name.removesuffix("_bus")
        if name == PAYMENT_OBJECT:
            with self._object() as txn:
                return payables.find_payment(txn, reference)
        if name not in OBJECTS:
            raise BOIError(
                f"There is no business object {object_name}.", column=object_name
            )
        header, detail = OBJECTS[name]
        with self._object() as txn:
            column = rules.resolve(txn.columns(header), reference.column)
            if reference.value in (None, ""):
                raise rules.invalid(column.name)
            history = ["SO_SalesOrderHistoryHeader"] if name == "SO_SalesOrder" else []
            for table in [header, *history]:
                found = [
                    row
                    for row in _find_rows(txn, table, column.name, reference.value)
                    if reference.matches(row)
                ]
                if found:
                    return _found(txn, name, table, detail, found)
        return None

    # -- customers -----------------------------------------------------------
    def create_customer(self, values: dict[str, Any]) -> WriteResult:
        with self._object() as txn:
            data = txn.apply(CUSTOMER, values)
            division = data.get("ARDivisionNo")
            if not division:
                raise rules.missing("ARDivisionNo")
            store.division(txn, division)
            store.terms(txn, data.get("TermsCode") or "")
            customer_no = data.get("CustomerNo") or _next_customer_no(txn, division)
            key = {"ARDivisionNo": division, "CustomerNo": customer_no}
            if txn.get(CUSTOMER, key) is not None:
                raise BOIError(
                    f"Customer {division}-{customer_no} already exists.",
                    column="CustomerNo",
                )
            name = data.get("CustomerName")
            if not name:
                raise rules.missing("CustomerName")
            defaults = {
                "CustomerStatus": "A",
                "CreditHold": "N",
                "CountryCode": "USA",
                "SortField": name.upper()[:10],
                "DateEstablished": txn.now.date().isoformat(),
            }
            if data.get("SalespersonNo"):
                defaults["SalespersonDivisionNo"] = division
            txn.insert(CUSTOMER, {**defaults, **data, **key})
            return _customer_result(txn, key)

    def update_customer(
        self, division: str, customer_no: str, values: dict[str, Any]
    ) -> WriteResult:
        with self._object() as txn:
            key = txn.normalise_key(
                CUSTOMER, {"ARDivisionNo": division, "CustomerNo": customer_no}
            )
            if txn.get(CUSTOMER, key) is None:
                raise BOIError(
                    f"Customer {key['ARDivisionNo']}-{key['CustomerNo']} is not on "
                    "file.",
                    code="not_found",
                    column="CustomerNo",
                )
            data = txn.apply(CUSTOMER, values)
            for name, value in key.items():
                if name in data and data[name] != value:
                    raise rules.invalid(name)  # a key cannot be changed
            store.terms(txn, data.get("TermsCode") or "")
            txn.check_unlocked(CUSTOMER, key)
            txn.update(CUSTOMER, key, data)
            return _customer_result(txn, key, created=False)

    # -- items ---------------------------------------------------------------
    def create_item(self, values: dict[str, Any]) -> WriteResult:
        """A new item; an existing code is refused (this call never edits)."""
        with self._object() as txn:
            data = txn.apply("CI_Item", values)
            code = data.get("ItemCode")
            if not code:
                raise rules.missing("ItemCode")
            if txn.get("CI_Item", {"ItemCode": code}) is not None:
                raise BOIError(f"Item {code} already exists.", column="ItemCode")
            row = {**ITEM_DEFAULTS, **data}
            unit = row["StandardUnitOfMeasure"]
            row.setdefault("SalesUnitOfMeasure", unit)
            row.setdefault("PurchaseUnitOfMeasure", unit)
            store.warehouse(
                txn, row["DefaultWarehouseCode"], column="DefaultWarehouseCode"
            )
            if row.get("PrimaryVendorNo"):
                store.vendor(
                    txn, row.get("PrimaryAPDivisionNo") or "00", row["PrimaryVendorNo"]
                )
            txn.insert("CI_Item", row)
            if row["ItemType"] == "1":
                txn.insert(
                    "IM_ItemWarehouse",
                    {"ItemCode": code, "WarehouseCode": row["DefaultWarehouseCode"]},
                )
            key = {"ItemCode": code}
            return WriteResult(
                "CI_ItemCode", key, txn.record("CI_Item", txn.get("CI_Item", key))
            )

    def update_item(self, item_code: str, values: dict[str, Any]) -> WriteResult:
        """Edit an item's description, prices, categories, status... never its
        code or type, nor what Sage keeps itself (costs, quantities, dates)."""
        with self._object() as txn:
            key = txn.normalise_key("CI_Item", {"ItemCode": item_code})
            row = txn.get("CI_Item", key)
            if row is None:
                raise BOIError(
                    f"Item {key['ItemCode']} is not on file.",
                    code="not_found",
                    column="ItemCode",
                )
            data = txn.apply("CI_Item", values)
            for name in ITEM_FIXED:
                if name in data and data[name] != row[name]:
                    raise rules.invalid(name)
            if "DefaultWarehouseCode" in data:
                store.warehouse(
                    txn, data["DefaultWarehouseCode"], column="DefaultWarehouseCode"
                )
            if data.get("PrimaryVendorNo"):
                division = (
                    data.get("PrimaryAPDivisionNo")
                    or row["PrimaryAPDivisionNo"]
                    or "00"
                )
                store.vendor(txn, division, data["PrimaryVendorNo"])
            txn.check_unlocked("CI_Item", key)
            txn.update("CI_Item", key, data)
            return WriteResult(
                "CI_ItemCode",
                key,
                txn.record("CI_Item", txn.get("CI_Item", key)),
                created=False,
            )

    # -- vendors and payables --------------------------------------------------
    def create_vendor(self, values: dict[str, Any]) -> WriteResult:
        with self._object() as txn:
            return payables.create_vendor(txn, values)

    def update_vendor(
        self, division: str, vendor_no: str, values: dict[str, Any]
    ) -> WriteResult:
        with self._object() as txn:
            return payables.update_vendor(txn, division, vendor_no, values)

    def create_ap_invoice(self, header: dict[str, Any]) -> WriteResult:
        with self._object() as txn:
            return payables.create_invoice(txn, header)

    def record_ap_payment(self, values: dict[str, Any]) -> WriteResult:
        """A check paying one open AP invoice (see ``payables.record_payment``)."""
        with self._object() as txn:
            return payables.record_payment(txn, values)

    # -- orders --------------------------------------------------------------
    def create_sales_order(
        self, header: dict[str, Any], lines: list[dict[str, Any]]
    ) -> WriteResult:
        with self._object() as txn:
            return orders.create_sales_order(txn, header, list(lines))

    def update_order_status(self, sales_order_no: str, status: str) -> WriteResult:
        with self._object() as txn:
            return orders.update_order_status(txn, sales_order_no, status)

    def create_purchase_order(
        self, header: dict[str, Any], lines: list[dict[str, Any]]
    ) -> WriteResult:
        with self._object() as txn:
            return orders.create_purchase_order(txn, header, list(lines))

    # -- cash receipts -------------------------------------------------------
    def record_cash_receipt(self, values: dict[str, Any]) -> WriteResult:
        """A check applied to one open invoice, in the day's deposit.

        Values: ``ARDivisionNo``, ``CustomerNo``, ``CheckNo``, ``InvoiceNo``,
        ``PostingAmt`` (or ``AmountPosted``), optional ``InvoiceType`` (IN),
        ``TransactionDate`` (today), ``DepositNo``, ``Comment``.
        """
        with self._object() as txn:
            return receipts.record(txn, values)


def _unavailable(company: str) -> BOIError:
    return BOIError(
        f"Cannot open company {company}: the Sage 100 server is not available.",
        code="unavailable",
    )


def _next_customer_no(txn: Txn, division: str) -> str:
    if txn.option("AR_Options", "AutoNumberCustomers") != "Y":
        raise rules.missing("CustomerNo")

    def taken(number: str) -> bool:
        key = {"ARDivisionNo": division, "CustomerNo": number}
        return txn.get(CUSTOMER, key) is not None

    return store.next_number(txn, "AR_Options", "NextCustomerNo", taken, width=7)


def _customer_result(txn: Txn, key: dict, *, created: bool = True) -> WriteResult:
    row = txn.record(CUSTOMER, txn.get(CUSTOMER, key))
    return WriteResult("AR_Customer", key, row, created=created)


def _find_rows(txn: Txn, table: str, column: str, value: Any) -> list[dict]:
    columns = txn.columns(table)
    if column.lower() not in columns:
        return []  # e.g. a header UDF that history does not carry
    try:
        stored = rules.normalise(columns[column.lower()], value)
    except BOIError:
        return []  # a value the column cannot hold is on no record
    return txn.select(table, {columns[column.lower()].name: stored})


def _found(txn: Txn, name: str, table: str, detail, rows: list[dict]) -> WriteResult:
    row = rows[0]
    key = {k: row[k] for k in TABLES[table].key}
    lines = []
    if detail and table != "SO_SalesOrderHistoryHeader":
        lines = [txn.record(detail, line) for line in txn.select(detail, key)]
    warnings = []
    if len(rows) > 1:
        warnings.append(f"{len(rows)} records match; this is the first by key.")
    if table == "SO_SalesOrderHistoryHeader":
        warnings.append(f"Sales order {row['SalesOrderNo']} is closed (in history).")
    return WriteResult(
        name, key, txn.record(table, row), lines, warnings=warnings, created=False
    )
