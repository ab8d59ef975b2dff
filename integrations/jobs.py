"""RQ entry points: thin, id-based, so switching to django.tasks is mechanical."""

from __future__ import annotations

from django.db import close_old_connections
from rq import get_current_job


def _worker_name() -> str | None:
    job = get_current_job()
    return getattr(job, "worker_name", None) if job else None


def run_sync_record(record_id: int) -> str:
    from integrations.engine import runner

    close_old_connections()
    return runner.run_record(record_id, worker=_worker_name())


def sweep() -> dict:
    from integrations.engine import sweeper

    close_old_connections()
    return vars(sweeper.sweep())


def poll_flow(flow_config_id: int) -> int:
    from integrations.services import polling

    close_old_connections()
    return polling.poll(flow_config_id)


def deliver_alert(alert_id: int) -> bool:
    from integrations.services import alerts

    close_old_connections()
    return alerts.deliver(alert_id)


def poll_change_feed(feed_id: int) -> dict:
    from dataclasses import asdict

    from integrations.services import changefeeds

    close_old_connections()
    return asdict(changefeeds.poll_feed(feed_id))


def check_connection(connection_id: int) -> bool | None:
    from integrations.services import connection_checks

    close_old_connections()
    result = connection_checks.check_by_id(connection_id)
    return None if result is None else result.ok
