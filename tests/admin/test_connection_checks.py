"""Test connection: a person (or the scheduler) learns whether a system answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, System
from integrations.services import connection_checks
from tests.factories import ConnectionFactory
from tests.support.sage100 import running_sage100

pytestmark = pytest.mark.django_db


@pytest.fixture
def sage(tmp_path):
    with running_sage100(tmp_path / "sage100", customers=5) as company:
        yield company


@pytest.fixture
def connection(sage):
    return ConnectionFactory(
        name="ABC (Sage 100)",
        system=System.SAGE100,
        settings=sage.connection_settings(),
        credentials=sage.credentials,
    )


def _press(admin_client, connection):
    url = reverse(
        "admin:integrations_connection_actions",
        kwargs={"pk": connection.pk, "tool": "test_connection"},
    )
    response = admin_client.post(url, follow=True)
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_sage100_connection_is_healthy_when_odbc_and_agent_answer(
    admin_client, connection, redis_conn
):
    messages = _press(admin_client, connection)

    connection.refresh_from_db()
    assert connection.last_check_ok is True
    assert connection.last_success_at is not None
    assert "ODBC reached company ABC" in messages[0]
    assert "the agent at" in messages[0]
    listing = admin_client.get(reverse("admin:integrations_connection_changelist"))
    assert "Healthy" in listing.content.decode()
    assert "Healthy" in admin_client.get(reverse("admin:index")).content.decode()


def test_sage100_down_is_reported_in_plain_words(admin_client, connection, sage):
    sage.faults.down()

    messages = _press(admin_client, connection)

    connection.refresh_from_db()
    assert connection.last_check_ok is False
    assert messages[0].startswith("ABC (Sage 100) cannot be reached:")
    assert "Sage 100" in connection.last_check_message
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Failing" in page


def test_the_agent_refusing_our_signature_fails_the_check(connection):
    connection.credentials = {"agent_secret": "not-the-agents-secret"}
    connection.save()

    result = connection_checks.check(connection)

    assert result.ok is False
    assert "signature" in result.message


def test_connections_without_a_test_call_say_so():
    generic = ConnectionFactory(system=System.GENERIC, settings={"url": "http://x"})

    result = connection_checks.check(generic)

    assert result.ok is None
    generic.refresh_from_db()
    assert generic.last_checked_at is not None and generic.last_check_ok is None


def test_periodic_check_tests_only_connections_not_tested_lately(connection):
    recent = ConnectionFactory(system=System.GENERIC, settings={"url": "http://x"})
    Connection.objects.filter(pk=recent.pk).update(last_checked_at=timezone.now())
    Connection.objects.filter(pk=connection.pk).update(
        last_checked_at=timezone.now() - timedelta(hours=1)
    )

    assert connection_checks.check_due() == 1
    connection.refresh_from_db()
    assert connection.last_check_ok is True


def test_a_webhook_only_connection_is_not_reported_failing():
    inbound = ConnectionFactory(system=System.GENERIC, settings={})

    result = connection_checks.check(inbound)

    assert result.ok is None
    assert "webhooks only" in result.message
