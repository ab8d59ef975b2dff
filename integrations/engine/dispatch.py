"""Wake a worker for a record. The queue is only a signal; the database is truth.

Job ids are deterministic and carry the attempt number, so enqueueing twice is
harmless (``unique=True``) and a finished job's id never blocks a later retry.
A Redis failure here is logged and forgotten: the sweeper finds the record.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import datetime

import django_rq
from django.conf import settings
from django.db import DatabaseError, transaction
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

logger = logging.getLogger(__name__)

TERMINAL = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def job_id(record_id: int, attempt: int) -> str:
    return f"sync-record-{record_id}-a{attempt}"


@functools.cache
def _connection():
    """One Redis client (and connection pool) per process.

    django_rq.get_queue() builds a new client, and so a new connection, on every
    call: on the webhook path that was a TCP handshake per request. redis-py's
    pool notices a fork and reconnects in the child, so sharing it is safe.
    """
    return django_rq.get_connection(settings.LEDGERBRIDGE["QUEUE"])


def queue(name: str | None = None):
    return django_rq.get_queue(
        name or settings.LEDGERBRIDGE["QUEUE"], connection=_connection()
    )


def _queues_of(record_ids: Iterable[int]) -> dict[int, str]:
    """Each record's queue: its flow's ``queue`` when it names one (two-way
    master data says "low", so a first sync of thousands of customers waits
    behind orders: workers take high, default, low in that order), else the
    engine's queue."""
    from integrations.flows import registry
    from integrations.models import SyncRecord

    named = {}
    rows = SyncRecord.objects.filter(pk__in=list(record_ids)).values_list("pk", "flow")
    for pk, flow in rows:
        try:
            named[pk] = getattr(registry.get(flow), "queue", "") or ""
        except KeyError:  # an unknown flow runs (and fails) as it always did
            named[pk] = ""
    return named


def _job_options() -> dict:
    lease = settings.LEDGERBRIDGE["LEASE_SECONDS"]
    # RQ kills a job before our lease runs out, so a stuck job never overlaps the
    # sweeper's recovery of the same record.
    return {
        "job_timeout": max(lease - 5, 1),
        "result_ttl": 3600,
        "failure_ttl": 7 * 86400,
    }


def enqueue(
    record_id: int, attempt: int, *, at: datetime | None = None, on: str | None = None
) -> bool:
    """Queue (or schedule) the job for ``attempt``; False when already queued.
    ``on`` names the queue when the caller knows it (else the record's flow's)."""
    from integrations.jobs import run_sync_record

    jid = job_id(record_id, attempt)
    try:
        if on is None:
            on = _queues_of([record_id]).get(record_id, "")
        q = queue(on)
        if at is None:
            q.enqueue(
                run_sync_record, record_id, job_id=jid, unique=True, **_job_options()
            )
        else:
            options = _job_options()
            job = q.create_job(
                run_sync_record,
                args=(record_id,),
                job_id=jid,
                timeout=options["job_timeout"],
                result_ttl=options["result_ttl"],
                failure_ttl=options["failure_ttl"],
                status=JobStatus.SCHEDULED,
            )
            q.schedule_job(job, at, unique=True)
        return True
    except DuplicateJobError:
        return False
    except RedisError:
        logger.warning("Redis unavailable; record %s waits for the sweeper", record_id)
        return False


def requeue_if_lost(record_id: int, attempt: int) -> bool:
    """Enqueue unless a live job for this attempt exists (used by the sweeper).

    The caller knows the record is due, so a job still waiting in RQ's scheduled
    registry is late (no worker runs RQ's scheduler): it is replaced by a queued one.
    """
    if enqueue(record_id, attempt):
        return True
    try:
        job = Job.fetch(job_id(record_id, attempt), connection=queue().connection)
    except NoSuchJobError:  # finished and expired between the two calls
        return enqueue(record_id, attempt)
    if job.get_status(refresh=False) in TERMINAL | {JobStatus.SCHEDULED}:
        job.delete(remove_from_queue=True)
        return enqueue(record_id, attempt)
    return False


def enqueue_on_commit(pairs: Iterable[tuple[int, int]]) -> None:
    """After the surrounding transaction commits, queue each (record id, attempt)."""
    pairs = list(pairs)
    if pairs:
        transaction.on_commit(lambda: _enqueue_all(pairs))


def _enqueue_all(pairs: list[tuple[int, int]]) -> None:
    try:
        named = _queues_of(rid for rid, _ in pairs)
    except DatabaseError:
        logger.exception("Could not read the records' flows; the sweeper finds them")
        return
    for rid, attempt in pairs:
        enqueue(rid, attempt, on=named.get(rid, ""))
