from __future__ import annotations

import factory

from integrations.models import Connection, FlowConfig, SyncRecord, System, Trigger


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
