"""Signed webhook ingest over loopback: requests/s and latency under gunicorn.

    .venv/bin/python bench/ingest.py [--requests 5000] [--concurrency 16]
        [--server sync:4 gthread:2x8 ...] [--clients 2] [--embedded]

For each gunicorn configuration: start ``portal.wsgi:application`` against a
private database, create a ``generic`` Connection with a signing secret and a
webhook FlowConfig for ``bench_noop``, then POST unique signed events to
``/api/v1/inbound/<slug>/`` from client processes (threads with keep-alive
``http.client`` connections, the lightest Python client, so the load generator
takes as little of the machine's CPU as possible). Every answer must be 202, and
afterwards every request must have left exactly one InboundEvent, one SyncRecord
and one queued RQ job. No worker runs: this measures ingest alone.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, measure, profiles

TARGET_RATE = 250.0  # requests/s
TARGET_P99_MS = 100.0
SLUG = "bench-inbound"
PATH = "/api/v1/inbound/{slug}/"
DEFAULT_SERVERS = ["sync:2", "sync:4", "gthread:2x4"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--duration", type=float, default=60.0, help="stop sending after this"
    )
    parser.add_argument(
        "--server",
        nargs="+",
        default=DEFAULT_SERVERS,
        help="gunicorn configurations: sync:<workers> or gthread:<workers>x<threads>",
    )
    parser.add_argument(
        "--clients", type=int, default=2, help="load-generator processes"
    )
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also send N requests in-process (Django test client) under cProfile "
        "and print where each request's time goes",
    )
    parser.add_argument("--markdown", action="store_true")
    common.add_backend_arguments(parser)
    args = parser.parse_args(argv)

    with common.backend(args, label="ingest") as be:
        common.migrate()
        print(measure.machine())
        print(be.describe())
        secret = secrets.token_urlsafe(32)
        _connection(secret)
        results = []
        for spec in args.server:
            results.append(_run_server(be, spec, secret, args))
            r = results[-1]
            print(
                f"  {spec}: {r['rate']:.0f} req/s, p50 {r['p50']:.1f} ms, "
                f"p99 {r['p99']:.1f} ms, {dict(r['codes'])}\n    {r['cpu']}",
                flush=True,
            )
        _report(args, results)
        if args.profile:
            _profile(be, secret, args.profile)
    return 0


def _connection(secret: str) -> None:
    from integrations.models import Connection, FlowConfig, System, Trigger

    source = Connection.objects.create(
        name="Bench inbound",
        slug=SLUG,
        system=System.GENERIC,
        credentials={"signing_secret": secret},
    )
    target = Connection.objects.create(
        name="Bench target", slug="bench-target", system=System.GENERIC
    )
    FlowConfig.objects.create(
        name="Bench inbound no-op",
        flow="bench_noop",
        source_connection=source,
        target_connection=target,
        trigger=Trigger.WEBHOOK,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_command(spec: str, port: int) -> list[str]:
    kind, _, size = spec.partition(":")
    command = [
        sys.executable, "-m", "gunicorn", "portal.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "--backlog", "2048", "--keep-alive", "5",
    ]  # fmt: skip
    if kind == "sync":
        return [*command, "--worker-class", "sync", "--workers", size]
    if kind == "gthread":
        workers, _, threads = size.partition("x")
        return [
            *command, "--worker-class", "gthread",
            "--workers", workers, "--threads", threads or "4",
        ]  # fmt: skip
    raise SystemExit(f"unknown --server {spec!r}: use sync:N or gthread:NxT")


def _wait_until_up(port: int, process, timeout: float = 30.0) -> None:
    """The listening socket is enough: the untimed warm-up absorbs worker boot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=1),
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen within {timeout:.0f} s")


def _run_server(be, spec: str, secret: str, args) -> dict:
    from integrations.models import InboundEvent, SyncRecord

    common.flush_redis()
    clients_before = common.redis_clients()
    port = _free_port()
    log_name = f"gunicorn-{spec.replace(':', '-')}.log"
    server = common.spawn(be, gunicorn_command(spec, port), log_name=log_name)
    try:
        _wait_until_up(port, server)
        run = uuid.uuid4().hex[:8]
        # Warm every gunicorn worker (imports, first connection) untimed.
        warm = _load(port, secret, f"{run}w", args.warmup, args.concurrency, 1, 30.0)
        if set(warm["codes"]) != {202}:
            print(f"  warm-up answers: {dict(warm['codes'])}", file=sys.stderr)
        if args.quiet_wait:
            busy = measure.wait_for_quiet(max_wait=args.quiet_wait)
            if busy > 0.15:
                print(f"  (machine still {busy:.0%} busy before this run)")
        started_events = InboundEvent.objects.count()
        started_records = SyncRecord.objects.count()
        queued_before = _queued()
        meter = measure.CpuMeter({"gunicorn": [server.pid], "clients": [os.getpid()]})
        with meter:
            result = _load(
                port,
                secret,
                run,
                args.requests,
                args.concurrency,
                args.clients,
                args.duration,
            )
        # Connections the server processes still hold (see dispatch.queue()).
        result["redis_conns"] = common.redis_clients() - clients_before
        result["spec"] = spec
        result["cpu"] = meter.summary(max(result["sent"], 1), "request")
        result["events"] = InboundEvent.objects.count() - started_events
        result["records"] = SyncRecord.objects.count() - started_records
        result["queued"] = _queued() - queued_before
        if server.poll() is not None:
            result["note"] = "gunicorn died"
    finally:
        common.stop(server)
        be.children.remove(server)
    errors = common.tail(be, log_name, 1500).strip()
    if errors:
        print(f"  gunicorn log ({spec}):\n{errors}", file=sys.stderr)
    return result


def _queued() -> int:
    return common.queue_length()


def _load(port, secret, run, total, concurrency, clients, duration) -> dict:
    """Send ``total`` unique signed events from ``clients`` processes."""
    from django.db import connections

    connections.close_all()  # no inherited database sockets in the children
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)
    results = ctx.Queue()
    per_client = [
        concurrency // clients + (1 if n < concurrency % clients else 0)
        for n in range(clients)
    ]
    start_at = time.time() + 0.5  # every client starts at the same moment
    processes = [
        ctx.Process(
            target=_client,
            args=(port, secret, run, total, threads, counter, results, start_at),
            kwargs={"duration": duration},
        )
        for threads in per_client
        if threads
    ]
    for p in processes:
        p.start()
    parts = [results.get() for _ in processes]
    for p in processes:
        p.join()
    latencies = sorted(x for part in parts for x in part["latencies"])
    codes = Counter()
    for part in parts:
        codes.update(part["codes"])
    first = min(part["first"] for part in parts)
    last = max(part["last"] for part in parts)
    done = len(latencies)
    return {
        "sent": done,
        "seconds": last - first,
        "rate": done / (last - first) if last > first else 0.0,
        "p50": _percentile(latencies, 50),
        "p90": _percentile(latencies, 90),
        "p99": _percentile(latencies, 99),
        "max": latencies[-1] if latencies else 0.0,
        "codes": codes,
        "clients": len(processes),
        "concurrency": concurrency,
    }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def _client(port, secret, run, total, threads, counter, results, start_at, *, duration):
    """One load-generator process: ``threads`` keep-alive connections."""
    from integrations import signing  # pure Python: no settings, no database

    latencies: list[float] = []
    codes: Counter = Counter()
    bounds = {"first": float("inf"), "last": 0.0}
    lock = threading.Lock()
    path = PATH.format(slug=SLUG)

    def take() -> int | None:
        with counter.get_lock():
            if counter.value >= total:
                return None
            counter.value += 1
            return counter.value

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, my_codes = [], Counter()
        first, last = float("inf"), 0.0
        deadline = start_at + duration
        while time.time() < deadline and (n := take()) is not None:
            event_id = f"{run}-{n}"
            body = json.dumps({"id": event_id}).encode()
            headers = {
                "Content-Type": "application/json",
                signing.HEADER: signing.sign(secret, body),
                "X-LedgerBridge-Event-Id": event_id,
                "X-LedgerBridge-Topic": "order.created",
            }
            began, began_wall = time.perf_counter(), time.time()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                code = response.status
                if response.will_close:
                    conn.close()  # sync workers close; reconnect next time
            except (OSError, http.client.HTTPException) as exc:
                code = type(exc).__name__
                conn.close()
            ended = time.perf_counter()
            mine.append((ended - began) * 1000)
            my_codes[code] += 1
            first, last = min(first, began_wall), max(last, time.time())
        conn.close()
        with lock:
            latencies.extend(mine)
            codes.update(my_codes)
            bounds["first"] = min(bounds["first"], first)
            bounds["last"] = max(bounds["last"], last)

    time.sleep(max(start_at - time.time(), 0))
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put({"latencies": latencies, "codes": dict(codes), **bounds})


def _profile(be, secret: str, count: int) -> None:
    """Post signed events through Django's test client, under cProfile."""
    from django.test import Client

    from integrations import signing

    client = Client(HTTP_HOST="127.0.0.1")
    run = uuid.uuid4().hex[:8]

    def post(n: int) -> int:
        event_id = f"{run}-p{n}"
        body = json.dumps({"id": event_id}).encode()
        response = client.post(
            PATH.format(slug=SLUG),
            data=body,
            content_type="application/json",
            headers={
                signing.HEADER: signing.sign(secret, body),
                "X-LedgerBridge-Event-Id": event_id,
                "X-LedgerBridge-Topic": "order.created",
            },
        )
        return response.status_code

    profiles.view(be, post, count)


def _report(args, results: list[dict]) -> None:
    print()
    print(
        f"Signed inbound webhooks, {args.requests} requests per configuration, "
        f"concurrency {args.concurrency} over {args.clients} client processes:"
    )
    rows = []
    for r in results:
        ok = (
            set(r["codes"]) == {202}
            and r["events"] == r["records"] == r["queued"] == r["sent"]
        )
        rows.append(
            [
                r["spec"],
                r["sent"],
                f"{r['rate']:.0f}",
                f"{r['p50']:.1f}",
                f"{r['p90']:.1f}",
                f"{r['p99']:.1f}",
                f"{r['max']:.0f}",
                " ".join(f"{k}:{v}" for k, v in sorted(r["codes"].items(), key=str)),
                f"{r['events']}/{r['records']}/{r['queued']}",
                "yes" if ok else "NO",
                r["redis_conns"],
            ]
        )
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
                "events/records/jobs",
                "all stored",
                "redis conns",
            ],
            rows,
            markdown=args.markdown,
        )
    )
    print(
        "redis conns: connections the gunicorn workers still held open after the "
        "run; one per worker is right, one per request is the leak fixed in a1cef3a."
    )
    for r in results:
        print(f"{r['spec']}: {r['cpu']}")
    valid = [r for r in results if set(r["codes"]) == {202}]
    if not valid:
        print("\nNo configuration answered 202 to every request.")
        return
    meeting = [
        r for r in valid if r["rate"] >= TARGET_RATE and r["p99"] <= TARGET_P99_MS
    ]
    best = max(meeting or valid, key=lambda r: r["rate"])
    met = bool(meeting)
    print(
        f"\nBest: {best['spec']} with {best['rate']:.0f} req/s and p99 "
        f"{best['p99']:.1f} ms: {'meets' if met else 'misses'} the target "
        f"(>= {TARGET_RATE:.0f} req/s, p99 <= {TARGET_P99_MS:.0f} ms)."
    )


if __name__ == "__main__":
    raise SystemExit(main())
