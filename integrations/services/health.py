"""Figures for the dashboard and the connections page.

Everything here is an aggregate query or a Redis read, never a loop over
records, so the pages stay quick with millions of records, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone
from redis.exceptions import RedisError

from integrations.engine import clients
from integrations.engine.errors import SyncError
from integrations.models import (
    Connection,
    ConnectionStatus,
    RecordStatus,
    SyncRecord,
    System,
)

# Connection.settings key: Salesforce's session timeout (Setup > Session Settings).
# The token answer does not say how long a session lasts, so only the admin can.
SESSION_TIMEOUT_SETTING = "session_timeout_minutes"


@dataclass(frozen=True)
class Activity:
    """Records over time, for the charts. Every series has one number per bucket."""

    hours: list[str]  # "2025-01-31 14" (local time), oldest first, 24 of them
    days: list[str]  # "2025-01-31", oldest first, 30 of them
    by_hour: dict[str, list[int]]  # status -> records that arrived in each hour
    by_day: dict[str, list[int]]  # status -> records that arrived on each day
    succeeded_by_hour: list[int]  # records that finished successfully, per hour
    flows_24h: dict[str, dict[str, int]]  # flow -> status -> records (last 24 h)
    flows_30d: dict[str, dict[str, int]]  # flow -> status -> records (last 30 d)


def activity(*, now: datetime | None = None) -> Activity:
    """Records by status and flow over the last 24 hours and 30 days."""
    now = now or timezone.now()
    hours = [_hour_key(now - timedelta(hours=i)) for i in range(23, -1, -1)]
    days = [_day_key(now - timedelta(days=i)) for i in range(29, -1, -1)]
    hour_since = now - timedelta(hours=24)
    day_since = now - timedelta(days=30)
    records = SyncRecord.objects.order_by()

    by_hour = _series(
        records.filter(created_at__gt=hour_since)
        .annotate(bucket=TruncHour("created_at"))
        .values_list("bucket", "status")
        .annotate(n=Count("pk")),
        hours,
        _hour_key,
    )
    by_day = _series(
        records.filter(created_at__gt=day_since)
        .annotate(bucket=TruncDay("created_at"))
        .values_list("bucket", "status")
        .annotate(n=Count("pk")),
        days,
        _day_key,
    )
    succeeded = _series(
        records.filter(status=RecordStatus.SUCCEEDED, finished_at__gt=hour_since)
        .annotate(bucket=TruncHour("finished_at"))
        .values_list("bucket", "status")
        .annotate(n=Count("pk")),
        hours,
        _hour_key,
    )[RecordStatus.SUCCEEDED]
    return Activity(
        hours=hours,
        days=days,
        by_hour=by_hour,
        by_day=by_day,
        succeeded_by_hour=succeeded,
        flows_24h=_by_flow(records.filter(created_at__gt=hour_since)),
        flows_30d=_by_flow(records.filter(created_at__gt=day_since)),
    )


def _hour_key(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H")


def _day_key(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d")


def _series(rows, keys: list[str], key_of) -> dict[str, list[int]]:
    position = {key: i for i, key in enumerate(keys)}
    series = {status: [0] * len(keys) for status in RecordStatus.values}
    for bucket, status, n in rows:
        i = position.get(key_of(bucket))
        if i is not None and status in series:
            series[status][i] += n
    return series


def _by_flow(records) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for flow, status, n in records.values_list("flow", "status").annotate(
        n=Count("pk")
    ):
        table.setdefault(flow, dict.fromkeys(RecordStatus.values, 0))[status] = n
    return dict(sorted(table.items()))


# -- connections ----------------------------------------------------------------


@dataclass(frozen=True)
class ApiUsage:
    """Calls counted against a daily allowance; ``limit`` None: no allowance set."""

    used: int
    limit: int | None


@dataclass(frozen=True)
class ConnectionHealth:
    connection: Connection
    state: str  # healthy | failing | unknown | needs_reauth | disabled
    calls_today: ApiUsage | None  # our shared throttle's count; None: not counted
    vendor_usage: ApiUsage | None  # what the system itself last said (Salesforce)
    logged_in_at: datetime | None
    token_expires_at: datetime | None
    reauthorise: str  # "" (not OAuth) | "available" | "unavailable"
    reauthorise_note: str


def connection_health(
    connections: list[Connection] | None = None, *, now: datetime | None = None
) -> list[ConnectionHealth]:
    """Each connection's state, API use today and login, in one Redis round trip."""
    if connections is None:
        connections = list(Connection.objects.all())
    counted = calls_today(connections, now=now)
    return [_health(c, counted.get(c.pk)) for c in connections]


def calls_today(
    connections: list[Connection], *, now: datetime | None = None
) -> dict[int, ApiUsage]:
    """Calls made today (UTC day) under each connection's shared throttle.

    The throttle only counts when the connection has a per-minute or per-day
    budget; connections without one are left out. Redis being down leaves
    everyone out rather than failing the page.
    """
    counted = [
        c
        for c in connections
        # Xero connections are always counted, against Xero's own limits.
        if c.calls_per_minute or c.calls_per_day or c.system == System.XERO
    ]
    if not counted:
        return {}
    day = int((now.timestamp() if now else time.time()) // 86400)
    keys = [f"{clients.throttle_for(c).key}:d:{day}" for c in counted]
    try:
        from integrations.engine.dispatch import queue

        values = queue().connection.mget(keys)
    except RedisError:
        return {}
    return {
        c.pk: ApiUsage(int(value or 0), _daily_limit(c))
        for c, value in zip(counted, values, strict=True)
    }


def _daily_limit(connection: Connection) -> int | None:
    if connection.system == System.XERO and not connection.calls_per_day:
        from integrations.connectors.xero.settings import XERO_LIMITS

        return XERO_LIMITS.per_day
    return connection.calls_per_day


def _health(connection: Connection, calls: ApiUsage | None) -> ConnectionHealth:
    vendor = logged_in = expires = None
    if connection.system == System.SALESFORCE:
        vendor, logged_in, expires = _salesforce_session(connection)
    reauthorise, note = _reauthorise(connection)
    return ConnectionHealth(
        connection=connection,
        state=state(connection),
        calls_today=calls,
        vendor_usage=vendor,
        logged_in_at=logged_in,
        token_expires_at=expires,
        reauthorise=reauthorise,
        reauthorise_note=note,
    )


def state(connection: Connection) -> str:
    """One word for a connection: its status first, then its latest test."""
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        return "needs_reauth"
    if connection.status == ConnectionStatus.DISABLED:
        return "disabled"
    if connection.last_check_ok is None:
        return "unknown"
    return "healthy" if connection.last_check_ok else "failing"


def _reauthorise(connection: Connection) -> tuple[str, str]:
    if connection.system == System.SALESFORCE:
        return (
            "available",
            "Logs in afresh with the stored secrets and, when that works, "
            "makes the connection active again.",
        )
    if connection.system == System.XERO:
        if (connection.settings or {}).get("grant") == "client_credentials":
            return "", ""  # a custom connection logs in with its client secret
        return (
            "available",
            "Connect to Xero: consent on Xero's page, then choose the organisation.",
        )
    return "", ""


def _salesforce_session(connection: Connection):
    """What this process's Salesforce connector knows: API use and its login.

    The connector keeps both per process; a worker that logged in knows more
    than the web server, which learns them from "Test connection".
    """
    from integrations.connectors.salesforce.client import SalesforceClient, cached_token
    from integrations.connectors.salesforce.settings import SalesforceSettings

    try:
        conf = SalesforceSettings.from_connection(
            connection.settings, connection.credentials
        )
    except SyncError:
        return None, None, None
    usage = SalesforceClient(conf).api_usage
    vendor = ApiUsage(*usage) if usage else None
    token = cached_token(conf)
    if token is None:
        return vendor, None, None
    logged_in = datetime.fromtimestamp(token.issued_at, tz=UTC)
    minutes = connection.settings.get(SESSION_TIMEOUT_SETTING)
    try:
        lifetime = timedelta(minutes=float(minutes)) if minutes else None
    except (TypeError, ValueError):
        lifetime = None
    return vendor, logged_in, lifetime and logged_in + lifetime


def reauthorise_salesforce(connection: Connection):
    """Forget this process's login, log in again and, if it works, reactivate.

    Username-password, JWT and client-credentials logins have no browser
    consent: re-authorising is logging in afresh with the stored secrets.
    Returns ``(check result, records woken)``.
    """
    from integrations.connectors.salesforce.client import forget_token
    from integrations.connectors.salesforce.settings import SalesforceSettings
    from integrations.services import connection_checks, connections

    # Settings that do not parse leave nothing to forget; the check names them.
    with suppress(SyncError):
        forget_token(
            SalesforceSettings.from_connection(
                connection.settings, connection.credentials
            )
        )
    result = connection_checks.check(connection)
    woken = connections.reauthorised(connection) if result.ok else 0
    return result, woken
