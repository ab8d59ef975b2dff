import json

import pytest

from integrations.models import InboundEvent, SyncRecord
from integrations.services import inbox
from tests.factories import FlowConfigFactory

pytestmark = pytest.mark.django_db


def _accept(connection, body: dict | bytes, event_id: str | None = "evt-1"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return inbox.accept(
        connection,
        body=raw,
        headers={"Content-Type": "application/json"},
        provider_event_id=event_id,
        topic="orders/create",
        signature_verified=True,
    )


def test_event_is_stored_with_one_pending_record():
    config = FlowConfigFactory()
    accepted = _accept(config.source_connection, {"id": "1001", "total": "9.50"})

    assert not accepted.duplicate
    event = InboundEvent.objects.get()
    assert bytes(event.body) == b'{"id": "1001", "total": "9.50"}'
    record = SyncRecord.objects.get()
    assert (record.status, record.source_id, record.event) == ("pending", "1001", event)
    assert record.payload == {"id": "1001", "total": "9.50"}


def test_duplicate_delivery_creates_nothing_new():
    config = FlowConfigFactory()
    first = _accept(config.source_connection, {"id": "1001"})
    second = _accept(config.source_connection, {"id": "1001"})

    assert second.duplicate
    assert second.event.pk == first.event.pk
    assert [r.pk for r in second.records] == [r.pk for r in first.records]
    assert InboundEvent.objects.get().deliveries == 2
    assert SyncRecord.objects.count() == 1


def test_events_without_provider_id_are_deduplicated_on_body():
    config = FlowConfigFactory()
    _accept(config.source_connection, {"id": "7"}, event_id=None)
    again = _accept(config.source_connection, {"id": "7"}, event_id=None)

    assert again.duplicate
    assert InboundEvent.objects.count() == 1


def test_same_object_in_two_events_with_same_version_makes_one_record():
    config = FlowConfigFactory()
    _accept(config.source_connection, {"id": "1", "version": "v2"}, event_id="a")
    _accept(config.source_connection, {"id": "1", "version": "v2"}, event_id="b")

    assert InboundEvent.objects.count() == 2
    assert SyncRecord.objects.count() == 1


def test_malformed_json_is_kept_with_the_reason():
    config = FlowConfigFactory()
    accepted = _accept(config.source_connection, b"{not json")

    assert accepted.error_field == "body"
    event = InboundEvent.objects.get()
    assert bytes(event.body) == b"{not json"
    assert "not valid JSON" in event.error
    assert not SyncRecord.objects.exists()


def test_flow_refusal_names_the_field_and_keeps_the_event():
    config = FlowConfigFactory()
    accepted = _accept(config.source_connection, {"items": [{"total": 1}]})

    assert accepted.error_field == "items.0.id"
    assert accepted.error == "Each item needs an id."
    assert InboundEvent.objects.get().error == "items.0.id: Each item needs an id."


def test_one_event_with_many_items_makes_one_record_each():
    config = FlowConfigFactory()
    accepted = _accept(config.source_connection, {"items": [{"id": "a"}, {"id": "b"}]})

    assert sorted(r.source_id for r in accepted.records) == ["a", "b"]


def test_event_for_connection_without_flow_is_kept_and_explained():
    from tests.factories import ConnectionFactory

    accepted = _accept(ConnectionFactory(), {"id": "1"})

    assert accepted.records == []
    assert "No flow" in InboundEvent.objects.get().error


def test_accepting_an_event_does_not_read_the_connection_again():
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    config = FlowConfigFactory()
    with CaptureQueriesContext(db) as queries:
        _accept(config.source_connection, {"id": "1001"})

    statements = [q["sql"] for q in queries.captured_queries]
    assert any("integrations_syncrecord" in sql for sql in statements)
    assert not any('FROM "integrations_connection"' in sql for sql in statements)
