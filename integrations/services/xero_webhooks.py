"""Xero webhook deliveries: their signature, their contract, their events' ids.

Xero signs the raw body with the app's webhook key (``x-xero-signature`` =
base64 HMAC-SHA256) and gives its events no id, so an event is known by a hash
of its canonical JSON. The payload's shape is Xero's own contract
(``contracts/xero/xero-webhooks.yaml``), read once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from integrations.sandbox.contracts import contract

SIGNATURE_HEADER = "x-xero-signature"
CONTRACT = "xero/xero-webhooks.yaml"
_CONTRACT_URI = "urn:ledgerbridge:xero-webhooks"
ENVELOPE_SCHEMA = "#/components/schemas/WebhookEvent"
# A credit note event must also carry data {Type, Status}: the part of
# CreditNoteWebhookEvent that describes one event.
CREDIT_NOTE_EVENT_SCHEMA = (
    "#/components/schemas/CreditNoteWebhookEvent/allOf/1/properties/events/items"
)


def signature(key: str, body: bytes) -> str:
    """The ``x-xero-signature`` Xero sends for ``body`` under ``key``."""
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_valid(key: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the body's signature, compared in constant time."""
    if not key or not header:
        return False
    return hmac.compare_digest(signature(key, body).encode(), header.encode())


def canonical(event: dict) -> bytes:
    """One spelling of an event's JSON, so equal events hash equally."""
    return json.dumps(
        event, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def event_id(event: dict) -> str:
    """Xero events carry no id: this stands in for one (stable across retries)."""
    return "xero:" + hashlib.sha256(canonical(event)).hexdigest()


def topic_for(event: dict) -> str:
    """``xero.<category>.<type>``, e.g. ``xero.invoice.update``."""
    return f"xero.{event['eventCategory'].lower()}.{event['eventType'].lower()}"


@functools.cache
def _validator(pointer: str) -> Draft202012Validator:
    spec = yaml.safe_load(contract(CONTRACT).read_text())
    registry = Registry().with_resource(
        _CONTRACT_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    # Only uuid is checked as a format: Xero's own examples give eventDateUtc
    # without a zone ("2025-12-02T00:44:09.923"), which RFC 3339 refuses.
    return Draft202012Validator(
        {"$ref": _CONTRACT_URI + pointer},
        registry=registry,
        format_checker=FormatChecker(formats=["uuid"]),
    )


def contract_problem(payload: object) -> str | None:
    """The first way ``payload`` breaks Xero's WebhookEvent contract, in words
    that name the field, or None when it keeps it."""
    error = best_match(_validator(ENVELOPE_SCHEMA).iter_errors(payload))
    if error is None:
        for index, event in enumerate(payload["events"]):
            if event.get("eventCategory") == "CREDITNOTE":
                error = best_match(
                    _validator(CREDIT_NOTE_EVENT_SCHEMA).iter_errors(event)
                )
                if error is not None:
                    where = f"events/{index}" + "".join(
                        f"/{part}" for part in error.absolute_path
                    )
                    return f"{where}: {error.message}"
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "body"
    return f"{where}: {error.message}"


def is_intent_to_receive(payload: object) -> bool:
    """A validation request: no events (Xero sends sequences 0 with these,
    below the contract's minimum of 1, so they are recognised before it)."""
    return isinstance(payload, dict) and payload.get("events") == []
