"""The promises of the engine, shown with real RQ workers in subprocesses.

Each test drives real Redis and the real database (PostgreSQL in CI's first run,
the embedded SQLite + redis-server in its second).
"""

from __future__ import annotations

import json
import threading

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from integrations.engine import dispatch, sweeper
from integrations.flows.base import RecordSpec
from integrations.models import AttemptOutcome, InboundEvent, RecordStatus, SyncRecord
from integrations.services import inbox
from tests.factories import FlowConfigFactory
from tests.support import workers
from tests.support.flows import EFFECTS

pytestmark = [pytest.mark.workers, pytest.mark.django_db(transaction=True)]


def _effects(redis_conn, records) -> list[int]:
    counts = redis_conn.hgetall(EFFECTS)
    return [int(counts.get(r.idempotency_key.encode(), 0)) for r in records]


def _submit(config, count: int, **payload) -> list[SyncRecord]:
    records = []
    for n in range(count):
        spec = RecordSpec("order", f"ORD-{n}", {"id": f"ORD-{n}", **payload})
        records.append(inbox.submit(config, spec)[0])
    return records


def test_twenty_concurrent_deliveries_create_one_record_and_one_effect(redis_conn):
    config = FlowConfigFactory()
    body = json.dumps({"id": "SO-1001", "total": "120.00"}).encode()
    barrier, errors = threading.Barrier(20), []

    def deliver():
        try:
            barrier.wait()
            inbox.accept(
                config.source_connection,
                body=body,
                headers={},
                provider_event_id="evt-1001",
                signature_verified=True,
            )
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    event = InboundEvent.objects.get()
    assert event.deliveries == 20
    record = SyncRecord.objects.get()
    workers.wait_all([workers.start_worker()])
    record.refresh_from_db()
    assert record.status == RecordStatus.SUCCEEDED
    assert _effects(redis_conn, [record]) == [1]


def test_four_workers_racing_over_500_records_run_each_once(redis_conn):
    config = FlowConfigFactory()
    records = _submit(config, 500)
    # A second, different wake-up per record: the claim must stop double runs.
    for record in records:
        dispatch.enqueue(record.pk, 99)

    workers.wait_all([workers.start_worker() for _ in range(4)], timeout=400)

    statuses = set(SyncRecord.objects.values_list("status", flat=True))
    assert statuses == {RecordStatus.SUCCEEDED}
    assert _effects(redis_conn, records) == [1] * 500
    assert {r.attempt_set.count() for r in SyncRecord.objects.all()} == {1}


def test_killed_worker_record_is_recovered_after_its_lease_and_done_once(redis_conn):
    config = FlowConfigFactory(flow="test_scripted")
    (record,) = _submit(config, 1, block_attempts=1)
    started_key = f"ledgerbridge:test:started:{record.source_id}"
    victim = workers.start_worker(burst=False, LEDGERBRIDGE_LEASE_SECONDS="5")
    workers.wait_until(lambda: redis_conn.llen(started_key) == 1)

    workers.kill(victim)  # SIGKILL to the worker and its work-horse

    record.refresh_from_db()
    assert record.status == RecordStatus.RUNNING
    # Nobody finishes it before the lease runs out…
    assert sweeper.sweep(grace_seconds=0).leases_expired == 0
    # …and once it has, the sweeper takes it back and wakes a worker.
    after_lease = record.lease_expires_at + timezone.timedelta(seconds=1)
    assert sweeper.sweep(now=after_lease, grace_seconds=0).leases_expired == 1
    workers.wait_all([workers.start_worker()])

    record.refresh_from_db()
    assert record.status == RecordStatus.SUCCEEDED
    outcomes = list(record.attempt_set.values_list("outcome", flat=True))
    assert outcomes == [AttemptOutcome.LOST, AttemptOutcome.SUCCEEDED]
    assert _effects(redis_conn, [record]) == [1]


def test_redis_flushed_with_200_pending_records_all_complete_once(redis_conn):
    config = FlowConfigFactory()
    records = _submit(config, 200)
    assert dispatch.queue().count == 200
    # The embedded server is ours alone; on a shared server only our db is wiped.
    if settings.REDIS_IS_EMBEDDED:
        redis_conn.flushall()
    else:
        redis_conn.flushdb()
    assert dispatch.queue().count == 0

    report = sweeper.sweep(grace_seconds=0)
    assert report.pending_enqueued == 200
    workers.wait_all([workers.start_worker() for _ in range(2)], timeout=300)

    assert set(SyncRecord.objects.values_list("status", flat=True)) == {"succeeded"}
    assert _effects(redis_conn, records) == [1] * 200


def test_transient_error_retries_with_backoff_and_permanent_needs_attention(
    redis_conn,
):
    config = FlowConfigFactory(flow="test_scripted")
    transient = inbox.submit(
        config, RecordSpec("order", "T-1", {"id": "T-1", "fail_times": 2})
    )[0]
    permanent = inbox.submit(
        config, RecordSpec("order", "P-1", {"id": "P-1", "amount": -3})
    )[0]
    # Small backoff so RQ's scheduler (in the worker) brings the retries back fast.
    worker = workers.start_worker(
        burst=False,
        with_scheduler=True,
        LEDGERBRIDGE_RETRY_BASE_SECONDS="0.5",
        LEDGERBRIDGE_RETRY_MAX_SECONDS="2",
    )
    try:
        workers.wait_until(
            lambda: SyncRecord.objects.get(pk=transient.pk).status == "succeeded",
            timeout=180,  # generous: CI machines may be busy
        )
    finally:
        workers.kill(worker, workers.signal.SIGTERM)

    attempts = list(transient.attempt_set.order_by("number"))
    assert [a.outcome for a in attempts] == [
        "retry_scheduled",
        "retry_scheduled",
        "succeeded",
    ]
    assert attempts[0].error_category == "unavailable"
    assert attempts[1].started_at > attempts[0].finished_at
    permanent.refresh_from_db()
    assert permanent.status == RecordStatus.NEEDS_ATTENTION
    assert (permanent.error_category, permanent.error_field) == ("validation", "amount")
    assert permanent.attempt_set.count() == 1
    assert _effects(redis_conn, [transient, permanent]) == [1, 0]
