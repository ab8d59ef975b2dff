"""The HTTP face of LedgerBridge: thin callers of selectors and services."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import signing
from integrations.api import selectors
from integrations.api.authentication import APIKeyAuthentication
from integrations.api.errors import Conflict, error_response
from integrations.api.permissions import HasScope, Scope
from integrations.api.serializers import (
    ErrorSerializer,
    IgnoreSerializer,
    InboundAcceptedSerializer,
    InboundRefusedSerializer,
    RecordDetailSerializer,
    RecordFilterSerializer,
    RecordSerializer,
)
from integrations.models import Connection, ConnectionStatus, SyncRecord
from integrations.services import inbox, records

EVENT_ID_HEADER = "X-LedgerBridge-Event-Id"
TOPIC_HEADER = "X-LedgerBridge-Topic"
# Credentials are never stored with the event; everything else is, for audit.
UNSTORED_HEADERS = frozenset(
    {"cookie", "authorization", "proxy-authorization", "x-api-key"}
)

CAN_WRITE = HasScope(Scope.RECORDS_WRITE)
RECORD_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The record's id."
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class RecordPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema(tags=["records"])
class RecordViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sync records: find them, read their timeline, resubmit or ignore them."""

    authentication_classes = [APIKeyAuthentication, SessionAuthentication]
    permission_classes = [HasScope(Scope.RECORDS_READ)]  # actions may ask for more
    pagination_class = RecordPagination
    serializer_class = RecordSerializer
    queryset = SyncRecord.objects.none()  # for the schema; see get_queryset
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        visible = selectors.visible_records(self.request.auth)
        if self.action == "list":
            filters = RecordFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            return selectors.filter_records(visible, filters.validated_data)
        return selectors.with_timeline(visible)

    def get_serializer_class(self):
        return RecordSerializer if self.action == "list" else RecordDetailSerializer

    @extend_schema(
        summary="List sync records, newest first",
        parameters=[RecordFilterSerializer],
        responses={
            200: RecordSerializer(many=True),
            400: _error("A filter value is not valid; the field is named."),
            401: _error("No or an invalid API key."),
            403: _error("The key lacks the records:read scope."),
        },
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One sync record with its attempt timeline",
        parameters=[RECORD_ID],
        responses={
            200: RecordDetailSerializer,
            401: _error("No or an invalid API key."),
            403: _error("The key lacks the records:read scope."),
            404: _error("No such record (or not visible to this key)."),
        },
    )
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Run a record again now",
        parameters=[RECORD_ID],
        request=None,
        responses={
            200: RecordDetailSerializer,
            401: _error("No or an invalid API key."),
            403: _error("The key lacks the records:write scope."),
            404: _error("No such record (or not visible to this key)."),
            409: _error("The record's state does not allow a resubmit."),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CAN_WRITE])
    def resubmit(self, request: Request, pk: str | None = None) -> Response:
        record = self.get_object()
        try:
            records.resubmit(record, actor=_actor(request))
        except records.ActionRefused as exc:
            raise Conflict(str(exc)) from exc
        return self._fresh(record)

    @extend_schema(
        summary="Stop trying to sync a record, saying why",
        parameters=[RECORD_ID],
        request=IgnoreSerializer,
        responses={
            200: RecordDetailSerializer,
            400: _error("The reason is missing or too long."),
            401: _error("No or an invalid API key."),
            403: _error("The key lacks the records:write scope."),
            404: _error("No such record (or not visible to this key)."),
            409: _error("The record's state does not allow ignoring it."),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CAN_WRITE])
    def ignore(self, request: Request, pk: str | None = None) -> Response:
        record = self.get_object()
        body = IgnoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            records.ignore(
                record, actor=_actor(request), reason=body.validated_data["reason"]
            )
        except records.ActionRefused as exc:
            raise Conflict(str(exc)) from exc
        return self._fresh(record)

    def _fresh(self, record: SyncRecord) -> Response:
        record = self.get_queryset().get(pk=record.pk)
        return Response(RecordDetailSerializer(record).data)


def _actor(request: Request):
    """The person behind a session; a key acts for a system, not a person."""
    user = request.user
    return user if user is not None and user.is_authenticated else None


@extend_schema(
    tags=["inbound"],
    summary="Receive a signed event for a connection",
    description=(
        "Sign the raw body: `X-LedgerBridge-Signature: t=<unix time>,v1=<hex>` "
        'where v1 = HMAC-SHA256(signing secret, "<t>.<raw body>"). Each '
        "delivery of the same event must carry the same X-LedgerBridge-Event-Id "
        "(or the same body when there is no id); repeats are answered from the "
        "first delivery and create nothing new."
    ),
    parameters=[
        OpenApiParameter(
            signing.HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=True,
            description="t=<unix time>,v1=<hex HMAC-SHA256>",
        ),
        OpenApiParameter(
            EVENT_ID_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="The sender's id for this event, for de-duplication.",
        ),
        OpenApiParameter(
            TOPIC_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="What happened, e.g. orders/create.",
        ),
    ],
    request={"application/json": OpenApiTypes.OBJECT},
    responses={
        202: OpenApiResponse(InboundAcceptedSerializer, "Stored; records made."),
        200: OpenApiResponse(InboundAcceptedSerializer, "A repeat delivery."),
        400: OpenApiResponse(
            InboundRefusedSerializer, "Stored, but no record could be made."
        ),
        401: _error("The signature is missing, stale or wrong; nothing stored."),
        403: _error("The connection is disabled; nothing stored."),
        404: _error("No connection has this slug."),
        413: _error("The body is larger than the server accepts."),
    },
)
class InboundView(APIView):
    """Store a signed event exactly as sent, then make its records.

    Machines call this, so it has no session, CSRF or API key: the HMAC of the
    raw body under the connection's signing secret is the authentication. It
    does only the lookup, the check and ``inbox.accept``; workers do the rest.
    """

    # Explicitly none: no session (so no CSRF) and no API key. The signature,
    # checked in post() before the body is parsed, is what lets a caller in.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request: Request, connection_slug: str) -> Response:
        signed = signed_request(request, connection_slug)
        if isinstance(signed, Response):
            return signed
        raw, connection = signed
        refused = _header_too_long(request)
        if refused is not None:
            return refused
        accepted = inbox.accept(
            connection,
            body=raw,
            headers=stored_headers(request),
            provider_event_id=request.headers.get(EVENT_ID_HEADER) or None,
            topic=request.headers.get(TOPIC_HEADER, ""),
            signature_verified=True,
            remote_addr=request.META.get("REMOTE_ADDR") or None,
        )
        return _inbound_answer(accepted)


def signed_request(
    request: Request, connection_slug: str, signature_header: str = signing.HEADER
) -> tuple[bytes, Connection] | Response:
    """The raw body and its connection once the body's signature (in
    ``signature_header``) is checked, or the answer refusing the request."""
    try:
        raw = request.body  # the exact bytes that were signed
    except RequestDataTooBig:
        return error_response(413, "The body is too large.", "body")
    try:
        connection = Connection.objects.get(slug=connection_slug)
    except Connection.DoesNotExist:
        message = f"No connection has the slug {connection_slug!r}."
        return error_response(404, message, "connection_slug")
    try:
        signing.verify(
            connection.signing_secret,
            raw,
            request.headers.get(signature_header),
            tolerance=settings.LEDGERBRIDGE["SIGNATURE_TOLERANCE_SECONDS"],
        )
    except signing.SignatureInvalid as exc:
        said = str(exc).replace(signing.HEADER, signature_header)
        response = error_response(401, said, signature_header)
        response["WWW-Authenticate"] = signature_header
        return response
    # Checked after the signature, so only the sender learns the state.
    if connection.status == ConnectionStatus.DISABLED:
        return error_response(
            403,
            f"The connection {connection.slug!r} is disabled, so it accepts no "
            "events. An administrator can enable it again.",
            "connection_slug",
        )
    return raw, connection


def stored_headers(
    request: Request, unstored: frozenset[str] = UNSTORED_HEADERS
) -> dict:
    """The request's headers as kept with the event: credentials left out."""
    return {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in unstored
    }


def _header_too_long(request: Request) -> Response | None:
    """The event id and topic columns are bounded; say so rather than fail."""
    for header, limit in ((EVENT_ID_HEADER, 255), (TOPIC_HEADER, 200)):
        if len(request.headers.get(header, "")) > limit:
            return error_response(400, f"At most {limit} characters.", header)
    return None


def _inbound_answer(accepted: inbox.Accepted) -> Response:
    event = accepted.event
    if accepted.error and not accepted.duplicate:
        return error_response(
            400, accepted.error, accepted.error_field or None, event=event.pk
        )
    body = {
        "event": event.pk,
        "duplicate": accepted.duplicate,
        "records": [record.pk for record in accepted.records],
    }
    # A repeat of a refused event, or an event no flow takes: say why, without
    # asking the sender to retry something that will never change.
    if event.error:
        body["note"] = event.error
    code = status.HTTP_200_OK if accepted.duplicate else status.HTTP_202_ACCEPTED
    return Response(body, status=code)
