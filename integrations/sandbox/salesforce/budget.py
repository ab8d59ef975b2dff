"""The org's daily API request allowance and the tests' fault switch."""

from __future__ import annotations

import threading
import time


class ApiBudget:
    """A fixed window (default a day) that starts with the first counted call."""

    def __init__(self, maximum: int = 15000, window_seconds: float = 86400) -> None:
        self.maximum, self.window_seconds = maximum, window_seconds
        self.used, self.window_started = 0, None

    def _roll(self) -> None:
        now = time.monotonic()
        if (
            self.window_started is None
            or now - self.window_started >= self.window_seconds
        ):
            self.window_started, self.used = now, 0

    def spend(self) -> bool:
        """Count one call; False (and nothing counted) when the allowance is gone."""
        self._roll()
        if self.used >= self.maximum:
            return False
        self.used += 1
        return True

    def remaining(self) -> int:
        self._roll()
        return max(self.maximum - self.used, 0)

    def header(self) -> str:
        return f"api-usage={self.used}/{self.maximum}"


class Faults:
    """``fail_next(n)``: answer the next n API calls with an error status."""

    MESSAGES = {
        503: (
            "SERVER_UNAVAILABLE",
            "Server is temporarily unavailable. Try again later.",
        ),
        500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please try again."),
        502: ("UNKNOWN_EXCEPTION", "Bad gateway"),
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[int, str, str]] = []

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        code, message = self.MESSAGES.get(status, ("UNKNOWN_EXCEPTION", "Failure"))
        with self._lock:
            self._pending.extend([(status, code, message)] * count)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def take(self) -> tuple[int, str, str] | None:
        with self._lock:
            return self._pending.pop(0) if self._pending else None
