"""Serve the Admin API over HTTPS on loopback, one thread per connection."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from integrations.sandbox.shopify.admin_api import AdminApi
from integrations.sandbox.tls import ServerCertificate

HANDSHAKE_TIMEOUT = 10.0


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


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, context: ssl.SSLContext) -> None:
        self.ssl_context = context
        super().__init__(address, handler)

    def finish_request(self, request, client_address) -> None:
        # The handshake runs in the request's thread, so a stalled client
        # never blocks the accept loop.
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return None
        try:
            tls.settimeout(60)
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()


@dataclass
class RunningAdminApi:
    url: str
    api: AdminApi
    _server: _TlsServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def serve(
    api: AdminApi,
    certificate: ServerCertificate,
    host: str = "127.0.0.1",
    port: int = 0,
) -> RunningAdminApi:
    """Serve ``api`` over HTTPS in a daemon thread; ``url`` is the shop URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(certificate.cert), str(certificate.key))
    handler = type("BoundShopifyHandler", (_Handler,), {"api": api})
    server = _TlsServer((host, port), handler, context)
    bound_host, bound_port = server.server_address[:2]
    thread = threading.Thread(
        target=server.serve_forever, name="shopify-admin-api", daemon=True
    )
    thread.start()
    return RunningAdminApi(f"https://{bound_host}:{bound_port}", api, server, thread)
