"""Product codes to Sage 100 item codes: cross-reference first, rules second."""

from __future__ import annotations

import pytest

from integrations.engine.errors import ValidationFailed
from integrations.services.item_codes import ItemCodeRules, resolve

RULES = ItemCodeRules.from_options(
    {
        "case": "upper",
        "strip_spaces": True,
        "collapse_spaces": True,
        "remove_prefixes": ["SF-"],
        "remove_suffixes": ["-EA"],
        "replace": {" ": "-"},
    }
)


def no_xref(value: str) -> None:
    return None


def test_cross_reference_on_the_code_as_sent_wins_over_the_rules():
    xrefs = {"sf-hon desk": "1001-HON-H252", "HON-DESK": "WRONG"}

    result = resolve("sf-hon desk", xref=xrefs.get, rules=RULES)

    assert result.code_out == "1001-HON-H252"
    assert result.via == "xref"
    assert result.steps == ["cross-reference 'sf-hon desk' → '1001-HON-H252'"]


def test_cross_reference_on_the_normalised_code_is_tried_next():
    xrefs = {"HON-DESK": "1001-hon-h252"}

    result = resolve("  SF-hon   desk-ea ", xref=xrefs.get, rules=RULES)

    assert result.code_out == "1001-HON-H252"
    assert result.via == "xref"
    assert result.steps == [
        "no cross-reference for '  SF-hon   desk-ea '",
        "trimmed spaces: '  SF-hon   desk-ea ' → 'SF-hon   desk-ea'",
        "collapsed spaces: 'SF-hon   desk-ea' → 'SF-hon desk-ea'",
        "removed prefix 'SF-': 'SF-hon desk-ea' → 'hon desk-ea'",
        "removed suffix '-EA': 'hon desk-ea' → 'hon desk'",
        "replaced ' ' with '-': 'hon desk' → 'hon-desk'",
        "upper-cased: 'hon-desk' → 'HON-DESK'",
        "cross-reference 'HON-DESK' → '1001-hon-h252'",
    ]


def test_without_a_cross_reference_the_normalised_code_is_used():
    result = resolve("sf-1001-hon-h252", xref=no_xref, rules=RULES)

    assert result.code_out == "1001-HON-H252"
    assert result.via == "rules"
    assert result.steps[-2:] == [
        "no cross-reference for '1001-HON-H252'",
        "using '1001-HON-H252'",
    ]


def test_a_code_the_rules_do_not_change_is_used_as_sent():
    result = resolve("2480-8-50", xref=no_xref, rules=RULES)

    assert (result.code_out, result.via) == ("2480-8-50", "as_is")
    assert result.steps == [
        "no cross-reference for '2480-8-50'",
        "using '2480-8-50' as sent",
    ]


def test_keep_case_looks_up_the_cross_reference_in_the_original_case():
    rules = ItemCodeRules.from_options({"case": "keep", "remove_prefixes": ["SF-"]})
    xrefs = {"Desk": "1001-HON-H252"}

    result = resolve("SF-Desk", xref=xrefs.get, rules=rules)

    assert result.code_out == "1001-HON-H252"


def test_prefixes_match_regardless_of_case_and_the_longest_goes_first():
    rules = ItemCodeRules.from_options({"remove_prefixes": ["SF-", "SF-OLD-"]})

    assert rules.apply("sf-old-abc")[0] == "ABC"


def test_an_empty_code_is_refused():
    with pytest.raises(ValidationFailed, match="ItemCode is empty"):
        resolve("   ", xref=no_xref, rules=RULES)


def test_a_code_longer_than_sage_allows_is_refused_naming_the_product_code():
    long_code = "X" * 31

    with pytest.raises(ValidationFailed) as error:
        resolve(f"sf-{long_code}", xref=no_xref, rules=RULES)

    assert error.value.field == "ItemCode"
    assert "longer than Sage 100's 30 characters" in error.value.message
    assert f"(from product code 'sf-{long_code}')" in error.value.message


def test_a_cross_reference_to_an_invalid_code_is_refused():
    with pytest.raises(ValidationFailed, match="printable ASCII only"):
        resolve("desk", xref={"desk": "SCHREIBTISCH-Ä"}.get, rules=RULES)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"case": "lower"}, "item_codes.case"),
        ({"strip_spaces": "yes"}, "item_codes.strip_spaces"),
        ({"remove_prefixes": "SF-"}, "item_codes.remove_prefixes"),
        ({"replace": {"": "-"}}, "item_codes.replace"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options, field):
    with pytest.raises(ValidationFailed) as error:
        ItemCodeRules.from_options(options)

    assert error.value.field == field
