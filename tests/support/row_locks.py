"""Showing two workers race for a Connection's row lock (PostgreSQL only)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connections


def skip_unless_postgres() -> None:
    """``select_for_update`` is a no-op on SQLite: the race needs PostgreSQL."""
    if connections["default"].vendor != "postgresql":
        pytest.skip(
            "select_for_update is a no-op on SQLite, so two workers racing for "
            "the row lock can only be shown on PostgreSQL (set DATABASE_URL)"
        )


def blocked_on_a_lock() -> int:
    """How many sessions of this database wait for a lock just now."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def hold_until_the_other_waits(started: threading.Event, timeout: float = 10.0) -> None:
    """Called by the worker holding the lock: returns once the other worker has
    started and is blocked on a lock (or after ``timeout``)."""
    started.wait(timeout)
    deadline = time.monotonic() + timeout
    while not blocked_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.01)


def race(
    work: Callable[[], object],
    *,
    first_holds: Callable[[], bool],
    second_started: threading.Event,
) -> tuple[dict[str, object], list[Exception]]:
    """``work`` in a "first" thread, then, once ``first_holds()``, in a
    "second" one (``second_started`` set as it begins); each thread closes its
    own database connection. Returns the answers by name and the failures."""
    answers: dict[str, object] = {}
    failures: list[Exception] = []

    def worker(name: str) -> None:
        try:
            if name == "second":
                second_started.set()
            answers[name] = work()
        except Exception as exc:  # noqa: BLE001 - the caller asserts on them
            failures.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=worker, args=("first",))
    first.start()
    while not first_holds() and first.is_alive():
        time.sleep(0.005)
    second = threading.Thread(target=worker, args=("second",))
    second.start()
    first.join(30)
    second.join(30)
    return answers, failures
