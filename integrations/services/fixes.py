"""What went wrong with a record, in plain words, and how a person fixes it.

The engine stores an error category, a field and the flow's message; this turns
them into one sentence naming the thing at fault ("Item WIDGET-9 does not exist
in Sage 100") with the fix and links that open the right admin form already
filled in (a cross-reference to add, a match decision to make, a connection to
sign in again, the payload to correct).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from integrations.connectors.salesforce import ids as salesforce_ids
from integrations.engine.errors import INTERNAL_FAULT
from integrations.models import (
    Connection,
    ConnectionStatus,
    CrossReference,
    SyncRecord,
    System,
)
from integrations.services.work_queue import Cause, cause_of

# The last part of an error's field path → the cross-reference kind it needs.
XREF_KIND_BY_FIELD = {
    "item": "item",
    "product_code": "item",
    "itemcode": "item",
    "customer": "customer",
    "customerno": "customer",
    "account": "customer",
    "external_id": "customer",
    "warehouse": "warehouse",
    "warehousecode": "warehouse",
    "currency": "currency",
    "terms": "terms",
    "tax": "tax",
    "status": "status",
}
KIND_WORDS = {"item": "item", "customer": "customer", "warehouse": "warehouse"}

SALESFORCE_OBJECTS = {
    "001": "Account",
    "003": "Contact",
    "006": "Opportunity",
    "801": "Order",
    "01t": "Product2",
}

PAYLOAD_EDITOR_ANCHOR = "#payload-editor"


@dataclass(frozen=True)
class Link:
    label: str
    url: str = ""  # empty: shown as text (e.g. a Sage 100 order number)
    permission: str = ""  # who may follow it; others do not see the link


@dataclass(frozen=True)
class Fix:
    cause: str
    cause_label: str
    problem: str  # the error in plain words
    field: str  # the field at fault, "" when none
    suggestion: str  # what to do, one sentence
    links: tuple[Link, ...] = field(default_factory=tuple)


def suggest(record: SyncRecord, *, user=None) -> Fix:
    """The fix for ``record``; with ``user``, only links that person may open."""
    cause = cause_of(record)
    build = {
        Cause.REFERENTIAL: _referential,
        Cause.DUPLICATE: _duplicate,
        Cause.AUTH: _auth,
        Cause.UNAVAILABLE: _unavailable,
        Cause.CONFLICT: _conflict,
    }.get(cause, _validation)
    suggestion, links = build(record)
    if user is not None:
        links = [
            link
            for link in links
            if not link.permission or user.has_perm(link.permission)
        ]
    return Fix(
        cause=cause,
        cause_label=Cause.LABELS.get(cause, "Error"),
        problem=record.error_message or "The last attempt failed without a message.",
        field=record.error_field,
        suggestion=suggestion,
        links=tuple(links),
    )


# -- per cause ---------------------------------------------------------------


def _validation(record: SyncRecord) -> tuple[str, list[Link]]:
    config = record.flow_config
    if record.error_field.startswith("options."):
        option = record.error_field.removeprefix("options.")
        return (
            f"The flow's option {option} is wrong: correct it on the flow, then "
            "resubmit.",
            [_flow_link(config)],
        )
    where = (
        f"{record.error_field} in the payload"
        if record.error_field
        else ("the payload")
    )
    links = [_payload_link(record)]
    if config.mappings.filter(enabled=True).exists():
        links.append(
            Link("Check the flow's field mappings", _change_url(config), _CHANGE_FLOW)
        )
    return f"Correct {where}, then resubmit.", links


def _referential(record: SyncRecord) -> tuple[str, list[Link]]:
    config = record.flow_config
    target = _system_name(config.target_connection)
    last = record.error_field.rsplit(".", 1)[-1].lower()
    if record.error_field.startswith("options."):
        return (
            f"Change the flow's {last} option to one that exists in {target}, "
            "then resubmit.",
            [_flow_link(config)],
        )
    if record.error_field == "record_ids":
        return (
            "The record is gone from the source system: ignore this record if it "
            "was deleted on purpose.",
            [*system_links(record)[:1]],
        )
    kind = XREF_KIND_BY_FIELD.get(last, "")
    value = _source_value(record, kind)
    if not kind or not value:
        return (
            f"Create the missing record in {target}, or add a cross-reference, "
            "then resubmit.",
            [_xref_list_link(), _payload_link(record)],
        )
    words = KIND_WORDS.get(kind, kind)
    existing = _xref(config, kind, value)
    if existing is not None:
        return (
            f"The {words} cross-reference for {value} points to "
            f"{existing.target_value}, which does not exist in {target}: correct "
            f"the cross-reference, or create {existing.target_value} in {target}.",
            [
                Link(
                    f"Correct the {words} cross-reference for {value}",
                    _change_url(existing),
                    "integrations.change_crossreference",
                )
            ],
        )
    return (
        f"{words.capitalize()} {value} does not exist in {target}: add a "
        f"cross-reference, or create the {words}.",
        [
            Link(
                f"Add the missing cross-reference for {words} {value}",
                _add_url(
                    "crossreference",
                    kind=kind,
                    source_connection=config.source_connection_id,
                    target_connection=config.target_connection_id,
                    source_value=value,
                ),
                "integrations.add_crossreference",
            ),
            _payload_link(record, f"Or correct the {words} in the payload"),
        ],
    )


def _duplicate(record: SyncRecord) -> tuple[str, list[Link]]:
    config = record.flow_config
    target = _system_name(config.target_connection)
    candidates = duplicate_candidates(record)
    source_value = _source_value(record, "customer") or record.source_id
    name = _lookup(record.transformed, "account.name") or source_value
    links = [
        Link(
            f"It is {candidate}",
            _add_url(
                "matchdecision",
                kind="customer",
                source_connection=config.source_connection_id,
                target_connection=config.target_connection_id,
                source_value=source_value,
                target_value=candidate,
                verdict="same",
            ),
            "integrations.add_matchdecision",
        )
        for candidate in candidates
    ]
    links.append(
        Link(
            "See Match decisions for it",
            reverse("admin:integrations_matchdecision_changelist")
            + "?"
            + urlencode({"q": source_value}),
            "integrations.view_matchdecision",
        )
    )
    listed = ", ".join(candidates) or "several customers"
    return (
        f"{name} looks like more than one {target} customer ({listed}): say which "
        "one it is under Match decisions (or that it is none of them), then "
        "resubmit.",
        links,
    )


def _auth(record: SyncRecord) -> tuple[str, list[Link]]:
    connection = _connection_at_fault(record, needs_reauth=True)
    return (
        f"The connection {connection.name} must be signed in again "
        "(re-authorised); this record continues on its own after that.",
        [
            Link(
                f"Open the connection {connection.name}",
                _change_url(connection),
                "integrations.view_connection",
            )
        ],
    )


def _unavailable(record: SyncRecord) -> tuple[str, list[Link]]:
    if INTERNAL_FAULT in (record.error_message or ""):
        # Our own bug: testing a healthy connection would not help anyone.
        return (
            "This is a fault in LedgerBridge itself, not in the data or the other "
            "system: tell your Integration admin (the record page's attempt "
            "timeline has the technical detail). Resubmit once it is fixed.",
            [],
        )
    connection = _connection_at_fault(record, needs_reauth=False)
    tries = f"{record.attempts} attempt{'s' if record.attempts != 1 else ''}"
    return (
        f"{_system_name(connection)} did not answer after {tries}: test the "
        f"connection {connection.name}, then resubmit once it answers.",
        [
            Link(
                f"Test the connection {connection.name}",
                _change_url(connection),
                "integrations.view_connection",
            )
        ],
    )


def _conflict(record: SyncRecord) -> tuple[str, list[Link]]:
    what = record.error_field or "the same data"
    return (
        f"Both systems changed {what}: put the value that should win in the "
        "payload, then resubmit.",
        [_payload_link(record)],
    )


# -- facts about the record ----------------------------------------------------


def duplicate_candidates(record: SyncRecord) -> list[str]:
    """The existing records the flow could not choose between: as the runner
    kept them, else as the flow listed them in its message
    ("01-ABF (92%: same name); 01-ABX (71%: …)")."""
    kept = (record.step_state or {}).get("candidates")
    if kept:
        return list(dict.fromkeys(str(c) for c in kept))
    found = re.findall(r"([\w-]+) \(\d+%", record.error_message or "")
    return list(dict.fromkeys(found))


def record_label(record: SyncRecord) -> str:
    """What a person calls this record: its order name or reference and its
    customer, from the transformed document or the payload."""
    documents = [record.transformed, record.effective_payload]
    name = _first(
        documents,
        "source.name",
        "name",
        "Name",
        "order_number",
        "reference",
        "InvoiceNumber",
        "SalesOrderNo",
    )
    customer = _first(
        documents,
        "account.name",
        "customer_name",
        "customer.name",
        "Contact.Name",
        "customer",
        "CustomerNo",
    )
    parts = [str(p) for p in (name, customer) if p and str(p) != record.source_id]
    return " · ".join(dict.fromkeys(parts))


def system_links(record: SyncRecord) -> list[Link]:
    """Where to see the record in its source and target systems, where that
    can be built: a Salesforce record page, a Sage 100 order number (text)."""
    config = record.flow_config
    links = []
    source = config.source_connection
    if source.system == System.SALESFORCE and salesforce_ids.is_id(record.source_id):
        url = _salesforce_url(source, record.source_object_type, record.source_id)
        if url:
            links.append(Link(f"Open {record.source_object_type} in Salesforce", url))
    target = config.target_connection
    for key, value in (record.target_ids or {}).items():
        if not isinstance(value, str | int) or value in ("", None):
            continue
        text = str(value)
        if target and target.system == System.SALESFORCE and salesforce_ids.is_id(text):
            sobject = SALESFORCE_OBJECTS.get(text[:3], "")
            url = _salesforce_url(target, sobject, text) if sobject else ""
            if url:
                links.append(Link(f"Open {sobject} {text} in Salesforce", url))
        elif target and target.system == System.SAGE100 and key == "sales_order_no":
            links.append(Link(f"Sage 100 sales order {text}"))
    return links


def _salesforce_url(connection: Connection, sobject: str, record_id: str) -> str:
    settings = connection.settings or {}
    base = str(settings.get("instance_url") or settings.get("login_url") or "")
    if not base.startswith("https://"):
        return ""
    return f"{base.rstrip('/')}/lightning/r/{sobject}/{record_id}/view"


def _source_value(record: SyncRecord, kind: str) -> str:
    """The source system's value the missing reference was looked up by."""
    path = record.error_field
    if kind == "customer" and path.startswith("account"):
        return str(_lookup(record.transformed, "account.id") or "")
    for document in (record.transformed, record.effective_payload):
        value = _lookup(document, path)
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    match = re.search(
        r"\b(?:item|customer|warehouse) (\S+) does not exist",
        (record.error_message or ""),
        re.IGNORECASE,
    )
    return match.group(1) if match else ""


def _lookup(document: Any, path: str) -> Any:
    """``lines.0.item`` in a nested dict/list document, or None."""
    value = document
    for part in path.split(".") if path else []:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _first(documents: list, *paths: str) -> Any:
    for path in paths:
        for document in documents:
            value = _lookup(document, path)
            if isinstance(value, str | int) and str(value).strip():
                return value
    return None


def _xref(config, kind: str, value: str) -> CrossReference | None:
    return CrossReference.objects.filter(
        kind=kind,
        source_connection_id=config.source_connection_id,
        target_connection_id=config.target_connection_id,
        source_value=value,
    ).first()


def _connection_at_fault(record: SyncRecord, *, needs_reauth: bool) -> Connection:
    config = record.flow_config
    both = [c for c in (config.target_connection, config.source_connection) if c]
    for connection in both:
        if needs_reauth and connection.status == ConnectionStatus.NEEDS_REAUTH:
            return connection
        if not needs_reauth and connection.last_check_ok is False:
            return connection
    return both[0]


def _system_name(connection: Connection | None) -> str:
    return connection.get_system_display() if connection else "the other system"


_CHANGE_FLOW = "integrations.change_flowconfig"


def _flow_link(config) -> Link:
    return Link(f"Open the flow {config.name}", _change_url(config), _CHANGE_FLOW)


def _payload_link(record: SyncRecord, label: str = "Correct the payload") -> Link:
    return Link(
        label,
        _change_url(record) + PAYLOAD_EDITOR_ANCHOR,
        "integrations.change_syncrecord",
    )


def _xref_list_link() -> Link:
    return Link(
        "Cross-references",
        reverse("admin:integrations_crossreference_changelist"),
        "integrations.view_crossreference",
    )


def _change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def _add_url(model: str, **initial) -> str:
    return reverse(f"admin:integrations_{model}_add") + "?" + urlencode(initial)
