"""The read side: pyodbc against a DSN-less connection string.

In production the string reaches the ProvideX "SOTAMAS90" driver; in the demo
and tests it reaches the Sage 100 simulator through unixODBC and the SQLite
ODBC driver. Either way only parametrised SELECTs go through here, and values
are converted to Python types at this boundary: DECIMAL text → ``Decimal``,
strings trimmed (ProvideX returns them trimmed; others pad CHAR columns).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyodbc

from integrations.connectors.sage100 import errors

# ProvideX connection-string keys, in the order Sage's own examples use.
PROVIDEX_KEYS = (
    "Driver", "DSN", "UID", "PWD", "Company", "Directory", "Prefix", "ViewDLL",
    "LogFile", "CacheSize", "DirtyReads", "BurstMode", "StripTrailingSpaces",
    "SERVER",
)  # fmt: skip
_NEEDS_BRACES = re.compile(r"[;{}=\s]")
_NUMERIC_TYPE = re.compile(r"^(decimal|numeric|number|money)", re.I)


def _quote(value: str) -> str:
    """ODBC: a value with separators is wrapped in braces, ``}`` doubled."""
    value = str(value)
    if _NEEDS_BRACES.search(value) and not value.startswith("file:"):
        return "{" + value.replace("}", "}}") + "}"
    return value


def connection_string(odbc: dict[str, Any], password: str = "") -> str:
    """Build the string from the Connection's ``odbc`` settings and its secret.

    Every key is passed through, so a site-specific ProvideX option needs no
    code; the password never lives in settings, only in the credentials.
    """
    parts = dict(odbc)
    if password:
        parts["PWD"] = password
    if not parts.get("Driver") and not parts.get("DSN"):
        parts["DSN"] = "SOTAMAS90"
    order = {k.lower(): i for i, k in enumerate(PROVIDEX_KEYS)}
    keys = sorted(parts, key=lambda k: (order.get(k.lower(), len(order)), k))
    return ";".join(f"{k}={_quote(parts[k])}" for k in keys if parts[k] != "")


@dataclass
class ColumnInfo:
    name: str
    type_name: str
    size: int | None

    @property
    def numeric(self) -> bool:
        return bool(_NUMERIC_TYPE.match(self.type_name or ""))


@dataclass
class OdbcReader:
    """Runs SELECTs; knows each table's columns to convert values correctly."""

    conn_str: str
    timeout: int = 30
    _columns: dict[str, dict[str, ColumnInfo]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def _cursor(self, doing: str) -> Iterator[pyodbc.Cursor]:
        try:
            connection = pyodbc.connect(
                self.conn_str, autocommit=True, timeout=self.timeout
            )
        except pyodbc.Error as exc:
            raise errors.from_odbc(exc, doing=doing) from exc
        try:
            connection.timeout = self.timeout
            yield connection.cursor()
        except pyodbc.Error as exc:
            raise errors.from_odbc(exc, doing=doing) from exc
        finally:
            connection.close()

    def columns(self, table: str, *, refresh: bool = False) -> dict[str, ColumnInfo]:
        """The table's live columns (UDFs included), from the driver's catalog."""
        with self._lock:
            cached = self._columns.get(table)
        if cached is not None and not refresh:
            return cached
        with self._cursor(f"reading the columns of {table}") as cursor:
            found = {
                row.column_name: ColumnInfo(
                    row.column_name, row.type_name, row.column_size
                )
                for row in cursor.columns(table=table)
            }
        if not found:
            from integrations.engine.errors import ValidationFailed

            raise ValidationFailed(f"Sage 100 has no table {table}.", field=table)
        with self._lock:
            self._columns[table] = found
        return found

    def select(
        self, table: str, sql: str, params: Sequence[Any] = ()
    ) -> list[dict[str, Any]]:
        """Run ``sql`` (a SELECT on ``table``) and return converted rows."""
        if not sql.lstrip().upper().startswith("SELECT"):
            raise ValueError("The Sage 100 reader only runs SELECT statements.")
        info = self.columns(table)
        with self._cursor(f"reading {table}") as cursor:
            cursor.execute(sql, *params) if params else cursor.execute(sql)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        return [_convert(names, row, info) for row in rows]

    def ping(self) -> None:
        with self._cursor("connecting") as cursor:
            cursor.execute("SELECT CompanyCode FROM SY_Company")
            cursor.fetchall()


def _convert(names, row, info: dict[str, ColumnInfo]) -> dict[str, Any]:
    out = {}
    for name, value in zip(names, row, strict=True):
        column = info.get(name)
        if isinstance(value, str):
            value = value.strip()
            if column is not None and column.numeric:
                value = _decimal(value)
        elif isinstance(value, float):
            value = Decimal(repr(value))
        out[name] = value
    return out


def _decimal(text: str) -> Decimal | None:
    if text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
