"""Serve the Admin API over HTTPS on loopback, one thread per connection."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from integrations.sandbox.https import StopsServer, TlsServer, start_server
from integrations.sandbox.shopify.admin_api import AdminApi
from integrations.sandbox.tls import ServerCertificate


class _Handler(BaseHTTPRequestHandler):
    api: AdminApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # the demo has its own logs
        return None

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        url = urlsplit(self.path)
        answer = self.api.handle(self.command, url.path, headers, body, url.query)
        data = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


@dataclass
class RunningAdminApi(StopsServer):
    url: str
    api: AdminApi
    _server: TlsServer
    _thread: threading.Thread


def serve(
    api: AdminApi,
    certificate: ServerCertificate,
    host: str = "127.0.0.1",
    port: int = 0,
) -> RunningAdminApi:
    """Serve ``api`` over HTTPS in a daemon thread; ``url`` is the shop URL."""
    handler = type("BoundShopifyHandler", (_Handler,), {"api": api})
    url, server, thread = start_server(
        handler, certificate, host, port, name="shopify-admin-api"
    )
    return RunningAdminApi(url, api, server, thread)
