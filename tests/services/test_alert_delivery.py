"""A chat webhook's URL is its secret: kept out of errors, history and views."""

import pytest

from integrations import roles
from integrations.models import Alert, AlertChannel, AlertRule
from integrations.services import alerts
from tests.support.roles import member, signed_in
from tests.support.sink import running_sink

pytestmark = pytest.mark.django_db

SECRET_PATH = "/services/T000/B000/very-secret-token"


def _rule(url: str) -> AlertRule:
    return AlertRule.objects.create(
        name="Chat", channel=AlertChannel.WEBHOOK, webhook_url=url
    )


def test_a_refused_webhook_is_recorded_without_its_url():
    with running_sink() as (base, _state):  # answers 404 on any other path
        rule = _rule(base + SECRET_PATH)
        alert = Alert.objects.create(rule=rule, message="Something needs attention")

        assert alerts.deliver(alert.pk) is False

    alert.refresh_from_db()
    assert alert.delivery_error == "The chat service answered HTTP 404."
    assert "very-secret-token" not in alert.delivery_error


def test_an_unreachable_webhook_is_recorded_without_its_url():
    rule = _rule("http://127.0.0.1:9" + SECRET_PATH)
    alert = Alert.objects.create(rule=rule, message="Something needs attention")

    assert alerts.deliver(alert.pk) is False

    alert.refresh_from_db()
    assert alert.delivery_error.startswith("The chat service could not be reached")
    assert "secret" not in alert.delivery_error


def test_the_webhook_url_is_kept_out_of_history():
    rule = _rule("https://hooks.example.com" + SECRET_PATH)

    (entry,) = rule.history.all()
    assert not hasattr(entry, "webhook_url")


def test_an_auditor_sees_that_a_webhook_is_set_but_not_its_url():
    rule = _rule("https://hooks.example.com" + SECRET_PATH)
    client = signed_in(member(roles.AUDITOR))

    page = client.get(f"/admin/integrations/alertrule/{rule.pk}/change/")

    assert page.status_code == 200
    assert "very-secret-token" not in page.content.decode()
    assert "hooks.example.com/…, hidden" in page.content.decode()
