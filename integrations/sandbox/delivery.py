"""What the simulators' push senders share (Salesforce Outbound Messages and
callouts, Shopify and Xero webhooks).

Each queues work from its system's changes and delivers it on one background
thread, retrying with exponential backoff until the receiver takes it.
"""

from __future__ import annotations

import threading


def backoff(attempts: int, initial: float, maximum: float) -> float:
    """Seconds to wait after ``attempts`` failed tries: doubling, capped."""
    return min(initial * 2 ** (attempts - 1), maximum)


class BackgroundSender:
    """A sender's delivery thread: ``_run`` loops until ``stop``; ``_condition``
    guards the queue and wakes the thread when work arrives."""

    thread_name = "sender"

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=self.thread_name, daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._condition:
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError
