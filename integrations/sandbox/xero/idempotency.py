"""``Idempotency-Key`` as the simulated Xero honours it.

The contract says only: optional on PUT/POST/PATCH, 128 characters at most,
"safely retry requests without the risk of duplicate processing"
(API-FACTS §1.3; how long keys live and what a reused key with a different
request does are unverified). The rule chosen here:

- Keys are per organisation (tenant) and kept 24 hours from first use.
- Same key, same request (method, path, query and JSON body, compared after
  parsing so spacing and key order do not matter): the stored answer (status
  and body) is replayed and nothing runs again.
- Same key, a different request: 400, a Xero-shaped ValidationException
  naming the key.
- A key longer than 128 characters: 400.
- A second request with a key whose first request is still running waits
  for that answer (up to 30 s) and replays it, so two racing retries create
  one document.
- Answers with status 5xx are not kept: the retry runs again.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from integrations.sandbox.xero.http import AccountingResponse

MAX_KEY_LENGTH = 128
KEEP_SECONDS = 24 * 3600.0
WAIT_SECONDS = 30.0


def validation_exception(message: str) -> dict:
    """Xero's 400 body for a request it refuses as a whole."""
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": message}]}],
    }


def fingerprint(method: str, path: str, query: dict[str, str], body: Any) -> str:
    canonical = json.dumps(
        [method.upper(), path.lower(), sorted(query.items()), body],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class _Entry:
    fingerprint: str
    created: float
    response: AccountingResponse | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class Outcome:
    """What to do with a request carrying a key: ``replay`` a stored answer,
    ``refuse`` with a 400, or run it (both None) and ``store`` the answer."""

    replay: AccountingResponse | None = None
    refuse: AccountingResponse | None = None
    entry: _Entry | None = None


class IdempotencyStore:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        keep_seconds: float = KEEP_SECONDS,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self.clock = clock
        self.keep_seconds = keep_seconds
        self.wait_seconds = wait_seconds
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()
        self.replays = 0

    def begin(self, tenant: str, key: str, request_fingerprint: str) -> Outcome:
        """Look ``key`` up for ``tenant``; claim it when it is new."""
        if len(key) > MAX_KEY_LENGTH:
            return Outcome(
                refuse=AccountingResponse(
                    400,
                    validation_exception(
                        f"Idempotency-Key must be at most {MAX_KEY_LENGTH} "
                        f"characters; this one has {len(key)}."
                    ),
                )
            )
        now = self.clock()
        with self._lock:
            self._forget_old(now)
            entry = self._entries.get((tenant, key))
            if entry is None:
                entry = _Entry(request_fingerprint, now)
                self._entries[(tenant, key)] = entry
                return Outcome(entry=entry)
        if entry.fingerprint != request_fingerprint:
            return Outcome(
                refuse=AccountingResponse(
                    400,
                    validation_exception(
                        f"Idempotency-Key '{key}' was already used with a different "
                        "request; use a new key for a new request."
                    ),
                )
            )
        if not entry.done.wait(self.wait_seconds):
            return Outcome(
                refuse=AccountingResponse(
                    400,
                    validation_exception(
                        f"A request with Idempotency-Key '{key}' is still being "
                        "processed; retry later."
                    ),
                )
            )
        if entry.response is None:
            # The first request failed with a 5xx (not kept): run this one.
            return self.begin(tenant, key, request_fingerprint)
        with self._lock:
            self.replays += 1
        stored = entry.response
        return Outcome(
            replay=AccountingResponse(stored.status, stored.body, dict(stored.headers))
        )

    def finish(
        self, tenant: str, key: str, entry: _Entry, response: AccountingResponse
    ) -> None:
        """Keep ``response`` for replays (5xx answers are dropped)."""
        with self._lock:
            if response.status >= 500:
                if self._entries.get((tenant, key)) is entry:
                    del self._entries[(tenant, key)]
            else:
                entry.response = response
        entry.done.set()

    def _forget_old(self, now: float) -> None:
        for index, entry in list(self._entries.items()):
            if entry.created <= now - self.keep_seconds and entry.done.is_set():
                del self._entries[index]
