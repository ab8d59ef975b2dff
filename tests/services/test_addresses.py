"""Addresses standardised and fitted to Sage 100's columns, compromises flagged."""

from __future__ import annotations

import pytest

from integrations.sandbox.sage100.schema import TABLES
from integrations.services.addresses import (
    SAGE_CUSTOMER,
    UNPARSED,
    Address,
    AddressLengths,
    standardise,
)


def test_us_street_gets_usps_abbreviations_in_upper_case():
    result = standardise(
        Address("123 north main street suite 400", "springfield", "il", "62701", "US")
    )

    assert result.lines == ("123 N MAIN ST", "STE 400", "")
    assert (result.city, result.state, result.zip_code) == (
        "SPRINGFIELD",
        "IL",
        "62701",
    )
    assert result.country_code == "USA"
    assert result.flags == []


@pytest.mark.parametrize("country", ["USA", "United States", "united states", ""])
def test_us_is_recognised_by_name_code_or_a_us_state_and_zip(country):
    result = standardise(
        Address("500 west madison street", "Chicago", "Illinois", "60661-1234", country)
    )

    assert result.lines[0] == "500 W MADISON ST"
    assert result.state == "IL"
    assert result.zip_code == "60661-1234"
    assert result.country_code == "USA"


def test_an_attention_line_is_kept_when_only_the_first_line_parses():
    result = standardise(
        Address("1 infinite loop\nAttn: receiving dept", "Cupertino", "CA", "95014")
    )

    assert result.lines == ("1 INFINITE LOOP", "ATTN: RECEIVING DEPT", "")
    assert result.flags == []


def test_unparseable_us_street_is_kept_upper_cased_and_flagged():
    result = standardise(Address("  PO Box   12 ", "Springfield", "IL", "62701", "US"))

    assert result.lines == ("PO BOX 12", "", "")
    assert result.city == "SPRINGFIELD"
    assert result.flags == [UNPARSED]


def test_unparseable_us_street_still_gets_the_state_code():
    result = standardise(Address("PO Box 12", "Albany", "New York", "12207", "US"))

    assert result.state == "NY"
    assert result.flags == [UNPARSED]


def test_us_street_without_city_is_kept_as_given_and_flagged():
    result = standardise(Address("123 north main street", "", "", "", "US"))

    assert result.lines[0] == "123 NORTH MAIN STREET"
    assert result.flags == [UNPARSED]


def test_canadian_address_keeps_its_text_with_province_code_and_postal_format():
    result = standardise(
        Address("100 Queen St W", "Toronto", "Ontario", "m5h2n2", "Canada")
    )

    assert result.lines == ("100 Queen St W", "", "")
    assert (result.city, result.state, result.zip_code) == ("Toronto", "ON", "M5H 2N2")
    assert result.country_code == "CAN"
    assert result.flags == []


def test_uk_postcode_is_upper_cased_with_one_space():
    result = standardise(Address("10 Downing St", "London", "", "sw1a2aa", "GB"))

    assert result.zip_code == "SW1A 2AA"
    assert result.country_code == "GBR"
    assert result.lines[0] == "10 Downing St"


def test_german_address_keeps_diacritics_and_only_tidies_whitespace():
    result = standardise(
        Address("  Königstraße   12\n\n Hinterhaus ", "München", "", "80331", "DE")
    )

    assert result.lines == ("Königstraße 12", "Hinterhaus", "")
    assert result.city == "München"
    assert result.country_code == "DEU"
    assert result.flags == []


def test_unknown_country_is_flagged_and_kept_when_it_fits():
    result = standardise(Address("1 Main", "Atlantis", "", "1", "ATL"))

    assert result.country_code == "ATL"
    assert result.flags == [
        "CountryCode: 'ATL' is not a country we know: kept as given"
    ]


def test_long_street_wraps_at_word_boundaries_onto_the_next_lines():
    street = "Industriepark Nord Gebäude 7 Eingang B Anlieferung über Tor 3"

    result = standardise(Address(street, "Hamburg", "", "20095", "Germany"))

    assert result.lines == (
        "Industriepark Nord Gebäude 7",
        "Eingang B Anlieferung über Tor",
        "3",
    )
    assert all(len(line) <= 30 for line in result.lines)
    assert result.flags == []


def test_text_beyond_three_lines_is_cut_and_the_cut_is_flagged():
    street = "\n".join(["Building 4 loading dock north side"] * 3)

    result = standardise(Address(street, "Lyon", "", "69001", "France"))

    assert result.lines[:2] == (
        "Building 4 loading dock north",
        "side Building 4 loading dock",
    )
    assert result.lines[2] == "north side Building 4 loading"
    assert result.flags == ["AddressLine3: 15 characters cut"]


def test_long_city_is_cut_with_a_flag_naming_the_column():
    result = standardise(
        Address("1 Rue de la Paix", "Saint-Rémy-de-Provence-sur-Mer", "", "13210", "FR")
    )

    assert result.city == "Saint-Rémy-de-Proven"
    assert result.flags == ["City: 10 characters cut"]


def test_as_sage_uses_customer_or_order_header_column_names():
    result = standardise(Address("100 Queen St W", "Toronto", "ON", "M5H 2N2", "CA"))

    customer = result.as_sage()
    ship_to = result.as_sage("ShipTo")

    assert customer == {
        "AddressLine1": "100 Queen St W",
        "AddressLine2": "",
        "AddressLine3": "",
        "City": "Toronto",
        "State": "ON",
        "ZipCode": "M5H 2N2",
        "CountryCode": "CAN",
    }
    assert set(customer) <= set(TABLES["AR_Customer"].column_names)
    assert set(ship_to) <= set(TABLES["SO_SalesOrderHeader"].column_names)
    assert set(result.as_sage("BillTo")) <= set(
        TABLES["SO_SalesOrderHeader"].column_names
    )


def test_sage_lengths_agree_with_the_simulated_sage_schema():
    customer = TABLES["AR_Customer"]

    expected = AddressLengths(
        line=customer.column("AddressLine1").length,
        lines=3,
        city=customer.column("City").length,
        state=customer.column("State").length,
        zip_code=customer.column("ZipCode").length,
        country_code=customer.column("CountryCode").length,
    )
    assert expected == SAGE_CUSTOMER
