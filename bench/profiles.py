"""Where the time goes: cProfile breakdowns the benches print with --profile.

Each phase names a function (and optionally its caller) whose cumulative time is
reported per record or request; see ``measure.profile_breakdown``.
"""

from __future__ import annotations

import cProfile
import sys
from collections import Counter
from collections.abc import Callable

from bench import common, measure

WORKER_PHASES = [
    ("the worker loop, per record", "rq/worker/base.py", "work", "", ""),
    ("RQ: wait for and fetch the next job", "rq/worker/base.py",
     "dequeue_job_and_maintain_ttl", "", ""),
    ("RQ: perform_job (bookkeeping + the job)", "rq/worker/base.py",
     "perform_job", "", ""),
    ("engine: jobs.run_sync_record", "integrations/jobs.py", "run_sync_record",
     "", ""),
    ("  load record, flow, 2 connections (first())", "django/db/models/query.py",
     "first", "integrations/engine/runner.py", "run_record"),
    ("    credential decryption (2 Fernet)", "integrations/fields.py",
     "decrypt_json", "", ""),
    ("    ORDER BY compilation (Meta.ordering)", "django/db/models/sql/compiler.py",
     "get_order_by", "", ""),
    ("    connection health check (SELECT 1)", "base.py", "is_usable", "", ""),
    ("  claim: UPDATE ... compare-and-set", "django/db/models/query.py", "update",
     "integrations/engine/runner.py", "run_record"),
    ("  open the attempt: INSERT", "django/db/models/query.py", "create", "", ""),
    ("  steps + success: 2 UPDATEs, COMMIT", "integrations/engine/runner.py",
     "_execute", "", ""),
    ("waiting for PostgreSQL (all queries)", "psycopg/connection.py", "wait", "",
     ""),
    ("Redis commands", "redis/client.py", "_execute_command", "", ""),
    ("Redis pipelines", "redis/client.py", "_execute_transaction", "", ""),
    ("RQ log lines", "logging/__init__.py", "_log", "", ""),
]  # fmt: skip


def worker(be, count: int) -> None:
    """Run the ``count`` queued records through one SimpleWorker under cProfile."""
    path = be.var_dir / "simpleworker.prof"
    process = common.spawn(
        be,
        [
            sys.executable, "-m", "cProfile", "-o", str(path), "manage.py",
            "rqworker", "default", "--burst",
            "--worker-class", "rq.worker.SimpleWorker",
        ],
        log_name="profile-worker.log",
    )  # fmt: skip
    process.wait()
    common.stop(process)
    be.children.remove(process)
    print()
    print(f"Where a record's time goes: one SimpleWorker, {count} records, cProfile:")
    print(
        measure.table(
            ["phase", "profiled ms/record", "share"],
            measure.profile_breakdown(str(path), WORKER_PHASES, count),
            markdown=True,
        )
    )


VIEW_PHASES = [
    ("Django: middleware + view", "django/core/handlers/base.py", "_get_response",
     "", ""),
    ("InboundView.post", "integrations/api/views.py", "post", "", ""),
    ("  connection lookup (SELECT, decrypt)", "django/db/models/manager.py",
     "manager_method", "integrations/api/views.py", "post"),
    ("  signature check", "integrations/signing.py", "verify", "", ""),
    ("  inbox.accept", "integrations/services/inbox.py", "accept", "", ""),
    ("    store the event (INSERT)", "django/db/models/manager.py",
     "manager_method", "integrations/services/inbox.py", "accept"),
    ("    flow configs (SELECT)", "django/db/models/query.py", "__iter__",
     "integrations/services/inbox.py", "_records_for"),
    ("    create_record", "integrations/services/inbox.py", "create_record", "",
     ""),
    ("      lazy source_connection (SELECT, decrypt)",
     "django/db/models/fields/related_descriptors.py", "__get__",
     "integrations/services/inbox.py", "create_record"),
    ("      history row (simple_history INSERT)", "simple_history/models.py",
     "post_save", "", ""),
    ("    commit, then enqueue on commit", "django/db/transaction.py", "__exit__",
     "integrations/services/inbox.py", "accept"),
    ("      RQ enqueue (Redis)", "integrations/engine/dispatch.py", "enqueue", "",
     ""),
    ("  savepoints (create/release)", "django/db/backends/base/base.py",
     "_savepoint", "", ""),
    ("  response rendering (DRF)", "rest_framework/response.py",
     "rendered_content", "", ""),
    ("waiting for PostgreSQL (all queries)", "psycopg/connection.py", "wait", "",
     ""),
]  # fmt: skip


def view(be, post: Callable[[int], int], count: int) -> None:
    """Time ``count`` requests in-process, then profile ``count`` more.

    ``post(n)`` sends the n-th unique signed event and returns the status code.
    """
    from django.db import connection

    for n in range(50):
        post(n)
    # Django clears connection.queries when a request starts, so count with a
    # wrapper (it sees savepoints; BEGIN/COMMIT go through psycopg directly).
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        post(50)
    watch = measure.Stopwatch()
    codes = Counter(post(n) for n in range(100, 100 + count))
    plain = watch.elapsed
    profiler = cProfile.Profile()
    profiler.enable()
    codes.update(post(n) for n in range(100 + count, 100 + 2 * count))
    profiler.disable()
    path = be.var_dir / "ingest.prof"
    profiler.dump_stats(path)
    common.release_leaked_redis_clients()
    print()
    print(
        f"In-process (Django test client, no HTTP, no gunicorn): "
        f"{plain * 1000 / count:.2f} ms per request on one core; answers "
        f"{dict(codes)}; {len(statements)} SQL statements per request plus BEGIN/"
        "COMMIT (under gunicorn also a health-check SELECT 1 per request):"
    )
    for sql in statements:
        print(f"    {sql[:110]}{'…' if len(sql) > 110 else ''}")
    print(f"Where a request's time goes ({count} requests, cProfile):")
    print(
        measure.table(
            ["phase", "profiled ms/request", "share"],
            measure.profile_breakdown(str(path), VIEW_PHASES, count),
            markdown=True,
        )
    )
