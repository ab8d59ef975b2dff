"""The simulated Xero's identity service: OAuth 2.0 and ``/connections``.

What it does, as Xero does (API-FACTS §1.1; developer.xero.com/documentation/
oauth2 and /faq/oauth2, /faq/custom-integration, /oauth2/troubleshooting):

- Authorisation code: the login URL shows a consent page listing the user's
  organisations with checkboxes; Allow redirects to ``redirect_uri`` with
  ``code`` and ``state``, Deny with ``error=access_denied``. A code works once,
  for 5 minutes, with the same ``redirect_uri``.
- Tokens: access tokens last 1800 s. A refresh token comes only with the
  ``offline_access`` scope. Refresh tokens rotate: each refresh issues a new
  pair. Presenting the *old* refresh token again within the 30-minute grace
  period returns the very same new pair (a client that lost the answer can
  retry); after the grace period it is ``invalid_grant``. An unused refresh
  token expires after 60 days.
- Client credentials (custom connections): one organisation, no refresh
  token; the ``xero-tenant-id`` header is not needed.
- Client authentication by HTTP Basic or by ``client_id``/``client_secret``
  in the form body (xero-python does the latter).
- Errors as Xero words them: 400 ``{"error": "invalid_grant"}`` (also
  ``invalid_request``, ``unsupported_grant_type``), 401
  ``{"error": "invalid_client"}``.
- Revocation revokes the refresh token's whole grant: its tokens stop working
  and the connections it made are removed.

Time comes from an injected clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

ACCESS_TOKEN_SECONDS = 1800
CODE_SECONDS = 300
REFRESH_GRACE_SECONDS = 1800
REFRESH_UNUSED_SECONDS = 60 * 86400
CONSENT_SECONDS = 3600
OPENID_SCOPES = ("openid", "profile", "email", "offline_access")
ACCOUNTING_SCOPES = (
    "accounting.transactions",
    "accounting.transactions.read",
    "accounting.contacts",
    "accounting.contacts.read",
    "accounting.settings",
    "accounting.settings.read",
    "accounting.reports.read",
    "accounting.reports.tenninetynine.read",
    "accounting.journals.read",
    "accounting.attachments",
    "accounting.attachments.read",
    "accounting.budgets.read",
)
KNOWN_SCOPES = frozenset(OPENID_SCOPES + ACCOUNTING_SCOPES)
# What a custom connection is authorised for unless told otherwise.
CUSTOM_CONNECTION_SCOPES = (
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
    "accounting.attachments",
)
AUTHORIZE_PATH = "/identity/connect/authorize"
TOKEN_PATH = "/connect/token"
REVOCATION_PATH = "/connect/revocation"


class OAuthError(Exception):
    """A token-endpoint failure: ``status`` and Xero's ``{"error": code}``."""

    def __init__(self, status: int, code: str, description: str = "") -> None:
        super().__init__(description or code)
        self.status = status
        self.code = code

    @property
    def body(self) -> dict:
        return {"error": self.code}


@dataclass
class Tenant:
    tenant_id: str
    name: str
    tenant_type: str = "ORGANISATION"


@dataclass
class App:
    """A registered app. ``redirect_uris`` None: any loopback URI is taken
    (tests and the demo pick ports at run time); otherwise exact matches only.
    ``custom_tenant`` set: a custom connection (client credentials) bound to
    that organisation."""

    client_id: str
    client_secret: str
    name: str = "LedgerBridge"
    redirect_uris: list[str] | None = None
    custom_tenant: str | None = None
    scopes: tuple[str, ...] = CUSTOM_CONNECTION_SCOPES


@dataclass
class Connection:
    id: str
    tenant_id: str
    client_id: str
    auth_event_id: str
    created: float
    updated: float


@dataclass
class Grant:
    """One authorisation (an ``authEventId``): what its tokens may do."""

    id: str
    client_id: str
    scopes: tuple[str, ...]
    custom_tenant: str | None = None
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    grant: Grant
    expires_at: float

    @property
    def custom_tenant(self) -> str | None:
        return self.grant.custom_tenant


@dataclass
class RefreshToken:
    token: str
    grant: Grant
    issued_at: float
    used_at: float | None = None
    successor: dict | None = None


@dataclass
class Code:
    code: str
    grant: Grant
    redirect_uri: str
    expires_at: float
    used: bool = False


@dataclass
class Consent:
    """A consent page shown and not yet answered."""

    id: str
    app: App
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    expires_at: float


@dataclass
class TokenCheck:
    """The outcome of looking at a bearer token."""

    token: AccessToken | None
    detail: str = "AuthenticationUnsuccessful"


@dataclass
class Answer:
    """An identity endpoint's HTTP answer (``body`` bytes or JSON-able)."""

    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Identity:
    """Apps, the user's organisations and connections, codes and tokens."""

    def __init__(
        self,
        tenants: list[Tenant],
        *,
        clock: Callable[[], float] = time.time,
        issuer: str = "https://identity.xero.com",
    ) -> None:
        self.tenants = {tenant.tenant_id: tenant for tenant in tenants}
        self.clock = clock
        self.issuer = issuer
        self.apps: dict[str, App] = {}
        self.connections: dict[str, Connection] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._codes: dict[str, Code] = {}
        self._consents: dict[str, Consent] = {}
        self._lock = threading.RLock()

    # --- apps -----------------------------------------------------------

    def register_app(
        self, *, name: str = "LedgerBridge", redirect_uris: list[str] | None = None
    ) -> App:
        """A standard (authorisation code) app with fresh credentials."""
        app = App(
            uuid.uuid4().hex.upper(),
            secrets.token_urlsafe(36),
            name=name,
            redirect_uris=redirect_uris,
        )
        self.apps[app.client_id] = app
        return app

    def register_custom_connection(
        self, tenant_id: str, *, name: str = "LedgerBridge (custom connection)"
    ) -> App:
        """A custom connection to ``tenant_id``: client credentials only."""
        if tenant_id not in self.tenants:
            raise ValueError(f"tenant_id {tenant_id!r} is not one of this Xero's.")
        app = App(
            uuid.uuid4().hex.upper(),
            secrets.token_urlsafe(36),
            name=name,
            custom_tenant=tenant_id,
        )
        self.apps[app.client_id] = app
        now = self.clock()
        connection = Connection(
            str(uuid.uuid4()), tenant_id, app.client_id, str(uuid.uuid4()), now, now
        )
        self.connections[connection.id] = connection
        return app

    # --- consent (the login URL) -----------------------------------------

    def authorize_page(self, query: dict[str, str]) -> Answer:
        """GET on the login URL: the consent page, or an error page naming the
        parameter at fault (Xero shows an error screen, no redirect)."""
        problem = None
        app = self.apps.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        scopes = tuple((query.get("scope") or "").split())
        if query.get("response_type") != "code":
            problem = "response_type must be 'code'."
        elif app is None or app.custom_tenant:
            problem = "unauthorized_client: client_id is not a registered app."
        elif not self._redirect_allowed(app, redirect_uri):
            problem = "Invalid redirect_uri: it is not registered for this app."
        elif not scopes:
            problem = "invalid_scope: scope is required."
        else:
            unknown = [s for s in scopes if s not in KNOWN_SCOPES]
            if unknown:
                problem = f"invalid_scope: unknown scope {', '.join(unknown)}."
        if problem:
            return Answer(400, _error_page(problem).encode(), content_type=HTML)
        consent = Consent(
            secrets.token_urlsafe(16),
            app,
            redirect_uri,
            scopes,
            query.get("state"),
            self.clock() + CONSENT_SECONDS,
        )
        with self._lock:
            self._consents[consent.id] = consent
        connected = {
            c.tenant_id
            for c in self.connections.values()
            if c.client_id == app.client_id
        }
        page = _consent_page(consent, list(self.tenants.values()), connected)
        return Answer(200, page.encode(), content_type=HTML)

    def authorize_decision(self, form: dict[str, list[str]]) -> Answer:
        """POST from the consent page: redirect back with a code or an error."""
        consent_id = (form.get("consent") or [""])[0]
        with self._lock:
            consent = self._consents.pop(consent_id, None)
        if consent is None or consent.expires_at < self.clock():
            page = _error_page("This consent request has expired; start again.")
            return Answer(400, page.encode(), content_type=HTML)
        decision = (form.get("decision") or [""])[0]
        if decision != "allow":
            return _redirect(
                consent.redirect_uri, error="access_denied", state=consent.state
            )
        chosen = [t for t in form.get("tenant", []) if t in self.tenants]
        if not chosen:
            with self._lock:
                self._consents[consent.id] = consent
            connected = set(form.get("tenant", []))
            page = _consent_page(
                consent,
                list(self.tenants.values()),
                connected,
                problem="Choose at least one organisation to connect.",
            )
            return Answer(200, page.encode(), content_type=HTML)
        code = self.grant_code(
            consent.app, consent.redirect_uri, consent.scopes, chosen
        )
        return _redirect(
            consent.redirect_uri,
            code=code,
            scope=" ".join(consent.scopes),
            state=consent.state,
            session_state=secrets.token_urlsafe(24),
        )

    def grant_code(
        self,
        app: App,
        redirect_uri: str,
        scopes: tuple[str, ...],
        tenant_ids: list[str],
    ) -> str:
        """Record the user's consent for ``tenant_ids`` and issue a code."""
        grant = Grant(str(uuid.uuid4()), app.client_id, tuple(scopes))
        now = self.clock()
        with self._lock:
            for tenant_id in tenant_ids:
                existing = next(
                    (
                        c
                        for c in self.connections.values()
                        if c.client_id == app.client_id and c.tenant_id == tenant_id
                    ),
                    None,
                )
                if existing:
                    existing.updated, existing.auth_event_id = now, grant.id
                else:
                    connection = Connection(
                        str(uuid.uuid4()), tenant_id, app.client_id, grant.id, now, now
                    )
                    self.connections[connection.id] = connection
            code = Code(
                secrets.token_urlsafe(32), grant, redirect_uri, now + CODE_SECONDS
            )
            self._codes[code.code] = code
        return code.code

    # --- token endpoint --------------------------------------------------

    def token(self, headers: dict[str, str], form: dict[str, list[str]]) -> Answer:
        """POST /connect/token."""
        try:
            return Answer(200, self._token(headers, _single(form)), headers=NO_STORE)
        except OAuthError as error:
            return Answer(error.status, error.body, headers=NO_STORE)

    def _token(self, headers: dict[str, str], form: dict[str, str]) -> dict:
        app = self._client(headers, form)
        grant_type = form.get("grant_type", "")
        with self._lock:
            if grant_type == "authorization_code":
                return self._exchange_code(app, form)
            if grant_type == "refresh_token":
                return self._refresh_tokens(app, form)
            if grant_type == "client_credentials":
                if not app.custom_tenant:
                    raise OAuthError(400, "unauthorized_client")
                grant = Grant(
                    str(uuid.uuid4()),
                    app.client_id,
                    app.scopes,
                    custom_tenant=app.custom_tenant,
                )
                return self._issue(grant, refresh=False)
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required.")
        raise OAuthError(400, "unsupported_grant_type")

    def _client(self, headers: dict[str, str], form: dict[str, str]) -> App:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
                client_id, _, secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError(401, "invalid_client") from None
        app = self.apps.get(client_id or "")
        if app is None or not secrets.compare_digest(app.client_secret, secret or ""):
            raise OAuthError(401, "invalid_client")
        return app

    def _exchange_code(self, app: App, form: dict[str, str]) -> dict:
        code = self._codes.get(form.get("code", ""))
        if (
            code is None
            or code.used
            or code.expires_at < self.clock()
            or code.grant.client_id != app.client_id
            or code.redirect_uri != form.get("redirect_uri")
        ):
            raise OAuthError(400, "invalid_grant")
        code.used = True
        return self._issue(code.grant, refresh="offline_access" in code.grant.scopes)

    def _refresh_tokens(self, app: App, form: dict[str, str]) -> dict:
        now = self.clock()
        record = self._refresh.get(form.get("refresh_token", ""))
        if (
            record is None
            or record.grant.revoked
            or record.grant.client_id != app.client_id
        ):
            raise OAuthError(400, "invalid_grant")
        if record.used_at is not None:
            if now - record.used_at <= REFRESH_GRACE_SECONDS and record.successor:
                return dict(record.successor)
            raise OAuthError(400, "invalid_grant")
        if now - record.issued_at > REFRESH_UNUSED_SECONDS:
            raise OAuthError(400, "invalid_grant")
        issued = self._issue(record.grant, refresh=True)
        record.used_at, record.successor = now, dict(issued)
        return issued

    def _issue(self, grant: Grant, *, refresh: bool) -> dict:
        now = self.clock()
        access = AccessToken(self._jwt(grant, now), grant, now + ACCESS_TOKEN_SECONDS)
        self._access[access.token] = access
        issued = {
            "access_token": access.token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if "openid" in grant.scopes:
            issued["id_token"] = self._jwt(grant, now, kind="id")
        if refresh:
            token = secrets.token_hex(32)
            self._refresh[token] = RefreshToken(token, grant, now)
            issued["refresh_token"] = token
        return issued

    def _jwt(self, grant: Grant, now: float, kind: str = "access") -> str:
        """An opaque token shaped like Xero's JWTs (header.payload.signature)."""
        header = {
            "alg": "RS256",
            "kid": "1CAF8E66772D6DC028D6726FD0261581570EFC19",
            "typ": "JWT",
        }
        payload = {
            "nbf": int(now),
            "exp": int(now + ACCESS_TOKEN_SECONDS),
            "iss": self.issuer,
            "aud": f"{self.issuer}/resources" if kind == "access" else grant.client_id,
            "client_id": grant.client_id,
            "authentication_event_id": grant.id,
            "jti": secrets.token_hex(16),
        }
        if kind == "access":
            payload["scope"] = list(grant.scopes)
        return ".".join(
            [
                _b64(json.dumps(header).encode()),
                _b64(json.dumps(payload).encode()),
                _b64(secrets.token_bytes(32)),
            ]
        )

    # --- revocation ------------------------------------------------------

    def revoke(self, headers: dict[str, str], form: dict[str, list[str]]) -> Answer:
        """POST /connect/revocation with ``token`` = a refresh token."""
        values = _single(form)
        try:
            app = self._client(headers, values)
        except OAuthError as error:
            return Answer(error.status, error.body)
        token = values.get("token")
        if not token:
            return Answer(400, {"error": "invalid_request"})
        with self._lock:
            record = self._refresh.get(token)
            if record is not None and record.grant.client_id == app.client_id:
                grant = record.grant
                grant.revoked = True
                for key in [
                    k
                    for k, c in self.connections.items()
                    if c.auth_event_id == grant.id
                ]:
                    del self.connections[key]
        return Answer(200, b"")

    # --- bearer tokens and connections -----------------------------------

    def check_bearer(self, authorization: str | None) -> TokenCheck:
        """The access token in an ``Authorization: Bearer`` header, or why not."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return TokenCheck(None)
        with self._lock:
            token = self._access.get(authorization[7:].strip())
        if token is None or token.grant.revoked:
            return TokenCheck(None)
        if token.expires_at <= self.clock():
            moment = datetime.fromtimestamp(token.expires_at, UTC)
            return TokenCheck(
                None, f"TokenExpired: token expired at {moment:%m/%d/%Y %H:%M:%S}"
            )
        return TokenCheck(token)

    def tenants_for(self, token: AccessToken) -> set[str]:
        """The organisations ``token`` may reach now."""
        if token.custom_tenant:
            return {token.custom_tenant}
        with self._lock:
            return {
                c.tenant_id
                for c in self.connections.values()
                if c.client_id == token.grant.client_id
            }

    def list_connections(
        self, token: AccessToken, auth_event_id: str | None
    ) -> list[dict]:
        """GET /connections: the token's app's connections (a custom
        connection lists its one organisation)."""
        with self._lock:
            found = [
                c
                for c in self.connections.values()
                if c.client_id == token.grant.client_id
                and (auth_event_id is None or c.auth_event_id == auth_event_id)
            ]
        return [
            self._connection_json(c) for c in sorted(found, key=lambda c: c.created)
        ]

    def delete_connection(self, token: AccessToken, connection_id: str) -> bool:
        with self._lock:
            found = self.connections.get(connection_id)
            if found is None or found.client_id != token.grant.client_id:
                return False
            del self.connections[connection_id]
            return True

    def _connection_json(self, connection: Connection) -> dict:
        tenant = self.tenants[connection.tenant_id]
        return {
            "id": connection.id,
            "authEventId": connection.auth_event_id,
            "tenantId": tenant.tenant_id,
            "tenantType": tenant.tenant_type,
            "tenantName": tenant.name,
            "createdDateUtc": _utc(connection.created),
            "updatedDateUtc": _utc(connection.updated),
        }

    def _redirect_allowed(self, app: App, redirect_uri: str) -> bool:
        if app.redirect_uris is not None:
            return redirect_uri in app.redirect_uris
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and parts.hostname in (
            "127.0.0.1",
            "localhost",
            "::1",
        )


HTML = "text/html; charset=utf-8"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _single(form: dict[str, list[str]]) -> dict[str, str]:
    return {key: values[0] for key, values in form.items() if values}


def parse_form(body: bytes) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body."""
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def _utc(moment: float) -> str:
    """Xero's spelling in /connections: UTC, 7 fractional digits, no zone."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def _redirect(uri: str, **params: str | None) -> Answer:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    joiner = "&" if urlsplit(uri).query else "?"
    return Answer(
        302, b"", headers={"Location": f"{uri}{joiner}{query}"}, content_type=HTML
    )


def _error_page(problem: str) -> str:
    return (
        "<!doctype html><html><head><title>Xero | Error</title></head><body>"
        f'<h1>Sorry, something went wrong</h1><p class="error">{html.escape(problem)}'
        "</p></body></html>"
    )


def _consent_page(
    consent: Consent, tenants: list[Tenant], checked: set[str], problem: str = ""
) -> str:
    rows = "".join(
        '<li><label><input type="checkbox" name="tenant" value="{id}"{on}> {name}'
        "</label></li>".format(
            id=html.escape(t.tenant_id),
            on=" checked" if t.tenant_id in checked else "",
            name=html.escape(t.name),
        )
        for t in tenants
    )
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in consent.scopes)
    warning = f'<p class="error">{html.escape(problem)}</p>' if problem else ""
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        "<title>Xero | Authorise app</title></head><body>"
        f"<h1>{html.escape(consent.app.name)} wants access to your Xero data</h1>"
        f'{warning}<form method="post" action="{AUTHORIZE_PATH}">'
        f'<input type="hidden" name="consent" value="{html.escape(consent.id)}">'
        f"<p>Organisations to connect:</p><ul>{rows}</ul>"
        f"<p>It will be able to:</p><ul>{scopes}</ul>"
        '<button type="submit" name="decision" value="allow">Allow access</button> '
        '<button type="submit" name="decision" value="deny">Cancel</button>'
        "</form></body></html>"
    )
