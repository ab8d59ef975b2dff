"""The inbox: store what arrived, then make records of it, in one transaction.

A provider that delivers the same event twice (they all do) gets the first
delivery's answer, and nothing new is created.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from integrations.engine import dispatch
from integrations.engine.errors import SyncError
from integrations.flows import registry
from integrations.flows.base import RecordSpec, idempotency_key
from integrations.models import (
    Connection,
    FlowConfig,
    InboundEvent,
    RecordStatus,
    SyncRecord,
    Trigger,
)
from integrations.services import records as record_actions

_UNPARSED: Any = object()


@dataclass
class Accepted:
    event: InboundEvent
    duplicate: bool
    records: list[SyncRecord] = field(default_factory=list)
    error: str = ""
    error_field: str = ""


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def accept(
    connection: Connection,
    *,
    body: bytes,
    headers: dict,
    provider_event_id: str | None = None,
    topic: str = "",
    signature_verified: bool,
    remote_addr: str | None = None,
    listeners: list[FlowConfig] | None = None,
    parsed: Any = _UNPARSED,
) -> Accepted:
    """Store the raw event and create (or find) its SyncRecords atomically.

    ``listeners``: the connection's event-triggered flows, when the caller
    publishes many events in a row (a change feed) and has read them once.
    ``parsed``: what the flows read, when the raw body is not JSON (a SOAP
    notification, an Avro event): the raw bytes are still what is stored.
    """
    with transaction.atomic():
        event, first = _store(
            connection,
            body=body,
            headers=headers,
            provider_event_id=provider_event_id,
            topic=topic,
            signature_verified=signature_verified,
            remote_addr=remote_addr,
        )
        if not first:
            return _duplicate(event)
        if parsed is _UNPARSED:
            try:
                parsed = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                return _refuse(event, f"The body is not valid JSON: {exc}", "body")
        try:
            records = _records_for(event, parsed, topic, provider_event_id, listeners)
        except SyncError as exc:
            return _refuse(event, exc.message, exc.field)
        return Accepted(event=event, duplicate=False, records=records)


def store_refused(
    connection: Connection,
    *,
    body: bytes,
    headers: dict,
    message: str,
    field_name: str,
    topic: str = "",
    provider_event_id: str | None = None,
    remote_addr: str | None = None,
) -> InboundEvent:
    """Keep a signed delivery whose content we cannot use, with the reason.

    Nothing is lost: an admin sees what was sent and why it made no record.
    """
    event, first = _store(
        connection,
        body=body,
        headers=headers,
        provider_event_id=provider_event_id,
        topic=topic,
        signature_verified=True,
        remote_addr=remote_addr,
    )
    if not first:
        return _duplicate(event).event
    _refuse(event, message, field_name)
    return event


def store_raw(
    connection: Connection,
    *,
    body: bytes,
    headers: dict,
    provider_event_id: str,
    topic: str = "",
    signature_verified: bool,
    remote_addr: str | None = None,
) -> InboundEvent:
    """Keep a delivery exactly as received when its parts are accepted one by one
    (a SOAP message of many notifications): no records are made from it.

    A repeat (same ``provider_event_id``) counts a delivery on the first copy.
    """
    event, first = _store(
        connection,
        body=body,
        headers=headers,
        provider_event_id=provider_event_id,
        topic=topic,
        signature_verified=signature_verified,
        remote_addr=remote_addr,
    )
    return event if first else _duplicate(event).event


def _store(connection: Connection, *, body: bytes, provider_event_id, **fields):
    """(the new event, True), or (the first copy of this delivery, False)."""
    digest = body_hash(body)
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                connection=connection,
                provider=connection.system,
                provider_event_id=provider_event_id or None,
                body_sha256=digest,
                body=body,
                **fields,
            )
            return event, True
    except IntegrityError:
        lookup = (
            {"provider_event_id": provider_event_id}
            if provider_event_id
            else {"provider_event_id__isnull": True, "body_sha256": digest}
        )
        return InboundEvent.objects.get(connection=connection, **lookup), False


def _duplicate(existing: InboundEvent) -> Accepted:
    """A repeat delivery: counted on the first copy, answered with its outcome."""
    InboundEvent.objects.filter(pk=existing.pk).update(deliveries=F("deliveries") + 1)
    return Accepted(
        event=existing,
        duplicate=True,
        records=list(existing.records.all()),
        error=existing.error,
    )


def _refuse(event: InboundEvent, message: str, field_name: str) -> Accepted:
    """Keep the event (it was signed correctly) but explain why nothing was made."""
    event.error = f"{field_name}: {message}" if field_name else message
    InboundEvent.objects.filter(pk=event.pk).update(error=event.error)
    return Accepted(event=event, duplicate=False, error=message, error_field=field_name)


def listeners_of(connection: Connection) -> list[FlowConfig]:
    """The flows that take this connection's events (webhooks, change feeds)."""
    return list(
        FlowConfig.objects.filter(source_connection=connection, trigger=Trigger.WEBHOOK)
    )


def _records_for(
    event, parsed, topic, provider_event_id, listeners=None
) -> list[SyncRecord]:
    # The event's connection is the source of every config here: share the row
    # rather than load (and decrypt) it again per config.
    configs = listeners_of(event.connection) if listeners is None else listeners
    # Publish/subscribe: one event, every flow that subscribes to its topic.
    subscribed = []
    for config in configs:
        config.source_connection = event.connection
        flow = registry.get(config.flow)
        if flow.accepts(config, topic):
            subscribed.append((config, flow))
    records, to_wake = [], []
    for config, flow in subscribed:
        for spec in flow.records_from_event(parsed, topic=topic):
            record, created = create_record(
                config,
                spec,
                event=event,
                event_id=provider_event_id or event.body_sha256,
            )
            records.append(record)
            if created and config.enabled:
                to_wake.append((record.pk, 1))
            elif (
                not created
                and flow.rereads_source
                and config.enabled
                and record.status == RecordStatus.NEEDS_ATTENTION
            ):
                record_actions.rerun_on_new_event(record)
    if not configs:
        event.error = "No flow takes events from this connection; the event is kept."
    elif not subscribed:
        event.error = (
            f"No flow subscribes to {topic or 'untitled'} events from this "
            "connection; the event is kept."
        )
    if event.error:
        InboundEvent.objects.filter(pk=event.pk).update(error=event.error)
    dispatch.enqueue_on_commit(to_wake)
    return records


def create_record(
    config: FlowConfig,
    spec: RecordSpec,
    *,
    event: InboundEvent | None = None,
    event_id: str | None = None,
) -> tuple[SyncRecord, bool]:
    """Get or create the record for ``spec``; safe under concurrent deliveries."""
    key = idempotency_key(config, spec, event_id=event_id)
    try:
        with transaction.atomic():
            record = SyncRecord.objects.create(
                flow_config=config,
                flow=config.flow,
                event=event,
                source_system=config.source_connection.system,
                source_object_type=spec.source_object_type,
                source_id=spec.source_id,
                source_version=spec.source_version,
                idempotency_key=key,
                payload=spec.payload,
            )
            return record, True
    except IntegrityError:
        return SyncRecord.objects.get(idempotency_key=key), False


def submit(config: FlowConfig, spec: RecordSpec, *, event_id: str | None = None):
    """Create a record outside any webhook (polls, manual runs) and wake a worker."""
    with transaction.atomic():
        record, created = create_record(config, spec, event_id=event_id)
        if created and config.enabled:
            dispatch.enqueue_on_commit([(record.pk, 1)])
    return record, created
