"""Connect to Xero from the connections page, end to end against the simulator.

The Django test client plays the admin's browser on the portal; ``requests``
plays it on Xero's consent page (a real HTTPS server), and the redirect Xero
answers with is fed back to the portal's callback.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.messages import get_messages
from django.urls import reverse

from integrations.engine import clients
from integrations.models import Connection, ConnectionStatus, System
from integrations.roles import FINANCE
from integrations.services import connection_checks
from tests.factories import ConnectionFactory
from tests.support.roles import member, signed_in

HOST = "127.0.0.1"  # Xero's simulator takes any loopback redirect URI


@pytest.fixture
def xero(tmp_path):
    from tests.support.xero import running_xero

    with running_xero(tmp_path, tenants=2) as running:
        yield running
        assert running.problems == []


@pytest.fixture
def books(xero, db, redis_conn) -> Connection:
    """A Xero connection as an admin creates it: the app's id and secret only."""
    settings, credentials = xero.connection(grant="authorization_code")
    return ConnectionFactory(
        name="Xero books",
        system=System.XERO,
        settings={
            k: v for k, v in settings.items() if k not in ("tenant_id", "tenant_name")
        },
        credentials={
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        },
    )


@pytest.fixture
def browser(admin_client):
    admin_client.defaults["HTTP_HOST"] = HOST
    return admin_client


def consent_page(xero, url: str) -> tuple[requests.Session, str, list[str]]:
    """Open Xero's consent page; its form's consent id and organisations."""
    session = requests.Session()
    session.trust_env = False
    session.verify = xero.ca_bundle
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text
    consent = re.search(r'name="consent" value="([^"]+)"', page.text).group(1)
    tenants = re.findall(r'name="tenant" value="([^"]+)"', page.text)
    return session, consent, tenants


def decide(xero, url: str, decision: str = "allow", tenants=None) -> str:
    """Press Allow (or Cancel) on Xero's page; the portal URL Xero sends back to."""
    session, consent, offered = consent_page(xero, url)
    answer = session.post(
        f"{xero.url}/identity/connect/authorize",
        data={
            "consent": consent,
            "decision": decision,
            "tenant": offered if tenants is None else tenants,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def start(browser, connection: Connection) -> str:
    response = browser.post(reverse("admin:xero_connect", args=[connection.pk]))
    assert response.status_code == 302
    return response["Location"]


def back_at_portal(browser, location: str):
    parts = urlsplit(location)
    assert parts.path == reverse("admin:xero_callback")
    return browser.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})


def test_connect_to_xero_lets_the_admin_choose_the_organisation(browser, books, xero):
    consent_url = start(browser, books)
    assert consent_url.startswith(f"{xero.url}/identity/connect/authorize?")
    query = parse_qs(urlsplit(consent_url).query)
    assert "offline_access" in query["scope"][0].split()
    assert query["redirect_uri"] == [f"http://{HOST}{reverse('admin:xero_callback')}"]

    chooser = back_at_portal(browser, decide(xero, consent_url))
    assert chooser.status_code == 200
    page = chooser.content.decode()
    (_first_id, first_name), (second_id, second_name) = xero.tenants[:2]
    assert first_name in page and second_name in page

    chosen = browser.post(
        reverse("admin:xero_tenant", args=[books.pk]), {"tenant_id": second_id}
    )

    assert chosen.status_code == 302
    books.refresh_from_db()
    assert books.settings["tenant_id"] == second_id
    assert books.settings["tenant_name"] == second_name
    assert books.credentials["token_set"]["refresh_token"]
    assert books.status == ConnectionStatus.ACTIVE
    said = " ".join(str(m) for m in get_messages(chosen.wsgi_request))
    assert second_name in said
    # Audited: who and why, never the secrets.
    reasons = [h.history_change_reason for h in books.history.all()]
    assert f"Connected to Xero organisation {second_name}" in reasons
    assert "Authorised in Xero (Connect to Xero)" in reasons
    assert not hasattr(books.history.first(), "credentials")
    # And it works: the connector reaches the chosen organisation.
    assert clients.build(books).ping()["organisation"] == second_name
    assert connection_checks.check(books).ok


def test_declined_consent_changes_nothing_and_says_so(browser, books, xero):
    location = decide(xero, start(browser, books), decision="deny")

    answer = back_at_portal(browser, location)

    assert answer.status_code == 400
    assert "declined" in answer.content.decode()
    books.refresh_from_db()
    assert "token_set" not in books.credentials


def test_a_callback_with_a_forged_state_is_refused(browser, books, xero):
    location = decide(xero, start(browser, books))
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    answer = browser.get(parts.path, {**query, "state": query["state"] + "x"})

    assert answer.status_code == 400
    assert "did not start" in answer.content.decode()
    books.refresh_from_db()
    assert "token_set" not in books.credentials


def test_a_callback_in_another_browser_session_is_refused(
    browser, books, xero, django_user_model
):
    location = decide(xero, start(browser, books))
    other = signed_in(
        django_user_model.objects.create_superuser("other", password="pw-long-enough")
    )

    answer = back_at_portal(other, location)

    assert answer.status_code == 400
    assert "another browser session" in answer.content.decode()


def test_a_code_used_twice_is_refused_in_plain_words(browser, books, xero):
    consent_url = start(browser, books)
    location = decide(xero, consent_url, tenants=[xero.tenants[0][0]])
    assert back_at_portal(browser, location).status_code == 302  # one tenant: used
    # The same answer replayed, in a session that started a new connect.
    start(browser, books)
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    session_state = browser.session["xero_connect"]
    from django.core import signing

    from integrations.services.xero_connect import STATE_SALT

    query["state"] = signing.dumps(
        {"c": books.pk, "n": session_state["nonce"]}, salt=STATE_SALT
    )

    answer = browser.get(parts.path, query)

    assert answer.status_code == 400
    assert "invalid_grant" in answer.content.decode()


def test_finance_staff_cannot_connect(books, xero, redis_conn):
    finance = signed_in(member(FINANCE), HTTP_HOST=HOST)

    answer = finance.post(reverse("admin:xero_connect", args=[books.pk]))

    assert answer.status_code == 403


def test_disconnect_forgets_the_login_and_parks_the_connection(browser, books, xero):
    location = decide(xero, start(browser, books), tenants=[xero.tenants[0][0]])
    back_at_portal(browser, location)
    books.refresh_from_db()
    assert books.settings["tenant_id"] == xero.tenants[0][0]

    answer = browser.post(reverse("admin:xero_disconnect", args=[books.pk]))

    assert answer.status_code == 302
    books.refresh_from_db()
    assert "token_set" not in books.credentials
    assert books.status == ConnectionStatus.NEEDS_REAUTH
    said = " ".join(str(m) for m in get_messages(answer.wsgi_request))
    assert "disconnected in Xero" in said and "revoked" in said
    assert "Disconnected from Xero" in [
        h.history_change_reason for h in books.history.all()
    ]


def test_a_custom_connection_needs_no_consent_and_its_test_works(
    browser, xero, redis_conn
):
    settings, credentials = xero.connection(grant="client_credentials")
    custom = ConnectionFactory(
        system=System.XERO, settings=settings, credentials=credentials
    )

    answer = browser.post(reverse("admin:xero_connect", args=[custom.pk]), follow=True)

    said = " ".join(str(m) for m in get_messages(answer.wsgi_request))
    assert "needs no consent" in said
    assert connection_checks.check(custom).ok
