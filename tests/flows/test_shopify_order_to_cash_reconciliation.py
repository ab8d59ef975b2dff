"""The reconciliation view: orders, invoices and Sage orders that disagree."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from integrations.services import reconciliation

pytestmark = pytest.mark.django_db


def _placed(o2c, *lines) -> dict:
    order = o2c.shopify.shop.create_order(list(lines or [("STOVE-MINI", 1)]))
    o2c.deliver("orders/create", order, f"create-{order['id']}")
    o2c.run_all()
    return order


def test_orders_that_went_through_agree(o2c, books):
    _placed(o2c)
    paid = _placed(o2c, ("HEADLAMP-300", 2))
    o2c.deliver("orders/paid", o2c.shopify.shop.mark_paid(paid["id"]), "paid")
    o2c.run_all()

    report = reconciliation.reconcile(o2c.config)

    assert report.errors == []
    assert [row.problems for row in report.rows] == [[], []]
    assert {row.xero_status for row in report.rows} == {"AUTHORISED", "PAID"}


def test_a_page_costs_one_xero_call_whatever_its_size(o2c, books):
    for _ in range(3):
        _placed(o2c)
    before = len(books.calls)

    reconciliation.reconcile(o2c.config)

    assert [method for method, _ in books.calls[before:]] == ["get_invoices"]


def test_disagreements_are_listed_with_the_reason(o2c, books):
    order = _placed(o2c)
    (invoice,) = books.invoices.values()
    invoice.update(Status="PAID", AmountDue=Decimal(0))  # paid in Xero by hand
    invoice["Total"] += Decimal("1.00")

    (row,) = reconciliation.reconcile(o2c.config).rows

    assert row.order_name == order["name"]
    assert any("is not the Shopify total" in p for p in row.problems)
    assert any("Xero says paid, but Shopify says authorized" in p for p in row.problems)
    assert any("should be C, but it is O" in p for p in row.problems)


def test_an_order_that_did_not_go_through_says_so(o2c, books):
    o2c.shopify.shop.add_variant("MYSTERY-BOX", "Mystery", "Default", Decimal("5"))
    order = o2c.shopify.shop.create_order([("MYSTERY-BOX", 1)])
    o2c.deliver("orders/create", order, "mystery")
    o2c.run_all()

    (row,) = reconciliation.reconcile(o2c.config).rows

    assert row.problems[:3] == [
        "The order's record is needs attention.",
        "No Xero invoice.",
        "No Sage 100 order.",
    ]


def test_the_admin_page_lists_what_disagrees(o2c, books, admin_client):
    order = _placed(o2c)
    (invoice,) = books.invoices.values()
    invoice["Total"] += Decimal("1.00")

    page = admin_client.get(reverse("admin:reconciliation"))

    assert page.status_code == 200
    text = page.content.decode()
    assert order["name"] in text
    assert "is not the Shopify total" in text
