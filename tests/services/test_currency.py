"""Currency conversion at dated, admin-entered rates; the rates' admin."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from integrations.engine.errors import ReferenceMissing, ValidationFailed
from integrations.models import CurrencyRate
from integrations.services.currency import convert, extension, rate_for
from tests.admin.formdata import form_data

pytestmark = pytest.mark.django_db
D = Decimal


def rate(source: str, target: str, value: str, valid_from: str) -> CurrencyRate:
    return CurrencyRate.objects.create(
        from_currency=source,
        to_currency=target,
        rate=D(value),
        valid_from=date.fromisoformat(valid_from),
    )


def test_the_newest_rate_on_or_before_the_date_is_used():
    rate("EUR", "USD", "1.05", "2026-01-01")
    rate("EUR", "USD", "1.10", "2026-06-01")
    rate("EUR", "USD", "1.20", "2026-12-03")

    assert convert(D("100"), "EUR", "USD", date(2026, 5, 31)) == D("105.0000")
    assert convert(D("100"), "EUR", "USD", date(2026, 6, 1)) == D("110.0000")
    assert convert(D("100"), "eur", "usd", date(2026, 12, 2)) == D("110.0000")


def test_unit_prices_round_half_up_to_four_places():
    rate("EUR", "USD", "1.08", "2026-01-01")

    # 10.12345 * 1.08 = 10.933326 → 10.9333; 0.00125 * 1.08 = 0.00135 → 0.0014
    assert convert(D("10.12345"), "EUR", "USD", date(2026, 3, 1)) == D("10.9333")
    assert convert(D("0.00125"), "EUR", "USD", date(2026, 3, 1)) == D("0.0014")


def test_places_can_be_two_for_amounts():
    rate("EUR", "USD", "1.08", "2026-01-01")

    assert convert(D("0.125"), "EUR", "USD", date(2026, 3, 1), places=2) == D("0.14")


def test_a_reverse_rate_is_used_inverted_without_losing_precision():
    rate("USD", "EUR", "0.8", "2026-01-01")

    applied = rate_for("EUR", "USD", date(2026, 2, 1))

    assert applied.inverted is True
    assert applied.effective == D("1.25")
    assert convert(D("10"), "EUR", "USD", date(2026, 2, 1)) == D("12.5000")
    assert str(applied) == "1 USD = 0.8 EUR from 2026-01-01 (used inverted)"


def test_a_newer_reverse_rate_wins_over_an_older_direct_one():
    rate("EUR", "USD", "1.05", "2026-01-01")
    newer = rate("USD", "EUR", "0.8", "2026-03-01")

    applied = rate_for("EUR", "USD", date(2026, 4, 1))

    assert (applied.rate_id, applied.inverted) == (newer.pk, True)


def test_on_the_same_day_the_direct_rate_wins():
    direct = rate("EUR", "USD", "1.05", "2026-03-01")
    rate("USD", "EUR", "0.8", "2026-03-01")

    assert rate_for("EUR", "USD", date(2026, 4, 1)).rate_id == direct.pk


def test_rate_for_says_which_rate_was_used():
    stored = rate("GBP", "USD", "1.27", "2026-02-01")

    applied = rate_for("GBP", "USD", date(2026, 2, 1))

    assert (applied.rate, applied.valid_from, applied.rate_id) == (
        D("1.27"),
        date(2026, 2, 1),
        stored.pk,
    )
    assert str(applied) == "1 GBP = 1.27 USD from 2026-02-01"


def test_no_rate_on_or_before_the_date_is_a_missing_reference():
    rate("EUR", "USD", "1.05", "2026-12-03")

    with pytest.raises(ReferenceMissing) as error:
        convert(D("1"), "EUR", "USD", date(2026, 12, 2))

    assert error.value.message == (
        "No exchange rate from EUR to USD on or before 2026-12-02: add one under "
        "Currency rates."
    )
    assert error.value.field == "CurrencyIsoCode"


def test_the_same_currency_needs_no_rate_and_changes_nothing():
    assert convert(D("10.123456"), "USD", "usd", date(2026, 1, 1)) == D("10.123456")
    assert rate_for("USD", "USD", date(2026, 1, 1)) is None


def test_a_malformed_currency_code_is_refused():
    with pytest.raises(ValidationFailed, match="not a three-letter currency code"):
        convert(D("1"), "EURO", "USD", date(2026, 1, 1))


def test_extension_is_quantity_times_unit_price_rounded_half_up_to_cents():
    assert extension(D("3"), D("10.9333")) == D("32.80")
    assert extension(D("1"), D("0.0050")) == D("0.01")
    assert extension(D("2.5"), D("4.1230")) == D("10.31")


# -- the admin -------------------------------------------------------------------
def test_rates_are_listed_with_their_inverse(admin_client):
    rate("USD", "EUR", "0.8", "2026-01-01")

    html = admin_client.get(reverse("admin:integrations_currencyrate_changelist"))

    assert html.status_code == 200
    assert "1.25000000" in html.content.decode()


def test_a_rate_is_added_with_codes_upper_cased(admin_client):
    url = reverse("admin:integrations_currencyrate_add")

    response = admin_client.post(
        url,
        {
            "from_currency": "eur",
            "to_currency": "usd",
            "rate": "1.08",
            "valid_from": "2026-01-01",
            "note": "ECB reference",
        },
    )

    assert response.status_code == 302
    stored = CurrencyRate.objects.get()
    assert (stored.from_currency, stored.to_currency) == ("EUR", "USD")


def test_a_second_rate_for_the_same_day_is_refused_in_plain_words(admin_client):
    existing = rate("EUR", "USD", "1.05", "2026-01-01")
    url = reverse("admin:integrations_currencyrate_add")
    page = admin_client.get(url)

    response = admin_client.post(
        url,
        form_data(
            page,
            from_currency="EUR",
            to_currency="USD",
            rate="1.06",
            valid_from="2026-01-01",
        ),
    )

    assert response.status_code == 200
    assert (
        "There is already a EUR → USD rate from 2026-01-01: change that one, or "
        "pick another day." in response.content.decode()
    )
    assert list(CurrencyRate.objects.all()) == [existing]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"to_currency": "EUR"}, "Choose a currency other than EUR"),
        ({"rate": "0"}, "The rate must be more than zero."),
        ({"from_currency": "EURO"}, "Ensure this value has at most 3 characters"),
        ({"from_currency": "E1R"}, "Use a three-letter ISO 4217 code."),
    ],
)
def test_bad_rates_are_refused_with_a_message(admin_client, overrides, message):
    url = reverse("admin:integrations_currencyrate_add")
    data = {
        "from_currency": "EUR",
        "to_currency": "USD",
        "rate": "1.08",
        "valid_from": "2026-01-01",
        "note": "",
        **overrides,
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CurrencyRate.objects.exists()
