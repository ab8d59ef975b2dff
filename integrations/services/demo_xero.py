"""The demo's Xero side: a simulated Xero organisation, a custom connection to
it, and the flows between it and the simulated Sage 100 company.

The connection is a custom connection (client credentials) whose id, secret
and organisation the simulator is started with, so it works from the first
second and after every restart, with no consent click. The simulator sends
its signed webhooks to the portal, plays a bookkeeper who pays the demo's
bills in Xero, and a second process plays a buyer entering purchase orders
and bills in Sage 100: procure-to-pay, both ways, while the demo runs.
Customers, vendors and items are kept the same on both sides (two-way master
data): the first sync sends the Sage company's customers and vendors to Xero,
same-named ones as "Name (01-ABC)"; during the demo the Sage clerk changes a
customer's phone and the Xero bookkeeper its e-mail, and each change reaches
the other side; then both rename another customer differently at the same
moment, a conflict that waits under Needs attention with both names.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from django.conf import settings
from django.db.models import F, Q

from integrations.models import (
    ChangeFeed,
    ChangeFeedRow,
    Connection,
    CrossReference,
    FlowConfig,
    MasterDataLink,
    System,
    Trigger,
)
from integrations.models.changefeeds import watermark_fields
from integrations.sandbox import tls
from integrations.sandbox.xero.identity import CUSTOM_CONNECTION_SCOPES
from integrations.services import (
    demo_portal,
    master_data_contacts,
    procure_to_pay_setup,
)

SLUG = "xero"
PORT = 8400
TENANT_ID = "3f1e9c2a-7b4d-5e8f-a1c6-0d2b4e6f8a10"
TENANT_NAME = "Demo Company (US)"
CLIENT_ID = "4C3D2B1A0F9E8D7C6B5A493827160504"
CLIENT_SECRET = "demo-xero-custom-connection-secret"
WEBHOOK_KEY = "demo-xero-webhook-key"
# The Xero bookkeeper pays one demo bill this often; the Sage buyer enters a
# purchase this often, a few times per day.
SCENARIO_SECONDS = 20
PURCHASE_SECONDS = 30
PURCHASES_PER_DAY = 3
BILL_PREFIX = "DP"
FEED_SECONDS = 15  # the procure-to-pay feeds, so the demo moves along
# The customer whose phone the Sage clerk and whose e-mail the Xero
# bookkeeper change once during the demo: a change travels each way.
TWO_WAY_CUSTOMER = "01-ABF"
# The customer the clerk and the bookkeeper rename differently at once: a
# conflict on the name (owner "ask") that waits under Needs attention.
CONFLICT_CUSTOMER = "02-BEACPAP"
# Master data feeds: AR_Customer is demo_sage100's (every 30 s).
MASTER_DATA_FEEDS = ("AR_Customer", "AP_Vendor")
# Sage GL account → Xero account code, for bills and invoice lines.
GL_ACCOUNTS = [
    ("4000-00-00", "200"),  # Sales
    ("1300-00-00", "630"),  # Inventory: the demo's purchases are stock
    ("5000-00-00", "310"),  # Cost of goods sold
    ("6100-00-00", "469"),  # Rent
]
IN, OUT = "in", "out"  # Xero → Sage, Sage → Xero
EVENTS, POLL = Trigger.WEBHOOK, Trigger.POLL
# Customers, vendors and items go both ways; contacts made in Xero (by the
# order flow too) reach Sage. The seeded company's same-named customers and
# vendors become "Name (02-ABF)" in Xero (option name_clash, default suffix),
# and the first sync costs about one Xero call per 50 records, on the low
# queue, behind the orders (docs/master-data.md).
MASTER_DATA_FLOWS = [  # flow, name, direction, trigger, schedule
    ("sage100_customers_to_xero", "Sage 100 customers → Xero", OUT, EVENTS, ""),
    ("sage100_vendors_to_xero", "Sage 100 vendors → Xero", OUT, EVENTS, ""),
    ("sage100_items_to_xero", "Sage 100 items → Xero", OUT, EVENTS, ""),
    ("xero_contacts_to_sage100", "Xero contacts → Sage 100", IN, EVENTS, ""),
    ("xero_items_to_sage100", "Xero items → Sage 100", IN, POLL, "*/5 * * * *"),
]  # fmt: skip
# Cross-reference kinds whose values are not Xero ids: they outlive the
# simulator's books. Every other kind to or from Xero names a contact,
# invoice, order or payment of books that are gone once it stops.
LASTING_KINDS = (
    "status",
    "gl_account",
    "tax",
    "item",
    "currency",
    "terms",
    "warehouse",
)


def certificate() -> tls.ServerCertificate:
    return tls.server_certificate(Path(settings.VAR_DIR) / "tls", "xero")


def webhook_url() -> str:
    return f"{demo_portal.url()}/api/v1/inbound/xero/{SLUG}/webhook"


def simulator_command() -> list[str]:
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    return [
        *manage, "xero_sim", "--port", str(PORT), "--tenants", "1",
        "--tenant-id", TENANT_ID,
        "--custom-client-id", CLIENT_ID, "--custom-client-secret", CLIENT_SECRET,
        "--webhook-url", webhook_url(), "--webhook-key", WEBHOOK_KEY,
        "--webhook-retry-seconds", "5",
        "--scenario-seconds", str(SCENARIO_SECONDS), "--pay-bills-prefix", BILL_PREFIX,
        "--edit-contact-email", TWO_WAY_CUSTOMER,
    ]  # fmt: skip


def purchases_command() -> list[str]:
    """The Sage 100 buyer: a PO and its bill every PURCHASE_SECONDS."""
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    return [
        *manage, "sage100_purchases", "--seconds", str(PURCHASE_SECONDS),
        "--count", str(PURCHASES_PER_DAY), "--tag-prefix", BILL_PREFIX,
        "--customer-phone", TWO_WAY_CUSTOMER,
        "--name-conflict", CONFLICT_CUSTOMER, "--xero-connection", SLUG,
    ]  # fmt: skip


def connection_settings() -> dict:
    url = f"https://127.0.0.1:{PORT}"
    return {
        "accounting_url": f"{url}/api.xro/2.0",
        "identity_url": url,
        "login_url": f"{url}/identity/connect/authorize",
        "grant": "client_credentials",
        "tenant_id": TENANT_ID,
        "tenant_name": TENANT_NAME,
        "ca_bundle": str(certificate().ca),
        "scopes": list(CUSTOM_CONNECTION_SCOPES),
    }


def connection() -> Connection:
    """The demo's Xero connection, pointed at the simulator."""
    xero, _ = Connection.objects.get_or_create(
        slug=SLUG, defaults={"name": "Xero (books)", "system": System.XERO}
    )
    wanted = connection_settings()
    if any(xero.settings.get(k) != v for k, v in wanted.items()):
        xero.settings = wanted
        xero.credentials = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "webhook_key": WEBHOOK_KEY,
        }
        xero.save()
    return xero


def simulator_running() -> bool:
    """Whether something answers on the simulator's port."""
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=0.5):
            return True
    except OSError:
        return False


def forget_simulated_books(xero: Connection) -> int:
    """The simulated Xero keeps its books in memory: after it stopped, the
    contacts, invoices and payments the hub linked are gone. Forget those
    links (and master-data pairs), so the flows find or create again instead
    of pointing at ids the new books never had. Mappings stay."""
    links = CrossReference.objects.filter(
        Q(source_connection=xero) | Q(target_connection=xero)
    ).exclude(kind__in=LASTING_KINDS)
    forgotten, _ = links.delete()
    pairs, _ = MasterDataLink.objects.filter(xero_connection=xero).delete()
    master_data_contacts.forget_all(xero)
    return forgotten + pairs


FIRST_SYNC = {
    "sage100_customers_to_xero": "AR_Customer",
    "sage100_vendors_to_xero": "AP_Vendor",
}


def first_sync(sage: Connection, table: str) -> None:
    """A flow added to a demo whose feed has read its table already: the feed
    forgets what it saw, so its next poll publishes every row again and the
    new flow makes its first sync, as on a fresh demo."""
    feed = ChangeFeed.objects.filter(connection=sage, table=table).first()
    if feed is None or feed.watermark is None:
        return
    ChangeFeedRow.objects.filter(feed=feed).delete()
    ChangeFeed.objects.filter(pk=feed.pk).update(
        **watermark_fields(None, ""), version=F("version") + 1
    )


def load(sage: Connection) -> dict:
    """The Xero connection, master data and procure-to-pay with Sage 100."""
    xero = connection()
    forgotten = 0 if simulator_running() else forget_simulated_books(xero)
    for table in (*procure_to_pay_setup.FEED_TABLES, *MASTER_DATA_FEEDS):
        ChangeFeed.objects.get_or_create(
            connection=sage, table=table, defaults={"interval_seconds": FEED_SECONDS}
        )
    procure_to_pay_setup.wire(sage, xero, payments=Trigger.WEBHOOK)
    for flow, name, direction, trigger, schedule in MASTER_DATA_FLOWS:
        source, target = (sage, xero) if direction == OUT else (xero, sage)
        _, created = FlowConfig.objects.get_or_create(
            flow=flow,
            source_connection=source,
            target_connection=target,
            defaults={
                "name": name,
                "trigger": trigger,
                "schedule": schedule,
            },
        )
        if created and flow in FIRST_SYNC:
            first_sync(sage, FIRST_SYNC[flow])
    for sage_account, xero_code in GL_ACCOUNTS:
        CrossReference.objects.get_or_create(
            kind="gl_account",
            source_connection=sage,
            target_connection=xero,
            source_value=sage_account,
            defaults={"target_value": xero_code, "note": "Demo chart mapping"},
        )
    return {"xero_tenant": TENANT_ID, "xero_links_forgotten": forgotten}
