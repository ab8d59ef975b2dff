"""The simulated Xero over HTTPS: login, identity, /connections and the
Accounting API on one loopback port.

Routes (Xero's hosts folded into one): ``/identity/connect/authorize``
(login.xero.com), ``/connect/token`` and ``/connect/revocation``
(identity.xero.com), ``/connections`` and ``/api.xro/2.0/...``
(api.xero.com).

An Accounting call goes through, in order: the bearer token (401 in Xero's
problem shape, ``TokenExpired: …`` when stale; a token without the scope the
operation needs is 401 ``AuthorizationUnsuccessful``), the organisation (403
for one the token is not connected to; custom-connection tokens need no
``xero-tenant-id``), the limits (429), the JSON (400
``PostDataInvalidException``), the contract (400 ``ValidationException``
listing the problems, as Xero answers a malformed body), the
``Idempotency-Key`` (replay or 400), then ``Organisation.handle``. Its answer
is checked against the contract too: a violation is the simulator's own bug,
kept in ``problems`` and logged as an error; tests assert there are none.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from integrations.sandbox.https import StopsServer, TlsServer, start_server
from integrations.sandbox.tls import ServerCertificate
from integrations.sandbox.xero import contract
from integrations.sandbox.xero.http import AccountingRequest, AccountingResponse
from integrations.sandbox.xero.idempotency import IdempotencyStore, fingerprint
from integrations.sandbox.xero.identity import (
    AUTHORIZE_PATH,
    REVOCATION_PATH,
    TOKEN_PATH,
    Answer,
    App,
    Identity,
    Tenant,
    parse_form,
)
from integrations.sandbox.xero.limits import Limits
from integrations.sandbox.xero.webhooks import EventBatcher, WebhookSender

log = logging.getLogger(__name__)

API_PREFIX = "/api.xro/2.0"
JSON = "application/json; charset=utf-8"


class Books(Protocol):
    def handle(self, request: AccountingRequest) -> AccountingResponse: ...


def problem_body(status: int, title: str, detail: str) -> dict:
    """Xero's problem shape for 401/403 (and, here, 404/405/429)."""
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(body: Any) -> bytes:
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode()


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON


@dataclass
class Call:
    method: str
    path: str
    status: int
    tenant_id: str | None = None


class XeroSimulator:
    """Everything but the socket: route, check, answer, record."""

    def __init__(
        self,
        organisations: dict[str, Books],
        identity: Identity,
        *,
        limits: Limits | None = None,
        idempotency: IdempotencyStore | None = None,
    ) -> None:
        self.organisations = organisations
        self.identity = identity
        self.limits = limits or Limits(clock=identity.clock)
        self.idempotency = idempotency or IdempotencyStore(clock=identity.clock)
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self.request_problems: list[str] = []
        self._tenant_locks = {tenant: threading.Lock() for tenant in organisations}
        self._record_lock = threading.Lock()

    def add_organisation(self, tenant_id: str, books: Books) -> None:
        self._tenant_locks[tenant_id] = threading.Lock()
        self.organisations[tenant_id] = books

    # --- entry -----------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        parts = urlsplit(target)
        path = parts.path
        lowered = {name.lower(): value for name, value in headers.items()}
        query: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        tenant = None
        try:
            if path.startswith(API_PREFIX + "/") or path == API_PREFIX:
                reply, tenant = self._accounting(
                    method, path[len(API_PREFIX) :] or "/", query, lowered, body
                )
            elif path.rstrip("/") == AUTHORIZE_PATH:
                reply = self._authorize(method, query, body)
            elif path == TOKEN_PATH and method == "POST":
                reply = self._token(lowered, body)
            elif path == REVOCATION_PATH and method == "POST":
                reply = _reply(self.identity.revoke(lowered, parse_form(body)))
            elif path.lower().startswith("/connections"):
                reply = self._connections(method, path, query, lowered)
            else:
                reply = _problem(
                    404, "Not Found", "The resource you're looking for cannot be found"
                )
        except Exception:
            log.exception("The Xero simulator failed on %s %s", method, path)
            self._problem(f"{method} {path}: the simulator raised an exception")
            reply = _problem(500, "Internal Server Error", "An error occurred in Xero")
        with self._record_lock:
            self.calls.append(Call(method, path, reply.status, tenant))
        return reply

    def _problem(self, text: str) -> None:
        log.error("Xero simulator contract problem: %s", text)
        with self._record_lock:
            self.problems.append(text)

    # --- identity --------------------------------------------------------

    def _authorize(self, method: str, query: dict[str, str], body: bytes) -> Reply:
        if method == "GET":
            return _reply(self.identity.authorize_page(query))
        if method == "POST":
            return _reply(self.identity.authorize_decision(parse_form(body)))
        return _problem(405, "Method Not Allowed", "Use GET or POST.")

    def _token(self, headers: dict[str, str], body: bytes) -> Reply:
        answer = self.identity.token(headers, parse_form(body))
        if answer.status == 200:
            for problem in contract.identity().schema_problems(
                "AccessToken", answer.body, "token response"
            ):
                self._problem(problem)
        return _reply(answer)

    def _connections(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> Reply:
        operation = contract.identity_operation(method, path)
        if operation is None:
            return _problem(
                404, "Not Found", "The resource you're looking for cannot be found"
            )
        check = self.identity.check_bearer(headers.get("authorization"))
        if check.token is None:
            return _unauthorised(check.detail)
        problems = operation.check_request(query, headers, None)
        if problems:
            self._request_problem(operation, problems)
            return _reply_json(400, {"error": "invalid_request", "problems": problems})
        if method == "GET":
            status, body = (
                200,
                self.identity.list_connections(check.token, query.get("authEventId")),
            )
        elif self.identity.delete_connection(check.token, operation.path_values["id"]):
            status, body = 204, None
        else:
            status, body = 404, None
        self._check_answer(operation, status, body)
        return _reply_json(status, body)

    # --- accounting ------------------------------------------------------

    def _accounting(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        raw: bytes,
    ) -> tuple[Reply, str | None]:
        check = self.identity.check_bearer(headers.get("authorization"))
        if check.token is None:
            return _unauthorised(check.detail), None
        token = check.token
        operation = contract.operation(method, path)
        if operation is None:
            if any(
                contract.operation(other, path)
                for other in ("GET", "PUT", "POST", "DELETE")
                if other != method
            ):
                return _problem(
                    405, "Method Not Allowed", f"{method} is not allowed on {path}"
                ), None
            return _problem(
                404, "Not Found", "The resource you're looking for cannot be found"
            ), None
        needed = set(_scopes(operation))
        if needed and not needed & set(token.grant.scopes):
            return _unauthorised("AuthorizationUnsuccessful"), None
        tenant = self._tenant(token, headers)
        if tenant is None:
            return _problem(403, "Forbidden", "AuthenticationUnsuccessful"), None
        admission = self.limits.admit(token.grant.client_id, tenant)
        if not admission.ok:
            reply = _problem(
                429,
                "Too Many Requests",
                f"You've exceeded the per {admission.problem} rate limit",
            )
            reply.headers.update(admission.headers)
            return reply, tenant
        try:
            reply = self._admitted(operation, method, path, query, headers, raw, tenant)
        finally:
            admission.release()
        reply.headers = {**admission.headers, **reply.headers}
        return reply, tenant

    def _tenant(self, token, headers: dict[str, str]) -> str | None:
        asked = (headers.get("xero-tenant-id") or "").strip()
        if token.custom_tenant:
            # Custom connections need no header; one naming another
            # organisation is refused.
            if asked and asked.lower() != token.custom_tenant.lower():
                return None
            return token.custom_tenant
        allowed = {t.lower(): t for t in self.identity.tenants_for(token)}
        found = allowed.get(asked.lower())
        return found if found in self.organisations else None

    def _admitted(
        self,
        operation: contract.Operation,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        raw: bytes,
        tenant: str,
    ) -> Reply:
        body: Any = None
        content_type = headers.get("content-type", "")
        if raw and ("json" in content_type or not content_type):
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                return _reply_json(
                    400,
                    {
                        "ErrorNumber": 14,
                        "Type": "PostDataInvalidException",
                        "Message": "Invalid Json data",
                    },
                )
        elif raw:
            body = raw
        checked_headers = {**headers, "xero-tenant-id": tenant}
        problems = operation.check_request(query, checked_headers, body)
        if problems:
            self._request_problem(operation, problems)
            return _reply_json(
                400,
                {
                    "ErrorNumber": 10,
                    "Type": "ValidationException",
                    "Message": "A validation exception occurred",
                    "Elements": [
                        {"ValidationErrors": [{"Message": p} for p in problems]}
                    ],
                },
            )
        key = headers.get("idempotency-key")
        outcome = None
        if key and method in ("PUT", "POST", "PATCH"):
            outcome = self.idempotency.begin(
                tenant, key, fingerprint(method, path, query, body)
            )
            if outcome.refuse is not None:
                return _accounting_reply(outcome.refuse)
            if outcome.replay is not None:
                return _accounting_reply(outcome.replay, replayed=True)
        request = AccountingRequest(method, path, dict(query), dict(headers), body)
        try:
            with self._tenant_locks[tenant]:
                response = self.organisations[tenant].handle(request)
        except Exception:
            response = AccountingResponse(
                500, problem_body(500, "Internal Server Error", "An error occurred")
            )
            log.exception("Organisation %s failed on %s %s", tenant, method, path)
            self._problem(f"{method} {path}: the organisation raised an exception")
        # What goes on the wire is what is checked.
        wire = encode(response.body) if response.body is not None else b""
        sent = json.loads(wire) if wire else None
        if response.status < 500:
            for problem in operation.check_response(response.status, sent):
                self._problem(f"{operation} answered {response.status}: {problem}")
        if outcome is not None and outcome.entry is not None:
            self.idempotency.finish(
                tenant,
                key,
                outcome.entry,
                AccountingResponse(response.status, sent, dict(response.headers)),
            )
        return Reply(response.status, wire, dict(response.headers))

    def _request_problem(
        self, operation: contract.Operation, problems: list[str]
    ) -> None:
        with self._record_lock:
            self.request_problems += [f"{operation}: {p}" for p in problems]
        log.warning("Refused a request to %s: %s", operation, "; ".join(problems))

    def _check_answer(
        self, operation: contract.Operation, status: int, body: Any
    ) -> None:
        sent = json.loads(encode(body)) if body is not None else None
        for problem in operation.check_response(status, sent):
            self._problem(f"{operation} answered {status}: {problem}")


def _scopes(operation: contract.Operation) -> list[str]:
    scopes: list[str] = []
    for requirement in operation.definition.get("security") or []:
        scopes += requirement.get("OAuth2") or []
    return scopes


def _reply(answer: Answer) -> Reply:
    if isinstance(answer.body, bytes):
        data = answer.body
    elif answer.body is None:
        data = b""
    else:
        data = encode(answer.body)
    return Reply(answer.status, data, dict(answer.headers), answer.content_type)


def _reply_json(status: int, body: Any) -> Reply:
    return Reply(status, encode(body) if body is not None else b"")


def _accounting_reply(response: AccountingResponse, *, replayed: bool = False) -> Reply:
    reply = _reply_json(response.status, response.body)
    reply.headers.update(response.headers)
    if replayed:
        reply.headers["Idempotent-Replayed"] = "true"
    return reply


def _problem(status: int, title: str, detail: str) -> Reply:
    return _reply_json(status, problem_body(status, title, detail))


def _unauthorised(detail: str) -> Reply:
    reply = _problem(401, "Unauthorized", detail)
    reply.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return reply


class _Handler(BaseHTTPRequestHandler):
    simulator: XeroSimulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # the demo has its own logs
        return None

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.simulator.handle(self.command, self.path, headers, body)
        self.send_response(reply.status)
        if reply.body or reply.status not in (204, 302):
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


@dataclass
class RunningXeroServer(StopsServer):
    url: str
    simulator: XeroSimulator
    _server: TlsServer
    _thread: threading.Thread


def serve(
    simulator: XeroSimulator,
    certificate: ServerCertificate,
    host: str = "127.0.0.1",
    port: int = 0,
) -> RunningXeroServer:
    """Serve ``simulator`` over HTTPS in a daemon thread (port 0: any free)."""
    handler = type("BoundXeroHandler", (_Handler,), {"simulator": simulator})
    url, server, thread = start_server(
        handler, certificate, host, port, name="xero-sim", poll_interval=0.05
    )
    return RunningXeroServer(url, simulator, server, thread)


@dataclass
class XeroStack:
    """A running simulated Xero: server, identity, organisations, webhooks."""

    server: RunningXeroServer
    identity: Identity
    organisations: dict[str, Any]
    app: App
    ca_bundle: str
    sender: WebhookSender | None = None
    batcher: EventBatcher | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def simulator(self) -> XeroSimulator:
        return self.server.simulator

    def stop(self) -> None:
        if self.batcher is not None:
            self.batcher.stop()
        if self.sender is not None:
            self.sender.stop()
        self.server.stop()


def _credit_note_details(organisations: dict[str, Any]):
    """What a CREDITNOTE event's ``data`` needs, read from the books."""

    def details(tenant_id: str, category: str, resource_id: str) -> dict | None:
        answer = organisations[tenant_id].handle(
            AccountingRequest("GET", f"/CreditNotes/{resource_id}", {}, {}, None)
        )
        notes = (answer.body or {}).get("CreditNotes") if answer.status == 200 else None
        if not notes:
            return None
        return {"Type": notes[0].get("Type"), "Status": notes[0].get("Status")}

    return details


def start(
    certificate: ServerCertificate,
    tenants: list[Tenant],
    books_factory: Callable[..., Any],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], float] = time.time,
    per_minute: int = 60,
    per_day: int = 5000,
    concurrent: int = 5,
    app_per_minute: int = 10000,
    redirect_uris: list[str] | None = None,
    webhook_url: str | None = None,
    webhook_key: str | None = None,
    webhook_window: float = 1.0,
    retry_initial: float = 30.0,
) -> XeroStack:
    """Build and serve a simulated Xero.

    ``books_factory(tenant_id, name, clock=..., on_change=...)`` makes one
    organisation's books (``accounting.Organisation`` in the demo). With
    ``webhook_url`` and ``webhook_key`` the organisations' changes go there as
    signed, batched events (after the intent-to-receive check)."""
    identity = Identity(tenants, clock=clock)
    app = identity.register_app(redirect_uris=redirect_uris)
    limits = Limits(
        per_minute=per_minute,
        per_day=per_day,
        concurrent=concurrent,
        app_per_minute=app_per_minute,
        clock=clock,
    )
    simulator = XeroSimulator({}, identity, limits=limits)
    server = serve(simulator, certificate, host, port)
    sender = batcher = None
    organisations: dict[str, Any] = {}
    if webhook_url and webhook_key:
        sender = WebhookSender(
            webhook_url,
            webhook_key,
            ca_bundle=str(certificate.ca),
            retry_initial=retry_initial,
        )
        batcher = EventBatcher(
            sender,
            api_url=server.url + API_PREFIX,
            window=webhook_window,
            details=_credit_note_details(organisations),
            on_problem=simulator._problem,
        )
    for tenant in tenants:
        on_change = batcher.listener(tenant.tenant_id) if batcher else None
        books = books_factory(
            tenant.tenant_id, tenant.name, clock=clock, on_change=on_change
        )
        organisations[tenant.tenant_id] = books
        simulator.add_organisation(tenant.tenant_id, books)
    if sender is not None and batcher is not None:
        sender.start()
        batcher.start()
    return XeroStack(
        server, identity, organisations, app, str(certificate.ca), sender, batcher
    )
