"""The Xero connector against the simulated Xero over real HTTPS.

Every test's requests and answers are checked against Xero's OpenAPI files by
the simulator; the ``xero`` fixture fails a test that broke the contract.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from integrations.connectors.xero import auth
from integrations.connectors.xero.auth import MemoryTokenStore
from integrations.connectors.xero.client import BATCH_SIZE
from integrations.engine import errors
from integrations.engine.throttle import Budget, Throttle


def invoice(number: str, contact_id: str, *, account: str = "200") -> dict:
    return {
        "Type": "ACCREC",
        "InvoiceNumber": number,
        "Contact": {"ContactID": contact_id},
        "Date": "2026-11-02",
        "DueDate": "2026-12-02",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "Reference": f"#{number}",
        "LineItems": [
            {
                "Description": "Blue widget",
                "Quantity": Decimal("2"),
                "UnitAmount": Decimal("12.50"),
                "AccountCode": account,
            }
        ],
    }


def accounting_calls(xero, method: str, path: str) -> int:
    return sum(
        1
        for made_method, made_path, _ in xero.calls
        if made_method == method and made_path.rstrip("/").endswith(path)
    )


def token_calls(xero) -> int:
    return sum(1 for _, path, _ in xero.calls if path.endswith("/connect/token"))


def test_the_connector_reads_what_the_flows_need_within_the_contract(client, xero):
    assert client.ping()["organisation"]
    codes = {a["Code"] for a in client.get_accounts()}
    assert "200" in codes
    assert client.get_tax_rates()
    assert {c["Code"] for c in client.get_currencies()} >= {"USD"}
    assert isinstance(client.get_items(), list)
    assert isinstance(client.get_contacts(), list)
    assert isinstance(client.get_invoices(statuses=["AUTHORISED"]), list)
    assert isinstance(client.get_payments(), list)
    assert isinstance(client.get_credit_notes(), list)
    assert isinstance(client.get_purchase_orders(), list)
    assert client.limits.minute is not None  # X-MinLimit-Remaining was read
    assert xero.problems == []


def test_120_invoices_go_in_three_calls_and_the_bad_one_fails_alone(
    client, customer, xero
):
    invoices = [
        invoice(
            f"INV-B{n:03}", customer["ContactID"], account="999" if n == 61 else "200"
        )
        for n in range(120)
    ]
    before = accounting_calls(xero, "PUT", "/Invoices")

    results = client.save_invoices(
        invoices, create_only=True, idempotency_key="batch-120"
    )

    assert accounting_calls(xero, "PUT", "/Invoices") - before == 3
    assert len(results) == 120
    assert [n for n, r in enumerate(results) if not r.ok] == [61]
    assert [r.document["InvoiceNumber"] for r in results] == [
        i["InvoiceNumber"] for i in invoices
    ]
    assert all(r.document.get("InvoiceID") for r in results if r.ok)
    refused = results[61].error(kind="invoice")
    assert isinstance(refused, errors.ReferenceMissing)
    assert refused.field == "AccountCode"
    assert "INV-B061" in refused.message and "999" in refused.message
    assert (
        results[0].document["Total"]
        == Decimal("25.00") + results[0].document["TotalTax"]
    )
    assert xero.problems == []


def test_a_retried_save_creates_nothing_twice(client, customer, xero):
    invoices = [invoice(f"INV-R{n}", customer["ContactID"]) for n in range(3)]

    first = client.save_invoices(invoices, create_only=True, idempotency_key="retry-1")
    again = client.save_invoices(invoices, create_only=True, idempotency_key="retry-1")

    assert [r.document["InvoiceID"] for r in again] == [
        r.document["InvoiceID"] for r in first
    ]
    found = client.get_invoices(invoice_numbers=[i["InvoiceNumber"] for i in invoices])
    assert len(found) == 3


def test_batches_are_at_most_fifty_with_one_idempotency_key_each(client, customer):
    results = client.save_invoices(
        [invoice(f"INV-K{n}", customer["ContactID"]) for n in range(BATCH_SIZE + 1)],
        create_only=True,
        idempotency_key="keyed",
    )
    assert len(results) == BATCH_SIZE + 1 and all(r.ok for r in results)


def test_update_invoice_and_pay_it(client, customer):
    (created,) = client.save_invoices(
        [{**invoice("INV-P1", customer["ContactID"]), "Status": "DRAFT"}],
        idempotency_key="pay-1",
    )
    invoice_id = created.document["InvoiceID"]

    updated = client.update_invoice(
        invoice_id, {"Status": "AUTHORISED"}, idempotency_key="pay-1-authorise"
    )
    assert updated["Status"] == "AUTHORISED"
    bank = next(
        a
        for a in client.get_accounts()
        if a.get("Type") == "BANK" or a["Code"] == "090"
    )
    (paid,) = client.create_payments(
        [
            {
                "Invoice": {"InvoiceID": invoice_id},
                "Account": {"Code": bank["Code"]},
                "Date": "2026-11-03",
                "Amount": updated["AmountDue"],
                "Reference": "Shopify #1001",
            }
        ],
        idempotency_key="pay-1-payment",
    )
    assert paid.ok, paid.errors
    (after,) = client.get_invoices(ids=[invoice_id])
    assert after["Status"] == "PAID"
    assert any(p["Invoice"]["InvoiceID"] == invoice_id for p in client.get_payments())


def test_a_stale_token_is_renewed_once_and_the_rotated_refresh_token_kept(
    make_client, xero
):
    _settings, credentials = xero.connection()
    stale = {**credentials["token_set"], "expires_at": time.time() - 5}
    saved = []
    store = MemoryTokenStore(stale, on_save=saved.append)
    client = make_client(credentials={"token_set": stale}, tokens=store)
    before = token_calls(xero)

    client.ping()
    client.get_accounts()

    assert token_calls(xero) - before == 1
    assert len(saved) == 1
    assert saved[0]["refresh_token"] != stale["refresh_token"]
    assert saved[0]["expires_at"] > time.time() + 600


def test_a_refused_access_token_is_renewed_once_then_the_call_repeated(
    make_client, xero, calls
):
    _settings, credentials = xero.connection()
    refused = {**credentials["token_set"], "access_token": "not-a-token"}
    store = MemoryTokenStore(refused)
    client = make_client(credentials={"token_set": refused}, tokens=store)

    assert client.ping()["organisation"]

    assert [status for _, _, status in calls.made] == [401, 200]
    assert store.renewals == 1


def test_a_revoked_login_is_auth_revoked_asking_to_connect_again(make_client, xero):
    _settings, credentials = xero.connection()
    client = make_client(credentials=credentials)
    auth.revoke(client.conf, credentials["token_set"]["refresh_token"])
    stale = {**credentials["token_set"], "expires_at": time.time() - 5}

    with pytest.raises(errors.AuthRevoked) as refused:
        make_client(credentials={"token_set": stale}).ping()

    assert "Connect to Xero" in refused.value.message


def test_a_custom_connection_logs_in_with_client_credentials(make_client, xero):
    client = make_client(grant="client_credentials")

    assert client.ping()["organisation"]
    assert client.tokens.load()["access_token"]


def test_429_is_rate_limited_with_retry_after(tmp_path):
    from tests.support.xero import running_xero

    # The simulator's clock stands still, so its minute is still the first
    # call's and Retry-After is the whole 60 s, however slow the machine.
    frozen = time.time()
    with running_xero(tmp_path, per_minute=2, clock=lambda: frozen) as xero:
        from integrations.connectors.xero.client import XeroClient
        from integrations.connectors.xero.settings import XeroSettings

        client = XeroClient(XeroSettings.from_connection(*xero.connection()))
        client.get_currencies()
        client.get_currencies()
        started = time.monotonic()
        with pytest.raises(errors.RateLimited) as limited:
            client.get_currencies()
        elapsed = time.monotonic() - started
        # Answered at once: nothing below the connector repeated the call, or
        # slept on Retry-After (which would take the full 60 s).
        assert [
            status for _, path, status in xero.calls if path.startswith("/api.xro/")
        ] == [200, 200, 429]
        assert elapsed < limited.value.retry_after
        assert xero.problems == []
    assert limited.value.retry_after == 60
    assert "minute" in limited.value.message.lower()


def test_our_throttle_stops_calls_before_xero_has_to(tmp_path, redis_conn):
    from tests.support.xero import running_xero

    with running_xero(tmp_path, per_minute=3) as xero:
        from integrations.connectors.xero.client import XeroClient
        from integrations.connectors.xero.settings import XeroSettings

        settings, credentials = xero.connection()
        throttle = Throttle(
            redis_conn,
            f"xero-tenant-{settings['tenant_id']}",
            Budget(per_minute=3),
            sliding=True,
        )
        client = XeroClient(
            XeroSettings.from_connection(settings, credentials), throttle=throttle
        )
        for _ in range(3):
            client.get_currencies()
        with pytest.raises(errors.RateLimited) as ours:
            client.get_currencies()
        assert "Our own API budget" in ours.value.message
        assert not [c for c in xero.calls if c[2] == 429]
