"""The agent's own idempotency journal: one row per idempotency key.

The hub retries a write whenever it is not sure it happened (a timeout, a
worker killed mid-call), always with the record's idempotency key. The journal
turns those retries into one Sage 100 write: ``done`` keys answer with the
stored result, and a ``pending`` key (the agent stopped between the BOI write
and the journal update) is resolved by looking the record up in Sage first.

It is a SQLite file on the agent's host; the agent is not the connector, and
the standard library's sqlite3 keeps the install to Python alone.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PENDING, DONE, FAILED = "pending", "done", "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agent_journal (
    idempotency_key TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    result TEXT,   -- WriteResult.as_json() once done
    error TEXT,    -- the business object's message when failed
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Pruning old keys scans by age.
CREATE INDEX IF NOT EXISTS agent_journal_updated ON agent_journal (updated_at);
"""


class IdempotencyConflict(Exception):
    """The key was already used for a different request."""

    def __init__(self, key: str, operation: str) -> None:
        super().__init__(
            f"The idempotency key {key!r} was already used for a different "
            f"request ({operation}); use a new key for a new request."
        )
        self.key = key


@dataclass(frozen=True)
class Entry:
    key: str
    operation: str
    digest: str
    status: str
    result: dict[str, Any] | None
    # What the key held before this call: None (new), failed, pending or done.
    previous: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Journal:
    """Thread-safe: one connection, one lock, one short transaction per call."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.row_factory = sqlite3.Row
        # FULL: a "done" row must survive a power cut, or a retry writes twice.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def begin(self, key: str, operation: str, digest: str) -> Entry:
        """Claim ``key`` for this request, or say what it already holds.

        A new or ``failed`` key becomes ``pending`` for this request (a failed
        write left nothing in Sage, so a corrected request may reuse the key).
        A ``pending`` or ``done`` key for a different request is a conflict.
        """
        with self._lock, self._transaction():
            row = self._db.execute(
                "SELECT * FROM agent_journal WHERE idempotency_key = ?", (key,)
            ).fetchone()
            now = _now()
            if row is None:
                self._db.execute(
                    "INSERT INTO agent_journal (idempotency_key, operation, "
                    "request_digest, status, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (key, operation, digest, PENDING, now, now),
                )
                return Entry(key, operation, digest, PENDING, None, None)
            if row["status"] == FAILED:
                self._db.execute(
                    "UPDATE agent_journal SET operation = ?, request_digest = ?, "
                    "status = ?, result = NULL, error = NULL, updated_at = ? "
                    "WHERE idempotency_key = ?",
                    (operation, digest, PENDING, now, key),
                )
                return Entry(key, operation, digest, PENDING, None, FAILED)
            if (row["operation"], row["request_digest"]) != (operation, digest):
                raise IdempotencyConflict(key, row["operation"])
            result = json.loads(row["result"]) if row["result"] else None
            return Entry(key, operation, digest, row["status"], result, row["status"])

    def finish(self, key: str, result: dict[str, Any]) -> None:
        self._set(key, DONE, result=json.dumps(result, default=str))

    def fail(self, key: str, error: str) -> None:
        """Only for a write that left nothing in Sage (the BOI refused it)."""
        self._set(key, FAILED, error=error[:2000])

    def get(self, key: str) -> Entry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM agent_journal WHERE idempotency_key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        result = json.loads(row["result"]) if row["result"] else None
        return Entry(
            key,
            row["operation"],
            row["request_digest"],
            row["status"],
            result,
            row["status"],
        )

    def prune(self, *, older_than_days: int = 90) -> int:
        """Forget finished keys nobody will retry any more; keep pending ones."""
        cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat()
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM agent_journal WHERE status != ? AND updated_at < ?",
                (PENDING, cutoff),
            )
        return cursor.rowcount

    def _set(self, key: str, status: str, *, result=None, error=None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE agent_journal SET status = ?, result = ?, error = ?, "
                "updated_at = ? WHERE idempotency_key = ?",
                (status, result, error, _now(), key),
            )

    def _transaction(self):
        return _Immediate(self._db)


class _Immediate:
    """BEGIN IMMEDIATE … COMMIT, rolled back on an exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
