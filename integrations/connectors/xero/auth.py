"""Xero OAuth 2.0 through xero-python: consent URL, code exchange, refresh,
client credentials, revocation and the tenants a token reaches.

xero-python keeps its token endpoints as ``TokenApi`` class attributes and its
``OAuth2Token`` refreshes through that class; changing them globally would
point every connection (and every test) at one server. ``XeroTokenApi`` sets
them per instance from the connection's settings, and ``StoreToken`` sends
every refresh through a ``TokenStore``, so the connection's store decides who
spends the refresh token (one worker, under a row lock) and keeps the rotated
one. The store is a plain callback object: connectors import no Django models.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlencode

from urllib3.util.retry import Retry
from xero_python import exceptions as sdk
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.identity import IdentityApi

from integrations.connectors.xero import errors as xero_errors
from integrations.connectors.xero.settings import XeroSettings, token_set
from integrations.engine import errors

# Renew this long before Xero's expiry, as xero-python does.
EXPIRY_MARGIN_SECONDS = OAuth2Token.EXPIRATION_BUFFER_DEFAULT
NO_TOKEN = {
    "access_token": None,
    "refresh_token": None,
    "id_token": None,
    "expires_in": None,
    "expires_at": 0,
    "token_type": "Bearer",
    "scope": [],
}

Fetch = Callable[[dict | None], dict]
TRANSPORT_RETRIES = Retry(
    total=2,
    connect=2,
    read=0,
    status=0,
    redirect=0,
    respect_retry_after_header=False,
    raise_on_status=False,
)


class TokenStore(Protocol):
    """Where a connection's token set lives; the service keeps it in the database."""

    def load(self) -> dict | None:
        """The token set to use now (may be stale; the caller renews it)."""

    def renew(self, stale_access_token: str | None, fetch: Fetch) -> dict:
        """A fresh token set. Unless someone already replaced the stale one,
        call ``fetch(current)`` once and keep what it returns."""


def is_fresh(tokens: dict | None, *, now: float | None = None) -> bool:
    if not tokens or not tokens.get("access_token"):
        return False
    expires_at = tokens.get("expires_at")
    if expires_at is None:
        return True
    now = time.time() if now is None else now
    return float(expires_at) > now + EXPIRY_MARGIN_SECONDS


class MemoryTokenStore:
    """A token set held in this process: for scripts, tests and the simulator."""

    def __init__(
        self,
        tokens: dict | None = None,
        *,
        on_save: Callable[[dict], None] | None = None,
    ) -> None:
        self._tokens = token_set(tokens) if tokens else None
        self._lock = threading.Lock()
        self._on_save = on_save
        self.renewals = 0

    def load(self) -> dict | None:
        return self._tokens

    def renew(self, stale_access_token: str | None, fetch: Fetch) -> dict:
        with self._lock:
            current = self._tokens
            if is_fresh(current) and current["access_token"] != stale_access_token:
                return current
            fresh = fetch(current)
            self._tokens = fresh
            self.renewals += 1
            if self._on_save:
                self._on_save(fresh)
            return fresh


class XeroTokenApi(TokenApi):
    """xero-python's TokenApi with this connection's endpoints, plus the
    authorisation-code exchange the SDK leaves to the web framework."""

    def __init__(self, api_client: ApiClient, conf: XeroSettings) -> None:
        super().__init__(api_client, conf.client_id, conf.client_secret)
        # Instance attributes: the class's identity.xero.com stays untouched.
        self.refresh_token_url = conf.token_url
        self.client_credentials_token_url = conf.token_url
        self.revoke_token_url = conf.revocation_url

    def exchange_code(self, code: str, redirect_uri: str) -> dict:
        response, _status, _headers = self.api_client.call_api(
            self.refresh_token_url,
            "POST",
            header_params={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            post_params={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            auth_settings=None,
            _preload_content=False,
        )
        return self.parse_token_response(response)


class StoreToken(OAuth2Token):
    """xero-python's token holder, renewing through the connection's store."""

    def __init__(self, conf: XeroSettings, store: TokenStore) -> None:
        super().__init__(client_id=conf.client_id, client_secret=conf.client_secret)
        self.conf = conf
        self.store = store

    def refresh_access_token(self, api_client: ApiClient) -> bool:
        self.renew(api_client)
        return True

    def get_client_credentials_access_token(self, api_client, app_store_billing):
        self.renew(api_client)
        return True

    def renew(self, api_client: ApiClient) -> dict:
        """Replace the token this holder last used (``self.access_token``)."""
        fresh = self.store.renew(
            self.access_token, lambda current: fetch_token(self.conf, current)
        )
        self.update_token(**fresh)
        return fresh


def new_api_client(conf: XeroSettings, store: TokenStore) -> ApiClient:
    """An ApiClient verifying TLS with the connection's CA, tokens from ``store``."""
    config = Configuration()  # a copy of the SDK's default; never pass arguments
    config.oauth2_token = StoreToken(conf, store)
    config.verify_ssl = True
    config.ssl_ca_cert = conf.ca_bundle or None
    client = ApiClient(
        config,
        pool_threads=1,
        oauth2_token_getter=lambda: store.load() or NO_TOKEN,
        oauth2_token_saver=lambda tokens: None,  # StoreToken saves through the store
    )
    # urllib3's default Retry sleeps for Retry-After and repeats 429/503 answers
    # (three times): a worker would hang for minutes and spend the tenant's
    # budget. A 429 is the throttle's and the runner's business; only a
    # connection that could not be opened is tried again.
    pools = client.rest_client.pool_manager
    pools.connection_pool_kw["retries"] = TRANSPORT_RETRIES
    return client


def _plain_client(conf: XeroSettings) -> ApiClient:
    return new_api_client(conf, MemoryTokenStore())


def authorisation_url(
    conf: XeroSettings, *, redirect_uri: str, state: str, scopes=None
) -> str:
    """Where to send the admin's browser to consent (authorisation-code grant)."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": conf.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes or conf.scopes),
            "state": state,
        }
    )
    return f"{conf.authorize_url}?{query}"


def _token_call(conf: XeroSettings, doing: str, call: Callable[[], dict]) -> dict:
    try:
        raw = call()
    except sdk.ApiException as exc:
        raise xero_errors.from_token_error(exc, doing=doing) from exc
    except xero_errors.TRANSPORT_ERRORS as exc:
        raise xero_errors.from_transport(exc, doing=doing, url=conf.token_url) from exc
    except ValueError as exc:  # not JSON
        raise errors.Unavailable(
            f"Xero's token answer at {conf.token_url} was not JSON while {doing}; "
            "check settings.identity_url.",
            field="settings.identity_url",
        ) from exc
    return _with_expiry(raw, doing=doing, url=conf.token_url)


def _with_expiry(raw, *, doing: str, url: str) -> dict:
    if not isinstance(raw, dict) or not raw.get("access_token"):
        raise errors.Unavailable(
            f"Xero's answer at {url} was not an OAuth token while {doing}; check "
            "settings.identity_url.",
            field="settings.identity_url",
            detail=json.dumps(raw, default=str)[:500] if raw else "",
        )
    tokens = dict(raw)
    if tokens.get("expires_in") and not tokens.get("expires_at"):
        tokens["expires_at"] = time.time() + float(tokens["expires_in"])
    return token_set(tokens)


def exchange_code(conf: XeroSettings, code: str, redirect_uri: str) -> dict:
    """The token set for the code Xero's consent page sent back."""
    api = XeroTokenApi(_plain_client(conf), conf)
    return _token_call(
        conf, "finishing Connect to Xero", lambda: api.exchange_code(code, redirect_uri)
    )


def fetch_token(conf: XeroSettings, current: dict | None) -> dict:
    """A new token set: by refresh token, or by client credentials."""
    api = XeroTokenApi(_plain_client(conf), conf)
    if conf.is_custom_connection:
        return _token_call(
            conf,
            "logging in with the custom connection's client credentials",
            lambda: api.get_client_credentials_token(app_store_billing=False),
        )
    if not current or not current.get("refresh_token"):
        raise errors.AuthRevoked(
            "This Xero connection is not authorised yet (no token stored); press "
            "Connect to Xero on the connections page.",
            field="credentials.token_set",
        )
    holder = OAuth2Token(client_id=conf.client_id, client_secret=conf.client_secret)
    holder.update_token(**current)
    return _token_call(
        conf,
        "renewing the connection's Xero login",
        lambda: holder.fetch_access_token(api),
    )


def revoke(conf: XeroSettings, refresh_token: str) -> None:
    """Revoke a refresh token (and so every tenant connection made with it)."""
    api = XeroTokenApi(_plain_client(conf), conf)
    try:
        api.revoke_token(refresh_token)
    except sdk.ApiException as exc:
        raise xero_errors.from_token_error(exc, doing="disconnecting") from exc
    except xero_errors.TRANSPORT_ERRORS as exc:
        raise xero_errors.from_transport(
            exc, doing="disconnecting", url=conf.revocation_url
        ) from exc


def identity_api(conf: XeroSettings, api_client: ApiClient) -> IdentityApi:
    return IdentityApi(api_client, base_url=conf.identity_api_url)


def connections_with(conf: XeroSettings, tokens: dict) -> list[dict]:
    """The tenants (``/connections``) an access token just obtained reaches."""
    api = identity_api(conf, new_api_client(conf, MemoryTokenStore(tokens)))
    url = f"{conf.identity_api_url}/Connections"
    try:
        response, _status, _headers = api.get_connections(
            _return_http_data_only=False,
            _preload_content=False,
            _request_timeout=(conf.timeout, conf.timeout),
        )
    except sdk.ApiException as exc:
        raise xero_errors.from_api_exception(
            exc, doing="listing the organisations", what="the connections list"
        ) from exc
    except xero_errors.TRANSPORT_ERRORS as exc:
        raise xero_errors.from_transport(
            exc, doing="listing the organisations", url=url
        ) from exc
    body = json.loads(response.data or b"[]")
    return [dict(item) for item in body if isinstance(item, dict)]
