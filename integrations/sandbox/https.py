"""The simulators' HTTP plumbing: stdlib ``ThreadingHTTPServer`` over TLS on loopback.

Vendors are reached over HTTPS in production, so the simulators are too, with
certificates from ``tls.py``. TLS is negotiated in each request's thread (as
the agent does), so a stalled client never blocks the accept loop.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from integrations.sandbox.tls import ServerCertificate

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 10.0
READ_TIMEOUT = 60.0


class TlsServer(ThreadingHTTPServer):
    """Plain HTTP when ``context`` is None (only for low-level tests)."""

    daemon_threads = True

    def __init__(self, address, handler, context: ssl.SSLContext | None) -> None:
        self.ssl_context = context
        super().__init__(address, handler)

    def finish_request(self, request, client_address) -> None:
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("TLS handshake with %s failed: %s", client_address[0], exc)
            return None
        try:
            tls.settimeout(READ_TIMEOUT)
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()


class StopsServer:
    """``stop()`` for a dataclass holding the ``_server`` and ``_thread`` that
    ``start_server`` made."""

    _server: TlsServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def start_server(
    handler: type[BaseHTTPRequestHandler],
    certificate: ServerCertificate | None,
    host: str,
    port: int,
    *,
    name: str,
    poll_interval: float = 0.5,
) -> tuple[str, TlsServer, threading.Thread]:
    """Serve ``handler`` in a daemon thread (port 0: any free); returns the
    base URL, the server and its thread. No certificate: plain HTTP."""
    context = None
    if certificate is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(certificate.cert), str(certificate.key))
    server = TlsServer((host, port), handler, context)
    bound_host, bound_port = server.server_address[:2]
    scheme = "https" if context else "http"
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": poll_interval},
        name=name,
        daemon=True,
    )
    thread.start()
    return f"{scheme}://{bound_host}:{bound_port}", server, thread
