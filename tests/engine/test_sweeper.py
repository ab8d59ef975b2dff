from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine import dispatch, sweeper
from integrations.models import (
    AttemptOutcome,
    ConnectionStatus,
    RecordStatus,
    SyncAttempt,
    SyncRecord,
)
from tests.factories import FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db


def _running(record, *, attempts=1, lease_left=timedelta(seconds=-1)):
    now = timezone.now()
    SyncRecord.objects.filter(pk=record.pk).update(
        status=RecordStatus.RUNNING,
        attempts=attempts,
        lease_expires_at=now + lease_left,
    )
    SyncAttempt.objects.create(record=record, number=attempts, started_at=now)


def _queued_ids(queue) -> set[str]:
    return set(queue.job_ids)


def test_expired_lease_goes_back_to_pending_and_is_woken(
    queue, django_capture_on_commit_callbacks
):
    record = SyncRecordFactory()
    _running(record)

    with django_capture_on_commit_callbacks(execute=True):
        report = sweeper.sweep(grace_seconds=3600)

    record.refresh_from_db()
    assert report.leases_expired == 1
    assert record.status == RecordStatus.PENDING
    assert record.attempt_set.get().outcome == AttemptOutcome.LOST
    assert f"sync-record-{record.pk}-a2" in _queued_ids(queue)


def test_live_lease_is_left_alone(queue):
    record = SyncRecordFactory()
    _running(record, lease_left=timedelta(minutes=5))

    assert sweeper.sweep(grace_seconds=0).leases_expired == 0
    record.refresh_from_db()
    assert record.status == RecordStatus.RUNNING


def test_record_that_keeps_killing_workers_needs_attention(queue, settings):
    settings.LEDGERBRIDGE = {**settings.LEDGERBRIDGE, "MAX_ATTEMPTS": 3}
    record = SyncRecordFactory()
    _running(record, attempts=3)

    report = sweeper.sweep(grace_seconds=3600)

    record.refresh_from_db()
    assert report.gave_up == 1
    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert "worker stopped every time" in record.error_message


def test_pending_record_whose_job_vanished_is_enqueued_once(queue):
    record = SyncRecordFactory()
    SyncRecord.objects.filter(pk=record.pk).update(
        updated_at=timezone.now() - timedelta(minutes=5)
    )

    assert sweeper.sweep(grace_seconds=60).pending_enqueued == 1
    assert sweeper.sweep(grace_seconds=60).pending_enqueued == 0  # already queued
    assert _queued_ids(queue) == {f"sync-record-{record.pk}-a1"}


def test_young_pending_record_is_assumed_queued(queue):
    SyncRecordFactory()
    assert sweeper.sweep(grace_seconds=60).pending_enqueued == 0


def test_due_retry_stuck_in_rq_schedule_is_queued_now(queue):
    record = SyncRecordFactory()
    past = timezone.now() - timedelta(seconds=1)
    SyncRecord.objects.filter(pk=record.pk).update(
        status=RecordStatus.RETRY_SCHEDULED, attempts=1, next_attempt_at=past
    )
    dispatch.enqueue(record.pk, 2, at=timezone.now() + timedelta(hours=1))
    assert _queued_ids(queue) == set()

    assert sweeper.sweep().retries_enqueued == 1
    assert _queued_ids(queue) == {f"sync-record-{record.pk}-a2"}


def test_records_of_disabled_flows_and_unauthorised_connections_wait(queue):
    old = timezone.now() - timedelta(minutes=5)
    disabled = SyncRecordFactory(flow_config=FlowConfigFactory(enabled=False))
    waiting = SyncRecordFactory()
    waiting.flow_config.target_connection.status = ConnectionStatus.NEEDS_REAUTH
    waiting.flow_config.target_connection.save()
    SyncRecord.objects.filter(pk__in=[disabled.pk, waiting.pk]).update(updated_at=old)

    assert sweeper.sweep(grace_seconds=60).pending_enqueued == 0
