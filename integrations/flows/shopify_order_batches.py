"""Order-to-cash, many orders at once: the Xero side of a batch of up to 50
new Shopify orders in a handful of calls, instead of four or five an order.

The engine claims up to ``batch_size`` due records of the flow together and
checks each on its own first (``validate``: items, accounts, tax types,
currency, the Sage customer), so a bad order is refused before anything is
written and fails alone. For the orders that passed, ``load_orders``:

1. finds each order's Xero contact: the customer cross-reference or a Match
   decision (no call), else one ``GET /Contacts`` for twenty or so shoppers
   at once (``xero_contacts.find_many``: e-mail, then the fuzzy matcher); the
   shoppers still unknown are created in one ``PUT /Contacts``. Looking and
   creating hold a lock per Shopify/Xero pair, so two workers do not make one
   shopper twice; each contact is cross-referenced at once;
2. sends every order's invoice in ONE ``PUT /Invoices`` (create only) with
   ``summarizeErrors=false`` and one Idempotency-Key for the batch: an invoice
   Xero refuses is that order's error, the other orders go on;
3. per order, as the single path always did: the Sage 100 customer and sales
   order, each at most once, and the cross-references.

Exactly once: an order remembers its contact and invoice the moment Xero
answers (``state["once"]``), so a retry after Xero took the invoice and Sage
100 was down writes only the Sage order. Before the invoices are sent each
order is marked as sending; an order whose earlier attempt never heard Xero's
answer is looked for by Reference (one query for the batch) before it is sent
again. Rules: docs/order-to-cash.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integrations.engine.errors import (
    RateLimited,
    SyncError,
    Unavailable,
    ValidationFailed,
)
from integrations.flows.base import Run
from integrations.services import cross_references, xero_contacts, xero_documents
from integrations.services.master_data_links import held

REFERENCES_PER_LOOKUP = 25  # Reference=="#1001" clauses per GET /Invoices


def load_orders(flow, runs: list[Run], orders: list[dict]) -> list[dict | Exception]:
    """Per order (same order as ``runs``): its target ids, or its error."""
    results: list[dict | Exception | None] = [None] * len(runs)
    steps = (_contacts, _invoices)
    for step in steps:
        waiting = [i for i, result in enumerate(results) if result is None]
        if not waiting:
            break
        try:
            step(runs, orders, results, waiting)
        except Exception as exc:  # noqa: BLE001 - the batch's call failed: each order retries
            for i in waiting:
                if results[i] is None:
                    results[i] = exc
    for i, (run, order) in enumerate(zip(runs, orders, strict=True)):
        if results[i] is not None:
            continue
        try:
            results[i] = _finish(flow, run, order)
        except Exception as exc:  # noqa: BLE001 - this order's failure alone
            results[i] = exc
    return results  # type: ignore[return-value]


# -- 1. contacts -----------------------------------------------------------------------


def _contacts(runs, orders, results, waiting) -> None:
    from integrations.flows.shopify_orders import xero

    side = xero(runs[0])
    shopify_id = runs[0].flow_config.source_connection_id
    need: dict[str, list[int]] = {}
    people: dict[str, xero_contacts.Person] = {}
    for i in waiting:
        run, order = runs[i], orders[i]
        done = run.state.setdefault("once", {})
        if "contact" in done:
            run.state["resolved"]["contact"] = done["contact"]
            continue
        key = customer_key(order)
        bound = cross_references.lookup("customer", shopify_id, side.connection.pk, key)
        if "invoice" in done or bound:
            # Already on an invoice (an earlier attempt), or known: no call.
            run.state["resolved"]["contact"] = {
                "contact_id": bound or done["invoice"].get("contact_id", ""),
                "name": order["customer"]["name"],
                "action": "bound",
            }
            continue
        need.setdefault(key, []).append(i)
        people.setdefault(key, person(run, side, order))
    if not need:
        return
    lock = f"ledgerbridge:lock:o2c-contacts:{shopify_id}:{side.connection.pk}"
    busy = (
        "Another worker has been finding or creating these shoppers' Xero "
        "contacts for two minutes; trying again shortly."
    )
    with held(lock, busy, timeout=300, wait=120):
        # Under the lock, look again: another worker may have just made them.
        bound = cross_references.many(
            "customer", shopify_id, side.connection.pk, list(people)
        )
        found = xero_contacts.find_many(
            side.client, people, bound=bound, thresholds=runs[0].option("match", {})
        )
        new = [key for key, answer in found.items() if answer is None]
        if new:
            found.update(_create(side, runs, need, people, new))
        for key, answer in found.items():
            if isinstance(answer, dict) and answer["action"] != "bound":
                cross_references.link(
                    "customer", shopify_id, side.connection.pk, key,
                    answer["contact_id"],
                    note=f"Order-to-cash: Xero contact {answer['action']}",
                )  # fmt: skip
    for key, indexes in need.items():
        answer = found[key]
        for i in indexes:
            if isinstance(answer, Exception):
                results[i] = answer
            else:
                runs[i].state["resolved"]["contact"] = dict(answer)


def customer_key(order: dict) -> str:
    """The shop's customer id, or its e-mail for a guest checkout."""
    return order["customer"]["id"] or order["customer"]["email"]


def person(run: Run, side, order: dict) -> xero_contacts.Person:
    customer = order["customer"]
    return xero_contacts.Person(
        source_connection_id=run.flow_config.source_connection_id,
        xero_connection_id=side.connection.pk,
        source_id=customer_key(order),
        name=customer["name"],
        first_name=customer["first_name"],
        last_name=customer["last_name"],
        email=customer["email"],
        phone=customer["phone"],
        address=order["bill_to"],
    )


def _create(side, runs, need, people, keys: list[str]) -> dict[str, Any]:
    """The unknown shoppers as new contacts, in one ``PUT /Contacts``.

    Xero keeps contact names unique: of two new shoppers with one name, the
    second waits a minute and is then matched against the first (a person
    decides when they are not the same), rather than refused by Xero."""
    answers: dict[str, Any] = {}
    sending: dict[str, str] = {}  # name → key
    for key in keys:
        name = people[key].name.strip().lower()
        if name in sending:
            answers[key] = Unavailable(
                f"Another new shopper of this batch is also called "
                f"{people[key].name}; this order follows once that contact "
                "exists, to compare the two.",
                retry_after=60,
            )
        else:
            sending[name] = key
    chosen = list(sending.values())
    documents = [xero_contacts.new_contact(people[key]) for key in chosen]
    created = side.client.save_contacts(
        documents,
        create_only=True,
        idempotency_key=xero_documents.batch_key(
            "o2c-contacts", [runs[need[key][0]] for key in chosen], documents
        ),
    )
    for key, answer in zip(chosen, created, strict=True):
        if answer.ok and answer.document.get("ContactID"):
            answers[key] = {
                "contact_id": str(answer.document["ContactID"]),
                "name": str(answer.document.get("Name") or people[key].name),
                "action": "created",
            }
        else:
            answers[key] = answer.error(kind="contact", doing="creating it")
    return answers


# -- 2. invoices -----------------------------------------------------------------------


def _invoices(runs, orders, results, waiting) -> None:
    from integrations.flows.shopify_orders import xero

    side = xero(runs[0])
    pending = [i for i in waiting if "invoice" not in runs[i].state["once"]]
    unsure = [i for i in pending if runs[i].state.get("sending")]
    if unsure:
        try:
            found = _sent_before(side.client, runs, orders, unsure)
        except Exception as exc:  # noqa: BLE001 - these orders wait; others go on
            found = dict.fromkeys(unsure, exc)
        for i, answer in found.items():
            if isinstance(answer, Exception):
                results[i] = answer
            else:
                _remember(runs[i], answer, "found")
            pending.remove(i)
    documents: list[dict] = []
    sending: list[int] = []
    for i in pending:
        try:
            documents.append(
                xero_documents.invoice(orders[i], runs[i].state["resolved"])
            )
        except SyncError as exc:
            results[i] = exc
            continue
        sending.append(i)
    if not sending:
        return
    for i in sending:
        runs[i].state["sending"] = True
        runs[i].save_state(runs[i].state)
    try:
        answers = side.client.save_invoices(
            documents,
            create_only=True,
            idempotency_key=xero_documents.batch_key(
                "o2c-invoices", [runs[i] for i in sending], documents
            ),
        )
    except Exception as exc:  # noqa: BLE001 - the call failed: each order retries
        for i in sending:
            if isinstance(exc, RateLimited):
                # Refused before Xero took anything: nothing to look for later.
                runs[i].state.pop("sending", None)
            results[i] = exc
        return
    for i, answer in zip(sending, answers, strict=True):
        runs[i].state.pop("sending", None)
        if answer.ok:
            _remember(runs[i], answer.document, "created")
        else:
            results[i] = answer.error(kind="invoice", doing="creating it")
            runs[i].save_state(runs[i].state)


def _remember(run: Run, invoice: dict, action: str) -> None:
    """The invoice (and the contact it went to) kept at once: whatever
    happens next, a retry does not send it again."""
    done = run.state.setdefault("once", {})
    done["invoice"] = {
        "invoice_id": str(invoice["InvoiceID"]),
        "invoice_number": str(invoice.get("InvoiceNumber") or ""),
        "status": str(invoice.get("Status") or ""),
        "total": str(invoice.get("Total") or ""),
        "contact_id": str((invoice.get("Contact") or {}).get("ContactID") or ""),
        "action": action,
    }
    done.setdefault("contact", run.state["resolved"]["contact"])
    run.save_state(run.state)


def _sent_before(client, runs, orders, unsure: list[int]) -> dict[int, Any]:
    """Orders an earlier attempt sent without hearing back: Xero's invoice with
    their Reference, if it made one (one query per 25 orders)."""
    by_reference: dict[str, list[dict]] = {}
    usable: list[int] = []
    answers: dict[int, Any] = {}
    for i in unsure:
        try:
            xero_documents.quoted(orders[i]["name"], "name")
        except SyncError as exc:
            answers[i] = exc
            continue
        usable.append(i)
    for start in range(0, len(usable), REFERENCES_PER_LOOKUP):
        chunk = usable[start : start + REFERENCES_PER_LOOKUP]
        either = " OR ".join(f'Reference=="{orders[i]["name"]}"' for i in chunk)
        for invoice in client.get_invoices(where=f'Type=="ACCREC" AND ({either})'):
            if invoice.get("Status") in xero_documents.LIVE:
                reference = str(invoice.get("Reference") or "")
                by_reference.setdefault(reference, []).append(invoice)
    for i in usable:
        contact_id = runs[i].state["resolved"]["contact"]["contact_id"]
        found = [
            invoice
            for invoice in by_reference.get(orders[i]["name"], [])
            if (invoice.get("Contact") or {}).get("ContactID") in ("", None, contact_id)
        ]
        if len(found) > 1:
            numbers = ", ".join(
                str(f.get("InvoiceNumber") or f["InvoiceID"]) for f in found
            )
            answers[i] = ValidationFailed(
                f"Xero already has several sales invoices with reference "
                f"{orders[i]['name']} ({numbers}): void the extra ones in Xero, "
                "then resubmit.",
                field="name",
            )
        elif found:
            answers[i] = found[0]
    return answers


# -- 3. Sage 100, per order ------------------------------------------------------------


def _finish(flow, run: Run, order: dict) -> dict:
    """The Sage 100 customer and sales order, once each, and the result."""
    from integrations.flows.shopify_orders import xero

    side = xero(run)
    resolved = run.state["resolved"]
    contact = resolved["contact"]
    invoice = run.state["once"]["invoice"]
    shopify_id = run.flow_config.source_connection_id
    cross_references.link(
        "invoice", shopify_id, side.connection.pk, order["order_id"],
        invoice["invoice_id"],
    )  # fmt: skip
    customer = resolved["customer"]
    if customer["action"] == "create":
        customer = run.once("customer", lambda: flow._create_customer(run, order))
    run.bind("customer", customer_key(order), customer["display"])
    sales_order = run.once(
        "sales_order", lambda: flow._create_sales_order(run, order, customer)
    )
    run.bind("order", order["order_id"], sales_order["sales_order_no"])
    warnings = list(sales_order.get("warnings", [])) + order["address_flags"]
    if invoice["total"] and Decimal(invoice["total"]) != Decimal(
        order["totals"]["total"]
    ):
        warnings.append(
            f"Xero's invoice total {invoice['total']} is not the Shopify total "
            f"{order['totals']['total']} (Xero rounded the tax its own way)."
        )
    return {
        "invoice_id": invoice["invoice_id"],
        "invoice_number": invoice["invoice_number"],
        "invoice_status": invoice["status"],
        "invoice_total": invoice["total"],
        "contact_id": contact["contact_id"],
        "contact_action": contact["action"],
        "sales_order_no": sales_order["sales_order_no"],
        "order_status": sales_order["order_status"],
        "customer": customer["display"],
        "customer_action": customer["action"],
        "warnings": warnings,
    }
