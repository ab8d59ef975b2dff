"""What every connector promises the flows.

Connectors import no Django models: they take plain settings and callbacks, so
they run against simulators with no database. Every vendor failure leaves a
connector as one of the ``integrations.engine.errors`` classes, and only the
connector's own ``errors.py`` knows the vendor's codes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

# (system, method, url, status or error, started monotonic time)
CallLog = Callable[[str, str, str, "int | str", float], None]


class Throttle(Protocol):
    """The shared per-connection budget (``integrations.engine.throttle``)."""

    def call(self): ...


def no_log(system: str, method: str, url: str, status, started: float) -> None:
    return None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from an HTTP ``Retry-After`` header, when it holds a number."""
    try:
        return float(headers.get("Retry-After", ""))
    except ValueError:
        return None
