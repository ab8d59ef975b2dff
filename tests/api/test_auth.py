"""Who may call the records API: keys by scope, staff by session, nobody else."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests.api.helpers import key_client
from tests.factories import SyncRecordFactory, api_key

pytestmark = pytest.mark.django_db

RECORDS = "/api/v1/records/"


def test_request_without_credentials_is_unauthenticated(client):
    response = client.get(RECORDS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert "Api-Key <key>" in response.json()["error"]


def test_key_in_authorization_header_is_accepted():
    _, key = api_key("records:read")

    response = Client().get(RECORDS, HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert response.status_code == 200


def test_key_in_x_api_key_header_is_accepted():
    _, key = api_key("records:read")

    response = Client().get(RECORDS, HTTP_X_API_KEY=key)

    assert response.status_code == 200


def test_unknown_key_is_refused_naming_the_header(client):
    response = client.get(RECORDS, HTTP_X_API_KEY="abcdefgh.not-a-real-key")

    assert response.status_code == 401
    assert response.json() == {
        "error": "The API key is not valid.",
        "field": "X-Api-Key",
        "errors": [{"field": "X-Api-Key", "message": "The API key is not valid."}],
    }


def test_revoked_key_is_refused_and_says_so(client):
    api_key_row, key = api_key("records:read", name="old ERP")
    api_key_row.revoked = True
    api_key_row.save()

    response = client.get(RECORDS, HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert response.status_code == 401
    assert response.json()["error"] == "The API key 'old ERP' has been revoked."
    assert response.json()["field"] == "Authorization"


def test_expired_key_is_refused_and_says_so(client):
    yesterday = timezone.now() - timedelta(days=1)
    _, key = api_key("records:read", name="temp", expiry_date=yesterday)

    response = client.get(RECORDS, HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert response.status_code == 401
    assert response.json()["error"].startswith("The API key 'temp' expired on ")


def test_api_key_without_scope_is_forbidden():
    inbound_only = key_client("inbound", name="shop")

    response = inbound_only.get(RECORDS)

    assert response.status_code == 403
    assert response.json()["error"] == (
        "The API key 'shop' lacks the records:read scope."
    )


def test_read_only_key_cannot_resubmit(reader):
    record = SyncRecordFactory(status="needs_attention", error_category="validation")

    response = reader.post(f"{RECORDS}{record.pk}/resubmit/")

    assert response.status_code == 403
    assert "records:write" in response.json()["error"]
    record.refresh_from_db()
    assert record.status == "needs_attention"


def test_staff_session_may_use_the_records_api(client, admin_user):
    client.force_login(admin_user)

    assert client.get(RECORDS).status_code == 200


def test_non_staff_session_is_forbidden(client):
    user = get_user_model().objects.create_user("clerk", password="x" * 12)
    client.force_login(user)

    response = client.get(RECORDS)

    assert response.status_code == 403
    assert "Only staff members" in response.json()["error"]


def test_staff_session_writes_need_the_csrf_token(admin_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    record = SyncRecordFactory(status="needs_attention", error_category="validation")

    response = browser.post(f"{RECORDS}{record.pk}/resubmit/")

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]
