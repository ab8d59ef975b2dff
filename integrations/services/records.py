"""What people do to records: resubmit, ignore, correct the payload.

Each action is a compare-and-set on status and leaves an audit entry naming
who did it and why. A person acts on what they saw: the pages post the record's
attempts (or, for a corrected payload, when it was last changed) as shown, and
the action is refused when the record moved on since.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import jsonschema
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations.engine import dispatch
from integrations.models import RecordStatus, SyncRecord

RESUBMITTABLE = (
    RecordStatus.NEEDS_ATTENTION,
    RecordStatus.RETRY_SCHEDULED,
    RecordStatus.IGNORED,
)
IGNORABLE = (
    RecordStatus.PENDING,
    RecordStatus.NEEDS_ATTENTION,
    RecordStatus.RETRY_SCHEDULED,
)


CHANGED_SINCE = "This record changed since you looked at it: open it again."


class ActionRefused(Exception):
    """The record is not in a state that allows the action; says why."""


def _seen(record: SyncRecord, seen_attempts: int | None) -> int:
    """The attempts to compare against: what the person saw, else the record's."""
    return record.attempts if seen_attempts is None else seen_attempts


@dataclass(frozen=True)
class Outcome:
    """What one record of a bulk action came to: done, or refused and why."""

    record_id: int
    label: str
    done: bool
    message: str = ""


def _audit(record: SyncRecord, *, actor, reason: str) -> None:
    record.refresh_from_db()
    SyncRecord.history.bulk_history_create(
        [record], update=True, default_user=actor, default_change_reason=reason
    )


def resubmit(
    record: SyncRecord,
    *,
    actor: AbstractBaseUser | None,
    seen_attempts: int | None = None,
) -> SyncRecord:
    """Run the record again now. Flows load idempotently, so no duplicate results.

    ``seen_attempts``: the attempts the person saw; refused when it ran since.
    """
    now = timezone.now()
    with transaction.atomic():
        won = SyncRecord.objects.filter(
            pk=record.pk,
            status__in=RESUBMITTABLE,
            attempts=_seen(record, seen_attempts),
        ).update(
            status=RecordStatus.PENDING,
            next_attempt_at=None,
            finished_at=None,
            ignored_reason="",
            updated_at=now,
        )
        if won != 1:
            record.refresh_from_db()
            _refuse_changed(record, seen_attempts, RESUBMITTABLE)
            raise ActionRefused(
                f"This record is {record.get_status_display().lower()} and cannot be "
                "resubmitted now."
            )
        _audit(record, actor=actor, reason="Resubmitted")
        dispatch.enqueue_on_commit([(record.pk, record.attempts + 1)])
    return record


def rerun_on_new_event(record: SyncRecord) -> bool:
    """A new event for a record that needs attention: the source changed (a rep
    added the missing product line and saved again), so run it again.

    Only for flows that read the source afresh; a record a person ignored, or
    one already waiting for a retry, is left as it is.
    """
    with transaction.atomic():
        won = SyncRecord.objects.filter(
            pk=record.pk,
            status=RecordStatus.NEEDS_ATTENTION,
            attempts=record.attempts,
        ).update(
            status=RecordStatus.PENDING,
            next_attempt_at=None,
            finished_at=None,
            updated_at=timezone.now(),
        )
        if won != 1:
            return False
        _audit(record, actor=None, reason="Run again: the source sent a new event")
        dispatch.enqueue_on_commit([(record.pk, record.attempts + 1)])
    return True


def _refuse_changed(
    record: SyncRecord, seen_attempts: int | None, allowed: tuple
) -> None:
    """After a lost compare-and-set: say so in words when the record could take
    the action but ran since the person looked at it."""
    if (
        seen_attempts is not None
        and record.status in allowed
        and record.attempts != seen_attempts
    ):
        raise ActionRefused(CHANGED_SINCE)


def ignore(
    record: SyncRecord,
    *,
    actor: AbstractBaseUser | None,
    reason: str,
    seen_attempts: int | None = None,
) -> SyncRecord:
    if not reason.strip():
        raise ValidationError({"reason": "Say why the record is ignored."})
    with transaction.atomic():
        won = SyncRecord.objects.filter(
            pk=record.pk,
            status__in=IGNORABLE,
            attempts=_seen(record, seen_attempts),
        ).update(
            status=RecordStatus.IGNORED,
            ignored_reason=reason.strip()[:500],
            next_attempt_at=None,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if won != 1:
            record.refresh_from_db()
            _refuse_changed(record, seen_attempts, IGNORABLE)
            raise ActionRefused(
                f"This record is {record.get_status_display().lower()} and cannot be "
                "ignored."
            )
        _audit(record, actor=actor, reason=f"Ignored: {reason.strip()}")
    return record


def override_payload(
    record: SyncRecord,
    *,
    actor: AbstractBaseUser | None,
    payload: dict | None,
    seen_updated_at: datetime | None = None,
) -> SyncRecord:
    """Store staff corrections beside the untouched original payload.

    A correction that breaks the flow's payload schema is refused with one
    message per field, so the next run does not fail on the person's typo.
    ``seen_updated_at``: when the record was last changed as the person saw
    it; refused when it changed since (another correction, a run), so nobody
    overwrites a change they never saw.
    """
    if payload is not None and not isinstance(payload, dict):
        raise ValidationError({"payload_override": "Must be a JSON object."})
    if payload is not None:
        problems = schema_errors(payload_schema(record), payload)
        if problems:
            raise ValidationError(
                {
                    "payload_override": [
                        f"{path or 'The payload'}: {text}" for path, text in problems
                    ]
                }
            )
    unchanged = {} if seen_updated_at is None else {"updated_at": seen_updated_at}
    with transaction.atomic():
        won = (
            SyncRecord.objects.filter(pk=record.pk, **unchanged)
            .exclude(status__in=[RecordStatus.RUNNING, RecordStatus.SUCCEEDED])
            .update(payload_override=payload, updated_at=timezone.now())
        )
        if won != 1:
            locked = SyncRecord.objects.filter(
                pk=record.pk, status__in=[RecordStatus.RUNNING, RecordStatus.SUCCEEDED]
            ).exists()
            if seen_updated_at is not None and not locked:
                raise ActionRefused(CHANGED_SINCE)
            raise ActionRefused("A running or finished record's payload cannot change.")
        _audit(record, actor=actor, reason="Payload corrected")
    return record


def payload_schema(record: SyncRecord) -> dict | None:
    """The record's flow's schema for a corrected payload, when it has one."""
    from integrations.flows import registry

    try:
        flow = registry.get(record.flow)
    except KeyError:
        return None
    return flow.payload_schema(record.flow_config)


def schema_errors(schema: dict | None, payload: object) -> list[tuple[str, str]]:
    """``(field path, plain words)`` for every way ``payload`` breaks ``schema``.

    Paths use the dotted form the flows use in their errors (``lines.0.item``).
    """
    if not schema:
        return []
    validator = jsonschema.Draft202012Validator(schema)
    found = []
    for error in sorted(validator.iter_errors(payload), key=lambda e: list(e.path)):
        path = ".".join(str(part) for part in error.absolute_path)
        found.append((_missing_path(error, path), _plain(error)))
    return found


def _missing_path(error: jsonschema.ValidationError, path: str) -> str:
    """A missing required field is blamed on the field, not on its parent."""
    if error.validator == "required":
        name = _missing_name(error)
        return f"{path}.{name}" if path else name
    return path


def _missing_name(error: jsonschema.ValidationError) -> str:
    present = error.instance if isinstance(error.instance, dict) else {}
    missing = [name for name in error.validator_value if name not in present]
    return missing[0] if missing else ""


def _plain(error: jsonschema.ValidationError) -> str:
    """jsonschema's messages quote Python reprs; say the same in words."""
    rule, value = error.validator, error.validator_value
    if rule == "required":
        return "is required."
    if rule == "type":
        return f"must be {_type_words(value)}."
    if rule == "minLength":
        return (
            "must not be empty."
            if value == 1
            else f"must be at least {value} characters."
        )
    if rule == "maxLength":
        return f"must be at most {value} characters."
    if rule == "minItems":
        return f"needs at least {value} entr{'y' if value == 1 else 'ies'}."
    if rule == "minimum":
        return f"must be {value} or more."
    if rule == "exclusiveMinimum":
        return f"must be more than {value}."
    if rule == "maximum":
        return f"must be {value} or less."
    if rule == "enum":
        return "must be one of " + ", ".join(str(v) for v in value) + "."
    if rule == "pattern":
        if "YYYY-MM-DD" in (error.schema or {}).get("title", ""):
            return "must be a date written YYYY-MM-DD."
        return "must be a number." if "[0-9]" in str(value) else "has the wrong form."
    return error.message


def _type_words(value) -> str:
    names = {
        "string": "text",
        "integer": "a whole number",
        "number": "a number",
        "object": "an object",
        "array": "a list",
        "boolean": "true or false",
        "null": "empty",
    }
    kinds = value if isinstance(value, list) else [value]
    return " or ".join(names.get(kind, kind) for kind in kinds)


def assign(
    record: SyncRecord,
    *,
    actor: AbstractBaseUser | None,
    assignee: AbstractBaseUser | None,
    seen_attempts: int | None = None,
) -> SyncRecord:
    """Say who looks after the record (None: nobody); kept in its history.

    ``seen_attempts``: the attempts the person saw; refused when it ran since.
    """
    if assignee is not None and not assignee.is_active:
        raise ValidationError({"assignee": f"{assignee} can no longer sign in."})
    same = {} if seen_attempts is None else {"attempts": seen_attempts}
    with transaction.atomic():
        won = SyncRecord.objects.filter(pk=record.pk, **same).update(
            assigned_to=assignee, updated_at=timezone.now()
        )
        if won != 1:
            raise ActionRefused(CHANGED_SINCE)
        who = _person(assignee) if assignee is not None else "nobody"
        _audit(record, actor=actor, reason=f"Assigned to {who}")
    return record


def _person(user: AbstractBaseUser) -> str:
    full = getattr(user, "get_full_name", lambda: "")()
    return full or user.get_username()


def assignable_people() -> list[AbstractBaseUser]:
    """Active staff users, who can sign in to the portal and take a record."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    return list(users.order_by("username"))


def _each(
    records: Iterable[SyncRecord], do: Callable[[SyncRecord], object]
) -> list[Outcome]:
    outcomes = []
    for record in records:
        try:
            do(record)
        except ActionRefused as exc:
            outcomes.append(Outcome(record.pk, str(record), False, str(exc)))
        except ValidationError as exc:
            text = " ".join(exc.messages)
            outcomes.append(Outcome(record.pk, str(record), False, text))
        else:
            outcomes.append(Outcome(record.pk, str(record), True))
    return outcomes


def resubmit_many(
    records: Iterable[SyncRecord],
    *,
    actor: AbstractBaseUser | None,
    seen: Mapping[int, int] | None = None,
) -> list[Outcome]:
    """Resubmit each record on its own; one refusal never stops the others.

    ``seen``: record id → the attempts the person saw (see ``resubmit``).
    """
    seen = seen or {}
    return _each(
        records, lambda r: resubmit(r, actor=actor, seen_attempts=seen.get(r.pk))
    )


def ignore_many(
    records: Iterable[SyncRecord],
    *,
    actor: AbstractBaseUser | None,
    reason: str,
    seen: Mapping[int, int] | None = None,
) -> list[Outcome]:
    if not reason.strip():
        raise ValidationError({"reason": "Say why the records are ignored."})
    seen = seen or {}
    return _each(
        records,
        lambda r: ignore(r, actor=actor, reason=reason, seen_attempts=seen.get(r.pk)),
    )


def assign_many(
    records: Iterable[SyncRecord],
    *,
    actor: AbstractBaseUser | None,
    assignee: AbstractBaseUser | None,
    seen: Mapping[int, int] | None = None,
) -> list[Outcome]:
    seen = seen or {}
    return _each(
        records,
        lambda r: assign(
            r, actor=actor, assignee=assignee, seen_attempts=seen.get(r.pk)
        ),
    )
