"""Connection secrets: one write-only box each; changes audited by name only."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from integrations.models import Connection
from tests.admin.formdata import form_data
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

OLD = "old-password-never-shown-1234"
NEW = "new-password-never-shown-5678"


@pytest.fixture
def connection():
    return ConnectionFactory(
        name="Salesforce", credentials={"password": OLD, "client_secret": "cs-1"}
    )


def change_url(connection) -> str:
    return reverse("admin:integrations_connection_change", args=[connection.pk])


def save(client, connection, **fields):
    page = client.get(change_url(connection))
    return client.post(change_url(connection), form_data(page, **fields))


def test_replacing_one_secret_keeps_the_others(admin_client, connection):
    response = save(admin_client, connection, secret__password=NEW)

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.credentials == {"password": NEW, "client_secret": "cs-1"}


def test_empty_boxes_keep_every_secret(admin_client, connection):
    save(admin_client, connection, name="Salesforce EU")

    connection.refresh_from_db()
    assert connection.name == "Salesforce EU"
    assert connection.credentials == {"password": OLD, "client_secret": "cs-1"}


def test_a_secret_is_added_and_another_removed(admin_client, connection):
    save(
        admin_client,
        connection,
        new_secret_name="signing_secret",
        new_secret_value="whsec-1",
        remove_secrets=["client_secret"],
    )

    connection.refresh_from_db()
    assert connection.credentials == {"password": OLD, "signing_secret": "whsec-1"}


def test_the_change_is_audited_by_name_never_by_value(admin_client, connection):
    save(admin_client, connection, secret__password=NEW)

    entry = LogEntry.objects.get(object_id=str(connection.pk))
    history = connection.history.first()
    assert "password" in entry.get_change_message()
    assert history.history_change_reason == "Secrets changed: password"
    pages = [
        admin_client.get(change_url(connection)),
        admin_client.get(change_url(connection).replace("/change/", "/history/")),
    ]
    for page in pages:
        html = page.content.decode()
        assert NEW not in html and OLD not in html
    assert NEW not in entry.change_message


def test_a_rejected_form_does_not_echo_the_typed_secret(admin_client, connection):
    response = save(
        admin_client,
        connection,
        secret__password=NEW,
        replace_secrets='{"password": "x"}',
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "not both at once" in html
    assert NEW not in html
    connection.refresh_from_db()
    assert connection.credentials["password"] == OLD


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"new_secret_name": "api key"}, "starts with a letter"),
        ({"new_secret_name": "token"}, "Type the value of token."),
        ({"new_secret_value": "orphan-value"}, "Name the secret you are adding."),
        ({"new_secret_name": "password", "new_secret_value": "v"}, "already set"),
    ],
)
def test_adding_a_secret_is_checked_in_plain_words(
    admin_client, connection, fields, message
):
    response = save(admin_client, connection, **fields)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "orphan-value" not in response.content.decode()
    assert Connection.objects.get(pk=connection.pk).credentials["password"] == OLD


def test_a_private_key_gets_a_multi_line_write_only_box(admin_client):
    connection = ConnectionFactory(credentials={"private_key": "-----BEGIN KEY-----"})

    html = admin_client.get(change_url(connection)).content.decode()

    assert '<textarea name="secret__private_key"' in html
    assert "BEGIN KEY" not in html
