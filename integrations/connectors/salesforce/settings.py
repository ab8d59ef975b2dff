"""A Salesforce Connection's settings and secrets, checked when the client is built.

Secrets only ever come from the encrypted credentials. Anything missing or
malformed is refused naming ``settings.<key>`` or ``credentials.<key>``, so the
admin's "Test connection" says exactly what to fix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from integrations.engine.errors import ValidationFailed

AUTH_FLOWS = ("password", "jwt", "client_credentials")
DEFAULT_API_VERSION = "62.0"
_API_VERSION = re.compile(r"^\d{2}\.\d$")
_ORG_ID = re.compile(r"^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")

# Salesforce answers REQUEST_LIMIT_EXCEEDED without saying when the rolling
# 24-hour allowance frees up again. Waiting a quarter of an hour between
# attempts lets calls resume soon after room appears without spending more of
# a nearly empty budget on retries that will be refused.
DEFAULT_BUDGET_RESET_SECONDS = 900.0
DEFAULT_DESCRIBE_TTL = 3600.0


def _fail(key: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field=f"settings.{key}")


def _missing(key: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field=f"credentials.{key}")


def _number(settings: dict, key: str, default: float, *, minimum: float) -> float:
    raw = settings.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise _fail(key, f"settings.{key} must be a number, not {raw!r}.") from None
    if value < minimum:
        raise _fail(key, f"settings.{key} must be at least {minimum:g}.")
    return value


def _login_url(value) -> str:
    url = str(value or "").strip().rstrip("/")
    if not url:
        raise _fail(
            "login_url",
            "Set settings.login_url to where Salesforce logs in, e.g. "
            "https://login.salesforce.com or your My Domain URL.",
        )
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise _fail(
            "login_url",
            f"settings.login_url must be an https:// address, not {url!r}.",
        )
    if parts.query or parts.fragment:
        raise _fail("login_url", "settings.login_url must not carry ? or # parts.")
    return url


def _api_version(value) -> str:
    text = str(value or DEFAULT_API_VERSION).strip().lstrip("vV")
    if re.fullmatch(r"\d{2}", text):
        text += ".0"
    if not _API_VERSION.match(text):
        raise _fail(
            "api_version",
            f"settings.api_version must look like {DEFAULT_API_VERSION!r}, "
            f"not {value!r}.",
        )
    return text


def _private_key(pem: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise _missing(
            "private_key",
            f"credentials.private_key is not an unencrypted PEM private key ({exc}).",
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _missing(
            "private_key",
            "credentials.private_key must be an RSA key: Salesforce signs JWT "
            "logins with RS256.",
        )
    return pem


@dataclass(frozen=True)
class SalesforceSettings:
    login_url: str
    auth_flow: str = "password"
    api_version: str = DEFAULT_API_VERSION
    ca_bundle: str = ""
    timeout: float = 30.0
    client_id: str = ""
    username: str = ""
    organization_id: str = ""
    budget_reset_seconds: float = DEFAULT_BUDGET_RESET_SECONDS
    low_budget_reserve: int = 0
    describe_ttl: float = DEFAULT_DESCRIBE_TTL
    client_secret: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    security_token: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)

    @property
    def verify(self) -> bool | str:
        """What ``requests`` verifies the server with: our CA bundle or the system's."""
        return self.ca_bundle or True

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/services/oauth2/token"

    @classmethod
    def from_connection(cls, settings: dict, credentials: dict) -> SalesforceSettings:
        login_url = _login_url(settings.get("login_url"))
        auth_flow = str(settings.get("auth_flow") or "password").strip().lower()
        if auth_flow not in AUTH_FLOWS:
            raise _fail(
                "auth_flow",
                f"settings.auth_flow must be one of {', '.join(AUTH_FLOWS)}, "
                f"not {auth_flow!r}.",
            )
        ca_bundle = str(settings.get("ca_bundle") or "").strip()
        if ca_bundle and not os.path.isfile(ca_bundle):
            raise _fail(
                "ca_bundle",
                f"settings.ca_bundle names {ca_bundle!r}, which is not a file on "
                "this machine.",
            )
        organization_id = str(settings.get("organization_id") or "").strip()
        if organization_id and not _ORG_ID.match(organization_id):
            raise _fail(
                "organization_id",
                f"settings.organization_id must be a Salesforce org id (00D…), "
                f"not {organization_id!r}.",
            )
        reserve = _number(settings, "low_budget_reserve", 0, minimum=0)
        conf = cls(
            login_url=login_url,
            auth_flow=auth_flow,
            api_version=_api_version(settings.get("api_version")),
            ca_bundle=ca_bundle,
            timeout=_number(settings, "timeout", 30.0, minimum=1),
            client_id=str(settings.get("client_id") or "").strip(),
            username=str(settings.get("username") or "").strip(),
            organization_id=organization_id,
            budget_reset_seconds=_number(
                settings,
                "budget_reset_seconds",
                DEFAULT_BUDGET_RESET_SECONDS,
                minimum=1,
            ),
            low_budget_reserve=int(reserve),
            describe_ttl=_number(
                settings, "describe_ttl", DEFAULT_DESCRIBE_TTL, minimum=0
            ),
            client_secret=str(credentials.get("client_secret") or ""),
            password=str(credentials.get("password") or ""),
            security_token=str(credentials.get("security_token") or ""),
            private_key=str(credentials.get("private_key") or ""),
            signing_secret=str(credentials.get("signing_secret") or ""),
        )
        conf._check_flow()
        return conf

    def _check_flow(self) -> None:
        """Each OAuth flow needs its own pieces; say which one is missing."""
        flow = self.auth_flow
        if not self.client_id:
            raise _fail(
                "client_id",
                f"The {flow} login needs settings.client_id, the connected app's "
                "consumer key.",
            )
        if flow in ("password", "jwt") and not self.username:
            raise _fail(
                "username",
                f"The {flow} login needs settings.username, the integration "
                "user's Salesforce username.",
            )
        if flow in ("password", "client_credentials") and not self.client_secret:
            raise _missing(
                "client_secret",
                f"The {flow} login needs the connected app's consumer secret in "
                "credentials.client_secret.",
            )
        if flow == "password" and not self.password:
            raise _missing(
                "password",
                "The password login needs the integration user's password in "
                "credentials.password (and its security token in "
                "credentials.security_token unless the hub's address is trusted).",
            )
        if flow == "jwt":
            if not self.private_key:
                raise _missing(
                    "private_key",
                    "The jwt login needs the PEM private key whose certificate is "
                    "on the connected app, in credentials.private_key.",
                )
            _private_key(self.private_key)
