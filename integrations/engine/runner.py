"""Claim a record, run its flow's steps, record the outcome.

The only code (besides services) that changes ``SyncRecord.status``, and always
by compare-and-set on (status, attempts): a second worker, a stale job or the
sweeper can never make a record run twice at once.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone
from redis.exceptions import LockError, RedisError

from integrations.engine import dispatch, retry
from integrations.engine.errors import (
    AuthRevoked,
    DuplicateAmbiguous,
    RateLimited,
    SyncError,
    classify,
)
from integrations.flows import registry
from integrations.flows.base import Run
from integrations.models import (
    AttemptOutcome,
    ConnectionStatus,
    CrossReference,
    RecordStatus,
    SyncAttempt,
    SyncRecord,
)

logger = logging.getLogger(__name__)

CLAIMABLE = (RecordStatus.PENDING, RecordStatus.RETRY_SCHEDULED)
# Records of a connection that needs re-authorisation wait this long between looks.
AUTH_WAIT = timedelta(minutes=15)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_record(record_id: int, *, worker: str | None = None) -> str:
    """Run one attempt of a record if it is ours to run; returns what happened."""
    try:
        record = SyncRecord.objects.select_related(
            "flow_config__source_connection", "flow_config__target_connection"
        ).get(pk=record_id)
    except SyncRecord.DoesNotExist:
        return "missing"
    now = timezone.now()
    if record.status not in CLAIMABLE:
        return f"not claimable ({record.status})"
    if record.next_attempt_at and record.next_attempt_at > now:
        return "not due"
    if not _may_run(record):
        return "waiting (flow disabled or connection needs re-authorisation)"

    worker = worker or worker_name()
    size = _batch_size(record.flow)
    if size > 1:
        _let_batch_fill(record, size)
        # One claim of a batch at a time per flow: two workers woken by the same
        # commit would otherwise each take a share and spend two calls on it.
        with _batch_claim_lock(record.flow_config_id):
            claimed = _claim(record, worker)
            if isinstance(claimed, str):
                return claimed
            try:
                others = _claim_companions(
                    record, worker, record.lease_expires_at, size - 1
                )
            except DatabaseError:
                # A deadlock with another worker's claim: run this record alone
                # rather than leave it running until its lease expires.
                logger.exception("Could not claim a batch for record %s", record.pk)
                others = []
        # Oldest first: a batch writes the newest change of a key last, so it wins.
        batch = sorted(
            [claimed, *others], key=lambda pair: (pair[0].created_at, pair[0].pk)
        )
        return _execute_batch(batch)
    claimed = _claim(record, worker)
    if isinstance(claimed, str):
        return claimed
    return _execute(*claimed)


def _let_batch_fill(record: SyncRecord, size: int) -> None:
    """With the flow option ``batch_wait_seconds``, a fresh record waits up to
    that long after it arrived for companions, so orders arriving one webhook
    at a time still reach the target in full batches (one call for fifty)
    instead of whatever happened to be due. A full batch, or a record that
    has waited its time (a backlog, a retry), goes at once."""
    wait = batch_wait(record)
    if wait <= 0 or record.attempts:
        return
    until = record.created_at + timedelta(seconds=min(wait, 60))
    due = SyncRecord.objects.filter(
        flow_config_id=record.flow_config_id, status__in=CLAIMABLE
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
    while timezone.now() < until and due.count() < size:
        time.sleep(0.2)


def batch_wait(record: SyncRecord) -> float:
    """The record's flow option ``batch_wait_seconds``; without it, the flow's
    own default (class attribute ``batch_wait_seconds``, else 0)."""
    wait = (record.flow_config.options or {}).get("batch_wait_seconds")
    if wait in (None, ""):
        try:
            wait = getattr(registry.get(record.flow), "batch_wait_seconds", 0)
        except KeyError:
            return 0.0
    try:
        return max(float(wait or 0), 0.0)
    except (TypeError, ValueError):
        return 0.0


def _claim(record: SyncRecord, worker: str):
    """(record, attempt) when this worker now owns the record, else why not."""
    now = timezone.now()
    number = record.attempts + 1
    lease = now + timedelta(seconds=settings.LEDGERBRIDGE["LEASE_SECONDS"])
    claimed = SyncRecord.objects.filter(
        pk=record.pk, status=record.status, attempts=record.attempts
    ).update(
        status=RecordStatus.RUNNING,
        attempts=number,
        lease_expires_at=lease,
        next_attempt_at=None,
        claimed_by=worker,
        updated_at=now,
    )
    if claimed != 1:
        return "claimed elsewhere"
    record.status, record.attempts, record.lease_expires_at = (
        RecordStatus.RUNNING,
        number,
        lease,
    )
    attempt = SyncAttempt.objects.create(
        record=record, number=number, worker=worker, started_at=now
    )
    return record, attempt


@contextmanager
def _batch_claim_lock(flow_config_id: int) -> Iterator[None]:
    """Best effort: without Redis the compare-and-set claims stay correct."""
    lock = dispatch.queue().connection.lock(
        f"ledgerbridge:lock:batch-claim:{flow_config_id}",
        timeout=30,
        blocking_timeout=10,
    )
    try:
        held = lock.acquire()
    except RedisError:
        held = False
    try:
        yield
    finally:
        if held:
            with suppress(LockError, RedisError):
                lock.release()


def _batch_size(flow_name: str) -> int:
    try:
        return int(getattr(registry.get(flow_name), "batch_size", 1) or 1)
    except KeyError:
        return 1  # _execute reports the missing flow on the record


def _claim_companions(record: SyncRecord, worker: str, lease, limit: int) -> list:
    """Claim up to ``limit`` more due records of the same flow for one batched load.

    One conditional UPDATE: under PostgreSQL a row another worker claimed first
    fails the re-checked WHERE and is skipped, so no record is run twice.
    """
    now = timezone.now()
    token = f"{worker} batch {uuid.uuid4().hex[:12]}"
    candidates = list(
        SyncRecord.objects.filter(
            flow_config_id=record.flow_config_id, status__in=CLAIMABLE
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(pk=record.pk)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return []
    SyncRecord.objects.filter(pk__in=candidates, status__in=CLAIMABLE).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ).update(
        status=RecordStatus.RUNNING,
        attempts=F("attempts") + 1,
        lease_expires_at=lease,
        next_attempt_at=None,
        claimed_by=token,
        updated_at=now,
    )
    claimed = list(
        SyncRecord.objects.select_related(
            "flow_config__source_connection", "flow_config__target_connection"
        )
        .filter(pk__in=candidates, status=RecordStatus.RUNNING, claimed_by=token)
        .order_by("created_at", "pk")
    )
    attempts = SyncAttempt.objects.bulk_create(
        SyncAttempt(record=other, number=other.attempts, worker=worker, started_at=now)
        for other in claimed
    )
    for other in claimed:
        # The same config object, so connections are read (and decrypted) once.
        other.flow_config = record.flow_config
    return list(zip(claimed, attempts, strict=True))


def _may_run(record: SyncRecord) -> bool:
    config = record.flow_config
    connections = [config.source_connection, config.target_connection]
    return config.enabled and all(
        c is None or c.status == ConnectionStatus.ACTIVE for c in connections
    )


def _save_state(record: SyncRecord):
    def save(state: dict) -> None:
        SyncRecord.objects.filter(
            pk=record.pk, status=RecordStatus.RUNNING, attempts=record.attempts
        ).update(step_state=state)

    return save


def _run_for(record: SyncRecord, attempt: SyncAttempt) -> Run:
    return Run(
        record=record,
        flow_config=record.flow_config,
        attempt=attempt,
        state=dict(record.step_state or {}),
        save_state=_save_state(record),
    )


def _execute(record: SyncRecord, attempt: SyncAttempt) -> str:
    started = time.monotonic()
    run = _run_for(record, attempt)
    steps: list[str] = []
    try:
        flow = registry.get(record.flow)
        if "load" in run.state:
            target_ids = _recall_load(run)
        elif flow.is_up_to_date(run):
            steps.append("skip")
            return _succeed(run, steps, {}, started, skipped=True)
        else:
            steps.append("extract")
            raw = flow.extract(run)
            steps.append("transform")
            document = flow.transform(run, raw)
            _remember_document(run, flow, document)
            steps.append("validate")
            flow.validate(run, document)
            steps.append("load")
            target_ids = flow.load(run, document) or {}
            if flow.has_confirm():
                _remember_load(run, target_ids)
        if flow.has_confirm():
            steps.append("confirm")
            flow.confirm(run, target_ids)
        return _succeed(run, steps, target_ids, started)
    except Exception as exc:  # noqa: BLE001 - every failure must end in a state
        error = classify(exc)
        return _fail(run, steps, error, exc, started)


def _execute_batch(claimed: list[tuple[SyncRecord, SyncAttempt]]) -> str:
    """Each record is read and checked on its own; the loads go in one call.

    A record that fails before the load fails alone; a load that fails as a
    whole (budget, outage) fails every record in it, each retried on its own.
    """
    started = time.monotonic()
    flow = registry.get(claimed[0][0].flow)
    ready: list[tuple[Run, list, object]] = []
    outcomes = []
    for record, attempt in claimed:
        run = _run_for(record, attempt)
        steps: list[str] = []
        if "load" in run.state:
            # Written by an earlier attempt: only the confirm is left, as in _execute.
            outcomes.append(_confirmed(flow, run, steps, _recall_load(run), started))
            continue
        try:
            if flow.is_up_to_date(run):
                steps.append("skip")
                outcomes.append(_succeed(run, steps, {}, started, skipped=True))
                continue
            steps.append("extract")
            raw = flow.extract(run)
            steps.append("transform")
            document = flow.transform(run, raw)
            _remember_document(run, flow, document)
            steps.append("validate")
            flow.validate(run, document)
        except Exception as exc:  # noqa: BLE001 - every failure must end in a state
            outcomes.append(_fail(run, steps, classify(exc), exc, started))
            continue
        ready.append((run, steps, document))
    if ready:
        runs = [run for run, _, _ in ready]
        for _, steps, _ in ready:
            steps.append(f"load (batch of {len(ready)})")
        try:
            results = flow.load_batch(runs, [document for _, _, document in ready])
        except Exception as exc:  # noqa: BLE001 - the whole call failed
            results = [exc] * len(ready)
        # One failure shared by several records (the batch's call) gives them one
        # retry time, so they come back as one batch, not scattered by jitter.
        together: dict[int, datetime] = {}
        for (run, steps, _), result in zip(ready, results, strict=True):
            if isinstance(result, BaseException):
                error = classify(result)
                at = together.setdefault(
                    id(result),
                    timezone.now()
                    + retry.backoff_delay(
                        run.record.attempts,
                        retry_after=getattr(error, "retry_after", None),
                    ),
                )
                outcomes.append(_fail(run, steps, error, result, started, retry_at=at))
            else:
                outcomes.append(_confirmed(flow, run, steps, result or {}, started))
    return outcomes[0] if len(outcomes) == 1 else f"batch of {len(claimed)}"


def _confirmed(flow, run: Run, steps: list, target_ids: dict, started: float):
    """A batched record's confirm, as ``_execute`` runs it: the write is
    remembered first, so a failed confirm is retried without writing again."""
    if not flow.has_confirm():
        return _succeed(run, steps, target_ids, started)
    try:
        if run.state.get("load") != target_ids:
            _remember_load(run, target_ids)
        steps.append("confirm")
        flow.confirm(run, target_ids)
    except Exception as exc:  # noqa: BLE001 - every failure must end in a state
        return _fail(run, steps, classify(exc), exc, started)
    return _succeed(run, steps, target_ids, started)


def _remember_load(run: Run, target_ids: dict) -> None:
    """The write and the cross-references it made, kept before the confirm:
    a failed confirm is retried without writing to the target a second time,
    and the retry's success still records the cross-references."""
    run.state["load"] = target_ids
    run.state["load_bindings"] = [list(binding) for binding in run.bindings]
    run.save_state(run.state)


def _recall_load(run: Run) -> dict:
    """An earlier attempt's write (see ``_remember_load``): its target ids, and
    its cross-references bound again on this attempt's success."""
    run.bindings = [tuple(b) for b in run.state.get("load_bindings") or []]
    return run.state["load"]


def _remember_document(run: Run, flow, document) -> None:
    """What the mappings made (for the record page) and what people search by."""
    try:
        safe = json.loads(json.dumps(document, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        safe = {"unreadable": repr(document)[:2000]}
    terms = _terms(run.record, flow.search_terms(run, document))
    run.record.search_text = terms
    SyncRecord.objects.filter(pk=run.record.pk).update(
        transformed=safe, search_text=terms
    )


def _terms(record: SyncRecord, terms, target_ids: dict | None = None) -> str:
    words = [record.source_id, *terms, *(str(v) for v in (target_ids or {}).values())]
    unique = dict.fromkeys(w.strip().lower() for w in words if w and str(w).strip())
    return " | ".join(unique)[:4000]


def _succeed(run: Run, steps, target_ids: dict, started: float, *, skipped=False):
    record, now = run.record, timezone.now()
    search = _terms(
        record,
        [t for t in (record.search_text or "").split(" | ") if t],
        {k: v for k, v in target_ids.items() if isinstance(v, str | int)},
    )
    with transaction.atomic():
        won = SyncRecord.objects.filter(
            pk=record.pk, status=RecordStatus.RUNNING, attempts=record.attempts
        ).update(
            status=RecordStatus.SUCCEEDED,
            search_text=search,
            target_ids=target_ids,
            step_state=run.state,
            lease_expires_at=None,
            claimed_by="",
            error_category="",
            error_field="",
            error_message="",
            finished_at=now,
            updated_at=now,
        )
        outcome = AttemptOutcome.SKIPPED if skipped else AttemptOutcome.SUCCEEDED
        if won != 1:
            # Our lease expired and the sweeper handed the record to someone else.
            # The flow's writes are idempotent, so the other attempt converges.
            outcome = AttemptOutcome.LOST
        else:
            _bind(run)
        _close_attempt(run, outcome, steps, started, target_ids=target_ids)
    return outcome


def _bind(run: Run) -> None:
    config = run.flow_config
    for kind, source_value, target_value in run.bindings:
        CrossReference.objects.update_or_create(
            kind=kind,
            source_connection_id=config.source_connection_id,
            target_connection_id=config.target_connection_id,
            source_value=source_value,
            defaults={"target_value": target_value},
        )


def _fail(
    run: Run,
    steps,
    error: SyncError,
    exc: BaseException,
    started: float,
    *,
    retry_at: datetime | None = None,
):
    from integrations.services import alerts, connections

    record, now = run.record, timezone.now()
    config = run.flow_config
    # The candidates a person must choose between, for the work queue.
    if isinstance(error, DuplicateAmbiguous):
        run.state["candidates"] = [str(c) for c in error.candidates]
    else:
        run.state.pop("candidates", None)
    exhausted = retry.attempts_exhausted(
        record.attempts
        // (3 if isinstance(error, RateLimited) else 1),  # waits for budget are cheap
        max_attempts=config.max_attempts,
    )
    message = error.message
    if isinstance(error, AuthRevoked):
        status, next_at = RecordStatus.RETRY_SCHEDULED, now + AUTH_WAIT
    elif error.retryable and not exhausted:
        delay = retry.backoff_delay(
            record.attempts, retry_after=getattr(error, "retry_after", None)
        )
        status, next_at = RecordStatus.RETRY_SCHEDULED, retry_at or now + delay
    else:
        status, next_at = RecordStatus.NEEDS_ATTENTION, None
        if error.retryable:
            message = f"Gave up after {record.attempts} attempts. {message}"
    outcome = (
        AttemptOutcome.RETRY_SCHEDULED
        if status == RecordStatus.RETRY_SCHEDULED
        else AttemptOutcome.NEEDS_ATTENTION
    )
    detail = error.detail or "".join(traceback.format_exception(exc))[-8000:]
    with transaction.atomic():
        won = SyncRecord.objects.filter(
            pk=record.pk, status=RecordStatus.RUNNING, attempts=record.attempts
        ).update(
            status=status,
            next_attempt_at=next_at,
            step_state=run.state,
            lease_expires_at=None,
            claimed_by="",
            error_category=error.category,
            error_field=error.field,
            error_message=message,
            finished_at=now if status == RecordStatus.NEEDS_ATTENTION else None,
            updated_at=now,
        )
        if won != 1:
            outcome = AttemptOutcome.LOST
        _close_attempt(
            run,
            outcome,
            steps,
            started,
            error=error,
            message=message,
            detail=detail,
        )
        if won == 1 and isinstance(error, AuthRevoked):
            connections.mark_needs_reauth(
                _refusing_connection(config, error), reason=error.message
            )
        if won == 1 and status == RecordStatus.NEEDS_ATTENTION:
            alerts.record_needs_attention(record.pk)
    if won == 1 and status == RecordStatus.RETRY_SCHEDULED and next_at:
        at = _whole_second_after(next_at)
        transaction.on_commit(
            lambda: dispatch.enqueue(record.pk, record.attempts + 1, at=at)
        )
    return outcome


def _whole_second_after(moment: datetime) -> datetime:
    """RQ keeps a scheduled job's time in whole seconds, rounded down: scheduled
    at ``moment`` itself the job could start just before the record is due,
    find it "not due" and leave it to the sweeper (every record of a batch that
    failed together, since they share one time)."""
    if not moment.microsecond:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def _refusing_connection(config, error: AuthRevoked):
    """The connection whose client raised; a flow raising it itself means the target."""
    for connection in (config.source_connection, config.target_connection):
        if connection is not None and connection.pk == error.connection_id:
            return connection
    if error.connection_id is not None:
        # A third connection the flow writes to (e.g. the Xero one an option names).
        from integrations.models import Connection

        other = Connection.objects.filter(pk=error.connection_id).first()
        if other is not None:
            return other
    return config.target_connection or config.source_connection


def _close_attempt(run: Run, outcome, steps, started, *, target_ids=None, error=None,
                   message="", detail="") -> None:  # fmt: skip
    SyncAttempt.objects.filter(pk=run.attempt.pk).update(
        outcome=outcome,
        finished_at=timezone.now(),
        steps_run=steps,
        api_calls=run.api_calls,
        target_ids=target_ids or {},
        error_category=error.category if error else "",
        error_field=error.field if error else "",
        error_message=message,
        error_detail=detail,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
