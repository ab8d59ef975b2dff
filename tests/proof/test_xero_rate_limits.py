"""A 429 storm, proven with real RQ workers against the simulated Xero.

Xero counts calls per app and organisation over a rolling minute. Our workers
share one sliding-window throttle in Redis (``xero-tenant-<id>``), so together
they never spend more than the connection's budget; but anything else using
the same app for the same organisation (a staging copy of the hub, a support
script) spends that budget behind the throttle's back, and Xero answers 429
with ``Retry-After``. Then every worker must wait, not hammer Xero.

The limits are Xero's own except the per-minute count, lowered from 60 to
``PER_MINUTE`` (in the simulator and in the connection's budget alike): 120
bills in three batches on three workers take about 15 calls, so they exceed
it, and the run waits out one rolling minute instead of needing thousands
of calls and many minutes. The window stays 60 s, as Xero's.

The foreign caller spends ``FOREIGN_CALLS`` of the minute the moment our
first call arrives (the simulator holds that call meanwhile), so our workers
meet a full window while our throttle still thinks it has budget left.

What is measured, and where:

- The simulator's limiter: when it counted or refused each call, and whose
  it was (our connection's grant or the foreign caller's).
- Our throttle's own log in Redis: when each call left our throttle (the
  workers' clocks, the same machine's).
- The pause our connector puts on the throttle after a 429, watched from the
  moment the 429 is answered, before our worker can have read it.

"Over the limit" is defined on our throttle's log: no more than
``PER_MINUTE`` calls of ours (429s included: a refused call was spent too)
in any rolling 60 s. The 429s we do get must be the foreign caller's doing:
when each was refused, Xero's window held fewer than ``PER_MINUTE`` calls of
ours and at least one of the foreign caller's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from integrations.models import RecordStatus, SyncRecord, System
from tests.factories import ConnectionFactory
from tests.support import workers
from tests.support.procure_to_pay import BILL_FLOW, World
from tests.support.sage100 import running_sage100
from tests.support.xero import running_xero

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.workers]

PER_MINUTE = 10  # Xero's is 60; see the module's docstring
FOREIGN_CALLS = 2  # what the other caller spends of the tenant's minute
CONCURRENT = 4  # our connection's calls in flight (Xero allows 5)
WORKERS = 3
BILLS, VENDORS = 120, 1
WINDOW = 60.0
DEADLINE = 240.0  # the run needs about 65 s (one Retry-After of ~60 s)


@dataclass
class Seen:
    """One Accounting call as the simulator saw it."""

    who: str  # "ours", "foreign"
    method: str
    path: str
    status: int
    at: float  # when the limiter counted or refused it
    retry_after: int | None = None
    problem: str | None = None


@dataclass
class Pause:
    """The throttle's pause, first seen after one of our 429s."""

    answered_at: float  # the 429 (limiter time)
    retry_after: int
    seen_at: float | None = None  # first moment a long enough pause was there
    ends_at: float | None = None


class Foreign:
    """Another caller with the same app's credentials and its own token (its
    own consent), not behind our throttle."""

    def __init__(self, xero, tenant_id: str) -> None:
        _, credentials = xero.connection(tenant_id)
        self.token = credentials["token_set"]["access_token"]
        self.tenant_id = tenant_id
        self.url = xero.accounting_url + "/Organisation"
        self.session = xero.session()

    def spend(self, calls: int) -> None:
        for _ in range(calls):
            answer = self.session.get(
                self.url,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "xero-tenant-id": self.tenant_id,
                },
                timeout=30,
            )
            assert answer.status_code == 200, answer.text


class Observer:
    """Sees every Accounting call the simulator answers. The first call of
    ours waits while the foreign caller spends ``FOREIGN_CALLS`` of the
    minute; each 429 of ours starts a watch on our throttle's pause."""

    def __init__(self, xero, redis, tenant_id: str, ours: str, foreign: Foreign):
        self.xero, self.redis, self.foreign = xero, redis, foreign
        self.identity = xero.identity
        self.pause_key = f"ledgerbridge:throttle:xero-tenant-{tenant_id}:pause"
        self.ours = ours
        self.foreign_grant = self._grant(f"Bearer {foreign.token}")
        self.seen: list[Seen] = []
        self.pauses: list[Pause] = []
        self._watchers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._spent = False
        self._local = threading.local()
        simulator, limits = xero.simulator, xero.limits
        self._handle, self._clock = simulator.handle, limits.clock
        simulator.handle = self.handle
        limits.clock = self.clock

    def _grant(self, authorization: str | None) -> str | None:
        check = self.identity.check_bearer(authorization)
        return check.token.grant.id if check.token else None

    def clock(self) -> float:
        # The limiter reads its clock once per call, when it decides.
        self._local.at = self._clock()
        return self._local.at

    def handle(self, method, target, headers, body):
        path = target.split("?", 1)[0]
        if "/api.xro/2.0/" not in path:
            return self._handle(method, target, headers, body)
        grant = self._grant(headers.get("authorization"))
        who = {self.ours: "ours", self.foreign_grant: "foreign"}.get(grant, "other")
        if who == "ours":
            with self._lock:
                first, self._spent = not self._spent, True
            if first:
                self.foreign.spend(FOREIGN_CALLS)
        self._local.at = None
        reply = self._handle(method, target, headers, body)
        retry_after = reply.headers.get("Retry-After")
        seen = Seen(
            who,
            method,
            path,
            reply.status,
            self._local.at,
            int(retry_after) if retry_after else None,
            reply.headers.get("X-Rate-Limit-Problem"),
        )
        with self._lock:
            self.seen.append(seen)
        if who == "ours" and reply.status == 429:
            self._watch(Pause(seen.at, seen.retry_after))
        return reply

    def _watch(self, pause: Pause) -> None:
        """Poll the pause from before our worker can have read the 429."""
        wanted = pause.answered_at + pause.retry_after

        def watch() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                # Read between two clock readings: the pause ends no sooner
                # than ``before`` + what was left, and was there by ``after``.
                before = time.time()
                left = self.redis.pttl(self.pause_key) / 1000
                after = time.time()
                if left > 0 and before + left >= wanted - 0.001:
                    pause.seen_at, pause.ends_at = after, before + left
                    return
                time.sleep(0.001)

        thread = threading.Thread(target=watch, daemon=True)
        with self._lock:
            self.pauses.append(pause)
            self._watchers.append(thread)
        thread.start()

    def finish(self) -> None:
        for thread in self._watchers:
            thread.join(35)

    def calls(self, who: str, status: int | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if s.who == who and (status is None or s.status == status)
        ]


def admitted_in_window(seen: list[Seen], who: str, moment: float) -> int:
    """Calls of ``who`` the limiter counted in the minute before ``moment``."""
    return sum(
        1
        for s in seen
        if s.who == who and s.status != 429 and moment - WINDOW < s.at < moment
    )


def wait_for_the_bills(observer: Observer) -> None:
    """Poll until every bill succeeded; fail at once on one needing attention."""
    deadline = time.monotonic() + DEADLINE
    while True:
        records = SyncRecord.objects.filter(flow=BILL_FLOW)
        stuck = records.filter(status=RecordStatus.NEEDS_ATTENTION)
        assert not stuck.exists(), [r.error_message for r in stuck]
        if records.filter(status=RecordStatus.SUCCEEDED).count() == BILLS:
            return
        assert time.monotonic() < deadline, (
            "the bills are not all in Xero; the calls it saw: "
            + "; ".join(
                f"{s.who} {s.method} {s.path} {s.status}" for s in observer.seen
            )
            + "; the records waiting: "
            + "; ".join(
                f"{r.pk} {r.status} {r.attempts} {r.next_attempt_at} {r.error_message}"
                for r in records.exclude(status=RecordStatus.SUCCEEDED)
            )
        )
        time.sleep(0.1)


def test_a_429_storm_spends_no_call_over_the_limit_and_every_bill_lands_once(
    tmp_path, redis_conn
):
    with (
        running_sage100(tmp_path / "sage100", customers=3) as sage,
        running_xero(tmp_path / "xero", tenants=1, per_minute=PER_MINUTE) as xero,
    ):
        tenant_id = xero.tenants[0][0]
        settings, credentials = xero.connection(tenant_id)
        world = World(
            sage,
            xero,
            ConnectionFactory(
                name="Sage ABC",
                system=System.SAGE100,
                settings={**sage.connection_settings(), "timezone": "UTC"},
                credentials=sage.credentials,
            ),
            ConnectionFactory(
                name="Xero books",
                system=System.XERO,
                settings=settings,
                credentials=credentials,
                calls_per_minute=PER_MINUTE,
                max_concurrent_calls=CONCURRENT,
            ),
        )
        world.configure(BILL_FLOW)
        ours = xero.identity.check_bearer(
            f"Bearer {credentials['token_set']['access_token']}"
        ).token.grant.id
        observer = Observer(xero, redis_conn, tenant_id, ours, Foreign(xero, tenant_id))
        vendors = world.vendors(VENDORS)
        numbers = [f"RL-{n:03d}" for n in range(BILLS)]
        for n, number in enumerate(numbers):
            world.enter_bill(number, "42.00", vendor=vendors[n % VENDORS])
        for n, number in enumerate(numbers):
            world.bill_published(vendors[n % VENDORS], number)

        running = [
            workers.start_worker(
                burst=False,
                with_scheduler=True,
                LEDGERBRIDGE_RETRY_BASE_SECONDS="1",
                LEDGERBRIDGE_RETRY_MAX_SECONDS="5",
            )
            for _ in range(WORKERS)
        ]
        try:
            wait_for_the_bills(observer)
        finally:
            for worker in running:
                workers.kill(worker, workers.signal.SIGTERM)
        observer.finish()

        # Every bill is in Xero's books once.
        books = xero.organisation(tenant_id).books
        bills = [i for i in books.invoices.values() if i.get("Type") == "ACCPAY"]
        assert sorted(b["InvoiceNumber"] for b in bills) == numbers
        ids = {
            r.target_ids["bill_id"] for r in SyncRecord.objects.filter(flow=BILL_FLOW)
        }
        assert ids == {b["InvoiceID"] for b in bills}

        ours_seen = observer.calls("ours")
        refused = observer.calls("ours", 429)
        assert refused, "the foreign caller provoked no 429"
        admitted = [s for s in ours_seen if s.status != 429]
        assert len(admitted) > PER_MINUTE, "our own calls did not exceed a minute"

        # Every call of ours that reached Xero went through our shared throttle,
        # and the throttle let out no more than PER_MINUTE in any rolling minute,
        # by its own clock (429s included: a refused call was spent too).
        log = f"ledgerbridge:throttle:xero-tenant-{tenant_id}:log"
        taken = sorted(s for _, s in redis_conn.zrange(log, 0, -1, withscores=True))
        assert len(taken) == len(ours_seen)
        over = [
            (taken[i], taken[i + PER_MINUTE])
            for i in range(len(taken) - PER_MINUTE)
            if taken[i + PER_MINUTE] - taken[i] < WINDOW
        ]
        assert over == [], "more than PER_MINUTE calls left in one minute"

        # Every 429 of ours is the foreign caller's doing: Xero's window then
        # held fewer than PER_MINUTE calls of ours, and some of the other's.
        for s in refused:
            assert s.problem == "minute", s
            assert admitted_in_window(observer.seen, "ours", s.at) < PER_MINUTE, s
            assert admitted_in_window(observer.seen, "foreign", s.at) >= 1, s

        # After each 429 every worker waited Retry-After: the throttle was paused
        # until at least Retry-After after the answer, and no call left it from
        # the moment the pause was there until then. Calls already past the
        # throttle (in flight, at most one per worker) may still arrive.
        for pause in observer.pauses:
            assert pause.seen_at is not None, f"no pause for Retry-After: {pause}"
            until = pause.answered_at + pause.retry_after
            assert pause.ends_at >= until - 0.001, pause
            left = [t for t in taken if pause.seen_at < t < until]
            assert left == [], f"calls left the throttle during the pause: {left}"
            late = [s for s in ours_seen if s.at and pause.answered_at < s.at < until]
            assert len(late) <= WORKERS, late
        assert xero.problems == []
