"""Connections: secrets go in, never come back out. API keys: shown once."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from integrations.models import (
    Connection,
    ConnectionAPIKey,
    ConnectionStatus,
    RecordStatus,
)
from tests.admin.formdata import form_data
from tests.factories import ConnectionFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db

SECRET = "sk_live_do-not-leak-4242"


def change_url(connection) -> str:
    return reverse("admin:integrations_connection_change", args=[connection.pk])


@pytest.fixture
def connection():
    return ConnectionFactory(
        name="Web shop",
        credentials={"signing_secret": SECRET, "access_token": SECRET + "-token"},
    )


def test_credentials_are_never_shown_back(admin_client, connection):
    pages = [
        admin_client.get(change_url(connection)),
        admin_client.get(reverse("admin:integrations_connection_changelist")),
        admin_client.get(
            reverse("admin:integrations_connection_history", args=[connection.pk])
        ),
    ]

    for page in pages:
        assert page.status_code == 200
        assert SECRET not in page.content.decode()
    form_page = pages[0].content.decode()
    assert "access_token, signing_secret" in form_page
    assert 'name="credentials"' not in form_page
    assert 'name="replace_secrets"' in form_page


def test_empty_secret_box_keeps_the_stored_secrets(admin_client, connection):
    page = admin_client.get(change_url(connection))

    response = admin_client.post(
        change_url(connection), form_data(page, name="Web shop (EU)")
    )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Web shop (EU)"
    assert connection.credentials["signing_secret"] == SECRET


def test_filled_secret_box_replaces_the_secrets(admin_client, connection):
    page = admin_client.get(change_url(connection))

    response = admin_client.post(
        change_url(connection),
        form_data(page, replace_secrets='{"signing_secret": "new-one"}'),
    )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.credentials == {"signing_secret": "new-one"}


def test_malformed_secrets_are_refused_without_echoing_them(admin_client, connection):
    page = admin_client.get(change_url(connection))

    response = admin_client.post(
        change_url(connection),
        form_data(page, replace_secrets='{"signing_secret": "half-typed-secret'),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "This is not valid JSON." in html
    assert "half-typed-secret" not in html
    connection.refresh_from_db()
    assert connection.credentials["signing_secret"] == SECRET


def test_new_connection_is_created_with_its_secrets(admin_client):
    page = admin_client.get(reverse("admin:integrations_connection_add"))

    response = admin_client.post(
        reverse("admin:integrations_connection_add"),
        form_data(
            page,
            name="Xero books",
            slug="xero-books",
            system="xero",
            replace_secrets='{"client_id": "abc", "client_secret": "xyz"}',
        ),
    )

    assert response.status_code == 302
    created = Connection.objects.get(slug="xero-books")
    assert created.credentials == {"client_id": "abc", "client_secret": "xyz"}


def test_mark_reauthorised_button_wakes_waiting_records(
    admin_client, connection, redis_conn
):
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.NEEDS_REAUTH, status_message="invalid_grant"
    )
    waiting = SyncRecordFactory(
        flow_config__source_connection=connection,
        status=RecordStatus.RETRY_SCHEDULED,
        attempts=1,
        next_attempt_at="2999-01-01T00:00:00Z",
    )
    url = reverse(
        "admin:integrations_connection_actions",
        kwargs={"pk": connection.pk, "tool": "mark_reauthorised"},
    )
    assert url in admin_client.get(change_url(connection)).content.decode()

    response = admin_client.post(url)

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    waiting.refresh_from_db()
    assert waiting.next_attempt_at.year < 2999


def test_api_key_is_shown_once_on_creation(admin_client, connection):
    add = reverse("admin:integrations_connectionapikey_add")
    assert 'value="records:read"' in admin_client.get(add).content.decode()

    response = admin_client.post(
        add,
        {
            "name": "Shop webhook",
            "connection": connection.pk,
            "scopes": ["records:read", "inbound"],
        },
    )

    assert response.status_code == 302
    key = ConnectionAPIKey.objects.get(name="Shop webhook")
    assert key.scopes == ["records:read", "inbound"]
    assert key.connection == connection
    (message,) = [
        str(m) for m in get_messages(response.wsgi_request) if "is: " in str(m)
    ]
    assert "you will not be able to see it again" in message
    plain = message.split("is: ")[1].split(". ")[0]
    assert ConnectionAPIKey.objects.is_valid(plain)
    change = reverse("admin:integrations_connectionapikey_change", args=[key.pk])
    assert plain in admin_client.get(response["Location"]).content.decode()
    assert plain not in admin_client.get(change).content.decode()


def test_api_key_scopes_must_be_known(admin_client):
    response = admin_client.post(
        reverse("admin:integrations_connectionapikey_add"),
        {"name": "Bad", "scopes": ["everything"]},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ConnectionAPIKey.objects.filter(name="Bad").exists()
