"""Two-way master data and Xero's unique contact names, and what a first sync
costs: the Sage 100 and Xero simulators over real HTTP, webhooks to a live
server, the change feeds and the runner.

Sage 100 keeps two customers (or vendors) of one name without complaint;
Xero refuses a contact whose name an active contact has. The second becomes
``Name (<Sage number>)`` (option ``name_clash``: ``suffix``, the default) or
waits under Needs attention (``attention``); the suffix never travels back.
"""

from __future__ import annotations

import math
import sqlite3

import django_rq
import pytest
from django.utils import timezone

from integrations.engine import runner
from integrations.models import (
    CrossReference,
    ErrorCategory,
    MasterDataLink,
    RecordStatus,
    SyncRecord,
)
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

NAME = "American Business Futures"
SAGE_TO_XERO = (
    ("sage100_customers_to_xero", "sage", "xero"),
    ("sage100_vendors_to_xero", "sage", "xero"),
)


def second_customer(world: World) -> tuple[str, str]:
    """(division, number) of the seeded customer after 01-ABF."""
    row = world.sage_row(
        "AR_Customer",
        "NOT (ARDivisionNo = ? AND CustomerNo = ?) ORDER BY ARDivisionNo, CustomerNo",
        "01",
        "ABF",
    )
    return row["ARDivisionNo"], row["CustomerNo"]


def rename(world: World, division: str, number: str, name: str) -> None:
    world.edit_in_sage(
        "AR_Customer",
        "ARDivisionNo = ? AND CustomerNo = ?",
        (division, number),
        CustomerName=name,
    )


@pytest.fixture
def webhooks(live_server):
    return f"{live_server.url}/api/v1/inbound/xero/{XERO_SLUG}/webhook"


def test_a_second_customer_of_one_name_is_suffixed_and_the_suffix_never_comes_back(
    tmp_path, redis_conn, webhooks
):
    with running_world(tmp_path, webhook_url=webhooks) as world:
        division, number = second_customer(world)
        key = f"{division}-{number}"
        rename(world, division, number, NAME)

        assert world.poll("AR_Customer").created == 3
        drain()

        assert world.xero_writes("/Contacts") == 1
        assert world.contact("01-ABF")["Name"] == NAME
        suffixed = world.contact(key)
        assert suffixed["Name"] == f"{NAME} ({key})"
        pushed = SyncRecord.objects.get(flow="sage100_customers_to_xero", source_id=key)
        assert pushed.status == RecordStatus.SUCCEEDED
        assert f'named "{NAME} ({key})"' in pushed.target_ids["notes"]
        link = MasterDataLink.objects.get(kind="customer", sage_key=key)
        assert link.xero_values["name"] == link.sage_values["name"] == NAME

        # Xero's webhooks of both creations are our own writes: nothing to Sage.
        wait_until(lambda: contact_events(link.xero_id) >= 1, timeout=30)
        wait_until(lambda: len(records("xero_contacts_to_sage100")) >= 3, timeout=30)
        drain()
        for echo in records("xero_contacts_to_sage100"):
            assert echo.target_ids["skipped"] == "our own write, ignored"
            assert sage_calls(echo) == []

        # A person changes the suffixed contact's e-mail in Xero: the e-mail
        # reaches Sage, the name stays Sage's.
        world.client.save_contacts(
            [{"ContactID": link.xero_id, "EmailAddress": "east@abf.example"}],
            idempotency_key="person-edit-1",
        )
        events = contact_events(link.xero_id)
        wait_until(lambda: contact_events(link.xero_id) > events, timeout=30)
        drain()
        [*_, pulled] = records("xero_contacts_to_sage100")
        assert pulled.target_ids["to_sage"] == ["email"]
        row = world.sage_row(
            "AR_Customer", "ARDivisionNo = ? AND CustomerNo = ?", division, number
        )
        assert (row["CustomerName"], row["EmailAddress"]) == (NAME, "east@abf.example")

        # The Sage clerk changes its phone: Xero gets it, the suffix stays.
        world.edit_in_sage(
            "AR_Customer",
            "ARDivisionNo = ? AND CustomerNo = ?",
            (division, number),
            TelephoneNo="(415) 555-0199",
        )
        world.poll("AR_Customer")
        drain()
        contact = world.contact(key)
        assert contact["Name"] == f"{NAME} ({key})"
        assert "555-0199" in str(contact["Phones"])
        [*_, last] = records("sage100_customers_to_xero")
        assert last.target_ids["to_xero"] == ["phone"]
        assert world.xero.problems == []


def test_under_name_clash_attention_the_second_waits_naming_the_other_contact(
    tmp_path, redis_conn
):
    with running_world(
        tmp_path, flows=SAGE_TO_XERO[:1], options={"name_clash": "attention"}
    ) as world:
        division, number = second_customer(world)
        key = f"{division}-{number}"
        rename(world, division, number, NAME)

        world.poll("AR_Customer")
        drain()

        waiting = SyncRecord.objects.get(
            flow="sage100_customers_to_xero", source_id=key
        )
        assert waiting.status == RecordStatus.NEEDS_ATTENTION
        assert waiting.error_category == ErrorCategory.DUPLICATE
        assert f'Xero already has a contact named "{NAME}"' in waiting.error_message
        assert "01-ABF" in waiting.error_message  # the other one, in words
        assert world.xero_writes("/Contacts") == 1  # nobody tried and failed
        assert not world.client.get_contacts(where=f'ContactNumber=="{key}"')
        assert world.xero.problems == []


def test_a_contact_a_person_made_with_the_name_is_adopted_another_customers_is_not(
    tmp_path, redis_conn
):
    with running_world(tmp_path, flows=SAGE_TO_XERO[:1]) as world:
        division, number = second_customer(world)
        key = f"{division}-{number}"
        row = world.sage_row(
            "AR_Customer", "ARDivisionNo = ? AND CustomerNo = ?", division, number
        )
        [made, other] = [
            result.document
            for result in world.client.save_contacts(
                [
                    {"Name": NAME},  # typed in Xero before the integration
                    {"Name": row["CustomerName"], "ContactNumber": "WEB-77"},
                ],
                idempotency_key="people-made-these",
            )
        ]

        world.poll("AR_Customer")
        drain()

        assert world.contact("01-ABF")["ContactID"] == made["ContactID"]
        mine = world.contact(key)
        assert mine["ContactID"] != other["ContactID"]
        assert mine["Name"] == f"{row['CustomerName']} ({key})"
        assert all(r.status == RecordStatus.SUCCEEDED for r in records(
            "sage100_customers_to_xero"
        ))  # fmt: skip
        assert world.xero.problems == []


def test_a_suffixed_vendor_whose_link_was_lost_is_found_again_not_renamed(
    tmp_path, redis_conn
):
    with running_world(tmp_path, flows=SAGE_TO_XERO[1:]) as world:
        world.poll("AP_Vendor")
        drain()
        suffixed = [
            link
            for link in MasterDataLink.objects.filter(kind="vendor")
            if world.client.get_contacts(ids=[link.xero_id])[0]["Name"].endswith(
                f"({link.sage_key})"
            )
        ]
        assert suffixed  # the seeded vendors repeat names
        link = suffixed[0]
        contacts = len(world.client.get_contacts())
        MasterDataLink.objects.all().delete()
        CrossReference.objects.filter(kind="vendor").delete()
        division, number = link.sage_key.split("-", 1)
        world.edit_in_sage(
            "AP_Vendor",
            "APDivisionNo = ? AND VendorNo = ?",
            (division, number),
            TelephoneNo="(212) 555-0142",
        )

        world.poll("AP_Vendor")
        drain()

        relinked = MasterDataLink.objects.get(kind="vendor", sage_key=link.sage_key)
        assert relinked.xero_id == link.xero_id
        [contact] = world.client.get_contacts(ids=[link.xero_id])
        assert contact["Name"].endswith(f"({link.sage_key})")
        assert len(world.client.get_contacts()) == contacts
        assert world.xero.problems == []


def test_the_first_sync_of_the_seeded_company_costs_a_call_per_fifty_records(
    tmp_path, redis_conn
):
    """300 customers and 25 vendors (same names in two divisions among them):
    one write per 50 records and one read of the contact list, nothing waits."""
    with running_world(tmp_path, customers=300, flows=SAGE_TO_XERO) as world:
        before = len(world.xero.calls)
        customers = world.poll("AR_Customer").created
        vendors = world.poll("AP_Vendor").created
        assert (customers, vendors) == (300, 25)
        # Master data waits behind orders: its jobs are on the low queue.
        low = django_rq.get_queue("low", connection=redis_conn)
        assert low.count >= customers + vendors

        drain(limit=50)

        calls = world.xero.calls[before:]
        writes = [c for c in calls if c[0] in ("POST", "PUT")]
        reads = [c for c in calls if c[0] == "GET"]
        assert len(writes) == math.ceil(customers / 50) + math.ceil(vendors / 50)
        assert len(reads) <= 3
        assert len(calls) <= math.ceil((customers + vendors) / 50) + 3
        statuses = set(SyncRecord.objects.values_list("status", flat=True))
        assert statuses == {RecordStatus.SUCCEEDED}
        names = [c["Name"] for c in world.client.get_contacts()]
        assert len(names) == len({n.lower() for n in names})
        assert any(n.endswith(")") and "(0" in n for n in names)
        assert world.xero.problems == []


def test_vendors_of_one_name_a_purchase_order_bound_to_one_contact_get_one_each(
    tmp_path, redis_conn
):
    """Procure-to-pay finds a vendor's contact by name, so two Sage vendors of
    one name may share one contact; master data gives the second its own."""
    with running_world(tmp_path, flows=SAGE_TO_XERO[1:]) as world:
        with sqlite3.connect(world.sage.db.path) as db:
            name, first, second = db.execute(
                "SELECT a.VendorName, a.APDivisionNo || '-' || a.VendorNo, "
                "b.APDivisionNo || '-' || b.VendorNo FROM AP_Vendor a JOIN AP_Vendor b "
                "ON a.VendorName = b.VendorName AND "
                "a.APDivisionNo || a.VendorNo < b.APDivisionNo || b.VendorNo"
            ).fetchone()
        [shared] = world.client.save_contacts(
            [{"Name": name}], idempotency_key="p2p-supplier"
        )
        for key in (first, second):
            CrossReference.objects.create(
                kind="vendor",
                source_connection=world.sage_connection,
                target_connection=world.xero_connection,
                source_value=key,
                target_value=shared.document["ContactID"],
                note="Procure-to-pay: supplier contact created",
            )

        world.poll("AP_Vendor")
        drain()

        assert set(SyncRecord.objects.values_list("status", flat=True)) == {
            RecordStatus.SUCCEEDED
        }
        kept = MasterDataLink.objects.get(kind="vendor", sage_key=first)
        own = MasterDataLink.objects.get(kind="vendor", sage_key=second)
        assert kept.xero_id == shared.document["ContactID"] != own.xero_id
        [contact] = world.client.get_contacts(ids=[own.xero_id])
        assert contact["Name"] == f"{name} ({second})"
        assert CrossReference.objects.get(
            kind="vendor", source_value=second
        ).target_value == (own.xero_id)
        assert world.xero.problems == []


def test_a_name_a_person_took_in_xero_after_the_copy_was_read_is_tried_again(
    tmp_path, redis_conn
):
    """Our copy of Xero's contacts says a name is free; Xero says it is not (a
    person made that contact meanwhile): the record is retried from a fresh
    read and suffixed, not sent to Needs attention."""
    with running_world(tmp_path, customers=8, flows=SAGE_TO_XERO[:1]) as world:
        world.poll("AR_Customer")
        drain()  # 8 new customers: the whole list is read, a copy kept
        world.client.save_contacts(
            [{"Name": "Typed By Hand Ltd"}], idempotency_key="person-made-it"
        )
        division, number = second_customer(world)
        key = f"{division}-{number}"
        rename(world, division, number, "Typed By Hand Ltd")

        world.poll("AR_Customer")
        for pk in SyncRecord.objects.filter(status=RecordStatus.PENDING).values_list(
            "pk", flat=True
        ):
            runner.run_record(pk)
        [*_, first] = records("sage100_customers_to_xero")
        assert first.status == RecordStatus.RETRY_SCHEDULED
        assert "fresh copy" in first.error_message
        SyncRecord.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
        drain()

        first.refresh_from_db()
        assert first.status == RecordStatus.SUCCEEDED
        assert world.contact(key)["Name"] == f"Typed By Hand Ltd ({key})"
        assert world.xero.problems == []


def test_the_demos_rival_renames_wait_under_needs_attention_with_both_names(
    tmp_path, redis_conn, webhooks
):
    from integrations.engine import clients
    from integrations.management.commands.sage100_purchases import rename_both

    with running_world(tmp_path, webhook_url=webhooks) as world:
        world.poll("AR_Customer")
        drain()
        assert rename_both(world.client, world.client, "01-XYZ", tag="T1") is None

        events = contact_events(
            MasterDataLink.objects.get(kind="customer", sage_key="01-ABF").xero_id
        )
        names = rename_both(
            clients.build(world.sage_connection), world.client, "01-ABF", tag="T1"
        )

        assert names == (
            "American Business Futures Inc",
            "American Business Futures Corp",
        )
        link = MasterDataLink.objects.get(kind="customer", sage_key="01-ABF")
        wait_until(lambda: contact_events(link.xero_id) > events, timeout=30)
        wait_until(
            lambda: (
                SyncRecord.objects.filter(
                    flow="xero_contacts_to_sage100", source_id=link.xero_id
                ).count()
                >= 2
            ),
            timeout=30,
        )
        drain()
        waiting = [
            r
            for r in records("xero_contacts_to_sage100")
            if r.status == RecordStatus.NEEDS_ATTENTION
        ]
        assert waiting  # every notice of the contact until a person decides
        for record in waiting:
            assert record.source_id == link.xero_id
            assert record.error_category == ErrorCategory.CONFLICT
            assert '"American Business Futures Inc"' in record.error_message
            assert '"American Business Futures Corp"' in record.error_message
        link.refresh_from_db()
        assert "name" in link.conflicts
        assert world.xero.problems == []
