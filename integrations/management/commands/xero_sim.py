"""``manage.py xero_sim``: serve the simulated Xero over HTTPS.

    xero_sim [--port 8400] [--folder var/xero] [--tenants 2]
             [--webhook-url URL --webhook-key KEY] [--per-minute 60]
             [--per-day 5000] [--concurrent 5]

Writes ``<folder>/credentials.json`` (URLs, the app's client id and secret,
the organisations, the CA bundle, the webhook key) for the demo and for
setting up a Xero connection, then serves until interrupted. The books live
in memory: a restart starts from the demo seed again.
"""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from integrations.sandbox.tls import server_certificate
from integrations.sandbox.xero.identity import AUTHORIZE_PATH, Tenant
from integrations.sandbox.xero.server import API_PREFIX, start

NAMES = ("Demo Company (US)", "Demo Company (Wholesale)", "Demo Company (EU)")


def demo_books(tenant_id: str, name: str, *, clock, on_change):
    from integrations.sandbox.xero.accounting import Organisation

    organisation = Organisation(tenant_id, name, clock=clock, on_change=on_change)
    organisation.seed_demo()
    return organisation


class Command(BaseCommand):
    help = "Serve a simulated Xero (login, identity, /connections, Accounting API)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8400)
        parser.add_argument("--folder", help="Default VAR_DIR/xero.")
        parser.add_argument("--tenants", type=int, default=2, choices=(1, 2, 3))
        parser.add_argument("--webhook-url", help="Send signed events here.")
        parser.add_argument("--webhook-key", default="")
        parser.add_argument("--per-minute", type=int, default=60)
        parser.add_argument("--per-day", type=int, default=5000)
        parser.add_argument("--concurrent", type=int, default=5)

    def handle(self, *args, host, port, folder, tenants, **options):
        var = Path(settings.VAR_DIR)
        folder = Path(folder) if folder else var / "xero"
        folder.mkdir(parents=True, exist_ok=True)
        if options["webhook_url"] and not options["webhook_key"]:
            raise SystemExit("--webhook-url needs --webhook-key.")
        certificate = server_certificate(var / "tls", "xero")
        organisations = [Tenant(str(uuid.uuid4()), name) for name in NAMES[:tenants]]
        stack = start(
            certificate,
            organisations,
            demo_books,
            host=host,
            port=port,
            per_minute=options["per_minute"],
            per_day=options["per_day"],
            concurrent=options["concurrent"],
            webhook_url=options["webhook_url"],
            webhook_key=options["webhook_key"] or None,
        )
        credentials = {
            "accounting_url": stack.url + API_PREFIX,
            "identity_url": stack.url,
            "login_url": stack.url + AUTHORIZE_PATH,
            "client_id": stack.app.client_id,
            "client_secret": stack.app.client_secret,
            "ca_bundle": stack.ca_bundle,
            "tenants": [
                {"tenant_id": t.tenant_id, "name": t.name} for t in organisations
            ],
            "webhook_key": options["webhook_key"],
        }
        path = folder / "credentials.json"
        path.write_text(json.dumps(credentials, indent=2))
        path.chmod(0o600)
        self.stdout.write(f"Simulated Xero on {stack.url} (credentials in {path})")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            stack.stop()
