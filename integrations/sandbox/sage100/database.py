"""The simulated Sage 100 company database: one SQLite file per company.

Only the simulator (its business objects, its seed and its admin command) opens
the file with sqlite3. The connector reaches it the way it reaches a real Sage
100 server: through unixODBC and the SQLite ODBC driver, with a connection string
the simulator publishes, opened read-only like the ProvideX driver.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from integrations.sandbox.sage100.schema import (
    DATE,
    NUMBER,
    STRING,
    TABLES,
    UDF_PREFIX,
    YES_NO,
    Column,
)

ODBC_DRIVER = "SQLite3"  # Debian's libsqliteodbc, registered by odbcinst
# The simulator's own bookkeeping, outside Sage's table namespace.
SIM_TABLES = """
CREATE TABLE IF NOT EXISTS SIM_UDF (
    TableName VARCHAR(40) NOT NULL, ColumnName VARCHAR(40) NOT NULL,
    Kind VARCHAR(10) NOT NULL, Length INTEGER NOT NULL, Choices VARCHAR(500),
    PRIMARY KEY (TableName, ColumnName));
CREATE TABLE IF NOT EXISTS SIM_RecordLock (
    TableName VARCHAR(40) NOT NULL, RecordKey VARCHAR(80) NOT NULL,
    LockedBy VARCHAR(30) NOT NULL, PRIMARY KEY (TableName, RecordKey));
CREATE TABLE IF NOT EXISTS SIM_User (
    UserLogon VARCHAR(30) NOT NULL PRIMARY KEY, UserKey VARCHAR(10) NOT NULL UNIQUE);
"""
_UDF_NAME = re.compile(r"^UDF_[A-Z][A-Z0-9_]{0,26}$")


class SimulatorError(Exception):
    """A simulator administration mistake (not a business-object rule)."""


class CompanyDatabase:
    """Where a simulated company lives on disk, and how to open it."""

    def __init__(self, root: Path | str, company: str = "ABC") -> None:
        self.root = Path(root)
        self.company = company.upper()
        self.path = self.root / f"{self.company}.db"

    # -- the connector's view ------------------------------------------------
    def odbc_settings(self, *, timeout_ms: int = 5000) -> dict[str, str]:
        """The Connection settings (``odbc`` keys) that reach this company.

        ``mode=ro`` is the simulated driver's read-only nature: the driver's own
        ``ReadOnly`` option does not stop writes, the URI mode does.
        """
        return {
            "Driver": ODBC_DRIVER,
            "Database": f"file:{self.path}?mode=ro",
            "Timeout": str(timeout_ms),
        }

    # -- the simulator's own access ------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def connect(self, *, timeout: float = 30) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on error.

        Opened ``mode=rw`` so a company that is offline (its file renamed by
        the "server down" fault) fails to open instead of coming back empty.
        """
        connection = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode=rw",
            uri=True,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.row_factory = sqlite3.Row
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # BEGIN itself may have failed (busy)
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def create(self, *, company_name: str = "ABC Distribution and Service Corp."):
        """Create the company's tables (idempotent) with empty counters."""
        self.root.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            # Rollback journal, not WAL: a whole-file lock (the "busy" fault)
            # then holds readers up the way a locked ProvideX file does.
            connection.execute("PRAGMA journal_mode=DELETE")
            connection.executescript(SIM_TABLES)
            connection.execute("BEGIN")  # one commit, not one fsync per table
            for table in TABLES.values():
                columns = ", ".join(f'"{c.name}" {c.sql_type}' for c in table.columns)
                key = ", ".join(f'"{k}"' for k in table.key)
                connection.execute(
                    f'CREATE TABLE IF NOT EXISTS "{table.name}" '
                    f"({columns}, PRIMARY KEY ({key}))"
                )
                for index, columns_ in table.indexes.items():
                    cols = ", ".join(f'"{c}"' for c in columns_)
                    connection.execute(
                        f'CREATE INDEX IF NOT EXISTS "{table.name}_{index}" '
                        f'ON "{table.name}" ({cols})'
                    )
                if table.stamped:
                    connection.execute(
                        f'CREATE INDEX IF NOT EXISTS "{table.name}_KUPDATED" '
                        f'ON "{table.name}" ("DateUpdated", "TimeUpdated")'
                    )
            connection.execute(
                "INSERT OR IGNORE INTO SY_Company (CompanyCode, CompanyName) "
                "VALUES (?, ?)",
                (self.company, company_name),
            )
            for table, values in (
                ("AR_Options", ("A/R", "", "N")),
                ("SO_Options", ("S/O", "0000001", "0000001", "Y", "Y")),
                ("PO_Options", ("P/O", "0000001")),
            ):
                marks = ", ".join("?" * len(values))
                columns = ", ".join(TABLES[table].column_names[: len(values)])
                connection.execute(
                    f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})",
                    values,
                )
            connection.execute("COMMIT")
        finally:
            connection.close()

    def add_udf(
        self,
        table: str,
        name: str,
        *,
        kind: str = STRING,
        length: int = 30,
        choices: tuple[str, ...] = (),
    ) -> Column:
        """Add a ``UDF_...`` column to a table, as Custom Office does."""
        if table not in TABLES:
            raise SimulatorError(f"There is no table {table} in Sage 100.")
        name = name.upper()
        if not name.startswith(UDF_PREFIX):
            name = UDF_PREFIX + name
        if not _UDF_NAME.match(name):
            raise SimulatorError(
                f"{name} is not a valid UDF name: letters, digits and underscores, "
                "at most 30 characters."
            )
        if kind not in (STRING, NUMBER, DATE, YES_NO):
            raise SimulatorError(f"Unknown UDF type {kind!r}.")
        column = Column(name, kind, length if kind == STRING else 12, choices=choices)
        with self.connect() as db:
            existing = {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}
            if name in existing:
                raise SimulatorError(f"{table} already has a column {name}.")
            db.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {column.sql_type}')
            db.execute(
                "INSERT INTO SIM_UDF (TableName, ColumnName, Kind, Length, Choices) "
                "VALUES (?, ?, ?, ?, ?)",
                (table, name, kind, column.length, ",".join(choices)),
            )
        return column

    def udfs(self, db: sqlite3.Connection, table: str) -> list[Column]:
        rows = db.execute(
            "SELECT ColumnName, Kind, Length, Choices FROM SIM_UDF WHERE TableName = ?",
            (table,),
        )
        return [
            Column(
                r[0],
                r[1],
                r[2],
                choices=tuple(c for c in (r[3] or "").split(",") if c),
            )
            for r in rows
        ]


def decimal_hours(moment: datetime) -> str:
    """Sage's ``TimeUpdated``: the time of day in hours, five decimals."""
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    return f"{seconds / 3600:.5f}"


def server_now(skew_seconds: float = 0) -> datetime:
    """The Sage server's clock: local time, no zone, optionally skewed."""
    return datetime.now() + timedelta(seconds=skew_seconds)
