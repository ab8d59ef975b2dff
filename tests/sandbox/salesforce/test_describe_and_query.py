"""Describe metadata shapes, multi-currency, and query paging."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.support.salesforce import running_salesforce


def test_describe_has_realistic_keys_and_picklists(sf):
    described = sf.Opportunity.describe()
    assert (described["name"], described["keyPrefix"]) == ("Opportunity", "006")
    fields = {f["name"]: f for f in described["fields"]}
    stage = fields["StageName"]
    assert [p["value"] for p in stage["picklistValues"]][-2:] == [
        "Closed Won",
        "Closed Lost",
    ]
    assert stage["restrictedPicklist"] and not stage["nillable"]
    assert fields["IsWon"]["createable"] is False
    assert (
        fields["Sage_Order_No__c"]["externalId"]
        and fields["Sage_Order_No__c"]["custom"]
    )
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    children = {c["relationshipName"]: c for c in described["childRelationships"]}
    assert children["OpportunityLineItems"]["childSObject"] == "OpportunityLineItem"
    assert "CurrencyIsoCode" not in fields


def test_describe_global_and_basic_info(sf):
    names = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert names["Inventory_Level__c"]["keyPrefix"] == "a00"
    assert names["Order_Event__e"]["queryable"] is False
    info = sf.Account.metadata()
    assert info["objectDescribe"]["name"] == "Account"
    assert len(info["recentItems"]) <= 5


def test_admin_can_add_a_custom_field(sim, sf):
    sim.org.add_custom_field(
        "Account", "Credit_Limit__c", "currency", precision=18, scale=2
    )
    record_id = sf.Account.create({"Name": "With Credit", "Credit_Limit__c": 5000})[
        "id"
    ]
    assert sf.Account.get(record_id)["Credit_Limit__c"] == 5000.0


def test_currency_field_exists_only_in_multi_currency_orgs(sf, tmp_path):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.query("SELECT CurrencyIsoCode FROM Opportunity")
    assert excinfo.value.content[0]["errorCode"] == "INVALID_FIELD"
    with running_salesforce(tmp_path / "mc", multi_currency=True) as sim:
        client = sim.client()
        records = client.query("SELECT CurrencyIsoCode FROM Opportunity")["records"]
        assert {r["CurrencyIsoCode"] for r in records} == {"USD"}
        with pytest.raises(SalesforceMalformedRequest) as refused:
            client.Account.create({"Name": "Yen", "CurrencyIsoCode": "JPY"})
        assert (
            refused.value.content[0]["errorCode"]
            == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        )


def test_query_pages_with_next_records_url(sim, sf):
    sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Contact"}, "LastName": f"Bulk {i}"}
                for i in range(200)
            ]
        },
    )
    first = sf.query(
        "SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"}
    )
    assert first["done"] is False and len(first["records"]) == 200
    assert first["totalSize"] == 205
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["done"] is True and len(second["records"]) == 5
    assert len(sf.query_all("SELECT Id FROM Contact")["records"]) == 205


def test_invalid_query_is_malformed(sf):
    with pytest.raises(SalesforceMalformedRequest) as excinfo:
        sf.query("SELEC Id FROM Account")
    assert excinfo.value.content[0]["errorCode"] == "MALFORMED_QUERY"
