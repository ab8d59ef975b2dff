"""Procure-to-pay: Sage 100 purchase orders and A/P invoices reach Xero's
payables; bills paid in Xero are paid in Sage 100.

Three flows:

* ``sage100_purchase_orders_to_xero`` takes the ``sage100.purchase_order``
  change feed: each new or changed PO becomes (or updates) a Xero
  PurchaseOrder, its status translated (po_status cross-references).
* ``sage100_ap_invoices_to_xero`` takes the ``sage100.ap_invoice`` change
  feed (AP_OpenInvoice): each bill entered in Sage becomes an ACCPAY bill;
  an amount changed in Sage updates the bill while it is unpaid.
* ``xero_bill_payments_to_sage100`` takes Xero's invoice webhooks (Xero has
  no payment events) or polls ``/Payments`` for bill payments: each
  payment lowers the Sage invoice's balance once, as a check whose number is
  made from the Xero PaymentID.

Both Sage flows read Sage as it is now (not the event's copy), resolve the
supplier contact, accounts, tax rate and currency for a batch of up to 50
documents, and write them to Xero in one call (one bad document fails alone).
Before a bill is created Xero is asked for a live bill with the same supplier
and number, so a bill keyed in Xero by hand, or written before a lost answer,
is found instead of made twice. Rules: docs/procure-to-pay.md.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from integrations.connectors.sage100 import changes, keys
from integrations.engine.errors import (
    ReferenceMissing,
    SyncError,
    ValidationFailed,
)
from integrations.flows.base import Flow, RecordSpec, Run
from integrations.flows.registry import register
from integrations.models import CrossReference, System
from integrations.services import (
    cross_references,
    currency,
    supplier_contacts,
    xero_documents,
    xero_reference,
)
from integrations.services import master_data_contacts as names_
from integrations.services import procure_to_pay as p2p
from integrations.services.xero_documents import parse_date

XERO_BATCH = 50
PO_TOPIC = "sage100.purchase_order"
BILL_TOPIC = "sage100.ap_invoice"
INVOICE_UPDATE = "xero.invoice.update"
# Cross-reference kinds (Sage 100 connection → Xero connection unless said).
PURCHASE_ORDER, BILL, GL_ACCOUNT, TAX, PO_STATUS, ITEM = (
    "purchase_order", "ap_invoice", "gl_account", "tax", "po_status", "item",
)  # fmt: skip
PAYMENT = "ap_payment"  # Xero connection → Sage 100 connection
# A write whose answer was lost is looked for among documents Xero changed
# since this long before it was sent (clocks differ).
SENT_SLACK = timedelta(minutes=2)


# -- what both Sage 100 → Xero flows share ----------------------------------------


class _SageToXero(Flow):
    """A change-feed event of one Sage table → the Xero document, in batches."""

    source, target = System.SAGE100, System.XERO
    batch_size = XERO_BATCH
    rereads_source = True
    table = ""
    what = ""  # "purchase order", in sentences

    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        if not isinstance(body, dict) or not isinstance(body.get("key"), dict):
            raise ValidationFailed("A change event needs a key object.", field="key")
        if body.get("change") == "removed":
            # Purged or deleted in Sage: Xero keeps its document as it is.
            return []
        return [
            RecordSpec(
                source_object_type=self.table,
                source_id=changes.key_text(self.table, self._key(body["key"])),
                payload=body,
            )
        ]

    def _key(self, key: dict) -> dict[str, str]:
        raise NotImplementedError

    def payload_schema(self, config) -> dict | None:
        columns = changes.key_columns(self.table)
        text = {"type": "string", "minLength": 1}
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"Sage 100 {self.what} change",
            "type": "object",
            "required": ["key"],
            "properties": {
                "key": {
                    "type": "object",
                    "title": f"The {self.what} in Sage 100",
                    "required": list(columns),
                    "properties": {column: text for column in columns},
                },
            },
        }

    def transform(self, run: Run, raw: Any) -> dict:
        if not isinstance(raw, dict) or not isinstance(raw.get("key"), dict):
            raise ValidationFailed("The record needs a key object.", field="key")
        return {"key": self._key(raw["key"])}

    def search_terms(self, run: Run, document: Any) -> list[str]:
        key = (document or {}).get("key") or {}
        terms = [str(value) for value in key.values() if value]
        if key.get("VendorNo"):
            terms.append(p2p.vendor_key(key["APDivisionNo"], key["VendorNo"]))
        row = (run.payload or {}).get("row") or {}
        for column in ("VendorNo", "PurchaseOrderNo", "InvoiceNo"):
            if row.get(column):
                terms.append(str(row[column]))
        return terms


class _Batch:
    """One batch's shared look-ups: Xero's reference lists, the supplier
    contacts, the flow's options, each read once."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.config = run.flow_config
        self.xero = run.target
        self.reader = run.source.reader
        self.sage_id = self.config.source_connection_id
        self.xero_id = self.config.target_connection_id
        self._contacts: dict[str, str | SyncError] = {}
        self._answers: dict[tuple, Any] = {}

    def option(self, name: str, default: Any) -> Any:
        return self.run.option(name, default)

    def _once(self, key: tuple, work) -> Any:
        """A check's answer (or refusal) for the whole batch: fifty bills with
        one unknown account cost one fresh look at Xero's list, not fifty."""
        if key not in self._answers:
            try:
                self._answers[key] = work()
            except SyncError as exc:
                self._answers[key] = exc
        answer = self._answers[key]
        if isinstance(answer, SyncError):
            raise answer
        return answer

    # -- Xero's lists ------------------------------------------------------------
    def find(self, what: str, match) -> dict | None:
        return xero_reference.find(
            self.config.target_connection, self.xero, what, match
        )

    def account(self, code: str, where: str) -> str:
        return self._once(("account", code, where), lambda: self._account(code, where))

    def tax_type(self, tax_type: str, where: str) -> str:
        return self._once(
            ("tax_type", tax_type, where), lambda: self._tax_type(tax_type, where)
        )

    def currency(self) -> str:
        return self._once(("currency",), self._currency)

    def _account(self, code: str, where: str) -> str:
        found = self.find("accounts", lambda a: str(a.get("Code")) == code)
        if found is None or found.get("Status") not in (None, "ACTIVE"):
            raise ReferenceMissing(
                f"Xero has no active account with code {code}: add a GL account "
                "cross-reference (Sage 100 account → Xero account code) or "
                f"correct the flow's {where.removeprefix('options.')} option, then "
                "resubmit.",
                field=where,
            )
        return code

    def _tax_type(self, tax_type: str, where: str) -> str:
        found = self.find("tax_rates", lambda t: t.get("TaxType") == tax_type)
        if (
            found is None
            or found.get("Status") not in (None, "ACTIVE")
            or found.get("CanApplyToExpenses") is False
        ):
            raise ReferenceMissing(
                f"Xero has no active purchases tax rate {tax_type}: add a tax "
                "cross-reference (Sage 100 vendor → Xero TaxType) or correct the "
                "flow's tax_type option, then resubmit.",
                field=where,
            )
        return tax_type

    def _currency(self) -> str:
        code = currency.currency_code(
            self.option("currency", "USD"), "options.currency"
        )
        if self.find("currencies", lambda c: c.get("Code") == code) is None:
            raise ReferenceMissing(
                f"Xero's organisation does not use the currency {code}: add it in "
                "Xero (Settings → Currencies) or correct the flow's currency option.",
                field="options.currency",
            )
        return code

    def vendor_tax_type(self, vendor: str) -> str:
        mapped = cross_references.lookup(TAX, self.sage_id, self.xero_id, vendor)
        if mapped:
            return self.tax_type(mapped, "VendorNo")
        return self.tax_type(str(self.option("tax_type", "NONE")), "options.tax_type")

    # -- the supplier contacts -----------------------------------------------
    def contacts(self, vendors: list[str]) -> None:
        """The batch's supplier contacts, in a few calls (supplier_contacts)."""
        wanted = [v for v in set(vendors) if v not in self._contacts]
        if wanted:
            pair = supplier_contacts.Pair(self.sage_id, self.xero_id)
            self._contacts.update(
                supplier_contacts.resolve(
                    pair,
                    self.xero,
                    self.reader,
                    wanted,
                    connection=self.config.target_connection,
                    name_clash=names_.name_clash_option(
                        {"name_clash": self.option("name_clash", "")}
                    ),
                )
            )

    def contact(self, vendor: str) -> str:
        found = self._contacts[vendor]
        if isinstance(found, SyncError):
            raise found
        return found


def _group(runs: list[Run]) -> dict[str, list[int]]:
    """Record indexes by Sage key: two changes of one document in a batch are
    written once (both read Sage's current state anyway)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, run in enumerate(runs):
        groups[run.record.source_id].append(index)
    return groups


def _mark_sending(runs: list[Run]) -> None:
    """Remember that a write is under way: a later attempt of a record that
    never learnt the outcome reads Xero before writing again."""
    now = timezone.now().isoformat()
    for run in runs:
        run.state.setdefault("sending", now)
        run.save_state(run.state)


def _send(
    save: Callable[..., list], prefix: str, runs: list[Run], documents: list[dict]
) -> list:
    """One write of a batch's documents, the runs marked as sending first, under
    the batch's Idempotency-Key."""
    _mark_sending(runs)
    return save(
        documents, idempotency_key=xero_documents.batch_key(prefix, runs, documents)
    )


def _sent_since(runs: list[Run]) -> datetime | None:
    marks = [run.state.get("sending") for run in runs if run.state.get("sending")]
    if not marks:
        return None
    earliest = min(datetime.fromisoformat(mark) for mark in marks)
    return earliest.astimezone(UTC) - SENT_SLACK


def _done(run: Run, result: dict | SyncError) -> dict | SyncError:
    run.state.pop("sending", None)
    return result


# -- purchase orders ----------------------------------------------------------------


@register
class Sage100PurchaseOrdersToXero(_SageToXero):
    name = "sage100_purchase_orders_to_xero"
    title = "Sage 100 purchase orders → Xero purchase orders (procure-to-pay)"
    topics = frozenset({PO_TOPIC})
    table, what = p2p.PO_TABLE, "purchase order"

    def _key(self, key: dict) -> dict[str, str]:
        return {"PurchaseOrderNo": keys.purchase_order_no(key.get("PurchaseOrderNo"))}

    def load_batch(self, runs: list[Run], documents: list[dict]) -> list:
        batch = _Batch(runs[0])
        results: list[dict | SyncError | None] = [None] * len(runs)
        groups = _group(runs)
        headers: dict[str, dict] = {}
        for number, indexes in groups.items():
            header = batch.reader.purchase_order(number)
            if header is None:
                for i in indexes:
                    results[i] = {"skipped": f"PO {number} is no longer in Sage 100."}
            else:
                headers[number] = header
        batch.contacts(
            [p2p.vendor_key(h["APDivisionNo"], h["VendorNo"]) for h in headers.values()]
        )
        planned: dict[str, dict] = {}
        for number, header in headers.items():
            try:
                planned[number] = self._plan(batch, runs[groups[number][0]], header)
            except SyncError as exc:
                for i in groups[number]:
                    results[i] = exc
        self._found_after_lost_answer(batch, runs, groups, planned)
        self._write(batch, runs, groups, planned, results)
        return [
            _done(run, result if result is not None else {"skipped": "nothing to do"})
            for run, result in zip(runs, results, strict=True)
        ]

    def _plan(self, batch: _Batch, run: Run, header: dict) -> dict:
        number = header["PurchaseOrderNo"]
        vendor = p2p.vendor_key(header["APDivisionNo"], header["VendorNo"])
        code = str(header.get("OrderStatus") or "")
        status = p2p.purchase_order_status(
            code, cross_references.lookup(PO_STATUS, batch.sage_id, batch.xero_id, code)
        )
        existing = run.xref(PURCHASE_ORDER, number)
        plan = {"number": number, "vendor": vendor, "status": status, "id": existing}
        if existing and status in ("BILLED", "DELETED"):
            # Closing: only the status moves; Xero keeps the lines it has.
            plan["document"] = {"PurchaseOrderID": existing, "Status": status}
            return plan
        if not existing and status == "DELETED":
            plan["skip"] = f"PO {number} was cancelled in Sage 100 before Xero had it."
            return plan
        account = batch.account(
            str(batch.option("purchases_account_code", "300")),
            "options.purchases_account_code",
        )
        freight = batch.account(
            str(batch.option("freight_account_code", account)),
            "options.freight_account_code",
        )
        lines = p2p.purchase_order_lines(
            header,
            account_code=account,
            tax_type=batch.vendor_tax_type(vendor),
            item_codes=self._item_codes(batch, header),
            freight_account_code=freight,
        )
        creatable = existing or status in p2p.PO_CREATE_STATUSES
        document = p2p.purchase_order(
            header,
            contact_id=batch.contact(vendor),
            status=status if creatable else "AUTHORISED",
            lines=lines,
            currency=batch.currency(),
        )
        if existing:
            document["PurchaseOrderID"] = existing
        elif status not in p2p.PO_CREATE_STATUSES:
            plan["then"] = status  # BILLED once it exists
        plan["document"] = document
        return plan

    def _item_codes(self, batch: _Batch, header: dict) -> dict[str, str]:
        """Sage ItemCode → the Xero Item Code, for items Xero has (item
        cross-references first, else the same code)."""
        found = {}
        for line in header.get("lines") or []:
            code = str(line.get("ItemCode") or "").strip()
            if not code or code in found:
                continue
            xero_code = (
                cross_references.either_way(ITEM, batch.sage_id, batch.xero_id, code)
                or code
            )
            item = batch.find("items", lambda i, c=xero_code: i.get("Code") == c)
            found[code] = str(item["Code"]) if item else ""
        return found

    def _found_after_lost_answer(self, batch, runs, groups, planned) -> None:
        """POs an earlier attempt sent without hearing back: Xero's copy, if it
        made one, is updated rather than a second one created."""
        unsure = [
            number
            for number, plan in planned.items()
            if not plan["id"] and runs[groups[number][0]].state.get("sending")
        ]
        since = _sent_since([runs[groups[n][0]] for n in unsure])
        if since is None:
            return
        made = {
            str(po.get("PurchaseOrderNumber")): po
            for po in batch.xero.get_purchase_orders(modified_since=since)
            if po.get("Status") != "DELETED"
        }
        for number in unsure:
            if number in made and "document" in planned[number]:
                found = str(made[number]["PurchaseOrderID"])
                planned[number]["id"] = found
                planned[number]["document"]["PurchaseOrderID"] = found

    def _write(self, batch, runs, groups, planned, results) -> None:
        sending = []
        for number, plan in planned.items():
            if "skip" in plan:
                for i in groups[number]:
                    results[i] = {"skipped": plan["skip"]}
            else:
                sending.append(number)
        if not sending:
            return
        documents = [planned[number]["document"] for number in sending]
        firsts = [runs[groups[number][0]] for number in sending]
        answers = _send(batch.xero.save_purchase_orders, "po", firsts, documents)
        follow_up = []
        for number, answer in zip(sending, answers, strict=True):
            plan = planned[number]
            if not answer.ok:
                error = answer.error(kind="purchase order")
                for i in groups[number]:
                    results[i] = error
                continue
            saved = answer.document
            plan["id"] = str(saved.get("PurchaseOrderID") or plan["id"])
            plan["saved_status"] = saved.get("Status") or plan["document"].get("Status")
            if plan.get("then"):
                follow_up.append(number)
        if follow_up:
            self._follow_up(batch, runs, groups, planned, follow_up, results)
        for number in sending:
            if any(results[i] is not None for i in groups[number]):
                continue
            plan = planned[number]
            for i in groups[number]:
                runs[i].bind(PURCHASE_ORDER, number, plan["id"])
                results[i] = {
                    "purchase_order_id": plan["id"],
                    "purchase_order_number": number,
                    "status": plan["saved_status"],
                    "supplier": plan["vendor"],
                }

    def _follow_up(self, batch, runs, groups, planned, numbers, results) -> None:
        """A PO Sage has completed reaches Xero AUTHORISED, then BILLED."""
        documents = [
            {"PurchaseOrderID": planned[n]["id"], "Status": planned[n]["then"]}
            for n in numbers
        ]
        firsts = [runs[groups[n][0]] for n in numbers]
        answers = batch.xero.save_purchase_orders(
            documents,
            idempotency_key=xero_documents.batch_key("po-status", firsts, documents),
        )
        for number, answer in zip(numbers, answers, strict=True):
            if answer.ok:
                planned[number]["saved_status"] = planned[number]["then"]
                continue
            # The PO exists: remember it, and say why its status did not move.
            for i in groups[number]:
                cross_references.link(
                    PURCHASE_ORDER,
                    batch.sage_id,
                    batch.xero_id,
                    number,
                    planned[number]["id"],
                )
                results[i] = answer.error(
                    kind="purchase order", doing=f"marking it {planned[number]['then']}"
                )


# -- A/P invoices → bills -----------------------------------------------------------


@register
class Sage100ApInvoicesToXero(_SageToXero):
    name = "sage100_ap_invoices_to_xero"
    title = "Sage 100 A/P invoices → Xero bills (procure-to-pay)"
    topics = frozenset({BILL_TOPIC})
    table, what = p2p.INVOICE_TABLE, "A/P invoice"

    def _key(self, key: dict) -> dict[str, str]:
        return p2p.normalised_invoice_key(key)

    def load_batch(self, runs: list[Run], documents: list[dict]) -> list:
        batch = _Batch(runs[0])
        results: list[dict | SyncError | None] = [None] * len(runs)
        groups = _group(runs)
        rows: dict[str, dict] = {}
        for key, indexes in groups.items():
            parts = p2p.parse_invoice_key(key)
            row = batch.reader.ap_open_invoice(
                parts["APDivisionNo"], parts["VendorNo"], parts["InvoiceNo"]
            )
            if row is None:
                for i in indexes:
                    results[i] = {
                        "skipped": f"Invoice {parts['InvoiceNo']} of vendor "
                        f"{p2p.vendor_key(parts['APDivisionNo'], parts['VendorNo'])} "
                        "is no longer open in Sage 100."
                    }
            else:
                rows[key] = row
        batch.contacts(
            [p2p.vendor_key(r["APDivisionNo"], r["VendorNo"]) for r in rows.values()]
        )
        accounts = self._account_numbers(batch, rows.values())
        wanted: dict[str, dict] = {}
        for key, row in rows.items():
            try:
                wanted[key] = self._bill(batch, row, accounts)
            except SyncError as exc:
                for i in groups[key]:
                    results[i] = exc
        current = self._current(batch, runs, groups, wanted)
        plans = {key: self._decide(key, rows[key], wanted[key], current.get(key))
                 for key in wanted}  # fmt: skip
        self._write(batch, runs, groups, plans, results)
        return [
            _done(run, result if result is not None else {"skipped": "nothing to do"})
            for run, result in zip(runs, results, strict=True)
        ]

    # -- what the bill must say ----------------------------------------------
    def _account_numbers(self, batch: _Batch, rows) -> dict[str, str]:
        """GL_Account keys → printable account numbers, read once per batch."""
        wanted = {str(row.get("ExpenseAcctKey") or "") for row in rows} - {""}
        if not wanted:
            return {}
        return {
            str(account["AccountKey"]): str(account["Account"])
            for account in batch.reader.gl_accounts()
            if str(account["AccountKey"]) in wanted
        }

    def _bill(self, batch: _Batch, row: dict, accounts: dict[str, str]) -> dict:
        vendor = p2p.vendor_key(row["APDivisionNo"], row["VendorNo"])
        number = accounts.get(str(row.get("ExpenseAcctKey") or ""), "")
        mapped = cross_references.either_way(
            GL_ACCOUNT, batch.sage_id, batch.xero_id, number
        )
        if mapped:
            code = batch.account(mapped, "ExpenseAcctKey")
        else:
            code = batch.account(
                str(batch.option("purchases_account_code", "300")),
                "options.purchases_account_code",
            )
        return p2p.bill(
            row,
            contact_id=batch.contact(vendor),
            account_code=code,
            tax_type=batch.vendor_tax_type(vendor),
            currency=batch.currency(),
            status=str(batch.option("bill_status", "AUTHORISED")).upper(),
        )

    # -- what Xero has ---------------------------------------------------------
    def _current(self, batch: _Batch, runs, groups, wanted) -> dict[str, dict]:
        """Xero's bill for each invoice: by the cross-reference, else a live
        bill of the same supplier and number (read before create)."""
        linked = {key: runs[groups[key][0]].xref(BILL, key) for key in wanted}
        bound = {key: invoice_id for key, invoice_id in linked.items() if invoice_id}
        found: dict[str, dict] = {}
        if bound:
            by_id = {
                str(bill.get("InvoiceID")): bill
                for bill in batch.xero.get_invoices(ids=sorted(set(bound.values())))
            }
            for key, invoice_id in bound.items():
                if invoice_id in by_id:
                    found[key] = by_id[invoice_id]
        unbound = [key for key in wanted if key not in found]
        if unbound:
            bills = batch.xero.get_invoices(
                invoice_numbers=sorted({wanted[k]["InvoiceNumber"] for k in unbound}),
                contact_ids=sorted(
                    {wanted[k]["Contact"]["ContactID"] for k in unbound}
                ),
            )
            index = {
                (
                    str((bill.get("Contact") or {}).get("ContactID")),
                    str(bill.get("InvoiceNumber") or "").upper(),
                ): bill
                for bill in bills
                if bill.get("Type") == p2p.BILL and bill.get("Status") in p2p.LIVE
            }
            for key in unbound:
                document = wanted[key]
                match = index.get(
                    (document["Contact"]["ContactID"], document["InvoiceNumber"])
                )
                if match is not None:
                    found[key] = match
        return found

    def _decide(self, key: str, row: dict, wanted: dict, current: dict | None) -> dict:
        number = wanted["InvoiceNumber"]
        vendor = p2p.vendor_key(row["APDivisionNo"], row["VendorNo"])
        plan = {"key": key, "number": number, "vendor": vendor}
        if current is None:
            balance = p2p.money(row.get("Balance") or 0, "Balance")
            if balance <= 0:
                plan["skip"] = (
                    f"Invoice {number} of vendor {vendor} was paid in full in Sage "
                    "100 before it reached Xero; no bill was made."
                )
            else:
                plan["document"] = wanted
            return plan
        bill_id = str(current["InvoiceID"])
        plan["id"] = bill_id
        status = current.get("Status")
        if status not in p2p.LIVE:
            plan["error"] = ReferenceMissing(
                f"Xero's bill {number} for {vendor} is {status}, but Sage 100 still "
                f"has invoice {number} open. Void the invoice in Sage 100 too, or "
                "delete the ap_invoice cross-reference and resubmit to make a new "
                "bill.",
                field="InvoiceNo",
            )
            return plan
        differences = p2p.bill_changes(wanted, current)
        if not differences:
            plan["unchanged"] = status
            return plan
        paid = p2p.amount_paid(current)
        if status not in p2p.EDITABLE or paid > 0:
            plan["error"] = ValidationFailed(
                f"Invoice {number} of vendor {vendor} changed in Sage 100 "
                f"({'; '.join(differences)}), but Xero's bill is already "
                f"{'paid' if status == 'PAID' else 'part paid'} ({paid} paid), "
                "and Xero does not change a paid bill. Remove the payment in Xero "
                "and resubmit, or correct the invoice in Sage 100 to match.",
                field="InvoiceAmt",
            )
            return plan
        # Unpaid: the bill takes Sage's values, keeping its own status.
        plan["document"] = {
            **wanted,
            "InvoiceID": bill_id,
            "Status": status if status in p2p.EDITABLE else wanted["Status"],
        }
        plan["changed"] = differences
        return plan

    # -- the write -------------------------------------------------------------
    def _write(self, batch, runs, groups, plans, results) -> None:
        sending = []
        for key, plan in plans.items():
            if "error" in plan:
                self._each(groups[key], results, plan["error"])
            elif "skip" in plan:
                self._each(groups[key], results, {"skipped": plan["skip"]})
            elif "unchanged" in plan:
                for i in groups[key]:
                    runs[i].bind(BILL, key, plan["id"])
                self._each(
                    groups[key],
                    results,
                    self._ids(plan, plan["unchanged"], "Xero already has this bill"),
                )
            else:
                sending.append(key)
        if not sending:
            return
        documents = [plans[key]["document"] for key in sending]
        firsts = [runs[groups[key][0]] for key in sending]
        answers = _send(batch.xero.save_invoices, "bill", firsts, documents)
        for key, answer in zip(sending, answers, strict=True):
            plan = plans[key]
            if not answer.ok:
                doing = "updating it" if plan.get("id") else "creating it"
                self._each(groups[key], results, answer.error(kind="bill", doing=doing))
                continue
            saved = answer.document
            plan["id"] = str(saved.get("InvoiceID") or plan.get("id") or "")
            for i in groups[key]:
                runs[i].bind(BILL, key, plan["id"])
            note = (
                f"updated: {'; '.join(plan['changed'])}"
                if plan.get("changed")
                else "created"
            )
            self._each(groups[key], results, self._ids(plan, saved.get("Status"), note))

    @staticmethod
    def _each(indexes: list[int], results: list, value) -> None:
        for i in indexes:
            results[i] = value

    @staticmethod
    def _ids(plan: dict, status: Any, note: str) -> dict:
        return {
            "bill_id": plan["id"],
            "invoice_number": plan["number"],
            "supplier": plan["vendor"],
            "status": str(status or ""),
            "note": note,
        }


# -- Xero bill payments → Sage 100 --------------------------------------------------


@register
class XeroBillPaymentsToSage100(Flow):
    """A bill paid in Xero → the Sage 100 invoice's balance lowered, once.

    Two ways in, one effect: an invoice webhook (``xero.invoice.update``) for a
    bill this hub made, whose payments are then read; or a scheduled poll of
    ``/Payments`` for bill payments changed since the last one. Each payment
    is written as a Sage check numbered from its PaymentID (the agent finds it
    again), and remembered (``ap_payment`` cross-reference), so the same
    payment seen by both ways, or twice by one, lowers the balance once.
    """

    name = "xero_bill_payments_to_sage100"
    title = "Xero bill payments → Sage 100 A/P invoice balances (procure-to-pay)"
    source, target = System.XERO, System.SAGE100
    topics = frozenset({INVOICE_UPDATE})
    rereads_source = True

    # -- which events become records ----------------------------------------
    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        if not isinstance(body, dict) or not body.get("resourceId"):
            raise ValidationFailed(
                "A Xero event needs a resourceId.", field="resourceId"
            )
        return [
            RecordSpec(
                source_object_type="bill",
                source_id=str(body["resourceId"]),
                # Each update may bring a new payment.
                source_version=str(body.get("eventDateUtc") or ""),
                payload=body,
            )
        ]

    def poll(self, config, *, watermark: str) -> tuple[list[RecordSpec], str]:
        """Bill payments Xero changed since the watermark (If-Modified-Since):
        one call on a quiet day."""
        from integrations.engine import clients

        client = clients.build(config.source_connection)
        payments = client.get_payments(
            where=f'PaymentType=="{p2p.BILL_PAYMENT}"',
            modified_since=watermark or None,
        )
        specs, newest = [], _moment(watermark)
        for payment in payments:
            moment = _updated(payment)
            if moment is not None and (newest is None or moment > newest):
                newest = moment
            if payment.get("Status") == "DELETED" or not payment.get("PaymentID"):
                continue
            specs.append(
                RecordSpec(
                    source_object_type="payment",
                    source_id=str(payment["PaymentID"]),
                    payload=changes.json_safe(payment),
                )
            )
        mark = newest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if newest else ""
        return specs, mark or watermark

    def payload_schema(self, config) -> dict | None:
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Xero bill or payment",
            "type": "object",
            "anyOf": [{"required": ["resourceId"]}, {"required": ["PaymentID"]}],
            "properties": {
                "resourceId": {"type": "string", "title": "Xero InvoiceID"},
                "PaymentID": {"type": "string", "title": "Xero PaymentID"},
                "Amount": {"type": ["number", "string"], "title": "Amount"},
                "Date": {"type": "string", "title": "Payment date"},
                "Reference": {"type": "string", "title": "Payment reference"},
            },
        }

    # -- which bills are ours ------------------------------------------------
    def _sage_invoice(self, run: Run, invoice_id: str) -> str | None:
        """The Sage invoice key (``01|ACME|INV-1``) of a bill the bills flow made."""
        return cross_references.either_way(
            BILL,
            run.flow_config.source_connection_id,
            run.flow_config.target_connection_id,
            invoice_id,
        )

    def is_up_to_date(self, run: Run) -> bool:
        # An invoice event about an invoice this hub did not bill from Sage 100
        # (a sales invoice, a bill keyed in Xero) is none of this flow's work.
        return run.record.source_object_type == "bill" and not self._sage_invoice(
            run, run.record.source_id
        )

    # -- extract: the payments, as Xero has them now ------------------------
    def extract(self, run: Run) -> dict:
        if run.record.source_object_type == "payment":
            return {"payments": [dict(run.payload)]}
        found = run.source.get_invoices(ids=[run.record.source_id])
        if not found:
            raise ReferenceMissing(
                f"Xero has no invoice {run.record.source_id} (deleted?).",
                field="resourceId",
            )
        bill = found[0]
        payments = [
            {
                **payment,
                "Invoice": {
                    "InvoiceID": bill.get("InvoiceID"),
                    "InvoiceNumber": bill.get("InvoiceNumber"),
                    "Type": bill.get("Type"),
                    "Contact": bill.get("Contact") or {},
                    "CurrencyCode": bill.get("CurrencyCode"),
                },
            }
            for payment in bill.get("Payments") or []
            if payment.get("Status") != "DELETED"
        ]
        return {"bill": bill, "payments": payments}

    def transform(self, run: Run, raw: Any) -> dict:
        payments = []
        for index, payment in enumerate(raw.get("payments") or []):
            invoice = payment.get("Invoice") or {}
            if not payment.get("PaymentID"):
                raise ValidationFailed(
                    "A payment needs its PaymentID.", field=f"payments.{index}"
                )
            payments.append(
                {
                    "payment_id": str(payment["PaymentID"]),
                    "amount": str(payment.get("Amount") or ""),
                    "date": _iso(payment.get("Date")),
                    "reference": str(payment.get("Reference") or ""),
                    "payment_type": str(payment.get("PaymentType") or ""),
                    "invoice_id": str(invoice.get("InvoiceID") or ""),
                    "invoice_number": str(invoice.get("InvoiceNumber") or ""),
                    "invoice_type": str(invoice.get("Type") or ""),
                    "contact_id": str(
                        (invoice.get("Contact") or {}).get("ContactID") or ""
                    ),
                    "currency": str(invoice.get("CurrencyCode") or ""),
                }
            )
        return {"payments": payments}

    def search_terms(self, run: Run, document: Any) -> list[str]:
        terms = []
        for payment in (document or {}).get("payments") or []:
            terms += [
                payment["payment_id"],
                payment["invoice_id"],
                payment["invoice_number"],
                payment["reference"],
            ]
        return [term for term in terms if term]

    def validate(self, run: Run, document: dict) -> None:
        for index, payment in enumerate(document["payments"]):
            if payment["invoice_type"] and payment["invoice_type"] != p2p.BILL:
                raise ValidationFailed(
                    f"Xero payment {payment['payment_id']} pays a "
                    f"{payment['invoice_type']} invoice, not a bill.",
                    field=f"payments.{index}.Invoice.Type",
                )

    # -- load: each payment once ---------------------------------------------
    def load(self, run: Run, document: dict) -> dict:
        recorded = [self._record(run, payment) for payment in document["payments"]]
        if not recorded:
            return {"skipped": "the bill has no payments"}
        if len(recorded) == 1:
            return recorded[0]
        return {
            "payments": recorded,
            "check_nos": ", ".join(r["check_no"] for r in recorded),
        }

    def _record(self, run: Run, payment: dict) -> dict:
        config = run.flow_config
        xero_id, sage_id = config.source_connection_id, config.target_connection_id
        done = cross_references.lookup(PAYMENT, xero_id, sage_id, payment["payment_id"])
        if done:
            return {"payment_id": payment["payment_id"], "already_recorded": done,
                    "check_no": done.rsplit("|", 1)[-1]}  # fmt: skip
        key = self._invoice_key(run, payment)
        invoice = p2p.parse_invoice_key(key)
        self._check_currency(run, payment, invoice)
        raw = {
            "PaymentID": payment["payment_id"],
            "Amount": payment["amount"],
            "Date": payment["date"],
        }
        values = p2p.payment_values(
            raw,
            invoice,
            prefix=str(run.option("check_no_prefix", "X")),
            bank_code=str(run.option("bank_code", "")),
        )
        digest = hashlib.sha256(
            json.dumps(values, sort_keys=True).encode()
        ).hexdigest()[:16]
        try:
            answer = run.target.agent.record_ap_payment(
                values,
                idempotency_key=f"lb-xero-payment-{payment['payment_id']}-{digest}",
                reference={"column": "CheckNo", "value": values["CheckNo"]},
            )
        except ValidationFailed as exc:
            if exc.field.rsplit(".", 1)[-1] != "PaymentAmount":
                raise
            raise self._overpaid(run, payment, invoice, exc) from exc
        record = answer.get("record") or {}
        cross_references.link(
            PAYMENT,
            xero_id,
            sage_id,
            payment["payment_id"],
            f"{key}|{values['CheckNo']}",
            note="Procure-to-pay: Xero bill payment recorded in Sage 100",
        )
        return {
            "payment_id": payment["payment_id"],
            "check_no": values["CheckNo"],
            "sage_invoice": key,
            "invoice_number": invoice["InvoiceNo"],
            "amount": values["PaymentAmount"],
            "reference": payment["reference"],
            "balance": str(record.get("Balance", "")),
            "replayed": bool(answer.get("replayed")) or answer.get("created") is False,
        }

    def _invoice_key(self, run: Run, payment: dict) -> str:
        """Which Sage invoice a payment pays: the bill's cross-reference, else
        the supplier's vendor and the bill's number, if Sage has that invoice."""
        found = self._sage_invoice(run, payment["invoice_id"])
        if found:
            return found
        config = run.flow_config
        vendor = supplier_vendor(
            config.target_connection_id,
            config.source_connection_id,
            payment["contact_id"],
        )
        if vendor and payment["invoice_number"]:
            division, _, number = vendor.partition("-")
            try:
                row = run.target.reader.ap_open_invoice(
                    division, number, payment["invoice_number"]
                )
            except ValidationFailed:
                row = None  # a Xero number Sage could not hold
            if row is not None:
                key = p2p.invoice_key(row)
                cross_references.link(
                    BILL,
                    config.target_connection_id,
                    config.source_connection_id,
                    key,
                    payment["invoice_id"],
                    note="Procure-to-pay: bill found by supplier and number",
                )
                return key
        raise ReferenceMissing(
            f"{p2p.payment_words(_raw(payment), payment['invoice_number'])} pays a "
            "bill that is not a Sage 100 A/P invoice this hub knows "
            + (f"(supplier {vendor}). " if vendor else "(its supplier is not linked "
               "to a Sage 100 vendor). ")
            + "Enter the invoice in Sage 100 (or add an ap_invoice cross-reference "
            "from the Sage invoice to the Xero InvoiceID) and resubmit; if the bill "
            "is kept in Xero only, ignore this record.",
            field="Invoice.InvoiceID",
        )  # fmt: skip

    def _check_currency(self, run: Run, payment: dict, invoice: dict) -> None:
        sage = currency.currency_code(
            run.option("sage_currency", "USD"), "options.sage_currency"
        )
        if payment["currency"] and payment["currency"] != sage:
            raise ValidationFailed(
                f"{p2p.payment_words(_raw(payment), payment['invoice_number'])} is "
                f"in {payment['currency']}, but Sage 100 keeps invoice "
                f"{invoice['InvoiceNo']} in {sage}: record it in Sage 100 by hand.",
                field="Invoice.CurrencyCode",
            )

    def _overpaid(self, run: Run, payment: dict, invoice: dict, exc) -> SyncError:
        row = run.target.reader.ap_open_invoice(
            invoice["APDivisionNo"], invoice["VendorNo"], invoice["InvoiceNo"]
        )
        balance = row.get("Balance") if row else "unknown"
        vendor = p2p.vendor_key(invoice["APDivisionNo"], invoice["VendorNo"])
        return ValidationFailed(
            f"{p2p.payment_words(_raw(payment), payment['invoice_number'])} is more "
            f"than Sage 100 still shows owing on invoice {invoice['InvoiceNo']} of "
            f"vendor {vendor} (balance {balance}). Was part of it paid in Sage 100 "
            "already? Correct the payment in Xero or the invoice in Sage 100, then "
            "resubmit; nothing was recorded.",
            field="Amount",
            detail=exc.message,
        )


def supplier_vendor(sage_id: int, xero_id: int, contact_id: str) -> str | None:
    """The Sage vendor (``01-ACME``) a Xero supplier contact is, by the
    vendor cross-reference (Sage → Xero), read backwards."""
    if not contact_id:
        return None
    return (
        CrossReference.objects.filter(
            kind=supplier_contacts.KIND,
            source_connection_id=sage_id,
            target_connection_id=xero_id,
            target_value=contact_id,
        )
        .order_by("id")
        .values_list("source_value", flat=True)
        .first()
    )


def _raw(payment: dict) -> dict:
    return {
        "Amount": payment["amount"],
        "Date": payment["date"],
        "Reference": payment["reference"],
    }


def _iso(value: Any) -> str:
    found = parse_date(value)
    return found.isoformat() if found else ""


def _updated(payment: dict) -> datetime | None:
    value = payment.get("UpdatedDateUTC")
    if value in (None, ""):
        return None
    text = str(value)
    if text.startswith("/Date("):
        millis = int(text[6:].split(")")[0].split("+")[0].split("-")[0] or 0)
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moment(watermark: str) -> datetime | None:
    if not watermark:
        return None
    try:
        moment = datetime.fromisoformat(watermark)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
