""" "Try it": mapping rows (saved or not) applied to one of the flow's real records.

The admin sees what each row makes of the record, or why it fails, before
saving anything. The record's document is what the flow itself extracts (a
Salesforce flow reads the record as Salesforce has it now, through the
connector); everything runs inside a transaction that is rolled back, so a
preview never writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from integrations import mapping
from integrations.engine.errors import SyncError
from integrations.flows import registry
from integrations.flows.base import Flow, Run
from integrations.models import CrossReference, FieldMapping, FlowConfig, SyncRecord
from integrations.services import schemas, transform_args


@dataclass
class RowOutcome:
    """What one mapping row made of the record: a value, or the reason it failed."""

    index: int
    target_field: str
    value: Any = None
    error: str = ""
    field: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class Preview:
    record_id: int
    record_label: str
    document_note: str
    document: Any
    result: dict = field(default_factory=dict)
    rows: list[RowOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "record_id": self.record_id,
            "record_label": self.record_label,
            "document_note": self.document_note,
            "document": self.document,
            "result": self.result,
            "rows": [
                {
                    "index": row.index,
                    "target_field": row.target_field,
                    "value": row.value,
                    "error": row.error,
                    "field": row.field,
                    "ok": row.ok,
                }
                for row in self.rows
            ],
            "problems": self.problems,
        }


def recent_records(flow_config: FlowConfig, limit: int = 10) -> list[SyncRecord]:
    """The flow's latest records, newest first: what "Try it" offers."""
    return list(
        SyncRecord.objects.filter(flow_config=flow_config).order_by("-created_at")[
            :limit
        ]
    )


def record_label(record: SyncRecord) -> str:
    when = record.created_at.strftime("%d %b %Y %H:%M") if record.created_at else ""
    return (
        f"{record.source_object_type} {record.source_id} — "
        f"{record.get_status_display().lower()}, {when}"
    )


def rows_from_data(
    flow_config: FlowConfig, data: list[dict]
) -> tuple[list[FieldMapping], dict[int, list[str]]]:
    """Unsaved FieldMapping rows from the editor's form values, and what is wrong
    with each (by its index in ``data``); rows marked for deletion are left out."""
    rows: list[FieldMapping] = []
    problems: dict[int, list[str]] = {}
    for index, item in enumerate(data):
        if item.get("delete"):
            continue
        found: list[str] = []
        args = item.get("transform_args") or {}
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except ValueError:
                found.append("The transform's arguments are not valid JSON.")
                args = {}
        transform = str(item.get("transform") or "")
        target = str(item.get("target_field") or "").strip()
        if not target:
            found.append("The target field is empty.")
        found.extend(transform_args.problems(transform, args))
        row = FieldMapping(
            flow_config=flow_config,
            position=_int(item.get("position"), index),
            source_field=str(item.get("source_field") or "").strip(),
            target_field=target,
            transform=transform,
            transform_args=args if isinstance(args, dict) else {},
            default=str(item.get("default") or ""),
            required=bool(item.get("required")),
            enabled=item.get("enabled", True) not in (False, "", "false", "off"),
        )
        row.preview_index = index
        rows.append(row)
        if found:
            problems[index] = found
    return rows, problems


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def preview(
    flow_config: FlowConfig,
    rows: list[FieldMapping],
    record: SyncRecord,
    *,
    row_problems: dict[int, list[str]] | None = None,
) -> Preview:
    """Apply ``rows`` to ``record``'s document, each row on its own."""
    row_problems = row_problems or {}
    with transaction.atomic():
        try:
            return _preview(flow_config, rows, record, row_problems)
        finally:
            transaction.set_rollback(True)


def _preview(flow_config, rows, record, row_problems) -> Preview:
    used = [row for row in rows if row.enabled]
    document, note, problems = _document(flow_config, record, used)
    outcome = Preview(
        record.pk, record_label(record), note, document, problems=problems
    )
    scopes = {scope.prefix: scope for scope in schemas.scopes(flow_config)}
    if not scopes:
        outcome.problems.append(
            "This flow writes fixed fields chosen by its options; it does not "
            "use field mappings."
        )
        return outcome
    xref = _xref(flow_config)
    for order, row in enumerate(sorted(used, key=lambda r: (r.position, r.pk or 0))):
        index = getattr(row, "preview_index", order)
        if index in row_problems:
            outcome.rows.append(
                RowOutcome(index, row.target_field, error=" ".join(row_problems[index]))
            )
            continue
        outcome.rows.append(_apply_row(row, index, scopes, document, xref, outcome))
    outcome.rows.sort(key=lambda r: r.index)
    return outcome


def _document(flow_config, record, rows) -> tuple[Any, str, list[str]]:
    """What the flow would extract now; the stored payload when it cannot."""
    stored = record.effective_payload
    stored_note = (
        "The record's payload as corrected by staff."
        if record.payload_override is not None
        else "The record's payload as received."
    )
    try:
        flow = registry.get(flow_config.flow)
    except KeyError as exc:
        return stored, stored_note, [str(exc.args[0])]
    if type(flow).extract is Flow.extract:  # it would read the payload as stored
        return stored, stored_note, []
    run = Run(
        record=record,
        flow_config=flow_config,
        attempt=None,
        state={},
        save_state=lambda state: None,
    )
    run.mappings = rows  # the SOQL asks for the fields the unsaved rows read
    try:
        document = flow.extract(run)
    except (SyncError, NotImplementedError, LookupError, ValueError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        return (
            stored,
            stored_note,
            [
                f"Could not read the record from "
                f"{flow_config.source_connection.name} now ({message}); "
                "showing it as stored."
            ],
        )
    system = flow_config.source_connection.get_system_display()
    return document, f"The record as {system} has it now.", []


def _xref(flow_config: FlowConfig):
    def lookup(kind: str, value: str) -> str | None:
        return (
            CrossReference.objects.filter(
                kind=kind,
                source_connection_id=flow_config.source_connection_id,
                target_connection_id=flow_config.target_connection_id,
                source_value=value,
            )
            .values_list("target_value", flat=True)
            .first()
        )

    return lookup


def _apply_row(row, index, scopes, document, xref, outcome: Preview) -> RowOutcome:
    prefix, _, rest = row.target_field.partition(".")
    if prefix in scopes and prefix and rest:
        scope, inner = scopes[prefix], rest
    elif "" in scopes:
        scope, inner = scopes[""], row.target_field
    else:
        names = ", ".join(f"{p}." for p in scopes)
        return RowOutcome(
            index,
            row.target_field,
            error=f"The target field must start with one of {names} "
            f"(e.g. {next(iter(scopes))}.{row.target_field}).",
            field=row.target_field,
        )
    source = (
        mapping.get_path(document, scope.source_path)
        if scope.source_path
        else (document)
    )
    if source is mapping._MISSING:
        source = [] if scope.many else {}
    items = (source if isinstance(source, list) else []) if scope.many else [source]
    clone = FieldMapping(
        flow_config_id=row.flow_config_id,
        source_field=row.source_field,
        target_field=inner,
        transform=row.transform,
        transform_args=row.transform_args,
        default=row.default,
        required=row.required,
    )
    values = []
    for number, item in enumerate(items):
        try:
            piece = mapping.apply([clone], item, xref=xref)
        except SyncError as exc:
            where = f" (line {number + 1})" if scope.many else ""
            return RowOutcome(
                index, row.target_field, error=exc.message + where, field=exc.field
            )
        value = mapping.get_path(piece, inner)
        values.append(None if value is mapping._MISSING else value)
        _merge(outcome.result, scope, number, piece)
    if scope.many:
        return RowOutcome(index, row.target_field, value=values)
    return RowOutcome(index, row.target_field, value=values[0] if values else None)


def _merge(result: dict, scope, number: int, piece: dict) -> None:
    if not scope.prefix:
        _deep_update(result, piece)
    elif scope.many:
        lines = result.setdefault(scope.prefix, [])
        while len(lines) <= number:
            lines.append({})
        _deep_update(lines[number], piece)
    else:
        _deep_update(result.setdefault(scope.prefix, {}), piece)


def _deep_update(into: dict, piece: dict) -> None:
    for key, value in piece.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_update(into[key], value)
        else:
            into[key] = value
