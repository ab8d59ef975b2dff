"""Versions of a flow: its settings and its mapping set, as history recorded them.

django-simple-history keeps a row for every save of a FlowConfig and of each
FieldMapping. A *version* is one change as a person made it: the rows one user
wrote within a moment (the admin saves a flow and its mappings together). A
version can be compared with another, in plain words, and rolled back to,
which restores the settings and the mapping rows and is itself a new version
naming who did it and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from integrations.models import (
    Connection,
    FieldMapping,
    FlowConfig,
    Transform,
    Trigger,
)

# History rows one user writes this close together are one change.
SAME_CHANGE = timedelta(seconds=2)

CONFIG_FIELDS = (
    "name",
    "flow",
    "source_connection_id",
    "target_connection_id",
    "enabled",
    "trigger",
    "schedule",
    "max_attempts",
    "options",
)
MAPPING_FIELDS = (
    "position",
    "source_field",
    "target_field",
    "transform",
    "transform_args",
    "default",
    "required",
    "enabled",
)
LABELS = {
    "name": "Name",
    "flow": "Flow",
    "source_connection_id": "Source connection",
    "target_connection_id": "Target connection",
    "enabled": "Switched on",
    "trigger": "Trigger",
    "schedule": "Schedule",
    "max_attempts": "Attempts before it needs attention",
    "position": "position",
    "source_field": "source field",
    "target_field": "target field",
    "transform": "transform",
    "transform_args": "transform arguments",
    "default": "default",
    "required": "required",
}


@dataclass(frozen=True)
class Version:
    number: int
    at: datetime
    user: str
    reason: str
    changes: tuple[str, ...] = ()


@dataclass
class Snapshot:
    config: dict
    mappings: dict[int, dict] = field(default_factory=dict)


class RollbackRefused(Exception):
    """Why a rollback cannot be done, in plain words."""


def _events(flow_config: FlowConfig) -> list:
    """Every history row of the flow and its mappings, oldest first: two
    queries, however long the history."""
    rows = [
        *FlowConfig.history.filter(id=flow_config.pk).select_related("history_user"),
        *FieldMapping.history.filter(flow_config_id=flow_config.pk).select_related(
            "history_user"
        ),
    ]
    return sorted(rows, key=lambda row: (row.history_date, row.history_id))


def _groups(events: list) -> list[list]:
    groups: list[list] = []
    for row in events:
        current = groups[-1] if groups else None
        if (
            current
            and row.history_user_id == current[0].history_user_id
            and row.history_date - current[0].history_date <= SAME_CHANGE
        ):
            current.append(row)
        else:
            groups.append([row])
    return groups


def _folded(flow_config: FlowConfig) -> Iterator[tuple[list, Snapshot]]:
    """Each version's rows and the settings and mappings as they stood at its
    last row, folded over the history read once (no query per version)."""
    events = _events(flow_config)
    config_row = None
    latest: dict[int, Any] = {}
    applied = 0
    for group in _groups(events):
        at = group[-1].history_date
        while applied < len(events) and events[applied].history_date <= at:
            row = events[applied]
            if isinstance(row, FlowConfig.history.model):
                config_row = row
            else:
                latest[row.id] = row
            applied += 1
        yield group, _snapshot_of(config_row, latest)


def _snapshot_of(config_row, latest: dict[int, Any]) -> Snapshot:
    config = (
        {name: getattr(config_row, name) for name in CONFIG_FIELDS}
        if config_row is not None and config_row.history_type != "-"
        else {}
    )
    mappings = {
        pk: {name: getattr(row, name) for name in MAPPING_FIELDS}
        for pk, row in latest.items()
        if row.history_type != "-"
    }
    return Snapshot(config=config, mappings=mappings)


def versions(flow_config: FlowConfig, *, limit: int | None = None) -> list[Version]:
    """The versions, newest first (the ``limit`` newest when given), each with
    what changed since the one before."""
    folded = list(_folded(flow_config))
    first = 0 if limit is None else max(0, len(folded) - limit)
    found = []
    for index in range(first, len(folded)):
        group, current = folded[index]
        number = index + 1
        user = next((r.history_user for r in group if r.history_user), None)
        reason = next(
            (r.history_change_reason for r in group if r.history_change_reason), ""
        )
        changes = (
            ("Created.",)
            if number == 1
            else tuple(describe(folded[index - 1][1], current))
        )
        found.append(
            Version(
                number,
                group[-1].history_date,
                user.get_username() if user else "",
                reason,
                changes,
            )
        )
    return list(reversed(found))


def _snapshots(flow_config: FlowConfig, *numbers: int) -> list[Snapshot]:
    every = [found for _, found in _folded(flow_config)]
    for number in numbers:
        if not 1 <= number <= len(every):
            raise LookupError(f"Flow {flow_config} has no version {number}.")
    return [every[number - 1] for number in numbers]


def snapshot(flow_config: FlowConfig, number: int) -> Snapshot:
    """The flow's settings and mapping rows as they were at version ``number``."""
    return _snapshots(flow_config, number)[0]


def compare(flow_config: FlowConfig, older: int, newer: int) -> list[str]:
    """What changed from version ``older`` to version ``newer``, in plain words."""
    return describe(*_snapshots(flow_config, older, newer))


def describe(before: Snapshot, after: Snapshot) -> list[str]:
    changes = []
    for name in CONFIG_FIELDS:
        old, new = before.config.get(name), after.config.get(name)
        if name == "options":
            changes.extend(_options(old or {}, new or {}))
        elif old != new:
            changes.append(
                f"{LABELS[name]}: {_shown(name, old)} → {_shown(name, new)}."
            )
    for pk in sorted(set(before.mappings) | set(after.mappings)):
        old, new = before.mappings.get(pk), after.mappings.get(pk)
        if old is None:
            changes.append(f"Mapping added: {_mapping(new)}.")
        elif new is None:
            changes.append(f"Mapping removed: {_mapping(old)}.")
        else:
            changed = [
                f"{LABELS.get(name, name)} {_field(name, old[name])} → "
                f"{_field(name, new[name])}"
                for name in MAPPING_FIELDS
                if old[name] != new[name]
            ]
            if changed:
                changes.append(f"Mapping {_mapping(old)}: {'; '.join(changed)}.")
    return changes


def _options(old: dict, new: dict) -> list[str]:
    changes = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            changes.append(f"Option {key} removed (was {_value(old[key])}).")
        elif key not in old:
            changes.append(f"Option {key} added: {_value(new[key])}.")
        elif old[key] != new[key]:
            changes.append(f"Option {key}: {_value(old[key])} → {_value(new[key])}.")
    return changes


def _shown(name: str, value: Any) -> str:
    if name.endswith("connection_id") and value:
        connection = Connection.objects.filter(pk=value).first()
        return connection.name if connection else f"connection #{value}"
    if name == "enabled":
        return "on" if value else "off"
    if name == "trigger" and value in Trigger.values:
        return Trigger(value).label
    return _value(value)


def _value(value: Any) -> str:
    if value in (None, ""):
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return f"“{value}”" if isinstance(value, str) else str(value)


def _field(name: str, value: Any) -> str:
    if name == "transform" and value in Transform.values:
        return Transform(value).label.lower()
    return _value(value)


def _mapping(values: dict) -> str:
    source = values["source_field"] or "(default)"
    transform = values["transform"]
    label = f" ({Transform(transform).label})" if transform else ""
    return f"{source} → {values['target_field']}{label}"


def rollback(flow_config: FlowConfig, number: int, *, user, reason: str) -> FlowConfig:
    """Restore the settings and mapping rows of version ``number``.

    Recorded as a new version by ``user`` with ``reason``. Refused (in words) when
    the old settings are no longer valid, e.g. the flow is not installed now.
    """
    reason = (reason or "").strip()
    if not reason:
        raise RollbackRefused("Say why you roll back: it is kept with the version.")
    target = snapshot(flow_config, number)
    if not target.config:
        raise RollbackRefused(f"Version {number} has no settings to restore.")
    why = f"Rolled back to version {number}: {reason}"[:100]
    with transaction.atomic():
        config = FlowConfig.objects.select_for_update().get(pk=flow_config.pk)
        for name, value in target.config.items():
            setattr(config, name, value)
        try:
            config.full_clean(exclude=["watermark"])
        except ValidationError as exc:
            raise RollbackRefused(
                f"Version {number} cannot be restored: "
                + " ".join(m for ms in exc.message_dict.values() for m in ms)
            ) from None
        _tag(config, user, why)
        config.save()
        _restore_mappings(config, target.mappings, user, why)
    return config


def _restore_mappings(config, wanted: dict[int, dict], user, why: str) -> None:
    current = {row.pk: row for row in FieldMapping.objects.filter(flow_config=config)}
    # Rows that go, or whose target changes, are removed first: the target field
    # is unique per flow, and two rows may swap targets.
    for pk, row in current.items():
        if pk not in wanted or row.target_field != wanted[pk]["target_field"]:
            _tag(row, user, why)
            row.delete()
    for pk, values in wanted.items():
        row = current.get(pk)
        if row is not None and row.target_field == values["target_field"]:
            if all(getattr(row, name) == values[name] for name in MAPPING_FIELDS):
                continue
            for name, value in values.items():
                setattr(row, name, value)
        else:
            row = FieldMapping(pk=pk, flow_config=config, **values)
        _tag(row, user, why)
        row.save()


def _tag(instance, user, why: str) -> None:
    instance._history_user = user
    instance._change_reason = why
