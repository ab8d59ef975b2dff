"""A running simulated Shopify shop for tests: Admin API over HTTPS on port 0
and a webhook sender posting the shop's events to ``webhook_url``.

``connection()`` gives the (settings, credentials) a Shopify Connection holds,
in the keys of ``ShopifySettings``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from integrations.sandbox.shopify.admin_api import AdminApi
from integrations.sandbox.shopify.server import RunningAdminApi, serve
from integrations.sandbox.shopify.shop import TOPICS, Shop
from integrations.sandbox.shopify.webhooks import Subscription, WebhookSender
from integrations.sandbox.tls import server_certificate

ACCESS_TOKEN = "shpat_0123456789abcdef0123456789abcdef"


@dataclass
class RunningShopify:
    shop: Shop
    server: RunningAdminApi
    sender: WebhookSender | None
    ca_bundle: str
    access_token: str
    secret: str

    @property
    def url(self) -> str:
        return self.server.url

    def connection(self) -> tuple[dict, dict]:
        settings = {"shop_url": self.url, "ca_bundle": self.ca_bundle}
        credentials = {
            "access_token": self.access_token,
            "webhook_secret": self.secret,
        }
        return settings, credentials


@contextmanager
def running_shopify(
    root: Path,
    *,
    webhook_url: str | None,
    secret: str,
    retry_initial: float = 0.05,
    **shop_options,
) -> Iterator[RunningShopify]:
    """A shop serving the Admin API, subscribed on every topic to
    ``webhook_url`` (no sender when it is None). Retries start after
    ``retry_initial`` seconds so tests need not wait Shopify's minutes."""
    certificate = server_certificate(Path(root) / "tls", "shopify")
    shop = Shop(**shop_options)
    server = serve(AdminApi(shop, {ACCESS_TOKEN}), certificate)
    sender = None
    if webhook_url:
        subscriptions = [Subscription(topic, webhook_url) for topic in TOPICS]
        sender = WebhookSender(
            shop, subscriptions, secret=secret, retry_initial=retry_initial
        )
        sender.start()
    try:
        yield RunningShopify(
            shop, server, sender, str(certificate.ca), ACCESS_TOKEN, secret
        )
    finally:
        if sender is not None:
            sender.stop()
        server.stop()
