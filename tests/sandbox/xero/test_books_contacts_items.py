"""Contacts and items: identity, uniqueness, PUT vs POST, archived contacts."""

from __future__ import annotations

import pytest

from tests.sandbox.xero.books_client import BooksClient


@pytest.fixture
def books() -> BooksClient:
    return BooksClient()


def save_contacts(books, method, *contacts, summarize="false"):
    return books.call(
        method,
        "/Contacts",
        {"Contacts": list(contacts)},
        {"summarizeErrors": summarize},
    )


def test_contact_names_are_unique_among_active_contacts(books):
    response = save_contacts(books, "PUT", {"Name": "Bayside Furniture"})
    assert books.errors_of(response, "Contacts") == [
        [
            "The contact name Bayside Furniture is already assigned to another "
            "contact. The contact name must be unique across all active contacts."
        ]
    ]
    assert response.body["Contacts"][0]["HasValidationErrors"] is True


def test_archived_contact_frees_its_name_and_is_hidden_unless_asked(books):
    bayside = books.get("/Contacts", where='Name=="Bayside Furniture"').body[
        "Contacts"
    ][0]
    books.call(
        "POST",
        f"/Contacts/{bayside['ContactID']}",
        {"Contacts": [{"ContactStatus": "ARCHIVED"}]},
    )
    assert save_contacts(books, "PUT", {"Name": "Bayside Furniture"}).status == 200
    names = [
        c["ContactStatus"]
        for c in books.get("/Contacts").body["Contacts"]
        if c["Name"] == "Bayside Furniture"
    ]
    assert names == ["ACTIVE"]
    everything = books.get("/Contacts", includeArchived="true").body["Contacts"]
    assert sorted(
        c["ContactStatus"] for c in everything if c["Name"] == "Bayside Furniture"
    ) == ["ACTIVE", "ARCHIVED"]


def test_contact_needs_an_identifier(books):
    response = save_contacts(books, "POST", {"EmailAddress": "x@y.example"})
    assert books.errors_of(response, "Contacts")[0][0].startswith(
        "The Contact must contain at least 1 of the following elements"
    )


def test_contact_fields_are_checked(books):
    response = save_contacts(
        books,
        "PUT",
        {"Name": "Z Shop", "EmailAddress": "not-an-email", "DefaultCurrency": "JPY"},
    )
    assert books.errors_of(response, "Contacts") == [
        [
            "Email address must be valid.",
            "Organisation is not subscribed to currency JPY",
        ]
    ]


def test_post_updates_by_contact_number_and_keeps_one_address_per_type(books):
    response = save_contacts(
        books,
        "POST",
        {
            "ContactNumber": "01-AMERICAN",
            "Addresses": [
                {"AddressType": "POBOX", "AddressLine1": "PO Box 9", "City": "Irvine"}
            ],
            "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "555-0199"}],
        },
    )
    contact = response.body["Contacts"][0]
    assert contact["Name"] == "American Office Supply"
    by_type = {a["AddressType"]: a for a in contact["Addresses"]}
    assert by_type["STREET"]["City"] == "Irvine" and by_type["POBOX"][
        "AddressLine1"
    ] == ("PO Box 9")
    assert len(contact["Addresses"]) == 2
    assert [e for e in books.events if e[0] == "CONTACT"] == [
        ("CONTACT", "UPDATE", contact["ContactID"])
    ]


def test_put_with_an_existing_contact_id_is_refused(books):
    existing = books.get("/Contacts").body["Contacts"][0]
    response = save_contacts(
        books, "PUT", {"ContactID": existing["ContactID"], "Name": "Other"}
    )
    assert "PUT only creates" in books.errors_of(response, "Contacts")[0][0]


def test_search_term_and_summary_only(books):
    found = books.get("/Contacts", searchTerm="HON", summaryOnly="true").body[
        "Contacts"
    ]
    assert [c["Name"] for c in found] == ["HON Manufacturing"]
    assert "Addresses" not in found[0]


def test_items_carry_the_sage_item_codes(books):
    codes = {i["Code"] for i in books.get("/Items").body["Items"]}
    assert {"1001-HON-H252", "2001-STL-D100", "6001-BOI-BR20"} <= codes


def test_item_codes_are_unique_on_create_and_post_updates_by_code(books):
    response = books.call(
        "PUT",
        "/Items",
        {"Items": [{"Code": "1001-HON-H252", "Name": "dup"}]},
        {"summarizeErrors": "false"},
    )
    assert books.errors_of(response, "Items") == [
        ["Price List Item with Code ''1001-HON-H252'' already exists"]
    ]
    response = books.call(
        "POST",
        "/Items",
        {"Items": [{"Code": "1001-HON-H252", "SalesDetails": {"UnitPrice": 199.5}}]},
    )
    assert response.body["Items"][0]["SalesDetails"]["UnitPrice"] == 199.5
    assert response.body["Items"][0]["SalesDetails"]["AccountCode"] == "200"


def test_item_details_must_name_valid_accounts_and_tax(books):
    response = books.call(
        "PUT",
        "/Items",
        {
            "Items": [
                {"Code": "NEW-1", "SalesDetails": {"AccountCode": "999"}},
                {
                    "Code": "NEW-2",
                    "PurchaseDetails": {"AccountCode": "300", "TaxType": "TAX001"},
                },
                {"Code": "NEW-3", "IsTrackedAsInventory": True},
            ]
        },
        {"summarizeErrors": "false"},
    )
    errors = books.errors_of(response, "Items")
    assert errors[0] == ["Account code '999' is not a valid code for this document."]
    assert errors[1] == [
        "The TaxType code 'TAX001' cannot be used with account code '300'."
    ]
    assert len(errors[2]) == 2
