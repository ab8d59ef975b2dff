"""Count and age thresholds, daily digests, and alerts delivered within a minute."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from integrations.engine import runner, schedules
from integrations.models import Alert, AlertRule, RecordStatus, SyncRecord
from integrations.services import alerts
from tests.factories import FlowConfigFactory, SyncRecordFactory
from tests.support.capture import capturing_server

pytestmark = pytest.mark.django_db


def failed(*, waited: timedelta = timedelta(0), category: str = "validation", **kw):
    record = SyncRecordFactory(
        status=RecordStatus.NEEDS_ATTENTION,
        error_category=category,
        error_message="Quantity must be positive.",
        **kw,
    )
    SyncRecord.objects.filter(pk=record.pk).update(finished_at=timezone.now() - waited)
    return record


def test_count_rule_fires_when_the_count_is_reached():
    rule = AlertRule.objects.create(
        name="Pile-up", channel="email", recipients="ops@x.io", min_count=3
    )

    raised = [alerts.record_needs_attention(failed().pk) for _ in range(3)]

    assert raised[:2] == [[], []]
    (alert,) = raised[2]
    assert alert.rule == rule
    assert "3 records have needed attention" in alert.message
    assert "/admin/integrations/syncrecord/?status__exact=needs_attention" in (
        alert.message
    )


def test_count_rule_counts_only_its_flow_and_category():
    AlertRule.objects.create(
        name="Scripted validation",
        channel="email",
        recipients="ops@x.io",
        flow="test_scripted",
        category="validation",
        min_count=2,
    )
    scripted = FlowConfigFactory(flow="test_scripted")
    failed(category="referential", flow_config=scripted)
    failed()  # another flow

    assert alerts.record_needs_attention(failed(flow_config=scripted).pk) == []
    (alert,) = alerts.record_needs_attention(failed(flow_config=scripted).pk)
    assert "2 records in test_scripted with validation errors" in alert.message
    assert "flow=test_scripted" in alert.message
    assert "error_category__exact=validation" in alert.message


def test_age_rule_waits_for_the_periodic_check():
    rule = AlertRule.objects.create(
        name="Old ones", channel="email", recipients="ops@x.io", min_age_minutes=30
    )
    young = failed(waited=timedelta(minutes=5))

    assert alerts.record_needs_attention(young.pk) == []
    assert alerts.check() == []

    old = failed(waited=timedelta(minutes=31))
    (alert,) = alerts.check()

    assert alert.rule == rule and alert.record == old
    assert "1 record has needed attention for 30 min or more" in alert.message
    assert f"{old.source_id}, has waited 31 min" in alert.message


def test_threshold_alerts_respect_the_cool_down():
    AlertRule.objects.create(
        name="Old ones",
        channel="email",
        recipients="ops@x.io",
        min_age_minutes=10,
        cooldown_minutes=60,
    )
    failed(waited=timedelta(minutes=20))

    assert len(alerts.check()) == 1
    assert alerts.check() == []
    assert alerts.check(now=timezone.now() + timedelta(minutes=61)) != []


def test_single_record_rules_are_not_repeated_by_the_periodic_check():
    AlertRule.objects.create(name="Each", channel="email", recipients="o@x.io")
    failed(waited=timedelta(hours=2))

    assert alerts.check() == []


def test_daily_digest_goes_out_once_a_day_after_its_hour():
    rule = AlertRule.objects.create(
        name="Morning", channel="email", recipients="ops@x.io", daily_digest=True
    )
    failed(waited=timedelta(hours=3))
    failed(waited=timedelta(hours=1), category="referential")
    morning = timezone.now().astimezone(UTC)
    day = datetime(morning.year, morning.month, morning.day, tzinfo=UTC)

    assert alerts.check(now=day + timedelta(hours=6), digest_hour=7) == []
    (digest,) = alerts.check(now=day + timedelta(hours=7, minutes=1), digest_hour=7)
    assert alerts.check(now=day + timedelta(hours=20), digest_hour=7) == []
    assert len(alerts.check(now=day + timedelta(days=1, hours=8), digest_hour=7)) == 1

    assert digest.record is None
    assert digest.message.startswith("Daily digest (Morning): 2 records need")
    assert "By cause: Missing reference 1, Validation 1" in digest.message
    assert "By flow: test_effect 2" in digest.message
    rule.refresh_from_db()
    assert rule.last_digest_at == day + timedelta(days=1, hours=8)


def test_a_digest_does_not_silence_the_next_failure():
    AlertRule.objects.create(
        name="Both", channel="email", recipients="ops@x.io", daily_digest=True
    )
    digests = alerts.check(digest_hour=0)
    assert [d.message for d in digests] == [
        "Daily digest (Both): nothing needs attention."
    ]

    assert len(alerts.record_needs_attention(failed().pk)) == 1


def test_scheduler_tick_runs_the_alert_check_once_per_interval(redis_conn):
    AlertRule.objects.create(
        name="Old ones", channel="email", recipients="ops@x.io", min_age_minutes=1
    )
    failed(waited=timedelta(minutes=2))

    first, second = schedules.tick(), schedules.tick()

    assert (first["alerts"], second["alerts"]) == (1, 0)
    assert Alert.objects.count() == 1


def test_webhook_alert_reaches_the_chat_within_a_minute_of_the_failure(
    redis_conn, queue, django_capture_on_commit_callbacks, settings
):
    settings.LEDGERBRIDGE = {
        **settings.LEDGERBRIDGE,
        "PORTAL_URL": "https://bridge.example.com/",
    }
    record = SyncRecordFactory(
        flow_config=FlowConfigFactory(flow="test_scripted"),
        payload={"id": "X1", "amount": -5},
    )
    with capturing_server() as (url, received):
        AlertRule.objects.create(name="Chat", channel="webhook", webhook_url=url)
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            runner.run_record(record.pk, worker="test")
        (job,) = [job for job in queue.jobs if job.func_name.endswith("deliver_alert")]
        # What the worker's deliver_alert job does, minus closing the test's
        # database connection.
        assert alerts.deliver(*job.args)
        elapsed = time.monotonic() - started

    assert elapsed < 60
    ((content_type, body),) = received
    assert content_type == "application/json"
    assert "The amount cannot be negative." in body["text"]
    assert (
        f"https://bridge.example.com/admin/integrations/syncrecord/{record.pk}/change/"
        in body["text"]
    )
    assert Alert.objects.get().delivered_at is not None


def test_email_digest_is_delivered_with_a_link_to_the_queue():
    AlertRule.objects.create(
        name="Morning", channel="email", recipients="ops@x.io", daily_digest=True
    )
    failed()
    (digest,) = alerts.check(digest_hour=0)

    assert alerts.deliver(digest.pk)

    (message,) = mail.outbox
    assert message.subject == "LedgerBridge: Morning"
    assert "Open the queue: /admin/integrations/syncrecord/?status__exact=" in (
        message.body
    )
