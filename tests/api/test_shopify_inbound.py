"""Shopify webhooks reach us: HMAC first, stored once per event, answered 200."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from integrations.models import InboundEvent, System
from tests.factories import ConnectionFactory
from tests.support.shopify import running_shopify

SECRET = "shopify-app-secret"
EVENT_ID = "98880550-7158-44d4-b7cd-2c97c8a091b5"


def sign(body: bytes, secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@pytest.fixture
def connection(db):
    return ConnectionFactory(
        system=System.SHOPIFY, credentials={"webhook_secret": SECRET}
    )


def deliver(client, connection, body: bytes, *, signature=None, **headers):
    extra = {
        "HTTP_X_SHOPIFY_TOPIC": "orders/create",
        "HTTP_X_SHOPIFY_EVENT_ID": EVENT_ID,
        "HTTP_X_SHOPIFY_WEBHOOK_ID": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "HTTP_X_SHOPIFY_HMAC_SHA256": sign(body) if signature is None else signature,
    }
    extra.update(headers)
    return client.post(
        f"/api/v1/inbound/shopify/{connection.slug}/webhook",
        data=body,
        content_type="application/json",
        **extra,
    )


ORDER = json.dumps({"id": 450789469, "name": "#1001", "total_price": "409.94"})


def test_signed_order_is_stored_under_its_event_id_and_topic(client, connection):
    response = deliver(client, connection, ORDER.encode())

    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.provider_event_id == f"shopify:{EVENT_ID}"
    assert event.topic == "shopify.orders/create"
    assert bytes(event.body) == ORDER.encode()
    assert event.signature_verified


def test_webhook_delivered_five_times_is_one_event(client, connection):
    answers = [deliver(client, connection, ORDER.encode()) for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["duplicate"] for a in answers] == [False] + [True] * 4
    event = InboundEvent.objects.get()
    assert event.deliveries == 5


def test_webhook_id_is_the_fallback_event_id(client, connection):
    deliver(client, connection, ORDER.encode(), HTTP_X_SHOPIFY_EVENT_ID="")

    event = InboundEvent.objects.get()
    assert event.provider_event_id == "shopify:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


@pytest.mark.parametrize(
    "signature",
    [sign(ORDER.encode(), "another-secret"), "", "not base64 at all ✓"],
)
def test_wrong_or_missing_hmac_is_refused_and_nothing_stored(
    client, connection, signature
):
    response = deliver(client, connection, ORDER.encode(), signature=signature)

    assert response.status_code == 401
    assert response.json()["field"] == "X-Shopify-Hmac-Sha256"
    assert not InboundEvent.objects.exists()


def test_connection_without_webhook_secret_refuses(client, db):
    connection = ConnectionFactory(system=System.SHOPIFY, credentials={})

    response = deliver(client, connection, ORDER.encode())

    assert response.status_code == 401
    assert "webhook_secret" in response.json()["error"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "headers", "field"),
    [
        (b"{not json", {}, "body"),
        (b"[1, 2]", {}, "body"),
        (b'{"name": "#1001"}', {}, "id"),
        (b'{"id": 1}', {"HTTP_X_SHOPIFY_TOPIC": "refunds/create"}, "order_id"),
        (ORDER.encode(), {"HTTP_X_SHOPIFY_TOPIC": ""}, "X-Shopify-Topic"),
        (
            ORDER.encode(),
            {"HTTP_X_SHOPIFY_EVENT_ID": "", "HTTP_X_SHOPIFY_WEBHOOK_ID": ""},
            "X-Shopify-Event-Id",
        ),
    ],
)
def test_signed_but_unusable_body_is_kept_with_the_reason(
    client, connection, body, headers, field
):
    response = deliver(client, connection, body, **headers)

    assert response.status_code == 400
    assert response.json()["field"] == field
    event = InboundEvent.objects.get()
    assert bytes(event.body) == body
    assert field in event.error


@pytest.mark.django_db(transaction=True)
def test_simulated_shop_webhooks_arrive_once_each(live_server, tmp_path):
    connection = ConnectionFactory(
        system=System.SHOPIFY, credentials={"webhook_secret": SECRET}
    )
    url = f"{live_server.url}/api/v1/inbound/shopify/{connection.slug}/webhook"
    with running_shopify(tmp_path, webhook_url=url, secret=SECRET) as shopify:
        order = shopify.shop.create_order([("TRAIL-TENT-2P", 1)])
        shopify.shop.mark_paid(order["id"])
        wait_until(lambda: len(shopify.sender.delivered) == 2)
        shopify.sender.redeliver()
        wait_until(lambda: len(shopify.sender.delivered) == 2)

    events = InboundEvent.objects.order_by("pk")
    assert [e.topic for e in events] == ["shopify.orders/create", "shopify.orders/paid"]
    assert [e.deliveries for e in events] == [2, 2]
    assert json.loads(bytes(events[0].body))["name"] == "#1001"


def wait_until(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("Timed out waiting for the sender.")
        time.sleep(0.02)
