"""The demo company's connections, flows and first events, as an admin would set
them up. Safe to run again: everything is found by a natural key first."""

from __future__ import annotations

import json

from django.db import transaction

from integrations.models import Connection, FieldMapping, FlowConfig, System, Trigger
from integrations.services import demo_sage100, demo_shopify, demo_xero, inbox

ORDER_DESK_PORT = 8100
ORDER_DESK_SECRET = "demo-order-desk-secret"
WEBSHOP_SECRET = "demo-webshop-secret"

CONNECTIONS = [
    ("salesforce", "Salesforce (sales)", System.SALESFORCE, {}),
    ("xero", "Xero (books)", System.XERO, {}),
    ("shopify", "Web shop (Shopify)", System.SHOPIFY, {}),
]

MAPPINGS = [
    # source field, target field, transform, args, default, required
    ("id", "reference", "", {}, "", True),
    ("customer.email", "customer_email", "lower", {}, "", True),
    ("customer.name", "customer_name", "truncate", {"length": 30}, "", False),
    ("total", "total", "decimal", {"quantum": "0.01"}, "", True),
    ("currency", "currency", "upper", {}, "USD", False),
    ("created_at", "order_date", "date_format", {"format": "%Y-%m-%d"}, "", False),
]

EVENTS = [
    {
        "id": "WEB-1001",
        "type": "order",
        "customer": {"name": "American Business Futures", "email": "AP@ABF.example"},
        "total": "1249.50",
        "currency": "usd",
        "created_at": "2026-11-20T09:15:00Z",
    },
    {
        "id": "WEB-1002",
        "type": "order",
        "customer": {"name": "Orange Door & Window Co.", "email": "buyer@odw.example"},
        "total": "86.00",
        "created_at": "2026-11-21T14:02:00Z",
    },
    {  # no customer e-mail: lands in "needs attention" naming customer.email
        "id": "WEB-1003",
        "type": "order",
        "customer": {"name": "Cash sale"},
        "total": "19.99",
        "created_at": "2026-11-22T11:40:00Z",
    },
    {  # a total that is not a number: needs attention naming total
        "id": "WEB-1004",
        "type": "order",
        "customer": {"name": "Hillside Bakery", "email": "owner@hillside.example"},
        "total": "twelve",
        "created_at": "2026-11-23T08:05:00Z",
    },
]


@transaction.atomic
def load() -> dict:
    for slug, name, system, extra in CONNECTIONS:
        Connection.objects.get_or_create(
            slug=slug, defaults={"name": name, "system": system, "settings": extra}
        )
    webshop, _ = Connection.objects.get_or_create(
        slug="webshop",
        defaults={
            "name": "Web shop (generic webhook)",
            "system": System.GENERIC,
            "credentials": {"signing_secret": WEBSHOP_SECRET},
        },
    )
    desk, _ = Connection.objects.get_or_create(
        slug="order-desk",
        defaults={
            "name": "Order desk (HTTP)",
            "system": System.GENERIC,
            "settings": {"url": f"http://127.0.0.1:{ORDER_DESK_PORT}/documents"},
            "credentials": {"signing_secret": ORDER_DESK_SECRET},
            "calls_per_minute": 120,
        },
    )
    flow, created = FlowConfig.objects.get_or_create(
        flow="generic_webhook_to_http",
        source_connection=webshop,
        target_connection=desk,
        defaults={"name": "Web shop orders → Order desk", "trigger": Trigger.WEBHOOK},
    )
    if created:
        for position, (source, target, transform, args, default, required) in enumerate(
            MAPPINGS
        ):
            FieldMapping.objects.create(
                flow_config=flow,
                position=position,
                source_field=source,
                target_field=target,
                transform=transform,
                transform_args=args,
                default=default,
                required=required,
            )
    new_events = 0
    for event in EVENTS:
        accepted = inbox.accept(
            webshop,
            body=json.dumps(event).encode(),
            headers={"Content-Type": "application/json", "X-Demo": "seed"},
            provider_event_id=f"demo-{event['id']}",
            topic="orders/create",
            signature_verified=True,
        )
        new_events += not accepted.duplicate
    sage100 = demo_sage100.load()
    sage = Connection.objects.get(slug=demo_sage100.SLUG)
    xero = demo_xero.load(sage)
    shopify = demo_shopify.load(sage, Connection.objects.get(slug=demo_xero.SLUG))
    return {
        **sage100,
        **xero,
        **shopify,
        "connections": Connection.objects.count(),
        "flows": FlowConfig.objects.count(),
        "new_events": new_events,
    }
