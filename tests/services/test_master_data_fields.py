"""Customers, vendors and items as both sides hold them, and between the two."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from integrations.engine.errors import ValidationFailed
from integrations.models import CurrencyRate
from integrations.services import master_data_fields as fields
from integrations.services.master_data import merge

SAGE_CUSTOMER = {
    "ARDivisionNo": "01",
    "CustomerNo": "ABF",
    "CustomerName": "American Business Futures",
    "AddressLine1": "123 N MAIN ST",
    "AddressLine2": "STE 400",
    "AddressLine3": "",
    "City": "CHICAGO",
    "State": "IL",
    "ZipCode": "60601",
    "CountryCode": "USA",
    "TelephoneNo": "(312) 555-0100",
    "EmailAddress": "ap@abf.test",
    "CreditLimit": Decimal("5000.00"),
}
XERO_CONTACT = {
    "ContactID": "8a1e4c1a-0000-4000-8000-000000000001",
    "ContactNumber": "01-ABF",
    "Name": "American Business Futures",
    "EmailAddress": "ap@abf.test",
    "Addresses": [
        {
            "AddressType": "POBOX",
            "AddressLine1": "123 north main street",
            "AddressLine2": "suite 400",
            "City": "Chicago",
            "Region": "Illinois",
            "PostalCode": "60601",
            "Country": "United States",
        },
        {"AddressType": "STREET", "AddressLine1": "9 Dock Rd", "City": "Gary"},
    ],
    "Phones": [
        {"PhoneType": "DEFAULT", "PhoneAreaCode": "312", "PhoneNumber": "555-0100"},
        {"PhoneType": "MOBILE", "PhoneNumber": "555-0199"},
    ],
    "UpdatedDateUTC": "/Date(1764676800000+0000)/",
}


def customers():
    return fields.entity(fields.CUSTOMER)


def test_a_customer_reads_the_same_on_both_sides_once_standardised():
    entity = customers()
    sage, xero = entity.read_sage(SAGE_CUSTOMER), entity.read_xero(XERO_CONTACT)

    assert xero["phone"] == "(312) 555-0100"
    assert xero["address"]["AddressLine1"] == "123 north main street"
    # Different spellings of one address and one phone number are no change.
    result = merge(
        entity.fields,
        sage_now=sage,
        xero_now=xero,
        sage_before=None,
        xero_before=None,
    )
    assert result.writes_nothing and result.conflicts == []


def test_a_xero_address_is_standardised_for_sage():
    entity = customers()
    address = entity.read_xero(XERO_CONTACT)["address"]
    [spec] = [f for f in entity.fields if f.name == "address"]

    assert entity.write_sage({"address": spec.to_sage(address)}) == {
        "AddressLine1": "123 N MAIN ST",
        "AddressLine2": "STE 400",
        "AddressLine3": "",
        "City": "CHICAGO",
        "State": "IL",
        "ZipCode": "60601",
        "CountryCode": "USA",
    }


def test_writing_a_contact_keeps_its_other_phones_and_addresses():
    entity = customers()
    document = entity.write_xero(
        {
            "phone": "(312) 555-0111",
            "address": {"AddressLine1": "1 STATE ST", "City": "CHICAGO"},
            "email": "billing@abf.test",
        },
        XERO_CONTACT,
    )

    assert document["EmailAddress"] == "billing@abf.test"
    assert {p["PhoneType"]: p["PhoneNumber"] for p in document["Phones"]} == {
        "MOBILE": "555-0199",
        "DEFAULT": "(312) 555-0111",
    }
    by_type = {a["AddressType"]: a for a in document["Addresses"]}
    assert by_type["STREET"]["AddressLine1"] == "9 Dock Rd"
    assert by_type["POBOX"]["AddressLine1"] == "1 STATE ST"


def test_the_street_address_is_used_when_the_flow_says_so():
    entity = fields.entity(
        fields.VENDOR, fields.Options.from_options({"xero_address_type": "street"})
    )

    assert entity.read_xero(XERO_CONTACT)["address"]["City"] == "Gary"
    assert entity.write_sage({"name": "Acme Supply"}) == {"VendorName": "Acme Supply"}
    with pytest.raises(ValidationFailed) as refused:
        fields.Options.from_options({"xero_address_type": "HOME"})
    assert refused.value.field == "options.xero_address_type"


def test_phone_numbers_are_the_same_when_their_digits_are():
    [phone] = [f for f in customers().fields if f.name == "phone"]

    assert phone.agree("(312) 555-0100", "312 555 0100")
    assert not phone.agree("(312) 555-0100", "312 555 0101")


def test_a_long_xero_name_is_cut_for_sage_at_a_word():
    [name] = [f for f in customers().fields if f.name == "name"]

    assert name.to_sage("The Acme Corporation of North America") == (
        "The Acme Corporation of North"
    )


def test_item_prices_keep_four_places_and_the_account_codes():
    entity = fields.entity(fields.ITEM)
    row = {
        "ItemCode": "1001-HON",
        "ItemCodeDesc": "Hon chair",
        "StandardUnitPrice": "125.5",
        "StandardUnitCost": Decimal("60.0000"),
    }
    item = {
        "Code": "1001-HON",
        "Name": "Hon chair",
        "SalesDetails": {"UnitPrice": Decimal("125.50"), "AccountCode": "200"},
        "PurchaseDetails": {"UnitPrice": 60, "AccountCode": "300"},
    }

    assert entity.read_sage(row) == {
        "name": "Hon chair",
        "sales_price": "125.5000",
        "purchase_cost": "60.0000",
    }
    assert entity.read_xero(item) == entity.read_sage(row)
    assert entity.write_xero({"sales_price": "130.0000"}, item) == {
        "SalesDetails": {"UnitPrice": 130.0, "AccountCode": "200"}
    }
    # Xero keeps two decimals: Sage's four, rounded, are the same price.
    [price] = [f for f in entity.fields if f.name == "sales_price"]
    assert price.to_xero("12.3456") == "12.3500"
    assert price.agree("12.3456", "12.3500")
    assert not price.agree("12.3456", "12.3400")
    assert entity.write_sage({"sales_price": "130.0000", "name": "Chair"}) == {
        "StandardUnitPrice": "130.0000",
        "ItemCodeDesc": "Chair",
    }


@pytest.mark.django_db
def test_prices_are_converted_between_the_two_companies_currencies():
    CurrencyRate.objects.create(
        from_currency="USD", to_currency="CAD", rate="1.4", valid_from=date(2026, 1, 1)
    )
    options = fields.Options.from_options(
        {"sage_currency": "USD", "xero_currency": "cad"}, on=date(2026, 12, 2)
    )
    entity = fields.entity(fields.ITEM, options)
    [price] = [f for f in entity.fields if f.name == "sales_price"]

    assert price.to_xero("10.0000") == "14.0000"
    assert price.to_sage("14.0000") == "10.0000"
    # A price converted there and back is the same price.
    assert price.agree("3.3333", price.to_xero("3.3333"))


def test_xero_times_are_read_in_both_of_its_spellings():
    assert fields.xero_updated_at(XERO_CONTACT) == datetime(
        2025, 12, 2, 12, 0, tzinfo=UTC
    )
    assert fields.xero_updated_at({"UpdatedDateUTC": "2026-12-02T10:00:00"}) == (
        datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    )
    assert fields.xero_updated_at({}) is None


def test_an_unknown_kind_is_refused_by_name():
    with pytest.raises(ValidationFailed, match="customer, vendor or item"):
        fields.entity("account")
