"""The scheduler's tick: start due polls and the sweeper.

Schedules live in the database (FlowConfig.schedule and ChangeFeed.interval_seconds,
editable in the admin). Several schedulers may run; a compare-and-set on
``next_run_at`` / ``next_poll_at`` and a Redis lock on the sweep make each due run
start once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from croniter import croniter
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job

from integrations.models import ChangeFeed, ConnectionStatus, FlowConfig, Trigger

logger = logging.getLogger(__name__)


def next_run(schedule: str, after: datetime) -> datetime:
    return croniter(schedule, after).get_next(datetime)


def tick(*, now: datetime | None = None) -> dict:
    from integrations.engine import dispatch

    now = now or timezone.now()
    started = {"polls": 0, "feeds": 0, "sweep": False, "checks": 0, "alerts": 0}
    due = FlowConfig.objects.filter(
        Q(next_run_at__isnull=True) | Q(next_run_at__lte=now),
        enabled=True,
        trigger__in=[Trigger.POLL, Trigger.SCHEDULE],
    ).exclude(schedule="")
    for config in due:
        following = next_run(config.schedule, now)
        claimed = FlowConfig.objects.filter(
            pk=config.pk, next_run_at=config.next_run_at
        ).update(next_run_at=following, last_run_at=now)
        if claimed and config.next_run_at is not None:
            _enqueue_poll(dispatch.queue(), config.pk)
            started["polls"] += 1
    started["feeds"] = _start_due_feeds(dispatch.queue(), now)
    started["sweep"] = _sweep_if_due(dispatch.queue())
    started["checks"] = _check_connections_if_due(dispatch.queue())
    started["alerts"] = _check_alerts_if_due(dispatch.queue(), now)
    return started


# Alert thresholds and digests are checked this often, so a count or age alert
# goes out well within a minute of the threshold being reached.
ALERT_CHECK_SECONDS = 20


def _check_alerts_if_due(queue, now: datetime) -> int:
    """Count/age alert rules and daily digests, here (a few aggregate queries),
    at most once per interval across schedulers (Redis lock)."""
    from integrations.services import alerts

    try:
        if not queue.connection.set(
            "ledgerbridge:alert-check-lock", "1", nx=True, ex=ALERT_CHECK_SECONDS
        ):
            return 0
    except RedisError:
        logger.warning("Redis unavailable; checking alert rules without the lock")
    return len(alerts.check(now=now))


def _check_connections_if_due(queue) -> int:
    """Test due connections in workers, one job each (an unreachable system
    waits out its timeouts alone), at most once per interval (Redis lock)."""
    from integrations.jobs import check_connection
    from integrations.services import connection_checks

    interval = settings.LEDGERBRIDGE["CONNECTION_CHECK_SECONDS"]
    try:
        if not queue.connection.set(
            "ledgerbridge:connection-check-lock", "1", nx=True, ex=interval
        ):
            return 0
        due = connection_checks.due_ids()
        for connection_id in due:
            queue.enqueue(
                check_connection, connection_id, job_timeout=120, result_ttl=600
            )
        return len(due)
    except RedisError:
        logger.warning("Redis unavailable; connection checks skipped this time")
        return 0


def _start_due_feeds(queue, now: datetime) -> int:
    """Enqueue each due change feed once; a new feed (no next_poll_at) is due."""
    due = ChangeFeed.objects.filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now),
        enabled=True,
        connection__status=ConnectionStatus.ACTIVE,
    ).only("pk", "next_poll_at", "interval_seconds")
    started = 0
    for feed in due:
        following = now + timedelta(seconds=feed.interval_seconds)
        claimed = ChangeFeed.objects.filter(
            pk=feed.pk, next_poll_at=feed.next_poll_at
        ).update(next_poll_at=following)
        if claimed and _enqueue_feed(queue, feed.pk):
            started += 1
    return started


def feed_job_id(feed_id: int) -> str:
    return f"change-feed-{feed_id}"


def _enqueue_feed(queue, feed_id: int) -> bool:
    """One poll per feed in the queue at a time: a slow Sage (polls longer than
    the interval) must not pile polls up behind each other."""
    from integrations.engine.dispatch import TERMINAL
    from integrations.jobs import poll_change_feed

    job_id = feed_job_id(feed_id)
    options = {"job_timeout": 600, "result_ttl": 0, "failure_ttl": 86400}
    try:
        for _ in range(2):
            try:
                queue.enqueue(
                    poll_change_feed, feed_id, job_id=job_id, unique=True, **options
                )
                return True
            except DuplicateJobError:
                try:
                    job = Job.fetch(job_id, connection=queue.connection)
                except NoSuchJobError:
                    continue  # it finished in between
                status = job.get_status(refresh=False)
                if status is not None and status not in TERMINAL:
                    return False  # still waiting or running: that poll will do
                job.delete(remove_from_queue=True)  # a failed one keeps its id
    except RedisError:
        logger.warning("Redis unavailable; poll of change feed %s skipped", feed_id)
    return False


def _enqueue_poll(queue, config_id: int) -> None:
    from integrations.jobs import poll_flow

    try:
        queue.enqueue(poll_flow, config_id, job_timeout=600, result_ttl=3600)
    except RedisError:
        logger.warning(
            "Redis unavailable; poll of flow %s skipped this time", config_id
        )


def _sweep_if_due(queue) -> bool:
    from integrations.jobs import sweep

    interval = settings.LEDGERBRIDGE["SWEEP_INTERVAL_SECONDS"]
    try:
        if not queue.connection.set(
            "ledgerbridge:sweep-lock", "1", nx=True, ex=interval
        ):
            return False
        queue.enqueue(sweep, job_timeout=300, result_ttl=600)
        return True
    except RedisError:
        logger.warning("Redis unavailable; running the sweep in the scheduler")
        from integrations.engine.sweeper import sweep as sweep_now

        sweep_now()
        return True
