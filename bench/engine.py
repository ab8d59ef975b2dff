"""Records per second through the engine, and database queries per record.

    .venv/bin/python bench/engine.py [--records 2000] [--workers 1 2]
        [--worker-class rq.worker.Worker rq.worker.SimpleWorker] [--embedded]

The flow (``bench.flows.BenchNoop``) does nothing in its steps, so the figures are
the engine's own cost: RQ's dequeue and bookkeeping, the claim, the attempt row and
the final compare-and-set. Each run enqueues N records with the product's own
``dispatch.enqueue``, then starts real ``manage.py rqworker default --burst``
subprocesses and times from their start to the last record's ``finished_at``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, measure, profiles

TARGET_RATE = 200.0  # records/s with 2 workers
TARGET_QUERIES = 12  # per record
WORKER_CLASSES = ["rq.worker.Worker", "rq.worker.SimpleWorker"]


@dataclass
class Result:
    worker_class: str
    workers: int
    records: int
    succeeded: int
    enqueue_s: float
    total_s: float  # worker start → last finished_at
    steady_s: float  # first finished_at → last finished_at
    cpu: str = ""
    all_rates: list[float] = field(default_factory=list)
    leaked_connections: int = 0
    queued: int = 0

    @property
    def rate(self) -> float:
        return self.succeeded / self.total_s if self.total_s else 0.0

    @property
    def steady_rate(self) -> float:
        return (self.succeeded - 1) / self.steady_s if self.steady_s else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--worker-class", nargs="+", default=WORKER_CLASSES)
    parser.add_argument(
        "--query-sample", type=int, default=200, help="records run in-process"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per configuration; best is kept"
    )
    parser.add_argument(
        "--worker-arg",
        action="append",
        default=[],
        help="extra rqworker argument, e.g. --worker-arg=--verbosity=0",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also run N records through one SimpleWorker under cProfile and "
        "print where each record's time goes",
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--markdown", action="store_true", help="print tables as Markdown"
    )
    common.add_backend_arguments(parser)
    args = parser.parse_args(argv)

    with common.backend(args, label="engine") as be:
        common.migrate()
        print(measure.machine())
        print(be.describe())
        config = _flow_config()

        sample = _queries_per_record(config, args.query_sample, args.quiet_wait)
        results = []
        for worker_class in args.worker_class:
            for workers in args.workers:
                runs = []
                for _ in range(args.repeat):
                    result = _run(be, config, worker_class, workers, args)
                    runs.append(result)
                    print(
                        f"  {_short(worker_class)} x{workers}: "
                        f"{result.rate:.0f} records/s\n    {result.cpu}",
                        flush=True,
                    )
                best = max(runs, key=lambda r: (r.succeeded, r.rate))
                best.all_rates = [r.rate for r in runs]
                results.append(best)
        _report(args, sample, results)
        if args.profile:
            _enqueue_for_profile(config, args.profile)
            profiles.worker(be, args.profile)
    return 0


def _flow_config():
    from integrations.models import Connection, FlowConfig, System, Trigger

    source = Connection.objects.create(
        name="Bench source", slug="bench-source", system=System.GENERIC
    )
    target = Connection.objects.create(
        name="Bench target", slug="bench-target", system=System.GENERIC
    )
    return FlowConfig.objects.create(
        name="Bench no-op",
        flow="bench_noop",
        source_connection=source,
        target_connection=target,
        trigger=Trigger.MANUAL,
    )


def _create_records(config, count: int) -> list[int]:
    from integrations.models import SyncRecord

    run = uuid.uuid4().hex[:8]
    records = [
        SyncRecord(
            flow_config=config,
            flow=config.flow,
            source_system=config.source_connection.system,
            source_object_type="order",
            source_id=f"{run}-{n}",
            idempotency_key=f"bench_noop:{config.pk}:order:{run}-{n}:",
            payload={"id": f"{run}-{n}"},
        )
        for n in range(count)
    ]
    created = SyncRecord.objects.bulk_create(records, batch_size=500)
    return [r.pk for r in created]


@dataclass
class QuerySample:
    counts: list[int]
    seconds: float
    example: list[str]
    outcomes: dict[str, int]


def _queries_per_record(config, count: int, args_quiet_wait: float) -> QuerySample:
    """Run records in this process, counting every query each one makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations.engine import runner

    ids = _create_records(config, count)
    if args_quiet_wait:
        measure.wait_for_quiet(max_wait=args_quiet_wait)
    counts, outcomes, example = [], {}, []
    started = time.perf_counter()
    for record_id in ids:
        with CaptureQueriesContext(connection) as captured:
            outcome = runner.run_record(record_id, worker="bench")
        counts.append(len(captured.captured_queries))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if not example:
            example = [q["sql"] for q in captured.captured_queries]
    return QuerySample(counts, time.perf_counter() - started, example, outcomes)


def _run(be, config, worker_class: str, workers: int, args) -> Result:
    from django.db.models import Count, Max, Min
    from django.utils import timezone

    from integrations.engine import dispatch
    from integrations.models import RecordStatus, SyncRecord

    common.flush_redis()
    ids = _create_records(config, args.records)
    clients_before = common.redis_clients()
    watch = measure.Stopwatch()
    for record_id in ids:
        dispatch.enqueue(record_id, 1)
    enqueue_s = watch.elapsed
    # Each enqueue used to leave a Redis connection open for good (see
    # common.release_leaked_redis_clients). Count them, then close them.
    leaked = common.redis_clients() - clients_before
    common.release_leaked_redis_clients()
    queued = common.queue_length()

    mine = SyncRecord.objects.filter(pk__gte=min(ids), pk__lte=max(ids))
    tag = f"{_short(worker_class)}-x{workers}"
    if args.quiet_wait:
        busy = measure.wait_for_quiet(max_wait=args.quiet_wait)
        if busy > 0.15:
            print(f"  (machine still {busy:.0%} busy before this run)", flush=True)
    meter = measure.CpuMeter({"workers": [], "bench": [os.getpid()]})
    meter.__enter__()
    started = timezone.now()
    processes = [
        common.spawn(
            be,
            [
                sys.executable, "manage.py", "rqworker", "default", "--burst",
                "--worker-class", worker_class, "--name", f"bench-{tag}-{n}",
                *args.worker_arg,
            ],
            log_name=f"worker-{tag}-{n}.log",
        )
        for n in range(workers)
    ]  # fmt: skip
    meter.roots["workers"].extend(p.pid for p in processes)
    deadline = time.monotonic() + args.timeout
    while True:
        done = mine.filter(status=RecordStatus.SUCCEEDED).count()
        if done == len(ids):
            break
        if all(common.exited(p) for p in processes):
            break  # burst workers found the queue empty: whatever is left failed
        if time.monotonic() > deadline:
            print(f"  timeout after {args.timeout:.0f} s", file=sys.stderr)
            break
        time.sleep(0.2)
    # Burst workers quit once the queue is empty; measured before they are reaped.
    while not all(common.exited(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    meter.__exit__(None, None, None)
    for process in processes:
        common.stop(process, timeout=30)
        be.children.remove(process)

    span = mine.filter(status=RecordStatus.SUCCEEDED).aggregate(
        first=Min("finished_at"), last=Max("finished_at")
    )
    succeeded = mine.filter(status=RecordStatus.SUCCEEDED).count()
    if succeeded != len(ids):
        by_status = dict(
            mine.values("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        print(
            f"  WARNING {tag}: {succeeded}/{len(ids)} succeeded; by status: "
            f"{by_status}\n{common.tail(be, f'worker-{tag}-0.log')}",
            file=sys.stderr,
        )
    total = (span["last"] - started).total_seconds() if span["last"] else 0.0
    steady = (span["last"] - span["first"]).total_seconds() if span["last"] else 0.0
    return Result(
        worker_class,
        workers,
        len(ids),
        succeeded,
        enqueue_s,
        total,
        steady,
        meter.summary(len(ids), "record"),
        leaked_connections=leaked,
        queued=queued,
    )


def _enqueue_for_profile(config, count: int) -> None:
    from integrations.engine import dispatch

    common.flush_redis()
    for record_id in _create_records(config, count):
        dispatch.enqueue(record_id, 1)
    common.release_leaked_redis_clients()


def _short(worker_class: str) -> str:
    return worker_class.rsplit(".", 1)[-1]


def _report(args, sample: QuerySample, results: list[Result]) -> None:
    counts = sample.counts
    print()
    print(
        f"Queries per record (in-process runner.run_record, {len(counts)} records, "
        f"outcomes {sample.outcomes}):"
    )
    print(
        f"  min {min(counts)}  mean {statistics.mean(counts):.1f}  max {max(counts)}"
        f"  -> target <= {TARGET_QUERIES}: "
        f"{'met' if max(counts) <= TARGET_QUERIES else 'MISSED'}"
    )
    print(
        f"  in-process engine alone: {len(counts) / sample.seconds:.0f} records/s "
        f"on one core (no RQ, query capture on)"
    )
    print("  queries of one record:")
    for sql in sample.example:
        print(f"    {sql[:150]}{'…' if len(sql) > 150 else ''}")

    print()
    print(
        f"Throughput, {args.records} records per run (no-op flow), best of "
        f"{args.repeat}:"
    )
    rows = [
        [
            _short(r.worker_class),
            r.workers,
            f"{r.succeeded}/{r.records}",
            f"{r.records / r.enqueue_s:.0f}" if r.enqueue_s else "-",
            f"{r.total_s:.2f}",
            f"{r.rate:.0f}",
            f"{r.steady_rate:.0f}",
            " ".join(f"{x:.0f}" for x in r.all_rates),
        ]
        for r in results
    ]
    print(
        measure.table(
            [
                "worker class",
                "workers",
                "succeeded",
                "enqueued/s",
                "start→last s",
                "records/s",
                "steady records/s",
                "all runs",
            ],
            rows,
            markdown=args.markdown,
        )
    )
    print()
    print(
        "records/s = succeeded / (last finished_at - worker start), the target's "
        "measure; steady = between the first and last finished_at (no start-up)."
    )
    r = results[0]
    print(
        f"Enqueueing {r.records} records left {r.leaked_connections} extra Redis "
        f"connections open ({r.queued} jobs queued); 1 is right, one per record "
        "is the leak fixed in a1cef3a (bench/common.py)."
    )
    for r in results:
        print(f"{_short(r.worker_class)} x{r.workers}: {r.cpu}")
    for worker_class in {r.worker_class for r in results}:
        two = [r for r in results if r.worker_class == worker_class and r.workers == 2]
        if two:
            r = two[0]
            verdict = (
                "meets"
                if r.rate >= TARGET_RATE and r.succeeded == r.records
                else "misses"
            )
            print(
                f"{_short(worker_class)} with 2 workers: {r.rate:.0f} records/s "
                f"{verdict} the target of >= {TARGET_RATE:.0f} records/s."
            )


if __name__ == "__main__":
    raise SystemExit(main())
