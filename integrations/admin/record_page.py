"""What the record page shows above its form: the problem and its fix, the three
documents side by side, links into the source and target systems, and who did
what to the record, when."""

from __future__ import annotations

from django.utils import timezone

from integrations.admin.display import age_in_words, pretty_json
from integrations.flows import registry
from integrations.models import RecordStatus, SyncRecord
from integrations.services import fixes, records

SHOWS_FIX = (RecordStatus.NEEDS_ATTENTION, RecordStatus.RETRY_SCHEDULED)


def context(record: SyncRecord, user) -> dict:
    config = record.flow_config
    source = config.source_connection
    target = config.target_connection
    fix = None
    if record.status in SHOWS_FIX and record.error_message:
        fix = fixes.suggest(record, user=user)
    return {
        "fix": fix,
        "record_label": fixes.record_label(record),
        "flow_title": _flow_title(record.flow),
        "system_links": fixes.system_links(record),
        "documents": documents(record, source, target),
        "who_did_what": who_did_what(record),
        "payload_schema": records.payload_schema(record),
        "age": age_in_words(timezone.now() - record.created_at),
    }


def documents(record: SyncRecord, source, target) -> list[dict]:
    """Received, transformed, to be written: each with a title saying whose it is."""
    source_name = source.get_system_display() if source else "the source"
    target_name = target.get_system_display() if target else "the target"
    received = {
        "key": "received",
        "title": f"Received from {source_name}",
        "note": "As it arrived; never changed.",
        "value": record.payload,
    }
    if record.payload_override is not None:
        received["corrected"] = pretty_json(record.payload_override)
    written = {}
    resolved = (record.step_state or {}).get("resolved")
    if resolved:
        written["Checked against " + target_name] = resolved
    if record.target_ids:
        written["Written (ids in " + target_name + ")"] = record.target_ids
    shown = [
        received,
        {
            "key": "transformed",
            "title": "After the mappings",
            "note": "The latest attempt's document, after field mappings and "
            "cross-references."
            if record.transformed is not None
            else "Not made yet: the record failed before its mappings ran.",
            "value": record.transformed,
        },
        {
            "key": "target",
            "title": f"What goes to {target_name}",
            "note": "What the flow resolved before writing, and what it wrote."
            if written
            else "Nothing resolved or written yet.",
            "value": written or None,
        },
    ]
    for document in shown:
        document["html"] = pretty_json(document["value"])
    return shown


def who_did_what(record: SyncRecord) -> list[dict]:
    """People's actions from the record's history (resubmitted, ignored, payload
    corrected, assigned), newest first; the engine's own saves are left out."""
    entries = (
        record.history.exclude(history_change_reason__isnull=True)
        .exclude(history_change_reason="")
        .select_related("history_user")
        .order_by("-history_date")[:50]
    )
    return [
        {
            "when": entry.history_date,
            "who": _person(entry.history_user),
            "what": entry.history_change_reason,
        }
        for entry in entries
    ]


def _person(user) -> str:
    if user is None:
        return "LedgerBridge"
    return user.get_full_name() or user.get_username()


def _flow_title(name: str) -> str:
    try:
        return registry.get(name).title or name
    except KeyError:
        return name
