"""Batched flows with a confirm step, and the wait for a batch to fill."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine import errors, runner
from integrations.flows.base import Flow, Run, specs_from_generic_body
from integrations.flows.registry import register
from integrations.models import RecordStatus, SyncRecord, System
from tests.factories import FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db

LOADS = "ledgerbridge:test:batch-confirm-loads"
CONFIRMS = "ledgerbridge:test:batch-confirm-confirms"
FAIL_ONCE = "ledgerbridge:test:batch-confirm-fail-once"


def _redis():
    from integrations.engine.dispatch import queue

    return queue().connection


@register
class TestBatchedConfirm(Flow):
    """Loads in batches of 3, then confirms each record (``"confirm_fails":
    true`` fails its first confirm)."""

    name = "test_batched_confirm"
    title = "Test: batched loads with a confirm"
    source, target = System.GENERIC, System.GENERIC
    batch_size = 3

    def records_from_event(self, body, *, topic):
        return specs_from_generic_body(body)

    def load_batch(self, runs, documents) -> list:
        _redis().rpush(LOADS, ",".join(run.record.source_id for run in runs))
        return [{"target_id": f"T-{run.record.source_id}"} for run in runs]

    def confirm(self, run: Run, target_ids: dict) -> None:
        _redis().rpush(CONFIRMS, f"{run.record.source_id}={target_ids['target_id']}")
        if run.payload.get("confirm_fails") and _redis().setnx(FAIL_ONCE, "1"):
            raise errors.Unavailable("The source did not take the write-back.")


@pytest.fixture
def config():
    return FlowConfigFactory(flow="test_batched_confirm")


def _records(config, *payloads):
    return [
        SyncRecordFactory(
            flow_config=config, source_id=f"C{n}", payload={"id": f"C{n}", **payload}
        )
        for n, payload in enumerate(payloads)
    ]


def _list(redis_conn, key: str) -> list[str]:
    return [item.decode() for item in redis_conn.lrange(key, 0, -1)]


def test_each_record_of_a_batch_is_confirmed_after_the_one_load(config, redis_conn):
    records = _records(config, {}, {})

    runner.run_record(records[0].pk, worker="w1")

    assert _list(redis_conn, LOADS) == ["C0,C1"]
    assert _list(redis_conn, CONFIRMS) == ["C0=T-C0", "C1=T-C1"]
    for record in SyncRecord.objects.filter(flow_config=config):
        assert record.status == RecordStatus.SUCCEEDED
        assert record.attempt_set.get().steps_run[-2:] == [
            "load (batch of 2)",
            "confirm",
        ]


def test_a_failed_confirm_is_retried_without_loading_again(config, redis_conn):
    failing, fine = _records(config, {"confirm_fails": True}, {})

    runner.run_record(failing.pk, worker="w1")

    failing.refresh_from_db()
    fine.refresh_from_db()
    assert fine.status == RecordStatus.SUCCEEDED
    assert failing.status == RecordStatus.RETRY_SCHEDULED
    assert failing.step_state["load"] == {"target_id": "T-C0"}
    SyncRecord.objects.filter(pk=failing.pk).update(next_attempt_at=timezone.now())

    runner.run_record(failing.pk, worker="w1")

    failing.refresh_from_db()
    assert failing.status == RecordStatus.SUCCEEDED
    assert failing.target_ids == {"target_id": "T-C0"}
    assert _list(redis_conn, LOADS) == ["C0,C1"]  # loaded once
    assert _list(redis_conn, CONFIRMS) == ["C0=T-C0", "C1=T-C1", "C0=T-C0"]


def test_a_full_batch_does_not_wait_for_more(config, redis_conn):
    config.options = {"batch_wait_seconds": 30}
    config.save(update_fields=["options"])
    records = _records(config, {}, {}, {})
    started = time.monotonic()

    runner.run_record(records[0].pk, worker="w1")

    assert time.monotonic() - started < 10
    assert _list(redis_conn, LOADS) == ["C0,C1,C2"]


def test_a_record_that_has_waited_its_time_goes_with_what_is_due(config, redis_conn):
    config.options = {"batch_wait_seconds": 30}
    config.save(update_fields=["options"])
    (record,) = _records(config, {})
    SyncRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - timedelta(seconds=31)
    )
    started = time.monotonic()

    runner.run_record(record.pk, worker="w1")

    assert time.monotonic() - started < 10
    assert _list(redis_conn, LOADS) == ["C0"]


def test_records_of_a_failed_batch_call_come_back_together(redis_conn):
    batched = FlowConfigFactory(flow="test_batched")  # tests/support/flows.py
    records = [
        SyncRecordFactory(flow_config=batched, payload={"id": f"B{n}", "outage": True})
        for n in range(3)
    ]

    runner.run_record(records[0].pk, worker="w1")

    retried = SyncRecord.objects.filter(pk__in=[r.pk for r in records])
    assert {r.status for r in retried} == {RecordStatus.RETRY_SCHEDULED}
    # One time for the batch, not three scattered by jitter: one claim takes them.
    assert len({r.next_attempt_at for r in retried}) == 1


def test_a_retry_is_scheduled_no_earlier_than_the_record_is_due():
    # RQ rounds scheduled times down to the second; the job must not start
    # before next_attempt_at (it would find the record "not due").
    due = timezone.now().replace(microsecond=400_000)

    at = runner._whole_second_after(due)

    assert at >= due and at.microsecond == 0
    assert (at - due) < timedelta(seconds=1)
    assert runner._whole_second_after(at) == at
