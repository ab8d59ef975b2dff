"""What ``org.on_change`` tells the event channels after each commit."""

from __future__ import annotations


def test_update_reports_only_the_fields_that_changed(sim, sf, changes):
    opportunity = sim.access.ids["opportunity:beacon"]
    sf.Opportunity.update(
        opportunity, {"StageName": "Closed Won", "Name": "Beacon - paper restock"}
    )
    [change] = changes
    assert change.entity == "Opportunity" and change.change_type == "UPDATE"
    assert change.record_ids == (opportunity,)
    assert set(change.changed_fields) == {
        "StageName",
        "Probability",
        "IsClosed",
        "IsWon",
        "ForecastCategoryName",
    }
    assert change.fields["StageName"] == "Closed Won"
    assert change.record["Name"] == "Beacon - paper restock"
    user = sim.org.identity.user(sim.access.username)
    assert change.commit_user == user.id
    assert change.change_origin == (
        f"com/salesforce/api/rest/62.0;client={sim.access.client_id}"
    )


def test_update_that_changes_nothing_fires_no_event(sim, sf, changes):
    opportunity = sim.access.ids["opportunity:beacon"]
    sf.Opportunity.update(opportunity, {"StageName": "Value Proposition"})
    assert changes == []


def test_create_line_rolls_up_amount_in_the_same_commit(sim, sf, changes):
    opportunity = sim.access.ids["opportunity:abf"]
    before = sf.Opportunity.get(opportunity)["Amount"]
    sf.OpportunityLineItem.create(
        {
            "OpportunityId": opportunity,
            "PricebookEntryId": sim.access.ids["entry:6001-BOI-BR20"],
            "Quantity": 2,
            "TotalPrice": 100,
        }
    )
    created, rolled_up = changes
    assert created.change_type == "CREATE" and created.entity == "OpportunityLineItem"
    assert created.fields["UnitPrice"] == 50.0 and created.fields["ListPrice"] == 72.34
    assert rolled_up.entity == "Opportunity" and rolled_up.changed_fields == ("Amount",)
    assert rolled_up.fields["Amount"] == round(before + 100, 2)
    assert created.commit_number == rolled_up.commit_number
    assert created.transaction_key == rolled_up.transaction_key


def test_commit_numbers_increase_and_delete_undelete_are_reported(sim, sf, changes):
    contact = sim.access.ids["contact:northwind"]
    sf.Contact.update(contact, {"Title": "CTO"})
    sf.Contact.delete(contact)
    sim.org.undelete("Contact", contact)
    assert [c.change_type for c in changes] == ["UPDATE", "DELETE", "UNDELETE"]
    numbers = [c.commit_number for c in changes]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert sf.Contact.get(contact)["Title"] == "CTO"


def test_a_failing_callback_does_not_break_the_request(sim, sf, changes):
    def broken(change):
        raise RuntimeError("listener bug")

    sim.org.on_change(broken)
    assert sf.Account.create({"Name": "Still Saved"})["success"]
    assert len(changes) == 1
