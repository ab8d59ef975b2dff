"""The RQ worker class LedgerBridge runs by default."""

from __future__ import annotations

from rq.worker import SimpleWorker


class EngineWorker(SimpleWorker):
    """Runs each job inside the worker process instead of a forked work-horse.

    A fork per job costs tens of milliseconds here (a fresh database connection
    and cold caches in every work-horse), more than the engine's own work for a
    record. Process isolation is not what keeps records safe: the lease and the
    sweeper are. A worker that dies is restarted by its supervisor (compose,
    systemd, ``make demo``) and its record is recovered when the lease expires.
    Set ``RQ_WORKER_CLASS=rq.worker.Worker`` to fork per job instead.
    """
