"""Where the demo's portal listens: the simulators post their webhooks there.

``manage.py demo --host H --port P`` sets LEDGERBRIDGE_DEMO_PORTAL before it
starts the simulators, so their webhook addresses follow the portal.
"""

from __future__ import annotations

import os

DEFAULT = "http://127.0.0.1:8000"
ENV = "LEDGERBRIDGE_DEMO_PORTAL"


def url() -> str:
    return os.environ.get(ENV, DEFAULT).rstrip("/")
