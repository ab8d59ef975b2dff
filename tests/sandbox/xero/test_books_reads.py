"""Reading lists: If-Modified-Since, paging, list filters, where errors, and
the reference data (Organisation, Accounts, TaxRates, Currencies)."""

from __future__ import annotations

import pytest

from tests.sandbox.xero.books_client import BooksClient


@pytest.fixture
def books() -> BooksClient:
    return BooksClient()


def test_if_modified_since_returns_only_later_changes(books):
    books.invoice(Reference="old")
    books.clock.now += 3600
    newer = books.invoice(Reference="new")
    response = books.call(
        "GET", "/Invoices", headers={"if-modified-since": "2026-12-02T08:30:00"}
    )
    assert [i["InvoiceID"] for i in response.body["Invoices"]] == [newer["InvoiceID"]]
    assert newer["UpdatedDateUTC"] == "/Date(1796202000000+0000)/"


def test_paging_100_per_page_with_pagination(books):
    body = {"Contacts": [{"Name": f"Shop {n:03d}"} for n in range(150)]}
    assert books.call("PUT", "/Contacts", body).status == 200
    first = books.get("/Contacts", page="1", order="Name").body
    assert first["pagination"] == {
        "page": 1,
        "pageSize": 100,
        "pageCount": 2,
        "itemCount": 153,
    }
    second = books.get("/Contacts", page="2", pageSize="100", order="Name").body
    assert len(second["Contacts"]) == 53
    assert "pagination" not in books.get("/Contacts").body


def test_unpaged_invoice_lists_leave_out_line_items(books):
    books.invoice()
    assert "LineItems" not in books.get("/Invoices").body["Invoices"][0]
    assert books.get("/Invoices", page="1").body["Invoices"][0]["LineItems"]


def test_invoice_list_filters(books):
    draft = books.invoice()
    authorised = books.invoice(
        Status="AUTHORISED",
        Contact={"Name": "Bayside Furniture"},
        LineItems=[{"ItemCode": "1001-HON-H252", "Quantity": 1}],
    )
    assert [
        i["InvoiceID"]
        for i in books.get("/Invoices", Statuses="AUTHORISED,PAID").body["Invoices"]
    ] == [authorised["InvoiceID"]]
    assert [
        i["InvoiceID"]
        for i in books.get("/Invoices", InvoiceNumbers=draft["InvoiceNumber"]).body[
            "Invoices"
        ]
    ] == [draft["InvoiceID"]]
    assert [
        i["InvoiceID"]
        for i in books.get(
            "/Invoices", ContactIDs=authorised["Contact"]["ContactID"]
        ).body["Invoices"]
    ] == [authorised["InvoiceID"]]
    assert (
        len(
            books.get(
                "/Invoices", IDs=f"{draft['InvoiceID']},{authorised['InvoiceID']}"
            ).body["Invoices"]
        )
        == 2
    )
    where = f'Contact.ContactID==Guid("{authorised["Contact"]["ContactID"]}")'
    assert len(books.get("/Invoices", where=where).body["Invoices"]) == 1


def test_where_syntax_error_is_a_400_query_parse_exception(books):
    response = books.get("/Invoices", where='Status=="PAID" AND')
    assert response.status == 400
    assert response.body == {
        "ErrorNumber": 16,
        "Type": "QueryParseException",
        "Message": "Expression expected",
    }


def test_reference_data(books):
    organisation = books.get("/Organisation").body["Organisations"][0]
    assert (organisation["Name"], organisation["BaseCurrency"]) == ("Demo Books", "USD")
    codes = {a["Code"]: a for a in books.get("/Accounts").body["Accounts"]}
    assert {"090", "200", "260", "300", "310", "610", "800", "820"} <= set(codes)
    assert codes["090"]["Type"] == "BANK"
    rates = {r["TaxType"]: r for r in books.get("/TaxRates").body["TaxRates"]}
    assert rates["TAX001"]["EffectiveRate"] == 8.25 and {
        "INPUT",
        "OUTPUT",
        "NONE",
    } <= set(rates)
    assert [c["Code"] for c in books.get("/Currencies").body["Currencies"]] == [
        "USD",
        "EUR",
        "GBP",
        "CAD",
    ]


def test_purchase_orders_number_status_and_filters(books):
    response = books.call(
        "PUT",
        "/PurchaseOrders",
        {
            "PurchaseOrders": [
                {
                    "Contact": {"Name": "HON Manufacturing"},
                    "Date": "2026-12-01",
                    "DeliveryDate": "2026-12-10",
                    "Reference": "SAGE PO 0000123",
                    "LineItems": [{"ItemCode": "1001-HON-H252", "Quantity": 5}],
                }
            ]
        },
    )
    order = response.body["PurchaseOrders"][0]
    assert (order["PurchaseOrderNumber"], order["Status"]) == ("PO-0001", "DRAFT")
    assert order["DeliveryDate"] == "/Date(1796860800000+0000)/"
    dup = books.call(
        "PUT",
        "/PurchaseOrders",
        {
            "PurchaseOrders": [
                {
                    "PurchaseOrderNumber": "PO-0001",
                    "Contact": {"Name": "HON Manufacturing"},
                }
            ]
        },
    )
    assert dup.body["Elements"][0]["ValidationErrors"] == [
        {"Message": "Order number must be unique"}
    ]
    books.call(
        "POST",
        f"/PurchaseOrders/{order['PurchaseOrderID']}",
        {"PurchaseOrders": [{"Status": "AUTHORISED"}]},
    )
    listed = books.get("/PurchaseOrders", Status="AUTHORISED").body["PurchaseOrders"]
    assert [o["PurchaseOrderID"] for o in listed] == [order["PurchaseOrderID"]]
    assert books.get("/PurchaseOrders", Status="DRAFT").body["PurchaseOrders"] == []
