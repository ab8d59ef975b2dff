"""Who is calling: an external system with an API key, or a staff member's session.

The key may arrive as ``Authorization: Api-Key <key>`` or ``X-Api-Key: <key>``;
the library's own parser reads only one of the two, so we parse both here. A
request that presents a key which is unknown, revoked or expired is refused at
once rather than treated as anonymous, so the caller learns what is wrong.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from integrations.models import ConnectionAPIKey

KEYWORD = "Api-Key"
CUSTOM_HEADER_NAME = "X-Api-Key"


def _presented_key(request: Request) -> tuple[str, str] | None:
    """(header name, key) from whichever header carries it, else None."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    keyword, _, key = authorization.partition(" ")
    if keyword.lower() == KEYWORD.lower():
        return "Authorization", key.strip()
    meta_name = getattr(settings, "API_KEY_CUSTOM_HEADER", "HTTP_X_API_KEY")
    custom = request.META.get(meta_name, "").strip()
    if custom:
        return CUSTOM_HEADER_NAME, custom
    return None


def _refuse(header: str, message: str) -> AuthenticationFailed:
    return AuthenticationFailed({header: [message]})


class APIKeyAuthentication(BaseAuthentication):
    """Authenticate an external system by its hashed ``ConnectionAPIKey``.

    The user is anonymous (``request.auth`` holds the key), so actions taken with
    a key are audited as made by no person.
    """

    def authenticate(self, request: Request):
        presented = _presented_key(request)
        if presented is None:
            return None
        header, key = presented
        if not key:
            raise _refuse(header, "The API key is empty.")
        prefix = key.partition(".")[0]
        api_key = ConnectionAPIKey.objects.filter(prefix=prefix).first()
        # Revocation and expiry are only revealed to someone holding the real key.
        if api_key is None or not api_key.is_valid(key):
            raise _refuse(header, "The API key is not valid.")
        if api_key.revoked:
            raise _refuse(header, f"The API key {api_key.name!r} has been revoked.")
        if api_key.has_expired:
            raise _refuse(
                header,
                f"The API key {api_key.name!r} expired on "
                f"{api_key.expiry_date:%Y-%m-%d %H:%M} UTC.",
            )
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        # Present, so DRF answers 401 (not 403) when credentials are missing.
        return KEYWORD


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Tells drf-spectacular that either header carries the key."""

    target_class = APIKeyAuthentication
    name = ["ApiKeyAuthorization", "ApiKeyHeader"]

    def get_security_requirement(self, auto_schema):
        return [{"ApiKeyAuthorization": []}, {"ApiKeyHeader": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": 'The key prefixed by the keyword: "Api-Key <key>".',
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": CUSTOM_HEADER_NAME,
                "description": "The key on its own.",
            },
        ]
