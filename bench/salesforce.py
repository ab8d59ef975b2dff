"""Salesforce ⇄ Sage 100 end to end: orders per minute, API calls per order, and
collection calls per 1,000 inventory changes.

    .venv/bin/python bench/salesforce.py [--orders 200] [--new-customers 20]
        [--inventory 1000] [--workers 2] [--embedded]

A simulated org (``tests.support.salesforce.running_salesforce``, seeded) and a
simulated Sage 100 company with its write agent
(``tests.support.sage100.running_sage100``, with the UDFs the flow writes) run
in this process on loopback ports; the product's real RQ workers
(``manage.py rqworker default``, the default worker class) run as
subprocesses and reach both through the real connectors (HTTPS, ODBC, agent).

1. **Orders.** N Closed Won opportunities with 2-3 lines each on products Sage
   has, on accounts already bound to Sage customers by ``ExternalID__c``; one
   normalised event per opportunity through ``inbox.accept`` (as a signed
   callout would), with the workers already waiting. Measured from the first
   enqueue to the last record's ``finished_at``. A second, smaller set on
   accounts Sage has never seen measures the path that matches and creates the
   customer.
2. **API calls per order** from the simulator's own counter, per (method, path
   template). OAuth token requests are not API calls; they are counted apart.
3. **Inventory.** 1,000 ``sage100.inventory`` changes, published in
   transactions of 200 as the change feed does, through
   ``sage100_inventory_to_salesforce`` with the workers running: collection
   calls used and the time.

Figures are printed, not asserted (docs/benchmarks.md, section 4).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, measure
from bench.ingest import _percentile

TARGET_CALLS_PER_ORDER = 3.0
TARGET_INVENTORY_CALLS = 5  # per 1,000 changes
UDFS = [
    ("AR_Customer", "UDF_SF_ACCOUNT_ID", 18),
    ("SO_SalesOrderHeader", "UDF_SF_OPPORTUNITY_ID", 18),
]
FLOW_OPTIONS = {
    "customer_reference_column": "UDF_SF_ACCOUNT_ID",
    "item_codes": {"remove_prefixes": ["SF-"], "replace": {" ": "-"}},
}
CHANGE_FEED_BATCH = 200  # integrations.services.changefeeds.BATCH
UNFINISHED = ("pending", "running")


@dataclass
class Phase:
    """One measured delivery: its records, timings and the org's counters."""

    name: str
    unit: str
    records: list[int]
    seconds: float = 0.0  # first enqueue → last finished_at
    deliver_s: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)  # created → finished
    attempts_ms: list[float] = field(default_factory=list)  # the attempt alone
    calls: Counter = field(default_factory=Counter)
    tokens: int = 0
    errors: list[str] = field(default_factory=list)
    batches: Counter = field(default_factory=Counter)  # records per call → calls
    cpu: str = ""

    @property
    def succeeded(self) -> int:
        return self.statuses.get("succeeded", 0)

    @property
    def per_minute(self) -> float:
        return self.succeeded * 60 / self.seconds if self.seconds else 0.0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=200, help="bound customers")
    parser.add_argument(
        "--new-customers", type=int, default=20, help="orders for unknown accounts"
    )
    parser.add_argument("--inventory", type=int, default=1000, help="stock changes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--customers", type=int, default=60, help="Sage customers")
    parser.add_argument("--timeout", type=float, default=120.0, help="per phase")
    parser.add_argument("--markdown", action="store_true")
    common.add_backend_arguments(parser)
    args = parser.parse_args(argv)

    with common.backend(args, label="salesforce") as be:
        common.migrate()
        print(measure.machine())
        print(be.describe())
        return _bench(be, args)


def _bench(be, args) -> int:
    from integrations.connectors.salesforce import client as salesforce_client
    from tests.support.sage100 import running_sage100
    from tests.support.salesforce import running_salesforce

    salesforce_client.forget_tokens()
    with (
        running_salesforce(be.var_dir / "salesforce") as sf,
        running_sage100(be.var_dir / "sage100", customers=args.customers) as sage,
    ):
        for table, name, length in UDFS:
            sage.db.add_udf(table, name, length=length)
        orders, inventory = _flow_configs(sf, sage)
        bound = _bound_accounts(sf, sage)
        won = _won_opportunities(sf, bound, args.orders, random.Random(7))
        fresh = _new_accounts(sf, args.new_customers, random.Random(11))
        won_new = _won_opportunities(sf, fresh, len(fresh), random.Random(13))
        print(
            f"org:      {sf.url}, {len(bound)} accounts bound by ExternalID__c, "
            f"{len(won)} + {len(won_new)} Closed Won opportunities\n"
            f"sage 100: company ABC, {args.customers} customers, agent "
            f"{sage.agent_url}, {args.workers} worker(s) "
            f"(manage.py rqworker default, the product's worker class)"
        )
        if args.quiet_wait:
            busy = measure.wait_for_quiet(max_wait=args.quiet_wait)
            if busy > 0.15:
                print(f"(machine still {busy:.0%} busy before the runs)")
        workers = _start_workers(be, args.workers)
        phases = [_orders_phase(sf, orders, won, workers, args, "orders, bound")]
        if won_new:
            phases.append(
                _orders_phase(
                    sf, orders, won_new, workers, args, "orders, new customers"
                )
            )
        if args.inventory:
            phases.append(_inventory_phase(be, sf, inventory, workers, args))
        _stop_workers(be, workers)
        if args.inventory:
            phases.append(_inventory_phase(be, sf, inventory, [], args))
        _report(args, phases)
    return 0


# -- set-up ----------------------------------------------------------------------------
def _flow_configs(sf, sage):
    """The opportunity flow (org → Sage) and the inventory flow (Sage → org)."""
    from integrations.models import Connection, FlowConfig, System, Trigger

    settings, credentials = sf.connection()
    salesforce = Connection.objects.create(
        name="Bench Salesforce",
        slug="bench-salesforce",
        system=System.SALESFORCE,
        settings=settings,
        credentials=credentials,
    )
    sage100 = Connection.objects.create(
        name="Bench Sage 100",
        slug="bench-sage100",
        system=System.SAGE100,
        settings=sage.connection_settings(),
        credentials=sage.credentials,
    )
    orders = FlowConfig.objects.create(
        name="Bench won opportunities",
        flow="salesforce_opportunity_to_sage100",
        source_connection=salesforce,
        target_connection=sage100,
        trigger=Trigger.WEBHOOK,
        options=FLOW_OPTIONS,
    )
    inventory = FlowConfig.objects.create(
        name="Bench inventory",
        flow="sage100_inventory_to_salesforce",
        source_connection=sage100,
        target_connection=salesforce,
        trigger=Trigger.WEBHOOK,
    )
    return orders, inventory


def _bound_accounts(sf, sage) -> list[str]:
    """One Account per active Sage customer, linked by ``ExternalID__c``."""
    with sqlite3.connect(sage.db.path) as db:
        db.row_factory = sqlite3.Row
        customers = db.execute(
            "SELECT * FROM AR_Customer WHERE CustomerStatus = 'A' "
            "ORDER BY ARDivisionNo, CustomerNo"
        ).fetchall()
    ids, linked = [], {}
    for account in sf.org.rows("Account", include_deleted=False):
        if account.get("ExternalID__c"):
            linked[account["ExternalID__c"]] = account["Id"]
    ids.extend(linked.values())  # the seed's own (American Business Futures)
    with sf.org.atomic():
        for row in customers:
            if f"{row['ARDivisionNo']}-{row['CustomerNo']}" in linked:
                continue
            address = {
                "Street": row["AddressLine1"],
                "City": row["City"],
                "State": row["State"],
                "PostalCode": row["ZipCode"],
                "Country": "USA",
            }
            ids.append(
                sf.org.create(
                    "Account",
                    {
                        "Name": row["CustomerName"],
                        "ExternalID__c": f"{row['ARDivisionNo']}-{row['CustomerNo']}",
                        "Phone": row["TelephoneNo"],
                        **{f"Billing{k}": v for k, v in address.items() if v},
                    },
                )
            )
    return ids


def _new_accounts(sf, count: int, rng: random.Random) -> list[str]:
    """Accounts unlike any Sage customer and unlike each other, so each order
    goes through matching (no candidate binds) and a new AR_Customer."""
    syllables = ["bra", "cor", "del", "fen", "gam", "hul", "ist", "jor", "kav",
                 "lum", "mep", "nox", "orv", "pel", "quin", "rus"]  # fmt: skip
    streets = ["Birch", "Cedar", "Harbor", "Mill", "Ridge", "Summit", "Willow"]
    cities = [
        ("Boise", "ID", "83702"), ("Fargo", "ND", "58102"), ("Eugene", "OR", "97401"),
        ("Tulsa", "OK", "74103"), ("Reno", "NV", "89501"), ("Duluth", "MN", "55802"),
    ]  # fmt: skip
    ids = []
    with sf.org.atomic():
        for n in range(count):
            name = "".join(rng.sample(syllables, 3)).title()
            city, state, zip_code = cities[n % len(cities)]
            ids.append(
                sf.org.create(
                    "Account",
                    {
                        "Name": f"{name} {n} Robotics",
                        "Phone": f"(555) {100 + n:03d}-{rng.randint(1000, 9999)}",
                        "BillingStreet": f"{100 + 7 * n} {rng.choice(streets)} Rd",
                        "BillingCity": city,
                        "BillingState": state,
                        "BillingPostalCode": zip_code,
                        "BillingCountry": "USA",
                    },
                )
            )
    return ids


def _won_opportunities(
    sf, accounts: list[str], count: int, rng: random.Random
) -> list[str]:
    """``count`` Closed Won opportunities, 2-3 lines each on products Sage has."""
    from integrations.sandbox.salesforce.seed import PRODUCTS

    ids = sf.access.ids
    entries = [
        (ids[f"entry:{code}"], price) for code, item, *_, price in PRODUCTS if item
    ]
    today = dt.date.today().isoformat()
    won = []
    with sf.org.atomic():
        for n in range(count):
            opportunity = sf.org.create(
                "Opportunity",
                {
                    "AccountId": accounts[n % len(accounts)],
                    "Name": f"Bench deal {n}",
                    "StageName": "Closed Won",
                    "CloseDate": today,
                    "Pricebook2Id": ids["pricebook:standard"],
                },
            )
            for entry, price in rng.sample(entries, rng.choice([2, 3])):
                sf.org.create(
                    "OpportunityLineItem",
                    {
                        "OpportunityId": opportunity,
                        "PricebookEntryId": entry,
                        "Quantity": rng.randint(1, 20),
                        "UnitPrice": price,
                    },
                )
            won.append(opportunity)
    return won


def _start_workers(be, count: int, *, burst: bool = False) -> list:
    """Long-running workers (waiting before the first event), or burst workers
    that drain the queue and exit."""
    from rq import Worker

    command = [sys.executable, "manage.py", "rqworker", "default"]
    if burst:
        command.append("--burst")
    tag = "burst" if burst else "live"
    processes = [
        common.spawn(
            be,
            [*command, "--name", f"bench-sf-{tag}-{n}"],
            log_name=f"worker-{tag}-{n}.log",
        )
        for n in range(count)
    ]
    deadline = time.monotonic() + 60
    while not burst and Worker.count(connection=common.redis_client()) < count:
        if time.monotonic() > deadline or any(common.exited(p) for p in processes):
            log = common.tail(be, "worker-live-0.log")
            raise SystemExit(f"workers did not start:\n{log}")
        time.sleep(0.1)
    return processes


def _stop_workers(be, processes: list) -> None:
    for process in processes:
        common.stop(process, timeout=30)
        be.children.remove(process)


# -- the measured phases ---------------------------------------------------------------
def _orders_phase(sf, config, won: list[str], workers, args, name) -> Phase:
    from django.utils import timezone

    source = config.source_connection
    before_calls, before_tokens = Counter(sf.org.api_calls), _tokens(sf)
    meter = measure.CpuMeter(
        {"workers": [p.pid for p in workers], "bench+simulators": [os.getpid()]}
    )
    record_ids: list[int] = []
    with meter:
        started = timezone.now()
        watch = measure.Stopwatch()
        for opportunity in won:
            body = {
                "sobject": "Opportunity",
                "change_type": "UPDATE",
                "record_ids": [opportunity],
                "fields": {"StageName": "Closed Won"},
                "channel": "callout",
                "event_id": f"bench-{opportunity}",
                "commit_timestamp": int(time.time() * 1000),
            }
            record_ids += common.deliver(
                source,
                body,
                event_id=f"callout:bench-{opportunity}",
                topic="salesforce.opportunity",
            )
        phase = Phase(name, "order", record_ids, deliver_s=watch.elapsed)
        _wait(phase, workers, args.timeout)
    _worker_errors(workers)
    return _finish(phase, sf, started, before_calls, before_tokens, meter)


def _inventory_phase(be, sf, config, workers, args) -> Phase:
    """Live: the workers are waiting while the changes arrive (production).
    Queued (``workers`` empty): all changes are stored first, then fresh burst
    workers start, and the time runs from their start."""
    from django.utils import timezone

    live = bool(workers)
    name = "inventory, workers running" if live else "inventory, queued first"
    before_calls, before_tokens = Counter(sf.org.api_calls), _tokens(sf)
    meter = measure.CpuMeter({"workers": [], "bench+simulators": [os.getpid()]})
    meter.roots["workers"].extend(p.pid for p in workers)
    with meter:
        started = timezone.now()
        watch = measure.Stopwatch()
        records = _publish_inventory(config.source_connection, args.inventory, name)
        phase = Phase(name, "change", records, deliver_s=watch.elapsed)
        if not live:
            started = timezone.now()
            workers = _start_workers(be, args.workers, burst=True)
            meter.roots["workers"].extend(p.pid for p in workers)
        _wait(phase, workers, args.timeout, burst=not live)
    _worker_errors(workers)
    if not live:
        _stop_workers(be, workers)  # reaped only now: the meter saw their CPU
    return _finish(phase, sf, started, before_calls, before_tokens, meter)


def _publish_inventory(sage100, count: int, run: str) -> list[int]:
    """``count`` stock changes on 2/5 as many item-warehouses (a busy day moves
    some items twice), one transaction per change-feed batch of 200 (as
    ``services.changefeeds`` publishes): the jobs are enqueued on commit."""
    from django.db import transaction

    from integrations.services import inbox

    keys = max(count * 2 // 5, 1)
    prefix = "LIVE" if "running" in run else "QUEUED"
    listeners = inbox.listeners_of(sage100)
    records: list[int] = []
    for start in range(0, count, CHANGE_FEED_BATCH):
        with transaction.atomic():
            for n in range(start, min(start + CHANGE_FEED_BATCH, count)):
                body = _inventory_change(f"{prefix}-{n % keys:04d}", "000", n)
                accepted = inbox.accept(
                    sage100,
                    body=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json"},
                    provider_event_id=f"bench-{prefix}-{n}",
                    topic="sage100.inventory",
                    signature_verified=True,
                    listeners=listeners,
                )
                records.extend(r.pk for r in accepted.records)
    return records


def _inventory_change(item: str, warehouse: str, n: int) -> dict:
    """Shaped like the Sage 100 change feed's IM_ItemWarehouse events."""
    return {
        "table": "IM_ItemWarehouse",
        "topic": "sage100.inventory",
        "key": {"ItemCode": item, "WarehouseCode": warehouse},
        "change": "changed",
        "row": {
            "ItemCode": item,
            "WarehouseCode": warehouse,
            "QuantityOnHand": 1000 - n % 700,
            "QuantityOnSalesOrder": n % 7,
            "QuantityOnBackOrder": 0,
        },
    }


def _worker_errors(workers) -> None:
    """Print the workers' tracebacks (a job that raised leaves its record
    running until the lease expires), then empty the logs for the next phase."""
    for process in workers:
        log = Path(process.log.name)
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            start = text.index("Traceback")
            print(f"  {log.name}: {text[start : start + 2500]}", file=sys.stderr)
        process.log.truncate(0)


def _wait(phase: Phase, workers, timeout: float, *, burst: bool = False) -> None:
    """Until no record of the phase is pending or running (no RQ scheduler runs,
    so a scheduled retry counts as a failure here); burst workers also until
    they have ended, so the CPU meter sees all their work."""
    from integrations.models import SyncRecord

    mine = SyncRecord.objects.filter(pk__in=phase.records)
    deadline = time.monotonic() + timeout
    while mine.filter(status__in=UNFINISHED).exists():
        if time.monotonic() > deadline:
            print(f"  {phase.name}: timeout after {timeout:.0f} s", file=sys.stderr)
            break
        if all(common.exited(p) for p in workers):
            break  # burst workers drained the queue; live ones died (see the log)
        time.sleep(0.1)
    while burst and not all(common.exited(p) for p in workers):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)


def _finish(phase, sf, started, before_calls, before_tokens, meter) -> Phase:
    from django.db.models import Max

    from integrations.models import SyncAttempt, SyncRecord

    mine = SyncRecord.objects.filter(pk__in=phase.records)
    phase.statuses = Counter(mine.values_list("status", flat=True))
    last = mine.filter(status="succeeded").aggregate(last=Max("finished_at"))["last"]
    phase.seconds = (last - started).total_seconds() if last else 0.0
    phase.latencies_ms = sorted(
        (finished - created).total_seconds() * 1000
        for created, finished in mine.filter(status="succeeded").values_list(
            "created_at", "finished_at"
        )
    )
    phase.attempts_ms = sorted(
        float(ms)
        for ms in SyncAttempt.objects.filter(
            record__in=phase.records, outcome="succeeded"
        ).values_list("duration_ms", flat=True)
        if ms is not None
    )
    phase.errors = [
        f"{status}: {message[:160]}"
        for status, message in mine.exclude(status__in=("succeeded", *UNFINISHED))
        .values_list("status", "error_message")
        .distinct()[:5]
    ]
    for record in mine.filter(status__in=UNFINISHED)[:5]:
        tried = [
            f"#{a.number} {a.outcome} by {a.worker} {a.steps_run}"
            for a in SyncAttempt.objects.filter(record=record).order_by("number")
        ]
        phase.errors.append(
            f"record {record.pk} still {record.status} (attempts {record.attempts}, "
            f"claimed by {record.claimed_by!r}); its attempts: {tried or 'none'}"
        )
    phase.batches = _batches(phase.records)
    after = Counter(sf.org.api_calls)
    after.subtract(before_calls)
    phase.calls = +after
    phase.tokens = _tokens(sf) - before_tokens
    phase.cpu = meter.summary(max(len(phase.records), 1), phase.unit)
    print(
        f"  {phase.name}: {phase.succeeded}/{len(phase.records)} succeeded in "
        f"{phase.seconds:.1f} s, {phase.total_calls} API calls\n    {phase.cpu}",
        flush=True,
    )
    return phase


def _batches(record_ids: list[int]) -> Counter:
    """How many records each batched load carried: the engine writes
    ``load (batch of N)`` into the steps of every record of a batch."""
    from integrations.models import SyncAttempt

    records = Counter()
    for steps in SyncAttempt.objects.filter(record__in=record_ids).values_list(
        "steps_run", flat=True
    ):
        for step in steps or []:
            if str(step).startswith("load (batch of "):
                records[int(str(step)[len("load (batch of ") : -1])] += 1
    return Counter({size: count // size for size, count in records.items()})


def _tokens(sf) -> int:
    """Sessions the org has issued: one per OAuth token request that succeeded."""
    with sf.org.reading():
        return len(sf.org.identity.sessions)


# -- the report ------------------------------------------------------------------------
def _report(args, phases: list[Phase]) -> None:
    orders = [p for p in phases if p.unit == "order"]
    print()
    print(
        f"Orders end to end, {args.workers} workers (first enqueue → last "
        "finished_at; latency = record created → finished, attempt = the "
        "attempt's own duration):"
    )
    print(
        measure.table(
            [
                "orders",
                "succeeded",
                "failures",
                "seconds",
                "orders/min",
                "deliver s",
                "latency p50 ms",
                "p95 ms",
                "attempt p50 ms",
                "p95 ms",
            ],
            [
                [
                    p.name,
                    f"{p.succeeded}/{len(p.records)}",
                    len(p.records) - p.succeeded,
                    f"{p.seconds:.1f}",
                    f"{p.per_minute:.0f}",
                    f"{p.deliver_s:.1f}",
                    f"{_percentile(p.latencies_ms, 50):.0f}",
                    f"{_percentile(p.latencies_ms, 95):.0f}",
                    f"{_percentile(p.attempts_ms, 50):.0f}",
                    f"{_percentile(p.attempts_ms, 95):.0f}",
                ]
                for p in orders
            ],
            markdown=args.markdown,
        )
    )
    for p in phases:
        for error in p.errors:
            print(f"  {p.name}: {error}")

    print()
    print("Salesforce API calls per order, by call (token requests counted apart):")
    kinds = sorted({kind for p in orders for kind in p.calls})
    rows = [
        [f"{method} {template}"]
        + [
            f"{p.calls.get((method, template), 0) / max(p.succeeded, 1):.3f}"
            for p in orders
        ]
        for method, template in kinds
    ]
    rows.append(["all API calls"] + [f"{_per_order(p):.3f}" for p in orders])
    rows.append(["OAuth token requests (total)"] + [str(p.tokens) for p in orders])
    print(
        measure.table(["call", *(p.name for p in orders)], rows, markdown=args.markdown)
    )
    for p in orders:
        verdict = "meets" if _per_order(p) <= TARGET_CALLS_PER_ORDER else "MISSES"
        print(
            f"{p.name}: {_per_order(p):.2f} API calls per order {verdict} the "
            f"target of <= {TARGET_CALLS_PER_ORDER:.0f}."
        )

    for p in phases:
        if p.unit != "change":
            continue
        print()
        per_1000 = p.total_calls * 1000 / max(len(p.records), 1)
        print(
            f"Inventory ({p.name}): {p.succeeded}/{len(p.records)} changes in "
            f"{p.seconds:.1f} s (delivery {p.deliver_s:.1f} s, "
            f"{p.succeeded / p.seconds if p.seconds else 0:.0f} changes/s); "
            f"{p.total_calls} API calls = {per_1000:.1f} per 1,000 changes; "
            f"{p.tokens} token requests:"
        )
        for (method, template), count in sorted(p.calls.items()):
            print(f"  {method} {template}: {count}")
        sizes = ", ".join(
            f"{calls} x {size}"
            for size, calls in sorted(p.batches.items(), reverse=True)
        )
        print(f"  batches (calls x records claimed together): {sizes}")
        verdict = "meets" if per_1000 <= TARGET_INVENTORY_CALLS else "MISSES"
        print(f"{verdict} the target of <= {TARGET_INVENTORY_CALLS} per 1,000.")


def _per_order(phase: Phase) -> float:
    return phase.total_calls / max(phase.succeeded, 1)


if __name__ == "__main__":
    raise SystemExit(main())
