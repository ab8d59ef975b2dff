"""Two-way master data tests' world: a Sage 100 company with its agent, a
simulated Xero, the connections between them, and the moves tests repeat
(edit a Sage record as a person would, poll a change feed, run what waits).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from integrations.engine import clients
from integrations.models import (
    ChangeFeed,
    InboundEvent,
    SyncRecord,
)
from integrations.models.changefeeds import TOPICS
from integrations.sandbox.sage100.database import decimal_hours
from integrations.services import changefeeds, inbox
from tests.factories import FlowConfigFactory
from tests.support.records import drain as drain
from tests.support.records import records as records
from tests.support.sage_and_xero import XERO_SLUG as XERO_SLUG
from tests.support.sage_and_xero import SageAndXero, running_sage_and_xero

WEBHOOK_KEY = "master-data-webhook-key-0123456789abcdef"
CONTACT_FLOWS = (
    ("sage100_customers_to_xero", "sage", "xero"),
    ("xero_contacts_to_sage100", "xero", "sage"),
)


class World(SageAndXero):
    @property
    def client(self):
        """Xero as a person at its screen would change it (contract-checked)."""
        return clients.build(self.xero_connection)

    def feed(self, table: str) -> ChangeFeed:
        feed, _ = ChangeFeed.objects.get_or_create(
            connection=self.sage_connection, table=table
        )
        return feed

    def poll(self, table: str) -> changefeeds.PollResult:
        return changefeeds.poll_feed(self.feed(table).pk)

    def xero_writes(self, path: str) -> int:
        return sum(
            1
            for method, called, status in self.xero.calls
            if method in ("POST", "PUT") and called.rstrip("/").endswith(path)
        )

    def contact(self, number: str) -> dict:
        [found] = self.client.get_contacts(where=f'ContactNumber=="{number}"')
        return found

    def sage_row(self, table: str, where: str, *params) -> dict:
        with sqlite3.connect(self.sage.db.path) as db:
            db.row_factory = sqlite3.Row
            row = db.execute(f"SELECT * FROM {table} WHERE {where}", params).fetchone()
        return dict(row) if row else {}

    def configure(self, flow: str, source: str, target: str, **fields):
        """A FlowConfig from one side ("sage" or "xero") to the other."""
        side = {"sage": self.sage_connection, "xero": self.xero_connection}
        options = fields.pop("options", None) or {}
        return FlowConfigFactory(
            flow=flow,
            source_connection=side[source],
            target_connection=side[target],
            options=options,
            **fields,
        )

    def sage_changed(self, table: str, key: dict, event_id: str) -> list[SyncRecord]:
        """A change-feed event for one row, as the poller publishes it."""
        body = {"table": table, "key": key, "change": "changed", "row": None}
        return inbox.accept(
            self.sage_connection,
            body=json.dumps(body).encode(),
            headers={},
            provider_event_id=event_id,
            topic=TOPICS[table],
            signature_verified=True,
        ).records

    def xero_changed(self, contact_id: str, event_type: str = "UPDATE") -> list:
        """A Xero contact webhook event, as our endpoint stores it."""
        event = {
            "resourceUrl": f"{self.xero.accounting_url}/Contacts/{contact_id}",
            "resourceId": contact_id,
            "eventDateUtc": datetime.now().isoformat(),
            "eventType": event_type,
            "eventCategory": "CONTACT",
            "tenantId": self.xero_connection.settings["tenant_id"],
            "tenantType": "ORGANISATION",
        }
        return inbox.accept(
            self.xero_connection,
            body=json.dumps(event, sort_keys=True).encode(),
            headers={},
            provider_event_id=f"xero:{contact_id}:{event['eventDateUtc']}",
            topic=f"xero.contact.{event_type.lower()}",
            signature_verified=True,
            parsed=event,
        ).records

    def edit_in_sage(self, table: str, where: str, params: tuple, **values) -> None:
        """What a person saving a record in Sage 100 does: new values, new stamp."""
        now = datetime.now()
        values = {
            **values,
            "DateUpdated": now.date().isoformat(),
            "TimeUpdated": decimal_hours(now),
        }
        sets = ", ".join(f'"{name}" = ?' for name in values)
        with sqlite3.connect(self.sage.db.path) as db:
            db.execute(
                f"UPDATE {table} SET {sets} WHERE {where}", [*values.values(), *params]
            )


def contact_events(xero_id: str) -> int:
    """Xero's webhook events about this contact that reached our endpoint."""
    return sum(
        1
        for body in InboundEvent.objects.filter(
            topic__startswith="xero.contact."
        ).values_list("body", flat=True)
        if json.loads(bytes(body)).get("resourceId") == xero_id
    )


def sage_calls(record: SyncRecord) -> list[dict]:
    return [
        call
        for attempt in record.attempt_set.all()
        for call in attempt.api_calls
        if call["system"] == "sage100" and not call["url"].startswith("odbc:")
    ]


@contextmanager
def running_world(
    root: Path,
    *,
    webhook_url: str | None = None,
    customers: int = 3,
    flows=CONTACT_FLOWS,
    options: dict | None = None,
) -> Iterator[World]:
    """Sage 100 and Xero running, connected, with ``flows`` configured
    (name, source side, target side); Xero's webhooks go to ``webhook_url``."""
    with running_sage_and_xero(
        World,
        root,
        webhook_key=WEBHOOK_KEY,
        customers=customers,
        webhook_url=webhook_url,
    ) as world:
        for flow, source, target in flows:
            world.configure(flow, source, target, options=options)
        yield world
