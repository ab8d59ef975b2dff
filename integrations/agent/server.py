"""The agent's HTTP API: signed JSON calls in, BOI writes out.

Standard library only (``http.server`` and ``ssl``), so the agent installs on
the Sage 100 server with Python alone. Every request, the ping included, must
carry a valid signature; the API answers in JSON, errors as
``{"error": {"code", "message", "column", "retryable"}}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from integrations.agent.backends.base import BOIError
from integrations.agent.config import AgentConfig
from integrations.agent.journal import IdempotencyConflict, Journal
from integrations.agent.service import (
    OBJECTS,
    AgentService,
    BadRequest,
    OutcomeUnknown,
)
from integrations.agent.signing import AgentAuthError, NonceCache, verify_request

VERSION = "1.0.0"
log = logging.getLogger("integrations.agent")

# (method, path pattern, operation, body fields passed after the path's keys).
# Path parameters are URL-decoded; creates also take the body's "reference".
ROUTES = [
    ("GET", r"/v1/ping", "ping", ()),
    ("POST", r"/v1/customers", "create_customer", ("values",)),
    ("PATCH", r"/v1/customers/(?P<division>[^/]+)/(?P<customer_no>[^/]+)",
     "update_customer", ("values",)),
    ("POST", r"/v1/items", "create_item", ("values",)),
    ("POST", r"/v1/sales-orders", "create_sales_order", ("header", "lines")),
    ("POST", r"/v1/sales-orders/(?P<sales_order_no>[^/]+)/status",
     "update_order_status", ("status",)),
    ("POST", r"/v1/purchase-orders", "create_purchase_order", ("header", "lines")),
    ("POST", r"/v1/cash-receipts", "record_cash_receipt", ("values",)),
    ("PATCH", r"/v1/items/(?P<item_code>[^/]+)", "update_item", ("values",)),
    ("POST", r"/v1/vendors", "create_vendor", ("values",)),
    ("PATCH", r"/v1/vendors/(?P<division>[^/]+)/(?P<vendor_no>[^/]+)",
     "update_vendor", ("values",)),
    ("POST", r"/v1/ap-invoices", "create_ap_invoice", ("header",)),
    ("POST", r"/v1/ap-payments", "record_ap_payment", ("values",)),
]  # fmt: skip
_COMPILED = [(m, re.compile(f"^{p}$"), op, f) for m, p, op, f in ROUTES]
# BOIError code -> (HTTP status, Retry-After seconds or None)
BOI_STATUS = {
    "invalid": (422, None),
    "not_on_file": (422, None),
    "not_found": (422, None),
    "locked": (423, 5),
    "unavailable": (503, 30),
    "login": (403, None),
}
HANDSHAKE_TIMEOUT = 10.0


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, column: str = ""):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.column = column
        self.retryable = False
        self.headers: dict[str, str] = {}


class AgentApp:
    """What the handler threads share: settings, service and nonce cache."""

    def __init__(self, config: AgentConfig, service: AgentService) -> None:
        self.config = config
        self.service = service
        self.nonces = NonceCache(config.replay_window_seconds)
        self._inflight = 0
        self._idle = threading.Condition()
        self.stopping = False

    @contextlib.contextmanager
    def request(self):
        """Count a request in flight, so a shutdown can let it finish."""
        with self._idle:
            self._inflight += 1
        try:
            yield
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Refuse new requests, then wait for those in flight to finish.

        Idle keep-alive connections are not waited for; a request that
        arrives on one from now on gets 503 and is retried by the hub.
        """
        with self._idle:
            self.stopping = True
            return self._idle.wait_for(lambda: self._inflight == 0, timeout)

    def ping(self) -> tuple[int, dict]:
        details = self.service.ping()
        return 200, {
            "ok": True,
            "company": getattr(self.service.backend, "company", ""),
            "backend": self.config.backend,
            "version": VERSION,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "details": details,
        }

    def write(self, operation: str, fields, body: dict, params: dict):
        """Call the service: path keys, then body fields, then the key."""
        args = [*params.values(), *(body.get(name) for name in fields)]
        options = {"idempotency_key": body.get("idempotency_key")}
        if operation in OBJECTS:  # a create: it may carry a reference
            options["reference"] = body.get("reference")
        result = getattr(self.service, operation)(*args, **options)
        return (201 if result.get("created") else 200), {"result": result}


class AgentHandler(BaseHTTPRequestHandler):
    app: AgentApp  # set on the server's handler subclass
    server_version = f"LedgerBridgeAgent/{VERSION}"
    protocol_version = "HTTP/1.1"  # keep-alive: the hub's session reuses sockets
    timeout = 60  # an idle keep-alive connection frees its thread
    # Headers and body leave in one segment, at once: otherwise Nagle and the
    # client's delayed ACK add ~40 ms to every call.
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format, *args) -> None:
        log.debug("%s - %s", self.client_address[0], format % args)

    def _handle(self) -> None:
        with self.app.request():
            self._answer()

    def _answer(self) -> None:
        started, key_id, status = time.monotonic(), "-", 500
        try:
            if self.app.stopping:
                self.close_connection = True
                error = ApiError(503, "unavailable", "The agent is stopping.")
                error.retryable, error.headers["Retry-After"] = True, "5"
                raise error
            body = self._body()
            key_id = self._authenticate(body)
            operation, fields, params = self._route()
            if operation == "ping":
                status, answer = self.app.ping()
            else:
                payload = self._json(body)
                status, answer = self.app.write(operation, fields, payload, params)
            self._send(status, answer)
        except ApiError as exc:
            status = exc.status
            self._send_error(exc)
        except BadRequest as exc:
            status = 400
            self._send_error(ApiError(400, "bad_request", exc.message, exc.field))
        except IdempotencyConflict as exc:
            status = 409
            self._send_error(ApiError(409, "idempotency_conflict", str(exc)))
        except OutcomeUnknown as exc:
            status = 409
            self._send_error(ApiError(409, "outcome_unknown", str(exc)))
        except BOIError as exc:
            status = self._send_boi_error(exc)
        except Exception:
            log.exception("%s %s failed", self.command, self.path)
            status = 500
            self._send_error(ApiError(500, "internal", "internal error"))
        finally:
            elapsed = (time.monotonic() - started) * 1000
            log.info(
                "%s %s %s %.0fms key=%s",
                self.command,
                self.path,
                status,
                elapsed,
                key_id,
            )

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise ApiError(411, "length_required", "Send the body with Content-Length.")
        length = self.headers.get("Content-Length") or "0"
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise ApiError(
                400, "bad_request", "Content-Length is not a number."
            ) from None
        if size > self.app.config.max_body_bytes:
            # Read and drop a moderately large body so the client gets the 413
            # instead of a reset connection; close after either way.
            self.close_connection = True
            left = size if size <= 8 * self.app.config.max_body_bytes else 0
            while left > 0:
                left -= len(self.rfile.read(min(left, 65536))) or left
            raise ApiError(
                413,
                "too_large",
                f"The body is {size} bytes; the agent accepts at most "
                f"{self.app.config.max_body_bytes}.",
            )
        return self.rfile.read(size) if size > 0 else b""

    def _authenticate(self, body: bytes) -> str:
        try:
            return verify_request(
                self.app.config.keys,
                self.command,
                self.path,
                body,
                self.headers,
                nonces=self.app.nonces,
                window=self.app.config.replay_window_seconds,
            )
        except AgentAuthError as exc:
            raise ApiError(401, "unauthorized", str(exc)) from None

    def _route(self):
        path = urlsplit(self.path).path
        allowed = []
        for method, pattern, operation, fields in _COMPILED:
            match = pattern.match(path)
            if match:
                if method == self.command:
                    params = {k: unquote(v) for k, v in match.groupdict().items()}
                    return operation, fields, params
                allowed.append(method)
        if allowed:
            error = ApiError(
                405, "method_not_allowed", f"{path} accepts {', '.join(allowed)}."
            )
            error.headers["Allow"] = ", ".join(allowed)
            raise error
        raise ApiError(404, "no_route", f"The agent has no {path}.")

    @staticmethod
    def _json(body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            raise ApiError(
                400, "bad_request", "The body is not JSON.", "body"
            ) from None
        if not isinstance(payload, dict):
            raise ApiError(
                400, "bad_request", "The body must be a JSON object.", "body"
            )
        return payload

    def _send_boi_error(self, exc: BOIError) -> int:
        status, wait = BOI_STATUS.get(exc.code, (422, None))
        error = ApiError(status, exc.code, exc.message, exc.column)
        error.retryable = exc.retryable
        if wait is not None:
            wait = getattr(exc, "retry_after", None) or wait
            error.headers["Retry-After"] = str(int(wait))
        self._send_error(error)
        return status

    def _send_error(self, error: ApiError) -> None:
        body = {
            "error": {
                "code": error.code,
                "message": error.message,
                "column": error.column,
                "retryable": error.retryable,
            }
        }
        self._send(error.status, body, error.headers)

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body, default=str).encode()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        try:
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError as exc:  # the hub gave up; it retries with the key
            self.close_connection = True
            log.info("%s %s: answer not delivered: %s", self.command, self.path, exc)


class AgentServer(ThreadingHTTPServer):
    """A threading HTTP server that speaks TLS when given a context.

    The TLS handshake happens in the request's own thread, so one slow client
    cannot hold up the accept loop.
    """

    daemon_threads = True

    def __init__(self, address, handler, ssl_context: ssl.SSLContext | None):
        self.ssl_context = ssl_context
        super().__init__(address, handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{'https' if self.ssl_context else 'http'}://{host}:{port}"

    def finish_request(self, request, client_address) -> None:
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.warning("TLS handshake with %s failed: %s", client_address[0], exc)
            return None
        try:
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()


def tls_context(config: AgentConfig) -> ssl.SSLContext | None:
    if not config.tls_cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(config.tls_cert), str(config.tls_key))
    return context


def make_server(
    config: AgentConfig, backend, *, journal: Journal | None = None
) -> AgentServer:
    """A ready-to-serve agent over ``backend``; the caller runs serve_forever()."""
    journal = journal or Journal(config.journal)
    service = AgentService(backend, journal, name=config.backend)
    app = AgentApp(config, service)
    handler = type("BoundAgentHandler", (AgentHandler,), {"app": app})
    server = AgentServer((config.host, config.port), handler, tls_context(config))
    server.app = app
    return server


def serve_in_thread(
    server: AgentServer, *, poll_interval: float = 0.1
) -> threading.Thread:
    """Serve until ``server.shutdown()``, which returns within ``poll_interval``."""
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": poll_interval},
        name="ledgerbridge-agent",
        daemon=True,
    )
    thread.start()
    return thread
