"""Where two-way master data keeps its state: links, field owners, the lock.

The pure merge (``master_data``) decides; this module remembers. A link's
snapshot is only ever saved behind a compare-and-set on ``version``, and every
sync of one kind between one pair of connections runs under one lock, so the
Sage 100 → Xero and Xero → Sage 100 flows never merge the same pair from two
stale readings (the webhook our own write causes waits until that write's
snapshot and fingerprint are saved, and is then recognised as an echo).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.engine.errors import Unavailable
from integrations.models import (
    CrossReference,
    MasterDataFieldRule,
    MasterDataLink,
)
from integrations.services import cross_references
from integrations.services.master_data import fingerprint

LOCK_SECONDS = 300
WAIT_SECONDS = 120


@dataclass(frozen=True)
class Pair:
    """The Sage 100 and Xero connections master data is kept in step between."""

    kind: str
    sage_id: int
    xero_id: int


def owners(pair: Pair) -> dict[str, str]:
    """The admin's field owners for this pair (fields without a rule use their
    default)."""
    return dict(
        MasterDataFieldRule.objects.filter(
            kind=pair.kind,
            sage_connection_id=pair.sage_id,
            xero_connection_id=pair.xero_id,
        ).values_list("field", "owner")
    )


@contextmanager
def lock(pair: Pair) -> Iterator[None]:
    """One sync of this kind between these connections at a time (all workers)."""
    with held(
        f"ledgerbridge:lock:master-data:{pair.kind}:{pair.sage_id}:{pair.xero_id}",
        f"Another worker has been synchronising {pair.kind}s between these Sage "
        "100 and Xero connections for two minutes; trying again shortly.",
        timeout=LOCK_SECONDS,
        wait=WAIT_SECONDS,
    ):
        yield


@contextmanager
def held(name: str, busy: str, *, timeout: int, wait: int) -> Iterator[None]:
    """A Redis lock shared by every worker; ``busy`` is said when it stays taken."""
    from redis.exceptions import LockError

    from integrations.engine.dispatch import queue

    lock_ = queue().connection.lock(name, timeout=timeout, blocking_timeout=wait)
    if not lock_.acquire():
        raise Unavailable(busy, retry_after=30)
    try:
        yield
    finally:
        with suppress(LockError):  # expired meanwhile: released already
            lock_.release()


def links(
    pair: Pair,
    *,
    sage_keys: Iterable[str] = (),
    xero_ids: Iterable[str] = (),
) -> list[MasterDataLink]:
    """The links of these Sage keys or Xero ids, in one query."""
    sage_keys, xero_ids = [k for k in sage_keys if k], [i for i in xero_ids if i]
    if not sage_keys and not xero_ids:
        return []
    return list(
        MasterDataLink.objects.filter(
            Q(sage_key__in=sage_keys) | Q(xero_id__in=xero_ids),
            kind=pair.kind,
            sage_connection_id=pair.sage_id,
            xero_connection_id=pair.xero_id,
        )
    )


def xref_to_xero(pair: Pair, sage_key: str) -> str | None:
    """The Xero value (ContactID, or an item's Code) another flow bound to
    ``sage_key``, or a person entered."""
    return cross_references.lookup(pair.kind, pair.sage_id, pair.xero_id, sage_key)


def xref_to_sage(pair: Pair, xero_value: str) -> str | None:
    return (
        CrossReference.objects.filter(
            kind=pair.kind,
            source_connection_id=pair.sage_id,
            target_connection_id=pair.xero_id,
            target_value=xero_value,
        )
        .order_by("id")
        .values_list("source_value", flat=True)
        .first()
    )


@dataclass
class Outcome:
    """What one sync of a pair leaves behind, to be saved on its link."""

    sage_key: str
    xero_id: str
    xero_value: str  # what the cross-reference points at (ContactID or Code)
    sage_after: dict[str, Any]
    xero_after: dict[str, Any]
    settled: list[str]  # fields both sides now agree on
    sage_written: bool = False
    xero_written: bool = False
    conflicts: dict[str, dict] = field(default_factory=dict)


def save(pair: Pair, link: MasterDataLink | None, outcome: Outcome) -> MasterDataLink:
    """Store the snapshot of the settled fields, the fingerprints of what we
    wrote, and the cross-reference, in one transaction.

    A link changed since it was read (a lock that expired mid-sync) is not
    overwritten: the record is retried and merges again from fresh readings.
    """
    now = timezone.now()
    sage_values = dict(link.sage_values) if link else {}
    xero_values = dict(link.xero_values) if link else {}
    for name in outcome.settled:
        sage_values[name] = outcome.sage_after.get(name)
        xero_values[name] = outcome.xero_after.get(name)
    for name in outcome.conflicts:
        # A field waiting for a person keeps no agreed value: it conflicts
        # again until the sides agree or its owner settles it.
        sage_values.pop(name, None)
        xero_values.pop(name, None)
    fields: dict[str, Any] = {
        "sage_key": outcome.sage_key,
        "xero_id": outcome.xero_id,
        "sage_values": sage_values,
        "xero_values": xero_values,
        "conflicts": outcome.conflicts,
        "synced_at": now,
    }
    if outcome.sage_written:
        fields["sage_written_hash"] = fingerprint(outcome.sage_after)
        fields["sage_written_at"] = now
    if outcome.xero_written:
        fields["xero_written_hash"] = fingerprint(outcome.xero_after)
        fields["xero_written_at"] = now
    try:
        with transaction.atomic():
            if link is None:
                link = MasterDataLink.objects.create(
                    kind=pair.kind,
                    sage_connection_id=pair.sage_id,
                    xero_connection_id=pair.xero_id,
                    **fields,
                )
            else:
                claimed = MasterDataLink.objects.filter(
                    pk=link.pk, version=link.version
                ).update(version=F("version") + 1, updated_at=now, **fields)
                if not claimed:
                    raise _changed_meanwhile(outcome.sage_key)
                for name, value in fields.items():
                    setattr(link, name, value)
                link.version += 1
            cross_references.link(
                pair.kind,
                pair.sage_id,
                pair.xero_id,
                outcome.sage_key,
                outcome.xero_value,
                note="Two-way master data",
            )
    except IntegrityError:
        raise _changed_meanwhile(outcome.sage_key) from None
    return link


def _changed_meanwhile(key: str) -> Unavailable:
    return Unavailable(
        f"{key} was synchronised by another worker at the same moment; merging "
        "again from fresh readings.",
        retry_after=5,
    )
