"""The demo's Salesforce side: a simulated org, our Pub/Sub subscriber, and flows
between it and the simulated Sage 100 company.

The simulator plays a sales rep who wins a seeded opportunity every so often;
the win reaches the hub by Pub/Sub and by an Outbound Message (the same event
twice, one order), becomes a Sage 100 order, and its number and status go back.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings

from integrations.models import (
    Connection,
    CrossReference,
    CurrencyRate,
    FlowConfig,
    System,
    Trigger,
)
from integrations.sandbox import tls
from integrations.sandbox.salesforce import seed as org_seed
from integrations.sandbox.salesforce.ids import make_id
from integrations.services import demo_portal

SLUG = "salesforce"
PORT, PUBSUB_PORT = 8300, 8301
OUTBOUND_SECRET = "demo-outbound-message-secret"
CALLOUT_SECRET = "demo-salesforce-callout-secret"
SCENARIO_SECONDS = 20


def org_id() -> str:
    """The simulated org's id (org number 1), known before it starts."""
    return make_id("00D", "5g", 3_000_001)


def certificate() -> tls.ServerCertificate:
    return tls.server_certificate(Path(settings.VAR_DIR) / "tls", "salesforce")


def _inbound(kind: str) -> str:
    return f"{demo_portal.url()}/api/v1/inbound/salesforce/{SLUG}/{kind}"


def simulator_command() -> list[str]:
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    return [
        *manage, "salesforce_sim", "--port", str(PORT),
        "--pubsub-port", str(PUBSUB_PORT),
        "--outbound-url", f"{_inbound('outbound-message')}?secret={OUTBOUND_SECRET}",
        "--callout-url", _inbound("events"), "--callout-secret", CALLOUT_SECRET,
        "--scenario-seconds", str(SCENARIO_SECONDS),
    ]  # fmt: skip


def subscriber_command() -> list[str]:
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    return [*manage, "run_salesforce_subscriber", "--connection", SLUG]


def connection_settings() -> dict:
    return {
        "login_url": f"https://127.0.0.1:{PORT}",
        "auth_flow": "password",
        "api_version": "62.0",
        "ca_bundle": str(certificate().ca),
        "client_id": org_seed.CLIENT_ID,
        "username": org_seed.USERNAME,
        "organization_id": org_id(),
        "pubsub_url": f"127.0.0.1:{PUBSUB_PORT}",
        "pubsub_start": "EARLIEST",
    }


def load(sage: Connection) -> dict:
    """Point the demo's Salesforce connection at the simulator; add its flows."""
    salesforce, _ = Connection.objects.get_or_create(
        slug=SLUG, defaults={"name": "Salesforce (sales)", "system": System.SALESFORCE}
    )
    if salesforce.settings.get("login_url") != connection_settings()["login_url"]:
        salesforce.settings = connection_settings()
        salesforce.credentials = {
            "client_secret": org_seed.CLIENT_SECRET,
            "password": org_seed.PASSWORD,
            "security_token": org_seed.SECURITY_TOKEN,
            "outbound_secret": OUTBOUND_SECRET,
            "signing_secret": CALLOUT_SECRET,
        }
        salesforce.calls_per_minute = 300
        salesforce.calls_per_day = 15000
        salesforce.save()
    for flow, name, source, target, options in [
        (
            "salesforce_opportunity_to_sage100",
            "Salesforce Closed Won → Sage 100 orders",
            salesforce, sage,
            {
                "customer_reference_column": "UDF_SF_ACCOUNT_ID",
                "item_codes": {"remove_prefixes": ["SF-"], "replace": {" ": "-"}},
            },
        ),
        (
            "salesforce_order_to_sage100",
            "Salesforce activated orders → Sage 100 orders",
            salesforce, sage,
            {"customer_reference_column": "UDF_SF_ACCOUNT_ID"},
        ),
        (
            "sage100_order_status_to_salesforce",
            "Sage 100 order status → Salesforce", sage, salesforce, {},
        ),
        (
            "sage100_inventory_to_salesforce",
            "Sage 100 stock → Salesforce inventory", sage, salesforce, {},
        ),
    ]:  # fmt: skip
        FlowConfig.objects.get_or_create(
            flow=flow,
            source_connection=source,
            target_connection=target,
            defaults={"name": name, "trigger": Trigger.WEBHOOK, "options": options},
        )
    CurrencyRate.objects.get_or_create(
        from_currency="EUR",
        to_currency="USD",
        valid_from="2026-01-01",
        defaults={"rate": "1.08", "note": "Demo rate"},
    )
    for stage, code in [("Open", "O"), ("Hold", "H"), ("Completed", "C")]:
        CrossReference.objects.get_or_create(
            kind="status",
            source_connection=sage,
            target_connection=salesforce,
            source_value=code,
            defaults={"target_value": stage},
        )
    return {"salesforce_org": org_id()}
