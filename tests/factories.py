from __future__ import annotations

import factory

from integrations.models import (
    Connection,
    ConnectionAPIKey,
    FlowConfig,
    SyncRecord,
    System,
    Trigger,
)


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    name = factory.Sequence(lambda n: f"Connection {n}")
    slug = factory.Sequence(lambda n: f"conn-{n}")
    system = System.GENERIC
    credentials = factory.LazyFunction(lambda: {"signing_secret": "s3cret"})


class FlowConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FlowConfig

    name = factory.Sequence(lambda n: f"Flow {n}")
    flow = "test_effect"
    source_connection = factory.SubFactory(ConnectionFactory)
    target_connection = factory.SubFactory(ConnectionFactory)
    trigger = Trigger.WEBHOOK


class SyncRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRecord

    flow_config = factory.SubFactory(FlowConfigFactory)
    flow = factory.LazyAttribute(lambda r: r.flow_config.flow)
    source_system = System.GENERIC
    source_object_type = "order"
    source_id = factory.Sequence(lambda n: f"SRC-{n}")
    idempotency_key = factory.LazyAttribute(
        lambda r: f"{r.flow}:{r.flow_config.pk}:order:{r.source_id}:"
    )
    payload = factory.LazyAttribute(lambda r: {"id": r.source_id})


def api_key(
    *scopes: str, connection: Connection | None = None, **fields
) -> tuple[ConnectionAPIKey, str]:
    """An API key with ``scopes`` and the plain key a caller would send."""
    fields.setdefault("name", "test key")
    return ConnectionAPIKey.objects.create_key(
        scopes=list(scopes), connection=connection, **fields
    )


# --- Admin tests (models named by label so this block needs no imports) -------


class InboundEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integrations.InboundEvent"

    connection = factory.SubFactory(ConnectionFactory)
    provider = "generic"
    topic = "orders/create"
    provider_event_id = factory.Sequence(lambda n: f"evt-{n}")
    body = b'{"id": "SRC-1"}'
    body_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    headers = factory.LazyFunction(lambda: {"Content-Type": "application/json"})
    signature_verified = True


class SyncAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integrations.SyncAttempt"

    record = factory.SubFactory(SyncRecordFactory)
    number = factory.Sequence(lambda n: n + 1)
    worker = "host:123"
    started_at = factory.SelfAttribute("record.created_at")
    outcome = "succeeded"


class FieldMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integrations.FieldMapping"

    flow_config = factory.SubFactory(FlowConfigFactory)
    position = factory.Sequence(lambda n: n)
    source_field = factory.Sequence(lambda n: f"source_{n}")
    target_field = factory.Sequence(lambda n: f"target_{n}")


class CrossReferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integrations.CrossReference"

    kind = "customer"
    source_connection = factory.SubFactory(ConnectionFactory)
    target_connection = factory.SubFactory(ConnectionFactory)
    source_value = factory.Sequence(lambda n: f"SRC-CUST-{n}")
    target_value = factory.Sequence(lambda n: f"01-C{n:04d}")


class AlertRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integrations.AlertRule"

    name = factory.Sequence(lambda n: f"Rule {n}")
    channel = "email"
    recipients = "ops@example.com"
