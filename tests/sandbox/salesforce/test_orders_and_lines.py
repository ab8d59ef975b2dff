"""Platform rules for products, price books, opportunity lines and orders."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def _error(excinfo) -> dict:
    return excinfo.value.content[0]


def test_line_needs_unit_price_xor_total_price(sim, sf):
    line = {
        "OpportunityId": sim.access.ids["opportunity:valley"],
        "PricebookEntryId": sim.access.ids["entry:6001-BOI-CP20"],
        "Quantity": 1,
    }
    with pytest.raises(SalesforceMalformedRequest) as both:
        sf.OpportunityLineItem.create({**line, "UnitPrice": 1, "TotalPrice": 1})
    assert _error(both)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    with pytest.raises(SalesforceMalformedRequest) as neither:
        sf.OpportunityLineItem.create(line)
    assert _error(neither)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_line_derives_product_code_and_total(sim, sf):
    line_id = sf.OpportunityLineItem.create(
        {
            "OpportunityId": sim.access.ids["opportunity:valley"],
            "PricebookEntryId": sim.access.ids["entry:6001-BOI-CP20"],
            "Quantity": 3,
            "UnitPrice": 10.005,
        }
    )["id"]
    line = sf.OpportunityLineItem.get(line_id)
    assert line["ProductCode"] == "6001-BOI-CP20"
    assert line["Product2Id"] == sim.access.ids["product:6001-BOI-CP20"]
    assert (line["UnitPrice"], line["TotalPrice"]) == (10.01, 30.03)


def test_custom_price_needs_a_standard_price_first(sim, sf):
    book = sf.Pricebook2.create({"Name": "Wholesale", "IsActive": True})["id"]
    product = sf.Product2.create({"Name": "Fresh", "ProductCode": "NEW-1"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.PricebookEntry.create(
            {"Pricebook2Id": book, "Product2Id": product, "UnitPrice": 5}
        )
    assert _error(excinfo)["errorCode"] == "STANDARD_PRICE_NOT_DEFINED"
    sf.PricebookEntry.create(
        {
            "Pricebook2Id": sim.org.standard_pricebook_id,
            "Product2Id": product,
            "UnitPrice": 6,
        }
    )
    assert sf.PricebookEntry.create(
        {"Pricebook2Id": book, "Product2Id": product, "UnitPrice": 5}
    )["success"]


def _draft_order(sim, sf) -> str:
    return sf.Order.create(
        {
            "AccountId": sim.access.ids["account:abf"],
            "EffectiveDate": "2026-12-01",
            "Status": "Draft",
        }
    )["id"]


def test_order_gets_a_number_and_needs_products_to_activate(sim, sf):
    order_id = _draft_order(sim, sf)
    order = sf.Order.get(order_id)
    assert order["OrderNumber"].isdigit() and len(order["OrderNumber"]) == 8
    assert order["StatusCode"] == "Draft"
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Order.update(order_id, {"Status": "Activated"})
    assert _error(excinfo)["fields"] == ["Status"]
    sf.OrderItem.create(
        {
            "OrderId": order_id,
            "PricebookEntryId": sim.access.ids["entry:1001-HON-H252"],
            "Quantity": 2,
            "UnitPrice": 200,
        }
    )
    sf.Order.update(order_id, {"Status": "Activated"})
    order = sf.Order.get(order_id)
    assert (order["Status"], order["TotalAmount"]) == ("Activated", 400.0)
    assert order["ActivatedDate"] is not None


def test_activated_order_keeps_its_account(sim, sf):
    order_id = _draft_order(sim, sf)
    sf.OrderItem.create(
        {
            "OrderId": order_id,
            "PricebookEntryId": sim.access.ids["entry:1001-HON-H252"],
            "Quantity": 1,
            "UnitPrice": 200,
        }
    )
    sf.Order.update(order_id, {"Status": "Activated"})
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Order.update(order_id, {"AccountId": sim.access.ids["account:delta"]})
    assert _error(excinfo)["fields"] == ["AccountId"]


def test_order_cannot_be_created_activated_or_without_effective_date(sim, sf):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Order.create({"AccountId": sim.access.ids["account:abf"]})
    assert _error(excinfo)["fields"] == ["EffectiveDate"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.Order.create(
            {
                "AccountId": sim.access.ids["account:abf"],
                "EffectiveDate": "2026-12-01",
                "Status": "Activated",
            }
        )


def test_deleting_an_opportunity_deletes_its_lines(sim, sf):
    opportunity = sim.access.ids["opportunity:delta"]
    sf.Opportunity.delete(opportunity)
    query = f"SELECT Id FROM OpportunityLineItem WHERE OpportunityId = '{opportunity}'"
    assert sf.query(query)["totalSize"] == 0
    assert sf.query_all(query, include_deleted=True)["totalSize"] == 2
