"""sObject Collections: order of results, the 200 limit and allOrNone."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def _accounts(*names):
    return [{"attributes": {"type": "Account"}, "Name": name} for name in names]


def test_create_returns_results_in_request_order(sim, sf):
    records = [*_accounts("One", "Two"), {"attributes": {"type": "Account"}}]
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"allOrNone": False, "records": records},
    )
    assert [r["success"] for r in results] == [True, True, False]
    assert results[2]["errors"] == [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [Name]",
            "fields": ["Name"],
        }
    ]
    assert sf.Account.get(results[0]["id"])["Name"] == "One"


def test_all_or_none_rolls_back_every_record(sim, sf, changes):
    before = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    records = [*_accounts("Kept?", "Also?"), {"attributes": {"type": "Account"}}]
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"allOrNone": True, "records": records},
    )
    assert [r["success"] for r in results] == [False, False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == before
    assert changes == []


def test_more_than_200_records_is_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.restful(
            "composite/sobjects",
            method="POST",
            json={"records": _accounts(*[f"A{i}" for i in range(201)])},
        )
    assert excinfo.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_update_retrieve_and_delete_by_ids(sim, sf):
    ids = [
        r["id"]
        for r in sf.restful(
            "composite/sobjects", method="POST", json={"records": _accounts("U1", "U2")}
        )
    ]
    updates = [
        {"attributes": {"type": "Account"}, "Id": ids[0], "Phone": "111"},
        {"attributes": {"type": "Account"}, "Id": ids[1], "Phone": "222"},
    ]
    results = sf.restful(
        "composite/sobjects", method="PATCH", json={"records": updates}
    )
    assert all(r["success"] for r in results)
    got = sf.restful(
        "composite/sobjects/Account", params={"ids": ",".join(ids), "fields": "Phone"}
    )
    assert [r["Phone"] for r in got] == ["111", "222"]
    deleted = sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": ",".join(ids)}
    )
    assert [r["id"] for r in deleted] == ids and all(r["success"] for r in deleted)


def test_upsert_collection_by_external_id_reports_created(sim, sf):
    records = [
        {"attributes": {"type": "Account"}, "ExternalID__c": "01-ABF", "Phone": "1"},
        {"attributes": {"type": "Account"}, "ExternalID__c": "09-NEW", "Name": "New"},
    ]
    results = sf.restful(
        "composite/sobjects/Account/ExternalID__c",
        method="PATCH",
        json={"allOrNone": False, "records": records},
    )
    assert [r["created"] for r in results] == [False, True]
    assert results[0]["id"] == sim.access.ids["account:abf"]


def test_records_need_attributes_type(sf):
    results = sf.restful(
        "composite/sobjects", method="POST", json={"records": [{"Name": "Untyped"}]}
    )
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "INVALID_TYPE"
