"""The demo's Sage 100: a seeded simulated company, its agent, and what an admin
would set up around it (the connection, change feeds, a web-order flow)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings

from integrations.models import ChangeFeed, Connection, FlowConfig, System, Trigger
from integrations.sandbox import tls
from integrations.sandbox.sage100.database import CompanyDatabase
from integrations.services import inbox

COMPANY = "ABC"
SLUG = "sage100-abc"
AGENT_PORT = 8200
AGENT_KEY_ID = "hub"
AGENT_SECRET = "demo-sage100-agent-secret"
WEB_ORDERS_SECRET = "demo-web-orders-secret"
WAREHOUSE_APP_PORT = 8101
WAREHOUSE_APP_SECRET = "demo-warehouse-app-secret"
# Custom Office fields the demo company has, as an admin would have added them.
UDFS = [
    ("AR_Customer", "UDF_SF_ACCOUNT_ID", 18),
    ("SO_SalesOrderHeader", "UDF_SF_OPPORTUNITY_ID", 18),
]
FEEDS = [  # table, seconds between polls
    ("AR_Customer", 30),
    ("CI_Item", 60),
    ("IM_ItemWarehouse", 15),
    ("SO_SalesOrderHeader", 15),
    ("AR_InvoiceHistoryHeader", 60),
]
ORDERS = [
    {  # goes through: American Business Futures has no credit limit
        "id": "WEB-2001",
        "customer": "01-ABF",
        "order_date": "2026-11-24",
        "lines": [
            {"item": "1001-HON-H252", "quantity": "2"},
            {"item": "1001-HON-H254", "quantity": "1", "unit_price": "150.00"},
        ],
    },
    {  # written, but on credit hold: far above Beacon Paper's 5,000 limit
        "id": "WEB-2002",
        "customer": "02-BEACPAP",
        "order_date": "2026-11-24",
        "lines": [{"item": "1001-HON-H252", "quantity": "20"}],
    },
    {  # needs attention: the web shop sells an item Sage 100 does not have
        "id": "WEB-2003",
        "customer": "01-ABF",
        "order_date": "2026-11-24",
        "lines": [{"item": "WIDGET-9", "quantity": "3", "unit_price": "9.99"}],
    },
]


def root() -> Path:
    return Path(settings.VAR_DIR) / "sage100"


def company() -> CompanyDatabase:
    return CompanyDatabase(root(), COMPANY)


def prepare_company() -> bool:
    """Create and seed the simulated company once; True when it was created."""
    from integrations.sandbox.sage100.seed import seed

    database = company()
    if database.exists():
        return False
    database.create()
    seed(database)
    for table, name, length in UDFS:
        database.add_udf(table, name, length=length)
    return True


def warehouse_app_command() -> list[str]:
    """A JSON receiver standing in for a warehouse app that wants stock levels."""
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    return [
        *manage, "run_generic_sink", "--port", str(WAREHOUSE_APP_PORT),
        "--secret", WAREHOUSE_APP_SECRET, "--require", "reference",
    ]  # fmt: skip


def agent_certificate() -> tls.ServerCertificate:
    """The agent speaks HTTPS, as in production, with a certificate from the
    demo's private CA; the connection trusts that CA by its bundle path."""
    return tls.server_certificate(Path(settings.VAR_DIR) / "tls", "sage100-agent")


def agent_command() -> list[str]:
    """The on-premise agent, here beside the hub, on the simulator backend."""
    agent_dir = Path(settings.VAR_DIR) / "sage100-agent"
    agent_dir.mkdir(parents=True, exist_ok=True)
    keys = agent_dir / "keys.txt"
    keys.write_text(f"{AGENT_KEY_ID}:{AGENT_SECRET}\n")
    keys.chmod(0o600)
    certificate = agent_certificate()
    return [
        sys.executable, "-m", "integrations.agent", "--backend", "simulator",
        "--root", str(root()), "--company", COMPANY, "--port", str(AGENT_PORT),
        "--journal", str(agent_dir / "journal.db"), "--keys-file", str(keys),
        "--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key),
    ]  # fmt: skip


def connection_settings() -> dict:
    return {
        "company": COMPANY,
        "odbc": company().odbc_settings(),
        "agent_url": f"https://127.0.0.1:{AGENT_PORT}",
        "agent_key_id": AGENT_KEY_ID,
        "agent_ca_bundle": str(agent_certificate().ca),
        "timezone": settings.TIME_ZONE,
    }


def load() -> dict:
    """Point the demo's Sage 100 connection at the simulator; add feeds and a flow."""
    created = prepare_company()
    sage, _ = Connection.objects.get_or_create(
        slug=SLUG,
        defaults={"name": "ABC Distribution (Sage 100)", "system": System.SAGE100},
    )
    if sage.settings.get("agent_url") != connection_settings()["agent_url"]:
        sage.settings = connection_settings()
        sage.credentials = {"agent_secret": AGENT_SECRET}
        sage.calls_per_minute = 600
        sage.save()
    for table, interval in FEEDS:
        ChangeFeed.objects.get_or_create(
            connection=sage, table=table, defaults={"interval_seconds": interval}
        )
    warehouse, _ = Connection.objects.get_or_create(
        slug="warehouse-app",
        defaults={
            "name": "Warehouse app (HTTP)",
            "system": System.GENERIC,
            "settings": {"url": f"http://127.0.0.1:{WAREHOUSE_APP_PORT}/documents"},
            "credentials": {"signing_secret": WAREHOUSE_APP_SECRET},
        },
    )
    # Publish/subscribe: the inventory feed's changes go to the warehouse app.
    FlowConfig.objects.get_or_create(
        flow="sage100_changes_to_http",
        source_connection=sage,
        target_connection=warehouse,
        defaults={
            "name": "Sage 100 inventory → Warehouse app",
            "trigger": Trigger.WEBHOOK,
            "options": {"topics": ["sage100.inventory"]},
        },
    )
    web, _ = Connection.objects.get_or_create(
        slug="web-orders",
        defaults={
            "name": "Web orders (signed webhook)",
            "system": System.GENERIC,
            "credentials": {"signing_secret": WEB_ORDERS_SECRET},
        },
    )
    FlowConfig.objects.get_or_create(
        flow="generic_order_to_sage100",
        source_connection=web,
        target_connection=sage,
        defaults={"name": "Web orders → Sage 100", "trigger": Trigger.WEBHOOK},
    )
    new_orders = 0
    for order in ORDERS:
        accepted = inbox.accept(
            web,
            body=json.dumps({**order, "reference": order["id"]}).encode(),
            headers={"Content-Type": "application/json", "X-Demo": "seed"},
            provider_event_id=f"demo-{order['id']}",
            topic="orders/create",
            signature_verified=True,
        )
        new_orders += not accepted.duplicate
    from integrations.services import demo_salesforce

    salesforce = demo_salesforce.load(sage)
    return {
        "sage100_company_created": created,
        "web_orders": new_orders,
        **salesforce,
    }
