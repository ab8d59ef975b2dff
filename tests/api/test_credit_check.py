"""POST /api/v1/sage100/<slug>/credit-check, end to end through the real ODBC driver."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest
from django.core.management import call_command
from django.test import Client

from integrations import signing
from integrations.api.sage100 import CreditCheckSerializer
from integrations.models import CrossReference, System, XrefKind
from tests.api.helpers import key_client
from tests.connectors.sage100.conftest import copy_company, make_company
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db
SCOPE = "sage100:credit-check"
SIGNING_SECRET = "credit-signing-secret"


@pytest.fixture(scope="session")
def _template(tmp_path_factory):
    return make_company(tmp_path_factory.mktemp("sage-template"))


@pytest.fixture
def company(tmp_path, _template):
    return copy_company(_template, tmp_path / "sage")


@pytest.fixture
def sage(company, redis_conn):
    return ConnectionFactory(
        system=System.SAGE100,
        slug="sage-abc",
        settings={
            "company": "ABC",
            "odbc": company.odbc_settings(timeout_ms=300),
            "customer_id_udf": "SF_ACCOUNT_ID",
        },
        credentials={"signing_secret": SIGNING_SECRET},
    )


@pytest.fixture
def caller(sage) -> Client:
    return key_client(SCOPE, connection=sage)


def check(client: Client, body: dict | bytes, slug: str = "sage-abc", **headers):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        f"/api/v1/sage100/{slug}/credit-check",
        data=raw,
        content_type="application/json",
        **headers,
    )


def test_an_amount_within_available_credit_is_approved(caller):
    response = check(caller, {"customer": "ABF", "amount": "100"})

    assert response.status_code == 200
    body = response.json()
    assert body["customer"] == {
        "division": "01",
        "customer_no": "ABF",
        "name": "American Business Futures",
    }
    assert body["matched_by"] == "customer_no"
    assert (body["credit_limit"], body["current_balance"], body["open_orders"]) == (
        "5000.00",
        "1234.56",
        "100.00",
    )
    assert body["available_credit"] == "3665.44"
    assert body["amount"] == "100.00"
    assert (body["approved"], body["on_hold"]) == (True, False)
    assert body["reason"].startswith("Approved: 100.00 fits")
    assert body["checked_at"].endswith("Z")


def test_the_answer_has_exactly_the_documented_shape(caller):
    body = check(caller, {"customer": "CAPITAL", "amount": "1"}).json()

    documented = CreditCheckSerializer(data=body)
    assert documented.is_valid(), documented.errors
    assert set(body) == set(CreditCheckSerializer().fields)


def test_an_amount_over_available_credit_is_declined_saying_why(caller):
    body = check(caller, {"customer": "01-abf", "amount": 3665.45}).json()

    assert body["approved"] is False
    assert body["reason"] == (
        "Declined: 3,665.45 is more than Customer 01-ABF's available credit of "
        "3,665.44 (limit 5,000.00, balance 1,234.56, open orders 100.00)."
    )


def test_a_customer_on_credit_hold_is_declined_whatever_the_amount(caller):
    body = check(caller, {"customer": "ARTWORK", "amount": "0.01"}).json()

    assert (body["approved"], body["on_hold"]) == (False, True)
    assert "on credit hold" in body["reason"]


def test_an_inactive_customer_is_declined(caller, company):
    with company.connect() as conn:
        conn.execute(
            "UPDATE AR_Customer SET CustomerStatus = 'I' WHERE CustomerNo = 'ABF'"
        )

    body = check(caller, {"customer": "ABF", "amount": "1"}).json()

    assert body["approved"] is False
    assert "inactive" in body["reason"]


def test_a_zero_credit_limit_means_no_limit(caller):
    body = check(caller, {"customer": "capital", "amount": "1000000"}).json()

    assert body["approved"] is True
    assert body["available_credit"] is None
    assert "no credit limit" in body["reason"]


def test_the_answer_is_read_live_on_every_call(caller, company):
    assert check(caller, {"customer": "ABF", "amount": "3000"}).json()["approved"]
    with company.connect() as conn:
        conn.execute(
            "UPDATE AR_Customer SET CurrentBalance = 4000 WHERE CustomerNo='ABF'"
        )

    body = check(caller, {"customer": "ABF", "amount": "3000"}).json()
    assert (body["approved"], body["available_credit"]) == (False, "900.00")


def test_an_unknown_customer_is_404_naming_the_customer(caller):
    response = check(caller, {"customer": "NOBODY", "amount": "1"})

    assert response.status_code == 404
    assert response.json()["field"] == "customer"
    assert "No Sage 100 customer matches 'NOBODY'" in response.json()["error"]


def test_a_value_that_cannot_be_a_customer_number_is_404_not_a_crash(caller):
    response = check(caller, {"customer": "X" * 40, "amount": "1"})

    assert response.status_code == 404
    assert "longer than Sage 100's 20 characters" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer": "ABF"}, "amount"),
        ({"customer": "ABF", "amount": "lots"}, "amount"),
        ({"customer": "ABF", "amount": "-5"}, "amount"),
        ({"customer": "ABF", "amount": "1.234"}, "amount"),
        ({"amount": "1"}, "customer"),
        ({"customer": "  ", "amount": "1"}, "customer"),
        ({"customer": "ABF", "amount": "1", "division": "A"}, "division"),
    ],
)
def test_a_missing_or_invalid_value_is_400_naming_the_field(caller, body, field):
    response = check(caller, body)

    assert response.status_code == 400
    assert response.json()["field"] == field


def test_a_body_that_is_not_json_is_400(caller):
    assert check(caller, b"{not json").status_code == 400


def test_a_customer_number_in_two_divisions_is_409_until_the_division_is_given(
    caller, company
):
    from tests.connectors.sage100.conftest import insert

    insert(company, "AR_Customer", ARDivisionNo="02", CustomerNo="ABF", CreditLimit=1)

    response = check(caller, {"customer": "ABF", "amount": "1"})
    assert response.status_code == 409
    assert response.json()["field"] == "division"
    assert response.json()["candidates"] == ["01-ABF", "02-ABF"]
    answer = check(caller, {"customer": "ABF", "amount": "1", "division": "2"})
    assert answer.json()["customer"]["division"] == "02"


def test_a_cross_referenced_foreign_id_resolves_to_its_sage_customer(caller, sage):
    salesforce = ConnectionFactory(system=System.SALESFORCE)
    CrossReference.objects.create(
        kind=XrefKind.CUSTOMER,
        source_connection=salesforce,
        target_connection=sage,
        source_value="0015g00000AbCdE",
        target_value="01-ABF",
    )

    body = check(caller, {"customer": "0015g00000AbCdE", "amount": "5"}).json()

    assert body["customer"]["customer_no"] == "ABF"
    assert body["matched_by"] == "cross_reference"


def test_a_cross_reference_from_sage_to_another_system_also_resolves(caller, sage):
    shop = ConnectionFactory(system=System.SHOPIFY)
    CrossReference.objects.create(
        kind=XrefKind.CUSTOMER,
        source_connection=sage,
        target_connection=shop,
        source_value="01-ARTWORK",
        target_value="gid://shopify/Customer/7",
    )

    body = check(caller, {"customer": "gid://shopify/Customer/7", "amount": "5"})

    assert body.json()["customer"]["customer_no"] == "ARTWORK"


def test_a_cross_reference_to_a_customer_sage_lacks_is_404(caller, sage):
    CrossReference.objects.create(
        kind=XrefKind.CUSTOMER,
        source_connection=ConnectionFactory(),
        target_connection=sage,
        source_value="C-9",
        target_value="01-GONE",
    )

    response = check(caller, {"customer": "C-9", "amount": "5"})

    assert response.status_code == 404
    assert "01-GONE, which Sage 100 does not have" in response.json()["error"]


def test_a_value_cross_referenced_to_two_customers_is_409(caller, sage):
    for source, customer in (("SF", "01-ABF"), ("SHOP", "01-ARTWORK")):
        CrossReference.objects.create(
            kind=XrefKind.CUSTOMER,
            source_connection=ConnectionFactory(slug=source.lower()),
            target_connection=sage,
            source_value="C-1",
            target_value=customer,
        )

    response = check(caller, {"customer": "C-1", "amount": "5"})

    assert response.status_code == 409
    assert response.json()["field"] == "customer"
    assert response.json()["candidates"] == ["01-ABF", "01-ARTWORK"]


def test_cross_references_of_other_kinds_or_connections_are_ignored(caller, sage):
    other_sage = ConnectionFactory(system=System.SAGE100)
    for kind, target in ((XrefKind.ITEM, sage), (XrefKind.CUSTOMER, other_sage)):
        CrossReference.objects.create(
            kind=kind,
            source_connection=ConnectionFactory(),
            target_connection=target,
            source_value="ABF",
            target_value="01-ARTWORK",
        )

    body = check(caller, {"customer": "ABF", "amount": "5"}).json()

    assert (body["customer"]["customer_no"], body["matched_by"]) == (
        "ABF",
        "customer_no",
    )


def test_a_foreign_id_in_the_connections_udf_resolves(caller):
    body = check(caller, {"customer": "001B", "amount": "5"}).json()

    assert body["customer"]["customer_no"] == "ARTWORK"
    assert body["matched_by"] == "udf"


def test_a_key_without_the_scope_is_403(sage):
    response = check(key_client("records:read", connection=sage), {"customer": "ABF"})

    assert response.status_code == 403
    assert "lacks the sage100:credit-check scope" in response.json()["error"]


def test_a_key_bound_to_another_connection_is_403(sage):
    other = ConnectionFactory(system=System.SAGE100)
    response = check(
        key_client(SCOPE, connection=other), {"customer": "ABF", "amount": "1"}
    )

    assert response.status_code == 403
    assert "bound to another connection" in response.json()["error"]


def test_a_key_bound_to_no_connection_may_check_any(sage):
    response = check(key_client(SCOPE), {"customer": "ABF", "amount": "1"})
    assert response.status_code == 200


def test_no_key_and_no_signature_is_401(sage):
    response = check(Client(), {"customer": "ABF", "amount": "1"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_request_signed_with_the_connections_secret_is_accepted(sage):
    raw = json.dumps({"customer": "ABF", "amount": "10"}).encode()
    header = signing.sign(SIGNING_SECRET, raw)

    response = check(Client(), raw, HTTP_X_LEDGERBRIDGE_SIGNATURE=header)

    assert response.status_code == 200
    assert response.json()["approved"] is True


def test_a_request_signed_with_another_secret_is_401(sage):
    raw = json.dumps({"customer": "ABF", "amount": "10"}).encode()
    header = signing.sign("not-the-secret", raw)

    response = check(Client(), raw, HTTP_X_LEDGERBRIDGE_SIGNATURE=header)

    assert response.status_code == 401
    assert response.json()["field"] == signing.HEADER


def test_an_unknown_connection_is_404(caller):
    response = check(caller, {"customer": "ABF", "amount": "1"}, slug="nope")

    assert response.status_code == 404
    assert response.json()["field"] == "connection_slug"


def test_a_connection_of_another_system_is_not_a_sage_connection(caller):
    ConnectionFactory(slug="generic-one", system=System.GENERIC)

    response = check(caller, {"customer": "ABF", "amount": "1"}, slug="generic-one")

    assert response.status_code == 404


def test_sage_unreachable_is_503_with_a_clear_body_never_a_guess(caller, company):
    company.path.rename(company.path.with_suffix(".offline"))

    response = check(caller, {"customer": "ABF", "amount": "1"})

    assert response.status_code == 503
    body = response.json()
    assert body["error"].startswith("Sage 100 cannot answer the credit check now")
    assert "approved" not in body


def test_sage_busy_beyond_its_timeout_is_503_with_retry_after(caller, company):
    check(caller, {"customer": "ABF", "amount": "1"})  # columns known: one SELECT
    holder = sqlite3.connect(company.path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        response = check(caller, {"customer": "ABF", "amount": "1"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "locked" in response.json()["error"]


def test_over_the_connections_own_call_budget_is_429_with_retry_after(caller, sage):
    sage.calls_per_minute = 1
    del sage.settings["customer_id_udf"]  # one Sage read per check
    sage.save()

    first = check(caller, {"customer": "01-ABF", "amount": "1"})
    assert first.status_code == 200, first.json()
    response = check(caller, {"customer": "01-ABF", "amount": "1"})

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "budget" in response.json()["error"]


def test_a_misconfigured_udf_is_422_naming_it_not_retry_later(caller, sage):
    """A setup mistake: retrying cannot help, so the caller is not told to."""
    sage.settings["customer_id_udf"] = "UDF_NOT_THERE"
    sage.save()

    response = check(caller, {"customer": "ABF", "amount": "1"})

    assert response.status_code == 422
    assert response.json()["field"] == "UDF_NOT_THERE"
    assert "Retry-After" not in response


def test_create_api_key_accepts_the_credit_check_scope(sage):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_key",
        "Web shop",
        "--scope",
        SCOPE,
        "--connection",
        sage.slug,
        stdout=out,
        stderr=err,
    )
    key = out.getvalue().strip()

    response = check(Client(HTTP_X_API_KEY=key), {"customer": "ABF", "amount": "1"})
    assert response.status_code == 200


def test_the_schema_documents_the_credit_check(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/sage100/{connection_slug}/credit-check"][
        "post"
    ]
    assert set(operation["responses"]) >= {"200", "400", "403", "404", "503"}
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    assert request["$ref"].endswith("/CreditCheckRequest")
    assert (
        "available_credit"
        in schema["components"]["schemas"]["CreditCheck"]["properties"]
    )
