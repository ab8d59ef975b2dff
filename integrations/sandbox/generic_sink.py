"""A stand-in for a JSON API that receives documents (an order desk, a partner).

It behaves like a careful real receiver: it checks our signature, requires an
Idempotency-Key and answers a repeat with the first result, validates required
fields (422 naming the field), limits calls per minute (429 + Retry-After) and
can be told to fail (503) for fault tests and the demo.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from integrations import signing


@dataclass
class SinkState:
    signing_secret: str = ""
    required_fields: tuple[str, ...] = ("reference",)
    calls_per_minute: int = 600
    documents: dict = field(default_factory=dict)  # id -> document
    by_key: dict = field(default_factory=dict)  # idempotency key -> (status, body)
    unavailable_until: float = 0.0
    fail_next: int = 0
    calls: list = field(default_factory=list)  # timestamps, for the rate limit
    lock: threading.Lock = field(default_factory=threading.Lock)


class SinkHandler(BaseHTTPRequestHandler):
    state: SinkState  # set on the server's handler subclass
    server_version = "GenericSink/1.0"

    def log_message(self, format, *args):  # quiet; the demo has its own logs
        return

    def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, field_name: str = "", **headers):
        self._answer(
            status, {"errors": [{"field": field_name, "message": message}]}, headers
        )

    def do_GET(self) -> None:
        state = self.state
        if self.path.startswith("/documents/"):
            document = state.documents.get(self.path.rsplit("/", 1)[1])
            if document is None:
                return self._error(404, "No such document.")
            return self._answer(200, document)
        if self.path == "/documents":
            return self._answer(200, {"documents": list(state.documents.values())})
        return self._error(404, "Not found.")

    def do_POST(self) -> None:
        if self.path == "/_faults":
            return self._set_faults()
        if self.path != "/documents":
            return self._error(404, "Not found.")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        refusal = self._refusal(body)
        if refusal:
            return self._error(*refusal[:3], **refusal[3])
        key = self.headers.get("Idempotency-Key", "")
        with self.state.lock:
            if key in self.state.by_key:
                _, answer = self.state.by_key[key]
                return self._answer(200, answer)
            try:
                document = json.loads(body)
            except ValueError:
                return self._error(400, "The body is not JSON.", "body")
            if not isinstance(document, dict):
                return self._error(400, "The body must be a JSON object.", "body")
            for name in self.state.required_fields:
                if document.get(name) in (None, ""):
                    return self._error(422, f"{name} is required.", name)
            doc_id = f"DOC-{len(self.state.documents) + 1:06d}"
            stored = {"id": doc_id, **document}
            self.state.documents[doc_id] = stored
            self.state.by_key[key] = (201, {"id": doc_id})
        return self._answer(201, {"id": doc_id})

    def _refusal(self, body: bytes):
        """Faults, rate limit, signature and key checks, in the order a server would."""
        state, now = self.state, time.time()
        with state.lock:
            if now < state.unavailable_until or state.fail_next > 0:
                state.fail_next = max(state.fail_next - 1, 0)
                return (503, "Service unavailable, try again later.", "", {})
            state.calls = [t for t in state.calls if t > now - 60] + [now]
            if len(state.calls) > state.calls_per_minute:
                wait = int(60 - (now - state.calls[0])) + 1
                return (429, "Too many requests.", "", {"Retry-After": str(wait)})
        if state.signing_secret:
            try:
                signing.verify(
                    state.signing_secret,
                    body,
                    self.headers.get(signing.HEADER),
                    tolerance=300,
                )
            except signing.SignatureInvalid as exc:
                return (401, str(exc), signing.HEADER, {})
        if not self.headers.get("Idempotency-Key"):
            return (
                400,
                "The Idempotency-Key header is required.",
                "Idempotency-Key",
                {},
            )
        return None

    def _set_faults(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        with self.state.lock:
            if "down_for_seconds" in body:
                self.state.unavailable_until = time.time() + float(
                    body["down_for_seconds"]
                )
            self.state.fail_next = int(body.get("fail_next", self.state.fail_next))
        self._answer(200, {"ok": True})


def make_server(host: str, port: int, state: SinkState) -> ThreadingHTTPServer:
    handler = type("BoundSinkHandler", (SinkHandler,), {"state": state})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
