"""A Xero Connection's settings and secrets, checked when the client is built.

Every address is configurable so the same code reaches the real Xero and the
simulator. Anything malformed is refused naming ``settings.<key>`` or
``credentials.<key>``, so "Test connection" says exactly what to fix. Whether a
connection is *authorised yet* (token set, tenant) is not checked here: an
unconnected Xero connection is still a valid one, waiting for "Connect to Xero".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from integrations.engine.errors import ValidationFailed

GRANTS = ("authorization_code", "client_credentials")
ACCOUNTING_URL = "https://api.xero.com/api.xro/2.0"
IDENTITY_URL = "https://identity.xero.com"
LOGIN_URL = "https://login.xero.com/identity/connect/authorize"
ACCOUNTING_PATH = "/api.xro/2.0"
# What the flows read and write; offline_access is what brings a refresh token.
DEFAULT_SCOPES = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
)


@dataclass(frozen=True)
class Limits:
    per_minute: int
    per_day: int
    concurrent: int


# Xero's per-organisation limits (API-FACTS §1.2); a Connection's own budget
# fields, when set, replace them.
XERO_LIMITS = Limits(per_minute=60, per_day=5000, concurrent=5)
TOKEN_KEYS = (
    "access_token",
    "refresh_token",
    "id_token",
    "expires_in",
    "expires_at",
    "token_type",
    "scope",
)


def _fail(key: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field=f"settings.{key}")


def _https(settings: dict, key: str, default: str) -> str:
    url = str(settings.get(key) or default).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise _fail(key, f"settings.{key} must be an https:// address, not {url!r}.")
    if parts.query or parts.fragment:
        raise _fail(key, f"settings.{key} must not carry ? or # parts.")
    return url


def _scopes(value) -> tuple[str, ...]:
    if value in (None, "", []):
        return DEFAULT_SCOPES
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list | tuple) or not all(
        isinstance(s, str) and s.strip() for s in value
    ):
        raise _fail(
            "scopes",
            "settings.scopes must be a list of Xero scopes (or one string with "
            "spaces between them), e.g. offline_access accounting.transactions.",
        )
    return tuple(s.strip() for s in value)


def token_set(value) -> dict | None:
    """The stored token set in xero-python's shape, or None when there is none."""
    if not value:
        return None
    if not isinstance(value, dict) or not value.get("access_token"):
        raise ValidationFailed(
            "credentials.token_set is not a Xero token set (it has no "
            "access_token); press Connect to Xero to authorise again.",
            field="credentials.token_set",
        )
    tokens = {key: value.get(key) for key in TOKEN_KEYS}
    tokens["token_type"] = tokens["token_type"] or "Bearer"
    scope = tokens["scope"]
    tokens["scope"] = scope.split() if isinstance(scope, str) else list(scope or [])
    return tokens


@dataclass(frozen=True)
class XeroSettings:
    accounting_url: str = ACCOUNTING_URL
    identity_url: str = IDENTITY_URL
    login_url: str = LOGIN_URL
    connections_url: str = ""
    tenant_id: str = ""
    tenant_name: str = ""
    grant: str = "authorization_code"
    ca_bundle: str = ""
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    timeout: float = 30.0
    redirect_uri: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    token_set: dict | None = field(default=None, repr=False, compare=False)
    webhook_key: str = field(default="", repr=False)

    @property
    def verify(self) -> bool | str:
        return self.ca_bundle or True

    @property
    def token_url(self) -> str:
        return f"{self.identity_url}/connect/token"

    @property
    def revocation_url(self) -> str:
        return f"{self.identity_url}/connect/revocation"

    @property
    def authorize_url(self) -> str:
        """Xero's consent page; a bare host means its usual path on that host."""
        if urlsplit(self.login_url).path.rstrip("/") in ("", "/"):
            return f"{self.login_url}/identity/connect/authorize"
        return self.login_url

    @property
    def identity_api_url(self) -> str:
        """Where ``/connections`` lives: the API host (api.xero.com) by default."""
        if self.connections_url:
            return self.connections_url
        if self.accounting_url.endswith(ACCOUNTING_PATH):
            return self.accounting_url[: -len(ACCOUNTING_PATH)]
        return self.accounting_url

    @property
    def is_custom_connection(self) -> bool:
        return self.grant == "client_credentials"

    @classmethod
    def from_connection(cls, settings: dict, credentials: dict) -> XeroSettings:
        grant = str(settings.get("grant") or "authorization_code").strip().lower()
        if grant not in GRANTS:
            raise _fail(
                "grant",
                f"settings.grant must be one of {', '.join(GRANTS)}, not {grant!r}.",
            )
        ca_bundle = str(settings.get("ca_bundle") or "").strip()
        if ca_bundle and not os.path.isfile(ca_bundle):
            raise _fail(
                "ca_bundle",
                f"settings.ca_bundle names {ca_bundle!r}, which is not a file on "
                "this machine.",
            )
        try:
            timeout = float(settings.get("timeout") or 30)
        except (TypeError, ValueError):
            raise _fail(
                "timeout", "settings.timeout must be a number of seconds."
            ) from None
        if timeout < 1:
            raise _fail("timeout", "settings.timeout must be at least 1 second.")
        connections_url = settings.get("connections_url")
        conf = cls(
            accounting_url=_https(settings, "accounting_url", ACCOUNTING_URL),
            identity_url=_https(settings, "identity_url", IDENTITY_URL),
            login_url=_https(settings, "login_url", LOGIN_URL),
            connections_url=(
                _https(settings, "connections_url", "") if connections_url else ""
            ),
            tenant_id=str(settings.get("tenant_id") or "").strip(),
            tenant_name=str(settings.get("tenant_name") or "").strip(),
            grant=grant,
            ca_bundle=ca_bundle,
            scopes=_scopes(settings.get("scopes")),
            timeout=timeout,
            redirect_uri=str(settings.get("redirect_uri") or "").strip(),
            client_id=str(
                credentials.get("client_id") or settings.get("client_id") or ""
            ).strip(),
            client_secret=str(credentials.get("client_secret") or ""),
            token_set=token_set(credentials.get("token_set")),
            webhook_key=str(credentials.get("webhook_key") or ""),
        )
        if not conf.client_id:
            raise ValidationFailed(
                "The Xero connection needs the app's client id in "
                "credentials.client_id (from developer.xero.com, My Apps).",
                field="credentials.client_id",
            )
        if not conf.client_secret:
            raise ValidationFailed(
                "The Xero connection needs the app's client secret in "
                "credentials.client_secret (from developer.xero.com, My Apps).",
                field="credentials.client_secret",
            )
        return conf
