"""Sage 100 credit checks over loopback: latency and throughput under gunicorn.

    .venv/bin/python bench/credit_check.py [--duration 30] [--concurrency 20]
        [--server gthread:2x8 ...] [--customers 300] [--embedded]

Starts ``portal.wsgi:application`` the way bench/ingest.py does, against a
private database, with a ``sage100`` Connection reading a seeded simulator
company (integrations.sandbox.sage100) through the real ODBC driver. Callers
(threads with keep-alive ``http.client`` connections, spread over client
processes) POST ``/api/v1/sage100/<slug>/credit-check`` for random customers
and amounts, with an API key, for ``--duration`` seconds. Every answer must be
200; the figures are p50/p90/p99/max latency and requests per second. Each
call reads Sage 100 live (no cache), so this measures the API, the key check,
the cross-reference lookup and one ODBC round trip per request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, measure
from bench.ingest import _free_port, _percentile, _wait_until_up, gunicorn_command

TARGET_P99_MS = 150.0
SLUG = "bench-sage100"
PATH = f"/api/v1/sage100/{SLUG}/credit-check"
SCOPE = "sage100:credit-check"
DEFAULT_SERVERS = ["sync:4", "gthread:2x4"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds")
    parser.add_argument("--concurrency", type=int, default=20, help="callers")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed seconds")
    parser.add_argument(
        "--server",
        nargs="+",
        default=DEFAULT_SERVERS,
        help="gunicorn configurations: sync:<workers> or gthread:<workers>x<threads>",
    )
    parser.add_argument("--markdown", action="store_true")
    common.add_backend_arguments(parser)
    args = parser.parse_args(argv)

    with common.backend(args, label="credit") as be:
        common.migrate()
        print(measure.machine())
        print(be.describe())
        company, customers = _company(be, args.customers)
        key = _connection_and_key(company)
        print(f"sage 100: simulator company ABC, {len(customers)} customers, ODBC")
        results = []
        for spec in args.server:
            results.append(_run_server(be, spec, key, customers, args))
            r = results[-1]
            print(
                f"  {spec}: {r['rate']:.0f} req/s, p50 {r['p50']:.1f} ms, "
                f"p99 {r['p99']:.1f} ms, {dict(r['codes'])}\n    {r['cpu']}",
                flush=True,
            )
        _report(args, results)
    return 0


def _company(be, count: int):
    """A seeded simulator company, and its customers as 01-ABF references."""
    from integrations.connectors.sage100.odbc import OdbcReader, connection_string
    from integrations.sandbox.sage100.database import CompanyDatabase

    db = CompanyDatabase(be.var_dir / "sage", "ABC")
    db.create()
    try:
        from integrations.sandbox.sage100.seed import seed
    except ImportError:
        _seed_customers(db, count)
    else:
        seed(db, customers=count)
    reader = OdbcReader(connection_string(db.odbc_settings()))
    rows = reader.select(
        "AR_Customer", "SELECT ARDivisionNo, CustomerNo FROM AR_Customer"
    )
    return db, [f"{r['ARDivisionNo']}-{r['CustomerNo']}" for r in rows]


def _seed_customers(db, count: int) -> None:
    """Customers like Sage's sample company's, when the simulator has no seed."""
    rng = random.Random(100)
    with db.connect() as conn:
        for number, text in (("01", "East"), ("02", "West")):
            conn.execute(
                "INSERT OR IGNORE INTO AR_Division (ARDivisionNo, DivisionDescription)"
                " VALUES (?, ?)",
                (number, text),
            )
        for n in range(count):
            limit = rng.choice([0, 5000, 10000, 25000, 50000])
            conn.execute(
                "INSERT INTO AR_Customer (ARDivisionNo, CustomerNo, CustomerName, "
                "CustomerStatus, CreditLimit, CreditHold, CurrentBalance, "
                "OpenOrderAmt) VALUES (?, ?, ?, 'A', ?, ?, ?, ?)",
                (
                    "01" if n % 3 else "02",
                    f"C{n:05d}",
                    f"Customer {n} Inc.",
                    str(limit),
                    "Y" if n % 17 == 0 else "N",
                    str(Decimal(rng.randint(0, 2_000_000)) / 100),
                    str(Decimal(rng.randint(0, 500_000)) / 100),
                ),
            )


def _connection_and_key(company) -> str:
    from integrations.models import Connection, ConnectionAPIKey, System

    connection = Connection.objects.create(
        name="Bench Sage 100",
        slug=SLUG,
        system=System.SAGE100,
        settings={"company": "ABC", "odbc": company.odbc_settings()},
        credentials={"signing_secret": "bench"},
    )
    _, key = ConnectionAPIKey.objects.create_key(
        name="bench credit", scopes=[SCOPE], connection=connection
    )
    return key


def _run_server(be, spec: str, key: str, customers: list[str], args) -> dict:
    port = _free_port()
    log_name = f"gunicorn-{spec.replace(':', '-')}.log"
    server = common.spawn(be, gunicorn_command(spec, port), log_name=log_name)
    try:
        _wait_until_up(port, server)
        warm = _load(port, key, customers, args.concurrency, args.clients, args.warmup)
        if set(warm["codes"]) != {200}:
            print(f"  warm-up answers: {dict(warm['codes'])}", file=sys.stderr)
        if args.quiet_wait:
            busy = measure.wait_for_quiet(max_wait=args.quiet_wait)
            if busy > 0.15:
                print(f"  (machine still {busy:.0%} busy before this run)")
        meter = measure.CpuMeter({"gunicorn": [server.pid], "clients": [os.getpid()]})
        with meter:
            result = _load(
                port, key, customers, args.concurrency, args.clients, args.duration
            )
        result["spec"] = spec
        result["cpu"] = meter.summary(max(result["sent"], 1), "request")
        if server.poll() is not None:
            result["note"] = "gunicorn died"
    finally:
        common.stop(server)
        be.children.remove(server)
    errors = common.tail(be, log_name, 1500).strip()
    if errors:
        print(f"  gunicorn log ({spec}):\n{errors}", file=sys.stderr)
    return result


def _load(port, key, customers, concurrency, clients, duration) -> dict:
    """``concurrency`` callers over ``clients`` processes for ``duration`` s."""
    from django.db import connections

    connections.close_all()  # no inherited database sockets in the children
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    per_client = [
        concurrency // clients + (1 if n < concurrency % clients else 0)
        for n in range(clients)
    ]
    start_at = time.time() + 0.5
    processes = [
        ctx.Process(
            target=_client,
            args=(port, key, customers, threads, results, start_at, duration, n),
        )
        for n, threads in enumerate(per_client)
        if threads
    ]
    for p in processes:
        p.start()
    parts = [results.get() for _ in processes]
    for p in processes:
        p.join()
    latencies = sorted(x for part in parts for x in part["latencies"])
    codes, decisions = Counter(), Counter()
    for part in parts:
        codes.update(part["codes"])
        decisions.update(part["decisions"])
    first = min(part["first"] for part in parts)
    last = max(part["last"] for part in parts)
    done = len(latencies)
    return {
        "sent": done,
        "rate": done / (last - first) if last > first else 0.0,
        "p50": _percentile(latencies, 50),
        "p90": _percentile(latencies, 90),
        "p99": _percentile(latencies, 99),
        "max": latencies[-1] if latencies else 0.0,
        "codes": codes,
        "decisions": decisions,
    }


def _client(port, key, customers, threads, results, start_at, duration, seed):
    """One load-generator process: ``threads`` callers with keep-alive sockets."""
    latencies: list[float] = []
    codes: Counter = Counter()
    decisions: Counter = Counter()
    bounds = {"first": float("inf"), "last": 0.0}
    lock = threading.Lock()
    headers = {"Content-Type": "application/json", "Authorization": f"Api-Key {key}"}

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, my_codes, my_decisions = [], Counter(), Counter()
        first, last = float("inf"), 0.0
        deadline = start_at + duration
        while time.time() < deadline:
            customer = rng.choice(customers)
            if rng.random() < 0.5:
                customer = customer.split("-", 1)[1].lower()  # plain, lower-case
            amount = f"{rng.randint(1, 3_000_000) / 100:.2f}"
            body = json.dumps({"customer": customer, "amount": amount}).encode()
            began, began_wall = time.perf_counter(), time.time()
            try:
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                code = response.status
                if code == 200:
                    my_decisions[json.loads(payload)["approved"]] += 1
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                code = type(exc).__name__
                conn.close()
            mine.append((time.perf_counter() - began) * 1000)
            my_codes[code] += 1
            first, last = min(first, began_wall), max(last, time.time())
        conn.close()
        with lock:
            latencies.extend(mine)
            codes.update(my_codes)
            decisions.update(my_decisions)
            bounds["first"] = min(bounds["first"], first)
            bounds["last"] = max(bounds["last"], last)

    time.sleep(max(start_at - time.time(), 0))
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put(
        {
            "latencies": latencies,
            "codes": dict(codes),
            "decisions": dict(decisions),
            **bounds,
        }
    )


def _report(args, results: list[dict]) -> None:
    print()
    print(
        f"Sage 100 credit checks, {args.concurrency} concurrent callers over "
        f"{args.clients} client processes, {args.duration:.0f} s per configuration:"
    )
    rows = [
        [
            r["spec"],
            r["sent"],
            f"{r['rate']:.0f}",
            f"{r['p50']:.1f}",
            f"{r['p90']:.1f}",
            f"{r['p99']:.1f}",
            f"{r['max']:.0f}",
            " ".join(f"{k}:{v}" for k, v in sorted(r["codes"].items(), key=str)),
            f"{r['decisions'].get(True, 0)}/{r['decisions'].get(False, 0)}",
        ]
        for r in results
    ]
    print(
        measure.table(
            [
                "gunicorn",
                "requests",
                "req/s",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "status codes",
                "approved/declined",
            ],
            rows,
            markdown=args.markdown,
        )
    )
    valid = [r for r in results if set(r["codes"]) == {200}]
    if not valid:
        print("\nNo configuration answered 200 to every request.")
        return
    best = min(valid, key=lambda r: r["p99"])
    met = best["p99"] <= TARGET_P99_MS
    print(
        f"\nBest: {best['spec']} with p99 {best['p99']:.1f} ms at {best['rate']:.0f} "
        f"req/s: {'meets' if met else 'misses'} the target (p99 <= "
        f"{TARGET_P99_MS:.0f} ms with {args.concurrency} concurrent callers)."
    )


if __name__ == "__main__":
    raise SystemExit(main())
