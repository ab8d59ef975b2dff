"""The simulated org's event bus: what the Pub/Sub API serves.

It listens to the org's hooks, encodes each change as Avro the way Salesforce
does, keeps every topic's events in order with a replay id, forgets them after
the retention period (72 hours, like Salesforce) and wakes waiting
subscribers. Replay ids are opaque to clients; here they are an 8-byte
big-endian counter shared by all topics, so "after replay id N" is a point in
every topic's stream.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import fastavro

from integrations.sandbox.salesforce import avro_schemas
from integrations.sandbox.salesforce.events import ChangeEvent, PlatformEvent

ALL_CHANGES = "/data/ChangeEvents"
ORDER_EVENT_TOPIC = f"/event/{avro_schemas.ORDER_EVENT}"
CHANGE_TOPICS = {
    entity: f"/data/{entity}ChangeEvent" for entity in avro_schemas.CHANGE_EVENT_FIELDS
}
TOPICS = (*CHANGE_TOPICS.values(), ALL_CHANGES, ORDER_EVENT_TOPIC)
PUBLISHABLE = (ORDER_EVENT_TOPIC,)


def replay_bytes(number: int) -> bytes:
    return number.to_bytes(8, "big")


def replay_number(replay_id: bytes) -> int:
    if len(replay_id) != 8:
        raise ValueError("A replay id is 8 bytes.")
    return int.from_bytes(replay_id, "big")


class ReplayIdInvalid(Exception):
    """The replay id was never issued, or its events have expired."""


@dataclass(frozen=True)
class BusEvent:
    number: int
    event_id: str
    schema_id: str
    payload: bytes
    published_at: float

    @property
    def replay_id(self) -> bytes:
        return replay_bytes(self.number)


def encode(schema: dict, record: dict) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), record)
    return out.getvalue()


def decode(schema: dict, payload: bytes) -> dict:
    parsed = fastavro.parse_schema(schema)
    return fastavro.schemaless_reader(io.BytesIO(payload), parsed)


def _coerce(value, sf_type: str):
    """An org field value (JSON-ish) as the Avro type of its schema field."""
    if value is None:
        return None
    if sf_type == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    if sf_type == "datetime":
        if isinstance(value, (int, float)):
            return int(value)
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value
    if sf_type in ("double", "currency", "percent"):
        return float(value)
    if sf_type == "int":
        return int(value)
    if sf_type == "boolean":
        return bool(value)
    return str(value)


def change_record(change: ChangeEvent, types: dict[str, str]) -> dict:
    """The CDC event body for ``change``; ``types``: the captured fields' types."""
    nulled = [
        name
        for name in change.changed_fields
        if name in types and change.fields.get(name) is None
    ]
    record = {
        "ChangeEventHeader": {
            "entityName": change.entity,
            "recordIds": list(change.record_ids),
            "changeType": change.change_type,
            "changeOrigin": change.change_origin,
            "transactionKey": change.transaction_key,
            "sequenceNumber": 1,
            "commitTimestamp": change.commit_timestamp,
            "commitNumber": change.commit_number,
            "commitUser": change.commit_user,
            "nulledFields": nulled if change.change_type == "UPDATE" else [],
            "diffFields": [],
            "changedFields": list(change.changed_fields),
        }
    }
    for name, sf_type in types.items():
        record[name] = _coerce(change.fields.get(name), sf_type)
    return record


def platform_record(event: PlatformEvent) -> dict:
    created = dt.datetime.fromisoformat(event.created_date.replace("Z", "+00:00"))
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return {
        "CreatedDate": int(created.timestamp() * 1000),
        "CreatedById": event.created_by_id,
        "Order_Id__c": event.fields.get("Order_Id__c"),
        "Action__c": event.fields.get("Action__c"),
    }


def _fields_of(org) -> dict[str, tuple[tuple[str, str], ...]]:
    """The captured fields from the org's own metadata (custom fields included),
    or the standard ones when the org exposes no schema."""
    schema = getattr(org, "schema", None)
    found = {}
    for entity, standard in avro_schemas.CHANGE_EVENT_FIELDS.items():
        meta = schema.get(entity) if schema is not None else None
        found[entity] = (
            avro_schemas.captured_fields(meta.fields) if meta is not None else standard
        )
    return found


class EventBus:
    """Per-topic ordered, expiring event streams that subscribers can wait on."""

    def __init__(
        self,
        org=None,
        *,
        retention_seconds: float = 72 * 3600,
        clock: Callable[[], float] = time.time,
        entity_fields: dict[str, tuple[tuple[str, str], ...]] | None = None,
    ) -> None:
        self.retention_seconds = retention_seconds
        self.clock = clock
        self.condition = threading.Condition()
        self.closed = False
        self._last = 0
        self._streams: dict[str, deque[BusEvent]] = {t: deque() for t in TOPICS}
        # Highest replay number dropped per topic: resuming before it loses events.
        self._expired_through: dict[str, int] = dict.fromkeys(TOPICS, 0)
        # entity -> (name, Salesforce type) of its captured fields
        self.entity_fields = dict(entity_fields or _fields_of(org))
        self._schemas: dict[str, dict] = {}
        self.topic_schema: dict[str, str] = {}
        for entity, fields in self.entity_fields.items():
            schema = avro_schemas.change_event_schema(entity, fields)
            self._register(CHANGE_TOPICS[entity], schema)
        self._register(ORDER_EVENT_TOPIC, avro_schemas.order_event_schema())
        if org is not None:
            org.on_change(self.record_change)
            org.on_platform_event(self.record_platform_event)

    def _register(self, topic: str, schema: dict) -> None:
        schema_id = avro_schemas.schema_id(schema)
        self._schemas[schema_id] = schema
        self.topic_schema[topic] = schema_id

    # --- publishing ----------------------------------------------------------

    def schema(self, schema_id: str) -> dict | None:
        return self._schemas.get(schema_id)

    def record_change(self, change: ChangeEvent) -> None:
        """The org's ``on_change`` hook; entities without CDC enabled are ignored."""
        topic = CHANGE_TOPICS.get(change.entity)
        if topic is None:
            return
        schema_id = self.topic_schema[topic]
        fields = dict(self.entity_fields[change.entity])
        payload = encode(self._schemas[schema_id], change_record(change, fields))
        self._append((topic, ALL_CHANGES), str(uuid.uuid4()), schema_id, payload)

    def record_platform_event(self, event: PlatformEvent) -> None:
        if event.name != avro_schemas.ORDER_EVENT:
            return
        schema_id = self.topic_schema[ORDER_EVENT_TOPIC]
        payload = encode(self._schemas[schema_id], platform_record(event))
        self._append((ORDER_EVENT_TOPIC,), event.event_uuid, schema_id, payload)

    def publish(self, topic: str, event_id: str, schema_id: str, payload: bytes):
        """Publish an already-encoded event (Pub/Sub ``Publish``); checks it decodes.

        Raises ValueError naming what is wrong; returns the stored BusEvent.
        """
        if topic not in PUBLISHABLE:
            raise ValueError(f"Publishing to {topic} is not allowed.")
        if schema_id != self.topic_schema[topic]:
            raise ValueError(f"The schema id {schema_id!r} is not {topic}'s schema.")
        try:
            decode(self._schemas[schema_id], payload)
        except Exception as exc:  # any decoding failure is the client's
            raise ValueError(f"The payload does not match the schema: {exc}") from exc
        return self._append((topic,), event_id or str(uuid.uuid4()), schema_id, payload)

    def append_unchecked(
        self, topic: str, payload: bytes, *, schema_id: str = "", event_id: str = ""
    ) -> BusEvent:
        """Put an event on ``topic`` without checking that it decodes.

        Salesforce's bus should never hold such an event, but a subscriber must
        survive one: this is how tests and the demo make it happen.
        """
        if topic not in self._streams:
            raise ValueError(f"{topic} is not a topic of this bus.")
        return self._append(
            (topic,),
            event_id or str(uuid.uuid4()),
            schema_id or self.topic_schema.get(topic, ""),
            payload,
        )

    def _append(self, topics, event_id, schema_id, payload) -> BusEvent:
        with self.condition:
            self._last += 1
            event = BusEvent(self._last, event_id, schema_id, payload, self.clock())
            for topic in topics:
                self._streams[topic].append(event)
            self.condition.notify_all()
        return event

    # --- reading -------------------------------------------------------------

    @property
    def last_number(self) -> int:
        with self.condition:
            return self._last

    def expire(self) -> None:
        """Drop events older than the retention period."""
        with self.condition:
            self._expire_locked()

    def _expire_locked(self) -> None:
        horizon = self.clock() - self.retention_seconds
        for topic, stream in self._streams.items():
            while stream and stream[0].published_at < horizon:
                self._expired_through[topic] = stream.popleft().number

    def start_position(self, topic: str, preset: str, replay_id: bytes = b"") -> int:
        """The replay number a subscription starts after, for a preset.

        CUSTOM with an id that was never issued, or whose following events have
        expired, raises ReplayIdInvalid (Salesforce refuses it the same way).
        """
        with self.condition:
            self._expire_locked()
            if preset == "LATEST":
                return self._last
            if preset == "EARLIEST":
                return self._expired_through[topic]
            try:
                number = replay_number(replay_id)
            except ValueError as exc:
                raise ReplayIdInvalid(str(exc)) from None
            if number > self._last or number < self._expired_through[topic]:
                raise ReplayIdInvalid(f"Replay id {replay_id.hex()} is not retained.")
            return number

    def events_after(self, topic: str, number: int, limit: int) -> list[BusEvent]:
        with self.condition:
            self._expire_locked()
            found = []
            for event in self._streams[topic]:
                if event.number > number:
                    found.append(event)
                    if len(found) >= limit:
                        break
            return found

    def caught_up_position(self, topic: str, number: int) -> int:
        """The newest replay number a subscriber at ``number`` can safely store.

        When it has every event of the topic, that is the bus's latest number
        (Salesforce's keepalive ``latest_replay_id``); otherwise where it is.
        """
        with self.condition:
            stream = self._streams[topic]
            if not stream or stream[-1].number <= number:
                return max(self._last, number)
            return number

    def close(self) -> None:
        """Wake every waiting subscriber so its stream can end."""
        with self.condition:
            self.closed = True
            self.condition.notify_all()
