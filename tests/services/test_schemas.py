"""Field pickers: what each connected system offers, read from the system itself."""

from __future__ import annotations

import pytest

from integrations.connectors.salesforce import client as salesforce_client
from integrations.models import System
from integrations.services import schemas
from tests.factories import ConnectionFactory, FlowConfigFactory, SyncRecordFactory
from tests.support.sage100 import running_sage100
from tests.support.salesforce import running_salesforce

pytestmark = pytest.mark.django_db


@pytest.fixture
def salesforce(tmp_path):
    salesforce_client.forget_tokens()
    with running_salesforce(tmp_path / "salesforce") as org:
        settings, credentials = org.connection()
        org.connection_row = ConnectionFactory(
            name="Acme Salesforce",
            system=System.SALESFORCE,
            settings=settings | {"describe_ttl": 600},
            credentials=credentials,
        )
        yield org


@pytest.fixture
def sage(tmp_path):
    with running_sage100(tmp_path / "sage100") as company:
        company.db.add_udf("SO_SalesOrderHeader", "UDF_PRIORITY", length=1)
        company.connection_row = ConnectionFactory(
            name="ABC Sage 100",
            system=System.SAGE100,
            settings=company.connection_settings(),
            credentials=company.credentials,
        )
        yield company


def names(fields) -> list[str]:
    return [field.name for field in fields]


def test_salesforce_fields_come_from_describe_with_custom_fields_and_picklists(
    salesforce,
):
    fields = {f.name: f for f in schemas.salesforce_fields(
        salesforce.connection_row, "Opportunity"
    )}  # fmt: skip

    assert "Customer_PO__c" in fields
    assert "custom field" in fields["Customer_PO__c"].note
    assert "Closed Won" in fields["StageName"].note
    assert fields["StageName"].label == "Stage"


def test_salesforce_describe_is_read_once_then_from_the_connectors_cache(
    salesforce,
):
    schemas.salesforce_fields(salesforce.connection_row, "Account")
    used = salesforce.org.budget.used

    again = schemas.salesforce_fields(salesforce.connection_row, "Account")

    assert "Name" in names(again)
    assert salesforce.org.budget.used == used


def test_sage_columns_are_the_standard_ones_plus_the_companys_udfs(sage):
    fields = {f.name: f for f in schemas.sage100_fields(
        sage.connection_row, "SO_SalesOrderHeader"
    )}  # fmt: skip

    assert fields["CustomerPONo"].type == "string(15)"
    assert fields["UDF_PRIORITY"].note == "UDF"


def test_a_udf_added_in_sage_shows_up_without_a_restart(sage):
    before = names(schemas.sage100_fields(sage.connection_row, "AR_Customer"))
    sage.db.add_udf("AR_Customer", "UDF_REGION", length=10)

    after = names(schemas.sage100_fields(sage.connection_row, "AR_Customer"))

    assert "UDF_REGION" not in before
    assert "UDF_REGION" in after
    assert "CustomerName" in after


def test_xero_fields_come_from_xeros_published_spec():
    invoice = {f.name: f for f in schemas.xero_fields("Invoice")}
    line = names(schemas.xero_fields("LineItem"))

    assert invoice["Type"].note.startswith("values: ACCPAY")
    assert invoice["LineItems"].type == "list of LineItem"
    assert invoice["Contact"].type == "object Contact"
    assert {"ItemCode", "Quantity", "UnitAmount"} <= set(line)


def test_xero_object_not_in_the_spec_is_named():
    with pytest.raises(LookupError, match="Spaceship"):
        schemas.xero_fields("Spaceship")


def test_generic_fields_are_the_keys_recent_records_carry():
    config = FlowConfigFactory(flow="generic_webhook_to_http")
    SyncRecordFactory(
        flow_config=config,
        payload={"id": "W-1", "customer": {"email": ""}, "lines": [{"sku": "A"}]},
    )
    SyncRecordFactory(flow_config=config, payload={"customer": {"email": "a@b.c"}})

    fields = {f.name: f for f in schemas.payload_fields(config)}

    assert set(fields) == {"id", "customer.email", "lines.0.sku"}
    assert fields["customer.email"].note == "e.g. a@b.c"


def test_salesforce_order_flow_pickers_are_scoped_header_lines_customer(
    salesforce, sage
):
    config = FlowConfigFactory(
        flow="salesforce_opportunity_to_sage100",
        source_connection=salesforce.connection_row,
        target_connection=sage.connection_row,
    )

    found = schemas.pickers(config)

    by_prefix = {scope["prefix"]: scope for scope in found["scopes"]}
    assert set(by_prefix) == {"header", "lines", "customer"}
    header_sources = {f["name"] for f in by_prefix["header"]["source"]}
    header_targets = {f["name"] for f in by_prefix["header"]["target"]}
    assert "Customer_PO__c" in header_sources
    assert {"header.UDF_PRIORITY", "header.CustomerPONo"} <= header_targets
    assert "Quantity" in {f["name"] for f in by_prefix["lines"]["source"]}
    assert "customer.CustomerName" in {
        f["name"] for f in by_prefix["customer"]["target"]
    }
    assert found["problems"] == []


def test_a_system_that_cannot_be_reached_is_named_and_the_rest_still_listed(sage):
    unreachable = ConnectionFactory(
        name="Old Salesforce",
        system=System.SALESFORCE,
        settings={
            "login_url": "https://127.0.0.1:9",
            "client_id": "x",
            "username": "u",
            "timeout": 2,
        },
        credentials={"client_secret": "s", "password": "p"},
    )
    config = FlowConfigFactory(
        flow="salesforce_order_to_sage100",
        source_connection=unreachable,
        target_connection=sage.connection_row,
    )

    found = schemas.pickers(config)

    assert any("Old Salesforce" in problem for problem in found["problems"])
    header = next(s for s in found["scopes"] if s["prefix"] == "header")
    assert header["source"] == []
    assert "header.OrderDate" in {f["name"] for f in header["target"]}
