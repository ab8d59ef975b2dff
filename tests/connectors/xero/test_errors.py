"""xero-python's exceptions in the taxonomy, in words naming the document."""

from __future__ import annotations

import json

import pytest
import urllib3
from xero_python import exceptions as sdk

from integrations.connectors.xero import errors as xero_errors
from integrations.engine import errors


class Answer:
    """What xero-python keeps of an HTTP answer (its RESTResponse)."""

    def __init__(self, status: int, body=None, headers: dict | None = None):
        self.status = status
        self.reason = "reason"
        self.data = (
            (body if isinstance(body, bytes) else json.dumps(body).encode())
            if body is not None
            else b""
        )
        self._headers = headers or {}

    @property
    def text(self) -> str:
        return self.data.decode()

    def getheaders(self) -> dict:
        return self._headers


def validation(*messages: str) -> dict:
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [
            {
                "InvoiceNumber": "INV-7",
                "ValidationErrors": [{"Message": m} for m in messages],
            }
        ],
    }


def mapped(exc, **kw):
    return xero_errors.from_api_exception(
        exc, doing="saving it", what="invoice INV-7", **kw
    )


def test_an_unknown_item_code_is_a_missing_reference_naming_the_invoice():
    exc = sdk.AccountingBadRequestException(
        http_resp=Answer(400, validation("Item code 'WIDGET-9' is not valid"))
    )

    error = mapped(exc)

    assert isinstance(error, errors.ReferenceMissing)
    assert error.field == "ItemCode"
    assert "invoice INV-7" in error.message and "WIDGET-9" in error.message


def test_a_duplicate_invoice_number_is_a_duplicate():
    exc = sdk.AccountingBadRequestException(
        http_resp=Answer(400, validation("Invoice # must be unique."))
    )

    error = mapped(exc)

    assert isinstance(error, errors.DuplicateAmbiguous)
    assert error.field == "InvoiceNumber"


def test_a_bad_value_is_a_validation_error_with_xeros_words():
    exc = sdk.AccountingBadRequestException(
        http_resp=Answer(400, validation("Email address must be valid."))
    )

    error = mapped(exc)

    assert type(error) is errors.ValidationFailed
    assert error.field == "EmailAddress"
    assert "Email address must be valid." in error.message


def test_a_400_that_is_not_json_is_still_a_plain_validation_error():
    error = mapped(sdk.AccountingBadRequestException(http_resp=Answer(400, b"oops")))
    assert type(error) is errors.ValidationFailed


def test_429_is_rate_limited_with_retry_after_and_the_limit_hit():
    exc = sdk.RateLimitException(
        http_resp=Answer(
            429, b"", {"Retry-After": "17", "X-Rate-Limit-Problem": "Minute"}
        )
    )

    error = mapped(exc)

    assert isinstance(error, errors.RateLimited)
    assert error.retry_after == 17
    assert "minute" in error.message


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (401, errors.AuthRevoked),
        (403, errors.AuthRevoked),
        (404, errors.ReferenceMissing),
        (500, errors.Unavailable),
        (503, errors.Unavailable),
    ],
)
def test_other_statuses(status, category):
    exc = sdk.HTTPStatusException(http_resp=Answer(status, {"Title": "x"}))
    assert isinstance(mapped(exc), category)


def test_invalid_grant_means_connect_to_xero_again():
    exc = sdk.HTTPStatusException(http_resp=Answer(400, {"error": "invalid_grant"}))

    error = xero_errors.from_token_error(exc, doing="renewing the login")

    assert isinstance(error, errors.AuthRevoked)
    assert "Connect to Xero" in error.message
    assert error.field == "credentials.token_set"


def test_a_wrong_client_secret_names_the_secret():
    exc = sdk.HTTPStatusException(http_resp=Answer(400, {"error": "invalid_client"}))

    error = xero_errors.from_token_error(exc, doing="renewing the login")

    assert isinstance(error, errors.AuthRevoked)
    assert error.field == "credentials.client_secret"


def test_nothing_answering_is_unavailable():
    refused = urllib3.exceptions.MaxRetryError(
        None, "/api.xro/2.0/Invoices", ConnectionRefusedError("refused")
    )

    error = xero_errors.from_transport(
        refused, doing="saving it", url="https://127.0.0.1:1/api.xro/2.0/Invoices"
    )

    assert isinstance(error, errors.Unavailable)
    assert "127.0.0.1:1" in error.message


def test_an_untrusted_certificate_points_at_the_ca_bundle():
    failed = urllib3.exceptions.MaxRetryError(
        None, "/", urllib3.exceptions.SSLError("certificate verify failed")
    )

    error = xero_errors.from_transport(failed, doing="testing", url="https://x")

    assert error.field == "settings.ca_bundle"


def test_documents_are_named_the_way_people_know_them():
    assert xero_errors.describe("invoice", {"InvoiceNumber": "INV-1"}) == (
        "invoice INV-1"
    )
    assert xero_errors.describe("contact", {"Name": "Acme"}) == 'contact "Acme"'
    assert xero_errors.describe("payment", {}) == "payment"
