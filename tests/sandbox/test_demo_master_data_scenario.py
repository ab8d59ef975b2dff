"""The demo's two-way master data touches: the Sage 100 clerk changes a
customer's phone once, the Xero bookkeeper a contact's e-mail once."""

from __future__ import annotations

import pytest

from integrations.management.commands import sage100_purchases, xero_sim
from integrations.sandbox.xero.http import AccountingRequest
from tests.support.demo_scenarios import buy_twice, demo_organisation
from tests.support.sage100 import running_sage100


def test_the_xero_bookkeeper_changes_the_numbered_contacts_email_once_it_exists():
    books, events = demo_organisation()

    assert not xero_sim.edit_contact_email(books, "01-ABF", "ap@abf.example")

    contact = {"Name": "American Business Futures", "ContactNumber": "01-ABF"}
    answer = books.handle(
        AccountingRequest("POST", "/Contacts", {}, {}, {"Contacts": [contact]})
    )
    assert answer.status == 200, answer.body
    assert xero_sim.edit_contact_email(books, "01-ABF", "ap@abf.example")

    found = books.books.contact_by("ContactNumber", "01-ABF")
    assert found["EmailAddress"] == "ap@abf.example"
    assert ("CONTACT", "UPDATE", found["ContactID"]) in events


@pytest.mark.django_db
def test_the_sage_clerk_gives_the_customer_a_new_phone_after_the_first_purchase(
    tmp_path,
):
    with running_sage100(tmp_path / "sage100") as sage:
        buy_twice(sage, tmp_path / "sage100", customer_phone="01-ABF")
        with sage.db.connect() as db:
            (phone,) = db.execute(
                "SELECT TelephoneNo FROM AR_Customer "
                "WHERE ARDivisionNo = '01' AND CustomerNo = 'ABF'"
            ).fetchone()

    assert phone.startswith("(415) 555-")


def test_the_rival_names_change_on_both_sides_on_every_run():
    assert sage100_purchases.rival_names("Beacon Paper Co.") == (
        "Beacon Paper Inc",
        "Beacon Paper Corp",
    )
    assert sage100_purchases.rival_names("Beacon Paper Inc") == (
        "Beacon Paper Corp",
        "Beacon Paper LLC",
    )
    sage, xero = sage100_purchases.rival_names("A Name Long Enough To Be Cut Here")
    assert len(sage) <= 30 and sage != xero
