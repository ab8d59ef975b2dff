"""Order line prices: Salesforce's, Sage 100's, or Sage's when they agree."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.connectors.sage100.client import Sage100Client
from integrations.connectors.sage100.settings import Sage100Settings
from integrations.engine.errors import ValidationFailed
from integrations.services.pricing import (
    PricingPolicy,
    price_line,
    sage_prices,
)
from tests.support.sage100 import running_sage100

D = Decimal


def policy(mode: str, **options) -> PricingPolicy:
    return PricingPolicy.from_options({"mode": mode, **options})


def test_salesforce_mode_keeps_the_salesforce_price_rounded_to_four_places():
    line = price_line(D("10.123456"), D("12.50"), policy("salesforce"))

    assert line.unit_price == D("10.1235")
    assert line.source == "salesforce"


def test_price_level_mode_takes_sages_price():
    line = price_line(
        D("10.00"), D("12.5"), policy("sage_price_level", price_level="a")
    )

    assert line.unit_price == D("12.5000")
    assert line.source == "sage"
    assert line.note == "Sage 100 price level A price"


def test_price_level_mode_without_a_sage_price_fails_naming_line_and_item():
    with pytest.raises(ValidationFailed) as error:
        price_line(
            D("10"), None, policy("sage_price_level"), line=3, item_code="2480-8-50"
        )

    assert error.value.message == (
        "Line 3: Item 2480-8-50 has no Sage 100 price (standard) to use."
    )
    assert error.value.field == "UnitPrice"


@pytest.mark.parametrize("sf", ["9.80", "10.00", "10.20"])
def test_tolerance_mode_accepts_prices_within_the_tolerance_inclusive(sf):
    line = price_line(
        D(sf), D("10.00"), policy("sage_with_tolerance", tolerance_percent="2.0")
    )

    assert line.unit_price == D("10.0000")
    assert line.source == "sage"


@pytest.mark.parametrize("sf", ["9.7999", "10.2001"])
def test_tolerance_mode_refuses_prices_just_outside(sf):
    with pytest.raises(ValidationFailed):
        price_line(
            D(sf), D("10.00"), policy("sage_with_tolerance", tolerance_percent="2.0")
        )


def test_tolerance_failure_names_the_line_both_prices_and_the_difference():
    with pytest.raises(ValidationFailed) as error:
        price_line(
            D("10.00"),
            D("12.50"),
            policy("sage_with_tolerance", tolerance_percent="2.0"),
            line=2,
        )

    assert error.value.message == (
        "Line 2: Salesforce price 10.00 differs from the Sage 100 price 12.50 by "
        "20.0%, more than the allowed 2.0%."
    )


def test_a_zero_sage_price_only_agrees_with_zero():
    tolerant = policy("sage_with_tolerance", tolerance_percent="5")

    assert price_line(D("0"), D("0"), tolerant).unit_price == D("0")
    with pytest.raises(
        ValidationFailed, match=r"differs from the Sage 100 price 0\.00,"
    ):
        price_line(D("1"), D("0"), tolerant)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"mode": "cheapest"}, "pricing.mode"),
        ({"tolerance_percent": "-1"}, "pricing.tolerance_percent"),
        ({"tolerance_percent": "two"}, "pricing.tolerance_percent"),
        ({"tolerance_percent": "NaN"}, "pricing.tolerance_percent"),
        ({"price_level": "AB"}, "pricing.price_level"),
    ],
)
def test_bad_pricing_options_are_refused_naming_the_option(options, field):
    with pytest.raises(ValidationFailed) as error:
        PricingPolicy.from_options(options)

    assert error.value.field == field


def test_no_options_means_the_salesforce_price():
    assert PricingPolicy.from_options({}).mode == "salesforce"


# -- reading Sage 100's prices ---------------------------------------------------
@pytest.fixture(scope="module")
def sage(tmp_path_factory):
    with running_sage100(tmp_path_factory.mktemp("sage100"), customers=5) as s:
        with s.db.connect() as con:
            for code in (
                "PRICE-O",
                "PRICE-D",
                "PRICE-P",
                "PRICE-M",
                "PRICE-C",
                "PLAIN",
            ):
                con.execute(
                    "INSERT INTO CI_Item (ItemCode, ItemType, StandardUnitPrice, "
                    "StandardUnitCost, InactiveItem) VALUES (?, '1', ?, ?, 'N')",
                    [code, "100.0000", "60.0000"],
                )
            con.execute(
                "INSERT INTO CI_Item (ItemCode, ItemType, InactiveItem) "
                "VALUES ('NOPRICE', '1', 'N')"
            )
            for code, method, amount in (
                ("PRICE-O", "O", "87.5"),
                ("PRICE-D", "D", "10"),
                ("PRICE-P", "P", "7.25"),
                ("PRICE-M", "M", "50"),
                ("PRICE-C", "C", "15"),
            ):
                con.execute(
                    "INSERT INTO IM_PriceCode (PriceCodeRecord, ItemCode, "
                    "CustomerPriceLevel, PricingMethod, DiscountMarkup1) "
                    "VALUES ('1', ?, 'A', ?, ?)",
                    [code, method, amount],
                )
        yield s


@pytest.fixture
def calls():
    return []


@pytest.fixture
def reader(sage, calls):
    conf = Sage100Settings.from_connection(sage.connection_settings(), sage.credentials)
    return Sage100Client(conf, log=lambda *call: calls.append(call)).reader


CODES = ["price-o", "PRICE-D", "PRICE-P", "PRICE-M", "PRICE-C", "PLAIN", "NOPRICE"]


def test_standard_prices_come_from_ci_item_in_one_select(reader, calls):
    prices = sage_prices(reader, [*CODES, "NOT-ON-FILE"])

    assert prices == {code.upper(): D("100.0000") for code in CODES[:-1]}
    assert [call[2] for call in calls] == ["odbc:CI_Item"]


def test_a_price_level_applies_sages_pricing_methods(reader, calls):
    prices = sage_prices(reader, CODES, price_level="a")

    assert prices == {
        "PRICE-O": D("87.5000"),  # override
        "PRICE-D": D("90.0000"),  # 10 % off the standard price
        "PRICE-P": D("92.7500"),  # 7.25 off the standard price
        "PRICE-M": D("90.0000"),  # cost 60 + 50 %
        "PRICE-C": D("75.0000"),  # cost 60 + 15
        "PLAIN": D("100.0000"),  # no rule for the level: standard price
    }
    assert [call[2] for call in calls] == ["odbc:CI_Item", "odbc:IM_PriceCode"]


def test_another_level_has_no_rules_so_the_standard_price_stands(reader):
    assert sage_prices(reader, ["PRICE-O"], price_level="B") == {
        "PRICE-O": D("100.0000")
    }


def test_seeded_items_are_priced_from_their_standard_unit_price(reader):
    prices = sage_prices(reader, ["1001-hon-h252"])

    assert prices["1001-HON-H252"] > 0
