"""Salesforce OAuth logins: password, JWT bearer and client credentials.

We post to ``{login_url}/services/oauth2/token`` ourselves with ``requests``.
simple-salesforce's own logins build the URL as
``https://{domain}.salesforce.com``, so they can reach neither a My Domain on
another host name nor a loopback server, and they cannot take our CA bundle.
The client then hands simple-salesforce the ready access token and instance URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import jwt
import requests

from integrations.connectors.base import CallLog, no_log
from integrations.connectors.salesforce.settings import SalesforceSettings
from integrations.engine import errors

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_SECONDS = 180


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    instance_url: str
    org_id: str
    user_id: str
    issued_at: float


def obtain_token(
    conf: SalesforceSettings, session: requests.Session, *, log: CallLog = no_log
) -> Token:
    """Log in with the connection's flow and return the session to use."""
    data, auth = _grant(conf)
    started = time.monotonic()
    try:
        response = session.post(
            conf.token_url,
            data=data,
            auth=auth,
            headers={"Accept": "application/json"},
            timeout=conf.timeout,
            verify=conf.verify,
        )
    except requests.RequestException as exc:
        log("salesforce", "POST", conf.token_url, type(exc).__name__, started)
        from integrations.connectors.salesforce.errors import from_request_exception

        raise from_request_exception(exc, doing="logging in") from exc
    log("salesforce", "POST", conf.token_url, response.status_code, started)
    if response.status_code != 200:
        raise _refused(conf, response)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("access_token"):
        raise errors.Unavailable(
            f"Salesforce's login answer at {conf.token_url} was not an OAuth "
            "token; check settings.login_url.",
            field="settings.login_url",
            detail=response.text[:2000],
        )
    return _token(conf, body)


def _grant(conf: SalesforceSettings) -> tuple[dict, tuple[str, str] | None]:
    if conf.auth_flow == "password":
        return {
            "grant_type": "password",
            "client_id": conf.client_id,
            "client_secret": conf.client_secret,
            "username": conf.username,
            "password": conf.password + conf.security_token,
        }, None
    if conf.auth_flow == "jwt":
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": conf.client_id,
                "sub": conf.username,
                "aud": conf.login_url,
                "exp": now + JWT_LIFETIME_SECONDS,
            },
            conf.private_key,
            algorithm="RS256",
        )
        return {"grant_type": JWT_GRANT, "assertion": assertion}, None
    return {"grant_type": "client_credentials"}, (conf.client_id, conf.client_secret)


def _token(conf: SalesforceSettings, body: dict) -> Token:
    identity = str(body.get("id") or "")
    issued = str(body.get("issued_at") or "")
    signature = body.get("signature")
    if signature and conf.client_secret:
        expected = base64.b64encode(
            hmac.new(
                conf.client_secret.encode(),
                (identity + issued).encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        if not hmac.compare_digest(expected, str(signature)):
            raise errors.AuthRevoked(
                "Salesforce's login answer is not signed with the connected app's "
                "consumer secret; re-enter credentials.client_secret, and check "
                "that settings.login_url is the right Salesforce.",
                field="credentials.client_secret",
            )
    parts = urlsplit(identity).path.rstrip("/").split("/")
    org_id, user_id = (parts[-2], parts[-1]) if len(parts) >= 3 else ("", "")
    instance_url = str(body.get("instance_url") or "").rstrip("/")
    if not instance_url.startswith("https://"):
        raise errors.Unavailable(
            f"Salesforce's login answer named no https instance "
            f"({instance_url or 'none'}).",
            detail=str({k: v for k, v in body.items() if k != "access_token"}),
        )
    try:
        issued_at = int(issued) / 1000 if issued else time.time()
    except ValueError:
        issued_at = time.time()
    return Token(
        access_token=str(body["access_token"]),
        instance_url=instance_url,
        org_id=org_id,
        user_id=user_id,
        issued_at=issued_at,
    )


def _refused(conf: SalesforceSettings, response: requests.Response):
    """A login that Salesforce answered with an error, in words for people."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("error") or "")
    said = str(body.get("error_description") or code or f"HTTP {response.status_code}")
    detail = response.text[:2000]
    if response.status_code >= 500 or response.status_code in (408, 429):
        from integrations.connectors.base import retry_after

        if response.status_code == 429 or "rate" in said.lower():
            return errors.RateLimited(
                f"Salesforce is limiting logins for now ({said}).",
                retry_after=retry_after(response.headers) or conf.budget_reset_seconds,
                detail=detail,
            )
        return errors.Unavailable(
            f"Salesforce's login service is not answering properly "
            f"(HTTP {response.status_code}: {said}).",
            retry_after=retry_after(response.headers),
            detail=detail,
        )
    if "rate exceeded" in said.lower():
        return errors.RateLimited(
            f"Salesforce is limiting logins for this user for now ({said}).",
            retry_after=conf.budget_reset_seconds,
            detail=detail,
        )
    if code == "unsupported_grant_type":
        return errors.ValidationFailed(
            f"This Salesforce does not allow the {conf.auth_flow} login ({said}); "
            "choose another settings.auth_flow or enable it on the connected app.",
            field="settings.auth_flow",
            detail=detail,
        )
    if code in ("invalid_client_id", "invalid_client"):
        return errors.AuthRevoked(
            f"Salesforce refused the connected app's consumer key or secret: "
            f"{said}; re-enter settings.client_id and credentials.client_secret "
            "on the connection.",
            field="credentials.client_secret",
            detail=detail,
        )
    if response.status_code == 404:
        return errors.ValidationFailed(
            f"There is no Salesforce login service at {conf.token_url} "
            "(HTTP 404); check settings.login_url.",
            field="settings.login_url",
            detail=detail,
        )
    field = {"password": "credentials.password", "jwt": "credentials.private_key"}
    return errors.AuthRevoked(
        _refusal_words(conf, said),
        field=field.get(conf.auth_flow, "credentials.client_secret"),
        detail=detail,
    )


def _refusal_words(conf: SalesforceSettings, said: str) -> str:
    if conf.auth_flow == "password":
        return (
            f"Salesforce refused the integration user's password or security "
            f"token: {said}; re-enter them on the connection."
        )
    if conf.auth_flow == "jwt":
        return (
            f"Salesforce refused the signed (JWT) login for {conf.username}: "
            f"{said}; check that the connected app holds the certificate for "
            "credentials.private_key and that the user is pre-authorised for it."
        )
    return (
        f"Salesforce refused the client-credentials login: {said}; check the "
        "connected app's run-as user and re-enter its consumer key and secret."
    )
