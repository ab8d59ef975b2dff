"""Xero's API limits (API-FACTS §1.2; developer.xero.com/documentation/guides/
oauth2/limits).

Per organisation (tenant) and app: 5 calls in flight, 60 a minute, 5,000 a
day; per app across organisations 10,000 a minute. Over a limit the call
gets 429 with ``Retry-After`` (seconds) and ``X-Rate-Limit-Problem`` naming
the limit: ``minute``, ``day``, ``concurrent`` or ``appminute`` (``minute`` and
``day`` are the spellings seen in Xero's answers; the other two follow the
same pattern). Every answer carries ``X-DayLimit-Remaining``,
``X-MinLimit-Remaining`` and ``X-AppMinLimit-Remaining``.

Choices where Xero does not say:

- Both windows are *rolling* (the last 60 s, the last 24 h), as third-party
  write-ups of Xero describe them; so ``Retry-After`` is when the oldest
  counted call leaves the window.
- A call counts when it is admitted, whatever it then answers (400, 404 and
  idempotent replays included, as Xero counts them); a call refused with 429
  does not count, so a client that waits ``Retry-After`` gets through.
- A concurrency refusal says ``Retry-After: 1``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MINUTE = 60.0
DAY = 86400.0


@dataclass
class Admission:
    """The limiter's verdict. ``ok`` False: answer 429 with ``headers``.
    An admitted call must be ``release``-d when its answer is written."""

    ok: bool
    headers: dict[str, str]
    problem: str | None = None
    retry_after: int = 0
    _release: Callable[[], None] | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None


class Limits:
    """Counters for every (app, tenant) pair and every app."""

    def __init__(
        self,
        *,
        per_minute: int = 60,
        per_day: int = 5000,
        concurrent: int = 5,
        app_per_minute: int = 10000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_minute = per_minute
        self.per_day = per_day
        self.concurrent = concurrent
        self.app_per_minute = app_per_minute
        self.clock = clock
        self._minute: dict[tuple[str, str], deque[float]] = {}
        self._day: dict[tuple[str, str], deque[float]] = {}
        self._app: dict[str, deque[float]] = {}
        self._in_flight: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self.refused: list[tuple[str, str, str]] = []  # (app, tenant, problem)
        self.peak_in_flight: dict[str, int] = {}

    @staticmethod
    def _trim(calls: deque[float], now: float, window: float) -> None:
        while calls and calls[0] <= now - window:
            calls.popleft()

    def admit(self, app: str, tenant: str) -> Admission:
        """Count one call by ``app`` to ``tenant``, or refuse it."""
        now = self.clock()
        key = (app, tenant)
        with self._lock:
            minute = self._minute.setdefault(key, deque())
            day = self._day.setdefault(key, deque())
            app_minute = self._app.setdefault(app, deque())
            self._trim(minute, now, MINUTE)
            self._trim(day, now, DAY)
            self._trim(app_minute, now, MINUTE)
            problem, wait = None, 0.0
            if len(day) >= self.per_day:
                problem, wait = "day", day[0] + DAY - now
            elif len(app_minute) >= self.app_per_minute:
                problem, wait = "appminute", app_minute[0] + MINUTE - now
            elif len(minute) >= self.per_minute:
                problem, wait = "minute", minute[0] + MINUTE - now
            elif self._in_flight.get(key, 0) >= self.concurrent:
                problem, wait = "concurrent", 1.0
            if problem is None:
                minute.append(now)
                day.append(now)
                app_minute.append(now)
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
                self.peak_in_flight[tenant] = max(
                    self.peak_in_flight.get(tenant, 0), self._in_flight[key]
                )
            headers = {
                "X-DayLimit-Remaining": str(max(self.per_day - len(day), 0)),
                "X-MinLimit-Remaining": str(max(self.per_minute - len(minute), 0)),
                "X-AppMinLimit-Remaining": str(
                    max(self.app_per_minute - len(app_minute), 0)
                ),
            }
            if problem is not None:
                self.refused.append((app, tenant, problem))
                retry_after = max(1, math.ceil(wait))
                headers["Retry-After"] = str(retry_after)
                headers["X-Rate-Limit-Problem"] = problem
                return Admission(False, headers, problem, retry_after)
        return Admission(True, headers, _release=lambda: self._done(key))

    def _done(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._in_flight[key] = max(self._in_flight.get(key, 1) - 1, 0)

    def in_flight(self, app: str, tenant: str) -> int:
        with self._lock:
            return self._in_flight.get((app, tenant), 0)

    def calls_in_last_minute(self, app: str, tenant: str) -> int:
        now = self.clock()
        with self._lock:
            calls = self._minute.get((app, tenant), deque())
            return sum(1 for moment in calls if moment > now - MINUTE)
