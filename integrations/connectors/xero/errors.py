"""Xero failures turned into the taxonomy: the only place that knows them.

xero-python raises ``AccountingBadRequestException`` (400, ``.error_data`` is
Xero's ``ValidationException`` body), ``NotFoundException``,
``RateLimitException`` (``.rate_limit`` names the limit, ``Retry-After`` says
when) and ``HTTPStatusException`` for the rest; urllib3 raises when nothing
answered. Xero's own words are kept after ours, and a refused document is named
("invoice INV-0042") with the field at fault when Xero's message points at one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import urllib3
from xero_python import exceptions as sdk

from integrations.engine import errors

RETRY_AFTER_DEFAULT = 60.0

# (pattern in Xero's message, field it names); the first match wins.
_FIELDS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), name)
    for pattern, name in (
        (r"item ?code", "ItemCode"),
        (r"account ?code|account '", "AccountCode"),
        (r"tax ?type|tax rate", "TaxType"),
        (r"invoice ?(#|number)", "InvoiceNumber"),
        (r"purchase ?order ?(#|number)", "PurchaseOrderNumber"),
        (r"contact ?number", "ContactNumber"),
        (r"contact ?name|\bname\b.*unique", "Name"),
        (r"contact", "Contact"),
        (r"e-?mail", "EmailAddress"),
        (r"currency", "CurrencyCode"),
        (r"quantity", "Quantity"),
        (r"unit ?amount|unit price", "UnitAmount"),
        (r"description", "Description"),
        (r"due ?date", "DueDate"),
        (r"\bdate\b|lock date", "Date"),
        (r"status", "Status"),
        (r"\bamount\b|overpay|outstanding", "Amount"),
        (r"line ?item", "LineItems"),
    )
)
_MISSING = re.compile(
    r"not (a )?valid|does not exist|could not be found|not found|no longer exists|"
    r"is archived|has been deleted|unknown",
    re.IGNORECASE,
)
_DUPLICATE = re.compile(r"must be unique|already (assigned|exists|in use)", re.I)
_REFERENCE_FIELDS = {"ItemCode", "AccountCode", "TaxType", "CurrencyCode", "Contact"}


def describe(kind: str, document: Mapping | None) -> str:
    """'invoice INV-0042', 'contact "Acme Ltd"': what a person recognises."""
    document = document or {}
    for key in (
        "InvoiceNumber",
        "CreditNoteNumber",
        "PurchaseOrderNumber",
        "Reference",
        "Code",
        "ContactNumber",
        "Name",
        "InvoiceID",
        "ContactID",
        "ItemID",
        "PaymentID",
    ):
        value = document.get(key)
        if value:
            return (
                f'{kind} "{value}"'
                if key in ("Name", "Reference")
                else (f"{kind} {value}")
            )
    return kind


def field_in(message: str) -> str:
    for pattern, name in _FIELDS:
        if pattern.search(message):
            return name
    return ""


def validation_messages(element: Mapping | None) -> list[str]:
    """Xero's per-element ``ValidationErrors`` messages, in order."""
    found = (element or {}).get("ValidationErrors") or []
    return [str(v.get("Message") or v) for v in found if v]


def for_messages(
    messages: list[str], *, doing: str, what: str, detail: str = ""
) -> errors.SyncError:
    """One refused document: the first of Xero's messages decides the category."""
    said = "; ".join(messages) or "no reason given"
    first = messages[0] if messages else ""
    field = field_in(first)
    words = f"Xero refused {what} while {doing}: {said}"
    if _DUPLICATE.search(first):
        return errors.DuplicateAmbiguous(
            f"{words}. Xero already has one; link it with a cross-reference or "
            "change the value.",
            field=field,
            detail=detail,
        )
    if field in _REFERENCE_FIELDS and _MISSING.search(first):
        return errors.ReferenceMissing(
            f"{words}. Add it in Xero, or map it to one that exists (cross-reference).",
            field=field,
            detail=detail,
        )
    return errors.ValidationFailed(f"{words}.", field=field, detail=detail)


def for_element(element: Mapping, *, doing: str, what: str) -> errors.SyncError:
    return for_messages(
        validation_messages(element),
        doing=doing,
        what=what,
        detail=json.dumps(element, default=str)[:4000],
    )


def retry_after(headers: Mapping | None) -> float | None:
    for key, value in (headers or {}).items():
        if str(key).lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return None
    return None


def _header(headers: Mapping | None, name: str) -> str:
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            return str(value)
    return ""


def _status(exc: sdk.ApiException) -> int:
    """The HTTP status, read from the answer: the SDK's ``.status`` parses the
    body first and fails on one that is not JSON."""
    status = getattr(exc.http_resp, "status", None) or exc._status or 0
    try:
        return int(status)
    except (TypeError, ValueError):
        return 0


def _body(exc: sdk.ApiException) -> str:
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return str(body or "")


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def from_api_exception(
    exc: sdk.ApiException, *, doing: str, what: str = "the request"
) -> errors.SyncError:
    """An exception xero-python raised for an answer Xero gave."""
    status = _status(exc)
    headers = exc.headers or {}
    text = _body(exc)
    detail = f"HTTP {status}: {text}"[:4000]
    if isinstance(exc, sdk.ApiSSLException):
        return errors.Unavailable(
            f"Cannot verify Xero's TLS certificate while {doing}; if the server "
            "uses a private CA, set settings.ca_bundle to its certificate.",
            field="settings.ca_bundle",
            detail=str(exc._reason or exc)[:2000],
        )
    if isinstance(exc, sdk.RateLimitException) or status == 429:
        problem = _header(headers, "x-rate-limit-problem") or "minute"
        wait = retry_after(headers)
        return errors.RateLimited(
            f"Xero's {problem.lower()} call limit for this organisation is used up "
            f"while {doing}; calls resume in {int(wait or RETRY_AFTER_DEFAULT)} s.",
            retry_after=wait if wait is not None else RETRY_AFTER_DEFAULT,
            detail=detail,
        )
    body = _json(text)
    if status == 400:
        return _bad_request(body, doing=doing, what=what, detail=detail)
    if status == 401:
        return errors.AuthRevoked(
            f"Xero no longer accepts the connection's login while {doing}, even "
            "after renewing it; press Connect to Xero to authorise again.",
            detail=detail,
        )
    if status == 403:
        return errors.AuthRevoked(
            f"Xero refused access to this organisation while {doing} "
            f"({_said(body) or 'forbidden'}): the app may have been disconnected "
            "from it or lack a permission; press Connect to Xero and choose the "
            "organisation again.",
            field="settings.tenant_id",
            detail=detail,
        )
    if isinstance(exc, sdk.NotFoundException) or status == 404:
        return errors.ReferenceMissing(
            f"Xero could not find {what} while {doing} (it may have been deleted).",
            detail=detail,
        )
    if status >= 500 or status in (0, 408):
        return errors.Unavailable(
            f"Xero is not answering properly while {doing} (HTTP {status}); will "
            "retry.",
            retry_after=retry_after(headers),
            detail=detail,
        )
    return errors.ValidationFailed(
        f"Xero refused {what} while {doing} (HTTP {status}: "
        f"{_said(body) or 'no reason given'}).",
        detail=detail,
    )


def _said(body) -> str:
    if isinstance(body, Mapping):
        return str(
            body.get("Detail")
            or body.get("Message")
            or body.get("Title")
            or body.get("error_description")
            or body.get("error")
            or ""
        )
    return ""


def _bad_request(body, *, doing: str, what: str, detail: str) -> errors.SyncError:
    if not isinstance(body, Mapping):
        return errors.ValidationFailed(
            f"Xero refused {what} while {doing} (HTTP 400).", detail=detail
        )
    elements = body.get("Elements") or []
    messages = [m for element in elements for m in validation_messages(element)]
    if messages:
        error = for_messages(messages, doing=doing, what=what, detail=detail)
    else:
        error = errors.ValidationFailed(
            f"Xero refused {what} while {doing}: {_said(body) or 'no reason given'}.",
            field=field_in(_said(body)),
            detail=detail,
        )
    # The whole answer, for a batch whose elements can still be told apart.
    error.xero_body = body
    return error


def from_token_error(exc: sdk.ApiException, *, doing: str) -> errors.SyncError:
    """A refusal from Xero's token, revocation or consent endpoints (OAuth 2.0)."""
    status = _status(exc)
    text = _body(exc)
    body = _json(text) if text else None
    code = str(body.get("error") or "") if isinstance(body, Mapping) else ""
    said = _said(body) if isinstance(body, Mapping) else ""
    detail = f"HTTP {status}: {text}"[:2000]
    if code == "invalid_grant":
        return errors.AuthRevoked(
            f"Xero no longer accepts this connection's authorisation while {doing} "
            "(invalid_grant: it was revoked, expired after 60 days unused, or "
            "already used); press Connect to Xero to authorise again.",
            field="credentials.token_set",
            detail=detail,
        )
    if code in ("invalid_client", "unauthorized_client") or status == 401:
        return errors.AuthRevoked(
            f"Xero refused the app's client id or secret while {doing} "
            f"({said or code or 'HTTP 401'}); re-enter credentials.client_id and "
            "credentials.client_secret from developer.xero.com.",
            field="credentials.client_secret",
            detail=detail,
        )
    if code in ("unsupported_grant_type", "invalid_scope"):
        return errors.ValidationFailed(
            f"Xero does not allow this while {doing} ({said or code}); check "
            "settings.grant and settings.scopes against the app's set-up.",
            field="settings.grant"
            if code == "unsupported_grant_type"
            else ("settings.scopes"),
            detail=detail,
        )
    return from_api_exception(exc, doing=doing, what="the login")


def from_transport(exc: Exception, *, doing: str, url: str = "") -> errors.SyncError:
    """Nothing answered: refused connections, timeouts, TLS failures."""
    reason = getattr(exc, "reason", None) or exc
    host = urlsplit(url).netloc or url
    where = f" at {host}" if host else ""
    if isinstance(reason, urllib3.exceptions.SSLError) or isinstance(
        exc, urllib3.exceptions.SSLError
    ):
        return errors.Unavailable(
            f"Cannot verify Xero's TLS certificate{where} while {doing}; if the "
            "server uses a private CA, set settings.ca_bundle to its certificate "
            f"({reason}).",
            field="settings.ca_bundle",
            detail=str(exc)[:2000],
        )
    if isinstance(reason, urllib3.exceptions.TimeoutError) or isinstance(
        exc, urllib3.exceptions.TimeoutError
    ):
        return errors.Unavailable(
            f"Xero did not answer in time{where} while {doing}.",
            detail=str(exc)[:2000],
        )
    return errors.Unavailable(
        f"Cannot reach Xero{where} while {doing} ({str(reason)[:300]}).",
        detail=str(exc)[:2000],
    )


TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError)
