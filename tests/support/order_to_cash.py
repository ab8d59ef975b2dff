"""The order-to-cash set-up tests share: a shop, a Sage 100 company stocked
with the shop's items, a Xero connection, and the flow between them.

``OrderToCash`` wires Connections and the FlowConfig for a running Shopify
simulator, a running Sage 100 simulator (with its agent) and a Xero
connection (the simulator's, or any settings the caller gives: the flow tests
use an in-memory stand-in), and offers the few actions tests repeat:
deliver a shop event as Shopify would, run the records, count what Xero and
Sage 100 hold.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from integrations.engine import clients, runner
from integrations.models import SyncRecord, System
from integrations.sandbox.shopify.shop import DEFAULT_CATALOGUE
from integrations.services import inbox
from tests.factories import ConnectionFactory, FlowConfigFactory

FLOW = "shopify_order_to_xero_and_sage100"
STATUS_FLOW = "xero_invoice_status_to_sage100"
SALES_GL_KEY = "000000006"  # the seeded company's 4000-00-00 Sales
SKUS = tuple(sku for sku, *_ in DEFAULT_CATALOGUE)


def stock_sage_items(sage_connection, skus=SKUS) -> None:
    """The shop's SKUs as Sage 100 items (one per SKU, same code)."""
    agent = clients.build(sage_connection).agent
    prices = {sku: price for sku, _, _, price in DEFAULT_CATALOGUE}
    for sku in skus:
        agent.create_item(
            {
                "ItemCode": sku,
                "ItemCodeDesc": sku.replace("-", " ").title()[:30],
                "StandardUnitPrice": prices.get(sku, "10.00"),
                "SalesAcctKey": SALES_GL_KEY,
            },
            idempotency_key=f"stock-{sku}",
        )


def xero_items(skus=SKUS) -> list[dict]:
    """The shop's SKUs as Xero Items (Code = SKU)."""
    prices = {sku: price for sku, _, _, price in DEFAULT_CATALOGUE}
    return [
        {
            "Code": sku,
            "Name": sku.replace("-", " ").title(),
            "IsSold": True,
            "SalesDetails": {"UnitPrice": Decimal(prices[sku]), "AccountCode": "200"},
        }
        for sku in skus
    ]


@dataclass
class OrderToCash:
    shopify: object  # tests.support.shopify.RunningShopify
    sage: object  # tests.support.sage100.Sage100
    config: object  # FlowConfig
    xero_connection: object

    @classmethod
    def wire(
        cls, shopify, sage, *, xero_settings: dict, xero_credentials: dict,
        options: dict | None = None, shopify_slug: str | None = None,
        xero_slug: str | None = None,
    ) -> OrderToCash:  # fmt: skip
        """``shopify_slug``/``xero_slug``: the slugs webhook addresses name."""
        settings, credentials = shopify.connection()
        source = ConnectionFactory(
            name="Shop", system=System.SHOPIFY, settings=settings,
            credentials=credentials,
            **({"slug": shopify_slug} if shopify_slug else {}),
        )  # fmt: skip
        target = ConnectionFactory(
            name="Sage 100 ABC",
            system=System.SAGE100,
            settings=sage.connection_settings(),
            credentials=sage.credentials,
        )
        xero = ConnectionFactory(
            name="Xero Demo", system=System.XERO, settings=xero_settings,
            credentials=xero_credentials,
            **({"slug": xero_slug} if xero_slug else {}),
        )  # fmt: skip
        config = FlowConfigFactory(
            flow=FLOW,
            source_connection=source,
            target_connection=target,
            # No wait for companions (the flow's default): tests run one record.
            options={
                "xero_connection": xero.slug,
                "batch_wait_seconds": 0,
                **(options or {}),
            },
        )
        return cls(shopify, sage, config, xero)

    # -- events ---------------------------------------------------------------
    def deliver(self, topic: str, body: dict, event_id: str):
        """Store a shop event as the webhook endpoint does."""
        return inbox.accept(
            self.config.source_connection,
            body=json.dumps(body).encode(),
            headers={},
            provider_event_id=f"shopify:{event_id}",
            topic=f"shopify.{topic}",
            signature_verified=True,
            parsed=body,
        )

    def records(self, kind: str | None = None):
        found = SyncRecord.objects.filter(flow_config=self.config).order_by("pk")
        return list(found.filter(source_object_type=kind) if kind else found)

    def run_all(self) -> list[SyncRecord]:
        for record in self.records():
            runner.run_record(record.pk)
        return self.records()

    @contextmanager
    def sage_agent_down(self) -> Iterator[None]:
        """Sage 100 cannot be written (its agent does not answer) while the
        company can still be read: the outage that hits after the checks."""
        target = self.config.target_connection
        url = target.settings["agent_url"]
        target.settings = {**target.settings, "agent_url": "https://127.0.0.1:9"}
        target.save(update_fields=["settings"])
        try:
            yield
        finally:
            target.settings = {**target.settings, "agent_url": url}
            target.save(update_fields=["settings"])

    # -- what Sage 100 holds ----------------------------------------------------
    def sage_orders(self, order_id) -> list[dict]:
        return self.sage_rows(
            "SELECT * FROM SO_SalesOrderHeader WHERE CustomerPONo = ?", str(order_id)
        ) + self.sage_rows(
            "SELECT * FROM SO_SalesOrderHistoryHeader WHERE CustomerPONo = ?",
            str(order_id),
        )

    def sage_rows(self, sql: str, *params) -> list[dict]:
        with sqlite3.connect(self.sage.db.path) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, params).fetchall()]

    def on_sales_order(self, item_code: str, warehouse: str = "000") -> Decimal:
        rows = self.sage_rows(
            "SELECT QuantityOnSalesOrder FROM IM_ItemWarehouse "
            "WHERE ItemCode = ? AND WarehouseCode = ?",
            item_code,
            warehouse,
        )
        return Decimal(str(rows[0]["QuantityOnSalesOrder"] or 0)) if rows else None
