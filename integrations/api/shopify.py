"""Shopify webhooks to us: ``POST /api/v1/inbound/shopify/<connection>/webhook``.

Shopify signs the raw body (``X-Shopify-Hmac-Sha256`` = base64 HMAC-SHA256
under the app's secret, our connection's ``credentials.webhook_secret``), so
the signature is checked in constant time before the body is parsed. The
event is stored through the inbox keyed on ``X-Shopify-Event-Id`` (the same on
every delivery of one event; the webhook id as a fallback), so a repeat is
answered 200 and creates nothing. Shopify wants a 2xx within 5 seconds: this
view only checks, stores and answers; workers do the rest (API-FACTS §3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.api.errors import error_response
from integrations.api.serializers import ErrorSerializer, InboundAcceptedSerializer
from integrations.api.views import _inbound_answer, stored_headers
from integrations.models import Connection, ConnectionStatus
from integrations.services import inbox

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
TOPIC_PREFIX, EVENT_PREFIX = "shopify.", "shopify:"
MAX_TOPIC, MAX_EVENT_ID = 200 - len(TOPIC_PREFIX), 255 - len(EVENT_PREFIX)
# Which id in the body each topic family must carry for flows to act on it.
REQUIRED_ID = {"orders/": "id", "refunds/": "order_id"}


def expected_hmac(secret: str, body: bytes) -> bytes:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest)


def _signature_refused(connection: Connection, raw: bytes, given: str) -> str:
    """Why the body is not signed by this connection's shop ("" when it is)."""
    secret = str(connection.credentials.get("webhook_secret") or "")
    if not secret:
        return (
            "The connection has no webhook secret: set credentials.webhook_secret "
            "to the Shopify app's client secret."
        )
    if not given:
        return f"The {HMAC_HEADER} header is missing."
    if not hmac.compare_digest(expected_hmac(secret, raw), given.strip().encode()):
        return f"The {HMAC_HEADER} header does not match the body."
    return ""


def _unusable(request: Request, raw: bytes) -> tuple[str, str, dict | None]:
    """(message, field) when a signed delivery cannot be used, else ("", "",
    the parsed body)."""
    topic = request.headers.get(TOPIC_HEADER, "")
    if not topic or len(topic) > MAX_TOPIC:
        return f"Give the topic (at most {MAX_TOPIC} characters).", TOPIC_HEADER, None
    event_id = _event_id(request)
    if not event_id or len(event_id) > MAX_EVENT_ID:
        return (
            f"Give {EVENT_ID_HEADER} (or {WEBHOOK_ID_HEADER}), at most "
            f"{MAX_EVENT_ID} characters, so repeats can be recognised.",
            EVENT_ID_HEADER,
            None,
        )
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"The body is not valid JSON: {exc}", "body", None
    if not isinstance(body, dict):
        return "The body must be a JSON object (the Shopify resource).", "body", None
    for prefix, key in REQUIRED_ID.items():
        value = body.get(key)
        if topic.startswith(prefix) and (
            not isinstance(value, int) or isinstance(value, bool)
        ):
            return f"A {topic} body needs a numeric {key}.", key, None
    return "", "", body


def _event_id(request: Request) -> str:
    return request.headers.get(EVENT_ID_HEADER) or request.headers.get(
        WEBHOOK_ID_HEADER, ""
    )


@extend_schema(
    tags=["inbound"],
    summary="Receive a Shopify webhook",
    description=(
        f"Subscribe the shop's webhooks to this URL. `{HMAC_HEADER}` = base64 "
        "HMAC-SHA256 of the raw body under the connection's webhook_secret. "
        f"Repeats (same `{EVENT_ID_HEADER}`) are answered 200 and create nothing."
    ),
    parameters=[
        OpenApiParameter(
            HMAC_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True
        ),
        OpenApiParameter(
            TOPIC_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True
        ),
        OpenApiParameter(EVENT_ID_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER),
        OpenApiParameter(WEBHOOK_ID_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER),
    ],
    request={"application/json": OpenApiTypes.OBJECT},
    responses={
        200: OpenApiResponse(InboundAcceptedSerializer, "Stored (or a repeat)."),
        400: OpenApiResponse(ErrorSerializer, "Stored, but unusable; field named."),
        401: OpenApiResponse(ErrorSerializer, "HMAC missing or wrong; not stored."),
        403: OpenApiResponse(ErrorSerializer, "The connection is disabled."),
        404: OpenApiResponse(ErrorSerializer, "No connection has this slug."),
    },
)
class ShopifyWebhookView(APIView):
    """Check the HMAC, store the delivery, answer 200."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request: Request, connection_slug: str) -> Response:
        try:
            raw = request.body  # the exact bytes Shopify signed
        except RequestDataTooBig:
            return error_response(413, "The body is too large.", "body")
        try:
            connection = Connection.objects.get(slug=connection_slug)
        except Connection.DoesNotExist:
            message = f"No connection has the slug {connection_slug!r}."
            return error_response(404, message, "connection_slug")
        refused = _signature_refused(
            connection, raw, request.headers.get(HMAC_HEADER, "")
        )
        if refused:
            response = error_response(401, refused, HMAC_HEADER)
            response["WWW-Authenticate"] = HMAC_HEADER
            return response
        if connection.status == ConnectionStatus.DISABLED:
            return error_response(
                403,
                f"The connection {connection.slug!r} is disabled, so it accepts no "
                "events. An administrator can enable it again.",
                "connection_slug",
            )
        headers = stored_headers(request)
        remote_addr = request.META.get("REMOTE_ADDR") or None
        event_id = _event_id(request)
        provider_event_id = (
            EVENT_PREFIX + event_id if 0 < len(event_id) <= MAX_EVENT_ID else None
        )
        message, field_name, body = _unusable(request, raw)
        if message:
            event = inbox.store_refused(
                connection,
                body=raw,
                headers=headers,
                message=message,
                field_name=field_name,
                provider_event_id=provider_event_id,
                remote_addr=remote_addr,
            )
            return error_response(400, message, field_name, event=event.pk)
        accepted = inbox.accept(
            connection,
            body=raw,
            headers=headers,
            provider_event_id=provider_event_id,
            topic=TOPIC_PREFIX + request.headers[TOPIC_HEADER],
            signature_verified=True,
            remote_addr=remote_addr,
            parsed=body,
        )
        response = _inbound_answer(accepted)
        if response.status_code == 202:
            response.status_code = 200  # Shopify needs only a 2xx, quickly
        return response
