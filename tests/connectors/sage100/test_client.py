"""The client a flow or the API gets for a Sage 100 Connection."""

import pytest

from integrations.connectors.sage100.client import Sage100Client
from integrations.engine import clients
from integrations.engine.errors import RateLimited, Unavailable, ValidationFailed
from integrations.engine.throttle import Budget, Throttle
from integrations.models import System
from tests.connectors.sage100.conftest import sage_settings
from tests.factories import ConnectionFactory


def test_ping_says_which_company_answered_and_that_there_is_no_agent(company):
    calls = []
    client = Sage100Client(sage_settings(company), log=lambda *c: calls.append(c))

    answer = client.ping()

    assert answer["odbc"] == {
        "company": "ABC",
        "name": "ABC Distribution and Service Corp.",
    }
    assert answer["summary"] == (
        "ODBC reached company ABC (ABC Distribution and Service Corp.); "
        "no agent is configured (read only)."
    )
    assert "agent" not in answer
    assert calls[0][:3] == ("sage100", "SELECT", "odbc:SY_Company")


def test_ping_with_the_server_down_is_unavailable(company):
    client = Sage100Client(sage_settings(company))
    company.path.unlink()

    with pytest.raises(Unavailable):
        client.ping()


def test_without_an_agent_url_writing_is_a_setup_error_naming_the_setting(company):
    client = Sage100Client(sage_settings(company))

    assert client.has_agent is False
    with pytest.raises(ValidationFailed) as caught:
        client.agent  # noqa: B018
    assert caught.value.field == "settings.agent_url"


def test_every_odbc_call_spends_the_connections_budget(company, redis_conn):
    throttle = Throttle(redis_conn, "sage-test", Budget(per_minute=2))
    client = Sage100Client(sage_settings(company), throttle=throttle)

    client.reader.customer("01", "ABF")
    client.reader.item("2480-8-50")
    with pytest.raises(RateLimited):
        client.reader.customer("01", "ABF")


def test_a_udf_lookup_counts_once_though_it_checks_the_columns(company, redis_conn):
    throttle = Throttle(redis_conn, "sage-udf", Budget(per_minute=1))
    client = Sage100Client(sage_settings(company), throttle=throttle)

    assert client.reader.customer_by_udf("SF_ACCOUNT_ID", "001A")["CustomerNo"] == (
        "ABF"
    )
    with pytest.raises(RateLimited):
        client.reader.customer_by_udf("SF_ACCOUNT_ID", "001A")


@pytest.mark.django_db
def test_a_sage100_connection_builds_a_sage100_client(company, redis_conn):
    connection = ConnectionFactory(
        system=System.SAGE100,
        settings={"company": "abc", "odbc": company.odbc_settings()},
        credentials={"odbc_password": "secret"},
    )

    client = clients.build(connection)

    assert isinstance(client, Sage100Client)
    assert client.conf.company == "ABC"
    assert client.reader.credit_position("01", "ABF").on_hold is False


@pytest.mark.django_db
def test_a_sage100_connection_without_settings_names_the_missing_one(redis_conn):
    connection = ConnectionFactory(system=System.SAGE100, settings={})

    with pytest.raises(ValidationFailed) as caught:
        clients.build(connection)
    assert caught.value.field == "settings.company"


def test_the_agent_client_is_built_once_and_only_when_asked(company):
    pytest.importorskip("integrations.connectors.sage100.agent_client")
    conf = sage_settings(
        company,
        {"agent_secret": "shh"},
        agent_url="https://127.0.0.1:9/",
        agent_key_id="site-1",
    )
    client = Sage100Client(conf)

    assert client._agent is None  # no agent until a write needs one
    agent = client.agent
    assert agent is client.agent
    assert (agent.base_url, agent.key_id) == ("https://127.0.0.1:9", "site-1")
