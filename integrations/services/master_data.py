"""The field-level merge of two-way master data: pure functions, no I/O.

Given, per field, the value each side held after the last sync (the snapshot),
the value each side holds now, and who owns the field, ``merge`` says what to
write to each side, or which fields need a person:

* only one side changed a field → the change goes to the other side (unless
  the other side owns it outright: ``sage100_only`` / ``xero_only`` undo it);
* both changed it (or the pair is new) and the values differ → the field's
  owner: ``sage100`` or ``xero`` wins, ``newest`` takes the later change,
  ``ask`` makes a ``Conflict`` that shows both values;
* both hold the same value (compared in Sage 100's form, so Sage's shorter
  columns and standardised addresses do not count as a difference) → nothing.

Values are each side's own form (JSON-safe: text, decimal text, dicts). A
``Field`` knows how to turn one side's value into the other's and whether two
values are the same; ``master_data_fields`` defines the fields of customers,
vendors and items. ``fingerprint`` makes the echo check possible: a side whose
current values hash to what we last wrote there is only showing us our write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SAGE100, XERO, NEWEST, ASK = "sage100", "xero", "newest", "ask"
SAGE100_ONLY, XERO_ONLY = "sage100_only", "xero_only"
OWNERS = frozenset({SAGE100, XERO, NEWEST, ASK, SAGE100_ONLY, XERO_ONLY})
SIDE_NAMES = {SAGE100: "Sage 100", XERO: "Xero"}
_MISSING: Any = object()


def _same_value(sage: Any, xero_as_sage: Any) -> bool:
    return sage == xero_as_sage


@dataclass(frozen=True)
class Field:
    """One synchronised field: its name, words for people, and its conversions.

    ``to_sage(xero_value)`` / ``to_xero(sage_value)`` convert a value into the
    other side's form; ``same(sage_value, xero_value)`` says whether the two
    sides agree (by default: the Xero value in Sage's form equals Sage's).
    """

    name: str
    label: str
    default_owner: str = SAGE100
    to_sage: Callable[[Any], Any] = lambda value: value
    to_xero: Callable[[Any], Any] = lambda value: value
    same: Callable[[Any, Any], bool] | None = None

    def agree(self, sage: Any, xero: Any) -> bool:
        if self.same is not None:
            return self.same(sage, xero)
        return _same_value(sage, self.to_sage(xero))


@dataclass(frozen=True)
class Conflict:
    """A field both sides changed differently, waiting for a person."""

    field: str
    label: str
    sage: Any
    xero: Any
    sage_before: Any = None
    xero_before: Any = None
    reason: str = ""

    def words(self) -> str:
        before = ""
        if self.sage_before is not None and self.sage_before == self.xero_before:
            before = f" (both had {show(self.sage_before)} at the last sync)"
        reason = f" {self.reason}" if self.reason else ""
        return (
            f"Both Sage 100 and Xero changed the {self.label} since the last sync"
            f"{before}: Sage 100 has {show(self.sage)}, Xero has "
            f"{show(self.xero)}.{reason}"
        )

    def as_json(self) -> dict:
        return {"label": self.label, "sage": self.sage, "xero": self.xero}


@dataclass
class Merge:
    """What to write to each side (in that side's form), and what is unsettled."""

    to_sage: dict[str, Any] = field(default_factory=dict)
    to_xero: dict[str, Any] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    # field → the side whose value was kept, for the record's story
    decisions: dict[str, str] = field(default_factory=dict)

    @property
    def writes_nothing(self) -> bool:
        return not self.to_sage and not self.to_xero

    def explain(self) -> str:
        """Every conflict in plain words, one sentence each."""
        return " ".join(conflict.words() for conflict in self.conflicts)


def merge(
    fields: Iterable[Field],
    *,
    sage_now: Mapping[str, Any],
    xero_now: Mapping[str, Any],
    sage_before: Mapping[str, Any] | None,
    xero_before: Mapping[str, Any] | None,
    owners: Mapping[str, str] | None = None,
    sage_changed_at: datetime | None = None,
    xero_changed_at: datetime | None = None,
) -> Merge:
    """Decide, field by field, what each side must be told.

    ``sage_before`` / ``xero_before`` are the snapshot (``None``: a new pair,
    nothing agreed yet, so every difference is settled by the owner, except a
    blank side, which simply takes the other's value). ``owners`` overrides
    the fields' defaults. ``*_changed_at`` are the records' last-modified
    times, for ``newest``.
    """
    owners = owners or {}
    first_sync = sage_before is None and xero_before is None
    sage_before = sage_before or {}
    xero_before = xero_before or {}
    result = Merge()
    for spec in fields:
        name = spec.name
        owner = owners.get(name) or spec.default_owner
        if owner not in OWNERS:
            raise ValueError(f"{owner!r} is not a field owner ({', '.join(OWNERS)})")
        sage, xero = sage_now.get(name), xero_now.get(name)
        if spec.agree(sage, xero):
            continue
        was_sage = sage_before.get(name, _MISSING)
        was_xero = xero_before.get(name, _MISSING)
        sage_changed = was_sage is _MISSING or sage != was_sage
        xero_changed = was_xero is _MISSING or xero != was_xero
        if not sage_changed and not xero_changed:
            # The two differed already after the last sync (a side's own
            # default or form): nobody changed anything since.
            continue
        if first_sync and (is_blank(sage) or is_blank(xero)):
            # A new pair: a side without the value takes the other's.
            winner = XERO if is_blank(sage) else SAGE100
        elif sage_changed and not xero_changed:
            winner = XERO if owner == XERO_ONLY else SAGE100
        elif xero_changed and not sage_changed:
            winner = SAGE100 if owner == SAGE100_ONLY else XERO
        else:
            winner = _settle(owner, sage_changed_at, xero_changed_at)
        if winner is None:
            result.conflicts.append(
                Conflict(
                    field=name,
                    label=spec.label,
                    sage=sage,
                    xero=xero,
                    sage_before=None if was_sage is _MISSING else was_sage,
                    xero_before=None if was_xero is _MISSING else was_xero,
                    reason=_unsettled_reason(owner),
                )
            )
            continue
        result.decisions[name] = winner
        if winner == SAGE100:
            result.to_xero[name] = spec.to_xero(sage)
        else:
            result.to_sage[name] = spec.to_sage(xero)
    return result


def _settle(owner: str, sage_at: datetime | None, xero_at: datetime | None):
    """The side whose value wins a two-sided change; None: a person decides."""
    if owner in (SAGE100, SAGE100_ONLY):
        return SAGE100
    if owner in (XERO, XERO_ONLY):
        return XERO
    if owner == NEWEST and None not in (sage_at, xero_at) and sage_at != xero_at:
        return SAGE100 if sage_at > xero_at else XERO
    return None


def _unsettled_reason(owner: str) -> str:
    if owner == NEWEST:
        return (
            "Both changes carry the same time (or one carries none), so neither is "
            "the later one."
        )
    return ""


def is_blank(value: Any) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, dict):
        return all(is_blank(part) for part in value.values())
    return False


def show(value: Any) -> str:
    """A value as finance staff read it: quoted text, an address on one line."""
    if is_blank(value):
        return "nothing"
    if isinstance(value, dict):
        return '"' + ", ".join(str(v) for v in value.values() if not is_blank(v)) + '"'
    return f'"{value}"'


def fingerprint(values: Mapping[str, Any]) -> str:
    """A hash of a side's values, the same for the same values in any order."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def is_echo(values: Mapping[str, Any], written_hash: str) -> bool:
    """True when a side holds exactly what we last wrote to it: the change we
    are told about is our own write coming back, not a person's edit."""
    return bool(written_hash) and fingerprint(values) == written_hash
