"""The REST client against the simulated org over HTTPS: calls counted via the log."""

from decimal import Decimal

import pytest

from integrations.connectors.salesforce import errors
from integrations.engine.errors import (
    AuthRevoked,
    RateLimited,
    ReferenceMissing,
    Unavailable,
    ValidationFailed,
)
from integrations.engine.throttle import Budget, Throttle


def test_create_get_and_update_one_record(client, calls):
    account_id = client.create("Account", {"Name": "Acme", "BillingCity": "Austin"})

    client.update("Account", account_id, {"BillingCity": "Dallas"})
    record = client.get("Account", account_id, fields=["Name", "BillingCity"])

    assert account_id.startswith("001") and len(account_id) == 18
    assert record["Name"] == "Acme"
    assert record["BillingCity"] == "Dallas"
    assert [(method, status) for method, _, status in calls.made[1:]] == [
        ("POST", 201),
        ("PATCH", 204),
        ("GET", 200),
    ]


def test_decimal_amounts_are_sent_as_numbers(client):
    account_id = client.create("Account", {"Name": "Acme"})
    opportunity_id = client.create(
        "Opportunity",
        {
            "Name": "Big deal",
            "AccountId": account_id,
            "StageName": "Prospecting",
            "CloseDate": "2025-01-31",
            "Amount": Decimal("1234.56"),
        },
    )

    assert client.get("Opportunity", opportunity_id)["Amount"] == 1234.56


def test_upsert_by_external_id_creates_then_updates(client):
    first = client.upsert("Account", "ExternalID__c", "SAGE-01-ABF", {"Name": "ABF"})
    second = client.upsert(
        "Account", "ExternalID__c", "SAGE-01-ABF", {"Name": "ABF Futures"}
    )

    assert first["created"] is True
    assert second == {"id": first["id"], "created": False}
    assert client.get("Account", first["id"])["Name"] == "ABF Futures"


def test_upsert_with_a_value_needing_escaping_round_trips(client):
    saved = client.upsert("Account", "ExternalID__c", "01/ABF X", {"Name": "Slash"})

    again = client.upsert("Account", "ExternalID__c", "01/ABF X", {"Name": "Slash 2"})

    assert again["id"] == saved["id"]


def test_a_missing_required_field_fails_validation_naming_it(client):
    with pytest.raises(ValidationFailed) as caught:
        client.create("Opportunity", {"Name": "No stage"})

    assert caught.value.field in ("StageName", "CloseDate")
    assert "Salesforce says:" in caught.value.message


def test_a_reference_to_a_missing_record_is_referential(client):
    with pytest.raises(ReferenceMissing):
        client.create(
            "Contact", {"LastName": "Nobody", "AccountId": "001000000000000AAA"}
        )


def test_an_unknown_field_in_a_query_is_a_mapping_mistake(client):
    with pytest.raises(ValidationFailed) as caught:
        client.query("SELECT Id, CurrencyIsoCode FROM Opportunity")

    assert "schema does not have" in caught.value.message
    assert caught.value.field == "CurrencyIsoCode"


def test_query_pages_through_more_than_2000_rows(salesforce, client, calls):
    for number in range(2300):
        salesforce.org.create("Account", {"Name": f"Customer {number:04d}"})

    records = client.query("SELECT Id, Name FROM Account")

    assert len(records) == 2300
    assert len({record["Id"] for record in records}) == 2300
    assert calls.count("GET", "/query") == 2  # 2000 + 300


def test_query_batch_size_is_asked_for_with_the_header(salesforce, client, calls):
    for number in range(450):
        salesforce.org.create("Account", {"Name": f"Customer {number:04d}"})

    records = client.query("SELECT Id FROM Account", batch_size=200)

    assert len(records) == 450
    assert calls.count("GET", "/query") == 3


def test_collections_chunk_450_records_into_3_calls(client, calls):
    records = [{"Name": f"Bulk {number}"} for number in range(450)]

    results = client.collection_create(records, sobject="Account")

    assert calls.count("POST", "/composite/sobjects") == 3
    assert len(results) == 450
    assert all(result["success"] for result in results)
    names = {
        record["Id"]: record["Name"]
        for record in client.query("SELECT Id, Name FROM Account")
    }
    assert [names[result["id"]] for result in results] == [r["Name"] for r in records]


def test_collection_failures_are_reported_per_record_in_order(client):
    records = [{"Name": "Good 1"}, {"BillingCity": "No name"}, {"Name": "Good 2"}]

    results = client.collection_create(records, sobject="Account")

    assert [result["success"] for result in results] == [True, False, True]
    failure = errors.for_record(results[1], doing="creating an Account")
    assert isinstance(failure, ValidationFailed)
    assert failure.field == "Name"


def test_collection_update_and_upsert(client):
    created = client.collection_upsert(
        "Account",
        "ExternalID__c",
        [{"ExternalID__c": f"EXT-{n}", "Name": f"Upserted {n}"} for n in range(3)],
    )
    updated = client.collection_update(
        [{"Id": result["id"], "BillingCity": "Reno"} for result in created],
        sobject="Account",
    )
    again = client.collection_upsert(
        "Account", "ExternalID__c", [{"ExternalID__c": "EXT-1", "Name": "Renamed"}]
    )

    assert [result["created"] for result in created] == [True, True, True]
    assert all(result["success"] for result in updated)
    assert again[0] == {
        "id": created[1]["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    assert client.get("Account", created[1]["id"])["BillingCity"] == "Reno"


def test_all_or_none_beyond_one_call_is_refused(client, calls):
    records = [{"Name": f"Bulk {number}"} for number in range(201)]

    with pytest.raises(ValidationFailed):
        client.collection_create(records, all_or_none=True, sobject="Account")

    assert calls.rest_calls == 0


def test_describe_is_cached(client, calls):
    first = client.describe("Opportunity")
    second = client.describe("Opportunity")

    assert first == second
    assert calls.count("GET", "/describe") == 1
    fields = {field["name"]: field for field in client.describe_fields("Opportunity")}
    assert fields["StageName"]["type"] == "picklist"
    assert "Closed Won" in fields["StageName"]["picklist_values"]
    assert fields["Sage_Order_No__c"]["external_id"] is True
    assert calls.count("GET", "/describe") == 1


def test_an_expired_session_is_renewed_once_transparently(salesforce, client, calls):
    client.query("SELECT Id FROM User")
    salesforce.org.expire_sessions()

    records = client.query("SELECT Id FROM User")

    assert records
    assert calls.token_requests == 2
    assert [status for _, url, status in calls.made if "/query" in url] == [
        200,
        401,
        200,
    ]


def test_a_login_that_stops_working_asks_for_reauthorisation(salesforce, client):
    client.query("SELECT Id FROM User")
    salesforce.org.expire_sessions()
    user = salesforce.org.identity.user(client.conf.username)
    user.password = "changed-by-someone"

    with pytest.raises(AuthRevoked) as caught:
        client.query("SELECT Id FROM User")

    assert "re-enter them on the connection" in caught.value.message


def test_the_daily_limit_is_rate_limited_with_the_reset_wait(salesforce, make_client):
    client = make_client(budget_reset_seconds=600)
    client.token()
    salesforce.org.set_budget(max=100, used=100)

    with pytest.raises(RateLimited) as caught:
        client.query("SELECT Id FROM Account")

    assert caught.value.retry_after == 600
    assert "daily API allowance" in caught.value.message


def test_limit_info_is_tracked_from_every_answer(salesforce, client, calls):
    salesforce.org.set_budget(max=5000, used=17)

    client.query("SELECT Id FROM Account")

    assert client.api_usage == (18, 5000)
    assert client.budget() == {"used": 18, "max": 5000, "remaining": 4982}
    assert calls.rest_calls == 1  # the budget came from the header, not /limits


def test_budget_reads_limits_when_nothing_is_known_yet(salesforce, client, calls):
    salesforce.org.set_budget(max=5000, used=40)

    budget = client.budget()

    assert budget["max"] == 5000
    assert budget["used"] == 41  # the /limits call itself counts
    assert calls.count("GET", "/limits") == 1


def test_the_low_budget_reserve_is_kept_for_people(salesforce, make_client, calls):
    client = make_client(low_budget_reserve=10)
    salesforce.org.set_budget(max=100, used=85)
    client.query("SELECT Id FROM Account")  # 86 used: 14 left
    salesforce.org.set_budget(used=89)
    client.query("SELECT Id FROM Account")  # 90 used: 10 left, the reserve
    made = calls.rest_calls

    with pytest.raises(RateLimited) as caught:
        client.query("SELECT Id FROM Account")

    assert calls.rest_calls == made  # refused here, without calling Salesforce
    assert "settings.low_budget_reserve" in caught.value.message


def test_a_busy_salesforce_is_unavailable(salesforce, client):
    client.token()
    salesforce.org.faults.fail_next(1, 503)

    with pytest.raises(Unavailable) as caught:
        client.query("SELECT Id FROM Account")

    assert "busy or unavailable" in caught.value.message


def test_calls_take_the_shared_throttle(redis_conn, make_client, calls):
    throttle = Throttle(redis_conn, "salesforce-test", Budget(per_minute=2))
    client = make_client(throttle=throttle)
    client.query("SELECT Id FROM Account")
    client.query("SELECT Id FROM Account")

    with pytest.raises(RateLimited) as caught:
        client.query("SELECT Id FROM Account")

    assert "Our own API budget" in caught.value.message
    assert calls.rest_calls == 2


def test_publish_a_platform_event(salesforce, client):
    received = []
    salesforce.org.on_platform_event(received.append)

    event_id = client.publish_event(
        "Order_Event", {"Order_Id__c": "801000000000001AAA", "Action__c": "Ship"}
    )

    assert event_id.startswith("e00")
    assert received[0].name == "Order_Event__e"
    assert received[0].fields["Action__c"] == "Ship"


def test_ping_says_who_we_are_and_the_budget(salesforce, client):
    details = client.ping()

    assert details["org_id"] == salesforce.org.org_id
    assert salesforce.org.org_id in details["summary"]
    assert "daily API calls used" in details["summary"]


def test_ping_refuses_an_api_version_the_org_does_not_serve(make_client):
    client = make_client(api_version="40.0")

    with pytest.raises(ValidationFailed) as caught:
        client.ping()

    assert caught.value.field == "settings.api_version"
    assert "62.0" in caught.value.message


def test_ping_refuses_a_different_org_than_configured(make_client):
    client = make_client(organization_id="00D000000000001AAA")

    with pytest.raises(ValidationFailed) as caught:
        client.ping()

    assert caught.value.field == "settings.organization_id"
