"""Test a connection: can we reach the system with the stored settings and secrets?

A person presses "Test connection" in the admin; the scheduler also tests every
active connection every few minutes, so the connections page and the dashboard
say "healthy" or "failing" before a record has to find out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from integrations.engine import clients
from integrations.engine.errors import SyncError
from integrations.models import Connection, ConnectionStatus, System

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    ok: bool | None  # None: this kind of connection cannot be tested
    message: str
    details: dict


def check(connection: Connection) -> CheckResult:
    """Reach the system once and remember the answer on the connection."""
    if connection.system == System.GENERIC and not connection.settings.get("url"):
        # A generic connection without a URL only receives signed webhooks.
        result = CheckResult(None, "Receives webhooks only; nothing to call.", {})
        return _remember(connection, result)
    try:
        client = clients.build(connection)
    except LookupError as exc:
        result = CheckResult(None, str(exc), {})
    except SyncError as exc:
        result = CheckResult(False, exc.message, {"field": exc.field})
    else:
        result = _ping(client)
    return _remember(connection, result)


def _remember(connection: Connection, result: CheckResult) -> CheckResult:
    now = timezone.now()
    updates = {
        "last_checked_at": now,
        "last_check_ok": result.ok,
        "last_check_message": result.message[:500],
    }
    if result.ok:
        updates["last_success_at"] = now
    Connection.objects.filter(pk=connection.pk).update(**updates)
    for name, value in updates.items():
        setattr(connection, name, value)
    return result


def _ping(client) -> CheckResult:
    ping = getattr(client, "ping", None)
    if ping is None:
        return CheckResult(None, "This kind of connection has no test call.", {})
    try:
        details = ping() or {}
    except SyncError as exc:
        return CheckResult(False, exc.message, {"category": exc.category})
    except Exception as exc:  # a test must report, never crash
        logger.exception("connection test failed unexpectedly")
        return CheckResult(False, f"Unexpected error: {type(exc).__name__}: {exc}", {})
    summary = details.pop("summary", "") if isinstance(details, dict) else ""
    return CheckResult(True, summary or "Reached it.", details)


def due_ids(*, now: datetime | None = None) -> list[int]:
    """Active connections not tested within the interval."""
    now = now or timezone.now()
    interval = timedelta(seconds=settings.LEDGERBRIDGE["CONNECTION_CHECK_SECONDS"])
    due = Connection.objects.filter(status=ConnectionStatus.ACTIVE).filter(
        Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=now - interval)
    )
    return list(due.values_list("pk", flat=True))


def check_by_id(connection_id: int) -> CheckResult | None:
    connection = Connection.objects.filter(pk=connection_id).first()
    return None if connection is None else check(connection)


def check_due(*, now: datetime | None = None) -> int:
    """Test, here and now, every connection that is due (the scheduler instead
    gives each its own job, so one unreachable system cannot hold up the rest)."""
    ids = due_ids(now=now)
    for connection_id in ids:
        check_by_id(connection_id)
    return len(ids)
