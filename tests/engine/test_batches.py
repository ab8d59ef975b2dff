"""Batched flows: one load call for several due records of the same flow."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine import runner
from integrations.models import RecordStatus, SyncRecord
from tests.factories import FlowConfigFactory, SyncRecordFactory
from tests.support.flows import BATCH_CALLS

pytestmark = pytest.mark.django_db


@pytest.fixture
def batched():
    return FlowConfigFactory(flow="test_batched")


def _records(config, *payloads):
    return [
        SyncRecordFactory(flow_config=config, payload={"id": f"B{n}", **payload})
        for n, payload in enumerate(payloads)
    ]


def _calls(redis_conn) -> list[str]:
    return [c.decode() for c in redis_conn.lrange(BATCH_CALLS, 0, -1)]


def test_one_job_loads_up_to_the_batch_size_in_one_call(batched, redis_conn):
    records = _records(batched, {}, {}, {}, {})

    runner.run_record(records[0].pk, worker="w1")

    assert _calls(redis_conn) == [",".join(r.source_id for r in records[:3])]
    statuses = {r.pk: r.status for r in SyncRecord.objects.all()}
    assert [statuses[r.pk] for r in records] == [
        RecordStatus.SUCCEEDED,
        RecordStatus.SUCCEEDED,
        RecordStatus.SUCCEEDED,
        RecordStatus.PENDING,
    ]
    # The other records' own jobs find nothing left to do.
    assert runner.run_record(records[1].pk) == "not claimable (succeeded)"


def test_a_record_failing_validation_fails_alone(batched, redis_conn):
    good, bad, other = _records(batched, {}, {"bad": True}, {})

    runner.run_record(good.pk, worker="w1")

    assert _calls(redis_conn) == [f"{good.source_id},{other.source_id}"]
    bad.refresh_from_db()
    assert bad.status == RecordStatus.NEEDS_ATTENTION
    assert bad.error_field == "bad"
    assert SyncRecord.objects.filter(status=RecordStatus.SUCCEEDED).count() == 2


def test_a_per_record_refusal_inside_the_batch_is_kept_apart(batched, redis_conn):
    ok, refused = _records(batched, {}, {"refuse": True})

    runner.run_record(ok.pk, worker="w1")

    ok.refresh_from_db()
    refused.refresh_from_db()
    assert ok.status == RecordStatus.SUCCEEDED
    assert ok.target_ids == {"target_id": f"T-{ok.source_id}"}
    assert refused.status == RecordStatus.NEEDS_ATTENTION
    assert refused.error_message == "Refused by the target."
    attempt = refused.attempt_set.get()
    assert attempt.steps_run[-1] == "load (batch of 2)"


def test_a_failed_batch_call_schedules_every_record_for_retry(batched, redis_conn):
    records = _records(batched, {"outage": True}, {})

    runner.run_record(records[0].pk, worker="w1")

    for record in records:
        record.refresh_from_db()
        assert record.status == RecordStatus.RETRY_SCHEDULED
        assert record.attempts == 1
        assert record.error_category == "unavailable"


def test_records_running_elsewhere_are_not_taken_into_a_batch(batched, redis_conn):
    first, busy = _records(batched, {}, {})
    SyncRecord.objects.filter(pk=busy.pk).update(
        status=RecordStatus.RUNNING,
        attempts=1,
        claimed_by="other",
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )

    runner.run_record(first.pk, worker="w1")

    assert _calls(redis_conn) == [first.source_id]
    busy.refresh_from_db()
    assert busy.status == RecordStatus.RUNNING
    assert busy.claimed_by == "other"
