"""Order-to-cash payments, many at once: a batch of paid Shopify orders costs
Xero two calls (three when a payment leaves something due), not three each.

For the payment records of a batch (each already resolved to its order's Xero
invoice by ``validate``), ``load_payments``:

1. reads every invoice in ONE ``GET /Invoices?IDs=…``;
2. decides per order, as the single path always did: an invoice already PAID
   needs no payment; one whose ``Payments`` hold ours (same amount and
   reference: an answer lost after Xero saved it) is not paid twice; one that
   is neither AUTHORISED nor PAID is that order's error;
3. sends the payments left in ONE ``PUT /Payments`` with
   ``summarizeErrors=false`` and one Idempotency-Key for the batch: a payment
   Xero refuses is that order's error, the others go on. A refusal because a
   refund's credit note lowered the amount due meanwhile is retried;
4. per order: the invoice's status (PAID when the payment was what was due;
   else the invoices are read again, all in one call), the Sage 100 order's
   status by the status table, and the result for the write-back tags.

Exactly once: a payment Xero took is remembered at once (``state["once"]``);
a retry after a lost answer finds it on the invoice before sending again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integrations.engine.errors import (
    ReferenceMissing,
    Unavailable,
    ValidationFailed,
)
from integrations.flows.base import Run
from integrations.services import xero_documents


def load_payments(flow, runs: list[Run], orders: list[dict]) -> list[dict | Exception]:
    """Per payment record (same order as ``runs``): its target ids, or its error."""
    from integrations.flows.shopify_orders import xero

    side = xero(runs[0])
    results: list[Any] = [None] * len(runs)
    ids = [run.state["resolved"]["invoice"]["invoice_id"] for run in runs]
    try:
        invoices = _read(side, ids)
    except Exception as exc:  # noqa: BLE001 - the batch's read failed: each retries
        return [exc] * len(runs)
    sending: list[tuple[int, dict]] = []  # (index, payment document)
    status: dict[int, str] = {}
    amounts: dict[int, Decimal] = {}
    taken: set[str] = set()
    for i, (run, order) in enumerate(zip(runs, orders, strict=True)):
        try:
            invoice = _found(invoices, ids[i])
            if ids[i] in taken:
                raise Unavailable(
                    f"Another payment of this batch is for Xero invoice "
                    f"{invoice.get('InvoiceNumber')}; this one follows it.",
                    retry_after=5,
                )
            taken.add(ids[i])
            status[i], document = _decide(run, order, invoice)
        except Exception as exc:  # noqa: BLE001 - this order's failure alone
            results[i] = exc
            continue
        if document is not None:
            amounts[i] = Decimal(str(document["Amount"]))
            sending.append((i, document))
    refused: dict[int, Exception] = {}
    if sending:
        refused = _pay(side, runs, sending)
    # Read again: a refusal (a refund may have lowered the amount due), or a
    # part payment (Xero's answer does not say the invoice's status).
    unsure = [
        i
        for i in status
        if results[i] is None
        and (
            isinstance(refused.get(i), ValidationFailed)
            or (i in amounts and i not in refused and status[i] != "PAID")
        )
    ]
    if unsure:
        _read_again(side, ids, unsure, refused, status, amounts, results)
    for i, error in refused.items():
        if results[i] is None:
            results[i] = error
    for i in status:
        if results[i] is not None:
            continue
        try:
            invoice = invoices[ids[i].lower()]
            results[i] = _finish(flow, runs[i], invoice, status[i])
        except Exception as exc:  # noqa: BLE001 - this order's failure alone
            results[i] = exc
    return results


def _read(side, ids: list[str]) -> dict[str, dict]:
    wanted = list(dict.fromkeys(ids))
    return {
        str(invoice["InvoiceID"]).lower(): invoice
        for invoice in side.client.get_invoices(ids=wanted)
    }


def _found(invoices: dict[str, dict], invoice_id: str) -> dict:
    invoice = invoices.get(invoice_id.lower())
    if invoice is None:
        raise ReferenceMissing(
            f"Xero invoice {invoice_id} no longer exists.", field="order"
        )
    return invoice


def _decide(run: Run, order: dict, invoice: dict) -> tuple[str, dict | None]:
    """The invoice's status now, and the payment to send (None: nothing to send)."""
    status = str(invoice.get("Status") or "")
    due = Decimal(str(invoice.get("AmountDue") or 0))
    done = run.state.setdefault("once", {})
    if "payment" in done or status == "PAID":
        return status, None
    if status != "AUTHORISED" or due <= 0:
        raise ValidationFailed(
            f"Order {order['name']} was paid in Shopify, but its Xero invoice "
            f"{invoice.get('InvoiceNumber')} is {status}: record the payment by "
            "hand in Xero, or ignore this record.",
            field="financial_status",
        )
    amount = min(due, Decimal(order["totals"]["total"]))
    reference = f"Shopify {order['name']}"
    for existing in invoice.get("Payments") or []:
        # The same payment is in Xero already (an answer lost after it saved).
        if Decimal(str(existing.get("Amount") or 0)) == amount and (
            existing.get("Reference") in (None, "", reference)
        ):
            _remember(run, str(existing.get("PaymentID") or ""), amount)
            return status, None
    on = (order.get("processed_at") or order["order_date"])[:10]
    document = xero_documents.payment(
        str(invoice["InvoiceID"]),
        amount,
        on,
        str(run.option("payment_account_code", "090")),
        reference,
    )
    # Xero marks the invoice PAID when the payment is what is due.
    return ("PAID" if amount == due else status), document


def _pay(
    side, runs: list[Run], sending: list[tuple[int, dict]]
) -> dict[int, Exception]:
    """One ``PUT /Payments`` for the batch; the refusals by record index."""
    documents = [document for _, document in sending]
    try:
        answers = side.client.create_payments(
            documents,
            idempotency_key=xero_documents.batch_key(
                "o2c-payments", [runs[i] for i, _ in sending], documents
            ),
        )
    except Exception as exc:  # noqa: BLE001 - the call failed: each payment retries
        return {i: exc for i, _ in sending}
    refused: dict[int, Exception] = {}
    for (i, document), answer in zip(sending, answers, strict=True):
        if answer.ok:
            payment_id = str(answer.document.get("PaymentID") or "")
            _remember(runs[i], payment_id, Decimal(str(document["Amount"])))
        else:
            refused[i] = answer.error(kind="payment", doing="creating it")
    return refused


def _remember(run: Run, payment_id: str, amount: Decimal) -> None:
    """Kept at once: whatever happens next, a retry does not pay again."""
    done = run.state.setdefault("once", {})
    done["payment"] = {"payment_id": payment_id, "amount": str(amount)}
    run.save_state(run.state)


def _read_again(side, ids, unsure, refused, status, amounts, results) -> None:
    """The invoices Xero's answers do not settle (a part payment, a refusal),
    read again in one call: a refusal because a refund lowered the amount due
    meanwhile is retried, not put to a person."""
    try:
        now = _read(side, [ids[i] for i in unsure])
    except Exception as exc:  # noqa: BLE001 - these orders retry; none paid twice
        for i in unsure:
            results[i] = exc
        return
    for i in unsure:
        invoice = now.get(ids[i].lower())
        if invoice is None:
            continue
        if i in refused:
            if Decimal(str(invoice.get("AmountDue") or 0)) < amounts[i]:
                results[i] = Unavailable(
                    f"Xero invoice {invoice.get('InvoiceNumber')}'s amount due "
                    "changed while it was being paid; paying again.",
                    retry_after=5,
                )
            continue
        status[i] = str(invoice.get("Status") or status[i])


def _finish(flow, run: Run, invoice: dict, status: str) -> dict:
    """The result the write-back tags show, and the Sage order's status."""
    from integrations.flows.shopify_orders import xero

    ours = run.state["resolved"]["invoice"]
    result: dict[str, Any] = {
        "invoice_id": ours["invoice_id"],
        "invoice_number": str(invoice.get("InvoiceNumber") or ""),
    }
    paid = run.state.get("once", {}).get("payment")
    if paid:
        result["payment_id"] = paid["payment_id"]
        if paid.get("amount"):
            result["amount"] = paid["amount"]
    result["invoice_status"] = status
    result.update(flow._sage_follows(run, xero(run), ours["sales_order_no"], status))
    return result
