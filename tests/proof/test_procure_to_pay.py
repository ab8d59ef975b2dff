"""Procure-to-pay proven with real RQ workers, real HTTP and Xero's own webhooks.

Bills go from the Sage 100 simulator to the Xero simulator in batches written
by two worker processes; a payment made in Xero comes back as Xero's signed
INVOICE webhook to our endpoint on a live server, and lowers the Sage 100
balance once however often it is delivered or polled. Every Xero request and
answer is checked against Xero's OpenAPI contract (``xero.problems``).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from integrations.models import CrossReference, InboundEvent, RecordStatus
from integrations.sandbox.xero.webhooks import sign
from integrations.services import polling
from tests.support import workers
from tests.support.procure_to_pay import (
    BILL_FLOW,
    PAYMENT_FLOW,
    VENDOR,
    WEBHOOK_KEY,
    XERO_SLUG,
    records,
    running_world,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.workers]


@pytest.fixture
def world(live_server, tmp_path, redis_conn):
    url = f"{live_server.url}/api/v1/inbound/xero/{XERO_SLUG}/webhook"
    with running_world(tmp_path, webhook_url=url) as world:
        world.xero.sender.session.trust_env = False  # plain HTTP, no proxy
        yield world
        assert world.xero.problems == []


def run_workers(count: int = 2) -> None:
    workers.wait_all([workers.start_worker() for _ in range(count)])


def test_120_bills_reach_xero_in_three_calls_and_a_bad_one_fails_alone(world):
    world.configure(BILL_FLOW)
    vendors = world.vendors(5)
    stale = vendors[-1]
    CrossReference.objects.create(  # its contact was deleted in Xero
        kind="vendor",
        source_connection=world.sage_connection,
        target_connection=world.xero_connection,
        source_value=f"{stale[0]}-{stale[1]}",
        target_value="4a0b7cde-1111-4222-8333-944455556666",
    )
    entered = [(vendors[n % 4], f"W{n:04d}") for n in range(119)]
    entered.append((stale, "BAD-1"))
    for vendor, number in entered:
        world.enter_bill(number, "125.50", vendor=vendor)
    for vendor, number in entered:
        world.bill_published(vendor, number)

    run_workers()

    done = records(BILL_FLOW)
    assert len(done) == 120
    failed = [r for r in done if r.status != RecordStatus.SUCCEEDED]
    assert [r.source_id for r in failed] == [f"{stale[0]}|{stale[1]}|BAD-1"]
    assert "Contact" in failed[0].error_message
    assert world.xero_writes("/Invoices") == 3
    bills = world.client.get_invoices(where='Type=="ACCPAY"')
    assert len(bills) == 119
    assert {bill["Total"] for bill in bills} == {Decimal("125.50")}


def test_a_bill_paid_in_xero_lowers_the_sage_balance_once(world):
    world.configure(BILL_FLOW)
    payments_config = world.configure(PAYMENT_FLOW)
    world.enter_bill("PAY-1", "900.00")
    world.bill_published(VENDOR, "PAY-1")
    run_workers(1)
    [bill_record] = records(BILL_FLOW)
    bill_id = bill_record.target_ids["bill_id"]

    paid = world.pay_in_xero(bill_id, "350.00", "CHK 2201")

    def delivered() -> list[InboundEvent]:
        return [
            event
            for event in InboundEvent.objects.filter(topic="xero.invoice.update")
            if json.loads(bytes(event.body)).get("resourceId") == bill_id
        ]

    workers.wait_until(lambda: len(delivered()) >= 1, timeout=30)
    # Xero delivers the same batch again (its answer was lost), and the
    # scheduled poll of /Payments sees the payment too.
    batch = [
        delivery
        for delivery in world.xero.sender.delivered
        if any(
            event["resourceId"] == bill_id and event["eventType"] == "UPDATE"
            for event in delivery.payload["events"]
        )
    ][-1]
    again = world.xero.sender.post(batch.body, sign(WEBHOOK_KEY, batch.body))
    assert again.status == 200
    polling.poll(payments_config.pk)
    run_workers()

    done = records(PAYMENT_FLOW)
    assert {r.status for r in done} == {RecordStatus.SUCCEEDED}, [
        r.error_message for r in done
    ]
    assert world.balance(VENDOR, "PAY-1") == Decimal("550.00")
    checks = world.sage_rows("SELECT * FROM SIM_APPayment WHERE InvoiceNo = ?", "PAY-1")
    assert len(checks) == 1
    assert Decimal(str(checks[0]["PaymentAmount"])) == Decimal("350.00")
    recorded = CrossReference.objects.get(kind="ap_payment")
    assert recorded.source_value == paid["PaymentID"]
    assert recorded.target_value.endswith(checks[0]["CheckNo"])
