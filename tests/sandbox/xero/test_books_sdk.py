"""The books behind the real server, driven by xero-python: what the SDK sends
(its dates, ``summarizeErrors=False``, Decimal amounts) is taken, and nothing
either way breaks the contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.support.xero import running_xero, sdk_clients


@pytest.fixture
def sdk(tmp_path):
    with running_xero(tmp_path, tenants=1) as xero:
        _, credentials = xero.connection()
        _, accounting, _ = sdk_clients(xero, credentials["token_set"])
        yield xero, accounting, xero.tenants[0][0]
        assert xero.problems == [], "requests or answers broke Xero's contract"


def test_invoice_and_payment_through_xero_python(sdk):
    from xero_python.accounting import (
        Account,
        Contact,
        Invoice,
        Invoices,
        LineItem,
        Payment,
        Payments,
    )

    _, accounting, tenant = sdk
    invoices = Invoices(
        invoices=[
            Invoice(
                type="ACCREC",
                contact=Contact(name="SDK Shop Customer"),
                date=date(2026, 12, 2),
                line_items=[
                    LineItem(item_code="1001-HON-H252", quantity=Decimal("2")),
                    LineItem(
                        description="Shipping",
                        quantity=1,
                        unit_amount=Decimal("12.50"),
                        account_code="260",
                    ),
                ],
                reference="#1001",
                status="AUTHORISED",
            ),
            Invoice(type="ACCREC", contact=Contact(), line_items=[]),
        ]
    )
    saved = accounting.create_invoices(tenant, invoices, summarize_errors=False)
    good, bad = saved.invoices
    assert good.status_attribute_string == "OK" and good.status == "AUTHORISED"
    assert bad.has_errors is True and bad.validation_errors
    assert good.total == good.sub_total + good.total_tax
    assert good.date == date(2026, 12, 2)

    payment = Payment(
        invoice=Invoice(invoice_id=good.invoice_id),
        account=Account(code="090"),
        amount=good.total,
        date=date(2026, 12, 3),
        reference="shopify-1001",
    )
    accounting.create_payments(tenant, Payments(payments=[payment]))
    paid = accounting.get_invoice(tenant, good.invoice_id).invoices[0]
    assert paid.status == "PAID" and paid.amount_due == 0

    found = accounting.get_invoices(
        tenant, where='Reference=="#1001"', statuses=["PAID"], page=1
    )
    assert [i.invoice_id for i in found.invoices] == [good.invoice_id]
    assert found.pagination.item_count == 1
