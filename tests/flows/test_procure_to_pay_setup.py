"""Switching procure-to-pay on between two connections, once."""

from __future__ import annotations

import pytest

from integrations.engine.errors import ValidationFailed
from integrations.models import ChangeFeed, FlowConfig, System, Trigger
from integrations.services import procure_to_pay_setup
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sage():
    return ConnectionFactory(name="Sage ABC", system=System.SAGE100)


@pytest.fixture
def xero():
    return ConnectionFactory(name="Xero books", system=System.XERO)


def test_wiring_makes_the_feeds_and_the_three_flows(sage, xero):
    configs = procure_to_pay_setup.wire(sage, xero)

    assert sorted(ChangeFeed.objects.values_list("table", flat=True)) == [
        "AP_OpenInvoice",
        "PO_PurchaseOrderHeader",
    ]
    assert [(c.flow, c.source_connection, c.trigger) for c in configs] == [
        ("sage100_purchase_orders_to_xero", sage, Trigger.WEBHOOK),
        ("sage100_ap_invoices_to_xero", sage, Trigger.WEBHOOK),
        ("xero_bill_payments_to_sage100", xero, Trigger.WEBHOOK),
    ]
    for config in configs:
        config.full_clean()


def test_wiring_again_changes_nothing(sage, xero):
    procure_to_pay_setup.wire(sage, xero)

    procure_to_pay_setup.wire(sage, xero, payments=Trigger.POLL)

    assert FlowConfig.objects.count() == 3
    assert ChangeFeed.objects.count() == 2
    payments = FlowConfig.objects.get(flow="xero_bill_payments_to_sage100")
    assert payments.trigger == Trigger.WEBHOOK


def test_payments_by_poll_get_the_schedule(sage, xero):
    *_, payments = procure_to_pay_setup.wire(
        sage, xero, payments=Trigger.POLL, schedule="*/2 * * * *"
    )

    assert (payments.trigger, payments.schedule) == (Trigger.POLL, "*/2 * * * *")


def test_connections_the_wrong_way_round_are_refused(sage, xero):
    with pytest.raises(ValidationFailed) as caught:
        procure_to_pay_setup.wire(xero, sage)

    assert caught.value.field == "sage"
