"""Sage 100's own Business Object Interface, through COM (Windows only).

Each operation follows the documented sequence (SAGE100-FACTS.md section 4):
``ProvideX.Script.Init(home)`` → ``SY_Session`` (user, company, module date,
module, task) → ``NewObject("<X>_bus", oSS)`` → ``nSetKeyValue``/``nSetKey``
→ ``nSetValue`` (``$`` for strings) → lines → ``nWrite`` → ``DropObject`` and
``nCleanup``. pywin32 is imported only when this backend is built; tests inject
a recorded fake COM layer instead (``com=``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from integrations.agent.backends import boi_com as com_
from integrations.agent.backends.base import BOIError, Reference, WriteResult
from integrations.agent.backends.boi_com import EXISTING, NEW

log = logging.getLogger("integrations.agent.boi")


@dataclass(frozen=True)
class Spec:
    """One business object: where it lives and how it is keyed."""

    object: str  # the BOI name without _bus / _svc, e.g. "SO_SalesOrder"
    module: str  # "S/O"
    task: str  # the UI task whose security the writes run under
    keys: tuple[str, ...]
    first: tuple[str, ...] = ()  # set before other columns (they fill defaults)
    read_back: tuple[str, ...] = ()  # defaults worth returning
    indexes: dict[str, str] = field(default_factory=dict)  # column -> index
    next_number: str = ""  # nGetNext...No
    line_read_back: tuple[str, ...] = (
        "LineKey",
        "ItemCodeDesc",
        "WarehouseCode",
        "ExtensionAmt",
    )


SPECS = {
    s.object: s
    for s in (
        Spec("AR_Customer", "A/R", "AR_Customer_ui", ("ARDivisionNo", "CustomerNo"),
             read_back=("CustomerName", "TermsCode"),
             indexes={"CustomerNo": "KCUSTOMERNO"}, next_number="nGetNextCustomerNo"),
        Spec("CI_ItemCode", "C/I", "CI_ItemCode_ui", ("ItemCode",),
             read_back=("ItemCodeDesc", "ItemType")),
        Spec("SO_SalesOrder", "S/O", "SO_SalesOrder_ui", ("SalesOrderNo",),
             first=("ARDivisionNo", "CustomerNo"),
             read_back=("OrderDate", "OrderType", "OrderStatus", "ShipExpireDate",
                        "TermsCode", "WarehouseCode"),
             indexes={"CustomerPONo": "KCUSTOMERPO"},
             next_number="nGetNextSalesOrderNo"),
        Spec("PO_PurchaseOrder", "P/O", "PO_PurchaseOrder_ui", ("PurchaseOrderNo",),
             first=("APDivisionNo", "VendorNo"),
             read_back=("PurchaseOrderDate", "OrderStatus"),
             next_number="nGetNextPurchaseOrderNo"),
        Spec("AR_CashReceipts", "A/R", "AR_CashReceipts_ui",
             ("DepositNo", "ARDivisionNo", "CustomerNo", "CheckNo"),
             read_back=("TransactionDate", "PostingAmt"), line_read_back=()),
        # The facts name none of the A/P business objects below. The names,
        # keys and tasks follow Sage's own file layouts (4.40: AP_Vendor_bus
        # keyed APDivisionNo+VendorNo; AP_Invoice_bus keyed
        # APDivisionNo+VendorNo+InvoiceNo; AP_ManualCheck_bus keyed
        # BankCode+CheckNo) and the AR_Customer pattern for the task and
        # counter names [INFERRED].
        Spec("AP_Vendor", "A/P", "AP_Vendor_ui", ("APDivisionNo", "VendorNo"),
             read_back=("VendorName", "TermsCode"), next_number="nGetNextVendorNo"),
        Spec("AP_Invoice", "A/P", "AP_Invoice_ui",
             ("APDivisionNo", "VendorNo", "InvoiceNo"),
             read_back=("InvoiceDate", "InvoiceDueDate", "TermsCode"),
             line_read_back=("LineKey",)),
        Spec("AP_ManualCheck", "A/P", "AP_ManualCheck_ui", ("BankCode", "CheckNo"),
             first=("APDivisionNo", "VendorNo"), read_back=("CheckDate", "CheckAmt"),
             line_read_back=()),
    )
}  # fmt: skip
LINE_FIRST = ("ItemCode",)
DEPOSIT_COLUMNS = ("DepositDate", "DepositAmt", "BankCode", "DepositDesc")


class BOIBackend:
    """Writes through Sage 100's business objects, one session per operation."""

    thread_safe = False  # the agent serialises calls: one BOI session at a time

    def __init__(
        self,
        home: str,
        company: str,
        user: str = "",
        password: str = "",
        *,
        com: com_.ComPort | None = None,
        today: Callable[[], date] = date.today,
        bank_code: str = "",
    ) -> None:
        self.home = home
        self.company = company.strip().upper()
        self.user = user
        self._password = password
        self.com = com if com is not None else com_.Win32Com()
        self.today = today
        self.bank_code = bank_code  # A/P checks' bank when the call names none

    def __repr__(self) -> str:
        return f"BOIBackend(home={self.home!r}, company={self.company!r})"

    # -- the Backend protocol ---------------------------------------------------
    def ping(self) -> dict[str, Any]:
        with self._session():
            return {"home": self.home, "company": self.company, "user": self.user}

    def find(self, object_name: str, reference: Reference) -> WriteResult | None:
        spec = _spec(object_name)
        with (
            self._session(spec) as (script, oss),
            self._object(script, oss, f"{spec.object}_svc") as svc,
        ):
            index = spec.indexes.get(reference.column)
            if index:
                com_.check(svc, svc.nSetBrowseIndex(index, ""), doing="browse")
                com_.check(svc, svc.nSetBrowseFilter(reference.value), doing="filter")
            else:
                log.warning(
                    "Finding %s by %s reads every record; an indexed column "
                    "(e.g. CustomerPONo) is faster.",
                    spec.object,
                    reference.column,
                )
            scope = [column for column, _ in reference.within]
            columns = dict.fromkeys((*spec.keys, reference.column, *scope), "")
            svc.nMoveFirst()
            while not int(svc.nEOF or 0):
                record = com_.read_values(self.com, svc, columns)
                value = str(record.get(reference.column, "")).strip()
                if value == reference.value and reference.matches(record):
                    key = {k: str(record.get(k, "")) for k in spec.keys}
                    return WriteResult(spec.object, key, record, created=False)
                svc.nMoveNext()
        return None

    def create_customer(self, values: dict[str, Any]) -> WriteResult:
        values = dict(values)
        division = _required(values, "ARDivisionNo")
        number = str(values.pop("CustomerNo", "") or "").strip().upper()
        return self._create(
            SPECS["AR_Customer"], {"ARDivisionNo": division}, values, number=number
        )

    def update_customer(self, division: str, customer_no: str, values) -> WriteResult:
        spec = SPECS["AR_Customer"]
        key = {"ARDivisionNo": division, "CustomerNo": customer_no.upper()}
        return self._update(
            spec, key, values, what=f"Customer {division}-{customer_no}"
        )

    def create_item(self, values: dict[str, Any]) -> WriteResult:
        values = dict(values)
        key = {"ItemCode": _required(values, "ItemCode").upper()}
        return self._create(SPECS["CI_ItemCode"], key, values)

    def create_sales_order(self, header, lines) -> WriteResult:
        header = dict(header)
        number = str(header.pop("SalesOrderNo", "") or "").strip()
        return self._create(SPECS["SO_SalesOrder"], {}, header, lines, number=number)

    def update_order_status(self, sales_order_no: str, status: str) -> WriteResult:
        return self._update(
            SPECS["SO_SalesOrder"],
            {"SalesOrderNo": sales_order_no},
            {"OrderStatus": status},
            what=f"Sales order {sales_order_no}",
        )

    def create_purchase_order(self, header, lines) -> WriteResult:
        header = dict(header)
        number = str(header.pop("PurchaseOrderNo", "") or "").strip()
        spec = SPECS["PO_PurchaseOrder"]
        return self._create(spec, {}, header, lines, number=number)

    def record_cash_receipt(self, values: dict[str, Any]) -> WriteResult:
        """A new deposit (``AR_CashReceiptsDeposit_bus``), then the receipt in it.

        Values: the receipt's columns (``ARDivisionNo``, ``CustomerNo``,
        ``CheckNo``, ``TransactionDate``, ``PostingAmt``...); ``DepositNo`` to
        add it to an existing deposit instead, or ``DepositDate``/``DepositAmt``
        for the new one; and either ``InvoiceNo`` (+ ``AmountPosted``) or
        ``lines`` of them: the invoices it pays.
        """
        values = dict(values)
        deposit = {c: values.pop(c) for c in DEPOSIT_COLUMNS if c in values}
        deposit_no = str(values.pop("DepositNo", "") or "").strip()
        applications = values.pop("lines", None) or []
        if "InvoiceNo" in values:
            applications = [
                {
                    "InvoiceNo": values.pop("InvoiceNo"),
                    "AmountPosted": values.pop(
                        "AmountPosted", values.get("PostingAmt", 0)
                    ),
                }
            ]
        key = {
            c: _required(values, c) for c in ("ARDivisionNo", "CustomerNo", "CheckNo")
        }
        deposit.setdefault("DepositDate", values.get("TransactionDate") or self._day())
        deposit.setdefault("DepositAmt", values.get("PostingAmt", 0))
        spec, warnings = SPECS["AR_CashReceipts"], []
        with self._session(spec) as (script, oss):
            new_deposit = not deposit_no  # else the receipt joins that deposit
            if new_deposit:
                deposit_no = self._open_deposit(script, oss, deposit, warnings)
            key = {"DepositNo": deposit_no, **key}
            try:
                record, lines = self._fill_and_write(
                    script,
                    oss,
                    spec,
                    key,
                    values,
                    applications,
                    warnings,
                    what=f"Cash receipt {key['CheckNo']}",
                    expect=NEW,
                )
            except BOIError:
                if new_deposit:
                    self._remove_deposit(script, oss, deposit_no)
                raise
        return WriteResult(spec.object, key, record, lines, warnings)

    def update_item(self, item_code: str, values: dict[str, Any]) -> WriteResult:
        code = item_code.strip().upper()
        return self._update(
            SPECS["CI_ItemCode"], {"ItemCode": code}, values, what=f"Item {code}"
        )

    def create_vendor(self, values: dict[str, Any]) -> WriteResult:
        values = dict(values)
        division = _required(values, "APDivisionNo")
        number = str(values.pop("VendorNo", "") or "").strip().upper()
        return self._create(
            SPECS["AP_Vendor"], {"APDivisionNo": division}, values, number=number
        )

    def update_vendor(self, division: str, vendor_no: str, values) -> WriteResult:
        key = {"APDivisionNo": division, "VendorNo": vendor_no.upper()}
        return self._update(
            SPECS["AP_Vendor"], key, values, what=f"Vendor {division}-{vendor_no}"
        )

    def create_ap_invoice(self, header: dict[str, Any]) -> WriteResult:
        """A bill in A/P invoice entry (``AP_Invoice_bus``).

        The hub's bill carries one expense account, ``ExpenseAcctKey``; Sage
        wants it as a distribution line (``AccountKey`` + ``DistributionAmt``
        [INFERRED names]) for the invoice amount. ``find`` browses
        ``AP_Invoice_svc``, i.e. bills still in entry; once posted, a bill is
        in ``AP_OpenInvoice``, which the hub reads over ODBC.
        """
        header = dict(header)
        key = {
            "APDivisionNo": _required(header, "APDivisionNo"),
            "VendorNo": _required(header, "VendorNo").upper(),
            "InvoiceNo": _required(header, "InvoiceNo").upper(),
        }
        account = str(header.pop("ExpenseAcctKey", "") or "").strip()
        lines = None
        if account:
            amount = header.get("InvoiceAmt", 0)
            lines = [{"AccountKey": account, "DistributionAmt": amount}]
        return self._create(SPECS["AP_Invoice"], key, header, lines)

    def record_ap_payment(self, values: dict[str, Any]) -> WriteResult:
        """A manual check (``AP_ManualCheck_bus``) paying one open invoice.

        The agent's names map to the check's: ``PaymentDate`` → ``CheckDate``,
        ``PaymentAmount`` → ``CheckAmt`` and the line's ``AmountPaid``
        [INFERRED line name]; ``BankCode`` comes from the values or the
        backend's ``bank_code`` option.
        """
        values = dict(values)
        bank = str(values.pop("BankCode", "") or self.bank_code).strip().upper()
        if not bank:
            raise BOIError(
                "Required field BankCode is missing (set the boi backend's "
                "bank_code option).",
                column="BankCode",
            )
        key = {"BankCode": bank, "CheckNo": _required(values, "CheckNo")}
        invoice_no = _required(values, "InvoiceNo").upper()
        amount = values.pop("PaymentAmount", None)
        if amount in (None, ""):
            raise BOIError(
                "Required field PaymentAmount is missing.", column="PaymentAmount"
            )
        header = {
            "APDivisionNo": _required(values, "APDivisionNo"),
            "VendorNo": _required(values, "VendorNo").upper(),
            "CheckDate": values.pop("PaymentDate", None) or self._day(),
            "CheckAmt": amount,
            **values,
        }
        lines = [{"InvoiceNo": invoice_no, "AmountPaid": amount}]
        return self._create(SPECS["AP_ManualCheck"], key, header, lines)

    # -- shared sequences ---------------------------------------------------------
    def _create(
        self,
        spec: Spec,
        key: dict[str, str],
        values: dict[str, Any],
        lines: list[dict] | None = None,
        *,
        number: str = "",
    ) -> WriteResult:
        warnings: list[str] = []
        numbered = spec.keys[-1]
        with (
            self._session(spec) as (script, oss),
            self._object(script, oss, f"{spec.object}_bus") as bus,
        ):
            if numbered not in key:
                key[numbered] = number or com_.next_number(
                    self.com, bus, spec.next_number, numbered
                )
            what = f"{_label(spec)} {'-'.join(key.values())}"
            record, written_lines = self._fill(
                bus, spec, key, values, lines, warnings, what=what, expect=NEW
            )
            com_.write(self.com, bus, what=what, warnings=warnings)
        return WriteResult(spec.object, key, record, written_lines, warnings)

    def _update(self, spec: Spec, key: dict[str, str], values, *, what: str):
        warnings: list[str] = []
        with self._session(spec) as (script, oss):
            record, _ = self._fill_and_write(
                script,
                oss,
                spec,
                key,
                dict(values),
                None,
                warnings,
                what=what,
                expect=EXISTING,
            )
        return WriteResult(spec.object, key, record, [], warnings, created=False)

    def _fill_and_write(
        self, script, oss, spec, key, values, lines, warnings, *, what: str, expect: int
    ):
        with self._object(script, oss, f"{spec.object}_bus") as bus:
            record, written = self._fill(
                bus, spec, key, values, lines, warnings, what=what, expect=expect
            )
            com_.write(self.com, bus, what=what, warnings=warnings)
        return record, written

    def _fill(self, bus, spec: Spec, key, values, lines, warnings, *, what, expect):
        """Key, header values, lines; the values as the object holds them."""
        com_.set_key(bus, key, expect=expect, what=what)
        header = com_.ordered(values, spec.first)
        com_.set_values(bus, header, warnings=warnings)
        written = []
        if lines:
            oLines = bus.oLines
            for n, line in enumerate(lines):
                prefix = f"lines[{n}]."
                com_.check(
                    oLines, oLines.nAddLine(), doing="add a line", column=f"lines[{n}]"
                )
                items = com_.ordered(dict(line), LINE_FIRST)
                com_.set_values(oLines, items, warnings=warnings, prefix=prefix)
                wanted = {**dict.fromkeys(spec.line_read_back, ""), **dict(items)}
                written.append(com_.read_values(self.com, oLines, wanted))
                com_.check(
                    oLines,
                    oLines.nWrite(),
                    doing="keep the line",
                    column=f"lines[{n}]",
                    warnings=warnings,
                )
        wanted = {**key, **dict.fromkeys(spec.read_back, ""), **dict(header)}
        return com_.read_values(self.com, bus, wanted), written

    def _open_deposit(self, script, oss, deposit: dict, warnings: list) -> str:
        """A new deposit (Sage's batch of receipts) numbered from its counter."""
        with self._object(script, oss, "AR_CashReceiptsDeposit_bus") as dep:
            number = com_.next_number(self.com, dep, "nGetNextDepositNo", "DepositNo")
            what = f"Deposit {number}"
            com_.set_key(dep, {"DepositNo": number}, expect=NEW, what=what)
            com_.set_values(dep, deposit.items(), warnings=warnings)
            com_.write(self.com, dep, what=what, warnings=warnings)
        return number

    def _remove_deposit(self, script, oss, deposit_no: str) -> None:
        """Undo the deposit a refused receipt would leave empty (best effort)."""
        try:
            with self._object(script, oss, "AR_CashReceiptsDeposit_bus") as dep:
                com_.set_key(
                    dep,
                    {"DepositNo": deposit_no},
                    expect=EXISTING,
                    what=f"Deposit {deposit_no}",
                )
                com_.check(dep, dep.nDelete(), doing=f"delete deposit {deposit_no}")
        except (BOIError, *self.com.errors) as exc:
            log.warning("Empty deposit %s left in Sage 100: %s", deposit_no, exc)

    @contextmanager
    def _session(self, spec: Spec | None = None):
        with com_.session(
            self.com,
            home=self.home,
            company=self.company,
            user=self.user,
            password=self._password,
            module=spec.module if spec else "",
            task=spec.task if spec else "",
            today=self.today(),
        ) as pair:
            yield pair

    def _object(self, script, oss, name: str):
        return com_.business_object(self.com, script, oss, name)

    def _day(self) -> str:
        return self.today().isoformat()


def _spec(object_name: str) -> Spec:
    try:
        return SPECS[object_name]
    except KeyError:
        raise BOIError(
            f"The agent cannot look up {object_name!r}; it knows {', '.join(SPECS)}.",
            code="invalid",
        ) from None


def _required(values: dict[str, Any], column: str) -> str:
    value = str(values.pop(column, "") or "").strip()
    if not value:
        raise BOIError(f"Required field {column} is missing.", column=column)
    return value


def _label(spec: Spec) -> str:
    return {
        "AR_Customer": "Customer",
        "CI_ItemCode": "Item",
        "SO_SalesOrder": "Sales order",
        "PO_PurchaseOrder": "Purchase order",
        "AP_Vendor": "Vendor",
        "AP_Invoice": "AP invoice",
        "AP_ManualCheck": "Check",
    }.get(spec.object, spec.object)
