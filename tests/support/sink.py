"""The generic sink simulator on an ephemeral loopback port, for one test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from integrations.sandbox.generic_sink import SinkState, make_server


@contextmanager
def running_sink(**state_options) -> Iterator[tuple[str, SinkState]]:
    state = SinkState(**state_options)
    server = make_server("127.0.0.1", 0, state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
