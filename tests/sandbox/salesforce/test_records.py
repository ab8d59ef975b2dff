"""Single-record REST calls through simple-salesforce: validation and upsert."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from integrations.sandbox.salesforce.ids import to18


def _error(excinfo) -> dict:
    return excinfo.value.content[0]


def test_created_ids_are_18_characters_with_prefix_and_checksum(sf):
    created = sf.Account.create({"Name": "Acme Test"})
    assert created["success"] and created["errors"] == []
    record_id = created["id"]
    assert len(record_id) == 18 and record_id.startswith("001")
    assert to18(record_id[:15]) == record_id


def test_known_checksum_matches_salesforce():
    assert to18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert to18("001A0000006Vm9rIAD") is None


def test_get_returns_attributes_and_requested_fields(sf):
    record_id = sf.Account.create({"Name": "Fields Test", "Phone": "555"})["id"]
    record = sf.Account.get(record_id)
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v62.0/sobjects/Account/{record_id}",
    }
    assert record["Name"] == "Fields Test" and record["IsDeleted"] is False
    assert record["CreatedDate"].endswith("+0000") and len(record["CreatedDate"]) == 28
    some = sf.restful(f"sobjects/Account/{record_id}", params={"fields": "Name,Phone"})
    assert set(some) == {"attributes", "Name", "Phone"}


def test_required_field_missing_names_the_field(sf):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Contact.create({"FirstName": "No Last"})
    assert _error(excinfo) == {
        "message": "Required fields are missing: [LastName]",
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": ["LastName"],
    }


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"Name": "x" * 121}, "STRING_TOO_LONG", "Name"),
        (
            {"Sage_Order_Status__c": "Shipped"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "Sage_Order_Status__c",
        ),
        (
            {"StageName": "Won-ish"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "StageName",
        ),
        ({"Amount": "lots"}, "JSON_PARSER_ERROR", "Amount"),
        ({"CloseDate": "12/31/2026"}, "JSON_PARSER_ERROR", "CloseDate"),
        ({"IsWon": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", "IsWon"),
        ({"Nonsense__c": 1}, "INVALID_FIELD", "Nonsense__c"),
        ({"AccountId": "not-an-id"}, "MALFORMED_ID", "AccountId"),
        (
            {"AccountId": "001000000000001AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            "AccountId",
        ),
    ],
)
def test_invalid_opportunity_values_are_refused(sf, data, code, field):
    body = {"Name": "Bad", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
    body.update(data)
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Opportunity.create(body)
    error = _error(excinfo)
    assert error["errorCode"] == code and error["fields"] == [field]


def test_wrong_type_reference_is_a_field_integrity_error(sim, sf):
    contact = sim.access.ids["contact:abf"]
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Opportunity.create(
            {
                "Name": "Bad",
                "StageName": "Prospecting",
                "CloseDate": "2026-12-31",
                "AccountId": contact,
            }
        )
    assert _error(excinfo)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_duplicate_unique_external_id_is_refused_naming_the_record(sim, sf):
    existing = sim.access.ids["account:abf"]
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.Account.create({"Name": "Copy", "ExternalID__c": "01-abf"})
    assert _error(excinfo) == {
        "message": "duplicate value found: ExternalID__c duplicates value on record "
        f"with id: {existing}",
        "errorCode": "DUPLICATE_VALUE",
        "fields": ["ExternalID__c"],
    }


def test_stage_derives_is_won_and_is_closed(sim, sf):
    opportunity = sim.access.ids["opportunity:abf"]
    assert sf.Opportunity.update(opportunity, {"StageName": "Closed Won"}) == 204
    record = sf.Opportunity.get(opportunity)
    assert (record["IsWon"], record["IsClosed"], record["Probability"]) == (
        True,
        True,
        100,
    )


def test_upsert_by_external_id_creates_then_updates(sf):
    created = sf.Account.upsert(
        "ExternalID__c/02-NEWCO", {"Name": "New Co"}, raw_response=True
    )
    assert created.status_code == 201
    assert created.json()["created"] is True
    updated = sf.Account.upsert(
        "ExternalID__c/02-NEWCO", {"Phone": "555-0100"}, raw_response=True
    )
    assert updated.status_code == 200
    assert updated.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    assert sf.Account.get(created.json()["id"])["Phone"] == "555-0100"


def test_upsert_with_several_matches_answers_300(sim, sf):
    for number in ("A", "B"):
        sf.Opportunity.create(
            {
                "Name": f"Dup {number}",
                "StageName": "Prospecting",
                "CloseDate": "2026-12-31",
                "Sage_Order_No__c": "0000123",
            }
        )
    with pytest.raises(SalesforceMoreThanOneRecord) as excinfo:
        sf.Opportunity.upsert("Sage_Order_No__c/0000123", {"Name": "Which?"})
    assert len(excinfo.value.content) == 2
    assert all(
        url.startswith("/services/data/v62.0/sobjects/Opportunity/006")
        for url in excinfo.value.content
    )


def test_upsert_on_a_field_that_is_not_an_external_id_is_not_found(sf):
    with pytest.raises(SalesforceResourceNotFound) as excinfo:
        sf.Account.upsert("Name/Acme", {"Phone": "1"})
    assert _error(excinfo)["errorCode"] == "NOT_FOUND"


def test_upsert_body_must_not_change_the_external_id(sf):
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.upsert("ExternalID__c/01-ABF", {"ExternalID__c": "01-XYZ"})


def test_deleted_record_is_gone_and_cannot_be_updated(sim, sf):
    contact = sim.access.ids["contact:valley"]
    assert sf.Contact.delete(contact) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(contact)
    with pytest.raises(SalesforceResourceNotFound) as excinfo:
        sf.Contact.update(contact, {"Title": "Gone"})
    assert _error(excinfo)["errorCode"] == "ENTITY_IS_DELETED"
    deleted = sf.query_all(f"SELECT Id FROM Contact WHERE Id = '{contact}'")
    assert deleted["totalSize"] == 0
    all_rows = sf.query_all(
        f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact}'",
        include_deleted=True,
    )
    assert all_rows["records"][0]["IsDeleted"] is True


def test_unknown_object_is_not_found_and_wrong_method_not_allowed(sim, sf):
    with pytest.raises(SalesforceResourceNotFound) as excinfo:
        sf.restful("sobjects/Invoice__x/describe")
    assert _error(excinfo) == {
        "message": "The requested resource does not exist",
        "errorCode": "NOT_FOUND",
    }
    response = sim.http().put(
        f"{sim.url}/services/data/v62.0/sobjects/Account/describe",
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )
    assert response.status_code == 405
    assert response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_bad_json_is_a_parser_error(sim, sf):
    response = sim.http().post(
        f"{sim.url}/services/data/v62.0/sobjects/Account/",
        data=b"{not json",
        headers={
            "Authorization": f"Bearer {sf.session_id}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_platform_event_publish_returns_an_e00_id(sim, sf):
    published = []
    sim.org.on_platform_event(published.append)
    result = sf.Order_Event__e.create(
        {"Order_Id__c": "801000000000001AAA", "Action__c": "Activated"}
    )
    assert result["success"] and result["id"].startswith("e00")
    assert published[0].name == "Order_Event__e"
    assert published[0].fields == {
        "Order_Id__c": "801000000000001AAA",
        "Action__c": "Activated",
    }
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.query("SELECT Id FROM Order_Event__e")
    assert _error(excinfo)["errorCode"] in ("INVALID_TYPE", "MALFORMED_QUERY")


def test_updated_and_deleted_resources_list_changes(sim, sf):
    import datetime as dt

    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    contact = sim.access.ids["contact:delta"]
    sf.Contact.update(contact, {"Title": "Buyer"})
    sf.Contact.delete(sim.access.ids["contact:beacon"])
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert contact in sf.Contact.updated(start, end)["ids"]
    deleted = sf.Contact.deleted(start, end)["deletedRecords"]
    assert [d["id"] for d in deleted] == [sim.access.ids["contact:beacon"]]
