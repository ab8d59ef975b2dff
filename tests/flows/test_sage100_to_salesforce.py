"""Sage 100 status and stock changes reach Salesforce in sObject Collections batches."""

import json
import sqlite3

import pytest

from integrations.connectors.salesforce import client as salesforce_client
from integrations.engine import runner
from integrations.models import CrossReference, RecordStatus, SyncRecord, System
from integrations.services import inbox
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.sage100 import running_sage100
from tests.support.salesforce import running_salesforce

pytestmark = pytest.mark.django_db


@pytest.fixture
def salesforce(tmp_path):
    salesforce_client.forget_tokens()
    with running_salesforce(tmp_path / "salesforce") as org:
        yield org


@pytest.fixture
def company(tmp_path):
    with running_sage100(tmp_path / "sage100") as company:
        yield company


@pytest.fixture
def connections(salesforce, company):
    settings, credentials = salesforce.connection()
    sage = ConnectionFactory(
        system=System.SAGE100,
        settings=company.connection_settings(),
        credentials=company.credentials,
    )
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


def _stock(company) -> list[tuple]:
    with sqlite3.connect(company.db.path) as db:
        return db.execute(
            "SELECT ItemCode, WarehouseCode, QuantityOnHand, QuantityOnSalesOrder, "
            "QuantityOnBackOrder FROM IM_ItemWarehouse ORDER BY ItemCode, WarehouseCode"
        ).fetchall()


def test_inventory_changes_are_upserted_two_hundred_per_call(
    connections, company, salesforce, redis_conn
):
    sage, target = connections
    FlowConfigFactory(
        flow="sage100_inventory_to_salesforce",
        source_connection=sage,
        target_connection=target,
    )
    stock = _stock(company)
    made = []
    for n in range(450):  # every row changes, some several times
        item, warehouse, *_ = stock[n % len(stock)]
        body = _inventory(item, warehouse, n)
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
    assert len(rows) == len(stock)
    # Sage's quantities as they are now, not the events' copies.
    item, warehouse, on_hand, on_order, back_order = stock[0]
    written = rows[f"{item}|{warehouse}"]
    assert written["Quantity_On_Hand__c"] == float(on_hand)
    assert written["Quantity_Available__c"] == float(on_hand - on_order - back_order)


def test_a_late_retry_of_an_old_change_writes_the_current_quantity(
    connections, company, salesforce, redis_conn
):
    sage, target = connections
    FlowConfigFactory(
        flow="sage100_inventory_to_salesforce",
        source_connection=sage,
        target_connection=target,
    )
    item, warehouse, on_hand, *_ = _stock(company)[0]
    (old,) = _publish(sage, "sage100.inventory", _inventory(item, warehouse, 1), "a")

    runner.run_record(old.pk)

    written = salesforce.org.rows("Inventory_Level__c", include_deleted=False)
    assert [row["Quantity_On_Hand__c"] for row in written] == [float(on_hand)]


def test_sage_order_status_goes_back_to_the_opportunity(
    connections, company, salesforce, redis_conn
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
    with sqlite3.connect(company.db.path) as db:
        db.execute("UPDATE SO_SalesOrderHeader SET OrderStatus = 'H'")
        (number,) = db.execute(
            "SELECT SalesOrderNo FROM SO_SalesOrderHeader LIMIT 1"
        ).fetchone()
    body = {
        "table": "SO_SalesOrderHeader",
        "topic": "sage100.sales_order",
        "key": {"SalesOrderNo": number},
        "change": "changed",
        "row": {
            "SalesOrderNo": number,
            "OrderStatus": "O",  # the event's copy is older than Sage
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
        number,
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


def test_an_order_sage_no_longer_has_open_is_completed_in_salesforce(
    connections, salesforce, redis_conn
):
    sage, target = connections
    FlowConfigFactory(
        flow="sage100_order_status_to_salesforce",
        source_connection=sage,
        target_connection=target,
    )
    opportunity = salesforce.access.ids["opportunity:beacon"]
    body = {
        "table": "SO_SalesOrderHeader",
        "key": {"SalesOrderNo": "0999999"},
        "change": "removed",
        "history": {"SalesOrderNo": "0999999", "UDF_SF_OPPORTUNITY_ID": opportunity},
    }
    (record,) = _publish(sage, "sage100.sales_order", body, "so-gone")

    runner.run_record(record.pk)

    written = salesforce.org.get("Opportunity", opportunity)
    assert written["Sage_Order_Status__c"] == "Completed"


def test_stock_records_can_name_their_product_by_its_sage_item_code(
    connections, company, salesforce, redis_conn
):
    sage, target = connections
    FlowConfigFactory(
        flow="sage100_inventory_to_salesforce",
        source_connection=sage,
        target_connection=target,
        options={"product_external_id_field": "Sage_Item_Code__c"},
    )
    body = _inventory("1001-HON-H252", "000", 1)
    (record,) = _publish(sage, "sage100.inventory", body, "p1")

    runner.run_record(record.pk)
    record.refresh_from_db()

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (row,) = salesforce.org.rows("Inventory_Level__c", include_deleted=False)
    assert row["Product__c"] == salesforce.access.ids["product:1001-HON-H252"]
