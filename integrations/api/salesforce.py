"""Salesforce pushing events to us: Outbound Messages (SOAP) and signed callouts.

Both endpoints are for machines, so like ``InboundView`` they use no session,
CSRF or API key; each checks its sender before reading the body, stores what
arrived through the inbox (de-duplicated on the sender's id), then answers.

Outbound Messages cannot be signed: Salesforce sends the org id and can send a
client certificate. So a connection must have at least one of two sender
checks, or every message is refused: ``credentials.outbound_secret``, which
the endpoint URL configured in Salesforce must carry (``?secret=``, or the
``X-LedgerBridge-Secret`` header from a proxy), and
``settings.outbound_client_cert_fingerprint``, the SHA-256 fingerprint of the
client certificate the TLS-terminating proxy verified and passes in
``X-SSL-Client-Fingerprint``. The proxy must overwrite that header on every
request (never pass a caller's own value through), or anyone could claim a
fingerprint. Both are compared in constant time. The org id must then match
``settings.organization_id``.

Once the sender is known, what arrived is stored before anything is decided
(see ``salesforce_events`` for how an envelope and its notifications are
kept): a message that is malformed or from another org is kept whole with the
reason, then refused. Every refusal is a SOAP Fault (SOAP 1.1, so HTTP 500,
except 401/403/404 for a refused sender, a disabled connection or an unknown
slug): Salesforce keeps retrying a failed message for 24 hours and shows the
fault string in its outbound message queue, so an admin can fix the setting
and the queued messages then arrive. ``<Ack>true</Ack>`` is sent only after
the envelope and every notification of the message are stored.
"""

from __future__ import annotations

import hmac
import json

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.api.errors import error_response
from integrations.api.serializers import ErrorSerializer, InboundAcceptedSerializer
from integrations.api.views import (
    UNSTORED_HEADERS,
    _inbound_answer,
    signed_request,
    stored_headers,
)
from integrations.engine.errors import ValidationFailed
from integrations.models import Connection, ConnectionStatus
from integrations.services import inbox, salesforce_events

SIGNATURE_HEADER = "X-Salesforce-Signature"
EVENT_ID_HEADER = "X-Salesforce-Event-Id"
SECRET_HEADER = "X-LedgerBridge-Secret"
FINGERPRINT_HEADER = "X-SSL-Client-Fingerprint"
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
UNSTORED = UNSTORED_HEADERS | {SECRET_HEADER.lower()}


def _stored_headers(request: Request) -> dict:
    return stored_headers(request, UNSTORED)


def _fault(status: int, message: str, code: str = "Client") -> HttpResponse:
    return HttpResponse(
        salesforce_events.soap_fault(code, message),
        status=status,
        content_type=SOAP_CONTENT_TYPE,
    )


def _fingerprint(value: str) -> str:
    return value.replace(":", "").strip().lower()


def _sender_refused(request: Request, connection: Connection) -> str:
    """Why the caller is not this connection's Salesforce org ("" when it is)."""
    secret = str(connection.credentials.get("outbound_secret") or "")
    expected = _fingerprint(
        str(connection.settings.get("outbound_client_cert_fingerprint") or "")
    )
    if not secret and not expected:
        return (
            "The connection has no sender check for Outbound Messages: set "
            "credentials.outbound_secret (and put ?secret=<it> in the endpoint "
            "URL in Salesforce) or settings.outbound_client_cert_fingerprint."
        )
    if secret:
        given = request.query_params.get("secret") or request.headers.get(
            SECRET_HEADER, ""
        )
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return (
                "The outbound message secret is missing or wrong: put ?secret=<the "
                "connection's outbound_secret> in the endpoint URL in Salesforce."
            )
    if expected:
        given = _fingerprint(request.headers.get(FINGERPRINT_HEADER, ""))
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return (
                "The client certificate is missing or not the one configured in "
                "settings.outbound_client_cert_fingerprint."
            )
    return ""


def _not_stored() -> HttpResponse:
    return _fault(
        500, "The message could not be stored; Salesforce will retry.", "Server"
    )


class _MessageRefused(Exception):
    def __init__(self, status: int, message: str, field: str, code: str = "Client"):
        super().__init__(message)
        self.status, self.message, self.field, self.code = status, message, field, code


def _read_message(raw: bytes, connection: Connection):
    """The parsed message, or _MessageRefused saying why it cannot be used."""
    try:
        message = salesforce_events.parse_outbound_message(raw)
    except salesforce_events.SoapMessageInvalid as exc:
        raise _MessageRefused(500, exc.message, exc.field) from None
    expected = str(connection.settings.get("organization_id") or "")
    if not expected:
        raise _MessageRefused(
            500,
            "The connection has no settings.organization_id, so it cannot tell "
            "its org's messages from others'.",
            "organization_id",
            "Server",
        )
    if not salesforce_events.same_org(message.organization_id, expected):
        raise _MessageRefused(
            401,
            f"OrganizationId {message.organization_id!r} is not this connection's "
            "org (settings.organization_id).",
            "OrganizationId",
        )
    return message


@extend_schema(
    tags=["inbound"],
    summary="Receive Salesforce Outbound Messages (SOAP notifications)",
    description=(
        "Point a Salesforce Outbound Message at this URL with ?secret=<the "
        "connection's outbound_secret> (or have the TLS proxy pass the client "
        "certificate's fingerprint; a connection with neither refuses every "
        "message). The answer is the SOAP "
        "notificationsResponse with <Ack>true</Ack> once every notification is "
        "stored; anything else is a SOAP Fault and Salesforce retries."
    ),
    parameters=[
        OpenApiParameter(
            "secret",
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            description="The connection's outbound_secret (unless it checks a "
            "client certificate instead).",
        )
    ],
    request={"text/xml": OpenApiTypes.STR},
    responses={
        (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, "Acknowledged."),
        (401, "text/xml"): OpenApiResponse(OpenApiTypes.STR, "Sender refused."),
        (500, "text/xml"): OpenApiResponse(OpenApiTypes.STR, "SOAP Fault."),
    },
)
class OutboundMessageView(APIView):
    """Store each Notification of a SOAP Outbound Message, then acknowledge."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request: Request, connection_slug: str) -> HttpResponse:
        try:
            raw = request.body
        except RequestDataTooBig:
            return _fault(413, "The message is too large.")
        try:
            connection = Connection.objects.get(slug=connection_slug)
        except Connection.DoesNotExist:
            return _fault(404, f"No connection has the slug {connection_slug!r}.")
        refused = _sender_refused(request, connection)
        if refused:
            return _fault(401, refused)
        if connection.status == ConnectionStatus.DISABLED:
            return _fault(
                403, f"The connection {connection.slug!r} is disabled; enable it."
            )
        headers = _stored_headers(request)
        remote_addr = request.META.get("REMOTE_ADDR") or None
        try:
            message = _read_message(raw, connection)
        except _MessageRefused as exc:
            # Kept whole with the reason (repeats found by the body's hash).
            try:
                inbox.store_refused(
                    connection,
                    body=raw,
                    headers=headers,
                    message=exc.message,
                    field_name=exc.field,
                    topic=salesforce_events.ENVELOPE_TOPIC,
                    remote_addr=remote_addr,
                )
            except DatabaseError:
                return _not_stored()
            return _fault(exc.status, f"{exc.field}: {exc.message}", exc.code)
        envelope_id = salesforce_events.envelope_event_id(raw)
        try:
            with transaction.atomic():
                inbox.store_raw(
                    connection,
                    body=raw,
                    headers=headers,
                    provider_event_id=envelope_id,
                    topic=salesforce_events.ENVELOPE_TOPIC,
                    signature_verified=True,
                    remote_addr=remote_addr,
                )
                listeners = inbox.listeners_of(connection)
                for notification in message.notifications:
                    inbox.accept(
                        connection,
                        body=notification.xml,
                        headers={
                            **headers,
                            "ActionId": message.action_id,
                            salesforce_events.ENVELOPE_HEADER: envelope_id,
                        },
                        provider_event_id=f"om:{notification.id}",
                        topic=salesforce_events.topic_for(notification.sobject),
                        signature_verified=True,
                        remote_addr=remote_addr,
                        listeners=listeners,
                        parsed=salesforce_events.from_notification(notification),
                    )
        except DatabaseError:
            return _not_stored()
        return HttpResponse(
            salesforce_events.ack_response(), content_type=SOAP_CONTENT_TYPE
        )


@extend_schema(
    tags=["inbound"],
    summary="Receive a signed Salesforce callout (Flow / Apex)",
    description=(
        f"Sign the raw body: `{SIGNATURE_HEADER}: t=<unix time>,v1=<hex>` where "
        'v1 = HMAC-SHA256(signing secret, "<t>.<raw body>"). Body: {"id", '
        '"sobject", "change_type", "record_ids": [...], "fields": {...}, '
        '"timestamp"}. Repeats (same event id) are answered from the first.'
    ),
    parameters=[
        OpenApiParameter(
            SIGNATURE_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True
        ),
        OpenApiParameter(EVENT_ID_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER),
    ],
    request={"application/json": OpenApiTypes.OBJECT},
    responses={
        202: OpenApiResponse(InboundAcceptedSerializer, "Stored; records made."),
        200: OpenApiResponse(InboundAcceptedSerializer, "A repeat delivery."),
        400: OpenApiResponse(ErrorSerializer, "The body is invalid; field named."),
        401: OpenApiResponse(ErrorSerializer, "Signature missing, stale or wrong."),
        403: OpenApiResponse(ErrorSerializer, "The connection is disabled."),
        404: OpenApiResponse(ErrorSerializer, "No connection has this slug."),
    },
)
class CalloutView(APIView):
    """Store a signed JSON callout in the normalised Salesforce event shape."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request: Request, connection_slug: str) -> Response:
        signed = signed_request(request, connection_slug, SIGNATURE_HEADER)
        if isinstance(signed, Response):
            return signed
        raw, connection = signed
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _refused(
                connection, request, raw, f"The body is not valid JSON: {exc}", "body"
            )
        event_id = request.headers.get(EVENT_ID_HEADER) or (
            body.get("id") if isinstance(body, dict) else None
        )
        if not isinstance(event_id, str) or not 0 < len(event_id) <= 200:
            return _refused(
                connection,
                request,
                raw,
                f"Give the event's id (at most 200 characters) in {EVENT_ID_HEADER} "
                "or the body's id, so repeats can be recognised.",
                "id",
            )
        try:
            normalised = salesforce_events.from_callout(body, event_id=event_id)
        except ValidationFailed as exc:
            return _refused(
                connection,
                request,
                raw,
                exc.message,
                exc.field,
                provider_event_id=f"callout:{event_id}",
            )
        accepted = inbox.accept(
            connection,
            body=raw,
            headers=_stored_headers(request),
            provider_event_id=f"callout:{event_id}",
            topic=salesforce_events.topic_for(normalised["sobject"]),
            signature_verified=True,
            remote_addr=request.META.get("REMOTE_ADDR") or None,
            parsed=normalised,
        )
        return _inbound_answer(accepted)


def _refused(
    connection, request, raw: bytes, message: str, field_name: str, **kwargs
) -> Response:
    """A signed callout we cannot use is still stored, with the reason, then
    refused with 400 naming the field."""
    event = inbox.store_refused(
        connection,
        body=raw,
        headers=_stored_headers(request),
        message=message,
        field_name=field_name,
        remote_addr=request.META.get("REMOTE_ADDR") or None,
        **kwargs,
    )
    return error_response(400, message, field_name, event=event.pk)
