"""Callers of /api/ always get JSON, even when no view answers; the admin keeps HTML."""

import pytest
from django.test import Client

from integrations.api import selectors

pytestmark = pytest.mark.django_db


def test_unknown_api_path_answers_json_404(client):
    response = client.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith(
        "No API endpoint at /api/v1/nothing-here/"
    )
    assert response.json()["field"] is None


def test_record_id_that_is_not_a_number_answers_json_404(reader):
    response = reader.get("/api/v1/records/abc/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_unknown_admin_path_keeps_the_html_404(client, admin_user):
    client.force_login(admin_user)

    response = client.get("/admin/integrations/no-such-model/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_crash_under_api_answers_json_500(reader, monkeypatch):
    def explode(api_key):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(selectors, "visible_records", explode)
    reader.raise_request_exception = False

    response = reader.get("/api/v1/records/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "the error is logged" in response.json()["error"]
    assert "database on fire" not in response.content.decode()


def test_crash_outside_api_keeps_the_html_500(admin_user, monkeypatch):
    from integrations import selectors

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    # The admin index's dashboard reads this selector; make it crash.
    monkeypatch.setattr(selectors, "status_counts", explode)
    browser = Client(raise_request_exception=False)
    browser.force_login(admin_user)

    response = browser.get("/admin/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_wrong_method_answers_json_405(reader):
    response = reader.delete("/api/v1/records/")

    assert response.status_code == 405
    assert response.json()["error"] == 'Method "DELETE" not allowed.'
