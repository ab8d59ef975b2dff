"""Real RQ workers in subprocesses, pointed at the test database and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test runs against (the test database)."""
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{conf['NAME']}"
    user = conf.get("USER") or ""
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{conf['HOST']}:{conf['PORT'] or 5432}/{conf['NAME']}"


def worker_env(**extra: str) -> dict:
    env = os.environ.copy()
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        LEDGERBRIDGE_VAR_DIR=str(settings.VAR_DIR),
        LEDGERBRIDGE_EXTRA_FLOW_MODULES="tests.support.flows",
        LEDGERBRIDGE_LEASE_SECONDS=str(settings.LEDGERBRIDGE["LEASE_SECONDS"]),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def start_worker(
    *, burst: bool = True, with_scheduler: bool = False, **extra_env: str
) -> subprocess.Popen:
    """One `manage.py rqworker` in its own process group (so it can be killed whole).

    The worker class is the product's default (settings.RQ["WORKER_CLASS"]).
    """
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "rqworker",
        "high",
        "default",
        "low",
    ]
    if burst:
        command.append("--burst")
    if with_scheduler:
        command.append("--with-scheduler")
    # A file, not a pipe: a worker logging more than a pipe holds would block.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=worker_env(**extra_env),
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log
    return process


def output(process: subprocess.Popen) -> str:
    process.log.seek(0)
    return process.log.read().decode(errors="replace")[-4000:]


def wait_all(processes: list[subprocess.Popen], *, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            kill(process)
            raise
        if process.returncode != 0:
            raise AssertionError(
                f"worker exited {process.returncode}:\n{output(process)}"
            )


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    process.wait(timeout=30)


def wait_until(condition: Callable[[], bool], *, timeout: float = 60) -> None:
    """Poll a condition the workers make true; fail with a clear message."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.05)
