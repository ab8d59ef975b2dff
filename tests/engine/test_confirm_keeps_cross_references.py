"""A load that succeeded and a confirm that failed: the retry only confirms,
and the cross-references the load made are still recorded (single and batch)."""

import pytest
from django.utils import timezone

from integrations.engine import errors, runner
from integrations.flows.base import Flow, Run, specs_from_generic_body
from integrations.flows.registry import register
from integrations.models import CrossReference, RecordStatus, SyncRecord, System
from tests.factories import FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db

LOADS = "ledgerbridge:test:confirm-binds-loads"


def _redis():
    from integrations.engine.dispatch import queue

    return queue().connection


@register
class TestConfirmBinds(Flow):
    """Binds a cross-reference at load; the first confirm of each record fails."""

    name = "test_confirm_binds"
    title = "Test: a load that binds, a confirm that fails once"
    source, target = System.GENERIC, System.GENERIC

    def records_from_event(self, body, *, topic):
        return specs_from_generic_body(body)

    def load(self, run: Run, document) -> dict:
        _redis().rpush(LOADS, run.record.source_id)
        run.bind("thing", run.record.source_id, f"T-{run.record.source_id}")
        return {"target_id": f"T-{run.record.source_id}"}

    def confirm(self, run: Run, target_ids: dict) -> None:
        if run.attempt.number == 1:
            raise errors.Unavailable("The source did not take the write-back.")


@register
class TestBatchedConfirmBinds(TestConfirmBinds):
    name = "test_batched_confirm_binds"
    title = "Test: batched loads that bind, a confirm that fails once"
    batch_size = 3

    def load_batch(self, runs, documents) -> list:
        return [self.load(run, d) for run, d in zip(runs, documents, strict=True)]


def _run_until_done(record) -> SyncRecord:
    runner.run_record(record.pk, worker="w1")
    record.refresh_from_db()
    assert record.status == RecordStatus.RETRY_SCHEDULED, record.error_message
    assert not CrossReference.objects.filter(kind="thing").exists()
    SyncRecord.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())
    runner.run_record(record.pk, worker="w1")
    record.refresh_from_db()
    return record


@pytest.mark.parametrize("flow", ["test_confirm_binds", "test_batched_confirm_binds"])
def test_a_failed_confirm_keeps_the_loads_cross_references(flow, redis_conn):
    config = FlowConfigFactory(flow=flow)
    record = SyncRecordFactory(flow_config=config, source_id="K1", payload={"id": "K1"})

    record = _run_until_done(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert record.target_ids == {"target_id": "T-K1"}
    assert [x.decode() for x in redis_conn.lrange(LOADS, 0, -1)] == ["K1"]
    (bound,) = CrossReference.objects.filter(kind="thing")
    assert (bound.source_value, bound.target_value) == ("K1", "T-K1")
    assert bound.source_connection_id == config.source_connection_id
