"""The demo's Xero and Shopify side: connections pointed at the simulators,
order-to-cash, procure-to-pay and two-way master data (customers, vendors,
items) wired to the demo Sage 100."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from integrations.connectors.shopify.settings import ShopifySettings
from integrations.connectors.xero.settings import XeroSettings
from integrations.models import (
    ChangeFeed,
    ChangeFeedRow,
    Connection,
    CrossReference,
    FlowConfig,
    Trigger,
)
from integrations.models.changefeeds import watermark_fields
from integrations.sandbox import processes
from integrations.sandbox.shopify import scenario
from integrations.sandbox.xero.books.seed import demo_items
from integrations.services import (
    cross_references,
    demo_portal,
    demo_sage100,
    demo_xero,
    master_data_contacts,
)

pytestmark = pytest.mark.django_db

ENABLED_FLOWS = {
    ("shopify_order_to_xero_and_sage100", "shopify", "sage100-abc"),
    ("xero_invoice_status_to_sage100", "xero", "sage100-abc"),
    ("sage100_purchase_orders_to_xero", "sage100-abc", "xero"),
    ("sage100_ap_invoices_to_xero", "sage100-abc", "xero"),
    ("xero_bill_payments_to_sage100", "xero", "sage100-abc"),
    ("sage100_items_to_xero", "sage100-abc", "xero"),
    ("sage100_customers_to_xero", "sage100-abc", "xero"),
    ("sage100_vendors_to_xero", "sage100-abc", "xero"),
    ("xero_contacts_to_sage100", "xero", "sage100-abc"),
    ("xero_items_to_sage100", "xero", "sage100-abc"),
    ("sage100_inventory_to_shopify", "sage100-abc", "shopify"),
}


def flows(**filters) -> set[tuple[str, str, str]]:
    return {
        (f.flow, f.source_connection.slug, f.target_connection.slug)
        for f in FlowConfig.objects.filter(**filters).select_related(
            "source_connection", "target_connection"
        )
    }


def counts() -> dict[str, int]:
    return {
        "connections": Connection.objects.count(),
        "flows": FlowConfig.objects.count(),
        "feeds": ChangeFeed.objects.count(),
        "xrefs": CrossReference.objects.count(),
    }


def test_xero_is_a_ready_custom_connection_to_the_simulators_organisation():
    call_command("load_demo_data", password="pw-for-test")

    xero = Connection.objects.get(slug="xero")
    conf = XeroSettings.from_connection(xero.settings, xero.credentials)
    assert conf.is_custom_connection
    assert conf.tenant_id == demo_xero.TENANT_ID
    assert conf.accounting_url == f"https://127.0.0.1:{demo_xero.PORT}/api.xro/2.0"
    assert conf.webhook_key == demo_xero.WEBHOOK_KEY
    command = demo_xero.simulator_command()
    for option, value in [
        ("--tenant-id", conf.tenant_id),
        ("--custom-client-id", conf.client_id),
        ("--custom-client-secret", conf.client_secret),
        ("--webhook-key", conf.webhook_key),
    ]:
        assert command[command.index(option) + 1] == value
    assert (
        "/api/v1/inbound/xero/xero/webhook"
        in command[command.index("--webhook-url") + 1]
    )


def test_shopify_points_at_the_simulated_shop():
    call_command("load_demo_data", password="pw-for-test")

    shop = Connection.objects.get(slug="shopify")
    conf = ShopifySettings.from_connection(shop.settings, shop.credentials)
    assert conf.shop_url == "https://127.0.0.1:8500"
    command = dict(processes.demo_commands())["shopify-sim"]
    assert command[command.index("--secret") + 1] == conf.webhook_secret
    assert command[command.index("--access-token") + 1] == conf.access_token
    assert (
        "/api/v1/inbound/shopify/shopify/webhook"
        in command[command.index("--webhook-url") + 1]
    )


def test_order_to_cash_procure_to_pay_and_master_data_are_wired():
    call_command("load_demo_data", password="pw-for-test")

    assert flows(enabled=True) >= ENABLED_FLOWS
    order_flow = FlowConfig.objects.get(flow="shopify_order_to_xero_and_sage100")
    assert order_flow.options["xero_connection"] == "xero"
    sage = Connection.objects.get(slug=demo_sage100.SLUG)
    assert {"PO_PurchaseOrderHeader", "AP_OpenInvoice", "AR_Customer", "AP_Vendor"} <= (
        set(ChangeFeed.objects.filter(connection=sage).values_list("table", flat=True))
    )


def test_customers_and_vendors_go_both_ways_and_the_clash_option_defaults_to_suffix():
    call_command("load_demo_data", password="pw-for-test")

    for flow in ("sage100_customers_to_xero", "sage100_vendors_to_xero"):
        config = FlowConfig.objects.get(flow=flow)
        assert config.trigger == Trigger.WEBHOOK  # the change feed's events
        assert master_data_contacts.name_clash_option(config.options) == "suffix"
    sage = Connection.objects.get(slug=demo_sage100.SLUG)
    customers = ChangeFeed.objects.get(connection=sage, table="AR_Customer")
    assert customers.watermark is None  # the first poll sends every customer


def test_a_demo_that_ran_before_makes_the_first_sync_of_customers_when_it_is_added():
    call_command("load_demo_data", password="pw-for-test")
    sage = Connection.objects.get(slug=demo_sage100.SLUG)
    feed = ChangeFeed.objects.get(connection=sage, table="AR_Customer")
    ChangeFeed.objects.filter(pk=feed.pk).update(
        **watermark_fields(datetime(2026, 12, 1, 9, 0), "01-ZZZ")
    )
    ChangeFeedRow.objects.create(
        feed=feed, key="01-ABF", row_hash="seen", seen_at=timezone.now()
    )
    FlowConfig.objects.filter(flow="sage100_customers_to_xero").delete()

    call_command("load_demo_data", password="pw-for-test")

    feed.refresh_from_db()
    assert feed.watermark is None
    assert not ChangeFeedRow.objects.filter(feed=feed).exists()
    call_command("load_demo_data", password="pw-for-test")  # only when added
    assert FlowConfig.objects.filter(flow="sage100_customers_to_xero").count() == 1


def test_loading_again_adds_nothing():
    call_command("load_demo_data", password="pw-for-test")
    first = counts()

    call_command("load_demo_data", password="pw-for-test")

    assert counts() == first


def test_every_sku_the_shop_sells_resolves_in_sage_and_xero_but_one():
    call_command("load_demo_data", password="pw-for-test")
    shop, sage, xero = (
        Connection.objects.get(slug=slug) for slug in ("shopify", "sage100-abc", "xero")
    )
    with demo_sage100.company().connect() as db:
        active = {
            code
            for (code,) in db.execute(
                "SELECT ItemCode FROM CI_Item WHERE InactiveItem = 'N'"
            ).fetchall()
        }
    xero_codes = {item["Code"] for item in demo_items()}

    unresolved = set()
    for sku, *_ in scenario.CATALOGUE:
        sage_code = cross_references.lookup("item", shop.pk, sage.pk, sku) or sku
        xero_code = cross_references.lookup("item", shop.pk, xero.pk, sku) or sage_code
        if sage_code not in active or xero_code not in xero_codes:
            unresolved.add(sku)

    assert unresolved == {scenario.UNKNOWN_SKU}
    assert cross_references.lookup("gl_account", sage.pk, xero.pk, "4000-00-00") == (
        "200"
    )
    assert cross_references.lookup("status", xero.pk, sage.pk, "PAID") == "C"


def test_links_into_the_stopped_simulators_books_are_forgotten_mappings_kept():
    call_command("load_demo_data", password="pw-for-test")
    xero = Connection.objects.get(slug="xero")
    shop = Connection.objects.get(slug="shopify")
    sage = Connection.objects.get(slug="sage100-abc")
    CrossReference.objects.create(
        kind="vendor", source_connection=sage, target_connection=xero,
        source_value="01-ALLIPAP", target_value="4f0c-gone",
    )  # fmt: skip
    CrossReference.objects.create(
        kind="invoice", source_connection=shop, target_connection=xero,
        source_value="450789470", target_value="9a1d-gone",
    )  # fmt: skip
    mappings = CrossReference.objects.filter(
        kind__in=("gl_account", "status", "tax", "item")
    ).count()

    forgotten = demo_xero.forget_simulated_books(xero)

    assert forgotten == 2
    assert not CrossReference.objects.filter(kind__in=("vendor", "invoice")).exists()
    assert (
        CrossReference.objects.filter(
            kind__in=("gl_account", "status", "tax", "item")
        ).count()
        == mappings
    )


def test_make_demo_starts_xero_shopify_and_the_sage_buyer():
    names = dict(processes.demo_commands())

    assert "xero_sim" in names["xero-sim"]
    assert "shopify_sim" in names["shopify-sim"]
    assert "sage100_purchases" in names["sage100-purchases"]
    assert "--scenario-seconds" in names["shopify-sim"]
    assert "--scenario-seconds" in names["xero-sim"]
    # Two-way master data: a change travels each way during the demo.
    xero, buyer = names["xero-sim"], names["sage100-purchases"]
    assert xero[xero.index("--edit-contact-email") + 1] == demo_xero.TWO_WAY_CUSTOMER
    assert buyer[buyer.index("--customer-phone") + 1] == demo_xero.TWO_WAY_CUSTOMER
    # ...and one deliberate conflict: both rename 02-BEACPAP differently.
    assert buyer[buyer.index("--name-conflict") + 1] == demo_xero.CONFLICT_CUSTOMER
    assert buyer[buyer.index("--xero-connection") + 1] == demo_xero.SLUG


def test_simulators_post_their_webhooks_to_the_portal_the_demo_runs(monkeypatch):
    monkeypatch.setenv(demo_portal.ENV, "http://127.0.0.1:8123")

    commands = dict(processes.demo_commands())

    for name in ("xero-sim", "shopify-sim"):
        command = commands[name]
        webhook = command[command.index("--webhook-url") + 1]
        assert webhook.startswith("http://127.0.0.1:8123/api/v1/inbound/")
