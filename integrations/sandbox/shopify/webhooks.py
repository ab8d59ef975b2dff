"""Webhook deliveries from the simulated shop, as Shopify makes them.

Each ``ShopEvent`` becomes one delivery per subscription to its topic: a POST
of the raw JSON body with ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(body,
secret)) and the ``X-Shopify-*`` headers. A non-2xx answer, no answer, or an
answer slower than 5 seconds is a failure, retried up to 8 times with
exponential backoff; retries carry the same body, event id and webhook id
(API-FACTS §3, "Delivery" and "De-duplication").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field

import requests

from integrations.sandbox.delivery import RetryQueue
from integrations.sandbox.shopify.shop import Shop, ShopEvent

API_VERSION = "2025-01"
MAX_RETRIES = 8
CONNECT_TIMEOUT, TOTAL_TIMEOUT = 1.0, 5.0


def hmac_sha256_base64(secret: str, body: bytes) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), body, hashlib.sha256).digest()
    ).decode()


@dataclass(frozen=True)
class Subscription:
    topic: str
    address: str


@dataclass
class Delivery:
    event_id: str
    webhook_id: str
    topic: str
    address: str
    body: bytes
    triggered_at: str
    attempts: int = 0
    next_attempt: float = 0.0
    statuses: list = field(default_factory=list)


class WebhookSender(RetryQueue):
    """Deliver the shop's events to its subscriptions until each gets a 2xx."""

    thread_name = "shopify-webhooks"

    def __init__(
        self,
        shop: Shop,
        subscriptions: list[Subscription],
        *,
        secret: str,
        ca_bundle: str | bool = True,
        retry_initial: float = 60.0,
        retry_max: float = 3600.0,
        max_retries: int = MAX_RETRIES,
        total_timeout: float = TOTAL_TIMEOUT,
    ) -> None:
        # The first try and then ``max_retries`` retries.
        super().__init__(
            retry_initial=retry_initial,
            retry_max=retry_max,
            max_attempts=max_retries + 1,
        )
        self.shop = shop
        self.subscriptions = list(subscriptions)
        self.secret = secret
        self.max_retries = max_retries
        self.total_timeout = total_timeout
        self.session = requests.Session()
        self.session.verify = ca_bundle
        shop.on_event(self._on_event)

    def _on_event(self, event: ShopEvent) -> None:
        body = json.dumps(event.body).encode()
        with self._condition:
            for subscription in self.subscriptions:
                if subscription.topic == event.topic:
                    self.pending.append(
                        Delivery(
                            event.event_id,
                            str(uuid.uuid4()),
                            event.topic,
                            subscription.address,
                            body,
                            event.triggered_at,
                        )
                    )
            self._condition.notify_all()

    def headers(self, delivery: Delivery) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Hmac-Sha256": hmac_sha256_base64(self.secret, delivery.body),
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Shop-Domain": self.shop.domain,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
        }

    def send(self, delivery: Delivery) -> int | None:
        """One POST; the status, or None when unreachable or too slow."""
        started = time.monotonic()
        try:
            response = self.session.post(
                delivery.address,
                data=delivery.body,
                headers=self.headers(delivery),
                timeout=(CONNECT_TIMEOUT, self.total_timeout),
            )
        except requests.RequestException:
            return None
        if time.monotonic() - started > self.total_timeout:
            return None
        return response.status_code
