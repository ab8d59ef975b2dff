"""Cash receipts as ``AR_CashReceipts_bus`` takes them: in a deposit, per check.

A receipt lands in the day's deposit (``AR_CashReceiptsDeposit``, created
when there is none), and the simulator posts it at once: the invoice balance
and the customer's balance go down, ``DateLastPayment`` moves. Real Sage posts
receipts later, from the daily transaction register [INFERRED shortcut].
"""

from __future__ import annotations

from typing import Any

from integrations.agent.backends.base import BOIError, WriteResult
from integrations.sandbox.sage100 import rules, store
from integrations.sandbox.sage100.store import Txn

# Receipt values that belong to the detail line, the invoice or the deposit.
EXTRAS = {"InvoiceNo", "InvoiceType", "AmountPosted", "DepositDate"}


def record(txn: Txn, values: dict[str, Any]) -> WriteResult:
    """Apply one check to one open invoice (``AR_CashReceipts_bus``)."""
    header_values = {k: v for k, v in values.items() if k not in EXTRAS}
    data = txn.apply("AR_CashReceiptsHeader", header_values)
    extras = {k: v for k, v in values.items() if k in EXTRAS}
    invoice_type = txn.apply(
        "AR_OpenInvoice",
        {"InvoiceType": "IN"} | {k: v for k, v in extras.items() if k == "InvoiceType"},
    )["InvoiceType"]
    detail = txn.apply(
        "AR_CashReceiptsDetail",
        {k: v for k, v in extras.items() if k in ("InvoiceNo", "AmountPosted")},
    )
    for name in ("ARDivisionNo", "CustomerNo", "CheckNo"):
        if not data.get(name):
            raise rules.missing(name)
    if not detail.get("InvoiceNo"):
        raise rules.missing("InvoiceNo")
    amount = rules.decimal(data.get("PostingAmt") or detail.get("AmountPosted"))
    both = "AmountPosted" in detail and "PostingAmt" in data
    if both and rules.decimal(detail["AmountPosted"]) != amount:
        raise rules.invalid("AmountPosted")
    if amount == 0:
        raise rules.missing("PostingAmt")
    if amount < 0:
        raise rules.invalid("PostingAmt")
    division, customer_no = data["ARDivisionNo"], data["CustomerNo"]
    customer_key = {"ARDivisionNo": division, "CustomerNo": customer_no}
    store.customer(txn, division, customer_no)
    invoice_key = {
        **customer_key,
        "InvoiceNo": detail["InvoiceNo"],
        "InvoiceType": invoice_type,
    }
    invoice = txn.get("AR_OpenInvoice", invoice_key)
    if invoice is None:
        raise rules.not_on_file(
            f"Invoice {detail['InvoiceNo']} is not on file.", "InvoiceNo"
        )
    if amount > rules.decimal(invoice["Balance"]):
        raise BOIError(
            f"The amount posted is more than the balance of invoice "
            f"{detail['InvoiceNo']}.",
            column="AmountPosted",
        )
    txn.check_unlocked("AR_Customer", customer_key)
    txn.check_unlocked("AR_OpenInvoice", invoice_key)
    date = data.get("TransactionDate") or txn.now.date().isoformat()
    deposit_no = _deposit(txn, data.get("DepositNo"), extras.get("DepositDate"), date)
    header_key = {"DepositNo": deposit_no, **customer_key, "CheckNo": data["CheckNo"]}
    existing = txn.get("AR_CashReceiptsHeader", header_key)
    if existing is None:
        posting = {**data, **header_key, "TransactionDate": date}
        txn.insert("AR_CashReceiptsHeader", {**posting, "PostingAmt": f"{amount:f}"})
    else:
        txn.update("AR_CashReceiptsHeader", header_key, {})
        txn.add("AR_CashReceiptsHeader", header_key, "PostingAmt", amount)
    detail_key = {**header_key, "InvoiceNo": detail["InvoiceNo"]}
    if txn.get("AR_CashReceiptsDetail", detail_key) is not None:
        raise BOIError(
            f"Check {data['CheckNo']} is already applied to invoice "
            f"{detail['InvoiceNo']}.",
            column="InvoiceNo",
        )
    txn.insert("AR_CashReceiptsDetail", {**detail_key, "AmountPosted": f"{amount:f}"})
    txn.add("AR_CashReceiptsDeposit", {"DepositNo": deposit_no}, "DepositAmt", amount)
    txn.add("AR_OpenInvoice", invoice_key, "Balance", -amount)
    txn.update("AR_OpenInvoice", invoice_key, {})  # the posting stamps the invoice
    txn.add("AR_Customer", customer_key, "CurrentBalance", -amount)
    txn.update("AR_Customer", customer_key, {"DateLastPayment": date}, stamp=False)
    record = txn.record(
        "AR_CashReceiptsHeader", txn.get("AR_CashReceiptsHeader", header_key)
    )
    lines = [
        txn.record("AR_CashReceiptsDetail", row)
        for row in txn.select("AR_CashReceiptsDetail", header_key)
    ]
    return WriteResult("AR_CashReceipts", header_key, record, lines)


def _deposit(txn: Txn, deposit_no: str | None, deposit_date, date: str) -> str:
    """The deposit (batch) the receipt goes in: given, the day's, or a new one."""
    if deposit_no:
        if txn.get("AR_CashReceiptsDeposit", {"DepositNo": deposit_no}) is None:
            raise rules.not_on_file(
                f"Deposit {deposit_no} is not on file.", "DepositNo"
            )
        return deposit_no
    day = txn.apply("AR_CashReceiptsDeposit", {"DepositDate": deposit_date or date})
    found = txn.select("AR_CashReceiptsDeposit", {"DepositDate": day["DepositDate"]})
    if found:
        return found[0]["DepositNo"]
    (last,) = txn.con.execute(
        "SELECT MAX(CAST(DepositNo AS INTEGER)) FROM AR_CashReceiptsDeposit"
    ).fetchone()
    number = str((last or 0) + 1).zfill(7)
    txn.insert(
        "AR_CashReceiptsDeposit",
        {"DepositNo": number, "DepositDate": day["DepositDate"], "DepositAmt": "0.00"},
    )
    return number
