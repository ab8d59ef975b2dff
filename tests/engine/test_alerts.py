import pytest
from django.core import mail

from integrations.models import Alert, AlertRule, RecordStatus
from integrations.services import alerts
from tests.factories import SyncRecordFactory
from tests.support.capture import capturing_server

pytestmark = pytest.mark.django_db


def _failed(**kwargs):
    return SyncRecordFactory(
        status=RecordStatus.NEEDS_ATTENTION,
        error_category="validation",
        error_message="Quantity must be positive.",
        **kwargs,
    )


def test_matching_rule_raises_one_alert_within_its_cooldown():
    rule = AlertRule.objects.create(
        name="Ops", channel="email", recipients="ops@example.com", category="validation"
    )
    AlertRule.objects.create(
        name="Auth only", channel="email", recipients="it@example.com", category="auth"
    )
    first = alerts.record_needs_attention(_failed().pk)
    second = alerts.record_needs_attention(_failed().pk)

    assert [a.rule for a in first] == [rule]
    assert second == []
    assert "Quantity must be positive." in first[0].message


def test_email_alert_is_delivered():
    AlertRule.objects.create(name="Ops", channel="email", recipients="a@x.io, b@x.io")
    (alert,) = alerts.record_needs_attention(_failed().pk)

    assert alerts.deliver(alert.pk)
    assert mail.outbox[0].to == ["a@x.io", "b@x.io"]
    assert Alert.objects.get().delivered_at is not None


def test_chat_webhook_alert_posts_slack_compatible_json():
    with capturing_server() as (url, received):
        AlertRule.objects.create(name="Chat", channel="webhook", webhook_url=url)
        (alert,) = alerts.record_needs_attention(_failed().pk)
        assert alerts.deliver(alert.pk)

    ((content_type, body),) = received
    assert content_type == "application/json"
    assert set(body) == {"text"}
    assert "needs attention (Validation)" in body["text"]


def test_failed_delivery_keeps_the_reason():
    with capturing_server(status=500) as (url, _):
        AlertRule.objects.create(name="Chat", channel="webhook", webhook_url=url)
        (alert,) = alerts.record_needs_attention(_failed().pk)
        assert not alerts.deliver(alert.pk)

    alert.refresh_from_db()
    assert alert.delivered_at is None
    assert "500" in alert.delivery_error
