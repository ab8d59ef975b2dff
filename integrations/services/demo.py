"""The demo company's connections and flows, as an admin would set them up."""

from __future__ import annotations

from django.db import transaction

from integrations.models import Connection, System

CONNECTIONS = [
    ("sage100-abc", "ABC Distribution (Sage 100)", System.SAGE100, {"company": "ABC"}),
    ("salesforce", "Salesforce (sales)", System.SALESFORCE, {}),
    ("xero", "Xero (books)", System.XERO, {}),
    ("shopify", "Web shop (Shopify)", System.SHOPIFY, {}),
]


@transaction.atomic
def load() -> dict:
    created = 0
    for slug, name, system, extra in CONNECTIONS:
        _, was_created = Connection.objects.get_or_create(
            slug=slug, defaults={"name": name, "system": system, "settings": extra}
        )
        created += was_created
    return {"connections": Connection.objects.count(), "new": created}
