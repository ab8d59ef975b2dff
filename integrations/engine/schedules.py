"""The scheduler's tick: start due polls and the sweeper.

Schedules live in the database (FlowConfig.schedule, editable in the admin).
Several schedulers may run; a compare-and-set on ``next_run_at`` and a Redis lock
on the sweep make each due run start once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from croniter import croniter
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError

from integrations.models import FlowConfig, Trigger

logger = logging.getLogger(__name__)


def next_run(schedule: str, after: datetime) -> datetime:
    return croniter(schedule, after).get_next(datetime)


def tick(*, now: datetime | None = None) -> dict:
    from integrations.engine import dispatch

    now = now or timezone.now()
    started = {"polls": 0, "sweep": False}
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
    started["sweep"] = _sweep_if_due(dispatch.queue())
    return started


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
