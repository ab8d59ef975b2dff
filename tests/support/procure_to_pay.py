"""Procure-to-pay tests' world: the Sage 100 company with its agent, the
simulated Xero, the connections, the three flows, and the moves tests repeat
(a Sage user entering a PO or a bill, the change feed publishing it, a bill
paid in Xero, Xero's invoice webhook arriving, the records run).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from integrations.engine import clients
from integrations.models.changefeeds import TOPICS
from integrations.services import inbox
from tests.factories import FlowConfigFactory
from tests.support import records as records_support
from tests.support.records import records as records
from tests.support.sage_and_xero import XERO_SLUG as XERO_SLUG
from tests.support.sage_and_xero import SageAndXero, running_sage_and_xero

PO_FLOW = "sage100_purchase_orders_to_xero"
BILL_FLOW = "sage100_ap_invoices_to_xero"
PAYMENT_FLOW = "xero_bill_payments_to_sage100"
VENDOR = ("01", "EVERPAP")  # Evergreen Paper Mills, seeded
BANK_ACCOUNT = "090"
WEBHOOK_KEY = "procure-to-pay-webhook-key-0123456789abcdef"


class World(SageAndXero):
    # -- the systems as people use them ------------------------------------------
    @property
    def agent(self):
        return clients.build(self.sage_connection).agent

    @property
    def reader(self):
        return clients.build(self.sage_connection).reader

    @property
    def client(self):
        """Xero as a person at its screen would change it (contract-checked)."""
        return clients.build(self.xero_connection)

    def vendors(self, count: int) -> list[tuple[str, str]]:
        with sqlite3.connect(self.sage.db.path) as db:
            rows = db.execute(
                "SELECT APDivisionNo, VendorNo FROM AP_Vendor ORDER BY VendorNo"
            ).fetchall()
        return [tuple(row) for row in rows[:count]]

    def enter_bill(
        self,
        number: str,
        amount: str,
        *,
        vendor: tuple[str, str] = VENDOR,
        account_key: str = "000000012",  # 6100-00-00 Rent
        on: date | None = None,
    ) -> dict:
        """A bill entered in Sage 100 by a person, through the agent."""
        day = (on or date.today()).isoformat()
        answer = self.agent.create_ap_invoice(
            {
                "APDivisionNo": vendor[0],
                "VendorNo": vendor[1],
                "InvoiceNo": number,
                "InvoiceDate": day,
                "InvoiceAmt": amount,
                "ExpenseAcctKey": account_key,
            },
            idempotency_key=f"test-bill-{vendor[1]}-{number}",
        )
        return answer["record"]

    def enter_purchase_order(
        self, lines: list[dict], *, vendor: tuple[str, str] = VENDOR, comment=""
    ) -> str:
        answer = self.agent.create_purchase_order(
            {
                "APDivisionNo": vendor[0],
                "VendorNo": vendor[1],
                "PurchaseOrderDate": date.today().isoformat(),
                "Comment": comment,
            },
            lines,
            idempotency_key=f"test-po-{uuid.uuid4().hex}",
        )
        return answer["key"]["PurchaseOrderNo"]

    def set_sage(self, table: str, where: str, params: tuple, **values) -> None:
        with sqlite3.connect(self.sage.db.path) as db:
            sets = ", ".join(f'"{name}" = ?' for name in values)
            db.execute(
                f"UPDATE {table} SET {sets} WHERE {where}", [*values.values(), *params]
            )

    def sage_row(self, table: str, where: str, *params) -> dict:
        with sqlite3.connect(self.sage.db.path) as db:
            db.row_factory = sqlite3.Row
            row = db.execute(f"SELECT * FROM {table} WHERE {where}", params).fetchone()
        return dict(row) if row else {}

    def sage_rows(self, sql: str, *params) -> list[dict]:
        with sqlite3.connect(self.sage.db.path) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, params)]

    def balance(self, vendor: tuple[str, str], number: str) -> Decimal:
        row = self.sage_row(
            "AP_OpenInvoice",
            "APDivisionNo = ? AND VendorNo = ? AND InvoiceNo = ?",
            *vendor,
            number,
        )
        return Decimal(str(row["Balance"])).quantize(Decimal("0.01"))

    def pay_in_xero(self, bill_id: str, amount: str, reference: str) -> dict:
        """A person paying a bill in Xero."""
        [result] = self.client.create_payments(
            [
                {
                    "Invoice": {"InvoiceID": bill_id},
                    "Account": {"Code": BANK_ACCOUNT},
                    "Date": date.today().isoformat(),
                    "Amount": Decimal(amount),
                    "Reference": reference,
                }
            ],
            idempotency_key=f"test-pay-{uuid.uuid4().hex}",
        )
        assert result.ok, result.errors
        return result.document

    def xero_writes(self, path: str) -> int:
        return sum(
            1
            for method, called, status in self.xero.calls
            if method in ("POST", "PUT") and called.rstrip("/").endswith(path)
        )

    def xero_reads(self, path: str) -> int:
        return sum(
            1
            for method, called, status in self.xero.calls
            if method == "GET" and called.rstrip("/").endswith(path)
        )

    # -- the hub -------------------------------------------------------------------
    def configure(self, flow: str, **fields):
        sage_first = flow != PAYMENT_FLOW
        source, target = (
            (self.sage_connection, self.xero_connection)
            if sage_first
            else (self.xero_connection, self.sage_connection)
        )
        return FlowConfigFactory(
            flow=flow,
            source_connection=source,
            target_connection=target,
            options=fields.pop("options", None) or {},
            **fields,
        )

    def published(self, table: str, key: dict, *, event_id: str = "") -> list:
        """A change-feed event for one row, as the poller publishes it."""
        body = {"table": table, "key": key, "change": "changed", "row": None}
        return inbox.accept(
            self.sage_connection,
            body=json.dumps(body).encode(),
            headers={},
            provider_event_id=event_id or f"test:{uuid.uuid4().hex}",
            topic=TOPICS[table],
            signature_verified=True,
        ).records

    def bill_published(self, vendor: tuple[str, str], number: str) -> list:
        key = {"APDivisionNo": vendor[0], "VendorNo": vendor[1], "InvoiceNo": number}
        return self.published("AP_OpenInvoice", key)

    def invoice_event(self, invoice_id: str, when: datetime | None = None) -> list:
        """Xero's INVOICE UPDATE webhook event, as our endpoint stores it."""
        event = {
            "resourceUrl": f"{self.xero.accounting_url}/Invoices/{invoice_id}",
            "resourceId": invoice_id,
            "eventDateUtc": (when or datetime.now()).isoformat(),
            "eventType": "UPDATE",
            "eventCategory": "INVOICE",
            "tenantId": self.xero_connection.settings["tenant_id"],
            "tenantType": "ORGANISATION",
        }
        body = json.dumps(event, sort_keys=True).encode()
        return inbox.accept(
            self.xero_connection,
            body=body,
            headers={},
            provider_event_id=f"xero:{invoice_id}:{event['eventDateUtc']}",
            topic="xero.invoice.update",
            signature_verified=True,
            parsed=event,
        ).records


def drain(limit: int = 30) -> None:
    """Run every waiting record, leaving those a backoff put off until later."""
    records_support.drain(limit, leave_scheduled=True)


@contextmanager
def running_world(
    root: Path, *, customers: int = 3, webhook_url: str | None = None
) -> Iterator[World]:
    """Sage 100 and Xero running and connected; the caller configures flows.
    With ``webhook_url``, Xero's webhooks go there (connection ``XERO_SLUG``)."""
    with running_sage_and_xero(
        World,
        root,
        webhook_key=WEBHOOK_KEY,
        customers=customers,
        webhook_url=webhook_url,
    ) as world:
        yield world
