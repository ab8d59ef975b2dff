"""The suffix a name clash gives a Xero contact, read back as the Sage name."""

from __future__ import annotations

import pytest

from integrations.engine.errors import ValidationFailed
from integrations.services import master_data_contacts as names


def test_a_suffixed_name_reads_back_as_the_sage_name_of_its_own_number_only():
    suffixed = names.with_suffix("American Business Futures", "02-ABF")

    assert suffixed == "American Business Futures (02-ABF)"
    assert names.without_suffix(suffixed, "02-ABF") == "American Business Futures"
    assert names.without_suffix(suffixed, "02-abf") == "American Business Futures"
    assert names.without_suffix(suffixed, "01-ABF") == suffixed  # another's
    assert names.without_suffix("Smith (Holdings)", "01-SMITH") == "Smith (Holdings)"
    assert names.suffix_key(suffixed) == "02-ABF"
    assert names.suffix_key("American Business Futures") == ""


def test_names_compare_as_xero_does_and_the_option_defaults_to_suffix():
    assert names.same_name(" acme supply ", "Acme Supply")
    assert names.name_clash_option({}) == "suffix"
    assert names.name_clash_option({"name_clash": "Attention"}) == "attention"
    with pytest.raises(ValidationFailed):
        names.name_clash_option({"name_clash": "rename"})


def test_a_lookup_asks_for_the_number_the_name_and_the_suffixed_name():
    assert names.where("01-ABF", ['Say "Hi"', "Say (01-ABF)"]) == (
        'ContactNumber=="01-ABF" OR Name=="Say ""Hi""" OR Name=="Say (01-ABF)"'
    )
