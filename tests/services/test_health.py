"""Figures for the dashboard and the connections page, from aggregates and Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from integrations.engine import clients
from integrations.engine.throttle import Throttle
from integrations.models import (
    Connection,
    ConnectionStatus,
    RecordStatus,
    SyncRecord,
    System,
)
from integrations.services import connection_checks, health
from tests.factories import ConnectionFactory, FlowConfigFactory, SyncRecordFactory
from tests.support.salesforce import running_salesforce

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)


def arrived(ago: timedelta, status: str = RecordStatus.SUCCEEDED, **fields):
    if status == RecordStatus.NEEDS_ATTENTION:
        fields.setdefault("error_category", "validation")
    if status == RecordStatus.RETRY_SCHEDULED:
        fields.setdefault("next_attempt_at", NOW)
    record = SyncRecordFactory(status=status, **fields)
    SyncRecord.objects.filter(pk=record.pk).update(created_at=NOW - ago)
    return record


def test_records_are_counted_in_the_hour_and_day_they_arrived():
    arrived(timedelta(minutes=10))
    arrived(timedelta(minutes=20), RecordStatus.NEEDS_ATTENTION)
    arrived(timedelta(hours=5))
    arrived(timedelta(days=3))
    arrived(timedelta(days=31))  # too old for either chart

    figures = health.activity(now=NOW)

    assert len(figures.hours) == 24 and len(figures.days) == 30
    assert figures.hours[-1] == "2025-03-12 15"
    assert figures.by_hour["succeeded"][-1] == 1
    assert figures.by_hour["needs_attention"][-1] == 1
    assert figures.by_hour["succeeded"][-6] == 1  # 10:xx
    assert sum(figures.by_hour["succeeded"]) == 2
    assert figures.days[-1] == "2025-03-12"
    assert figures.by_day["succeeded"][-1] == 2
    assert figures.by_day["succeeded"][-4] == 1
    assert sum(sum(series) for series in figures.by_day.values()) == 4


def test_throughput_counts_records_by_the_hour_they_succeeded():
    done = arrived(timedelta(days=2))
    SyncRecord.objects.filter(pk=done.pk).update(finished_at=NOW - timedelta(hours=2))
    arrived(timedelta(hours=1), RecordStatus.NEEDS_ATTENTION, finished_at=NOW)

    figures = health.activity(now=NOW)

    assert figures.succeeded_by_hour[-3] == 1
    assert sum(figures.succeeded_by_hour) == 1


def test_flows_are_counted_per_period():
    orders = FlowConfigFactory(flow="test_scripted")
    arrived(timedelta(hours=2), flow_config=orders)
    arrived(timedelta(days=10), RecordStatus.IGNORED, flow_config=orders)

    figures = health.activity(now=NOW)

    assert figures.flows_24h["test_scripted"]["succeeded"] == 1
    assert figures.flows_24h["test_scripted"]["ignored"] == 0
    assert figures.flows_30d["test_scripted"]["ignored"] == 1


def test_calls_today_come_from_the_shared_throttles_day_counter(redis_conn):
    budgeted = ConnectionFactory(calls_per_day=1000)
    per_minute_only = ConnectionFactory(calls_per_minute=60)
    unbudgeted = ConnectionFactory()
    for _ in range(3):
        clients.throttle_for(budgeted).take()
    clients.throttle_for(per_minute_only).take()

    counted = health.calls_today([budgeted, per_minute_only, unbudgeted])

    assert counted[budgeted.pk] == health.ApiUsage(3, 1000)
    assert counted[per_minute_only.pk] == health.ApiUsage(1, None)
    assert unbudgeted.pk not in counted


def test_yesterdays_calls_are_not_todays(redis_conn):
    connection = ConnectionFactory(calls_per_day=1000)
    throttle: Throttle = clients.throttle_for(connection)
    throttle.take(now=NOW.timestamp() - 86400)

    counted = health.calls_today([connection], now=NOW)

    assert counted[connection.pk] == health.ApiUsage(0, 1000)


@pytest.mark.parametrize(
    ("status", "last_check_ok", "expected"),
    [
        (ConnectionStatus.ACTIVE, None, "unknown"),
        (ConnectionStatus.ACTIVE, True, "healthy"),
        (ConnectionStatus.ACTIVE, False, "failing"),
        (ConnectionStatus.NEEDS_REAUTH, True, "needs_reauth"),
        (ConnectionStatus.DISABLED, True, "disabled"),
    ],
)
def test_a_connections_state_puts_its_status_before_its_latest_test(
    status, last_check_ok, expected
):
    connection = ConnectionFactory(status=status, last_check_ok=last_check_ok)
    assert health.state(connection) == expected


def test_xero_is_connected_in_the_browser_unless_it_is_a_custom_connection(
    redis_conn,
):
    xero = ConnectionFactory(system=System.XERO)
    custom = ConnectionFactory(
        system=System.XERO, settings={"grant": "client_credentials"}
    )

    (figures, custom_figures) = health.connection_health([xero, custom])

    assert figures.reauthorise == "available"
    assert "Connect to Xero" in figures.reauthorise_note
    assert custom_figures.reauthorise == ""


@pytest.fixture
def salesforce(tmp_path):
    from integrations.connectors.salesforce.client import forget_tokens

    forget_tokens()
    with running_salesforce(tmp_path) as running:
        yield running
    forget_tokens()


@pytest.fixture
def salesforce_connection(salesforce):
    settings, credentials = salesforce.connection("password")
    return ConnectionFactory(
        system=System.SALESFORCE,
        settings={**settings, health.SESSION_TIMEOUT_SETTING: 120},
        credentials=credentials,
    )


def test_salesforce_login_and_api_use_are_known_after_a_test(
    salesforce_connection, redis_conn
):
    (before,) = health.connection_health([salesforce_connection])
    assert (before.logged_in_at, before.vendor_usage) == (None, None)

    assert connection_checks.check(salesforce_connection).ok

    (after,) = health.connection_health([salesforce_connection])
    assert after.vendor_usage is not None and after.vendor_usage.used > 0
    assert after.vendor_usage.limit > after.vendor_usage.used
    assert after.token_expires_at - after.logged_in_at == timedelta(minutes=120)
    assert after.reauthorise == "available"


def test_salesforce_expiry_is_unknown_without_the_session_timeout(
    salesforce, redis_conn
):
    settings, credentials = salesforce.connection("jwt")
    connection = ConnectionFactory(
        system=System.SALESFORCE, settings=settings, credentials=credentials
    )
    connection_checks.check(connection)

    (figures,) = health.connection_health([connection])

    assert figures.logged_in_at is not None
    assert figures.token_expires_at is None


def test_reauthorising_salesforce_logs_in_afresh_and_wakes_waiting_records(
    salesforce_connection, redis_conn
):
    from integrations.connectors.salesforce.client import cached_token
    from integrations.connectors.salesforce.settings import SalesforceSettings

    conf = SalesforceSettings.from_connection(
        salesforce_connection.settings, salesforce_connection.credentials
    )
    connection_checks.check(salesforce_connection)
    first = cached_token(conf)
    Connection.objects.filter(pk=salesforce_connection.pk).update(
        status=ConnectionStatus.NEEDS_REAUTH, status_message="Session revoked"
    )
    salesforce_connection.refresh_from_db()
    waiting = SyncRecordFactory(
        flow_config=FlowConfigFactory(target_connection=salesforce_connection),
        status=RecordStatus.RETRY_SCHEDULED,
        next_attempt_at=timezone.now() + timedelta(days=365),
    )

    result, woken = health.reauthorise_salesforce(salesforce_connection)

    assert result.ok and woken == 1
    assert cached_token(conf).access_token != first.access_token
    salesforce_connection.refresh_from_db()
    assert salesforce_connection.status == ConnectionStatus.ACTIVE
    waiting.refresh_from_db()
    assert waiting.next_attempt_at <= timezone.now()


def test_reauthorising_with_wrong_secrets_leaves_the_connection_waiting(
    salesforce_connection, redis_conn
):
    salesforce_connection.credentials = {
        **salesforce_connection.credentials,
        "password": "not-it",
    }
    salesforce_connection.status = ConnectionStatus.NEEDS_REAUTH
    salesforce_connection.save()

    result, woken = health.reauthorise_salesforce(salesforce_connection)

    assert result.ok is False and woken == 0
    salesforce_connection.refresh_from_db()
    assert salesforce_connection.status == ConnectionStatus.NEEDS_REAUTH
