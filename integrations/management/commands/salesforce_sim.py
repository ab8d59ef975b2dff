"""``manage.py salesforce_sim``: serve the simulated Salesforce org over HTTPS.

    salesforce_sim [--port 8300] [--folder var/salesforce] [--no-seed]
                   [--multi-currency] [--daily-api-requests 15000]

Writes ``<folder>/credentials.json`` (login URL, connected app, integration
user, JWT private key path, org id, CA bundle) for the demo and for setting up
a Salesforce connection, then serves until interrupted. The org lives in
memory: a restart starts from the seed again (the JWT key pair is kept).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from integrations.sandbox.salesforce.org import SalesforceOrg
from integrations.sandbox.salesforce.seed import add_integration_access, seed
from integrations.sandbox.salesforce.server import serve
from integrations.sandbox.tls import server_certificate


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
        path = folder / "credentials.json"
        partial = path.with_suffix(".tmp")  # readers never see half a file
        partial.write_text(json.dumps(credentials, indent=2) + "\n")
        partial.chmod(0o600)
        partial.replace(path)
        self.stdout.write(f"Simulated Salesforce org {org.org_id} on {server.url}")
        self.stdout.write(f"Credentials: {path}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")
        finally:
            server.stop()
