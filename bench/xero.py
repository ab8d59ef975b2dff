"""Xero: API calls per 1,000 invoices and documents per minute within Xero's
limits, for order-to-cash (Shopify → Xero + Sage 100) and procure-to-pay
(Sage 100 A/P invoices → Xero bills).

    .venv/bin/python bench/xero.py [--invoices 1000] [--shoppers 100]
        [--workers 3] [--phases o2c,paid,p2p] [--write-back] [--per-minute 60]
        [--embedded]

The simulated Xero (``tests.support.xero.running_xero``: OAuth, the
Accounting API over HTTPS, OpenAPI checks, and the real limits: 60 calls a
rolling minute, 5,000 a day, 5 in flight per organisation, 429 with
Retry-After beyond them), the simulated shop and the simulated Sage 100
company with its agent run in this process on loopback ports; the product's
RQ workers (``manage.py rqworker default --with-scheduler``, several, so the
per-tenant throttle in Redis is shared) run as subprocesses and reach all
three through the real connectors.

Phases (``--phases``), each measured from the first event stored to the last
record finished:

* ``o2c``: order-to-cash in two parts. *New shoppers*: ``--shoppers`` orders,
  each of a shopper neither Xero nor Sage 100 knows (contacts looked for and
  created, Sage customers created). *Returning shoppers*: ``--invoices``
  orders of those shoppers, now cross-referenced (the steady state of a shop,
  or of a shop whose customers the master-data flow already keeps in Xero).
  The Shopify write-back of the numbers (tags) is off unless ``--write-back``:
  Shopify's REST bucket (2 calls a second) would then set the pace, not Xero.
* ``paid``: the returning shoppers' orders of ``o2c`` (which it needs), each
  marked paid in the shop (before the clock starts) and delivered as
  ``orders/paid``: a Xero Payment against its invoice (payments go 50 to a
  call, with one read of their invoices) and the Sage order closed.
* ``p2p``: ``--invoices`` A/P invoices entered in Sage 100 (through the agent,
  before the clock starts) on ``--vendors`` vendors, published as the change
  feed publishes them, each becoming an ACCPAY bill.

Counted: every Accounting API request the simulator admitted or refused,
from its own log, by method and path (ids folded to ``{id}``); OAuth token
requests are not API calls and are counted apart. Not counted: the set-up
(items created in Xero, bills entered in Sage). ``--per-minute`` lowers the
simulator's and the hub's per-minute limit for a quick look at the throttle;
the headline figures use Xero's 60. Figures are printed, not asserted
(docs/benchmarks.md, section 5).
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, measure

TARGET_PER_1000 = 21
API = "/api.xro/2.0"
UNFINISHED = ("pending", "running", "retry_scheduled")
_ID = re.compile(r"/[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,}")
SYLLABLES = [
    "bra",
    "cor",
    "del",
    "fen",
    "gam",
    "hul",
    "ist",
    "jor",
    "kav",
    "lum",
    "mep",
    "nox",
    "orv",
    "pel",
    "quin",
    "rus",
    "sab",
    "tev",
    "ulm",
    "vor",
]
STREETS = ["Birch", "Cedar", "Harbor", "Mill", "Ridge", "Summit", "Willow"]
CITIES = [("Boise", "ID", "83702"), ("Fargo", "ND", "58102"),
          ("Eugene", "OR", "97401"), ("Tulsa", "OK", "74103"),
          ("Reno", "NV", "89501"), ("Duluth", "MN", "55802")]  # fmt: skip
SKUS = ("TRAIL-TENT-2P", "HEADLAMP-300", "STOVE-MINI", "DOWN-BAG-REG")


@dataclass
class Phase:
    name: str
    records: list[int]
    started: float = 0.0  # time.time() of the first event stored
    deliver_s: float = 0.0  # storing the events (the workers already run)
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    calls: list[tuple[float, str, str, int]] = field(default_factory=list)
    tokens: int = 0
    errors: list[str] = field(default_factory=list)
    batches: Counter = field(default_factory=Counter)
    throttled: int = 0  # attempts our own throttle sent back to wait
    target: bool = True  # the invoices' target of <= 21 calls per 1,000 applies

    @property
    def succeeded(self) -> int:
        return self.statuses.get("succeeded", 0)

    @property
    def admitted(self) -> list[tuple[float, str, str, int]]:
        return [c for c in self.calls if c[3] != 429]

    @property
    def per_1000(self) -> float:
        return len(self.calls) * 1000 / max(self.succeeded, 1)

    @property
    def per_minute(self) -> float:
        return self.succeeded * 60 / self.seconds if self.seconds else 0.0

    def by_endpoint(self) -> Counter:
        return Counter(f"{method} {path}" for _, method, path, _ in self.calls)

    def busiest_minute(self) -> int:
        """Most admitted calls within any 60 s (the window Xero counts)."""
        moments = sorted(c[0] for c in self.admitted)
        return max(
            (
                bisect.bisect_right(moments, start + 60 - 1e-9) - i
                for i, start in enumerate(moments)
            ),
            default=0,
        )


class CallLog:
    """Every request the simulator answers, with the moment it answered."""

    def __init__(self, simulator) -> None:
        self.entries: list[tuple[float, str, str, int]] = []
        self._lock = threading.Lock()
        handle = simulator.handle

        def logged(method, target, headers, body):
            reply = handle(method, target, headers, body)
            path = target.split("?", 1)[0]
            with self._lock:
                self.entries.append((time.time(), method, path, reply.status))
            return reply

        simulator.handle = logged

    def since(self, index: int) -> list[tuple[float, str, str, int]]:
        with self._lock:
            return list(self.entries[index:])

    def __len__(self) -> int:
        with self._lock:
            return len(self.entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--shoppers", type=int, default=100, help="new shoppers")
    parser.add_argument("--vendors", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--phases", default="o2c,paid,p2p")
    parser.add_argument(
        "--write-back",
        action="store_true",
        help="order-to-cash writes the numbers back to the Shopify order (tags)",
    )
    parser.add_argument(
        "--per-minute",
        type=int,
        default=60,
        help="Xero's per-minute limit, in the simulator and the hub's throttle "
        "(default 60, Xero's; lower only for a quick look at the throttle)",
    )
    parser.add_argument(
        "--batch-wait",
        type=float,
        default=None,
        help="order-to-cash option batch_wait_seconds: how long a fresh order "
        "waits for companions before its batch goes (0: whatever is due; "
        "unset: the flow's default, 3 s)",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="per phase")
    parser.add_argument(
        "--db-name", default=common.BENCH_DB, help="PostgreSQL database to use"
    )
    parser.add_argument("--markdown", action="store_true")
    common.add_backend_arguments(parser)
    args = parser.parse_args(argv)
    common.BENCH_DB = args.db_name
    # A TERM (timeout, kill) unwinds like Ctrl-C: workers stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with common.backend(args, label="xero") as be:
        common.migrate()
        print(measure.machine())
        print(be.describe())
        return _bench(be, args)


def _bench(be, args) -> int:
    from tests.support.sage100 import running_sage100
    from tests.support.shopify import running_shopify
    from tests.support.xero import running_xero

    phases_wanted = {p.strip() for p in args.phases.split(",") if p.strip()}
    if "paid" in phases_wanted and "o2c" not in phases_wanted:
        raise SystemExit("--phases paid pays the orders of o2c: add o2c")
    with (
        running_xero(
            be.var_dir / "xero", tenants=1, per_minute=args.per_minute
        ) as xero,
        running_sage100(be.var_dir / "sage100") as sage,
        running_shopify(be.var_dir / "shopify", webhook_url=None, secret="s") as shop,
    ):
        log = CallLog(xero.simulator)
        world = _connect(xero, sage, shop, args)
        print(
            f"xero:     {xero.url}, limits {args.per_minute}/min, "
            f"{xero.limits.per_day}/day, {xero.limits.concurrent} in flight\n"
            f"workers:  {args.workers} x manage.py rqworker default --with-scheduler; "
            "order-to-cash batch_wait_seconds "
            + (
                f"{args.batch_wait:g}"
                if args.batch_wait is not None
                else "unset (the flow's 3 s)"
            )
        )
        if args.quiet_wait:
            busy = measure.wait_for_quiet(max_wait=args.quiet_wait)
            if busy > 0.15:
                print(f"(machine still {busy:.0%} busy before the runs)")
        workers = _start_workers(be, args.workers)
        phases: list[Phase] = []
        try:
            if "o2c" in phases_wanted:
                shoppers = [_shopper(n) for n in range(args.shoppers)]
                phases.append(
                    _o2c_phase(
                        world, log, shoppers, len(shoppers), "o2c, new shoppers", args
                    )
                )
                phases.append(
                    _o2c_phase(
                        world,
                        log,
                        shoppers,
                        args.invoices,
                        "o2c, returning shoppers",
                        args,
                    )
                )
            if "paid" in phases_wanted:
                phases.append(_paid_phase(world, log, args))
            if "p2p" in phases_wanted:
                phases.append(_p2p_phase(world, log, args))
        finally:
            _stop_workers(be, workers)
        _report(args, phases, xero)
    return 0


# -- set-up ---------------------------------------------------------------------------
@dataclass
class World:
    xero: object
    sage: object
    shop: object
    xero_connection: object
    o2c: object
    bills: object
    orders: list = field(default_factory=list)  # the latest o2c phase's orders


def _connect(xero, sage, shop, args) -> World:
    from integrations.engine import clients
    from integrations.models import Connection, FlowConfig, System, Trigger
    from tests.support.order_to_cash import stock_sage_items, xero_items

    settings, credentials = xero.connection()
    extra = {"calls_per_minute": args.per_minute} if args.per_minute != 60 else {}
    books = Connection.objects.create(
        name="Bench Xero", slug="bench-xero", system=System.XERO,
        settings=settings, credentials=credentials, **extra,
    )  # fmt: skip
    shop_settings, shop_credentials = shop.connection()
    shopify = Connection.objects.create(
        name="Bench shop", slug="bench-shop", system=System.SHOPIFY,
        settings=shop_settings, credentials=shop_credentials,
        calls_per_minute=100,  # under Shopify's 2 calls/s bucket: no 429
    )  # fmt: skip
    sage100 = Connection.objects.create(
        name="Bench Sage 100", slug="bench-sage100", system=System.SAGE100,
        settings={**sage.connection_settings(), "timezone": "UTC"},
        credentials=sage.credentials,
    )  # fmt: skip
    o2c = FlowConfig.objects.create(
        name="Bench order-to-cash", flow="shopify_order_to_xero_and_sage100",
        source_connection=shopify, target_connection=sage100,
        trigger=Trigger.WEBHOOK,
        options={
            "xero_connection": books.slug,
            "write_back_tags": args.write_back,
            **(
                {"batch_wait_seconds": args.batch_wait}
                if args.batch_wait is not None
                else {}
            ),
        },
        max_attempts=20,
    )  # fmt: skip
    bills = FlowConfig.objects.create(
        name="Bench bills", flow="sage100_ap_invoices_to_xero",
        source_connection=sage100, target_connection=books,
        trigger=Trigger.WEBHOOK, max_attempts=20,
    )  # fmt: skip
    stock_sage_items(sage100)
    answers = clients.build(books).save_items(
        xero_items(), idempotency_key="bench-items"
    )
    if not all(a.ok for a in answers):
        raise SystemExit(f"items refused: {[a.errors for a in answers if not a.ok]}")
    return World(xero, sage, shop, books, o2c, bills)


def _shopper(n: int) -> dict:
    """Shoppers unlike each other and unlike Sage's own customers: made-up
    names from syllables, each with its own e-mail domain, street and phone."""
    rng = random.Random(n)
    first = "".join(rng.sample(SYLLABLES, 2)).title()
    last = "".join(rng.sample(SYLLABLES, 3)).title()
    city, state, zip_code = CITIES[n % len(CITIES)]
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}@{last}-{n}.example.com".lower(),
        "phone": f"+1-208-{200 + n % 700:03d}-{rng.randint(1000, 9999)}",
        "address1": f"{100 + 7 * n} {rng.choice(STREETS)} Rd",
        "city": city,
        "province_code": state,
        "zip": zip_code,
    }


def _start_workers(be, count: int) -> list:
    from rq import Worker

    processes = [
        common.spawn(
            be,
            [
                sys.executable,
                "manage.py",
                "rqworker",
                "default",
                "--with-scheduler",
                "--name",
                f"bench-xero-{n}",
            ],
            log_name=f"worker-{n}.log",
        )
        for n in range(count)
    ]
    deadline = time.monotonic() + 60
    while Worker.count(connection=common.redis_client()) < count:
        if time.monotonic() > deadline or any(common.exited(p) for p in processes):
            raise SystemExit(
                f"workers did not start:\n{common.tail(be, 'worker-0.log')}"
            )
        time.sleep(0.1)
    return processes


def _stop_workers(be, processes) -> None:
    for process in processes:
        common.stop(process, timeout=30)
        if process in be.children:
            be.children.remove(process)


# -- phases ---------------------------------------------------------------------------
def _o2c_phase(world: World, log: CallLog, shoppers, count: int, name, args) -> Phase:

    shop, source = world.shop.shop, world.o2c.source_connection
    orders = []
    for n in range(count):
        lines = [(SKUS[n % len(SKUS)], 1 + n % 3), (SKUS[(n + 1) % len(SKUS)], 1)]
        orders.append(shop.create_order(lines, customer=shoppers[n % len(shoppers)]))
    world.orders = orders
    mark, tokens = len(log), _tokens(log)
    started = time.time()
    records: list[int] = []
    for order in orders:
        records += common.deliver(
            source,
            order,
            event_id=f"shopify:bench-{order['id']}",
            topic="shopify.orders/create",
        )
    phase = Phase(name, records, started=started, deliver_s=time.time() - started)
    return _finish(phase, log, mark, tokens, args)


def _paid_phase(world: World, log: CallLog, args) -> Phase:
    """The latest o2c phase's orders paid in the shop, then ``orders/paid``."""

    shop, source = world.shop.shop, world.o2c.source_connection
    paid = [shop.mark_paid(order["id"]) for order in world.orders]
    mark, tokens = len(log), _tokens(log)
    started = time.time()
    records: list[int] = []
    for order in paid:
        records += common.deliver(
            source,
            order,
            event_id=f"shopify:bench-paid-{order['id']}",
            topic="shopify.orders/paid",
        )
    phase = Phase(
        "o2c, paid orders", records, started=started,
        deliver_s=time.time() - started, target=False,
    )  # fmt: skip
    return _finish(phase, log, mark, tokens, args)


def _p2p_phase(world: World, log: CallLog, args) -> Phase:
    import sqlite3
    from datetime import date

    from django.db import transaction

    from integrations.engine import clients
    from integrations.services import inbox

    with sqlite3.connect(world.sage.db.path) as db:
        vendors = db.execute(
            "SELECT APDivisionNo, VendorNo FROM AP_Vendor ORDER BY VendorNo"
        ).fetchall()[: args.vendors]
    agent = clients.build(world.bills.source_connection).agent
    keys = []
    for n in range(args.invoices):
        division, vendor = vendors[n % len(vendors)]
        number = f"BX-{n:05d}"
        agent.create_ap_invoice(
            {
                "APDivisionNo": division,
                "VendorNo": vendor,
                "InvoiceNo": number,
                "InvoiceDate": date.today().isoformat(),
                "InvoiceAmt": f"{100 + n % 900}.{n % 100:02d}",
                "ExpenseAcctKey": "000000012",  # 6100-00-00 Rent
            },
            idempotency_key=f"bench-bill-{vendor}-{number}",
        )
        keys.append({"APDivisionNo": division, "VendorNo": vendor, "InvoiceNo": number})
    mark, tokens = len(log), _tokens(log)
    started = time.time()
    records: list[int] = []
    source = world.bills.source_connection
    listeners = inbox.listeners_of(source)
    for start in range(0, len(keys), 200):  # the change feed's transactions
        with transaction.atomic():
            for key in keys[start : start + 200]:
                body = {"table": "AP_OpenInvoice", "key": key, "change": "changed",
                        "row": None}  # fmt: skip
                accepted = inbox.accept(
                    source,
                    body=json.dumps(body).encode(),
                    headers={},
                    provider_event_id=f"bench-bill-{key['VendorNo']}-{key['InvoiceNo']}",
                    topic="sage100.ap_invoice",
                    signature_verified=True,
                    listeners=listeners,
                )
                records.extend(r.pk for r in accepted.records)
    phase = Phase(
        "p2p, A/P invoices → bills", records, started=started,
        deliver_s=time.time() - started,
    )  # fmt: skip
    return _finish(phase, log, mark, tokens, args)


def _tokens(log: CallLog) -> int:
    return sum(1 for _, _, path, _ in log.since(0) if not path.startswith(API))


def _finish(phase: Phase, log: CallLog, mark: int, tokens: int, args) -> Phase:
    from django.db.models import Max

    from integrations.models import SyncAttempt, SyncRecord

    mine = SyncRecord.objects.filter(pk__in=phase.records)
    deadline = time.monotonic() + args.timeout
    while mine.filter(status__in=UNFINISHED).exists():
        if time.monotonic() > deadline:
            print(
                f"  {phase.name}: timeout after {args.timeout:.0f} s", file=sys.stderr
            )
            break
        time.sleep(0.2)
    phase.statuses = Counter(mine.values_list("status", flat=True))
    last = mine.filter(status="succeeded").aggregate(last=Max("finished_at"))["last"]
    phase.seconds = last.timestamp() - phase.started if last else 0.0
    phase.calls = [
        (moment, method, _ID.sub("/{id}", path.removeprefix(API)) or "/", status)
        for moment, method, path, status in log.since(mark)
        if path.startswith(API)
    ]
    phase.tokens = _tokens(log) - tokens
    phase.errors = [
        f"{status}: {message[:200]}"
        for status, message in mine.exclude(status="succeeded")
        .values_list("status", "error_message")
        .distinct()[:5]
    ]
    attempts = SyncAttempt.objects.filter(record__in=phase.records)
    phase.throttled = attempts.filter(error_category="rate_limited").count()
    sizes = Counter()
    for steps in attempts.values_list("steps_run", flat=True):
        for step in steps or []:
            if str(step).startswith("load (batch of "):
                sizes[int(str(step)[len("load (batch of ") : -1])] += 1
    phase.batches = Counter({size: n // size for size, n in sizes.items()})
    print(
        f"  {phase.name}: {phase.succeeded}/{len(phase.records)} succeeded in "
        f"{phase.seconds:.1f} s, {len(phase.calls)} Xero API calls",
        flush=True,
    )
    return phase


# -- the report -----------------------------------------------------------------------
def _report(args, phases: list[Phase], xero) -> None:
    print()
    print(
        f"Xero at {args.per_minute} calls/min, {xero.limits.per_day}/day, "
        f"{xero.limits.concurrent} in flight; {args.workers} workers. Documents "
        "per minute = records succeeded / (first event stored → last finished)."
    )
    print(
        measure.table(
            [
                "phase",
                "succeeded",
                "wall s",
                "delivery s",
                "docs/min",
                "Xero calls",
                "per 1,000",
                "429s",
                "max in 60 s",
                "throttle waits",
                "batches",
            ],
            [
                [
                    p.name,
                    f"{p.succeeded}/{len(p.records)}",
                    f"{p.seconds:.1f}",
                    f"{p.deliver_s:.1f}",
                    f"{p.per_minute:.0f}",
                    len(p.calls),
                    f"{p.per_1000:.1f}",
                    sum(1 for c in p.calls if c[3] == 429),
                    p.busiest_minute(),
                    p.throttled,
                    ", ".join(
                        f"{n} x {size}"
                        for size, n in sorted(p.batches.items(), reverse=True)
                    ),
                ]
                for p in phases
            ],
            markdown=args.markdown,
        )
    )
    print()
    print("Xero calls per 1,000 documents, by endpoint:")
    endpoints = sorted({e for p in phases for e in p.by_endpoint()})
    rows = [
        [endpoint]
        + [
            f"{p.by_endpoint().get(endpoint, 0) * 1000 / max(p.succeeded, 1):.1f}"
            for p in phases
        ]
        for endpoint in endpoints
    ]
    rows.append(["all"] + [f"{p.per_1000:.1f}" for p in phases])
    rows.append(["(OAuth token requests, total)"] + [str(p.tokens) for p in phases])
    print(
        measure.table(["call", *(p.name for p in phases)], rows, markdown=args.markdown)
    )
    for p in phases:
        for error in p.errors:
            print(f"  {p.name}: {error}")
        four29 = sum(1 for c in p.calls if c[3] == 429)
        if not p.target:
            print(f"{p.name}: {p.per_1000:.1f} Xero calls per 1,000; {four29} 429.")
            continue
        verdict = "meets" if p.per_1000 <= TARGET_PER_1000 else "MISSES"
        print(
            f"{p.name}: {p.per_1000:.1f} Xero calls per 1,000 {verdict} the target "
            f"of <= {TARGET_PER_1000}; {four29} answered 429."
        )
    if xero.problems:
        print(f"Xero contract problems: {xero.problems[:5]}")


if __name__ == "__main__":
    raise SystemExit(main())
