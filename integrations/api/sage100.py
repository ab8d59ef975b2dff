"""Real-time credit check against Sage 100: may this customer buy this much now?

An order desk or web shop asks before taking an order on account. The answer is
read live through ODBC on every call, never cached: a stale "approved" is worse
than a clear 503, so when Sage 100 cannot be reached the caller is told so.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import signing
from integrations.api.authentication import APIKeyAuthentication
from integrations.api.errors import error_response
from integrations.api.serializers import ErrorSerializer
from integrations.connectors.sage100 import keys
from integrations.engine.errors import (
    AuthRevoked,
    DuplicateAmbiguous,
    RateLimited,
    SyncError,
    ValidationFailed,
)
from integrations.models import Connection, ConnectionAPIKey, ConnectionStatus, System
from integrations.services.credit_check import CustomerNotFound, check_credit

SCOPE = ConnectionAPIKey.Scope.SAGE100_CREDIT_CHECK
CENTS = Decimal("0.01")


class CreditCheckRequestSerializer(serializers.Serializer):
    customer = serializers.CharField(
        max_length=255,
        help_text="Sage CustomerNo (ABF), Sage's display form (01-ABF), or your "
        "own id for the customer when it is mapped (cross-reference or UDF).",
    )
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text='The order total to check, e.g. "123.45".',
    )
    division = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2,
        help_text="ARDivisionNo, when the customer number alone is ambiguous.",
    )

    def validate_division(self, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return keys.division(value, "division")
        except ValidationFailed as exc:
            raise serializers.ValidationError(exc.message) from None


class CreditCustomerSerializer(serializers.Serializer):
    division = serializers.CharField(help_text="ARDivisionNo")
    customer_no = serializers.CharField(help_text="CustomerNo")
    name = serializers.CharField(help_text="CustomerName")


def _money(help_text: str, **kw) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text=help_text, **kw
    )


class CreditCheckSerializer(serializers.Serializer):
    customer = CreditCustomerSerializer()
    matched_by = serializers.ChoiceField(
        choices=["cross_reference", "udf", "customer_no"],
        help_text="How your customer value was found in Sage 100.",
    )
    credit_limit = _money("CreditLimit; 0 means no limit.")
    current_balance = _money("CurrentBalance (open A/R).")
    open_orders = _money("OpenOrderAmt (open sales orders).")
    available_credit = _money(
        "credit_limit - current_balance - open_orders; null when there is no limit.",
        allow_null=True,
    )
    amount = _money("The amount asked about.")
    approved = serializers.BooleanField(
        help_text="Not on credit hold, and the amount fits the available credit."
    )
    on_hold = serializers.BooleanField(help_text="CreditHold is Y.")
    reason = serializers.CharField(help_text="The decision in plain words.")
    checked_at = serializers.DateTimeField(help_text="When Sage 100 was read.")


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


def _unavailable(exc: SyncError) -> Response:
    if isinstance(exc, RateLimited):
        status, message = 429, exc.message
    else:
        status = 503
        message = f"Sage 100 cannot answer the credit check now: {exc.message}"
    response = error_response(status, message, exc.field or None)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response["Retry-After"] = str(max(1, round(retry_after)))
    return response


@extend_schema(
    tags=["sage100"],
    summary="Check a customer's credit in Sage 100, live",
    description=(
        "Reads the customer's CreditLimit, CurrentBalance, OpenOrderAmt and "
        "CreditHold from Sage 100 through ODBC at the moment of the call (no "
        "cache). The customer may be a Sage CustomerNo, Sage's display form "
        "01-ABF, or your own id when it is cross-referenced to the connection or "
        "held in the connection's customer-id UDF. Approved means: not on credit "
        "hold and amount <= available credit; a CreditLimit of 0 means no limit. "
        "Authenticate with an API key that has the sage100:credit-check scope (and "
        "is bound to this connection or to none), or sign the raw body with the "
        f"connection's signing secret: `{signing.HEADER}: t=<unix time>,v1=<hex>`"
        ' where v1 = HMAC-SHA256(secret, "<t>.<raw body>").'
    ),
    parameters=[
        OpenApiParameter(
            signing.HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=False,
            description="Instead of an API key: t=<unix time>,v1=<hex HMAC-SHA256>",
        ),
    ],
    request=CreditCheckRequestSerializer,
    responses={
        200: CreditCheckSerializer,
        400: _error("The amount, customer or division is missing or invalid."),
        401: _error("No API key or signature, or a wrong one."),
        403: _error("The key lacks the scope or is bound to another connection."),
        404: _error("No Sage 100 connection has this slug, or no such customer."),
        409: _error("The customer value matches several Sage 100 customers."),
        422: _error(
            "The connection is set up wrongly (e.g. its customer-id UDF "
            "does not exist in Sage 100); retrying will not help."
        ),
        429: _error("The connection's own call budget is used up; retry later."),
        500: _error("Sage 100 refused the connection's ODBC login."),
        503: _error("Sage 100 cannot be reached or read right now; retry later."),
    },
)
class CreditCheckView(APIView):
    """Thin: authorise, validate, read Sage 100 through the connector, decide."""

    # The key is checked here; a signature (no key) is checked in post(), on
    # the raw body, before the body is parsed.
    authentication_classes = [APIKeyAuthentication]
    permission_classes = [AllowAny]

    def post(self, request: Request, connection_slug: str) -> Response:
        try:
            raw = request.body  # the exact bytes a signer signed
        except RequestDataTooBig:
            return error_response(413, "The body is too large.", "body")
        try:
            connection = Connection.objects.get(
                slug=connection_slug, system=System.SAGE100
            )
        except Connection.DoesNotExist:
            return error_response(
                404,
                f"No Sage 100 connection has the slug {connection_slug!r}.",
                "connection_slug",
            )
        refused = _authorise(request, connection, raw)
        if refused is not None:
            return refused
        if connection.status == ConnectionStatus.DISABLED:
            return error_response(
                403,
                f"The connection {connection.slug!r} is disabled.",
                "connection_slug",
            )
        body = CreditCheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        value = body.validated_data["customer"]
        amount = body.validated_data["amount"]
        division = body.validated_data.get("division", "")
        try:
            answer = check_credit(connection, value, amount, division=division)
        except CustomerNotFound as exc:
            return error_response(404, str(exc), "customer")
        except DuplicateAmbiguous as exc:
            field = "division" if exc.field == "division" else "customer"
            return error_response(409, exc.message, field, candidates=exc.candidates)
        except SyncError as exc:
            if not exc.retryable or isinstance(exc, AuthRevoked):
                # A setup problem (a missing UDF, bad settings, refused login):
                # retrying will not help, so do not say "retry later".
                return error_response(
                    500 if isinstance(exc, AuthRevoked) else 422,
                    f"The Sage 100 connection cannot answer credit checks: "
                    f"{exc.message}",
                    exc.field or None,
                )
            return _unavailable(exc)
        position, decision = answer.position, answer.decision
        # Built by hand in CreditCheckSerializer's shape: this is a hot path, and
        # a serializer instance costs more than the rest of the answer.
        return Response(
            {
                "customer": {
                    "division": position.division,
                    "customer_no": position.customer_no,
                    "name": position.name,
                },
                "matched_by": answer.matched_by,
                "credit_limit": _decimal(position.credit_limit),
                "current_balance": _decimal(position.current_balance),
                "open_orders": _decimal(position.open_order_amt),
                "available_credit": _decimal(position.available_credit),
                "amount": _decimal(amount),
                "approved": decision.approved,
                "on_hold": position.on_hold,
                "reason": decision.reason,
                "checked_at": timezone.now().isoformat().replace("+00:00", "Z"),
            }
        )


def _decimal(value: Decimal | None) -> str | None:
    """Money as a string with two places, as the schema's DecimalFields say."""
    return None if value is None else f"{value.quantize(CENTS, ROUND_HALF_UP)}"


def _authorise(request: Request, connection: Connection, raw: bytes):
    """A key with the scope for this connection, or the connection's signature."""
    key = request.auth
    if isinstance(key, ConnectionAPIKey):
        if not key.has_scope(SCOPE):
            return error_response(
                403, f"The API key {key.name!r} lacks the {SCOPE.value} scope."
            )
        if key.connection_id is not None and key.connection_id != connection.pk:
            return error_response(
                403,
                f"The API key {key.name!r} is bound to another connection.",
                "connection_slug",
            )
        return None
    header = request.headers.get(signing.HEADER)
    if header:
        try:
            signing.verify(
                connection.signing_secret,
                raw,
                header,
                tolerance=settings.LEDGERBRIDGE["SIGNATURE_TOLERANCE_SECONDS"],
            )
        except signing.SignatureInvalid as exc:
            response = error_response(401, str(exc), signing.HEADER)
            response["WWW-Authenticate"] = signing.HEADER
            return response
        return None
    response = error_response(
        401,
        'Send an API key ("Authorization: Api-Key <key>" or "X-Api-Key") with the '
        f"{SCOPE.value} scope, or sign the body ({signing.HEADER}).",
    )
    response["WWW-Authenticate"] = "Api-Key"
    return response
