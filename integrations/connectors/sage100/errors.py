"""Sage 100 failures turned into the taxonomy: the only place that knows them."""

from __future__ import annotations

import re

from integrations.engine import errors

# Text the SQLite ODBC driver (the simulator) and the ProvideX driver use.
_LOCKED = ("database is locked", "record is locked", "file is locked", "busy")
_TIMEOUT = ("timeout", "timed out", "hyt00", "hyt01")
_READ_ONLY = ("readonly", "read only", "read-only")
# "[HY000] [SQLite]connect failed (14) (SQLDriverConnect)" → "connect failed"
_BRACKETS = re.compile(r"^(\s*\[[^\]]*\])+\s*")
_CALL_CODES = re.compile(r"(\s*\([^)]*\))+\s*$")


def _driver_words(text: str) -> str:
    """The driver's own sentence, without its state codes and API names."""
    return _CALL_CODES.sub("", _BRACKETS.sub("", text)).strip() or text


def from_odbc(exc: Exception, *, doing: str) -> errors.SyncError:
    """A pyodbc error while ``doing`` something (e.g. "reading AR_Customer")."""
    args = getattr(exc, "args", ())
    state = str(args[0]) if args else ""
    text = str(args[1]) if len(args) > 1 else str(exc)
    lowered = f"{state} {text}".lower()
    detail = f"{state} {text}".strip()[:2000]
    if state.startswith("28") or "password" in lowered or "invalid user" in lowered:
        return errors.AuthRevoked(
            f"Sage 100 refused the ODBC login while {doing} (the driver says: "
            f"{_driver_words(text)}). Check the user and password on the connection.",
            detail=detail,
        )
    if (
        state.startswith("IM00")
        or "can't open lib" in lowered
        or "data source name not found" in lowered
    ):
        return errors.ValidationFailed(
            f"The ODBC driver or DSN in settings.odbc is not installed on this "
            f"machine (the driver says: {_driver_words(text)}).",
            field="settings.odbc",
            detail=detail,
        )
    if any(word in lowered for word in _LOCKED):
        return errors.Unavailable(
            f"Sage 100 is busy (a file is locked) while {doing}; will retry.",
            retry_after=5,
            detail=detail,
        )
    if any(word in lowered for word in _TIMEOUT):
        return errors.Unavailable(
            f"Sage 100 did not answer in time while {doing}.", detail=detail
        )
    if any(word in lowered for word in _READ_ONLY):
        return errors.ValidationFailed(
            "The Sage 100 ODBC driver is read only: writes go through the agent.",
            detail=detail,
        )
    if (
        state.startswith("42")
        or "no such" in lowered
        or "syntax" in lowered
        or "one sql statement" in lowered
    ):
        # A query Sage cannot answer (unknown column, e.g. a UDF that was
        # removed): retrying will not help, an admin must fix the mapping.
        return errors.ValidationFailed(
            f"Sage 100 could not run the query while {doing}: {_driver_words(text)}.",
            detail=detail,
        )
    return errors.Unavailable(
        f"Cannot reach Sage 100 over ODBC while {doing} (the driver says: "
        f"{_driver_words(text)}).",
        detail=detail,
    )
