"""The demo's Shopify side: a simulated shop and order-to-cash into Xero and
the simulated Sage 100 company.

The simulator plays a small shop's day (``sandbox/shopify/scenario.py``):
orders placed, paid, one cancelled, one refunded, one with a SKU nobody
knows. Each order becomes a Xero invoice and a Sage 100 sales order; its
payment a Xero payment; the cancellation voids the invoice; an invoice's
status in Xero moves the Sage order's status.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings

from integrations.models import Connection, CrossReference, FlowConfig, System, Trigger
from integrations.sandbox import tls
from integrations.sandbox.shopify.scenario import SKU_ALIASES
from integrations.services import demo_portal

SLUG = "shopify"
PORT = 8500
ACCESS_TOKEN = "shpat_ledgerbridge_demo_0000000000000000"
WEBHOOK_SECRET = "demo-shopify-webhook-secret"
SCENARIO_SECONDS = 12
ORDER_FLOW = "shopify_order_to_xero_and_sage100"
STATUS_FLOW = "xero_invoice_status_to_sage100"
INVENTORY_FLOW = "sage100_inventory_to_shopify"
# Xero invoice status (or a Shopify cancellation) → Sage 100 OrderStatus: the
# flow's defaults, written out so the admin sees (and may change) the table.
STATUSES = [("AUTHORISED", "O"), ("PAID", "C"), ("VOIDED", "C"), ("CANCELLED", "C")]
# Shopify's tax title → Xero TaxType (the shop charges 6% "State Tax").
TAXES = [("State Tax", "TAX002")]


def certificate() -> tls.ServerCertificate:
    return tls.server_certificate(Path(settings.VAR_DIR) / "tls", "shopify")


def webhook_url() -> str:
    return f"{demo_portal.url()}/api/v1/inbound/shopify/{SLUG}/webhook"


def simulator_command() -> list[str]:
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    return [
        *manage, "shopify_sim", "--port", str(PORT),
        "--webhook-url", webhook_url(), "--secret", WEBHOOK_SECRET,
        "--access-token", ACCESS_TOKEN, "--retry-seconds", "5",
        "--scenario-seconds", str(SCENARIO_SECONDS),
    ]  # fmt: skip


def connection_settings() -> dict:
    return {"shop_url": f"https://127.0.0.1:{PORT}", "ca_bundle": str(certificate().ca)}


def load(sage: Connection, xero: Connection) -> dict:
    """The Shopify connection and order-to-cash between it, Xero and Sage 100."""
    shop, _ = Connection.objects.get_or_create(
        slug=SLUG, defaults={"name": "Web shop (Shopify)", "system": System.SHOPIFY}
    )
    wanted = connection_settings()
    if any(shop.settings.get(k) != v for k, v in wanted.items()):
        shop.settings = wanted
        shop.credentials = {
            "access_token": ACCESS_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
        }
        shop.save()
    FlowConfig.objects.get_or_create(
        flow=ORDER_FLOW,
        source_connection=shop,
        target_connection=sage,
        defaults={
            "name": "Shopify orders → Xero invoices and Sage 100 orders",
            "trigger": Trigger.WEBHOOK,
            "options": {"xero_connection": xero.slug},
        },
    )
    FlowConfig.objects.get_or_create(
        flow=STATUS_FLOW,
        source_connection=xero,
        target_connection=sage,
        defaults={
            "name": "Xero invoice status → Sage 100 orders",
            "trigger": Trigger.WEBHOOK,
        },
    )
    # Sage stock (the IM_ItemWarehouse feed) sets the shop's available
    # quantities at its only location.
    FlowConfig.objects.get_or_create(
        flow=INVENTORY_FLOW,
        source_connection=sage,
        target_connection=shop,
        defaults={
            "name": "Sage 100 stock → Shopify inventory",
            "trigger": Trigger.WEBHOOK,
        },
    )
    rows = [
        ("status", xero, sage, STATUSES),
        ("tax", shop, xero, TAXES),
        # The shop's own SKU for a Sage item, and the Xero item it invoices.
        ("item", shop, sage, list(SKU_ALIASES.items())),
        ("item", shop, xero, list(SKU_ALIASES.items())),
    ]
    for kind, source, target, pairs in rows:
        for source_value, target_value in pairs:
            CrossReference.objects.get_or_create(
                kind=kind,
                source_connection=source,
                target_connection=target,
                source_value=source_value,
                defaults={"target_value": target_value, "note": "Demo"},
            )
    return {"shopify_shop": shop.settings["shop_url"]}
