"""``manage.py xero_sim``: serve the simulated Xero over HTTPS.

    xero_sim [--port 8400] [--folder var/xero] [--tenants 2] [--tenant-id ID]
             [--custom-client-id ID --custom-client-secret S]
             [--webhook-url URL --webhook-key KEY] [--per-minute 60]
             [--per-day 5000] [--concurrent 5]
             [--scenario-seconds N --pay-bills-prefix DP]
             [--edit-contact-email 01-ABF]

Writes ``<folder>/credentials.json`` (URLs, the app's client id and secret,
the organisations, the CA bundle, the webhook key, the custom connection) for
the demo and for setting up a Xero connection, then serves until interrupted.
The books live in memory: a restart starts from the demo seed again.

Organisation ids are derived from their names (uuid5), so a connection made
to the simulator still reaches "its" organisation after a restart;
``--tenant-id`` fixes the first one. ``--custom-client-id`` and
``--custom-client-secret`` register a custom connection (client credentials)
to the first organisation with credentials known before the simulator starts:
the demo's Xero connection is ready without a consent click.

``--scenario-seconds N`` plays a bookkeeper: every N seconds one unpaid bill
(ACCPAY) whose number starts with ``--pay-bills-prefix`` is paid in full from
the bank account, as a person would in Xero; its invoice webhook then tells
the hub. With ``--edit-contact-email 01-ABF`` the bookkeeper also changes
the e-mail address of the contact with that ContactNumber once, as soon as
the hub's master data sync has made it: its contact webhook takes the change
to the Sage 100 customer (two-way master data).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from integrations.sandbox.sim_command import serve_until_interrupted, write_credentials
from integrations.sandbox.tls import server_certificate
from integrations.sandbox.xero.http import AccountingRequest
from integrations.sandbox.xero.identity import (
    AUTHORIZE_PATH,
    App,
    Identity,
    Tenant,
)
from integrations.sandbox.xero.identity import Connection as TenantConnection
from integrations.sandbox.xero.server import API_PREFIX, start

logger = logging.getLogger(__name__)

NAMES = ("Demo Company (US)", "Demo Company (Wholesale)", "Demo Company (EU)")
TENANT_NAMESPACE = uuid.UUID("6f1c2b1e-3d7a-5b8e-9c4d-2a6e8f0b1c3d")
BANK_ACCOUNT = "090"


def stable_tenant_id(name: str) -> str:
    """The organisation id the simulator gives ``name`` on every start."""
    return str(uuid.uuid5(TENANT_NAMESPACE, name))


def demo_books(tenant_id: str, name: str, *, clock, on_change):
    from integrations.sandbox.xero.accounting import Organisation

    organisation = Organisation(tenant_id, name, clock=clock, on_change=on_change)
    organisation.seed_demo()
    return organisation


def add_custom_connection(
    identity: Identity, tenant_id: str, client_id: str, client_secret: str
) -> App:
    """A custom connection to ``tenant_id`` under the given credentials (the
    simulator's own ``register_custom_connection`` makes random ones)."""
    app = App(
        client_id,
        client_secret,
        name="LedgerBridge (custom connection)",
        custom_tenant=tenant_id,
    )
    now = identity.clock()
    identity.apps[client_id] = app
    connection = TenantConnection(
        str(uuid.uuid4()), tenant_id, client_id, str(uuid.uuid4()), now, now
    )
    identity.connections[connection.id] = connection
    return app


class Command(BaseCommand):
    help = "Serve a simulated Xero (login, identity, /connections, Accounting API)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8400)
        parser.add_argument("--folder", help="Default VAR_DIR/xero.")
        parser.add_argument("--tenants", type=int, default=2, choices=(1, 2, 3))
        parser.add_argument(
            "--tenant-id", help="The first organisation's id (default: from its name)."
        )
        parser.add_argument("--custom-client-id", default="")
        parser.add_argument("--custom-client-secret", default="")
        parser.add_argument("--webhook-url", help="Send signed events here.")
        parser.add_argument("--webhook-key", default="")
        parser.add_argument(
            "--webhook-retry-seconds",
            type=float,
            default=30.0,
            help="First retry of an unanswered webhook batch (Xero: minutes).",
        )
        parser.add_argument("--per-minute", type=int, default=60)
        parser.add_argument("--per-day", type=int, default=5000)
        parser.add_argument("--concurrent", type=int, default=5)
        parser.add_argument(
            "--scenario-seconds",
            type=float,
            default=0,
            help="Play the demo: pay one matching bill every N seconds.",
        )
        parser.add_argument(
            "--edit-contact-email",
            default="",
            help="The scenario changes this contact's (ContactNumber) e-mail once.",
        )
        parser.add_argument(
            "--pay-bills-prefix",
            default="DP",
            help="The scenario pays ACCPAY bills whose number starts with this.",
        )

    def handle(self, *args, host, port, folder, tenants, **options):
        var = Path(settings.VAR_DIR)
        folder = Path(folder) if folder else var / "xero"
        folder.mkdir(parents=True, exist_ok=True)
        if options["webhook_url"] and not options["webhook_key"]:
            raise SystemExit("--webhook-url needs --webhook-key.")
        custom_id, custom_secret = (
            options["custom_client_id"],
            options["custom_client_secret"],
        )
        if bool(custom_id) != bool(custom_secret):
            raise SystemExit(
                "--custom-client-id and --custom-client-secret go together."
            )
        certificate = server_certificate(var / "tls", "xero")
        organisations = [Tenant(stable_tenant_id(n), n) for n in NAMES[:tenants]]
        if options["tenant_id"]:
            organisations[0].tenant_id = str(uuid.UUID(options["tenant_id"]))
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
            retry_initial=options["webhook_retry_seconds"],
        )
        if stack.sender is not None:
            stack.sender.session.trust_env = False  # loopback: no proxy
        first = organisations[0].tenant_id
        custom = None
        if custom_id:
            add_custom_connection(stack.identity, first, custom_id, custom_secret)
            custom = {
                "tenant_id": first,
                "client_id": custom_id,
                "client_secret": custom_secret,
            }
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
            "custom_connection": custom,
            "webhook_key": options["webhook_key"],
        }
        path = write_credentials(folder, credentials)
        self.stdout.write(f"Simulated Xero on {stack.url} (credentials in {path})")
        seconds = options["scenario_seconds"]
        scenario = partial(
            play_scenario,
            stack.organisations[first],
            options["pay_bills_prefix"],
            seconds,
            edit_contact=options["edit_contact_email"],
        )
        serve_until_interrupted(
            [stack.stop],
            scenario if seconds else None,
            name="xero-scenario",
            say=self.stdout.write,
        )


def unpaid_bills(organisation, prefix: str) -> list[dict]:
    """AUTHORISED bills with an amount due whose number starts with ``prefix``,
    oldest first."""
    found = [
        invoice
        for invoice in list(organisation.books.invoices.values())
        if invoice.get("Type") == "ACCPAY"
        and invoice.get("Status") == "AUTHORISED"
        and str(invoice.get("InvoiceNumber") or "").startswith(prefix)
        and invoice.get("AmountDue")
    ]
    return sorted(found, key=lambda i: str(i.get("InvoiceNumber")))


def pay_bill(organisation, bill: dict, reference: str) -> int:
    """Pay ``bill`` in full from the bank account, through the books' own API
    (so the change makes its webhook); the answer's status."""
    answer = organisation.handle(
        AccountingRequest(
            "PUT",
            "/Payments",
            {},
            {},
            {
                "Payments": [
                    {
                        "Invoice": {"InvoiceID": bill["InvoiceID"]},
                        "Account": {"Code": BANK_ACCOUNT},
                        "Amount": str(bill["AmountDue"]),
                        "Reference": reference,
                    }
                ]
            },
        )
    )
    return answer.status


def edit_contact_email(organisation, number: str, email: str) -> bool:
    """Give the contact with ContactNumber ``number`` a new e-mail address
    through the books' own API (so it makes its webhook); False while Xero has
    no such contact yet."""
    found = organisation.books.contact_by("ContactNumber", number)
    if found is None:
        return False
    answer = organisation.handle(
        AccountingRequest(
            "POST",
            "/Contacts",
            {},
            {},
            {"Contacts": [{"ContactID": found["ContactID"], "EmailAddress": email}]},
        )
    )
    if answer.status != 200:
        logger.error("Could not change contact %s's e-mail: %s", number, answer.status)
    return True


def play_scenario(
    organisation,
    prefix: str,
    seconds: float,
    stop: threading.Event,
    *,
    edit_contact: str = "",
) -> None:
    """Every ``seconds``, pay the oldest matching unpaid bill (a bookkeeper's
    check run); keeps going while bills arrive. Once, change the e-mail of the
    contact numbered ``edit_contact`` (when there is one)."""
    check_no = 1040 + int(time.time()) % 1000
    email = f"accounts.{int(time.time()) % 100000}@example.com"
    while not stop.wait(seconds):
        if edit_contact:
            try:
                if edit_contact_email(organisation, edit_contact, email):
                    edit_contact = ""
            except Exception:  # the demo goes on
                logger.exception("Could not play the Xero contact change")
        try:
            bills = unpaid_bills(organisation, prefix)
            if not bills:
                continue
            check_no += 1
            status = pay_bill(organisation, bills[0], f"CHK {check_no}")
            if status != 200:
                logger.error(
                    "Could not pay bill %s: %s", bills[0].get("InvoiceNumber"), status
                )
        except Exception:  # the demo goes on
            logger.exception("Could not play the Xero bill payment")
