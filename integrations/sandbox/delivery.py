"""What the simulators' push senders share (Salesforce Outbound Messages and
callouts, Shopify and Xero webhooks).

Each queues work from its system's changes and delivers it on one background
thread, retrying with exponential backoff until the receiver takes it.
"""

from __future__ import annotations

import threading
import time


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


class RetryQueue(BackgroundSender):
    """One item at a time, each retried with backoff until a 2xx answer or
    ``max_attempts`` tries. Items carry ``event_id``, ``attempts``,
    ``next_attempt`` and ``statuses``; subclasses say how one is ``send``-t."""

    def __init__(
        self, *, retry_initial: float, retry_max: float, max_attempts: int
    ) -> None:
        super().__init__()
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.max_attempts = max_attempts
        self.pending: list = []
        self.delivered: list = []
        self.failed: list = []

    def send(self, item) -> int | None:
        """One try: the HTTP status, or None when unreachable."""
        raise NotImplementedError

    def redeliver(self) -> list[str]:
        """Send every delivered item again, unchanged (senders deliver at least
        once); returns the event ids sent again."""
        with self._condition:
            again, self.delivered = self.delivered, []
            for item in again:
                item.attempts, item.next_attempt = 0, 0.0
            self.pending.extend(again)
            self._condition.notify_all()
        return [item.event_id for item in again]

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            with self._condition:
                due = next((i for i in self.pending if i.next_attempt <= now), None)
                if due is None:
                    self._condition.wait(0.05 if self.pending else 1.0)
                    continue
            status = self.send(due)
            due.statuses.append(status)
            due.attempts += 1
            with self._condition:
                if status is not None and 200 <= status < 300:
                    self.pending.remove(due)
                    self.delivered.append(due)
                elif due.attempts >= self.max_attempts:
                    self.pending.remove(due)
                    self.failed.append(due)
                else:
                    delay = backoff(due.attempts, self.retry_initial, self.retry_max)
                    due.next_attempt = time.monotonic() + delay
