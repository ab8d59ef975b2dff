"""What the stamps cannot show: bulk changes, removed rows, and inventory.

Reconciliation (a whole-table comparison by row hash) finds them; every change
is published once, to every flow subscribed to its topic.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.models import ChangeFeedRow, InboundEvent, SyncRecord
from integrations.services import changefeeds
from tests.factories import FlowConfigFactory
from tests.support.changefeeds import (
    bodies,
    bulk_update,
    customer,
    delete,
    feed_for,
    later,
    poll,
    sage_time,
    write,
)

pytestmark = pytest.mark.django_db


def order(db_, number: str, at, **values) -> None:
    write(
        db_,
        "SO_SalesOrderHeader",
        at,
        SalesOrderNo=number,
        OrderDate="2026-03-01",
        OrderType="S",
        OrderStatus="O",
        ARDivisionNo="01",
        CustomerNo="ABF",
        **values,
    )


def history(db_, number: str, status: str, at) -> None:
    write(
        db_,
        "SO_SalesOrderHistoryHeader",
        at,
        SalesOrderNo=number,
        OrderDate="2026-03-01",
        OrderType="S",
        OrderStatus=status,
        ARDivisionNo="01",
        CustomerNo="ABF",
        LastInvoiceNo="0000100" if status == "C" else None,
    )


# -- what stamps cannot show ---------------------------------------------------


def test_a_bulk_change_without_stamps_is_caught_by_reconciliation(company, feed):
    customer(company, "NEWER", sage_time(30))
    poll(feed, later(40))  # the watermark leaves BASE's stamp behind
    bulk_update(company, "AR_Customer", "CustomerNo = 'BASE'", CreditLimit="2500")

    assert poll(feed, later(60)).emitted == 0  # the stamps did not move
    result = poll(feed, later(3600))

    assert (result.reconciled, result.changed) == (True, 1)
    body = bodies()[-1]
    assert (body["change"], body["detected_by"]) == ("changed", "reconcile")
    assert Decimal(body["row"]["CreditLimit"]) == Decimal("2500")
    assert poll(feed, later(3660)).emitted == 0


def test_resync_compares_the_whole_table_at_the_next_poll(company, feed):
    bulk_update(company, "AR_Customer", "CustomerNo = 'BASE'", CustomerName="Bulk")
    changefeeds.resync(feed.pk)
    feed.refresh_from_db()
    assert feed.resync_requested
    assert feed.next_poll_at is not None

    result = poll(feed, later(60))

    assert (result.reconciled, result.changed) == (True, 1)
    feed.refresh_from_db()
    assert not feed.resync_requested


def test_a_row_put_back_by_a_bulk_change_is_published_again(company, feed):
    bulk_update(company, "AR_Customer", "CustomerNo = 'BASE'", CustomerName="Bulk")
    changefeeds.resync(feed.pk)
    poll(feed, later(60))
    # Put back exactly as it was first published, stamps and all.
    bulk_update(
        company, "AR_Customer", "CustomerNo = 'BASE'", CustomerName="Customer BASE"
    )
    changefeeds.resync(feed.pk)
    poll(feed, later(120))

    names = [body["row"]["CustomerName"] for body in bodies()]
    assert names == ["Customer BASE", "Bulk", "Customer BASE"]


def test_a_value_flipping_back_and_forth_is_published_every_time(company, feed):
    """Promotions applied and removed by a bulk tool, stamps untouched."""
    for step, name in enumerate(["Promo", "Customer BASE", "Promo"], start=1):
        bulk_update(company, "AR_Customer", "CustomerNo = 'BASE'", CustomerName=name)
        changefeeds.resync(feed.pk)
        assert poll(feed, later(60 * step)).emitted == 1

    names = [body["row"]["CustomerName"] for body in bodies()]
    assert names == ["Customer BASE", "Promo", "Customer BASE", "Promo"]


def test_a_new_udf_column_does_not_republish_the_table(company, feed):
    company.add_udf("AR_Customer", "SF_ACCOUNT_ID", length=18)

    assert poll(feed, later(3600)).emitted == 0  # a reconciliation
    bulk_update(company, "AR_Customer", "CustomerNo = 'BASE'", UDF_SF_ACCOUNT_ID="001A")
    changefeeds.resync(feed.pk)
    assert poll(feed, later(3660)).changed == 1
    assert bodies()[-1]["row"]["UDF_SF_ACCOUNT_ID"] == "001A"


def test_a_closed_order_is_published_as_removed_with_its_history_row(
    company,
    sage,
):
    order(company, "0000001", sage_time(-600))
    order(company, "0000002", sage_time(-600))
    feed = feed_for(sage, "SO_SalesOrderHeader")
    poll(feed)
    # Invoiced and closed: the order leaves the open-order file; its history
    # row is stamped as it does.
    delete(company, "SO_SalesOrderHeader", "SalesOrderNo = '0000001'")
    history(company, "0000001", "C", sage_time(30))
    history(company, "0000002", "A", sage_time(30))  # still open: not removed

    result = poll(feed, later(60))

    assert (result.reconciled, result.removed) == (False, 1)
    body = bodies()[-1]
    assert body["change"] == "removed"
    assert body["key"] == {"SalesOrderNo": "0000001"}
    assert body["row"] is None
    assert body["history"]["OrderStatus"] == "C"
    assert body["history"]["LastInvoiceNo"] == "0000100"
    assert poll(feed, later(3600)).emitted == 0  # the reconciliation agrees


def test_a_deleted_order_without_history_is_found_by_reconciliation(
    company,
    sage,
):
    order(company, "0000001", sage_time(-600))
    feed = feed_for(sage, "SO_SalesOrderHeader")
    poll(feed)
    delete(company, "SO_SalesOrderHeader", "SalesOrderNo = '0000001'")

    assert poll(feed, later(60)).emitted == 0
    result = poll(feed, later(3600))

    assert result.removed == 1
    body = bodies()[-1]
    assert (body["change"], body["detected_by"], body["history"]) == (
        "removed",
        "reconcile",
        None,
    )
    assert not ChangeFeedRow.objects.filter(feed=feed).exists()


# -- publish / subscribe -------------------------------------------------------


def test_an_inventory_change_is_published_once_to_every_subscribed_flow(
    company,
    sage,
):
    for warehouse in ("000", "001"):
        write(
            company,
            "IM_ItemWarehouse",
            sage_time(-600),
            ItemCode="1001-HON-H252",
            WarehouseCode=warehouse,
            QuantityOnHand="10",
        )
    shop = FlowConfigFactory(flow="test_inventory_subscriber", source_connection=sage)
    crm = FlowConfigFactory(flow="test_inventory_subscriber", source_connection=sage)
    customers = FlowConfigFactory(
        flow="test_customer_subscriber", source_connection=sage
    )
    feed = feed_for(sage, "IM_ItemWarehouse")
    assert feed.mode == "hash"
    poll(feed)

    # A shipment moves the quantity; the row's stamps stay as they were.
    bulk_update(
        company,
        "IM_ItemWarehouse",
        "ItemCode = '1001-HON-H252' AND WarehouseCode = '000'",
        QuantityOnHand="7",
    )
    result = poll(feed, later(60))

    assert result.changed == 1
    event = InboundEvent.objects.latest("pk")
    assert event.topic == "sage100.inventory"
    body = bodies()[-1]
    assert (body["detected_by"], Decimal(body["row"]["QuantityOnHand"])) == ("hash", 7)
    taken_by = set(
        SyncRecord.objects.filter(event=event).values_list("flow_config", flat=True)
    )
    assert taken_by == {shop.pk, crm.pk}
    assert not SyncRecord.objects.filter(flow_config=customers).exists()
    assert poll(feed, later(120)).emitted == 0


def test_an_event_nobody_subscribes_to_is_kept_and_explained(company, sage):
    FlowConfigFactory(flow="test_inventory_subscriber", source_connection=sage)
    customer(company, "ABF", sage_time(-60))
    poll(feed_for(sage, "AR_Customer"))

    event = InboundEvent.objects.get()
    assert not event.records.exists()
    assert "No flow subscribes to sage100.customer" in event.error
