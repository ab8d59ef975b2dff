"""POST /api/v1/inbound/<slug>/: signed events are stored as sent, exactly once."""

import time

import pytest
from django.test import Client

from integrations.engine.dispatch import job_id
from integrations.models import ConnectionStatus, InboundEvent, SyncRecord
from tests.api.helpers import post_signed, signed_headers
from tests.factories import ConnectionFactory, FlowConfigFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    """A connection with a flow that takes its webhooks."""
    return FlowConfigFactory().source_connection


def test_signed_event_is_accepted_with_its_records(client, source):
    response = post_signed(client, source, {"id": "1001", "total": "9.50"})

    assert response.status_code == 202
    event = InboundEvent.objects.get()
    record = SyncRecord.objects.get()
    assert response.json() == {
        "event": event.pk,
        "duplicate": False,
        "records": [record.pk],
    }
    assert (event.provider_event_id, event.topic) == ("evt-1", "orders/create")
    assert event.signature_verified
    assert event.remote_addr == "127.0.0.1"
    assert (record.source_id, record.status) == ("1001", "pending")


def test_raw_body_is_stored_byte_for_byte(client, source):
    raw = b'{ "total":"9.50",\n  "id" : "1001", "name": "Caf\xc3\xa9" }'

    assert post_signed(client, source, raw).status_code == 202

    assert bytes(InboundEvent.objects.get().body) == raw


def test_stored_headers_leave_out_credentials(client, source):
    client.cookies["sessionid"] = "secret-session"
    raw = b'{"id": "1"}'
    client.post(
        f"/api/v1/inbound/{source.slug}/",
        data=raw,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer secret-token",
        HTTP_X_API_KEY="abc.def",
        HTTP_X_REQUEST_ID="req-42",
        **signed_headers(source.signing_secret, raw),
    )

    headers = {k.lower(): v for k, v in InboundEvent.objects.get().headers.items()}
    assert "cookie" not in headers
    assert "authorization" not in headers
    assert "x-api-key" not in headers
    assert headers["x-request-id"] == "req-42"
    assert headers["x-ledgerbridge-topic"] == "orders/create"


def test_duplicate_webhook_delivery_returns_the_same_records(client, source):
    first = post_signed(client, source, {"items": [{"id": "a"}, {"id": "b"}]})
    second = post_signed(client, source, {"items": [{"id": "a"}, {"id": "b"}]})

    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["duplicate"] is True
    assert second.json()["event"] == first.json()["event"]
    assert sorted(second.json()["records"]) == sorted(first.json()["records"])
    assert InboundEvent.objects.get().deliveries == 2
    assert SyncRecord.objects.count() == 2


def test_event_without_id_is_deduplicated_on_its_body(client, source):
    post_signed(client, source, {"id": "7"}, event_id=None)
    again = post_signed(client, source, {"id": "7"}, event_id=None)

    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert InboundEvent.objects.get().provider_event_id is None


def test_accepted_event_wakes_a_worker(
    client, source, queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, source, {"id": "1001"})

    (record_id,) = response.json()["records"]
    assert job_id(record_id, 1) in queue.job_ids


def test_bad_signature_is_refused_and_nothing_stored(client, source):
    response = post_signed(client, source, {"id": "1001"}, secret="not-the-secret")

    assert response.status_code == 401
    assert response.json()["field"] == "X-LedgerBridge-Signature"
    assert response.json()["error"] == "The signature does not match the body."
    assert not InboundEvent.objects.exists()
    assert not SyncRecord.objects.exists()


def test_body_changed_after_signing_is_refused(client, source):
    headers = signed_headers(source.signing_secret, b'{"id": "1001"}')

    response = client.post(
        f"/api/v1/inbound/{source.slug}/",
        data=b'{"id": "1002"}',
        content_type="application/json",
        **headers,
    )

    assert response.status_code == 401
    assert not InboundEvent.objects.exists()


def test_missing_signature_is_refused_and_named(client, source):
    response = client.post(
        f"/api/v1/inbound/{source.slug}/",
        data=b'{"id": "1"}',
        content_type="application/json",
    )

    assert response.status_code == 401
    assert response.json()["field"] == "X-LedgerBridge-Signature"
    assert "missing" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_stale_signature_is_refused_as_a_replay(client, source):
    an_hour_ago = int(time.time()) - 3600

    response = post_signed(client, source, {"id": "1"}, timestamp=an_hour_ago)

    assert response.status_code == 401
    assert "outside the allowed window" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_unknown_connection_answers_json_404(client):
    response = client.post(
        "/api/v1/inbound/nobody/", data=b"{}", content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json()["error"] == "No connection has the slug 'nobody'."
    assert response.json()["field"] == "connection_slug"


def test_disabled_connection_is_refused_in_plain_words(client, source):
    source.status = ConnectionStatus.DISABLED
    source.save()

    response = post_signed(client, source, {"id": "1"})

    assert response.status_code == 403
    assert "is disabled" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_connection_awaiting_reauthorisation_still_receives_events(client, source):
    # Its records wait for the new credentials; the events must not be lost.
    source.status = ConnectionStatus.NEEDS_REAUTH
    source.save()

    assert post_signed(client, source, {"id": "1"}).status_code == 202


def test_signed_invalid_json_is_stored_and_refused_with_field(client, source):
    response = post_signed(client, source, b"{not json")

    assert response.status_code == 400
    event = InboundEvent.objects.get()
    body = response.json()
    assert (body["field"], body["event"]) == ("body", event.pk)
    assert body["error"].startswith("The body is not valid JSON")
    assert bytes(event.body) == b"{not json"
    assert not SyncRecord.objects.exists()


def test_flow_refusal_is_stored_and_names_the_field(client, source):
    response = post_signed(client, source, {"items": [{"total": 1}]})

    assert response.status_code == 400
    assert (response.json()["field"], response.json()["error"]) == (
        "items.0.id",
        "Each item needs an id.",
    )
    assert InboundEvent.objects.get().error == "items.0.id: Each item needs an id."


def test_repeat_of_a_refused_event_is_a_duplicate_that_explains(client, source):
    post_signed(client, source, b"{not json")

    again = post_signed(client, source, b"{not json")

    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["records"] == []
    assert "not valid JSON" in again.json()["note"]
    assert InboundEvent.objects.get().deliveries == 2


def test_event_no_flow_takes_is_kept_with_a_note(client):
    lonely = ConnectionFactory()

    response = post_signed(client, lonely, {"id": "1"})

    assert response.status_code == 202
    assert response.json()["records"] == []
    assert response.json()["note"].startswith("No flow takes events")


def test_inbound_needs_no_csrf_token_or_api_key(source):
    machine = Client(enforce_csrf_checks=True)

    assert post_signed(machine, source, {"id": "1"}).status_code == 202


def test_overlong_event_id_is_refused_with_the_header_named(client, source):
    response = post_signed(client, source, {"id": "1"}, event_id="x" * 256)

    assert response.status_code == 400
    assert response.json()["field"] == "X-LedgerBridge-Event-Id"
    assert not InboundEvent.objects.exists()


def test_body_over_the_upload_limit_is_refused(client, source, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = post_signed(client, source, {"id": "1", "pad": "x" * 200})

    assert response.status_code == 413
    assert response.json()["field"] == "body"
    assert not InboundEvent.objects.exists()
