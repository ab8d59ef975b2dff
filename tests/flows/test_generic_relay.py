import json

import pytest
from django.utils import timezone

from integrations.engine import runner
from integrations.flows.generic_relay import GenericWebhookToHttp
from integrations.flows.registry import register
from integrations.models import (
    ConnectionStatus,
    FieldMapping,
    RecordStatus,
    SyncRecord,
    System,
)
from integrations.services import inbox
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.sink import running_sink

pytestmark = pytest.mark.django_db


@pytest.fixture
def relay():
    with running_sink(signing_secret="desk", required_fields=("reference",)) as (
        url,
        state,
    ):
        target = ConnectionFactory(
            system=System.GENERIC,
            settings={"url": f"{url}/documents"},
            credentials={"signing_secret": "desk"},
        )
        config = FlowConfigFactory(
            flow="generic_webhook_to_http", target_connection=target
        )
        yield config, state


def _deliver(config, body: dict, event_id: str):
    accepted = inbox.accept(
        config.source_connection,
        body=json.dumps(body).encode(),
        headers={},
        provider_event_id=event_id,
        signature_verified=True,
    )
    (record,) = accepted.records
    runner.run_record(record.pk)
    record.refresh_from_db()
    return record


def test_document_is_mapped_and_delivered_once(relay, redis_conn):
    config, state = relay
    FieldMapping.objects.create(
        flow_config=config, position=0, source_field="id", target_field="reference"
    )
    FieldMapping.objects.create(
        flow_config=config,
        position=1,
        source_field="customer.email",
        target_field="customer.email",
        transform="lower",
    )
    record = _deliver(config, {"id": "W-1", "customer": {"email": "A@B.C"}}, "e1")

    assert record.status == RecordStatus.SUCCEEDED
    assert record.target_ids == {"document_id": "DOC-000001"}
    assert state.documents["DOC-000001"] == {
        "id": "DOC-000001",
        "reference": "W-1",
        "customer": {"email": "a@b.c"},
    }
    attempt = record.attempt_set.get()
    assert [c["status"] for c in attempt.api_calls] == [201]


def test_without_mappings_the_document_passes_through(relay, redis_conn):
    config, state = relay
    record = _deliver(config, {"id": "W-2", "reference": "W-2", "note": "hi"}, "e2")

    assert record.status == RecordStatus.SUCCEEDED
    assert state.documents["DOC-000001"]["note"] == "hi"


def test_outage_is_retried_and_the_retry_creates_one_document(relay, redis_conn):
    config, state = relay
    state.fail_next = 1
    record = _deliver(config, {"id": "W-3", "reference": "W-3"}, "e3")
    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.error_category == "unavailable"

    SyncRecord.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())
    runner.run_record(record.pk)
    record.refresh_from_db()

    assert record.status == RecordStatus.SUCCEEDED
    assert len(state.documents) == 1


def test_target_rejection_needs_attention_naming_the_field(relay, redis_conn):
    config, _ = relay
    record = _deliver(config, {"id": "W-4"}, "e4")

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert (record.error_category, record.error_field) == ("validation", "reference")


@register
class WritesBackToSource(GenericWebhookToHttp):
    """Loads nothing; confirms through the *source* client (a write-back)."""

    name = "test_write_back_to_source"

    def load(self, run, document):
        return {}

    def confirm(self, run, target_ids):
        run.source.post_document({"reference": "x"}, idempotency_key="k")


def test_refused_credentials_park_only_the_connection_that_refused(redis_conn):
    with running_sink(signing_secret="right") as (url, _):
        source = ConnectionFactory(
            settings={"url": f"{url}/documents"},
            credentials={"signing_secret": "wrong"},
        )
        config = FlowConfigFactory(
            flow="test_write_back_to_source", source_connection=source
        )
        record = _deliver(config, {"id": "W-5"}, "e5")

    assert record.error_category == "auth"
    source.refresh_from_db()
    config.target_connection.refresh_from_db()
    assert source.status == ConnectionStatus.NEEDS_REAUTH
    assert config.target_connection.status == ConnectionStatus.ACTIVE
