"""The demo's Xero and Shopify simulators as ``make demo`` starts them: real
processes on real ports, checked over loopback HTTP(S); and the Sage 100
buyer and the Xero bookkeeper they play."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from integrations.connectors.xero.client import XeroClient
from integrations.connectors.xero.settings import XeroSettings
from integrations.management.commands import sage100_purchases, xero_sim
from integrations.sandbox.shopify import scenario
from integrations.sandbox.xero.http import AccountingRequest
from tests.support.demo_scenarios import buy_twice, demo_organisation
from tests.support.sage100 import running_sage100

ROOT = Path(__file__).resolve().parents[2]
CUSTOM_ID, CUSTOM_SECRET = "0123456789ABCDEF0123456789ABCDEF", "custom-secret"


def wait_for(check: Callable[[], object], what: str, process=None, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if process is not None and process.poll() is not None:
            raise AssertionError(f"The process exited before {what}.")
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}.")
        time.sleep(0.05)


@contextmanager
def manage(tmp_path: Path, *args: str) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        # The test run's Redis: without REDIS_URL the command would start an
        # embedded redis-server of its own, which outlives it.
        env={
            **os.environ,
            "LEDGERBRIDGE_VAR_DIR": str(tmp_path / "var"),
            "REDIS_URL": settings.REDIS_URL,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(10)


def credentials(folder: Path, process) -> dict:
    path = folder / "credentials.json"
    wait_for(path.exists, f"{path}", process)
    return json.loads(path.read_text())


class _Receiver(BaseHTTPRequestHandler):
    received: list

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        return None


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list]]:
    received: list = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def test_xero_sim_serves_a_custom_connection_to_a_stable_organisation(tmp_path):
    folder = tmp_path / "xero"
    with manage(
        tmp_path, "xero_sim", "--port", "0", "--folder", str(folder),
        "--tenants", "1", "--custom-client-id", CUSTOM_ID,
        "--custom-client-secret", CUSTOM_SECRET,
    ) as process:  # fmt: skip
        found = credentials(folder, process)
        (tenant,) = found["tenants"]
        settings = {
            "accounting_url": found["accounting_url"],
            "identity_url": found["identity_url"],
            "login_url": found["login_url"],
            "grant": "client_credentials",
            "tenant_id": tenant["tenant_id"],
            "ca_bundle": found["ca_bundle"],
        }
        client = XeroClient(
            XeroSettings.from_connection(
                settings, {"client_id": CUSTOM_ID, "client_secret": CUSTOM_SECRET}
            )
        )

        assert client.ping()["organisation"]
    assert tenant == {
        "tenant_id": xero_sim.stable_tenant_id("Demo Company (US)"),
        "name": "Demo Company (US)",
    }
    assert found["custom_connection"]["client_id"] == CUSTOM_ID


def test_xero_sim_takes_the_first_organisations_id(tmp_path):
    folder = tmp_path / "xero"
    wanted = "3f1e9c2a-7b4d-5e8f-a1c6-0d2b4e6f8a10"
    with manage(
        tmp_path, "xero_sim", "--port", "0", "--folder", str(folder),
        "--tenant-id", wanted,
    ) as process:  # fmt: skip
        found = credentials(folder, process)

    assert [t["tenant_id"] for t in found["tenants"]] == [
        wanted,
        xero_sim.stable_tenant_id("Demo Company (Wholesale)"),
    ]


def test_shopify_sim_plays_the_shops_day_as_signed_webhooks(tmp_path):
    folder, secret = tmp_path / "shopify", "shop-secret"
    with webhook_receiver() as (url, received), manage(
        tmp_path, "shopify_sim", "--port", "0", "--folder", str(folder),
        "--webhook-url", url, "--secret", secret, "--retry-seconds", "0.1",
        "--scenario-seconds", "0.1",
    ) as process:  # fmt: skip
        found = credentials(folder, process)
        wait_for(
            lambda: len(received) >= len(scenario.DAY),
            "the day's webhooks",
            process,
        )
    topics = [headers["X-Shopify-Topic"] for headers, _ in received]
    assert sorted(topics) == sorted(
        {"create": "orders/create", "pay": "orders/paid"}.get(
            action,
            {"cancel": "orders/cancelled", "refund": "refunds/create"}.get(action),
        )
        for action, _, _ in scenario.DAY
    )
    for headers, body in received:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        assert headers["X-Shopify-Hmac-Sha256"] == base64.b64encode(digest).decode()
    skus = {
        line["sku"]
        for headers, body in received
        if headers["X-Shopify-Topic"] == "orders/create"
        for line in json.loads(body)["line_items"]
    }
    assert scenario.UNKNOWN_SKU in skus
    assert found["shop_url"].startswith("https://127.0.0.1:")
    assert found["webhook_secret"] == secret


def test_the_xero_bookkeeper_pays_the_demo_bills_only():
    books, events = demo_organisation()
    for number in ("DP0307151", "INV70000"):
        bill = {
            "Type": "ACCPAY",
            "InvoiceNumber": number,
            "Status": "AUTHORISED",
            "Contact": {"Name": "HON Manufacturing"},
            "LineItems": [
                {"Description": "Stock", "Quantity": 1, "UnitAmount": 120,
                 "AccountCode": "300"}
            ],
        }  # fmt: skip
        answer = books.handle(
            AccountingRequest("PUT", "/Invoices", {}, {}, {"Invoices": [bill]})
        )
        assert answer.status == 200, answer.body

    (bill,) = xero_sim.unpaid_bills(books, "DP")
    assert xero_sim.pay_bill(books, bill, "CHK 1041") == 200

    assert bill["Status"] == "PAID"
    assert xero_sim.unpaid_bills(books, "DP") == []
    assert ("INVOICE", "UPDATE", bill["InvoiceID"]) in events


@pytest.mark.django_db
def test_the_sage_buyer_enters_purchase_orders_and_bills(tmp_path):
    with running_sage100(tmp_path / "sage100") as sage:
        buy_twice(sage, tmp_path / "sage100")
        with sage.db.connect() as db:
            bills = db.execute(
                "SELECT InvoiceNo, InvoiceAmt, PurchaseOrderNo FROM AP_OpenInvoice "
                "WHERE InvoiceNo LIKE 'DP%' ORDER BY InvoiceNo"
            ).fetchall()

    assert len(bills) == 2
    assert all(Decimal(str(amount)) > 0 and po for _, amount, po in bills)
    assert [number[-1] for number, _, _ in bills] == ["1", "2"]


def test_purchase_tags_fit_sage_and_differ_per_start():
    from datetime import datetime

    first = sage100_purchases.tag_for("DP", datetime(2026, 12, 3, 7, 15), 1)
    later = sage100_purchases.tag_for("DP", datetime(2026, 12, 3, 7, 16), 1)

    assert first == "DP0307151"
    assert first != later and len(first) <= 10
    with pytest.raises(ValueError):
        sage100_purchases.tag_for("DP", datetime(2026, 12, 3), 10)
