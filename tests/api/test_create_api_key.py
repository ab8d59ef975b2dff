"""manage.py create_api_key: a key is printed once and works at once."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from integrations.models import ConnectionAPIKey
from tests.factories import ConnectionFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db


def _create(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_command_prints_a_key_that_works_with_its_scopes():
    key, note = _create("Warehouse ERP", "--scope", "records:read")

    stored = ConnectionAPIKey.objects.get()
    assert (stored.name, stored.scopes, stored.connection) == (
        "Warehouse ERP",
        ["records:read"],
        None,
    )
    assert key not in stored.hashed_key  # only the hash is kept
    assert "cannot be shown again" in note
    assert Client().get("/api/v1/records/", HTTP_X_API_KEY=key).status_code == 200
    assert (
        Client().post("/api/v1/records/1/resubmit/", HTTP_X_API_KEY=key).status_code
        == 403
    )


def test_command_binds_the_key_to_a_connection():
    record = SyncRecordFactory()
    SyncRecordFactory()
    slug = record.flow_config.source_connection.slug

    key, note = _create(
        "Shop", "--scope", "records:read", "--scope", "inbound", "--connection", slug
    )

    stored = ConnectionAPIKey.objects.get()
    assert stored.scopes == ["inbound", "records:read"]
    assert stored.connection.slug == slug
    assert f"for connection {slug!r}" in note
    listed = Client().get("/api/v1/records/", HTTP_X_API_KEY=key).json()
    assert [r["id"] for r in listed["results"]] == [record.pk]


def test_command_can_make_a_key_that_expires():
    _create("Temp", "--scope", "records:read", "--expires-in-days", "7")

    assert ConnectionAPIKey.objects.get().expiry_date is not None


def test_command_refuses_an_unknown_scope():
    with pytest.raises(CommandError, match="invalid choice: 'records:delete'"):
        _create("X", "--scope", "records:delete")
    assert not ConnectionAPIKey.objects.exists()


def test_command_refuses_an_unknown_connection():
    ConnectionFactory(slug="shop")

    with pytest.raises(CommandError, match="No connection has the slug 'shpo'"):
        _create("X", "--scope", "inbound", "--connection", "shpo")
    assert not ConnectionAPIKey.objects.exists()


def test_command_needs_at_least_one_scope():
    with pytest.raises(CommandError, match="--scope"):
        _create("X")
