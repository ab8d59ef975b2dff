"""A refresh token wanted by two workers at once: spent once, connection kept.

Xero's refresh tokens rotate: each refresh issues a new pair, and the old
refresh token only replays that answer for a grace period. Two workers that
both find the access token expired must not both spend it, and the one the
connection keeps must be the one Xero honours now.

Everything is real: the simulated Xero's identity server over HTTPS, the
connector through ``engine.clients.build`` (as a worker builds it), two
threads each with their own database connection. The only help the test
gives is to hold the first refresh at the simulator until the other worker
is provably waiting for the Connection's row: on PostgreSQL it waits for the
row lock (``select_for_update``, seen in ``pg_stat_activity``); on SQLite,
where ``select_for_update`` does nothing, it waits in ``BEGIN IMMEDIATE``
(the settings' ``transaction_mode``), which takes the database's write lock
before the token set is read.

The simulator's clock runs ``ahead`` of the real one, so its access tokens
expire without waiting half an hour.
"""

from __future__ import annotations

import sys
import threading
import time
from urllib.parse import parse_qs

import pytest
from django.db import connection as db
from django.db import connections

from integrations.engine import clients
from integrations.models import Connection, ConnectionStatus, System
from integrations.sandbox.xero.identity import ACCESS_TOKEN_SECONDS, TOKEN_PATH
from tests.factories import ConnectionFactory
from tests.support.xero import running_xero

pytestmark = pytest.mark.django_db(transaction=True)

HOLD = 60.0  # a guard against a hang, never reached when all is well


class Ahead:
    """The simulator's clock: real time plus ``ahead`` seconds."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


class TokenEndpoint:
    """Counts refreshes at the simulator; holds the first one until told."""

    def __init__(self, xero) -> None:
        self.refreshes: list[str] = []  # the refresh tokens presented
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._handle = xero.simulator.handle
        xero.simulator.handle = self.handle

    def handle(self, method, target, headers, body):
        if target.split("?", 1)[0] == TOKEN_PATH:
            form = parse_qs(body.decode())
            if form.get("grant_type") == ["refresh_token"]:
                self.refreshes.extend(form.get("refresh_token", []))
                if not self.arrived.is_set():
                    self.arrived.set()
                    self.release.wait(HOLD)
        return self._handle(method, target, headers, body)


def _waiting_for_the_row(threads: list[threading.Thread]) -> bool:
    """Is one of ``threads`` blocked taking the Connection's row?"""
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            return cursor.fetchone()[0] > 0
    frames = sys._current_frames()
    for thread in threads:
        frame, names = frames.get(thread.ident), set()
        while frame is not None:
            names.add(frame.f_code.co_name)
            frame = frame.f_back
        if {"renew", "_start_transaction_under_autocommit"} <= names:
            return True
    return False


def poll(condition, what: str, timeout: float = HOLD) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_two_workers_needing_a_token_at_once_refresh_once_and_keep_the_connection(
    tmp_path, redis_conn
):
    clock = Ahead()
    with running_xero(tmp_path, tenants=1, clock=clock) as xero:
        settings, credentials = xero.connection()
        issued = credentials["token_set"]
        # Half an hour on: Xero refuses the access token, and the hub knows it
        # has expired.
        clock.ahead += ACCESS_TOKEN_SECONDS + 1
        books = ConnectionFactory(
            system=System.XERO,
            settings=settings,
            credentials={
                **credentials,
                "token_set": {**issued, "expires_at": time.time() - 5},
            },
        )
        endpoint = TokenEndpoint(xero)
        start = threading.Barrier(2)
        answers: dict[str, list] = {}
        failures: list[BaseException] = []

        def worker(name: str) -> None:
            try:
                client = clients.build(Connection.objects.get(pk=books.pk))
                start.wait(HOLD)
                answers[name] = client.get_currencies()
            except BaseException as exc:  # noqa: BLE001 - asserted below
                failures.append(exc)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=worker, args=(name,), daemon=True)
            for name in ("first", "second")
        ]
        try:
            for thread in threads:
                thread.start()
            poll(endpoint.arrived.is_set, "a refresh to reach Xero")
            poll(lambda: _waiting_for_the_row(threads), "the other worker to wait")
        finally:
            endpoint.release.set()
            for thread in threads:
                thread.join(HOLD)

        assert failures == []
        assert endpoint.refreshes == [issued["refresh_token"]], "spent once"
        assert answers["first"] == answers["second"]
        assert {c["Code"] for c in answers["first"]} >= {"USD"}
        books.refresh_from_db()
        assert books.status == ConnectionStatus.ACTIVE
        kept = books.credentials["token_set"]
        spent = xero.identity._refresh[issued["refresh_token"]]
        assert spent.used_at is not None
        assert kept["refresh_token"] == spent.successor["refresh_token"]
        assert kept["access_token"] == spent.successor["access_token"]

        # Another half hour: the access token the workers shared has expired at
        # Xero; a third worker renews with the refresh token the row kept.
        clock.ahead += ACCESS_TOKEN_SECONDS + 1
        later = clients.build(Connection.objects.get(pk=books.pk))
        assert later.get_currencies() == answers["first"]
        assert endpoint.refreshes == [issued["refresh_token"], kept["refresh_token"]]
        books.refresh_from_db()
        assert books.credentials["token_set"]["refresh_token"] not in (
            issued["refresh_token"],
            kept["refresh_token"],
        )
        assert books.status == ConnectionStatus.ACTIVE
        assert xero.problems == []
