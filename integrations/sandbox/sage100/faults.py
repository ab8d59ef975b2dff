"""Fault switches for the simulated Sage 100 server (SAGE100-FACTS.md 7.8).

State lives in ``<root>/faults.json`` so the agent, the tests and the admin
command (separate processes) see the same switches. Faults are real, not
flags the reader politely checks:

* down / outage: the company files are renamed ``<name>.offline``, so a new
  ODBC connection cannot open them; the backend answers "unavailable".
* busy: an EXCLUSIVE SQLite lock on the files (journal mode DELETE), so ODBC
  readers wait for their Timeout and fail "database is locked".
* lock_record: a row in ``SIM_RecordLock``; BOI writes to it fail "in use".
* bulk_change: a row changed without touching its stamps, as Visual
  Integrator imports and batch price updates do.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from integrations.sandbox.sage100 import rules
from integrations.sandbox.sage100.database import CompanyDatabase, SimulatorError
from integrations.sandbox.sage100.schema import TABLES

OFFLINE = ".offline"
_DEFAULTS: dict[str, Any] = {
    "down": False,
    "down_until": None,
    "slow": 0.0,
    "skew": 0.0,
    "busy_until": None,
}


class Faults:
    """The fault switches of the simulated server rooted at ``root``."""

    def __init__(self, root: Path | str, company: str = "ABC") -> None:
        self.root = Path(root)
        self.company = company.upper()
        self.file = self.root / "faults.json"

    # -- state ---------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        try:
            stored = json.loads(self.file.read_text())
        except (FileNotFoundError, ValueError):
            stored = {}
        return {**_DEFAULTS, **stored}

    @contextmanager
    def _changing(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under a file lock; the file is replaced atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "faults.lock", "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            state = self.state()
            yield state
            temporary = self.file.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(state, indent=2))
            os.replace(temporary, self.file)

    # -- server down ---------------------------------------------------------
    def down(self) -> None:
        """Take the server down until ``up()``."""
        with self._changing() as state:
            state.update(down=True, down_until=None)
        self._rename(".db", ".db" + OFFLINE)

    def up(self) -> None:
        with self._changing() as state:
            state.update(down=False, down_until=None)
        self._rename(".db" + OFFLINE, ".db")

    def outage(self, seconds: float, *, now: float | None = None) -> None:
        """Down now, back by itself once ``seconds`` have passed."""
        self.down()
        with self._changing() as state:
            state["down_until"] = (time.time() if now is None else now) + seconds

    def refresh(self, now: float | None = None) -> dict[str, Any]:
        """End an outage that is due; every backend call starts here."""
        state = self.state()
        until = state["down_until"]
        due = until is not None and (time.time() if now is None else now) >= until
        if state["down"] and due:
            self.up()
            state = self.state()
        return state

    def is_down(self) -> bool:
        return bool(self.state()["down"])

    @property
    def database(self) -> Path:
        """The company's own file: other files beside it (another company, an
        agent's journal) are not part of this server's outage."""
        return CompanyDatabase(self.root, self.company).path

    def _rename(self, old_suffix: str, new_suffix: str) -> None:
        path = self.database.with_suffix(old_suffix)
        with contextlib.suppress(FileNotFoundError):  # another process won
            os.replace(path, self.database.with_suffix(new_suffix))

    # -- slowness and clock --------------------------------------------------
    def slow(self, seconds: float) -> None:
        """Every backend call takes ``seconds`` longer (0 turns it off)."""
        with self._changing() as state:
            state["slow"] = max(0.0, float(seconds))

    def clock_skew(self, seconds: float) -> None:
        """The Sage server's clock runs ``seconds`` ahead (negative: behind)."""
        with self._changing() as state:
            state["skew"] = float(seconds)

    # -- file locked ---------------------------------------------------------
    def busy(self, seconds: float | None = None) -> Busy:
        """Hold every company file EXCLUSIVE: ``with faults.busy(): ...``.

        ``Busy.start()`` holds it from a thread instead, released after
        ``seconds`` (or by ``release()``).
        """
        return Busy(self, seconds)

    # -- records -------------------------------------------------------------
    def lock_record(
        self, table: str, key: str | Sequence[str], user: str = "JANE"
    ) -> str:
        """Another Sage user opens the record; returns the stored key text."""
        text = self._key_text(table, key)
        with self._database().connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO SIM_RecordLock (TableName, RecordKey, LockedBy)"
                " VALUES (?, ?, ?)",
                (table, text, user.upper()),
            )
        return text

    def unlock_record(self, table: str, key: str | Sequence[str]) -> None:
        text = self._key_text(table, key)
        with self._database().connect() as db:
            db.execute(
                "DELETE FROM SIM_RecordLock WHERE TableName = ? AND RecordKey = ?",
                (table, text),
            )

    def locks(self) -> list[dict[str, str]]:
        if not self._database().exists():
            return []
        with self._database().connect() as db:
            rows = db.execute("SELECT * FROM SIM_RecordLock ORDER BY 1, 2")
            return [dict(row) for row in rows]

    def bulk_change(
        self, table: str, key: str | Sequence[str], values: dict[str, Any]
    ) -> None:
        """Change a row and leave its stamps alone (a Visual Integrator import)."""
        spec = self._table(table)
        parts = self._key_parts(spec.name, key)
        with self._database().connect() as db:
            columns = rules.columns_of(spec, self._database().udfs(db, spec.name))
            changes = {}
            for name, value in values.items():
                column = rules.resolve(columns, name)
                changes[column.name] = rules.normalise(column, value)
            if not changes:
                return
            assignments = ", ".join(f'"{c}" = ?' for c in changes)
            conditions = " AND ".join(f'"{k}" = ?' for k in spec.key)
            cursor = db.execute(
                f'UPDATE "{spec.name}" SET {assignments} WHERE {conditions}',
                (*changes.values(), *parts),
            )
            if cursor.rowcount != 1:
                raise SimulatorError(
                    f"{spec.name} has no record {rules.key_text(parts)}."
                )

    # -- all of it -----------------------------------------------------------
    def clear(self) -> None:
        """Every fault off: server up, no slowness, no skew, no record locks."""
        self.up()
        with self._changing() as state:
            state.clear()
            state.update(_DEFAULTS)
        if self._database().exists():
            with self._database().connect() as db:
                db.execute("DELETE FROM SIM_RecordLock")

    def status(self) -> dict[str, Any]:
        state = self.state()
        return {**state, "locks": [] if state["down"] else self.locks()}

    # -- helpers -------------------------------------------------------------
    def _database(self) -> CompanyDatabase:
        return CompanyDatabase(self.root, self.company)

    def _table(self, table: str):
        try:
            return TABLES[table]
        except KeyError:
            raise SimulatorError(f"There is no table {table} in Sage 100.") from None

    def _key_parts(self, table: str, key: str | Sequence[str]) -> list[str]:
        spec = self._table(table)
        parts = [key] if isinstance(key, str) else list(key)
        if len(parts) == 1 and len(spec.key) > 1:
            parts = parts[0].split("|")
        if len(parts) != len(spec.key):
            raise SimulatorError(
                f"{table}'s key has {len(spec.key)} parts "
                f"({', '.join(spec.key)}); got {len(parts)}."
            )
        return [
            rules.normalise(spec.column(name), part) or ""
            for name, part in zip(spec.key, parts, strict=True)
        ]

    def _key_text(self, table: str, key: str | Sequence[str]) -> str:
        return rules.key_text(self._key_parts(table, key))


class Busy:
    """An EXCLUSIVE lock on every company file of a simulated server."""

    def __init__(self, faults: Faults, seconds: float | None) -> None:
        self.faults = faults
        self.seconds = seconds
        self._connections: list[sqlite3.Connection] = []
        self._released = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    def acquire(self) -> Busy:
        for path in [self.faults.database]:
            connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=30
            )
            connection.execute("BEGIN EXCLUSIVE")
            self._connections.append(connection)
        until = time.time() + self.seconds if self.seconds else None
        with self.faults._changing() as state:
            state["busy_until"] = until or "held"
        return self

    def release(self) -> None:
        self._released.set()
        with self._guard:
            if not self._connections:
                return
            while self._connections:
                connection = self._connections.pop()
                connection.execute("ROLLBACK")
                connection.close()
        with self.faults._changing() as state:
            state["busy_until"] = None

    def start(self) -> Busy:
        """Hold the lock from a daemon thread for ``seconds``."""
        self.acquire()
        self._thread = threading.Thread(target=self._hold, daemon=True)
        self._thread.start()
        return self

    def wait(self) -> None:
        """Until a started hold ends."""
        if self._thread is not None:
            self._thread.join()

    def _hold(self) -> None:
        self._released.wait(self.seconds)
        self.release()

    def __enter__(self) -> Busy:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
