"""Salesforce failures turned into the taxonomy: the only place that knows them.

Salesforce explains a refusal in the body, ``[{"errorCode", "message",
"fields"}]``; the HTTP status alone says little (400 covers a missing field and
a broken query alike). Every message keeps Salesforce's own words after ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import requests
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMoreThanOneRecord,
)

from integrations.connectors.base import retry_after
from integrations.engine import errors

RATE_LIMIT = "REQUEST_LIMIT_EXCEEDED"
EXPIRED = "INVALID_SESSION_ID"

_BAD_VALUE = {
    "REQUIRED_FIELD_MISSING": "a required field is empty",
    "STRING_TOO_LONG": "a value is longer than the field allows",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "a value is not in the picklist",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "a validation rule refused the record",
    "JSON_PARSER_ERROR": "the record could not be read",
    "INVALID_TYPE_ON_FIELD_IN_RECORD": "a value has the wrong type for its field",
    "FIELD_INTEGRITY_EXCEPTION": "a value does not fit the field",
    "INVALID_FIELD_FOR_INSERT_UPDATE": "a field cannot be written",
    "FIELD_FILTER_VALIDATION_EXCEPTION": "a lookup value does not match its filter",
    "NUMBER_OUTSIDE_VALID_RANGE": "a number is out of range",
    "INVALID_EMAIL_ADDRESS": "an email address is not valid",
    "MALFORMED_ID": "an id is not a Salesforce id",
    "INVALID_ID_FIELD": "an id is not valid here",
    "INSUFFICIENT_ACCESS_OR_READONLY": "the integration user may not change it",
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": "an automation in Salesforce refused it",
}
_MISSING = ("INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED", "NOT_FOUND")
_DUPLICATE = ("DUPLICATE_VALUE", "DUPLICATES_DETECTED", "DUPLICATE_EXTERNAL_ID")
_SCHEMA = (
    "INVALID_FIELD",
    "MALFORMED_QUERY",
    "INVALID_TYPE",
    "INVALID_QUERY_FILTER_OPERATOR",
)
_BUSY = (
    "UNABLE_TO_LOCK_ROW",
    "SERVER_UNAVAILABLE",
    "QUERY_TIMEOUT",
    "REQUEST_RUNNING_TOO_LONG",
)
_ACCOUNT = ("API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED", "INSUFFICIENT_ACCESS")
_RECORD_ID = re.compile(r"\b([a-zA-Z0-9]{3}[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?)\b")
_ID_AFTER = re.compile(r"\bid:\s*([a-zA-Z0-9]{15,18})\b")
_NO_COLUMN = re.compile(r"No such column '([^']+)'")
_NO_TYPE = re.compile(r"sObject type '([^']+)' is not supported")
_EXTERNAL_FIELD = re.compile(r"external id field", re.IGNORECASE)


def problems(content) -> list[dict]:
    """Salesforce's error list, whatever shape the body came in."""
    if isinstance(content, Mapping):
        content = [content]
    if not isinstance(content, list):
        return [{"message": str(content or "")}] if content else []
    return [dict(item) for item in content if isinstance(item, Mapping)]


def first_problem(content) -> tuple[str, str, list[str]]:
    """``(errorCode, message, fields)`` of the first problem in a body."""
    found = problems(content)
    first = found[0] if found else {}
    code = str(first.get("errorCode") or first.get("statusCode") or "")
    message = str(first.get("message") or "")
    fields = [str(name) for name in first.get("fields") or []]
    return code, message, fields


def is_expired_session(exc: BaseException) -> bool:
    if not isinstance(exc, SalesforceExpiredSession):
        return False
    code, _, _ = first_problem(exc.content)
    return code in ("", EXPIRED)


def from_salesforce(
    exc: SalesforceError,
    *,
    doing: str,
    budget_reset_seconds: float = 900.0,
    headers: Mapping[str, str] | None = None,
) -> errors.SyncError:
    """A simple-salesforce exception raised while ``doing`` something."""
    status = int(getattr(exc, "status", 0) or 0)
    content = getattr(exc, "content", None)
    code, message, fields = first_problem(content)
    said = message or (str(content)[:300] if content else f"HTTP {status}")
    detail = f"HTTP {status} {exc.url}: {content!r}"[:4000]
    wait = retry_after(headers or {})
    if isinstance(exc, SalesforceMoreThanOneRecord) or status == 300:
        candidates = _ids_from_urls(content)
        return errors.DuplicateAmbiguous(
            f"More than one Salesforce record has that external id while {doing} "
            f"({len(candidates)} found); merge the duplicates in Salesforce.",
            candidates=candidates,
            detail=detail,
        )
    return from_problem(
        code,
        said,
        fields,
        doing=doing,
        status=status,
        budget_reset_seconds=budget_reset_seconds,
        wait=wait,
        detail=detail,
    )


def from_problem(
    code: str,
    said: str,
    fields: list[str] | tuple[str, ...] = (),
    *,
    doing: str,
    status: int = 400,
    budget_reset_seconds: float = 900.0,
    wait: float | None = None,
    detail: str = "",
) -> errors.SyncError:
    """One Salesforce problem (a whole answer, or one record of a collection)."""
    field = fields[0] if fields else ""
    words = f"Salesforce says: {said}" if said else f"HTTP {status}"
    if code == RATE_LIMIT:
        return errors.RateLimited(
            f"Salesforce's daily API allowance for this org is used up while "
            f"{doing}; calls resume once it frees up ({words}).",
            retry_after=wait or budget_reset_seconds,
            detail=detail,
        )
    if code == EXPIRED or status == 401:
        return errors.AuthRevoked(
            f"Salesforce no longer accepts the connection's login while {doing}, "
            f"even after logging in again ({words}); re-authorise the connection.",
            detail=detail,
        )
    if code in _BAD_VALUE:
        return errors.ValidationFailed(
            f"Salesforce refused the record while {doing}: {_BAD_VALUE[code]}"
            f"{_naming(fields)} ({words}).",
            field=field,
            detail=detail,
        )
    if code in _DUPLICATE:
        return errors.DuplicateAmbiguous(
            f"Salesforce already has a record with that value while {doing}"
            f"{_naming(fields)} ({words}).",
            candidates=_ID_AFTER.findall(said),
            field=field,
            detail=detail,
        )
    if code in _SCHEMA or (code == "NOT_FOUND" and _EXTERNAL_FIELD.search(said)):
        name = field or _schema_name(said)
        return errors.ValidationFailed(
            f"This Salesforce org's schema does not have "
            f"{repr(name) if name else 'what was asked for'} while {doing}; an "
            f"admin should fix the field mapping ({words}).",
            field=name,
            detail=detail,
        )
    if code in _MISSING or status == 404:
        return errors.ReferenceMissing(
            f"A Salesforce record it refers to does not exist or was deleted while "
            f"{doing}{_naming(fields)} ({words}).",
            field=field,
            detail=detail,
        )
    if code in _BUSY or status >= 500:
        return errors.Unavailable(
            f"Salesforce is busy or unavailable while {doing}; will retry ({words}).",
            retry_after=wait or (5.0 if code == "UNABLE_TO_LOCK_ROW" else None),
            detail=detail,
        )
    if code in _ACCOUNT:
        return errors.AuthRevoked(
            f"Salesforce does not let the integration user use the API while "
            f"{doing} ({words}); give the user API access and the needed "
            "permissions.",
            detail=detail,
        )
    if status == 403:
        return errors.ValidationFailed(
            f"Salesforce refused the request while {doing}{_naming(fields)} ({words}).",
            field=field,
            detail=detail,
        )
    return errors.ValidationFailed(
        f"Salesforce refused the request while {doing}{_naming(fields)} "
        f"({code + ': ' if code else ''}{words}).",
        field=field,
        detail=detail,
    )


def from_request_exception(
    exc: requests.RequestException, *, doing: str
) -> errors.SyncError:
    """No answer at all: TLS, refused connections, timeouts."""
    request = getattr(exc, "request", None)
    url = getattr(request, "url", "") or ""
    where = f" at {_host(url)}" if url else ""
    if isinstance(exc, requests.exceptions.SSLError):
        return errors.Unavailable(
            f"Cannot verify Salesforce's TLS certificate{where} while {doing}; if "
            "the server uses a private CA, set settings.ca_bundle to its "
            f"certificate ({_reason(exc)}).",
            field="settings.ca_bundle",
            detail=str(exc)[:2000],
        )
    if isinstance(exc, requests.Timeout):
        return errors.Unavailable(
            f"Salesforce did not answer in time{where} while {doing}.",
            detail=str(exc)[:2000],
        )
    return errors.Unavailable(
        f"Cannot reach Salesforce{where} while {doing} ({_reason(exc)}).",
        detail=str(exc)[:2000],
    )


def for_record(result: Mapping, *, doing: str) -> errors.SyncError:
    """A collection's per-record failure as an error the caller may raise."""
    found = result.get("errors") or []
    code, said, fields = first_problem(found)
    return from_problem(code, said, fields, doing=doing, detail=repr(found)[:4000])


def _naming(fields) -> str:
    return f" ({', '.join(fields)})" if fields else ""


def _schema_name(said: str) -> str:
    for pattern in (_NO_COLUMN, _NO_TYPE):
        match = pattern.search(said)
        if match:
            return match.group(1)
    return ""


def _ids_from_urls(content) -> list[str]:
    ids = []
    for item in content if isinstance(content, list) else []:
        text = str(item).rstrip("/")
        match = _RECORD_ID.search(text.rsplit("/", 1)[-1])
        if match:
            ids.append(match.group(1))
    return ids


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _reason(exc: BaseException) -> str:
    """The innermost cause's words, without urllib3's pool wrappers."""
    text = str(exc)
    for marker in ("Caused by ", "(Caused by "):
        if marker in text:
            text = text.split(marker, 1)[1].rstrip(")")
    return text[:300]
