"""The simulator's HTTPS server: stdlib ``ThreadingHTTPServer`` over TLS.

One server answers the token endpoint and the REST API, like an org's My
Domain host. TLS is negotiated in each request's thread (as the agent does),
so a slow client cannot stall the accept loop.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from integrations.sandbox.https import StopsServer, TlsServer, start_server
from integrations.sandbox.salesforce.org import SalesforceOrg
from integrations.sandbox.salesforce.rest import Request, RestApi
from integrations.sandbox.tls import ServerCertificate

log = logging.getLogger(__name__)
MAX_BODY = 50 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    api: RestApi
    protocol_version = "HTTP/1.1"
    server_version = "SFDC"
    sys_version = ""

    def log_message(self, format, *args):  # the demo has its own logs
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            self.command,
            parts.path,
            parts.query,
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        try:
            response = self.api.handle(request)
        except Exception:  # a simulator bug must still answer like a server
            log.exception("unhandled error for %s %s", self.command, self.path)
            response_body = json.dumps(
                [
                    {
                        "message": "An unexpected error occurred.",
                        "errorCode": "UNKNOWN_EXCEPTION",
                    }
                ]
            ).encode()
            self._write(500, response_body, "application/json;charset=UTF-8", {})
            return
        if response.body is None:
            data, content_type = b"", ""
        elif isinstance(response.body, bytes):
            data, content_type = response.body, "text/plain;charset=UTF-8"
        else:
            data = json.dumps(response.body).encode()
            content_type = "application/json;charset=UTF-8"
        self._write(response.status, data, content_type, response.headers)

    def _write(self, status: int, data: bytes, content_type: str, headers: dict):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _serve


@dataclass
class RunningServer(StopsServer):
    url: str
    org: SalesforceOrg
    api: RestApi
    _server: TlsServer
    _thread: threading.Thread


def serve(
    org: SalesforceOrg,
    host: str = "127.0.0.1",
    port: int = 0,
    certificate: ServerCertificate | None = None,
) -> RunningServer:
    """Serve ``org`` in a daemon thread; sets ``org.instance_url`` to the URL.

    Without a certificate it serves plain HTTP (simple-salesforce cannot reach
    that; only for low-level tests)."""
    api = RestApi(org)
    handler = type("BoundSalesforceHandler", (_Handler,), {"api": api})
    url, server, thread = start_server(
        handler, certificate, host, port, name="salesforce-sim", poll_interval=0.1
    )
    org.instance_url = url
    return RunningServer(url, org, api, server, thread)
