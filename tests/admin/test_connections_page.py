"""The connections page: health, API use today, login expiry, test and re-authorise."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from integrations.engine import clients
from integrations.models import ConnectionStatus, System
from integrations.services import health
from tests.factories import ConnectionFactory
from tests.support.salesforce import running_salesforce

pytestmark = pytest.mark.django_db

LIST = reverse("admin:integrations_connection_changelist")


def action_url(connection, tool: str) -> str:
    return reverse(
        "admin:integrations_connection_actions",
        kwargs={"pk": connection.pk, "tool": tool},
    )


def row(html: str, name: str) -> str:
    """The changelist row that names ``name``."""
    (found,) = [r for r in re.findall(r"<tr.*?</tr>", html, re.S) if name in r]
    return found


@pytest.fixture
def salesforce(tmp_path):
    from integrations.connectors.salesforce.client import forget_tokens

    forget_tokens()
    with running_salesforce(tmp_path) as running:
        yield running
    forget_tokens()


@pytest.fixture
def org_connection(salesforce):
    settings, credentials = salesforce.connection("password")
    return ConnectionFactory(
        name="Salesforce org",
        system=System.SALESFORCE,
        settings={**settings, health.SESSION_TIMEOUT_SETTING: 120},
        credentials=credentials,
        status=ConnectionStatus.NEEDS_REAUTH,
        status_message="Salesforce refused the session",
    )


def test_list_shows_api_calls_today_and_when_it_last_worked(admin_client, redis_conn):
    shop = ConnectionFactory(
        name="Web shop",
        calls_per_day=1000,
        last_success_at=timezone.now() - timedelta(minutes=7),
    )
    ConnectionFactory(name="Inbound only")
    for _ in range(2):
        clients.throttle_for(shop).take()

    html = admin_client.get(LIST).content.decode()

    shop_row = row(html, "Web shop")
    assert "2 of 1,000" in shop_row
    assert "7 min ago" in shop_row
    assert f'action="{action_url(shop, "test_connection")}"' in shop_row
    assert "Re-authorise" not in shop_row
    assert ">not counted<" in row(html, "Inbound only")


def test_test_connection_pressed_in_the_list_returns_to_the_list(
    admin_client, redis_conn
):
    shop = ConnectionFactory(name="Web shop")

    response = admin_client.post(
        action_url(shop, "test_connection"), {"back": "list"}, follow=True
    )

    assert response.redirect_chain[-1][0] == LIST
    assert "Web shop" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_xero_offers_connect_to_xero_in_the_list_and_on_its_page(
    admin_client, redis_conn
):
    xero = ConnectionFactory(name="Xero books", system=System.XERO)

    xero_row = row(admin_client.get(LIST).content.decode(), "Xero books")
    page = admin_client.get(
        reverse("admin:integrations_connection_change", args=[xero.pk])
    ).content.decode()

    connect = reverse("admin:xero_connect", args=[xero.pk])
    assert re.search(
        rf'<form method="post" action="{connect}"[^>]*>.*Connect to Xero</button>',
        xero_row,
        re.S,
    )
    assert action_url(xero, "reauthorise") not in page
    assert f'href="{connect}"' in page
    assert "Available when the Xero connector is installed." not in page


def test_reauthorise_from_the_list_logs_in_and_makes_salesforce_active(
    admin_client, org_connection, redis_conn
):
    listing = admin_client.get(LIST).content.decode()
    assert f'action="{action_url(org_connection, "reauthorise")}"' in row(
        listing, "Salesforce org"
    )

    response = admin_client.post(
        action_url(org_connection, "reauthorise"), {"back": "list"}, follow=True
    )

    assert response.redirect_chain[-1][0] == LIST
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Salesforce org is authorised and active; 0 waiting")
    org_connection.refresh_from_db()
    assert org_connection.status == ConnectionStatus.ACTIVE
    assert org_connection.last_check_ok is True
    after = row(response.content.decode(), "Salesforce org")
    assert "in 1 h 59 min" in after  # the login's expiry
    assert "Salesforce says" in after


def test_reauthorise_that_fails_says_why_and_keeps_the_connection_waiting(
    admin_client, org_connection, redis_conn
):
    org_connection.credentials = {**org_connection.credentials, "password": "nope"}
    org_connection.save()

    response = admin_client.post(action_url(org_connection, "reauthorise"), follow=True)

    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith(
        "Salesforce org could not log in, so it stays needs re-authorisation:"
    )
    org_connection.refresh_from_db()
    assert org_connection.status == ConnectionStatus.NEEDS_REAUTH


def test_salesforce_change_page_offers_reauthorise_and_shows_the_login(
    admin_client, org_connection, redis_conn
):
    page = admin_client.get(
        reverse("admin:integrations_connection_change", args=[org_connection.pk])
    ).content.decode()

    assert f'action="{action_url(org_connection, "reauthorise")}"' in page
    assert action_url(org_connection, "mark_reauthorised") not in page
    assert "Logs in afresh with the stored secrets" in page
