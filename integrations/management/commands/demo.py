"""``make demo``: migrate, load demo data, and supervise every process.

One process group: the embedded redis-server (when REDIS_URL is unset), the
portal under gunicorn, RQ workers, the scheduler and the vendor simulators.
Ctrl-C (or any child dying) stops them all.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from integrations.services import demo_portal
from portal import embedded

DEMO_USER, DEMO_PASSWORD = "admin", "ledgerbridge"
MAX_RESTARTS = 5  # per minute, across workers; beyond that something is wrong


class Command(BaseCommand):
    help = "Run the whole product on this machine with demo data."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port",
            type=int,
            default=8000,
            help="The portal's port; the simulators' webhooks follow it.",
        )
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare data, start nothing."
        )

    def handle(self, *args, host, port, workers, no_serve, **options):
        # Before anything builds a simulator's command: their webhooks go here.
        os.environ[demo_portal.ENV] = f"http://{host}:{port}"
        children: list[tuple[str, subprocess.Popen]] = []
        if settings.REDIS_IS_EMBEDDED and not embedded.redis_is_up(
            settings.EMBEDDED_REDIS_DIR
        ):
            children.append(
                (
                    "redis",
                    _spawn(
                        embedded.redis_command(
                            settings.EMBEDDED_REDIS_DIR, daemonize=False
                        )
                    ),
                )
            )
            embedded.wait_for_redis(settings.EMBEDDED_REDIS_DIR)
        try:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            call_command("load_demo_data", password=DEMO_PASSWORD)
            if no_serve:
                return
            self._start(host, port, workers, children)
            self._announce(host, port)
            self._supervise(children)
        finally:
            _stop_all(children)

    def _start(self, host: str, port: int, workers: int, started: list) -> None:
        """Start every process, appending each to ``started`` as it starts, so
        a failure half-way still stops the ones already running."""
        from integrations.sandbox import processes

        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        # Simulators first: the scheduler checks every connection as it starts,
        # and a check against a simulator still booting would show "Failing"
        # on the Connections page until the next check, minutes later.
        started.extend((name, _spawn(cmd)) for name, cmd in processes.demo_commands())
        _wait_for_ports(processes.demo_ports(), started)
        started.extend([
            (
                "web",
                _spawn(
                    [
                        sys.executable, "-m", "gunicorn", "portal.wsgi:application",
                        "--bind", f"{host}:{port}", "--workers", "2",
                        "--access-logfile", "-", "--log-level", "warning",
                    ]
                ),
            ),
            ("scheduler", _spawn([*manage, "run_scheduler"])),
        ])  # fmt: skip
        for number in range(1, workers + 1):
            command = [*manage, "rqworker", "high", "default", "low"]
            if number == 1:
                command.append("--with-scheduler")
            started.append((f"worker-{number}", _spawn(command)))

    def _announce(self, host: str, port: int) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"\nLedgerBridge is running.\n"
                f"  Admin:  http://{host}:{port}/admin/\n"
                f"  Login:  {DEMO_USER} / {DEMO_PASSWORD}\n"
                f"  Health: http://{host}:{port}/health/\n"
                f"  API:    http://{host}:{port}/api/docs/\n"
                f"Press Ctrl-C to stop everything.\n"
            )
        )

    def _supervise(self, children) -> None:
        """Restart a worker that dies (its record comes back after the lease);
        any other child dying stops everything, loudly."""
        stopping = {"signal": None}

        def on_signal(signum, frame):
            stopping["signal"] = signum

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        restarts: list[float] = []
        while stopping["signal"] is None:
            for index, (name, process) in enumerate(children):
                if process.poll() is None:
                    continue
                restarts = [t for t in restarts if t > time.monotonic() - 60]
                if name.startswith("worker-") and len(restarts) < MAX_RESTARTS:
                    self.stderr.write(
                        f"{name} exited ({process.returncode}); restarting"
                    )
                    restarts.append(time.monotonic())
                    children[index] = (name, _spawn(process.args))
                    continue
                self.stderr.write(
                    f"{name} exited with code {process.returncode}; stopping all."
                )
                raise SystemExit(1)
            time.sleep(0.5)
        self.stdout.write("\nStopping…")


def _wait_for_ports(ports: list[int], children, timeout: float = 60.0) -> None:
    """Wait until every simulator accepts connections (or one of them dies)."""
    deadline = time.monotonic() + timeout
    waiting = set(ports)
    while waiting and time.monotonic() < deadline:
        for name, process in children:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with code {process.returncode}.")
        for port in list(waiting):
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.5),
            ):
                waiting.discard(port)
        if waiting:
            time.sleep(0.2)
    if waiting:
        raise SystemExit(
            f"Simulators not listening after {timeout:.0f}s: {sorted(waiting)}"
        )


def _spawn(command: list[str]) -> subprocess.Popen:
    # Each child leads its own process group, so stopping it stops its children
    # (gunicorn's workers, RQ's work-horses) too.
    return subprocess.Popen(command, start_new_session=True, env=os.environ.copy())


def _stop_all(children, timeout: float = 10.0) -> None:
    """Stop the clients first and Redis last, so workers shut down cleanly."""
    clients = [(n, p) for n, p in children if n != "redis"]
    servers = [(n, p) for n, p in children if n == "redis"]
    for group in (clients, servers):
        for _, process in group:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, process in group:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
