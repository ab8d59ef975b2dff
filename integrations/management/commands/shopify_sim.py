"""``manage.py shopify_sim``: serve a simulated Shopify shop over HTTPS.

    shopify_sim [--port 8500] [--folder var/shopify] [--webhook-url URL]
                [--secret S] [--access-token T] [--retry-seconds 60]
                [--scenario-seconds N]

The shop's Admin API (the part the flows write back through) on ``--port``,
and its webhooks (``orders/create``, ``orders/paid``, ``orders/cancelled``,
``refunds/create``) signed with ``--secret`` to ``--webhook-url``. Writes
``<folder>/credentials.json`` (shop URL, CA bundle, access token, webhook
secret) for setting up a Shopify connection, then serves until interrupted.
The shop lives in memory: a restart starts with no orders.

``--scenario-seconds N`` plays a small shop's day, one step every N seconds
(``integrations/sandbox/shopify/scenario.py``).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from integrations.sandbox.shopify import scenario
from integrations.sandbox.shopify.admin_api import AdminApi
from integrations.sandbox.shopify.server import serve
from integrations.sandbox.shopify.shop import TOPICS, Shop
from integrations.sandbox.shopify.webhooks import Subscription, WebhookSender
from integrations.sandbox.sim_command import serve_until_interrupted, write_credentials
from integrations.sandbox.tls import server_certificate

DEFAULT_TOKEN = "shpat_ledgerbridge_demo_0000000000000000"


class Command(BaseCommand):
    help = "Serve a simulated Shopify shop (Admin API + signed webhooks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8500)
        parser.add_argument("--folder", help="Default VAR_DIR/shopify.")
        parser.add_argument("--webhook-url", help="Send signed webhooks here.")
        parser.add_argument("--secret", default="", help="The webhook secret.")
        parser.add_argument("--access-token", default=DEFAULT_TOKEN)
        parser.add_argument(
            "--retry-seconds",
            type=float,
            default=60.0,
            help="First retry of an unanswered webhook (Shopify: a minute).",
        )
        parser.add_argument(
            "--scenario-seconds",
            type=float,
            default=0,
            help="Play the demo: a shop's day, one step every N seconds.",
        )

    def handle(self, *args, host, port, folder, **options):
        var = Path(settings.VAR_DIR)
        folder = Path(folder) if folder else var / "shopify"
        folder.mkdir(parents=True, exist_ok=True)
        if options["webhook_url"] and not options["secret"]:
            raise SystemExit("--webhook-url needs --secret.")
        certificate = server_certificate(var / "tls", "shopify")
        shop = Shop()
        scenario.stock(shop)
        server = serve(
            AdminApi(shop, {options["access_token"]}), certificate, host, port
        )
        sender = None
        if options["webhook_url"]:
            sender = WebhookSender(
                shop,
                [Subscription(topic, options["webhook_url"]) for topic in TOPICS],
                secret=options["secret"],
                retry_initial=options["retry_seconds"],
            )
            sender.session.trust_env = False  # loopback: no proxy
            sender.start()
        credentials = {
            "shop_url": server.url,
            "domain": shop.domain,
            "ca_bundle": str(certificate.ca),
            "access_token": options["access_token"],
            "webhook_secret": options["secret"],
            "topics": list(TOPICS) if sender else [],
        }
        path = write_credentials(folder, credentials)
        self.stdout.write(f"Simulated Shopify shop {shop.domain} on {server.url}")
        self.stdout.write(f"Credentials: {path}")
        stoppers = [server.stop] + ([sender.stop] if sender is not None else [])
        seconds = options["scenario_seconds"]
        serve_until_interrupted(
            stoppers,
            partial(scenario.play, shop, seconds) if seconds else None,
            name="shopify-scenario",
            say=self.stdout.write,
        )
