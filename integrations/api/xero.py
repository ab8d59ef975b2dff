"""Xero pushing events to us: ``POST /api/v1/inbound/xero/<connection>/webhook``.

Xero's rules for the receiving end (developer.xero.com/documentation/webhooks/
configuring-your-server; ``contracts/xero/xero-webhooks.yaml``):

- ``x-xero-signature`` is base64(HMAC-SHA256(raw body, webhook key)); the key
  is the connection's ``credentials["webhook_key"]``. It is checked, in
  constant time, before the body is read as JSON.
- "Intent to receive": Xero sends validation requests (``"events": []``),
  some signed correctly and some not, and enables the subscription only if
  every correct one gets 200 and every wrong one 401. So a wrong or missing
  signature is always 401, and every answer has no body and sets no cookie.
  A validation request stores nothing: it carries no event, only entropy.
- Answer 200 within 5 seconds, or Xero retries, less and less often, for 24
  hours and then disables the webhook. So the request only stores: each event
  goes to the inbox (flows fetch the resource later, through its
  ``resourceUrl``), and no vendor is called here.
- Xero events carry no id. An event's id is a hash of its canonical JSON
  (``xero:<sha256>``), so a redelivery, even in another batch, counts as a
  delivery of the first copy. Each event is stored as that canonical JSON
  (the batch's signature covers the batch, not one event, so the signature
  header is not kept with it).

A correctly signed body that breaks the WebhookEvent contract (not JSON, a
missing field, an unknown category) is kept with the reason via
``inbox.store_refused`` and still answered 200: Xero documents no answer
meaning "malformed", only 200 (taken) or anything else (retry for a day,
then disable the whole webhook). A retry cannot mend a body Xero itself
built, and disabling the webhook would lose every good event after it; the
kept copy is where an admin sees the problem.

Other answers, all empty: 404 for an unknown slug or a connection that is
not a Xero one, 403 (after the signature) for a disabled connection, so Xero
keeps retrying until it is enabled again, and 413 for an oversized body.
"""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from integrations.api.views import UNSTORED_HEADERS, stored_headers
from integrations.models import Connection, ConnectionStatus, System
from integrations.services import inbox, xero_webhooks

# The signature signs the whole batch; it means nothing beside one event.
_UNSTORED = UNSTORED_HEADERS | {xero_webhooks.SIGNATURE_HEADER}


def _empty(status: int) -> HttpResponse:
    """Xero's rule: no body (and no cookie) in any answer."""
    response = HttpResponse(status=status)
    del response["Content-Type"]
    return response


@extend_schema(
    tags=["inbound"],
    summary="Receive Xero webhook events for a Xero connection",
    description=(
        "Xero's webhook delivery. `x-xero-signature` = base64(HMAC-SHA256(raw "
        "body, webhook key)). Every answer has an empty body."
    ),
    parameters=[
        OpenApiParameter(
            xero_webhooks.SIGNATURE_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=True,
            description="base64 HMAC-SHA256 of the raw body under the webhook key",
        ),
    ],
    request={"application/json": OpenApiTypes.OBJECT},
    responses={
        200: OpenApiResponse(
            description="Signed: stored (or a validation request); empty body."
        ),
        401: OpenApiResponse(description="Missing or wrong signature; nothing kept."),
        403: OpenApiResponse(description="The connection is disabled."),
        404: OpenApiResponse(description="No Xero connection has this slug."),
        413: OpenApiResponse(description="The body is too large."),
    },
)
class WebhookView(APIView):
    """Check Xero's signature, store each event, answer 200 with nothing."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request: Request, connection_slug: str) -> HttpResponse:
        try:
            raw = request.body  # the exact bytes Xero signed
        except RequestDataTooBig:
            return _empty(413)
        connection = Connection.objects.filter(
            slug=connection_slug, system=System.XERO
        ).first()
        if connection is None:
            return _empty(404)
        key = (connection.credentials or {}).get("webhook_key", "")
        header = request.headers.get(xero_webhooks.SIGNATURE_HEADER)
        if not xero_webhooks.signature_valid(key, raw, header):
            return _empty(401)
        if connection.status == ConnectionStatus.DISABLED:
            return _empty(403)
        receive(connection, raw, request)
        return _empty(200)


def receive(connection: Connection, raw: bytes, request: Request) -> None:
    """Store a signed delivery: its events, or the reason it has none we can use."""
    headers = stored_headers(request, _UNSTORED)
    remote_addr = request.META.get("REMOTE_ADDR") or None
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problem = f"body: The body is not valid JSON: {exc}"
    else:
        if xero_webhooks.is_intent_to_receive(payload):
            return
        problem = xero_webhooks.contract_problem(payload)
    if problem is not None:
        field_name, _, message = problem.partition(": ")
        inbox.store_refused(
            connection,
            body=raw,
            headers=headers,
            message=f"The delivery breaks Xero's webhook contract: {message}",
            field_name=field_name,
            topic="xero",
            remote_addr=remote_addr,
        )
        return
    # One batch, one transaction: a failure mid-way leaves nothing, and Xero's
    # retry then stores the whole batch once.
    with transaction.atomic():
        for event in payload["events"]:
            inbox.accept(
                connection,
                body=xero_webhooks.canonical(event),
                headers=headers,
                provider_event_id=xero_webhooks.event_id(event),
                topic=xero_webhooks.topic_for(event),
                signature_verified=True,
                remote_addr=remote_addr,
                parsed=event,
            )
