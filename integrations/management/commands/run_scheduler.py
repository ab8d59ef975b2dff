"""Run the scheduler loop: due polls and the sweeper, every few seconds."""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from integrations.engine import schedules


class Command(BaseCommand):
    help = "Start due polls and the sweeper on their schedules until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--once", action="store_true", help="One tick, then exit.")

    def handle(self, *args, interval: float, once: bool, **options):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"scheduler: ticking every {interval:g} s")
        while not stop.is_set():
            close_old_connections()
            try:
                started = schedules.tick()
                if started["polls"]:
                    self.stdout.write(f"scheduler: started {started['polls']} poll(s)")
            except Exception as exc:  # noqa: BLE001 - keep ticking; say why
                self.stderr.write(f"scheduler: tick failed: {exc}")
            if once:
                break
            stop.wait(interval)
