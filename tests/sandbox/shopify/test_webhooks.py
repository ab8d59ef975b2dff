"""The webhook sender signs like Shopify and redelivers failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.sandbox.shopify.shop import Shop
from integrations.sandbox.shopify.webhooks import Subscription, WebhookSender


def wait_until(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("Timed out waiting for the sender.")
        time.sleep(0.02)


class Receiver:
    """A loopback endpoint answering the given statuses in turn (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def make_sender():
    made = []

    def make(statuses, **options):
        receiver = Receiver(statuses)
        shop = Shop()
        subscriptions = [Subscription("orders/create", receiver.url)]
        sender = WebhookSender(
            shop, subscriptions, secret="hush", retry_initial=0.01, **options
        )
        sender.start()
        made.append((sender, receiver))
        return shop, sender, receiver

    yield make
    for sender, receiver in made:
        sender.stop()
        receiver.close()


def test_delivery_is_signed_over_the_raw_body(make_sender):
    shop, sender, receiver = make_sender([])
    order = shop.create_order([("STOVE-MINI", 1)])

    wait_until(lambda: sender.delivered)
    headers, body = receiver.received[0]
    expected = base64.b64encode(hmac.new(b"hush", body, hashlib.sha256).digest())
    assert headers["X-Shopify-Hmac-Sha256"] == expected.decode()
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == shop.domain
    assert headers["X-Shopify-API-Version"] == "2025-01"
    assert headers["X-Shopify-Triggered-At"]
    assert str(order["id"]).encode() in body


def test_failed_delivery_is_retried_with_the_same_ids(make_sender):
    shop, sender, receiver = make_sender([500, 503])
    shop.create_order([("STOVE-MINI", 1)])

    wait_until(lambda: sender.delivered)
    assert sender.delivered[0].statuses == [500, 503, 200]
    ids = {
        (h["X-Shopify-Event-Id"], h["X-Shopify-Webhook-Id"], body)
        for h, body in receiver.received
    }
    assert len(receiver.received) == 3 and len(ids) == 1


def test_slow_answer_counts_as_a_failure(make_sender):
    shop, sender, _receiver = make_sender([], total_timeout=1e-9)
    shop.create_order([("STOVE-MINI", 1)])

    wait_until(lambda: sender.failed)
    assert sender.failed[0].statuses == [None] * 9


def test_gives_up_after_eight_retries(make_sender):
    shop, sender, receiver = make_sender([500] * 20)
    shop.create_order([("STOVE-MINI", 1)])

    wait_until(lambda: sender.failed, timeout=30)
    assert len(receiver.received) == 9  # the first try and 8 retries
    assert sender.delivered == []
