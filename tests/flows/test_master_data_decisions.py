"""What two-way master data decides for new records, repeated notices, refused
documents and a person's choice, against the Sage 100 and Xero simulators.

Change notices are handed to the inbox here as the change feed and our Xero
webhook endpoint store them (tests/flows/test_master_data.py has them arrive
for real); everything after that is the real path, over HTTPS.
"""

from __future__ import annotations

import pytest

from integrations.models import (
    CrossReference,
    ErrorCategory,
    MasterDataLink,
    RecordStatus,
)
from integrations.services import records as record_actions
from tests.support.master_data import drain, records, running_world

pytestmark = pytest.mark.django_db

ABF = {"ARDivisionNo": "01", "CustomerNo": "ABF"}
WHERE_ABF = "ARDivisionNo = ? AND CustomerNo = ?"


@pytest.fixture
def world(tmp_path, redis_conn):
    with running_world(tmp_path, flows=()) as world:
        yield world
        assert world.xero.problems == []


def _new_contact(world, **values) -> str:
    [saved] = world.client.save_contacts([values], idempotency_key=values["Name"])
    assert saved.ok, saved.errors
    return saved.document["ContactID"]


def test_a_new_xero_customer_becomes_a_sage_customer_and_learns_its_number(world):
    world.configure(
        "xero_contacts_to_sage100",
        "xero",
        "sage",
        options={"unmarked_contacts": "customer"},
    )
    contact_id = _new_contact(
        world,
        Name="Harbour Lights Cafe",
        EmailAddress="orders@harbourlights.example",
        Addresses=[
            {
                "AddressType": "POBOX",
                "AddressLine1": "12 north harbor street",
                "City": "Seattle",
                "Region": "Washington",
                "PostalCode": "98101",
                "Country": "United States",
            }
        ],
    )

    world.xero_changed(contact_id, "CREATE")
    drain()

    [record] = records("xero_contacts_to_sage100")
    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert record.target_ids["created"] == "sage100"
    key = record.target_ids["sage"]
    division, number = key.split("-", 1)
    row = world.sage_row("AR_Customer", WHERE_ABF, division, number)
    assert row["CustomerName"] == "Harbour Lights Cafe"
    assert row["EmailAddress"] == "orders@harbourlights.example"
    assert (row["AddressLine1"], row["City"], row["State"], row["CountryCode"]) == (
        "12 N HARBOR ST",
        "SEATTLE",
        "WA",
        "USA",
    )
    assert number.startswith("XR")
    [contact] = world.client.get_contacts(ids=[contact_id])
    assert contact["ContactNumber"] == key
    assert (
        CrossReference.objects.get(kind="customer", source_value=key).target_value
        == contact_id
    )


def test_a_contact_that_is_neither_customer_nor_supplier_waits(world):
    world.configure("xero_contacts_to_sage100", "xero", "sage")
    contact_id = _new_contact(world, Name="Someone We Met")

    world.xero_changed(contact_id, "CREATE")
    drain()

    [record] = records("xero_contacts_to_sage100")
    assert record.status == RecordStatus.SUCCEEDED
    assert "Not a customer or supplier in Xero yet" in record.target_ids["skipped"]
    assert not MasterDataLink.objects.exists()
    assert world.sage_row("AR_Customer", "CustomerName = ?", "Someone We Met") == {}


def test_a_xero_supplier_becomes_a_sage_vendor_and_sage_edits_flow_back(world):
    world.configure(
        "xero_contacts_to_sage100",
        "xero",
        "sage",
        options={"unmarked_contacts": "vendor"},
    )
    world.configure("sage100_vendors_to_xero", "sage", "xero")
    contact_id = _new_contact(world, Name="Cascade Paper Supply")

    world.xero_changed(contact_id, "CREATE")
    drain()

    link = MasterDataLink.objects.get(kind="vendor")
    division, number = link.sage_key.split("-", 1)
    vendor = world.sage_row(
        "AP_Vendor", "APDivisionNo = ? AND VendorNo = ?", division, number
    )
    assert vendor["VendorName"] == "Cascade Paper Supply"

    world.edit_in_sage(
        "AP_Vendor",
        "APDivisionNo = ? AND VendorNo = ?",
        (division, number),
        TelephoneNo="(206) 555-0142",
    )
    world.sage_changed(
        "AP_Vendor", {"APDivisionNo": division, "VendorNo": number}, "v1"
    )
    drain()

    [pushed] = records("sage100_vendors_to_xero")
    assert pushed.target_ids["to_xero"] == ["phone"]
    [contact] = world.client.get_contacts(ids=[contact_id])
    phones = {p["PhoneType"]: p.get("PhoneNumber") for p in contact["Phones"]}
    assert phones["DEFAULT"] == "(206) 555-0142"


def test_a_sage_customer_xero_already_has_by_name_is_linked_not_duplicated(world):
    world.configure("sage100_customers_to_xero", "sage", "xero")
    contact_id = _new_contact(
        world, Name="American Business Futures", EmailAddress="ap@abf.example"
    )

    world.sage_changed("AR_Customer", ABF, "abf-1")
    drain()

    [record] = records("sage100_customers_to_xero")
    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert record.target_ids["xero"] == contact_id
    assert "matched an existing Xero record" in record.target_ids["notes"]
    found = world.client.get_contacts(where='Name=="American Business Futures"')
    assert [c["ContactID"] for c in found] == [contact_id]
    assert found[0]["ContactNumber"] == "01-ABF"


def test_two_notices_of_one_customer_in_one_batch_write_once(world):
    world.configure("sage100_customers_to_xero", "sage", "xero")
    world.sage_changed("AR_Customer", ABF, "abf-1")
    world.sage_changed("AR_Customer", ABF, "abf-2")

    drain()

    first, second = records("sage100_customers_to_xero")
    assert first.status == second.status == RecordStatus.SUCCEEDED
    assert first.target_ids == second.target_ids
    assert world.xero_writes("/Contacts") == 1
    assert len(world.client.get_contacts(where='ContactNumber=="01-ABF"')) == 1


def test_a_contact_xero_refuses_fails_alone_in_its_batch(world):
    world.configure("sage100_customers_to_xero", "sage", "xero")
    [other] = [
        row["CustomerNo"]
        for row in [world.sage_row("AR_Customer", "CustomerNo <> ?", "ABF")]
    ]
    world.edit_in_sage(
        "AR_Customer", WHERE_ABF, ("01", "ABF"), EmailAddress="not an address"
    )
    world.sage_changed("AR_Customer", ABF, "abf-1")
    world.sage_changed(
        "AR_Customer", {"ARDivisionNo": "01", "CustomerNo": other}, "other-1"
    )

    drain()

    refused, accepted = records("sage100_customers_to_xero")
    assert world.xero_writes("/Contacts") == 1
    assert refused.status == RecordStatus.NEEDS_ATTENTION
    assert "Email address must be valid" in refused.error_message
    assert accepted.status == RecordStatus.SUCCEEDED
    assert accepted.target_ids["created"] == "xero"


def test_a_person_settles_a_conflict_for_one_record_in_its_payload(world):
    world.configure("sage100_customers_to_xero", "sage", "xero")
    world.sage_changed("AR_Customer", ABF, "abf-1")
    drain()
    link = MasterDataLink.objects.get(sage_key="01-ABF")
    world.edit_in_sage(
        "AR_Customer", WHERE_ABF, ("01", "ABF"), CustomerName="ABF Incorporated"
    )
    world.client.save_contacts(
        [{"ContactID": link.xero_id, "Name": "ABF Holdings"}], idempotency_key="edit"
    )
    world.sage_changed("AR_Customer", ABF, "abf-2")
    drain()
    [_, record] = records("sage100_customers_to_xero")
    assert record.error_category == ErrorCategory.CONFLICT

    record_actions.override_payload(
        record,
        actor=None,
        payload={**record.payload, "resolve": {"name": "sage100"}},
    )
    record_actions.resubmit(record, actor=None)
    drain()

    record.refresh_from_db()
    assert record.status == RecordStatus.SUCCEEDED
    assert record.target_ids["to_xero"] == ["name"]
    [contact] = world.client.get_contacts(ids=[link.xero_id])
    assert contact["Name"] == "ABF Incorporated"


def test_a_bad_resolution_is_refused_naming_the_field(world):
    world.configure("sage100_customers_to_xero", "sage", "xero")
    [record] = world.sage_changed("AR_Customer", ABF, "abf-1")
    record_actions.override_payload(
        record, actor=None, payload={**record.payload, "resolve": {"name": "both"}}
    )

    drain()

    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "resolve.name"
    assert "must be sage100 or xero" in record.error_message
