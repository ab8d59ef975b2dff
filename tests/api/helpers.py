"""Helpers for driving the API through Django's real HTTP stack."""

from __future__ import annotations

import json

from django.test import Client

from integrations import signing
from tests.factories import api_key


def encode(body: dict | list | bytes) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def signed_headers(
    secret: str,
    body: bytes,
    *,
    event_id: str | None = "evt-1",
    topic: str = "orders/create",
    timestamp: int | None = None,
) -> dict:
    headers = {
        "HTTP_X_LEDGERBRIDGE_SIGNATURE": signing.sign(
            secret, body, timestamp=timestamp
        ),
        "HTTP_X_LEDGERBRIDGE_TOPIC": topic,
    }
    if event_id is not None:
        headers["HTTP_X_LEDGERBRIDGE_EVENT_ID"] = event_id
    return headers


def post_signed(
    client: Client,
    connection,
    body: dict | list | bytes,
    *,
    secret: str | None = None,
    **sign_options,
):
    """POST ``body`` to the generic inbound endpoint, signed as a sender would."""
    raw = encode(body)
    headers = signed_headers(
        connection.signing_secret if secret is None else secret, raw, **sign_options
    )
    return client.post(
        f"/api/v1/inbound/{connection.slug}/",
        data=raw,
        content_type="application/json",
        **headers,
    )


def key_client(*scopes: str, **key_fields) -> Client:
    """A client that sends an API key with ``scopes`` on every request."""
    _, key = api_key(*scopes, **key_fields)
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
