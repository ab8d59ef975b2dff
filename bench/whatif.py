"""What-if experiments behind docs/benchmarks.md: NOT product code.

Each experiment is a small run-time patch that stands in for a change proposed
to the engine, so its effect can be measured before anyone writes the change.
They apply only in bench processes: ``--whatif name,name`` on bench/engine.py or
bench/ingest.py sets ``BENCH_WHATIF`` and loads this module into the workers or
gunicorn through ``LEDGERBRIDGE_EXTRA_FLOW_MODULES``.

    redis-pool       dispatch.queue() reuses one Redis client per process instead
                     of building a new one (and a new connection) per call
    no-health-check  CONN_HEALTH_CHECKS off: no ``SELECT 1`` before the first
                     query of each request or job
    result-ttl-0     run_sync_record jobs keep no result in Redis (the record in
                     the database already says how it ended)

``WarmForkWorker`` (``--worker-class bench.whatif.WarmForkWorker``) is RQ's forking
Worker with the two fixes a forking worker needs: warm the parent once, and
``gc.freeze()`` before each fork.
"""

from __future__ import annotations

import functools
import gc
import os

from rq.worker import Worker

ENABLED = {name for name in os.environ.get("BENCH_WHATIF", "").split(",") if name}
KNOWN = {"redis-pool", "no-health-check", "result-ttl-0"}
if ENABLED - KNOWN:
    raise ValueError(f"unknown BENCH_WHATIF experiments: {sorted(ENABLED - KNOWN)}")


def _apply() -> None:
    from django.conf import settings

    if "redis-pool" in ENABLED:
        import django_rq

        from integrations.engine import dispatch

        @functools.cache
        def connection():
            return django_rq.get_connection(settings.LEDGERBRIDGE["QUEUE"])

        def queue():
            return django_rq.get_queue(
                settings.LEDGERBRIDGE["QUEUE"], connection=connection()
            )

        dispatch.queue = queue

    if "result-ttl-0" in ENABLED:
        from integrations.engine import dispatch

        options = dispatch._job_options
        dispatch._job_options = lambda: {**options(), "result_ttl": 0}

    if "no-health-check" in ENABLED:
        # The same dict the connection handler builds each thread's wrapper from.
        settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = False


_apply()


class WarmForkWorker(Worker):
    """Fork per job, without paying a cold process and a full GC every time.

    Measured in docs/benchmarks.md: each work-horse of RQ's ``Worker`` spends most
    of its time (1) in a generation-2 garbage collection that walks, and so
    copies (copy-on-write), the whole inherited heap, and (2) warming caches the
    parent never filled: lazy imports, OpenSSL for the credential decryption,
    Django's per-model metadata. ``gc.freeze()`` moves the parent's objects out
    of the collector's sight; one throw-away record load in the parent warms the
    rest. The database connection is closed again before forking.
    """

    _warmed = False

    def fork_work_horse(self, job, queue):
        if not self._warmed:
            self._warm()
            WarmForkWorker._warmed = True
        gc.freeze()
        try:
            return super().fork_work_horse(job, queue)
        finally:
            gc.unfreeze()

    @staticmethod
    def _warm() -> None:
        from django.db import connections

        from integrations.models import SyncRecord

        record = (
            SyncRecord.objects.select_related(
                "flow_config__source_connection", "flow_config__target_connection"
            )
            .order_by("pk")
            .first()
        )
        if record is not None:
            _ = record.flow_config.source_connection.credentials
        connections.close_all()  # never share a socket with the work-horses
        gc.collect()
