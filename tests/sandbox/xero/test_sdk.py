"""xero-python against the simulated Xero with its real books: what the
connector does, end to end over HTTPS, with no contract problem."""

from __future__ import annotations

import time

import pytest
from xero_python.accounting import (
    Contact,
    Contacts,
    Invoice,
    Invoices,
    LineItem,
)

from tests.support.xero import running_xero, sdk_clients


@pytest.fixture
def xero(tmp_path):
    with running_xero(tmp_path) as running:
        yield running


def test_the_sdk_connects_reads_settings_and_writes_an_invoice(xero):
    settings, credentials = xero.connection()
    tenant = settings["tenant_id"]
    saved: list[dict] = []
    _, accounting, identity = sdk_clients(
        xero, credentials["token_set"], saver=saved.append
    )
    assert [c.tenant_id for c in identity.get_connections()] == [tenant]
    codes = {a.code for a in accounting.get_accounts(tenant).accounts}
    assert {"200", "610"} <= codes
    assert accounting.get_tax_rates(tenant).tax_rates
    contact = accounting.create_contacts(
        tenant,
        Contacts(contacts=[Contact(name="Platform Test Customer")]),
        summarize_errors=False,
        idempotency_key="contacts-1",
    ).contacts[0]
    invoice = Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact.contact_id),
        line_items=[
            LineItem(
                description="Widget", quantity=2, unit_amount=10, account_code="200"
            )
        ],
        status="AUTHORISED",
        reference="#1001",
    )
    created = accounting.create_invoices(
        tenant,
        Invoices(invoices=[invoice]),
        summarize_errors=False,
        idempotency_key="invoices-1",
    ).invoices[0]
    assert created.invoice_id
    listed = accounting.get_invoices(tenant, i_ds=[created.invoice_id])
    assert [i.reference for i in listed.invoices] == ["#1001"]
    assert saved == []
    assert xero.problems == [], xero.problems


def test_the_sdk_refreshes_an_expired_token_at_the_simulators_token_url(xero):
    settings, credentials = xero.connection()
    stale = {**credentials["token_set"], "expires_at": time.time() - 1}
    saved: list[dict] = []
    _, accounting, _ = sdk_clients(xero, stale, saver=saved.append)
    accounting.get_contacts(settings["tenant_id"])
    assert len(saved) == 1
    assert saved[0]["refresh_token"] != stale["refresh_token"]
    assert ("POST", "/connect/token", 200) in xero.calls
    assert xero.problems == []
