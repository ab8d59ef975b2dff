import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from integrations.models import Connection
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def _stored(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM integrations_connection WHERE id = %s", [pk]
        )
        return cursor.fetchone()[0]


def test_credentials_are_encrypted_at_rest():
    conn = ConnectionFactory(credentials={"client_secret": "hunter2"})

    assert "hunter2" not in _stored(conn.pk)
    assert Connection.objects.get(pk=conn.pk).credentials == {
        "client_secret": "hunter2"
    }


def test_old_key_still_decrypts_after_rotation(settings):
    conn = ConnectionFactory(credentials={"token": "t"})
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    assert Connection.objects.get(pk=conn.pk).credentials == {"token": "t"}


def test_wrong_key_is_a_loud_error_not_ciphertext(settings):
    conn = ConnectionFactory(credentials={"token": "t"})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Connection.objects.get(pk=conn.pk)


def test_history_never_keeps_secrets():
    conn = ConnectionFactory(credentials={"token": "t"})
    conn.name = "Renamed"
    conn.save()
    historical = conn.history.model
    assert "credentials" not in {f.name for f in historical._meta.fields}
    assert conn.history.count() == 2
