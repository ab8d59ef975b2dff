"""Shopify's answers turned into our error taxonomy.

Shopify's error body is ``{"errors": "text"}`` or ``{"errors": {field:
[messages]}}`` (sometimes a list); the first field named becomes the error's
field.
"""

from __future__ import annotations

import requests

from integrations.connectors.base import retry_after
from integrations.engine import errors


def describe(body) -> tuple[str, str]:
    """(message, field) from a Shopify error body."""
    problems = body.get("errors") if isinstance(body, dict) else None
    if isinstance(problems, dict) and problems:
        name, said = next(iter(problems.items()))
        said = "; ".join(map(str, said)) if isinstance(said, list) else str(said)
        return f"{name} {said}", str(name)
    if isinstance(problems, list) and problems:
        return "; ".join(map(str, problems)), ""
    if isinstance(problems, str):
        return problems, ""
    return "", ""


def from_response(response: requests.Response, *, field: str = "") -> errors.SyncError:
    status = response.status_code
    message, named = describe(_json(response))
    message = message or f"HTTP {status}"
    detail = response.text[:4000]
    if status == 429:
        return errors.RateLimited(
            f"Shopify is rate limiting us: {message}",
            retry_after=retry_after(response.headers) or 1.0,
            detail=detail,
        )
    if status in (401, 403):
        return errors.AuthRevoked(
            f"Shopify refused the access token: {message}", detail=detail
        )
    if status == 404:
        return errors.ReferenceMissing(
            f"Shopify has no such {field or 'resource'}: {message}",
            field=field,
            detail=detail,
        )
    if status in (400, 422):
        return errors.ValidationFailed(
            f"Shopify rejected the request: {message}",
            field=named or field,
            detail=detail,
        )
    return errors.Unavailable(
        f"Shopify answered HTTP {status}: {message}",
        retry_after=retry_after(response.headers),
        detail=detail,
    )


def from_exception(exc: requests.RequestException) -> errors.SyncError:
    if isinstance(exc, requests.Timeout):
        return errors.Unavailable("Shopify did not answer in time.", detail=str(exc))
    return errors.Unavailable(f"Cannot reach Shopify: {exc}", detail=str(exc))


def _json(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return {}
