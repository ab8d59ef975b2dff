"""Accounts payable as the simulated business objects keep it: vendors, bills, checks.

``AP_Vendor_bus`` adds and edits vendors (``APDivisionNo`` + ``VendorNo``, seven
characters upper-case, the division on file, numbered from ``AP_Options`` when
the caller gives no number). ``AP_Invoice_bus`` enters a bill, which the
simulator posts at once to ``AP_OpenInvoice`` and the vendor's
``CurrentBalance``. ``AP_ManualCheck_bus`` pays one open invoice.

What the facts file does not name, and how the simulator stands in for it
[INFERRED, listed in docs/sage100.md]:

* Bills have no GL distribution table in the facts: a bill keeps its amount on
  the ``AP_OpenInvoice`` row and one expense account (``ExpenseAcctKey``, a
  ``GL_Account`` key).
* The facts name no AP check or payment-history table. A payment lowers
  ``AP_OpenInvoice.Balance`` (and stamps the invoice) and the vendor's
  ``CurrentBalance``, which is all the facts describe; the check itself is
  kept in the simulator's own ``SIM_APPayment`` bookkeeping (outside Sage's
  tables, like ``SIM_RecordLock``), so a repeat under the same check number is
  found. Real Sage keeps it in manual check entry, then check history.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from integrations.agent.backends.base import BOIError, Reference, WriteResult
from integrations.sandbox.sage100 import rules, store
from integrations.sandbox.sage100.schema import DATE, Column
from integrations.sandbox.sage100.store import Txn

VENDOR, OPEN_INVOICE = "AP_Vendor", "AP_OpenInvoice"
PAYMENTS = "SIM_APPayment"
# The check as the agent takes it: these names are the agent's own, mapped to
# Sage's columns where Sage has them (AP_OpenInvoice for the invoice key).
PAYMENT_COLUMNS = (
    "APDivisionNo",
    "VendorNo",
    "InvoiceNo",
    "CheckNo",
    "PaymentDate",
    "PaymentAmount",
    "BankCode",
)
CHECK_NO_LENGTH = 10  # AP check numbers are ten characters [FL4 layouts]
PAYMENT_DATE = Column("PaymentDate", DATE, 8)
INVOICE_KEY = ("APDivisionNo", "VendorNo", "InvoiceNo")
_PAYMENTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {PAYMENTS} (
    APDivisionNo VARCHAR(2) NOT NULL, VendorNo VARCHAR(7) NOT NULL,
    InvoiceNo VARCHAR(10) NOT NULL, CheckNo VARCHAR(10) NOT NULL,
    PaymentDate DATE NOT NULL, PaymentAmount VARCHAR(16) NOT NULL,
    BankCode VARCHAR(1) NOT NULL DEFAULT '', Record TEXT NOT NULL,
    PRIMARY KEY (APDivisionNo, VendorNo, InvoiceNo, CheckNo))
"""


# -- vendors -------------------------------------------------------------------
def create_vendor(txn: Txn, values: dict[str, Any]) -> WriteResult:
    data = txn.apply(VENDOR, values)
    division = data.get("APDivisionNo")
    if not division:
        raise rules.missing("APDivisionNo")
    _division(txn, division)
    store.terms(txn, data.get("TermsCode") or "")
    vendor_no = data.get("VendorNo") or _next_vendor_no(txn, division)
    key = {"APDivisionNo": division, "VendorNo": vendor_no}
    if txn.get(VENDOR, key) is not None:
        raise BOIError(
            f"Vendor {division}-{vendor_no} already exists.", column="VendorNo"
        )
    if not data.get("VendorName"):
        raise rules.missing("VendorName")
    txn.insert(VENDOR, {"CountryCode": "USA", **data, **key})
    return _vendor_result(txn, key)


def update_vendor(
    txn: Txn, division: str, vendor_no: str, values: dict[str, Any]
) -> WriteResult:
    key = txn.normalise_key(VENDOR, {"APDivisionNo": division, "VendorNo": vendor_no})
    if txn.get(VENDOR, key) is None:
        raise BOIError(
            f"Vendor {key['APDivisionNo']}-{key['VendorNo']} is not on file.",
            code="not_found",
            column="VendorNo",
        )
    data = txn.apply(VENDOR, values)
    for name, value in key.items():
        if name in data and data[name] != value:
            raise rules.invalid(name)  # a key cannot be changed
    if "VendorName" in data and not data["VendorName"]:
        raise rules.missing("VendorName")
    store.terms(txn, data.get("TermsCode") or "")
    txn.check_unlocked(VENDOR, key)
    txn.update(VENDOR, key, data)
    return _vendor_result(txn, key, created=False)


def _division(txn: Txn, division: str) -> None:
    if txn.get("AP_Division", {"APDivisionNo": division}) is None:
        raise rules.not_on_file(f"Division {division} is not on file.", "APDivisionNo")


def _next_vendor_no(txn: Txn, division: str) -> str:
    if txn.option("AP_Options", "AutoNumberVendors") != "Y":
        raise rules.missing("VendorNo")

    def taken(number: str) -> bool:
        key = {"APDivisionNo": division, "VendorNo": number}
        return txn.get(VENDOR, key) is not None

    return store.next_number(txn, "AP_Options", "NextVendorNo", taken, width=7)


def _vendor_result(txn: Txn, key: dict, *, created: bool = True) -> WriteResult:
    return WriteResult(
        "AP_Vendor", key, txn.record(VENDOR, txn.get(VENDOR, key)), created=created
    )


# -- bills -----------------------------------------------------------------------
def create_invoice(txn: Txn, header: dict[str, Any]) -> WriteResult:
    """A bill entered and posted: an open invoice the vendor is owed."""
    data = txn.apply(OPEN_INVOICE, header, protected=("Balance",))
    for name in ("APDivisionNo", "VendorNo", "InvoiceNo", "InvoiceDate"):
        if not data.get(name):
            raise rules.missing(name)
    division, vendor_no = data["APDivisionNo"], data["VendorNo"]
    vendor = store.vendor(txn, division, vendor_no)
    key = {
        "APDivisionNo": division,
        "VendorNo": vendor_no,
        "InvoiceNo": data["InvoiceNo"],
    }
    if txn.get(OPEN_INVOICE, key) is not None:
        raise BOIError(
            f"Invoice {data['InvoiceNo']} is already on file for vendor "
            f"{division}-{vendor_no}.",
            column="InvoiceNo",
        )
    amount = rules.decimal(data.get("InvoiceAmt"))
    if amount <= 0:
        raise rules.invalid("InvoiceAmt")  # a credit is a memo, not a bill
    if data.get("ExpenseAcctKey"):
        _account(txn, data["ExpenseAcctKey"])
    if data.get("PurchaseOrderNo"):
        _purchase_order(txn, data["PurchaseOrderNo"], division, vendor_no)
    due = data.get("InvoiceDueDate") or _due_date(txn, vendor, data["InvoiceDate"])
    if due < data["InvoiceDate"]:
        raise rules.invalid("InvoiceDueDate")
    txn.check_unlocked(VENDOR, {"APDivisionNo": division, "VendorNo": vendor_no})
    txn.insert(
        OPEN_INVOICE,
        {**data, **key, "InvoiceDueDate": due, "Balance": f"{amount:f}"},
    )
    vendor_key = {"APDivisionNo": division, "VendorNo": vendor_no}
    txn.add(VENDOR, vendor_key, "CurrentBalance", amount)
    return WriteResult(
        "AP_Invoice", key, txn.record(OPEN_INVOICE, txn.get(OPEN_INVOICE, key))
    )


def _account(txn: Txn, account_key: str) -> None:
    row = txn.get("GL_Account", {"AccountKey": account_key})
    if row is None:
        raise rules.not_on_file(
            f"Account {account_key} is not on file.", "ExpenseAcctKey"
        )
    if row["Status"] == "I":
        raise BOIError(
            f"Account {row['Account']} is inactive.", column="ExpenseAcctKey"
        )


def _purchase_order(txn: Txn, number: str, division: str, vendor_no: str) -> None:
    row = txn.get("PO_PurchaseOrderHeader", {"PurchaseOrderNo": number})
    if row is None:
        raise rules.not_on_file(
            f"Purchase order {number} is not on file.", "PurchaseOrderNo"
        )
    if (row["APDivisionNo"], row["VendorNo"]) != (division, vendor_no):
        raise BOIError(
            f"Purchase order {number} is for vendor "
            f"{row['APDivisionNo']}-{row['VendorNo']}.",
            column="PurchaseOrderNo",
        )


def _due_date(txn: Txn, vendor: dict, invoice_date: str) -> str:
    """The vendor's terms decide the due date when the bill does not."""
    terms = txn.get("AR_TermsCode", {"TermsCode": vendor.get("TermsCode") or ""})
    days = int(rules.decimal(terms["DaysBeforeDue"])) if terms else 0
    return (date.fromisoformat(invoice_date) + timedelta(days=days)).isoformat()


# -- payments -------------------------------------------------------------------
def record_payment(txn: Txn, values: dict[str, Any]) -> WriteResult:
    """One check paying one open invoice, posted at once.

    Values: ``APDivisionNo``, ``VendorNo``, ``InvoiceNo``, ``CheckNo``,
    ``PaymentAmount``, ``PaymentDate`` (today when absent), ``BankCode``.
    """
    unknown = [name for name in values if name not in PAYMENT_COLUMNS]
    if unknown:
        raise rules.not_in_iolist(str(unknown[0]))
    invoice_columns = txn.columns(OPEN_INVOICE)
    keyed = txn.apply(
        OPEN_INVOICE, {k: v for k, v in values.items() if k in INVOICE_KEY}
    )
    for name in INVOICE_KEY:
        if not keyed.get(name):
            raise rules.missing(name)
    check_no = _check_no(values.get("CheckNo"))
    amount = _amount(invoice_columns, values.get("PaymentAmount"))
    paid_on = (
        rules.normalise(PAYMENT_DATE, values.get("PaymentDate"))
        or txn.now.date().isoformat()
    )
    bank = str(values.get("BankCode") or "").strip().upper()
    if len(bank) > 1:
        raise rules.invalid("BankCode")
    division, vendor_no = keyed["APDivisionNo"], keyed["VendorNo"]
    store.vendor(txn, division, vendor_no)
    invoice_key = keyed
    invoice = txn.get(OPEN_INVOICE, invoice_key)
    if invoice is None:
        raise rules.not_on_file(
            f"Invoice {keyed['InvoiceNo']} is not on file for vendor "
            f"{division}-{vendor_no}.",
            "InvoiceNo",
        )
    balance = rules.decimal(invoice["Balance"])
    if amount > balance:
        raise BOIError(
            f"The payment of {amount} is more than the balance of invoice "
            f"{keyed['InvoiceNo']} ({rules.quantize(balance, 2)}).",
            column="PaymentAmount",
        )
    _payments_table(txn)
    if txn.con.execute(
        f"SELECT 1 FROM {PAYMENTS} WHERE APDivisionNo = ? AND VendorNo = ? "
        "AND InvoiceNo = ? AND CheckNo = ?",
        (division, vendor_no, keyed["InvoiceNo"], check_no),
    ).fetchone():
        raise BOIError(
            f"Check {check_no} is already applied to invoice {keyed['InvoiceNo']}.",
            column="CheckNo",
        )
    vendor_key = {"APDivisionNo": division, "VendorNo": vendor_no}
    txn.check_unlocked(VENDOR, vendor_key)
    txn.check_unlocked(OPEN_INVOICE, invoice_key)
    txn.add(OPEN_INVOICE, invoice_key, "Balance", -amount)
    txn.update(OPEN_INVOICE, invoice_key, {})  # the posting stamps the invoice
    txn.add(VENDOR, vendor_key, "CurrentBalance", -amount)
    left = rules.decimal(txn.get(OPEN_INVOICE, invoice_key)["Balance"])
    key = {**invoice_key, "CheckNo": check_no}
    record = {
        **key,
        "BankCode": bank,
        "PaymentDate": paid_on,
        "PaymentAmount": f"{amount:f}",
        "Balance": f"{rules.quantize(left, 2):f}",
    }
    txn.con.execute(
        f"INSERT INTO {PAYMENTS} (APDivisionNo, VendorNo, InvoiceNo, CheckNo, "
        "PaymentDate, PaymentAmount, BankCode, Record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            division,
            vendor_no,
            keyed["InvoiceNo"],
            check_no,
            paid_on,
            f"{amount:f}",
            bank,
            json.dumps(record),
        ),
    )
    return WriteResult("AP_ManualCheck", key, record)


def find_payment(txn: Txn, reference: Reference) -> WriteResult | None:
    """An earlier check by one of its columns (the check number, as a rule)."""
    column = {c.lower(): c for c in PAYMENT_COLUMNS}.get(
        str(reference.column).rstrip("$").lower()
    )
    if column is None or column in ("PaymentDate", "PaymentAmount"):
        raise rules.not_in_iolist(str(reference.column).rstrip("$"))
    _payments_table(txn)
    # Stored the way the check was written: "1" is division 01.
    reference = Reference(
        column,
        _stored(txn, column, reference.value),
        tuple((c, _stored(txn, c, v)) for c, v in reference.within),
    )
    rows = txn.con.execute(
        f"SELECT Record FROM {PAYMENTS} WHERE {column} = ? "
        "ORDER BY APDivisionNo, VendorNo, InvoiceNo, CheckNo",
        (reference.value,),
    ).fetchall()
    found = [json.loads(row[0]) for row in rows]
    found = [record for record in found if reference.matches(record)]
    if not found:
        return None
    record = found[0]
    key = {k: record[k] for k in ("APDivisionNo", "VendorNo", "InvoiceNo", "CheckNo")}
    warnings = []
    if len(found) > 1:
        warnings.append(f"{len(found)} checks match; this is the first by key.")
    return WriteResult("AP_ManualCheck", key, record, warnings=warnings, created=False)


def _stored(txn: Txn, column: str, value: Any) -> str:
    text = str(value if value is not None else "").strip()
    if column in INVOICE_KEY:
        try:
            return rules.normalise(txn.columns(OPEN_INVOICE)[column.lower()], text)
        except BOIError:
            return text  # a value no invoice can hold matches no check
    return text.upper()


def _payments_table(txn: Txn) -> None:
    txn.con.execute(_PAYMENTS_DDL)


def _check_no(value: Any) -> str:
    text = str(value if value is not None else "").strip().upper()
    if not text:
        raise rules.missing("CheckNo")
    if len(text) > CHECK_NO_LENGTH:
        raise rules.invalid("CheckNo")  # rejected, never cut
    return text


def _amount(columns, value: Any) -> Decimal:
    if value in (None, ""):
        raise rules.missing("PaymentAmount")
    balance = columns["balance"]
    try:
        stored = rules.normalise(balance, value)
    except BOIError:
        raise rules.invalid("PaymentAmount") from None
    amount = rules.decimal(stored)
    if amount <= 0:
        raise rules.invalid("PaymentAmount")
    return amount
