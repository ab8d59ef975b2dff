"""Sage 100 status and stock changes reach Salesforce in sObject Collections batches."""

import json

import pytest

from integrations.connectors.salesforce import client as salesforce_client
from integrations.engine import runner
from integrations.models import CrossReference, RecordStatus, SyncRecord, System
from integrations.services import inbox
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.salesforce import running_salesforce

pytestmark = pytest.mark.django_db


@pytest.fixture
def salesforce(tmp_path):
    salesforce_client.forget_tokens()
    with running_salesforce(tmp_path / "salesforce") as org:
        yield org


@pytest.fixture
def connections(salesforce):
    settings, credentials = salesforce.connection()
    sage = ConnectionFactory(system=System.SAGE100, settings={}, credentials={})
    target = ConnectionFactory(
        system=System.SALESFORCE, settings=settings, credentials=credentials
    )
    return sage, target


def _publish(sage, topic: str, body: dict, event_id: str):
    return inbox.accept(
        sage,
        body=json.dumps(body).encode(),
        headers={},
        provider_event_id=event_id,
        topic=topic,
        signature_verified=True,
    ).records


def _inventory(item: str, warehouse: str, on_hand: int, on_order: int = 0) -> dict:
    return {
        "table": "IM_ItemWarehouse",
        "topic": "sage100.inventory",
        "key": {"ItemCode": item, "WarehouseCode": warehouse},
        "change": "changed",
        "row": {
            "ItemCode": item,
            "WarehouseCode": warehouse,
            "QuantityOnHand": on_hand,
            "QuantityOnSalesOrder": on_order,
            "QuantityOnBackOrder": 0,
        },
    }


def _api_calls(salesforce, method: str, path_part: str) -> int:
    return sum(
        count
        for (verb, path), count in salesforce.org.api_calls.items()
        if verb == method and path_part in path
    )


def test_inventory_changes_are_upserted_two_hundred_per_call(
    connections, salesforce, redis_conn
):
    sage, target = connections
    FlowConfigFactory(
        flow="sage100_inventory_to_salesforce",
        source_connection=sage,
        target_connection=target,
    )
    made = []
    for n in range(450):
        body = _inventory(f"ITEM-{n % 300:03d}", "000", n, on_order=1)
        made.extend(_publish(sage, "sage100.inventory", body, f"inv-{n}"))
    assert len(made) == 450

    for record in made:
        runner.run_record(record.pk)

    assert SyncRecord.objects.filter(status=RecordStatus.SUCCEEDED).count() == 450
    assert _api_calls(salesforce, "PATCH", "composite/sobjects") == 3
    rows = {
        row["ExternalID__c"]: row
        for row in salesforce.org.rows("Inventory_Level__c", include_deleted=False)
    }
    assert len(rows) == 300
    # ITEM-000 changed at n=0 and n=300: the newer change is what Salesforce keeps.
    assert rows["ITEM-000|000"]["Quantity_On_Hand__c"] == 300
    assert rows["ITEM-000|000"]["Quantity_Available__c"] == 299


def test_sage_order_status_goes_back_to_the_opportunity(
    connections, salesforce, redis_conn
):
    sage, target = connections
    config = FlowConfigFactory(
        flow="sage100_order_status_to_salesforce",
        source_connection=sage,
        target_connection=target,
    )
    CrossReference.objects.create(
        kind="status",
        source_connection=sage,
        target_connection=target,
        source_value="H",
        target_value="Hold",
    )
    opportunity = salesforce.access.ids["opportunity:abf"]
    body = {
        "table": "SO_SalesOrderHeader",
        "topic": "sage100.sales_order",
        "key": {"SalesOrderNo": "0000123"},
        "change": "changed",
        "row": {
            "SalesOrderNo": "0000123",
            "OrderStatus": "H",
            "UDF_SF_OPPORTUNITY_ID": opportunity,
        },
    }
    (record,) = _publish(sage, "sage100.sales_order", body, "so-1")
    assert record.flow_config == config

    runner.run_record(record.pk)
    record.refresh_from_db()

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    written = salesforce.org.get("Opportunity", opportunity)
    assert (written["Sage_Order_No__c"], written["Sage_Order_Status__c"]) == (
        "0000123",
        "Hold",
    )


def test_orders_that_did_not_come_from_salesforce_make_no_record(connections):
    sage, target = connections
    FlowConfigFactory(
        flow="sage100_order_status_to_salesforce",
        source_connection=sage,
        target_connection=target,
    )
    body = {
        "table": "SO_SalesOrderHeader",
        "key": {"SalesOrderNo": "0000124"},
        "change": "changed",
        "row": {"SalesOrderNo": "0000124", "OrderStatus": "O"},
    }

    assert _publish(sage, "sage100.sales_order", body, "so-2") == []
