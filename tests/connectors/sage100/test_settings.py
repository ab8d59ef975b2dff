import pytest

from integrations.connectors.sage100.settings import (
    Sage100Settings,
    parse_formula,
    udf_name,
)
from integrations.engine.errors import ValidationFailed

ODBC = {"Driver": "SQLite3", "Database": "file:/tmp/x.db?mode=ro"}


def _settings(**overrides) -> dict:
    return {"company": "abc", "odbc": dict(ODBC), **overrides}


def test_defaults_fill_in_what_a_site_leaves_out():
    conf = Sage100Settings.from_connection(_settings(), {"odbc_password": "pw"})

    assert conf.company == "ABC"
    assert conf.odbc["Company"] == "ABC"  # ProvideX needs it; taken from company
    assert conf.odbc_password == "pw"
    assert conf.default_division == "00"
    assert conf.available_formula == (
        (1, "on_hand"),
        (-1, "on_sales_order"),
        (-1, "on_back_order"),
    )
    assert conf.agent_url == ""


@pytest.mark.parametrize(
    ("given", "credentials", "field"),
    [
        ({"odbc": ODBC}, {}, "settings.company"),
        ({"company": "ABC"}, {}, "settings.odbc"),
        (_settings(odbc={"PWD": "x"}), {}, "settings.odbc.PWD"),
        (_settings(odbc={"Bad;Key": "x"}), {}, "settings.odbc.Bad;Key"),
        (_settings(agent_url="https://agent:8443"), {}, "settings.agent_key_id"),
        (
            _settings(agent_url="https://agent:8443", agent_key_id="k1"),
            {},
            "credentials.agent_secret",
        ),
        (_settings(agent_url="ftp://agent"), {}, "settings.agent_url"),
        (_settings(odbc_timeout="soon"), {}, "settings.odbc_timeout"),
        (_settings(default_division="A"), {}, "settings.default_division"),
        (_settings(customer_id_udf="bad name!"), {}, "settings.customer_id_udf"),
        (_settings(available_formula="on_hand * 2"), {}, "settings.available_formula"),
    ],
)
def test_a_missing_or_malformed_setting_is_named(given, credentials, field):
    with pytest.raises(ValidationFailed) as caught:
        Sage100Settings.from_connection(given, credentials)
    assert caught.value.field == field


def test_the_password_comes_only_from_the_credentials():
    conf = Sage100Settings.from_connection(_settings(), {"odbc_password": "pw-42"})
    assert "PWD" not in conf.odbc
    assert "pw-42" not in repr(conf)


def test_an_agent_needs_its_key_id_and_secret():
    conf = Sage100Settings.from_connection(
        _settings(agent_url="https://agent:8443/", agent_key_id="k1"),
        {"agent_secret": "shh"},
    )
    assert conf.agent_url == "https://agent:8443"
    assert "shh" not in repr(conf)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("on_hand", ((1, "on_hand"),)),
        (
            "on_hand+on_purchase_order - on_sales_order",
            ((1, "on_hand"), (1, "on_purchase_order"), (-1, "on_sales_order")),
        ),
        ("-on_back_order + on_hand", ((-1, "on_back_order"), (1, "on_hand"))),
    ],
)
def test_the_available_formula_reads_plus_and_minus_over_quantity_names(text, terms):
    assert parse_formula(text) == terms


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("on_hand - __import__", "Unknown quantity"),
        ("on_hand - (on_sales_order)", "Cannot read"),
        ("on_hand - price", "Unknown quantity 'price'"),
        ("on_hand on_sales_order", "needs [+] or -"),
        ("on_hand -", "incomplete"),
        ("on_hand - - on_back_order", "needs [+] or -"),
        ("", "incomplete"),
    ],
)
def test_anything_else_in_the_formula_is_refused_not_evaluated(text, says):
    with pytest.raises(ValidationFailed, match=says) as caught:
        parse_formula(text)
    assert caught.value.field == "settings.available_formula"


def test_a_udf_name_gets_the_custom_office_prefix():
    assert udf_name("sf_account_id") == "UDF_SF_ACCOUNT_ID"
    assert udf_name("UDF_SF_ACCOUNT_ID") == "UDF_SF_ACCOUNT_ID"
