"""HTTP answers of a generic JSON endpoint, turned into our error taxonomy."""

from __future__ import annotations

import requests

from integrations.connectors.base import retry_after
from integrations.engine import errors


def from_response(response: requests.Response) -> errors.SyncError:
    status, body = response.status_code, _json(response)
    problems = body.get("errors") if isinstance(body, dict) else None
    first = problems[0] if isinstance(problems, list) and problems else {}
    message = (
        first.get("message") or (body.get("error") if isinstance(body, dict) else "")
    ) or f"HTTP {status}"
    field = first.get("field", "") or ""
    detail = response.text[:4000]
    if status == 429:
        return errors.RateLimited(
            f"The target is rate limiting us: {message}",
            retry_after=retry_after(response.headers),
            detail=detail,
        )
    if status in (401, 403):
        return errors.AuthRevoked(
            f"The target refused our credentials: {message}", detail=detail
        )
    if status == 409:
        return errors.ConflictDetected(message, field=field, detail=detail)
    if status in (400, 404, 422):
        return errors.ValidationFailed(
            f"The target rejected the document: {message}", field=field, detail=detail
        )
    return errors.Unavailable(
        f"The target answered HTTP {status}: {message}",
        retry_after=retry_after(response.headers),
        detail=detail,
    )


def from_exception(exc: requests.RequestException) -> errors.SyncError:
    if isinstance(exc, requests.Timeout):
        return errors.Unavailable("The target did not answer in time.", detail=str(exc))
    return errors.Unavailable(f"Cannot reach the target: {exc}", detail=str(exc))


def _json(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return {}
