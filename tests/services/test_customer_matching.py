"""Matching a Salesforce account to a Sage 100 customer: bind only when clear."""

from __future__ import annotations

import pytest

from integrations.connectors.sage100.client import Sage100Client
from integrations.connectors.sage100.settings import Sage100Settings
from integrations.engine.errors import ValidationFailed
from integrations.services.customer_matching import (
    CustomerFacts,
    candidates_query_terms,
    match_customer,
    next_customer_no,
    sage_candidates,
    score,
)
from tests.support.sage100 import running_sage100

ACME = CustomerFacts(
    "01-ACME",
    name="Acme Industrial Supply, Inc.",
    address_line1="400 N Main St",
    city="Springfield",
    zip_code="62701",
    phone="(217) 555-0142",
    email="ap@acme-industrial.com",
)


def _facts(key: str, name: str, **more) -> CustomerFacts:
    return CustomerFacts(key, name=name, **more)


# -- scoring and deciding --------------------------------------------------------
def test_the_same_customer_binds_with_the_reasons_shown():
    incoming = CustomerFacts(
        "001SF",
        name="ACME INDUSTRIAL SUPPLY LLC",
        address_line1="400 n. main st",
        zip_code="62701-1234",
        phone="+1 217 555 0142",
        email="AP@acme-industrial.com",
    )
    others = [ACME, _facts("01-BETA", "Beta Office Furniture", zip_code="30314")]

    result = match_customer(incoming, others)

    assert result.decision == "bind"
    assert result.best.key == "01-ACME"
    assert result.best.score == 1.0
    assert result.best.reasons == [
        "name 100%",
        "phone equal",
        "email equal",
        "ZIP equal",
        "address 100%",
    ]
    assert [c.key for c in result.candidates] == ["01-ACME"]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("Acme Corp.", "ACME CORPORATION"),
        ("The Müller Company GmbH", "Muller Company"),
        ("Smith & Sons, Ltd", "smith and sons"),
        ("O'Reilly Media, Inc.", "OReilly Media"),
    ],
)
def test_names_compare_without_case_punctuation_accents_or_legal_suffixes(ours, theirs):
    assert score(_facts("a", ours), _facts("b", theirs)).score == 1.0


def test_two_similar_customers_are_ambiguous_and_both_listed():
    incoming = _facts("001SF", "Acme Industrial Supply", zip_code="62701")
    east = _facts("01-ACME", "Acme Industrial Supply Inc", zip_code="62701")
    west = _facts("02-ACME", "ACME Industrial Supply", zip_code="62701")
    other = _facts("01-ZED", "Zed Logistics", zip_code="10001")

    result = match_customer(incoming, [other, east, west])

    assert result.decision == "ambiguous"
    assert result.best is None
    assert [c.key for c in result.candidates] == ["01-ACME", "02-ACME"]
    assert all(c.score == 1.0 for c in result.candidates)


def test_a_strong_match_far_ahead_of_a_plausible_one_still_binds():
    incoming = CustomerFacts(
        "001SF", name="Acme Industrial Supply", phone="217-555-0142"
    )
    same = _facts("01-ACME", "Acme Industrial Supply", phone="2175550142")
    sibling = _facts("01-ACMEX", "Acme Industrial", phone="217 555 9999")

    result = match_customer(incoming, [sibling, same])

    assert result.decision == "bind"
    assert result.best.key == "01-ACME"
    assert [c.key for c in result.candidates] == ["01-ACME", "01-ACMEX"]
    assert result.candidates[1].score < 0.75


def test_one_plausible_but_not_strong_candidate_goes_to_a_person():
    incoming = _facts("001SF", "Acme Industrial Supply", zip_code="62701")
    near = _facts("01-ACMEW", "Acme Industrial West", zip_code="62701")

    result = match_customer(incoming, [near])

    assert result.decision == "ambiguous"
    assert 0.6 <= result.candidates[0].score < 0.9


def test_the_same_name_elsewhere_goes_to_a_person_not_a_new_customer():
    incoming = _facts(
        "001SF", "Acme Industrial Supply", zip_code="73301", phone="(512) 555-0100"
    )

    result = match_customer(incoming, [ACME])

    assert result.decision == "ambiguous"
    assert result.candidates[0].key == "01-ACME"
    assert result.candidates[0].score < 0.6


def test_no_plausible_customer_means_none():
    result = match_customer(
        _facts("001SF", "Globex Corporation", zip_code="97201"),
        [_facts("01-ACME", "Acme Industrial Supply", zip_code="62701")],
    )

    assert result.decision == "none"
    assert result.best is None
    assert result.candidates == []


def test_missing_attributes_do_not_count_against_a_match():
    with_everything = score(ACME, ACME).score
    name_only = score(_facts("x", "Acme Industrial Supply"), ACME)

    assert with_everything == name_only.score == 1.0
    assert name_only.reasons == ["name 100%"]


def test_a_different_phone_lowers_the_score_and_says_so():
    result = score(_facts("x", "Acme Industrial Supply", phone="(217) 555-0000"), ACME)

    assert result.score == 0.69
    assert result.reasons == ["name 100%", "phone differs"]


def test_same_company_domain_counts_half_but_free_mail_does_not():
    company = score(_facts("x", "Zed", email="sales@acme-industrial.com"), ACME)
    free = score(
        _facts("x", "Zed", email="bob@gmail.com"),
        _facts("y", "Zed", email="alice@gmail.com"),
    )

    assert "same email domain acme-industrial.com" in company.reasons
    assert free.reasons == ["name 100%", "email differs"]


def test_at_most_five_candidates_are_returned_best_first():
    incoming = _facts("001SF", "Acme Supply")
    many = [_facts(f"01-A{n}", f"Acme Supply {'X' * n}") for n in range(1, 9)]

    result = match_customer(incoming, many)

    assert len(result.candidates) == 5
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)


def test_query_terms_skip_the_article_and_keep_digits_of_the_phone():
    terms = candidates_query_terms(
        _facts("x", "The Acme Company", zip_code=" 62701 ", phone="+1 (217) 555-0142")
    )

    assert terms.name_word == "acme"
    assert terms.zip_code == "62701"
    assert terms.phone_digits == "2175550142"
    assert terms.email is None


# -- reading Sage 100 ------------------------------------------------------------
@pytest.fixture(scope="module")
def sage(tmp_path_factory):
    with running_sage100(tmp_path_factory.mktemp("sage100"), customers=40) as s:
        _add(s.db, "01", "ACMEIND", "Acme Industrial Supply Inc", ZipCode="62701")
        _add(s.db, "02", "ACMEIN1", "ACME INDUSTRIAL SUPPLY", ZipCode="62702")
        _add(s.db, "01", "ZEDLOG", "Zed Logistics", TelephoneNo="(217) 555-0142")
        _add(s.db, "01", "SF00001", "Salesforce One", EmailAddress="AP@one.example")
        _add(s.db, "02", "SF00007", "Salesforce Seven")
        _add(s.db, "01", "SF0009X", "Not a sequence number")
        _add(s.db, "01", "SF123", "Shorter than the rule")
        yield s


def _add(db, division: str, number: str, name: str, **columns) -> None:
    values = {
        "ARDivisionNo": division,
        "CustomerNo": number,
        "CustomerName": name,
        "CustomerStatus": "A",
        **columns,
    }
    with db.connect() as con:
        con.execute(
            f"INSERT INTO AR_Customer ({', '.join(values)}) "
            f"VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        )


@pytest.fixture
def calls():
    return []


@pytest.fixture
def reader(sage, calls):
    conf = Sage100Settings.from_connection(sage.connection_settings(), sage.credentials)
    return Sage100Client(conf, log=lambda *call: calls.append(call)).reader


def test_sage_candidates_come_from_one_select_on_name_zip_phone_or_email(reader, calls):
    facts = CustomerFacts(
        "001SF",
        name="The ACME Industrial Supply Company",
        zip_code="62701",
        phone="217.555.0142",
        email="ap@one.example",
    )

    found = sage_candidates(reader, facts)

    assert [call[:3] for call in calls] == [("sage100", "SELECT", "odbc:AR_Customer")]
    keys = [f.key for f in found]
    assert keys[0] == "01-ACMEIND"  # name and ZIP both hit
    assert set(keys) == {"01-ACMEIND", "02-ACMEIN1", "01-ZEDLOG", "01-SF00001"}
    assert found[0].name == "Acme Industrial Supply Inc"


def test_sage_candidates_then_matching_binds_the_existing_customer(reader):
    facts = _facts("001SF", "Zed Logistics LLC", phone="217-555-0142")

    result = match_customer(facts, sage_candidates(reader, facts))

    assert result.decision == "bind"
    assert result.best.key == "01-ZEDLOG"


def test_sage_candidates_are_cut_to_the_limit_best_hits_first(reader):
    facts = _facts("001SF", "Acme Industrial Supply", zip_code="62701")

    found = sage_candidates(reader, facts, limit=1)

    assert [f.key for f in found] == ["01-ACMEIND"]


def test_nothing_to_search_by_reads_nothing(reader, calls):
    assert sage_candidates(reader, CustomerFacts("001SF")) == []
    assert calls == []


def test_next_sequence_number_skips_every_taken_one(reader):
    rule = {"mode": "sequence", "prefix": "SF", "width": 7}

    assert next_customer_no(reader, rule) == "SF00008"


def test_a_new_prefix_starts_at_one(reader):
    rule = {"mode": "sequence", "prefix": "sfx", "width": 10}

    assert next_customer_no(reader, rule) == "SFX0000001"


def test_number_from_the_name_gets_a_suffix_while_taken(reader):
    rule = {"mode": "name", "width": 7}

    assert next_customer_no(reader, rule, name="Acme Industrial Supply") == "ACMEIN2"
    assert next_customer_no(reader, rule, name="Brand-new Co.") == "BRANDNE"
    assert next_customer_no(reader, rule | {"name": "Zed Logistics"}) == "ZEDLOGI"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"mode": "sequence", "prefix": "SF", "width": 21}, "customer_no_rule.width"),
        ({"mode": "sequence", "prefix": "SFSF", "width": 4}, "customer_no_rule.width"),
        ({"mode": "random"}, "customer_no_rule.mode"),
        ({"mode": "sequence", "prefix": "SÉ"}, "customer_no_rule.prefix"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_option(reader, rule, field):
    with pytest.raises(ValidationFailed) as error:
        next_customer_no(reader, rule)

    assert error.value.field == field


def test_a_name_without_letters_cannot_make_a_number(reader):
    with pytest.raises(ValidationFailed, match="no letters A-Z or digits"):
        next_customer_no(reader, {"mode": "name"}, name="株式会社")
