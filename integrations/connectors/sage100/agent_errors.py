"""The Sage 100 agent's answers as taxonomy errors: the only place that knows them.

The agent answers ``{"error": {"code", "message", "column", "retryable"}}``;
its ``message`` is Sage's own ``sLastErrorMsg`` for a business-object refusal,
which finance staff recognise from the Sage screens, so it is passed on as
"Sage 100 says: ...".
"""

from __future__ import annotations

import requests

from integrations.connectors.base import retry_after
from integrations.engine import errors

LOCKED_RETRY_SECONDS = 5.0


def from_response(response: requests.Response) -> errors.SyncError:
    status = response.status_code
    error = _error(response)
    message = str(error.get("message") or "").strip() or f"HTTP {status}"
    column = str(error.get("column") or "")
    code = str(error.get("code") or "")
    detail = f"HTTP {status} {response.text[:4000]}"
    wait = retry_after(response.headers)
    if status == 401:
        return errors.AuthRevoked(
            f"The Sage 100 agent refused our signature: {message} Check the "
            "connection's agent key id and secret against the agent's keys.",
            detail=detail,
        )
    if status == 403:
        return errors.AuthRevoked(
            f"Sage 100 refused the agent's login: {message} Check the Sage user "
            "and password in the agent's settings.",
            detail=detail,
        )
    if status == 409 and code == "outcome_unknown":
        return errors.ConflictDetected(
            f"The Sage 100 agent was interrupted writing this: {message}",
            detail=detail,
        )
    if status == 409:
        return errors.ConflictDetected(
            f"The Sage 100 agent already used this write's idempotency key for a "
            f"different request: {message}",
            field="idempotency_key",
            detail=detail,
        )
    if status == 422 and code in ("not_on_file", "not_found"):
        return errors.ReferenceMissing(
            f"Sage 100 says: {message}", field=column, detail=detail
        )
    if status == 422:
        return errors.ValidationFailed(
            f"Sage 100 says: {message}", field=column, detail=detail
        )
    if status == 423:
        return errors.Unavailable(
            f"Sage 100 says: {message} (someone has the record open; will retry)",
            retry_after=wait or LOCKED_RETRY_SECONDS,
            field=column,
            detail=detail,
        )
    if status == 413:
        return errors.ValidationFailed(
            f"The write is too large for the Sage 100 agent: {message}",
            detail=detail,
        )
    if status == 400:
        return errors.ValidationFailed(
            f"The Sage 100 agent could not read the request: {message}",
            field=column,
            detail=detail,
        )
    if status in (404, 405):
        return errors.ValidationFailed(
            f"The Sage 100 agent does not offer this call ({message}); check the "
            "connection's agent URL and that the agent is up to date.",
            detail=detail,
        )
    if status == 503:
        return errors.Unavailable(
            f"Sage 100 is not available: {message}",
            retry_after=wait,
            detail=detail,
        )
    return errors.Unavailable(
        f"The Sage 100 agent answered HTTP {status}: {message}",
        retry_after=wait,
        detail=detail,
    )


def from_exception(exc: requests.RequestException, *, url: str) -> errors.SyncError:
    """No answer at all. A write may still have happened: the retry carries the
    same idempotency key, and the agent answers it with the first result."""
    if isinstance(exc, requests.exceptions.SSLError):
        return errors.Unavailable(
            f"The Sage 100 agent's TLS certificate was not accepted at {url}: "
            "check the connection's agent CA bundle.",
            detail=str(exc),
        )
    if isinstance(exc, requests.Timeout):
        return errors.Unavailable(
            "The Sage 100 agent did not answer in time.", detail=str(exc)
        )
    return errors.Unavailable(
        f"Cannot reach the Sage 100 agent at {url}: is it running?", detail=str(exc)
    )


def _error(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}
