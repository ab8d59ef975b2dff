"""A Salesforce Connection row builds this connector and passes "Test connection"."""

import pytest

from integrations.connectors.salesforce.client import SalesforceClient
from integrations.engine import clients
from integrations.models import System
from integrations.services import connection_checks
from tests.factories import ConnectionFactory


@pytest.mark.django_db
def test_a_salesforce_connection_builds_the_salesforce_client(salesforce):
    settings, credentials = salesforce.connection("password")
    connection = ConnectionFactory(
        system=System.SALESFORCE, settings=settings, credentials=credentials
    )

    assert isinstance(clients.build(connection), SalesforceClient)


@pytest.mark.django_db
def test_test_connection_reports_the_org(salesforce):
    settings, credentials = salesforce.connection("jwt")
    connection = ConnectionFactory(
        system=System.SALESFORCE, settings=settings, credentials=credentials
    )

    result = connection_checks.check(connection)

    assert result.ok is True
    assert salesforce.org.org_id in result.message
    connection.refresh_from_db()
    assert connection.last_check_ok is True


@pytest.mark.django_db
def test_test_connection_names_a_bad_setting(salesforce):
    settings, credentials = salesforce.connection("password")
    connection = ConnectionFactory(
        system=System.SALESFORCE,
        settings={**settings, "login_url": "http://insecure.example"},
        credentials=credentials,
    )

    result = connection_checks.check(connection)

    assert result.ok is False
    assert result.details["field"] == "settings.login_url"
