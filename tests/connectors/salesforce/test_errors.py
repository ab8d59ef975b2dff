"""Salesforce's error bodies, as its REST API sends them, mapped to the taxonomy."""

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from integrations.connectors.salesforce import errors
from integrations.engine.errors import (
    AuthRevoked,
    DuplicateAmbiguous,
    RateLimited,
    ReferenceMissing,
    Unavailable,
    ValidationFailed,
)

URL = "https://acme.my.salesforce.com/services/data/v62.0/sobjects/Opportunity/"


def body(code: str, message: str, fields=()) -> list[dict]:
    return [{"message": message, "errorCode": code, "fields": list(fields)}]


def mapped(exc, **kw):
    return errors.from_salesforce(exc, doing="creating an Opportunity", **kw)


def test_daily_limit_is_rate_limited_for_the_configured_reset_time():
    exc = SalesforceRefusedRequest(
        URL,
        403,
        "Opportunity",
        body("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    )

    error = mapped(exc, budget_reset_seconds=1200)

    assert isinstance(error, RateLimited)
    assert error.retry_after == 1200
    assert "TotalRequests Limit exceeded." in error.message


@pytest.mark.parametrize(
    ("code", "fields", "field"),
    [
        ("REQUIRED_FIELD_MISSING", ["CloseDate", "StageName"], "CloseDate"),
        ("STRING_TOO_LONG", ["Name"], "Name"),
        ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["StageName"], "StageName"),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", [], ""),
        ("JSON_PARSER_ERROR", [], ""),
        ("INVALID_TYPE_ON_FIELD_IN_RECORD", ["Amount"], "Amount"),
    ],
)
def test_bad_values_fail_validation_naming_the_first_field(code, fields, field):
    exc = SalesforceMalformedRequest(
        URL, 400, "Opportunity", body(code, "Nope", fields)
    )

    error = mapped(exc)

    assert isinstance(error, ValidationFailed)
    assert error.field == field
    assert "Salesforce says: Nope" in error.message


@pytest.mark.parametrize(
    "code", ["INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED", "NOT_FOUND"]
)
def test_missing_references_are_referential(code):
    exc = SalesforceMalformedRequest(
        URL, 400, "Opportunity", body(code, "invalid cross reference id", ["AccountId"])
    )

    error = mapped(exc)

    assert isinstance(error, ReferenceMissing)
    assert error.field == "AccountId"


def test_a_missing_record_is_referential():
    exc = SalesforceResourceNotFound(
        URL + "006000000000001AAA",
        404,
        "Opportunity",
        body("NOT_FOUND", "The requested resource does not exist"),
    )

    assert isinstance(mapped(exc), ReferenceMissing)


def test_duplicate_value_names_the_existing_record():
    exc = SalesforceMalformedRequest(
        URL,
        400,
        "Account",
        body(
            "DUPLICATE_VALUE",
            "duplicate value found: Sage_Id__c duplicates value on record with "
            "id: 001000000000001AAA",
            ["Sage_Id__c"],
        ),
    )

    error = mapped(exc)

    assert isinstance(error, DuplicateAmbiguous)
    assert error.candidates == ["001000000000001AAA"]


def test_several_external_id_matches_list_the_candidates():
    exc = SalesforceMoreThanOneRecord(
        URL,
        300,
        "Account",
        [
            "/services/data/v62.0/sobjects/Account/001000000000001AAA",
            "/services/data/v62.0/sobjects/Account/001000000000002AAA",
        ],
    )

    error = mapped(exc)

    assert isinstance(error, DuplicateAmbiguous)
    assert error.candidates == ["001000000000001AAA", "001000000000002AAA"]


@pytest.mark.parametrize(
    ("code", "message", "name"),
    [
        (
            "INVALID_FIELD",
            "SELECT CurrencyIsoCode FROM Opportunity\n ^\nERROR at Row:1:Column:8\n"
            "No such column 'CurrencyIsoCode' on entity 'Opportunity'.",
            "CurrencyIsoCode",
        ),
        ("INVALID_TYPE", "sObject type 'Invoice__c' is not supported.", "Invoice__c"),
        ("MALFORMED_QUERY", "unexpected token: FORM", ""),
    ],
)
def test_schema_mistakes_say_the_org_does_not_have_it(code, message, name):
    exc = SalesforceMalformedRequest(URL, 400, "query", body(code, message))

    error = mapped(exc)

    assert isinstance(error, ValidationFailed)
    assert error.field == name
    assert "schema does not have" in error.message
    assert "field mapping" in error.message


def test_an_unknown_external_id_field_is_an_admin_mistake():
    exc = SalesforceResourceNotFound(
        URL,
        404,
        "Account",
        body(
            "NOT_FOUND",
            "Provided external ID field does not exist or is not accessible: Nope__c",
        ),
    )

    assert isinstance(mapped(exc), ValidationFailed)


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (
            SalesforceGeneralError(
                URL, 503, "x", body("SERVER_UNAVAILABLE", "Try again later.")
            ),
            None,
        ),
        (
            SalesforceMalformedRequest(
                URL, 400, "x", body("UNABLE_TO_LOCK_ROW", "unable to obtain lock")
            ),
            5.0,
        ),
        (SalesforceGeneralError(URL, 500, "x", "<html>oops</html>"), None),
    ],
)
def test_busy_salesforce_is_unavailable(exc, retry):
    error = mapped(exc)

    assert isinstance(error, Unavailable)
    assert error.retry_after == retry


def test_retry_after_header_is_honoured():
    exc = SalesforceGeneralError(URL, 503, "x", body("SERVER_UNAVAILABLE", "busy"))

    assert mapped(exc, headers={"Retry-After": "42"}).retry_after == 42.0


def test_an_expired_session_after_renewal_asks_for_reauthorisation():
    exc = SalesforceExpiredSession(
        URL, 401, "x", body("INVALID_SESSION_ID", "Session expired or invalid")
    )

    assert errors.is_expired_session(exc)
    assert isinstance(mapped(exc), AuthRevoked)


def test_api_disabled_for_the_user_needs_an_admin():
    exc = SalesforceRefusedRequest(
        URL,
        403,
        "x",
        body(
            "API_DISABLED_FOR_ORG",
            "API is not enabled for this Organization or Partner",
        ),
    )

    assert isinstance(mapped(exc), AuthRevoked)


def test_a_per_record_collection_failure_maps_like_a_whole_answer():
    result = {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Name]",
                "fields": ["Name"],
            }
        ],
    }

    error = errors.for_record(result, doing="creating an Account")

    assert isinstance(error, ValidationFailed)
    assert error.field == "Name"


def test_timeouts_and_refused_connections_are_unavailable():
    request = requests.Request("GET", URL).prepare()

    timeout = errors.from_request_exception(
        requests.ReadTimeout("read timed out", request=request), doing="reading"
    )
    refused = errors.from_request_exception(
        requests.ConnectionError("Connection refused", request=request), doing="reading"
    )

    assert isinstance(timeout, Unavailable)
    assert "did not answer in time at acme.my.salesforce.com" in timeout.message
    assert isinstance(refused, Unavailable)
    assert "Cannot reach Salesforce at acme.my.salesforce.com" in refused.message
