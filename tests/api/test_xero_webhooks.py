"""Xero's webhook deliveries to our endpoint: signature first, empty answers."""

from __future__ import annotations

import json

import pytest

from integrations.models import ConnectionStatus, InboundEvent, System
from integrations.sandbox.xero.webhooks import (
    WebhookSender,
    event,
    intent_payload,
    payload,
    sign,
)
from integrations.services import xero_webhooks
from tests.factories import ConnectionFactory

KEY = "xero-webhook-key"
TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
INVOICE = "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777"


@pytest.fixture
def connection(db):
    return ConnectionFactory(system=System.XERO, credentials={"webhook_key": KEY})


def url(connection) -> str:
    return f"/api/v1/inbound/xero/{connection.slug}/webhook"


def deliver(client, connection, body: bytes, signature: str | None = "sign"):
    headers = {}
    if signature == "sign":
        signature = sign(KEY, body)
    if signature is not None:
        headers["HTTP_X_XERO_SIGNATURE"] = signature
    return client.post(
        url(connection), data=body, content_type="application/json", **headers
    )


def assert_empty(response, status: int) -> None:
    assert response.status_code == status
    assert response.content == b""
    assert "Set-Cookie" not in response.headers
    assert not response.cookies


def invoice_update() -> dict:
    return event("INVOICE", "UPDATE", tenant_id=TENANT, resource_id=INVOICE)


def body_of(*events: dict, first: int = 1) -> bytes:
    return json.dumps(payload(list(events), first)).encode()


def test_signed_event_is_stored_with_hash_id_and_topic(client, connection):
    update = invoice_update()

    response = deliver(client, connection, body_of(update))

    assert_empty(response, 200)
    stored = InboundEvent.objects.get()
    assert stored.provider_event_id == xero_webhooks.event_id(update)
    assert stored.provider_event_id.startswith("xero:")
    assert len(stored.provider_event_id) == len("xero:") + 64
    assert stored.topic == "xero.invoice.update"
    assert stored.signature_verified
    assert json.loads(bytes(stored.body)) == update
    assert "x-xero-signature" not in {name.lower() for name in stored.headers}


def test_each_event_of_a_batch_is_stored_once(client, connection):
    contact = event("CONTACT", "CREATE", tenant_id=TENANT)
    response = deliver(client, connection, body_of(invoice_update(), contact))

    assert_empty(response, 200)
    assert sorted(InboundEvent.objects.values_list("topic", flat=True)) == [
        "xero.contact.create",
        "xero.invoice.update",
    ]


def test_same_event_delivered_five_times_is_one_event_with_five_deliveries(
    client, connection
):
    update = invoice_update()
    # Xero's retries may re-batch: new entropy and sequence, the same event.
    for attempt in range(5):
        assert_empty(
            deliver(client, connection, body_of(update, first=attempt + 1)), 200
        )

    stored = InboundEvent.objects.get()
    assert stored.deliveries == 5


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IHRoZSBzaWduYXR1cmU=", "ünicode", sign("another-key", b"{}")],
)
def test_wrong_or_missing_signature_is_401_with_nothing_stored(
    client, connection, signature
):
    response = deliver(client, connection, body_of(invoice_update()), signature)

    assert_empty(response, 401)
    assert not InboundEvent.objects.exists()


def test_signature_of_another_body_is_refused(client, connection):
    body = body_of(invoice_update())
    response = deliver(client, connection, body, sign(KEY, body + b" "))

    assert_empty(response, 401)
    assert not InboundEvent.objects.exists()


def test_connection_without_webhook_key_refuses_everything(client, db):
    keyless = ConnectionFactory(system=System.XERO, credentials={})
    body = body_of(invoice_update())

    response = deliver(client, keyless, body, sign("", body))

    assert_empty(response, 401)


def test_intent_to_receive_is_200_and_stores_nothing(client, connection):
    body = json.dumps(intent_payload()).encode()

    assert_empty(deliver(client, connection, body), 200)
    assert_empty(deliver(client, connection, body, sign("wrong", body)), 401)
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        (b"not json", "body"),
        (json.dumps({"events": [{"resourceId": INVOICE}]}).encode(), "body"),
        (
            json.dumps(
                payload([{**invoice_update(), "eventCategory": "PAYMENT"}], 1)
            ).encode(),
            "events/0/eventCategory",
        ),
        (
            json.dumps(
                payload([{**invoice_update(), "resourceId": "INV-001"}], 1)
            ).encode(),
            "events/0/resourceId",
        ),
        (
            json.dumps(
                payload([{**invoice_update(), "eventCategory": "CREDITNOTE"}], 1)
            ).encode(),
            "events/0",
        ),
    ],
)
def test_signed_malformed_delivery_is_kept_with_reason_and_answered_200(
    client, connection, body, field_name
):
    response = deliver(client, connection, body)

    assert_empty(response, 200)
    kept = InboundEvent.objects.get()
    assert bytes(kept.body) == body
    assert kept.provider_event_id is None
    assert kept.error.startswith(f"{field_name}: The delivery breaks Xero's")
    assert not kept.records.exists()


def test_credit_note_event_with_data_is_accepted(client, connection):
    credit = event(
        "CREDITNOTE",
        "CREATE",
        tenant_id=TENANT,
        data={"Type": "ACCPAYCREDIT", "Status": "DRAFT"},
    )

    assert_empty(deliver(client, connection, body_of(credit)), 200)
    assert InboundEvent.objects.get().topic == "xero.creditnote.create"


def test_disabled_connection_is_403_after_the_signature(client, connection):
    connection.status = ConnectionStatus.DISABLED
    connection.save()
    body = body_of(invoice_update())

    assert_empty(deliver(client, connection, body), 403)
    assert_empty(deliver(client, connection, body, sign("wrong", body)), 401)
    assert not InboundEvent.objects.exists()


def test_unknown_or_non_xero_connection_is_404(client, db):
    other = ConnectionFactory(system=System.GENERIC, credentials={"webhook_key": KEY})
    body = body_of(invoice_update())

    assert_empty(deliver(client, other, body), 404)
    response = client.post(
        "/api/v1/inbound/xero/nobody/webhook",
        data=body,
        content_type="application/json",
        HTTP_X_XERO_SIGNATURE=sign(KEY, body),
    )
    assert_empty(response, 404)


@pytest.mark.django_db(transaction=True)
def test_intent_to_receive_passes_against_our_endpoint_over_http(live_server):
    connection = ConnectionFactory(system=System.XERO, credentials={"webhook_key": KEY})
    sender = WebhookSender(f"{live_server.url}{url(connection)}", KEY)

    assert sender.intent_to_receive(requests_sent=8, seed=7)

    assert sender.status == "OK"
    assert {check.signed for check in sender.checks} == {True, False}
    assert all(check.passed for check in sender.checks)
    assert not InboundEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_intent_to_receive_fails_when_our_key_differs(live_server):
    connection = ConnectionFactory(
        system=System.XERO, credentials={"webhook_key": "an-older-key"}
    )
    sender = WebhookSender(f"{live_server.url}{url(connection)}", KEY)

    assert not sender.intent_to_receive(seed=1)
    assert sender.status == "failed"
    assert {check.answer.status for check in sender.checks if check.signed} == {401}
