"""What a flow author writes: five steps, nothing about status, locks or retries."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from integrations.engine.errors import AuthRevoked, ValidationFailed
from integrations.models import (
    CrossReference,
    FieldMapping,
    FlowConfig,
    SyncAttempt,
    SyncRecord,
)


@dataclass(frozen=True)
class RecordSpec:
    """What an inbound event asks the engine to sync."""

    source_object_type: str
    source_id: str
    payload: dict
    source_version: str = ""


def idempotency_key(
    flow_config: FlowConfig, spec: RecordSpec, *, event_id: str | None = None
) -> str:
    """Same source object + same version (or event) → same key → one record."""
    version = spec.source_version or event_id or ""
    raw = ":".join(
        [
            flow_config.flow,
            str(flow_config.pk),
            spec.source_object_type,
            spec.source_id,
            version,
        ]
    )
    if len(raw) <= 200:
        return raw
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return f"{flow_config.flow}:{flow_config.pk}:sha256:{digest}"


class _NamesRefusingConnection:
    """Wraps a connector client so an AuthRevoked it raises names its connection,
    and the runner parks that connection (not its partner) for re-authorisation."""

    def __init__(self, client: Any, connection_id: int) -> None:
        self._client = client
        self._connection_id = connection_id

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            try:
                return attribute(*args, **kwargs)
            except AuthRevoked as exc:
                exc.connection_id = exc.connection_id or self._connection_id
                raise

        return call


def specs_from_generic_body(body: Any) -> list[RecordSpec]:
    """The generic inbound shape: one object with an ``id``, or ``{"items": [...]}``.

    Optional ``type`` and ``version`` keys name the object type and its version.
    """
    wrapped = isinstance(body, dict) and "items" in body
    items = body["items"] if wrapped else [body]
    if not isinstance(items, list) or not items:
        raise ValidationFailed("items must be a non-empty list.", field="items")
    specs = []
    for index, item in enumerate(items):
        where = f"items.{index}" if wrapped else "body"
        if not isinstance(item, dict):
            raise ValidationFailed("Each item must be a JSON object.", field=where)
        if item.get("id") in (None, ""):
            field_name = f"{where}.id" if wrapped else "id"
            raise ValidationFailed("Each item needs an id.", field=field_name)
        specs.append(
            RecordSpec(
                source_object_type=str(item.get("type") or "document"),
                source_id=str(item["id"]),
                source_version=str(item.get("version") or ""),
                payload=item,
            )
        )
    return specs


@dataclass
class Run:
    """Everything a flow step may use for one attempt of one record."""

    record: SyncRecord
    flow_config: FlowConfig
    attempt: SyncAttempt
    state: dict
    save_state: Callable[[dict], None]
    api_calls: list = field(default_factory=list)
    bindings: list = field(default_factory=list)

    @property
    def payload(self) -> dict:
        return self.record.effective_payload

    @property
    def options(self) -> dict:
        return self.flow_config.options

    def option(self, name: str, default: Any) -> Any:
        """The flow's option ``name``; ``default`` when it is unset or blank."""
        value = (self.options or {}).get(name)
        return default if value in (None, "") else value

    @cached_property
    def mappings(self) -> list[FieldMapping]:
        return list(self.flow_config.mappings.filter(enabled=True))

    @cached_property
    def source(self):
        """The source system's connector client (calls are logged on the attempt)."""
        return self._client(self.flow_config.source_connection)

    @cached_property
    def target(self):
        return self._client(self.flow_config.target_connection)

    def client_for(self, connection):
        """The connector client of another connection the flow writes to (e.g.
        the Xero connection an option names); its calls are logged on this
        attempt and its refusals name that connection, as for source and target."""
        built = self.__dict__.setdefault("_other_clients", {})
        if connection.pk not in built:
            built[connection.pk] = self._client(connection)
        return built[connection.pk]

    def connection_option(self, name: str, system: str):
        """The Connection the flow's option ``name`` names, by slug or by name.

        A flow that writes to a third system keeps it in an option; a missing,
        unknown, ambiguous or wrong-system value fails naming the option.
        """
        from integrations.models import Connection

        cached = self.__dict__.setdefault("_option_connections", {})
        if name in cached:
            return cached[name]
        wanted = str(self.option(name, "")).strip()
        where = f"options.{name}"
        if not wanted:
            raise ValidationFailed(
                f"The flow's option {name} must name the {system} connection to "
                "use (its name or slug).",
                field=where,
            )
        found = list(Connection.objects.filter(slug=wanted)) or list(
            Connection.objects.filter(name=wanted)
        )
        if len(found) != 1:
            problem = "no connection" if not found else "several connections"
            raise ValidationFailed(
                f"The flow's option {name} is {wanted!r}, but {problem} has that "
                "name or slug: give the connection's slug.",
                field=where,
            )
        if found[0].system != system:
            raise ValidationFailed(
                f"The flow's option {name} names {found[0]}, which is not a "
                f"{system} connection.",
                field=where,
            )
        cached[name] = found[0]
        return found[0]

    def _client(self, connection):
        from integrations.engine import clients

        return _NamesRefusingConnection(
            clients.build(connection, log=self.log_call), connection.pk
        )

    def once(self, key: str, step: Callable[[], Any]) -> Any:
        """Run ``step`` at most once across attempts; remember its result at once.

        For flows that write to two systems: when the second write fails, the retry
        finds the first write's result here and does not repeat it.
        """
        done = self.state.setdefault("once", {})
        if key in done:
            return done[key]
        done[key] = step()
        self.save_state(self.state)
        return done[key]

    def xref(self, kind: str, value: str) -> str | None:
        row = (
            CrossReference.objects.filter(
                kind=kind,
                source_connection_id=self.flow_config.source_connection_id,
                target_connection_id=self.flow_config.target_connection_id,
                source_value=value,
            )
            .values_list("target_value", flat=True)
            .first()
        )
        return row

    def bind(self, kind: str, source_value: str, target_value: str) -> None:
        """Record a cross-reference, written in the same transaction as success."""
        self.bindings.append((kind, source_value, target_value))

    def log_call(
        self, system: str, method: str, url: str, status: int | str, started: float
    ) -> None:
        self.api_calls.append(
            {
                "system": system,
                "method": method,
                "url": url,
                "status": status,
                "ms": round((time.monotonic() - started) * 1000, 1),
            }
        )


class Flow:
    """Base class; the runner calls the steps in order and owns everything else."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    source: ClassVar[str] = ""
    target: ClassVar[str] = ""
    # Publish/subscribe: the event topics this flow takes (e.g. a Sage 100 change
    # feed's "sage100.inventory"). Empty: every event of its source connection.
    topics: ClassVar[frozenset[str]] = frozenset()
    # Above 1, a worker claims up to this many due records of one flow and loads
    # them with one ``load_batch`` call (sObject Collections, Xero batches).
    batch_size: ClassVar[int] = 1
    # True when extract reads the source's current state (not the event's copy):
    # a new event for a record that needs attention then runs it again.
    rereads_source: ClassVar[bool] = False

    @classmethod
    def accepts_topic(cls, topic: str) -> bool:
        return not cls.topics or topic in cls.topics

    def accepts(self, config: FlowConfig, topic: str) -> bool:
        """The flow's topics, narrowed by the admin's ``options["topics"]``."""
        wanted = (config.options or {}).get("topics")
        return self.accepts_topic(topic) and (not wanted or topic in wanted)

    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        """Turn an inbound event's parsed body into the records it asks for."""
        raise NotImplementedError(f"{self.name} does not accept inbound events")

    def poll(
        self, config: FlowConfig, *, watermark: str
    ) -> tuple[list[RecordSpec], str]:
        """Changes since ``watermark``, and the watermark to store after them."""
        raise NotImplementedError(f"{self.name} cannot poll")

    def is_up_to_date(self, run: Run) -> bool:
        return False

    def search_terms(self, run: Run, document: Any) -> list[str]:
        """Ids and names a person may search this record by (finance staff know
        an order name, an invoice number or a customer, not our record id)."""
        terms: list[str] = []
        for source in (run.payload, document):
            _collect_terms(source, terms, depth=0)
        return terms

    def payload_schema(self, config: FlowConfig) -> dict | None:
        """The JSON Schema a person's corrected payload must satisfy, or None.

        The record page's editor checks edits against it before saving and the
        service checks again, so a correction cannot break the record's shape.
        None means the flow cannot say (the payload is the source's own shape).
        """
        return None

    def extract(self, run: Run) -> Any:
        return run.payload

    def transform(self, run: Run, raw: Any) -> Any:
        from integrations import mapping

        return mapping.apply(run.mappings, raw, xref=run.xref)

    def validate(self, run: Run, document: Any) -> None:
        return None

    def load(self, run: Run, document: Any) -> dict:
        raise NotImplementedError

    def load_batch(self, runs: list[Run], documents: list) -> list:
        """Write many records at once; per record a target-ids dict or an error.

        Flows with ``batch_size`` > 1 implement this; raising fails every record.
        """
        raise NotImplementedError(f"{self.name} does not load in batches")

    def confirm(self, run: Run, target_ids: dict) -> None:
        return None

    @classmethod
    def has_confirm(cls) -> bool:
        return cls.confirm is not Flow.confirm


SEARCHABLE_KEYS = frozenset(
    name.lower()
    for name in (
        "id", "name", "reference", "order_number", "number", "customer",
        "customer_name", "customer_email", "email", "sales_order_no", "SalesOrderNo",
        "CustomerNo", "InvoiceNumber", "customer_po", "CustomerPONo", "ItemCode",
    )
)  # fmt: skip


def _collect_terms(value: Any, terms: list[str], *, depth: int) -> None:
    if depth > 2 or not isinstance(value, dict):
        return
    for key, item in value.items():
        if isinstance(item, dict):
            _collect_terms(item, terms, depth=depth + 1)
        elif str(key).lower() in SEARCHABLE_KEYS and isinstance(item, str | int):
            terms.append(str(item))
