"""Refunds in order-to-cash: a Shopify ``refunds/create`` becomes a Xero
credit note against the order's invoice.

The order-to-cash flow (``shopify_orders.py``) hands its ``refund`` records
here. One record per refund: the key is (flow, order id, refund id), so
redeliveries make no second record. The credit note is an AUTHORISED
ACCRECCREDIT for the invoice's contact and currency, Reference ``#1001 refund
<refund id>``, one line per refunded order line with the invoice line's item
code, account and tax type (a discounted line gives back its discount on a
second line, as the invoice carried it), refunded shipping on the invoice's
shipping account, and any other refund adjustment. Then, as Xero settles
credit: while the invoice still has an amount due the credit is allocated to
it; what is left once it is paid is the cash Shopify gave back, recorded as a
refund (a Payment on the credit note from ``payment_account_code``).

Everything is checked before the first write (the order went through, its
invoice is approved or paid, each refunded line is a line of the order and
gives back no more than it charged). Each write happens once (``run.once``),
carries an Idempotency-Key, and is looked for first after a lost answer: the
credit note by its Reference, the allocation and the refund on the credit
note itself. Sage 100 is left as it is: its agent has no credit memo or
return operation (docs/order-to-cash.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integrations.engine.errors import (
    ReferenceMissing,
    Unavailable,
    ValidationFailed,
)
from integrations.flows.base import RecordSpec, Run
from integrations.models import RecordStatus, SyncRecord
from integrations.services import (
    cross_references,
    shopify_orders,
    shopify_refunds,
    xero_documents,
    xero_reference,
)

KIND = "refund"
WAITING = (RecordStatus.PENDING, RecordStatus.RUNNING, RecordStatus.RETRY_SCHEDULED)
ZERO = Decimal(0)


def records(body: Any) -> list[RecordSpec]:
    """One record per refund, keyed by its order and its own id."""
    order_id, refund_id = shopify_refunds.ids(body)
    return [
        RecordSpec(
            source_object_type=KIND,
            source_id=order_id,
            source_version=refund_id,
            payload=body,
        )
    ]


def transform(run: Run, raw: Any) -> dict:
    return shopify_refunds.parse(raw)


# -- validate ---------------------------------------------------------------------
def validate(run: Run, refund: dict) -> None:
    """The invoice to credit and the credit note's lines, before any write."""
    side = _side(run)
    order, invoice_id = _order_and_invoice(run, side, refund)
    invoice = xero_documents.invoice_now(side.client, invoice_id)
    status = str(invoice.get("Status") or "")
    number = str(invoice.get("InvoiceNumber") or invoice_id)
    if status not in ("AUTHORISED", "PAID"):
        raise ValidationFailed(
            f"Shopify refund {refund['refund_id']} of order {order['name']}: its "
            f"Xero invoice {number} is {status}, so there is nothing to credit "
            "against it. Credit the customer by hand in Xero if money went back, "
            "then ignore this record.",
            field="order_id",
        )
    lines = _lines(run, side, refund, order, invoice)
    line_amount_types = str(invoice.get("LineAmountTypes") or "Exclusive")
    total = xero_documents.credit_total(lines, line_amount_types) if lines else ZERO
    if total < 0:
        raise ValidationFailed(
            f"Shopify refund {refund['refund_id']} of order {order['name']} comes "
            f"to {total}: a credit note cannot be negative.",
            field="order_adjustments",
        )
    run.state["refund"] = {
        "order_name": order["name"],
        "invoice_id": invoice_id,
        "invoice_number": number,
        "contact_id": str((invoice.get("Contact") or {}).get("ContactID") or ""),
        "currency": str(invoice.get("CurrencyCode") or order["currency"]),
        "line_amount_types": line_amount_types,
        "lines": [
            {k: str(v) for k, v in line.items() if v is not None} for line in lines
        ],
        "total": str(total),
        "refunded": refund["refunded"],
    }
    run.save_state(run.state)


def _side(run: Run):
    from integrations.flows.shopify_orders import xero

    return xero(run)


def _order_and_invoice(run: Run, side, refund: dict) -> tuple[dict, str]:
    """The neutral order the refund belongs to and its Xero invoice id; the
    refund waits for an order on its way and needs attention for one that
    never came through."""
    order_id, refund_id = refund["order_id"], refund["refund_id"]
    placed = (
        SyncRecord.objects.filter(
            flow_config=run.flow_config, source_object_type="order", source_id=order_id
        )
        .order_by("pk")
        .first()
    )
    invoice_id = cross_references.lookup(
        "invoice", run.flow_config.source_connection_id, side.connection.pk, order_id
    )
    if placed is None:
        raise ReferenceMissing(
            f"Shopify refund {refund_id} is for order {order_id}, which never came "
            "through this flow, so Xero has no invoice of ours to credit. Send the "
            "order first (its orders/create webhook, or resubmit it); this refund "
            "then runs again by itself. If the order was invoiced in Xero another "
            "way, credit it there by hand and ignore this record.",
            field="order",
        )
    name = str((placed.effective_payload or {}).get("name") or order_id)
    if not invoice_id:
        if placed.status == RecordStatus.NEEDS_ATTENTION:
            raise ReferenceMissing(
                f"Order {name} itself needs attention ({placed.error_message[:200]}), "
                f"so it has no Xero invoice for refund {refund_id} to credit: fix the "
                "order's record first; this refund runs again when the order goes "
                "through.",
                field="order",
            )
        if placed.status in WAITING:
            raise Unavailable(
                f"Order {name} is still on its way to Xero; its refund {refund_id} "
                "follows it.",
                retry_after=15,
            )
        found = xero_documents.find_invoice(side.client, name)
        if found is None:
            raise ReferenceMissing(
                f"Xero has no invoice for Shopify order {name}, so refund "
                f"{refund_id} has nothing to credit: send the order first, then "
                "resubmit.",
                field="order",
            )
        invoice_id = str(found["InvoiceID"])
    try:
        order = shopify_orders.parse(placed.effective_payload or {})
    except ValidationFailed as exc:
        raise ReferenceMissing(
            f"Order {name}'s own payload cannot be read ({exc.message}), so its "
            f"refund {refund_id} cannot be matched to the invoice lines.",
            field="order",
        ) from exc
    return order, invoice_id


def _lines(run: Run, side, refund: dict, order: dict, invoice: dict) -> list[dict]:
    """The credit note's lines: each refunded order line as its invoice line,
    refunded shipping as the invoice's shipping line, then adjustments."""
    invoice_lines = list(invoice.get("LineItems") or [])
    count = len(order["lines"])
    number = invoice.get("InvoiceNumber") or invoice.get("InvoiceID")
    if len(invoice_lines) < count:
        raise ValidationFailed(
            f"Xero invoice {number} has {len(invoice_lines)} lines but order "
            f"{order['name']} has {count}: the invoice was changed in Xero, so the "
            f"refund {refund['refund_id']} cannot be matched to its lines. Credit "
            "it by hand in Xero and ignore this record.",
            field="order",
        )
    items, extra = invoice_lines[:count], invoice_lines[count:]
    discount_line = next((x for x in extra if _dec(x.get("UnitAmount")) < 0), None)
    shipping_lines = [x for x in extra if _dec(x.get("UnitAmount")) > 0]
    by_id = {line["id"]: line for line in order["lines"] if line["id"]}
    no_tax = str(run.option("no_tax_type", "NONE"))
    lines: list[dict] = []
    for given in refund["lines"]:
        where = f"refund_line_items[{given['index']}]"
        line = by_id.get(given["line_item_id"])
        if line is None:
            raise ValidationFailed(
                f"Shopify refund {refund['refund_id']}, line {given['index'] + 1}: "
                f"line_item_id {given['line_item_id']} is not a line of order "
                f"{order['name']}.",
                field=f"{where}.line_item_id",
            )
        source = items[line["index"]]
        quantity = Decimal(given["quantity"])
        if quantity > Decimal(line["quantity"]):
            raise ValidationFailed(
                f"Shopify refund {refund['refund_id']} gives back {quantity} of "
                f"{line['sku']}, but order {order['name']} had {line['quantity']}.",
                field=f"{where}.quantity",
            )
        price = _dec(source.get("UnitAmount"))
        gross = (price * quantity).quantize(shopify_orders.CENT)
        subtotal, tax = Decimal(given["subtotal"]), Decimal(given["tax"])
        if subtotal > gross:
            raise ValidationFailed(
                f"Shopify refund {refund['refund_id']} gives back {subtotal} for "
                f"{quantity} x {line['sku']}, more than the {gross} invoiced for "
                f"them on {number}.",
                field=f"{where}.subtotal",
            )
        discount = gross - subtotal
        taxes = shopify_orders.allocate([gross, -discount], tax) if discount else [tax]
        lines.append(
            _line(source, given["title"], quantity, price, taxes[0], item=True)
        )
        if discount:
            like = discount_line or source
            lines.append(
                _line(
                    like,
                    f"Discount on {line['sku']} given back",
                    Decimal(1),
                    -discount,
                    taxes[1],
                )
            )
    charged = sum(
        (
            _dec(x.get("UnitAmount")) * _dec(x.get("Quantity") or 1)
            for x in shipping_lines
        ),
        ZERO,
    )
    credited = ZERO
    for given in refund["shipping"]:
        amount, tax = Decimal(given["amount"]), Decimal(given["tax"])
        credited += amount
        if credited > charged:
            raise ValidationFailed(
                f"Shopify refund {refund['refund_id']} gives back {credited} of "
                f"shipping, but invoice {number} charged {charged}.",
                field=f"{given['where']}.amount",
            )
        source = shipping_lines[0]
        description = f"{source.get('Description') or 'Shipping'} (refunded)"
        lines.append(_line(source, description, Decimal(1), amount, tax))
    for given in refund["adjustments"]:
        amount, tax = Decimal(given["amount"]), Decimal(given["tax"])
        first = items[0] if items else {}
        account = str(
            run.option("refund_adjustment_account_code", "")
            or first.get("AccountCode")
            or run.option("sales_account_code", "200")
        )
        _require_account(side, account)
        lines.append(
            {
                "Description": f"Refund adjustment: {given['reason']}",
                "Quantity": Decimal(1),
                "UnitAmount": amount,
                "AccountCode": account,
                "TaxType": first.get("TaxType") if tax else no_tax,
                "TaxAmount": tax,
            }
        )
    return lines


def _line(
    source: dict,
    description: str,
    quantity: Decimal,
    unit_amount: Decimal,
    tax: Decimal,
    *,
    item: bool = False,
) -> dict:
    """A credit note line on the invoice line's item, account and tax type."""
    line = {
        "Description": source.get("Description") if item else description,
        "Quantity": quantity,
        "UnitAmount": unit_amount,
        "AccountCode": source.get("AccountCode"),
        "TaxType": source.get("TaxType"),
        "TaxAmount": tax,
    }
    if not line["Description"]:
        line["Description"] = description
    if item and source.get("ItemCode"):
        line["ItemCode"] = source["ItemCode"]
    return line


def _require_account(side, code: str) -> None:
    found = xero_reference.find(
        side.connection, side.client, "accounts", lambda a: str(a.get("Code")) == code
    )
    if found is None or found.get("Status") not in (None, "ACTIVE"):
        raise ReferenceMissing(
            f"Xero has no active account with code {code} for the refund's "
            "adjustment: correct the flow's refund_adjustment_account_code option.",
            field="options.refund_adjustment_account_code",
        )


# -- load -------------------------------------------------------------------------
def load(run: Run, refund: dict) -> dict:
    """The credit note, then its allocation or its refund, each once."""
    plan = run.state["refund"]
    result: dict = {
        "invoice_id": plan["invoice_id"],
        "invoice_number": plan["invoice_number"],
    }
    if not plan["lines"] or not Decimal(plan["total"]):
        return {**result, "skipped": "the refund gives back no money"}
    side = _side(run)
    made = run.once("credit_note", lambda: _create(run, side, refund, plan))
    cross_references.link(
        "credit_note", run.flow_config.source_connection_id, side.connection.pk,
        f"{refund['order_id']}:{refund['refund_id']}", made["credit_note_id"],
    )  # fmt: skip
    note = xero_documents.credit_note_now(side.client, made["credit_note_id"])
    invoice = xero_documents.invoice_now(side.client, plan["invoice_id"])
    allocated = run.once(
        "allocation", lambda: _allocate(run, side, refund, plan, note, invoice)
    )
    if Decimal(allocated["amount"]):
        note = xero_documents.credit_note_now(side.client, made["credit_note_id"])
    paid_back = run.once(
        "refund_payment", lambda: _pay_back(run, side, refund, plan, note)
    )
    total = Decimal(made["total"])
    left = total - Decimal(allocated["amount"]) - Decimal(paid_back["amount"])
    warnings = []
    money_back = Decimal(plan["refunded"]) if plan["refunded"] is not None else total
    if money_back != total:
        warnings.append(
            f"Shopify gave back {money_back} but the refunded lines come to {total}."
        )
    if left > 0:
        warnings.append(
            f"{left} of credit note {made['credit_note_number']} stays open as "
            "credit on the customer's Xero account (Shopify paid no more back)."
        )
    if made["action"] == "found":
        warnings.append(
            f"Xero already had credit note {made['credit_note_number']} for this "
            "refund; it was used, not made again."
        )
    return {
        **result,
        "credit_note_id": made["credit_note_id"],
        "credit_note_number": made["credit_note_number"],
        "credit_note_total": made["total"],
        "allocated": allocated["amount"],
        "refunded": paid_back["amount"],
        "refund_payment_id": paid_back.get("payment_id", ""),
        "open_credit": str(max(left, ZERO)),
        "warnings": warnings,
    }


def _create(run: Run, side, refund: dict, plan: dict) -> dict:
    reference = xero_documents.refund_reference(plan["order_name"], refund["refund_id"])
    found = xero_documents.find_credit_note(side.client, reference, plan["contact_id"])
    action = "found"
    if found is None:
        document = xero_documents.credit_note(
            contact_id=plan["contact_id"],
            on=refund["date"],
            reference=reference,
            currency_code=plan["currency"],
            line_amount_types=plan["line_amount_types"],
            lines=[_decimals(line) for line in plan["lines"]],
        )
        results = side.client.save_credit_notes(
            [document],
            create_only=True,
            idempotency_key=xero_documents.key(
                run.record.idempotency_key, "credit_note"
            ),
        )
        found = xero_documents.one(results, kind="credit note")
        action = "created"
    return {
        "credit_note_id": str(found["CreditNoteID"]),
        "credit_note_number": str(found.get("CreditNoteNumber") or ""),
        "total": str(found.get("Total") or plan["total"]),
        "action": action,
    }


def _allocate(run: Run, side, refund, plan, note: dict, invoice: dict) -> dict:
    """As much of the credit as the invoice still has due, once."""
    invoice_id = plan["invoice_id"]
    already = sum(
        (
            _dec(a.get("Amount"))
            for a in note.get("Allocations") or []
            if str((a.get("Invoice") or {}).get("InvoiceID")) == invoice_id
        ),
        ZERO,
    )
    if already:
        return {"amount": str(already)}
    due = _dec(invoice.get("AmountDue")) if invoice.get("Status") == "AUTHORISED" else 0
    amount = min(_dec(note.get("RemainingCredit")), due)
    if amount <= 0:
        return {"amount": "0"}
    # Xero dates an allocation no earlier than both documents.
    dates = [
        xero_documents.parse_date(value)
        for value in (invoice.get("Date"), note.get("Date"))
    ]
    on = max((d for d in dates if d), default=None)
    try:
        made = side.client.allocate_credit_note(
            note["CreditNoteID"],
            invoice_id,
            amount,
            on.isoformat() if on else refund["date"],
            # The amount is part of the key: a retry that works out another
            # amount is another request, which Xero refuses under a used key.
            idempotency_key=xero_documents.key(
                run.record.idempotency_key, f"allocation-{amount}"
            ),
        )
    except ValidationFailed as exc:
        # A payment or another refund settled part of the invoice meanwhile:
        # worked out again on the retry, not a person's problem.
        now = xero_documents.invoice_now(side.client, invoice_id)
        if (now.get("Status"), _dec(now.get("AmountDue"))) != (
            invoice.get("Status"),
            due,
        ):
            raise Unavailable(
                f"Xero invoice {plan['invoice_number']} changed while its credit "
                "was being allocated; will try again.",
                retry_after=5,
            ) from exc
        raise
    return {"amount": str(amount), "allocation_id": str(made.get("AllocationID") or "")}


def _pay_back(run: Run, side, refund, plan, note: dict) -> dict:
    """The cash Shopify returned, as a refund of what credit is left, once."""
    reference = f"Shopify refund {refund['refund_id']} ({plan['order_name']})"
    for existing in note.get("Payments") or []:
        if existing.get("Reference") == reference:
            return {
                "amount": str(_dec(existing.get("Amount"))),
                "payment_id": str(existing.get("PaymentID") or ""),
            }
    left = _dec(note.get("RemainingCredit"))
    money_back = Decimal(plan["refunded"]) if plan["refunded"] is not None else left
    amount = min(left, money_back)
    if amount <= 0:
        return {"amount": "0"}
    results = side.client.create_payments(
        [
            xero_documents.refund_payment(
                note["CreditNoteID"],
                amount,
                refund["date"],
                str(run.option("payment_account_code", "090")),
                reference,
            )
        ],
        idempotency_key=xero_documents.key(
            run.record.idempotency_key, f"refund-{amount}"
        ),
    )
    made = xero_documents.one(results, kind="refund")
    return {"amount": str(amount), "payment_id": str(made.get("PaymentID") or "")}


def _decimals(line: dict) -> dict:
    numbers = ("Quantity", "UnitAmount", "TaxAmount")
    return {k: Decimal(v) if k in numbers else v for k, v in line.items()}


def _dec(value: Any) -> Decimal:
    if value in (None, ""):
        return ZERO
    return Decimal(str(value))
