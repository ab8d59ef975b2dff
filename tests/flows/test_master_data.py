"""Two-way master data end to end, over real HTTP: the Sage 100 simulator (ODBC
and its agent), the Xero simulator (its API and its webhooks, delivered to our
endpoint on a live server), the change feeds and the runner.

Every Xero request and answer is checked against Xero's OpenAPI contract by
the simulator; each test ends with no contract problem seen.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from integrations.models import (
    CrossReference,
    ErrorCategory,
    FlowConfig,
    MasterDataFieldRule,
    MasterDataLink,
    RecordStatus,
    SyncRecord,
    Trigger,
)
from integrations.services import polling
from integrations.services import records as record_actions
from tests.support.master_data import (
    XERO_SLUG,
    World,
    contact_events,
    drain,
    records,
    running_world,
    sage_calls,
)
from tests.support.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(live_server, tmp_path, redis_conn):
    url = f"{live_server.url}/api/v1/inbound/xero/{XERO_SLUG}/webhook"
    with running_world(tmp_path, webhook_url=url) as world:
        yield world
        assert world.xero.problems == []


def linked_customers(world: World) -> MasterDataLink:
    """The first look at AR_Customer: every customer becomes a Xero contact in
    one call, and the webhooks of those creations change nothing in Sage."""
    assert world.poll("AR_Customer").created == 3
    drain()
    assert world.xero_writes("/Contacts") == 1
    link = MasterDataLink.objects.get(kind="customer", sage_key="01-ABF")
    wait_until(lambda: contact_events(link.xero_id) >= 1, timeout=30)
    wait_until(
        lambda: SyncRecord.objects.filter(flow="xero_contacts_to_sage100").count() >= 3,
        timeout=30,
    )
    drain()
    for record in records("xero_contacts_to_sage100"):
        assert record.status == RecordStatus.SUCCEEDED
        assert record.target_ids["skipped"] == "our own write, ignored"
        assert sage_calls(record) == []
    return link


def test_a_new_sage_customer_becomes_a_xero_contact_with_its_number(world):
    link = linked_customers(world)

    contact = world.contact("01-ABF")
    row = world.sage_row(
        "AR_Customer", "ARDivisionNo = ? AND CustomerNo = ?", "01", "ABF"
    )
    assert contact["ContactID"] == link.xero_id
    assert contact["Name"] == row["CustomerName"] == "American Business Futures"
    assert link.sage_values["name"] == "American Business Futures"
    xref = CrossReference.objects.get(kind="customer", source_value="01-ABF")
    assert (xref.source_connection, xref.target_connection) == (
        world.sage_connection,
        world.xero_connection,
    )
    assert xref.target_value == link.xero_id


def test_a_sage_change_updates_xero_once_and_its_webhook_does_not_come_back(world):
    link = linked_customers(world)
    writes, events = world.xero_writes("/Contacts"), contact_events(link.xero_id)
    world.edit_in_sage(
        "AR_Customer",
        "ARDivisionNo = ? AND CustomerNo = ?",
        ("01", "ABF"),
        EmailAddress="billing@abf.example",
    )

    assert world.poll("AR_Customer").changed == 1
    drain()

    assert world.xero_writes("/Contacts") == writes + 1
    assert world.contact("01-ABF")["EmailAddress"] == "billing@abf.example"
    [*_, pushed] = records("sage100_customers_to_xero")
    assert pushed.target_ids["to_xero"] == ["email"]
    # Xero tells us about our own write; it ends there.
    wait_until(lambda: contact_events(link.xero_id) > events, timeout=30)
    drain()
    [*_, echo] = records("xero_contacts_to_sage100")
    assert echo.status == RecordStatus.SUCCEEDED
    assert echo.target_ids["skipped"] == "our own write, ignored"
    assert sage_calls(echo) == []
    assert world.poll("AR_Customer").emitted == 0  # nothing was written to Sage
    assert world.xero_writes("/Contacts") == writes + 1


def test_a_xero_change_reaches_sage_and_its_change_feed_event_does_not_come_back(
    world,
):
    link = linked_customers(world)
    writes = world.xero_writes("/Contacts")
    world.client.save_contacts(
        [
            {
                "ContactID": link.xero_id,
                "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "(312) 555-0199"}],
            }
        ],
        idempotency_key="person-edits-phone",
    )
    wait_until(
        lambda: SyncRecord.objects.filter(
            flow="xero_contacts_to_sage100", status=RecordStatus.PENDING
        ).exists(),
        timeout=30,
    )
    drain()

    row = world.sage_row(
        "AR_Customer", "ARDivisionNo = ? AND CustomerNo = ?", "01", "ABF"
    )
    assert row["TelephoneNo"] == "(312) 555-0199"
    [*_, pulled] = records("xero_contacts_to_sage100")
    assert pulled.target_ids["to_sage"] == ["phone"]
    # Sage's change feed now shows our write: recognised, nothing goes to Xero.
    assert world.poll("AR_Customer").changed == 1
    drain()
    [*_, echo] = records("sage100_customers_to_xero")
    assert echo.target_ids["skipped"] == "our own write, ignored"
    assert world.xero_writes("/Contacts") == writes + 1  # the person's edit only


def test_both_sides_changing_the_name_waits_with_both_values_until_settled(world):
    link = linked_customers(world)
    world.edit_in_sage(
        "AR_Customer",
        "ARDivisionNo = ? AND CustomerNo = ?",
        ("01", "ABF"),
        CustomerName="ABF Incorporated",
    )
    world.client.save_contacts(
        [{"ContactID": link.xero_id, "Name": "American Business Futures LLC"}],
        idempotency_key="person-renames",
    )
    writes = world.xero_writes("/Contacts")

    world.poll("AR_Customer")
    drain()

    [*_, record] = records("sage100_customers_to_xero")
    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.CONFLICT
    assert record.error_field == "name"
    assert 'Sage 100 has "ABF Incorporated"' in record.error_message
    assert 'Xero has "American Business Futures LLC"' in record.error_message
    assert 'both had "American Business Futures"' in record.error_message
    assert world.xero_writes("/Contacts") == writes  # no side was overwritten
    link.refresh_from_db()
    assert link.conflicts["name"]["sage"] == "ABF Incorporated"

    # The admin decides Xero keeps customer names; the record goes through.
    MasterDataFieldRule.objects.create(
        kind="customer",
        sage_connection=world.sage_connection,
        xero_connection=world.xero_connection,
        field="name",
        owner="xero",
    )
    record_actions.resubmit(record, actor=None)
    drain()

    record.refresh_from_db()
    assert record.status == RecordStatus.SUCCEEDED
    assert record.target_ids["to_sage"] == ["name"]
    row = world.sage_row(
        "AR_Customer", "ARDivisionNo = ? AND CustomerNo = ?", "01", "ABF"
    )
    assert row["CustomerName"] == "American Business Futures LLC"[:30].rstrip()
    link.refresh_from_db()
    assert link.conflicts == {}
    assert world.xero_writes("/Contacts") == writes


@pytest.fixture
def items(world):
    """The item flows, after the CI_Item feed's first (whole-table) look."""
    world.poll("CI_Item")
    world.configure("sage100_items_to_xero", "sage", "xero")
    return world.configure(
        "xero_items_to_sage100",
        "xero",
        "sage",
        trigger=Trigger.POLL,
        schedule="*/5 * * * *",
    )


def test_a_new_xero_item_becomes_a_sage_item_and_stays_put(world, items):
    world.client.save_items(
        [
            {
                "Code": "XR-WIDGET",
                "Name": "Blue widget",
                "SalesDetails": {"UnitPrice": 12.5},
                "PurchaseDetails": {"UnitPrice": 7.25},
            }
        ],
        idempotency_key="person-adds-item",
    )

    assert polling.poll(items.pk) >= 1
    drain()

    row = world.sage_row("CI_Item", "ItemCode = ?", "XR-WIDGET")
    assert row["ItemCodeDesc"] == "Blue widget"
    assert Decimal(str(row["StandardUnitPrice"])) == Decimal("12.5")
    assert Decimal(str(row["StandardUnitCost"])) == Decimal("7.25")
    record = SyncRecord.objects.get(
        flow="xero_items_to_sage100", payload__Code="XR-WIDGET"
    )
    assert record.target_ids["created"] == "sage100"
    # The Sage change our create made is recognised; Xero is not written. (The
    # demo organisation's other items matched Sage's and took Sage's prices.)
    item_writes = world.xero_writes("/Items")
    world.poll("CI_Item")
    drain()
    [echo] = [r for r in records("sage100_items_to_xero") if r.source_id == "XR-WIDGET"]
    assert echo.target_ids["skipped"] == "our own write, ignored"
    assert world.xero_writes("/Items") == item_writes
    # The next poll shows our own writes to Xero's items: recognised, no write.
    seen = len(records("xero_items_to_sage100"))
    polling.poll(items.pk)
    drain()
    for later in records("xero_items_to_sage100")[seen:]:
        assert later.target_ids["skipped"] == "our own write, ignored"
        assert sage_calls(later) == []
    # The watermark has moved past everything: a quiet poll makes no record.
    assert FlowConfig.objects.get(pk=items.pk).watermark
    assert polling.poll(items.pk) == 0
    assert world.xero_writes("/Items") == item_writes


def test_sage_price_changes_reach_xero_in_one_batch(world, items):
    codes = [
        row[0]
        for row in sqlite3.connect(world.sage.db.path).execute(
            "SELECT ItemCode FROM CI_Item ORDER BY ItemCode LIMIT 3"
        )
    ]
    for n, code in enumerate(codes, 1):
        world.edit_in_sage(
            "CI_Item", "ItemCode = ?", (code,), StandardUnitPrice=f"{n}9.95"
        )

    assert world.poll("CI_Item").changed == 3
    drain()

    assert world.xero_writes("/Items") == 1  # three new Xero items, one call
    by_code = {item["Code"]: item for item in world.client.get_items()}
    for n, code in enumerate(codes, 1):
        price = by_code[code]["SalesDetails"]["UnitPrice"]
        assert Decimal(str(price)) == Decimal(f"{n}9.95")
