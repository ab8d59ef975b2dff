"""``manage.py salesforce_sim``: serve the simulated Salesforce org over HTTPS.

    salesforce_sim [--port 8300] [--folder var/salesforce] [--no-seed]
                   [--multi-currency] [--daily-api-requests 15000]
                   [--pubsub-port 8301] [--outbound-url URL] [--callout-url URL
                   --callout-secret S] [--scenario-seconds 20]

Writes ``<folder>/credentials.json`` (login URL, connected app, integration
user, JWT private key path, org id, CA bundle) for the demo and for setting up
a Salesforce connection, then serves until interrupted. The org lives in
memory: a restart starts from the seed again (the JWT key pair is kept).
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from integrations.sandbox.salesforce import pubsub_server
from integrations.sandbox.salesforce.callouts import CalloutRule, CalloutSender
from integrations.sandbox.salesforce.eventbus import EventBus
from integrations.sandbox.salesforce.org import SalesforceOrg
from integrations.sandbox.salesforce.outbound import (
    OutboundMessenger,
    OutboundRule,
    field_became,
)
from integrations.sandbox.salesforce.seed import add_integration_access, seed
from integrations.sandbox.salesforce.server import serve
from integrations.sandbox.sim_command import serve_until_interrupted, write_credentials
from integrations.sandbox.tls import server_certificate

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Serve a simulated Salesforce org (REST API + OAuth token endpoint)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8300)
        parser.add_argument(
            "--folder", help="Where credentials.json goes (default VAR_DIR/salesforce)."
        )
        parser.add_argument("--no-seed", action="store_true", help="Start empty.")
        parser.add_argument(
            "--multi-currency",
            action="store_true",
            help="Turn on multi-currency (adds CurrencyIsoCode everywhere).",
        )
        parser.add_argument("--daily-api-requests", type=int, default=15000)
        parser.add_argument(
            "--pubsub-port", type=int, default=0, help="Serve the Pub/Sub API (gRPC)."
        )
        parser.add_argument(
            "--outbound-url",
            help="Send an Outbound Message here when an opportunity is Closed Won.",
        )
        parser.add_argument(
            "--callout-url",
            help="Send a signed callout here when an order is activated.",
        )
        parser.add_argument("--callout-secret", default="")
        parser.add_argument(
            "--scenario-seconds",
            type=float,
            default=0,
            help="Play the demo: a rep wins a seeded opportunity every N seconds.",
        )

    def handle(self, *args, host, port, folder, no_seed, multi_currency, **options):
        var = Path(settings.VAR_DIR)
        folder = Path(folder) if folder else var / "salesforce"
        folder.mkdir(parents=True, exist_ok=True)
        certificate = server_certificate(var / "tls", "salesforce")
        org = SalesforceOrg(
            multi_currency=multi_currency,
            daily_api_requests=options["daily_api_requests"],
        )
        key_path = folder / "jwt-private-key.pem"
        existing_key = key_path.read_bytes() if key_path.exists() else None
        server = serve(org, host, port, certificate)
        if no_seed:
            access = add_integration_access(org, existing_key)
        else:
            access = seed(org, private_key_pem=existing_key)
        key_path.write_bytes(access.private_key_pem)
        key_path.chmod(0o600)
        credentials = {
            "login_url": server.url,
            "instance_url": server.url,
            "api_version": "62.0",
            "organization_id": org.org_id,
            "client_id": access.client_id,
            "client_secret": access.client_secret,
            "username": access.username,
            "password": access.password,
            "security_token": access.security_token,
            "private_key": str(key_path),
            "ca_bundle": str(certificate.ca),
        }
        path = write_credentials(folder, credentials)
        self.stdout.write(f"Simulated Salesforce org {org.org_id} on {server.url}")
        self.stdout.write(f"Credentials: {path}")
        stoppers = [server.stop, *self._events(org, certificate, host, options)]
        seconds = options["scenario_seconds"]
        serve_until_interrupted(
            stoppers,
            partial(play_scenario, org, access.ids, seconds)
            if seconds and not no_seed
            else None,
            name="salesforce-scenario",
            say=self.stdout.write,
        )

    def _events(self, org, certificate, host, options) -> list:
        """The ways changes leave the org: Pub/Sub, Outbound Messages, callouts."""
        stoppers = []
        if options["pubsub_port"]:
            bus = EventBus(org)
            pubsub = pubsub_server.serve(
                org, bus, certificate=certificate, host=host,
                port=options["pubsub_port"],
            )  # fmt: skip
            stoppers += [bus.close, pubsub.stop]
            self.stdout.write(f"Pub/Sub API on {host}:{pubsub.port}")
        if options["outbound_url"]:
            messenger = OutboundMessenger(
                org,
                [
                    OutboundRule(
                        "Opportunity",
                        options["outbound_url"],
                        ("Name", "StageName", "AccountId", "Amount", "CloseDate"),
                        when=field_became("StageName", "Closed Won"),
                    )
                ],
                retry_initial=5.0,
                retry_max=60.0,
            )
            messenger.start()
            stoppers.append(messenger.stop)
        if options["callout_url"]:
            sender = CalloutSender(
                org,
                [
                    CalloutRule(
                        "Order",
                        options["callout_url"],
                        when=field_became("Status", "Activated"),
                    )
                ],
                secret=options["callout_secret"],
            )
            sender.start()
            stoppers.append(sender.stop)
        return stoppers


# The order a rep wins the seeded opportunities in, during the demo.
SCENARIO = ["abf", "delta", "valley", "beacon", "northwind", "summit"]


def play_scenario(org, ids: dict, seconds: float, stop: threading.Event) -> None:
    """Win one open opportunity every ``seconds``, as a sales rep would."""
    for key in SCENARIO:
        if stop.wait(seconds):
            return
        opportunity = ids.get(f"opportunity:{key}")
        if opportunity is None:
            continue
        try:
            org.update("Opportunity", opportunity, {"StageName": "Closed Won"})
        except Exception:  # the demo goes on with the next one
            logger.exception("Could not win opportunity %s", key)
