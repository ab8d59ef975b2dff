"""Finance staff resolve a failed web order from the queue, in a real browser:
open it, correct the payload, save, resubmit; the order reaches Sage 100 once."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from playwright.sync_api import expect

from integrations.engine import runner
from integrations.models import RecordStatus, System
from integrations.roles import FINANCE
from integrations.services import inbox
from tests.browser.people import person, sign_in
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.sage100 import running_sage100

pytestmark = pytest.mark.browser

ORDER = {
    "id": "WEB-3101",
    "reference": "WEB-3101",
    "customer": "01-ABF",
    "order_date": "2026-11-24",
    "lines": [{"item": "WIDGET-9", "quantity": "3"}],
}


@pytest.fixture
def sage(tmp_path):
    with running_sage100(tmp_path / "sage100", customers=10) as company:
        yield company


@pytest.fixture
def failed_order(sage, redis_conn):
    """A web order for an item Sage 100 does not have: it needs a person."""
    target = ConnectionFactory(
        name="ABC Distribution",
        system=System.SAGE100,
        settings=sage.connection_settings(),
        credentials=sage.credentials,
    )
    config = FlowConfigFactory(
        flow="generic_order_to_sage100",
        name="Web orders → Sage 100",
        source_connection=ConnectionFactory(name="Web shop"),
        target_connection=target,
    )
    accepted = inbox.accept(
        config.source_connection,
        body=json.dumps(ORDER).encode(),
        headers={},
        provider_event_id="order-3101",
        signature_verified=True,
    )
    (record,) = accepted.records
    runner.run_record(record.pk)
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION, record.error_message
    assert record.error_field == "lines.0.item"
    return record


def sales_orders(sage, reference: str) -> list[tuple]:
    with sqlite3.connect(sage.db.path) as db:
        return db.execute(
            "SELECT SalesOrderNo, CustomerNo FROM SO_SalesOrderHeader "
            "WHERE CustomerPONo = ?",
            (reference,),
        ).fetchall()


def test_finance_fixes_a_failed_order_in_the_queue_and_it_succeeds_once(
    page, failed_order, sage
):
    sign_in(page, person("fiona", FINANCE))

    page.goto("/admin/queue/")
    row = page.locator(f"tr[data-record='{failed_order.pk}']")
    expect(row).to_contain_text("WIDGET-9 does not exist in Sage 100")
    expect(row.locator(".lb-field")).to_contain_text("lines.0.item")
    row.locator("a.lb-record-link").click()

    expect(page.locator(".lb-problem")).to_contain_text("lines.0.item")
    item = page.locator("input[data-path='lines.0.item']")
    expect(item).to_have_value("WIDGET-9")
    item.fill("1001-HON-H252")
    expect(page.locator("#id_payload_override")).to_have_value(
        re.compile('"item": "1001-HON-H252"')
    )
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator(".lb-document--received")).to_contain_text(
        "Corrected by a person"
    )

    page.get_by_role("button", name="Resubmit").click()
    expect(page.locator(".messagelist")).to_contain_text("Resubmitted")
    failed_order.refresh_from_db()
    assert failed_order.status == RecordStatus.PENDING
    assert failed_order.payload_override["lines"][0]["item"] == "1001-HON-H252"
    assert failed_order.payload["lines"][0]["item"] == "WIDGET-9"  # kept as received

    runner.run_record(failed_order.pk)  # what the worker does with the queued job

    page.reload()
    expect(page.locator(".lb-record-head .lb-badge")).to_have_text("Succeeded")
    failed_order.refresh_from_db()
    assert failed_order.status == RecordStatus.SUCCEEDED, failed_order.error_message
    ((number, customer),) = sales_orders(sage, "WEB-3101")
    assert failed_order.target_ids["sales_order_no"] == number
    assert customer == "ABF"
    page.goto("/admin/queue/")
    expect(page.locator(f"tr[data-record='{failed_order.pk}']")).to_have_count(0)
