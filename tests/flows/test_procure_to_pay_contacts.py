"""Procure-to-pay's supplier contacts, over real HTTP against the Sage 100 and
Xero simulators: what a batch costs in contact calls, what a retry after a
rate limit asks again (nothing answered already), and vendors of one name,
on which procure-to-pay and two-way master data must agree.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

import pytest

from integrations.engine import clients, runner
from integrations.models import (
    ChangeFeed,
    CrossReference,
    MasterDataLink,
    RecordStatus,
    SyncRecord,
)
from integrations.services import changefeeds, supplier_contacts, xero_contacts
from integrations.services import master_data_contacts as names_
from tests.support.procure_to_pay import (
    BILL_FLOW,
    World,
    drain,
    records,
    running_world,
)

pytestmark = pytest.mark.django_db(transaction=True)

VENDORS_FLOW = "sage100_vendors_to_xero"


@pytest.fixture
def world(tmp_path, redis_conn):
    with running_world(tmp_path) as world:
        yield world
        assert world.xero.problems == []


def contact_calls(world: World, since: int = 0) -> list[tuple[str, str, int]]:
    return [
        call
        for call in world.xero.calls[since:]
        if call[1].rstrip("/").endswith("/Contacts")
    ]


def bills_for(world: World, vendors, count: int) -> None:
    """``count`` bills entered in Sage, spread over ``vendors``, published."""
    for n in range(count):
        vendor = vendors[n % len(vendors)]
        world.enter_bill(f"C{n:04d}", f"{200 + n}.50", vendor=vendor)
        world.bill_published(vendor, f"C{n:04d}")


def same_named(world: World) -> tuple[str, tuple[str, str], tuple[str, str]]:
    """A name two seeded vendors share, and the two (division, number)."""
    with sqlite3.connect(world.sage.db.path) as db:
        name, d1, v1, d2, v2 = db.execute(
            "SELECT a.VendorName, a.APDivisionNo, a.VendorNo, b.APDivisionNo, "
            "b.VendorNo FROM AP_Vendor a JOIN AP_Vendor b "
            "ON a.VendorName = b.VendorName AND "
            "a.APDivisionNo || a.VendorNo < b.APDivisionNo || b.VendorNo "
            "ORDER BY 2, 3"
        ).fetchone()
    return name, (d1, v1), (d2, v2)


def xref(world: World, vendor: tuple[str, str]) -> str:
    return CrossReference.objects.get(
        kind="vendor",
        source_connection=world.sage_connection,
        source_value=f"{vendor[0]}-{vendor[1]}",
    ).target_value


def contact_name(world: World, contact_id: str) -> str:
    [contact] = world.client.get_contacts(ids=[contact_id])
    return contact["Name"]


def test_fifty_bills_for_twenty_new_vendors_cost_at_most_three_contact_calls(world):
    world.configure(BILL_FLOW)
    vendors = world.vendors(20)
    bills_for(world, vendors, 50)
    before = len(world.xero.calls)

    drain()

    assert {r.status for r in records(BILL_FLOW)} == {RecordStatus.SUCCEEDED}
    calls = contact_calls(world, before)
    assert len(calls) <= 3, calls
    # One query for all twenty names, one PUT for every new contact.
    assert [c[0] for c in calls] == ["GET", "PUT"]
    assert world.xero_writes("/Invoices") == 1
    contacts = {xref(world, v) for v in vendors}
    assert len(contacts) == 20  # one each, vendors of one name included
    names = [c["Name"] for c in world.client.get_contacts()]
    assert len(names) == len({n.lower() for n in names})


def test_twenty_vendors_are_asked_for_in_one_query_under_xeros_url_limit(world):
    """Every seeded vendor's name, as the lookup asks for it."""
    reader = world.reader
    clauses = [
        [supplier_contacts.lookup(reader.vendor(*vendor)["VendorName"])]
        for vendor in world.vendors(25)
    ]
    assert len(xero_contacts.queries(clauses[:20])) == 1
    for text in xero_contacts.queries(clauses * 4):  # a hundred vendors
        assert len(f"where={quote(text, safe='')}") < 2048
    assert supplier_contacts.lookup('Say "Hi" ') == 'Name.StartsWith("Say ""Hi""")'


def retry_now(flow: str) -> None:
    """The records waiting for a retry are due (the minute has passed)."""
    SyncRecord.objects.filter(flow=flow, status=RecordStatus.RETRY_SCHEDULED).update(
        status=RecordStatus.PENDING, next_attempt_at=None
    )


def fresh_minute(redis) -> None:
    """Our throttle's window is empty, as after a quiet minute."""
    for key in redis.scan_iter("ledgerbridge:throttle:*"):
        redis.delete(key)


def test_a_retry_after_a_rate_limit_does_not_ask_again_what_was_answered(
    world, redis_conn
):
    world.configure(BILL_FLOW)
    vendors = world.vendors(20)
    reader = world.reader
    # Five of the vendors are in Xero already, typed in by a person.
    names = {vendor: reader.vendor(*vendor)["VendorName"] for vendor in vendors}
    alone = [v for v in vendors if list(names.values()).count(names[v]) == 1]
    typed = alone[:5]
    world.client.save_contacts(
        [{"Name": names[vendor]} for vendor in typed], idempotency_key="by-hand"
    )
    bills_for(world, vendors, 50)
    # Our own budget allows one call this minute: the lookup is answered, the
    # PUT of the fifteen new contacts is refused before it leaves.
    world.xero_connection.calls_per_minute = 1
    world.xero_connection.save(update_fields=["calls_per_minute"])
    fresh_minute(redis_conn)
    before = len(world.xero.calls)

    for pk in SyncRecord.objects.filter(flow=BILL_FLOW).values_list("pk", flat=True):
        runner.run_record(pk)

    assert [c[0] for c in contact_calls(world, before)] == ["GET"]
    waiting = records(BILL_FLOW)
    assert {r.status for r in waiting} == {RecordStatus.RETRY_SCHEDULED}
    assert "API budget" in waiting[0].error_message
    # What the lookup found is cross-referenced already.
    found = {
        vendor for vendor in vendors if CrossReference.objects.filter(
            kind="vendor", source_value=f"{vendor[0]}-{vendor[1]}"
        ).exists()
    }  # fmt: skip
    assert found == set(typed)

    fresh_minute(redis_conn)  # the minute passes; the rest need more calls
    world.xero_connection.calls_per_minute = None
    world.xero_connection.save(update_fields=["calls_per_minute"])
    retry_now(BILL_FLOW)
    before = len(world.xero.calls)
    drain()

    assert {r.status for r in records(BILL_FLOW)} == {RecordStatus.SUCCEEDED}
    # Nothing asked again: one PUT for the fifteen new contacts.
    assert [c[0] for c in contact_calls(world, before)] == ["PUT"]
    assert len({xref(world, v) for v in vendors}) == 20
    names = [c["Name"] for c in world.client.get_contacts()]
    assert len(names) == len({n.lower() for n in names})


def test_two_vendors_of_one_name_get_two_contacts_and_master_data_agrees(world):
    name, first, second = same_named(world)
    assert first[0] != second[0]  # the seeded pair sit in two divisions
    world.configure(BILL_FLOW)
    world.enter_bill("N-1", "10.00", vendor=first)
    world.enter_bill("N-2", "20.00", vendor=second)
    world.bill_published(first, "N-1")
    world.bill_published(second, "N-2")

    drain()

    assert {r.status for r in records(BILL_FLOW)} == {RecordStatus.SUCCEEDED}
    own, other = xref(world, first), xref(world, second)
    assert own != other
    assert contact_name(world, own) == name
    second_key = f"{second[0]}-{second[1]}"
    assert contact_name(world, other) == f"{name} ({second_key})"
    bills = {
        b["InvoiceNumber"]: b["Contact"]["ContactID"]
        for b in world.client.get_invoices(where='Type=="ACCPAY"')
    }
    assert bills == {"N-1": own, "N-2": other}

    # Two-way master data's first sync of the vendors takes each vendor's
    # contact as procure-to-pay made it: no new contact, no rename.
    contacts = len(world.client.get_contacts())
    world.configure(VENDORS_FLOW)
    feed, _ = ChangeFeed.objects.get_or_create(
        connection=world.sage_connection, table="AP_Vendor"
    )
    changefeeds.poll_feed(feed.pk)
    drain(limit=50)

    assert set(
        SyncRecord.objects.filter(flow=VENDORS_FLOW).values_list("status", flat=True)
    ) == {RecordStatus.SUCCEEDED}
    links = {
        link.sage_key: link.xero_id
        for link in MasterDataLink.objects.filter(kind="vendor")
    }
    assert links[f"{first[0]}-{first[1]}"] == own
    assert links[second_key] == other
    assert contact_name(world, own) == name
    assert contact_name(world, other) == f"{name} ({second_key})"
    assert (xref(world, first), xref(world, second)) == (own, other)
    # Master data made the other 23 seeded vendors' contacts, none of these.
    assert len(world.client.get_contacts()) == contacts + len(links) - 2


def test_under_name_clash_attention_the_second_vendors_bill_waits(world):
    name, first, second = same_named(world)
    world.configure(BILL_FLOW, options={"name_clash": "attention"})
    world.enter_bill("A-1", "10.00", vendor=first)
    world.enter_bill("A-2", "20.00", vendor=second)
    world.bill_published(first, "A-1")
    world.bill_published(second, "A-2")

    drain()

    done = {r.source_id.split("|")[-1]: r for r in records(BILL_FLOW)}
    assert done["A-1"].status == RecordStatus.SUCCEEDED
    assert done["A-2"].status == RecordStatus.NEEDS_ATTENTION
    assert f'contact named "{name}"' in done["A-2"].error_message
    assert "name_clash" in done["A-2"].error_message
    named = [c["Name"] for c in world.client.get_contacts()]
    assert named.count(name) == 1
    assert not [n for n in named if n.startswith(f"{name} (")]


def test_vendors_bound_to_one_shared_contact_are_parted_as_master_data_parts_them(
    world,
):
    """Before, vendors of one name shared the contact of that name: the first
    by number keeps it, the other gets its own suffixed contact."""
    name, first, second = same_named(world)
    [shared] = world.client.save_contacts(
        [{"Name": name}], idempotency_key="old-shared-contact"
    )
    shared_id = shared.document["ContactID"]
    for vendor in (first, second):
        CrossReference.objects.create(
            kind="vendor",
            source_connection=world.sage_connection,
            target_connection=world.xero_connection,
            source_value=f"{vendor[0]}-{vendor[1]}",
            target_value=shared_id,
            note="Procure-to-pay: supplier contact found by name",
        )
    world.configure(BILL_FLOW)
    world.enter_bill("S-1", "10.00", vendor=first)
    world.enter_bill("S-2", "20.00", vendor=second)
    world.bill_published(first, "S-1")
    world.bill_published(second, "S-2")

    drain()

    assert {r.status for r in records(BILL_FLOW)} == {RecordStatus.SUCCEEDED}
    assert xref(world, first) == shared_id
    own = xref(world, second)
    assert own != shared_id
    assert contact_name(world, own) == f"{name} ({second[0]}-{second[1]})"


def test_a_name_xero_was_said_not_to_have_is_asked_again_when_xero_refuses_it(
    world,
):
    """A kept answer (no such contact) goes stale when a person makes the
    contact: the bill waits a moment, and the retry finds that contact."""
    world.configure(BILL_FLOW)
    vendors = world.vendors(2)
    world.enter_bill("R-1", "10.00", vendor=vendors[0])
    world.bill_published(vendors[0], "R-1")
    drain()
    row = world.reader.vendor(*vendors[1])
    name = supplier_contacts.contact_document(row)["Name"]
    # The answer "Xero has none" is still kept (answered within 5 minutes)...
    pair = supplier_contacts.Pair(world.sage_connection.pk, world.xero_connection.pk)
    resolver = supplier_contacts._Resolver(
        pair, clients.build(world.xero_connection), world.xero_connection, "suffix"
    )
    key = f"{vendors[1][0]}-{vendors[1][1]}"
    resolver._keep({name.lower(): [], names_.with_suffix(name, key).lower(): []})
    # ...when a person makes it in Xero.
    [made] = world.client.save_contacts([{"Name": name}], idempotency_key="by-hand")
    world.enter_bill("R-2", "20.00", vendor=vendors[1])
    world.bill_published(vendors[1], "R-2")
    for record in SyncRecord.objects.filter(status=RecordStatus.PENDING):
        runner.run_record(record.pk)

    [*_, waiting] = records(BILL_FLOW)
    assert waiting.status == RecordStatus.RETRY_SCHEDULED
    assert "fresh" in waiting.error_message
    retry_now(BILL_FLOW)
    drain()

    waiting.refresh_from_db()
    assert waiting.status == RecordStatus.SUCCEEDED
    assert xref(world, vendors[1]) == made.document["ContactID"]


def test_with_master_datas_copy_of_the_contact_list_new_vendors_cost_one_put(world):
    """Master data keeps a copy of Xero's contact names for five minutes: a
    batch within them asks Xero nothing, only creates."""
    directory = names_.Directory(
        clients.build(world.xero_connection), world.xero_connection
    )
    directory.lookup([("", [f"Nobody {n}"]) for n in range(names_.LOOKUPS + 1)])
    assert directory.cached() is not None
    world.configure(BILL_FLOW)
    vendors = world.vendors(3)
    bills_for(world, vendors, 6)
    before = len(world.xero.calls)

    drain()

    assert {r.status for r in records(BILL_FLOW)} == {RecordStatus.SUCCEEDED}
    assert [c[0] for c in contact_calls(world, before)] == ["PUT"]
    assert len({xref(world, v) for v in vendors}) == 3
    copied = {c["ContactID"] for c in directory.cached()}
    assert {xref(world, v) for v in vendors} <= copied  # our writes kept in it


def test_one_contact_a_person_gave_two_vendors_stays_theirs(world):
    """A cross-reference entered by hand is a person's decision: kept."""
    name, first, second = same_named(world)
    [shared] = world.client.save_contacts(
        [{"Name": name}], idempotency_key="one-supplier-two-divisions"
    )
    shared_id = shared.document["ContactID"]
    for vendor in (first, second):
        CrossReference.objects.create(
            kind="vendor",
            source_connection=world.sage_connection,
            target_connection=world.xero_connection,
            source_value=f"{vendor[0]}-{vendor[1]}",
            target_value=shared_id,
        )
    world.configure(BILL_FLOW)
    world.enter_bill("P-1", "10.00", vendor=first)
    world.enter_bill("P-2", "20.00", vendor=second)
    world.bill_published(first, "P-1")
    world.bill_published(second, "P-2")
    before = len(world.xero.calls)

    drain()

    assert {r.status for r in records(BILL_FLOW)} == {RecordStatus.SUCCEEDED}
    assert xref(world, first) == xref(world, second) == shared_id
    assert contact_calls(world, before) == []
