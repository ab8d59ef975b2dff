"""Change feeds: notice what changed in a Sage 100 table and publish it once.

Sage 100 has no webhooks, so each ChangeFeed polls one table. Every change it
finds becomes one InboundEvent through the inbox, where every flow subscribed to
the feed's topic takes it (publish/subscribe), exactly as a webhook would.

Why nothing is missed or doubled:

* Each poll re-reads ``overlap_seconds`` behind the watermark (stamps have one-
  second resolution, writes commit late, clocks drift) and drops rows whose hash
  equals the version we last reported (``ChangeFeedRow``).
* Events, the remembered versions and the watermark are written in one
  transaction, behind a compare-and-set on ``ChangeFeed.version``: a crash
  repeats the poll; a second poller that read the same rows writes nothing.
* Stamps do not move for every change (Visual Integrator imports, batch
  updates), so the whole table is compared by row hash every
  ``reconcile_every_seconds``, on "Resync this table", and on every poll of a
  feed in hash mode (inventory). Keys that disappeared are reported as removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.connectors.sage100 import changes
from integrations.engine.errors import SyncError, ValidationFailed
from integrations.models import ChangeFeed, ChangeFeedRow, Connection, FeedMode
from integrations.models.changefeeds import watermark_fields
from integrations.services import inbox

logger = logging.getLogger(__name__)

# Changes per transaction: a bulk change of thousands of rows must not hold the
# (SQLite) write lock for long (about 1 s per 200 events measured). Each batch
# moves the watermark on its own.
BATCH = 200
# Keys per "which of these do we know?" query (SQLite's parameter limit).
KEYS_PER_QUERY = 500
CREATED, CHANGED, REMOVED = "created", "changed", "removed"


@dataclass
class Change:
    key: str
    key_fields: dict[str, str]
    change: str  # created | changed | removed
    detected_by: str  # stamps | reconcile | hash
    row: dict | None
    row_hash: str
    previous_hash: str
    stamp: datetime | None = None
    history: dict | None = None
    has_history: bool = False
    previous_stamp: str = ""  # removed rows: the stamps we last saw
    previous_event: str = ""  # the id of the event we last published for the key
    event_id: str = ""  # set when published

    @property
    def date_updated(self) -> date | None:
        value = (self.row or {}).get("DateUpdated")
        return value.date() if isinstance(value, datetime) else value

    @property
    def time_updated(self) -> str:
        return str((self.row or {}).get("TimeUpdated") or "")


@dataclass
class Plan:
    changes: list[Change]
    read: int
    newest: datetime | None = None  # the latest stamp read, and its row's key
    newest_key: str = ""


@dataclass
class PollResult:
    feed_id: int
    table: str = ""
    read: int = 0
    created: int = 0
    changed: int = 0
    removed: int = 0
    reconciled: bool = False
    error: str = ""
    skipped: str = ""

    @property
    def emitted(self) -> int:
        return self.created + self.changed + self.removed


def sage_reader(connection: Connection) -> changes.Reader:
    """The Sage 100 read side of ``connection``: the connector's reader, so polls
    share the connection's throttle like every other call."""
    from integrations.engine import clients

    return clients.build(connection).reader


def sage_clock(connection: Connection, now: datetime) -> datetime:
    """``now`` on the Sage server's wall clock: stamps are server-local, no zone."""
    name = (connection.settings or {}).get("timezone") or settings.TIME_ZONE
    try:
        zone = ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"{name!r} is not a time zone name (e.g. America/Chicago).",
            field="settings.timezone",
        ) from None
    return timezone.localtime(now, zone).replace(tzinfo=None)


def poll_feed(feed_id: int, *, reader_factory=None, now=None) -> PollResult:
    """Publish every change of the feed's table since the last poll.

    Cheap when nothing changed: one SELECT on Sage (plus the history table's for
    sales orders), one on our rows, and one UPDATE of ``last_polled_at``. A Sage
    failure is kept on ``last_error`` and the next scheduled poll tries again from
    the same watermark.
    """
    feed = ChangeFeed.objects.select_related("connection").get(pk=feed_id)
    result = PollResult(feed_id=feed.pk, table=feed.table)
    if not feed.enabled:
        result.skipped = "The feed is disabled."
        return result
    now = now or timezone.now()
    connection = feed.connection
    if not connection.is_usable:
        state = connection.get_status_display().lower()
        return _failed(feed, result, now, f"Not polled: {connection.name} is {state}.")
    # No watermark yet (first poll, or a table without stamps): read it all.
    full = (
        feed.mode == FeedMode.HASH or feed.reconcile_due(now) or feed.watermark is None
    )
    try:
        clock = sage_clock(connection, now)
        reader = (reader_factory or sage_reader)(connection)
        plan = _plan(feed, reader, full=full)
    except SyncError as exc:
        return _failed(feed, result, now, exc.message)
    result.read = plan.read
    if plan.newest and plan.newest - clock > timedelta(minutes=10):
        logger.warning(
            "%s: Sage 100 stamps are %s ahead of our clock; check the connection's "
            "timezone setting",
            feed,
            plan.newest - clock,
        )
    if not plan.changes and not full:
        _nothing_changed(feed, plan, now, clock)
        return result
    if not _commit(feed, plan, now=now, clock=clock, full=full):
        result.skipped = "Another poll of this feed reported these changes first."
        return result
    result.reconciled = full
    for change in plan.changes:
        setattr(result, change.change, getattr(result, change.change) + 1)
    return result


def resync(feed_id: int) -> int:
    """Ask for a whole-table comparison at the next poll (due at once).

    The version bump makes a poll already under way give its work up, so a scan
    that started before the request cannot be taken for the requested one.
    """
    return ChangeFeed.objects.filter(pk=feed_id).update(
        resync_requested=True, next_poll_at=timezone.now(), version=F("version") + 1
    )


# -- planning: what changed --------------------------------------------------------


def _plan(feed: ChangeFeed, reader, *, full: bool) -> Plan:
    table = feed.table
    watermark = feed.watermark
    since = watermark - timedelta(seconds=feed.overlap_seconds) if watermark else None
    if full:
        rows = changes.all_rows(reader, table)
    else:
        rows = changes.rows_changed_since(reader, table, since)
    current = {changes.key_text(table, row): row for row in rows}
    ordered = sorted(
        current.items(),
        key=lambda item: (changes.stamp(item[1]) or datetime.min, item[0]),
    )
    stored = _stored(feed, None if full else list(current))
    plan = Plan(changes=[], read=len(rows))
    for key, row in ordered:
        moment = changes.stamp(row)
        if moment is not None and (plan.newest is None or moment >= plan.newest):
            plan.newest, plan.newest_key = moment, key
        digest = changes.row_hash(row)
        previous, previous_event = (
            (stored[key][0], stored[key][3]) if key in stored else ("", "")
        )
        if digest == previous:
            continue
        plan.changes.append(
            Change(
                key=key,
                key_fields=changes.key_of(table, row),
                change=CHANGED if previous else CREATED,
                detected_by=_detected_by(feed, full, since, moment),
                row=row,
                row_hash=digest,
                previous_hash=previous,
                previous_event=previous_event,
                stamp=moment,
            )
        )
    if full:
        gone = {key: stored[key] for key in sorted(set(stored) - set(current))}
    else:
        gone = _closed_since(feed, reader, since, current)
    plan.changes.extend(_removed(feed, reader, k, seen) for k, seen in gone.items())
    return plan


def _detected_by(feed, full: bool, since, moment) -> str:
    if feed.mode == FeedMode.HASH:
        return "hash"
    if full and (since is None or moment is None or moment < since):
        return "reconcile"  # the stamps alone would not have shown it
    return "stamps"


Stored = dict[str, tuple[str, date | None, str, str]]


def _stored(feed: ChangeFeed, keys: list[str] | None) -> Stored:
    """key → (hash, DateUpdated, TimeUpdated, last event id) we last reported;
    for ``keys`` only, or for every key."""
    rows = ChangeFeedRow.objects.filter(feed=feed)
    columns = ("key", "row_hash", "date_updated", "time_updated", "last_event_id")
    if keys is None:
        return {key: rest for key, *rest in rows.values_list(*columns)}
    found: Stored = {}
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = rows.filter(key__in=keys[start : start + KEYS_PER_QUERY])
        found.update({key: rest for key, *rest in chunk.values_list(*columns)})
    return found


def _closed_since(feed, reader, since, current) -> Stored:
    """Tracked orders that closed since ``since``, without waiting for a full scan.

    Their history row is stamped when they leave the open-order file; a keyed
    read (fast on ProvideX) confirms each one is really gone.
    """
    if feed.table not in changes.HISTORY_TABLES:
        return {}
    try:
        closed = changes.closed_since(reader, feed.table, since)
    except SyncError as exc:
        logger.warning("%s: history unreadable (%s); reconciliation will do", feed, exc)
        return {}
    candidates = {changes.key_text(feed.table, row): row for row in closed}
    tracked = _stored(feed, [key for key in candidates if key not in current])
    return {
        key: tracked[key]
        for key in sorted(tracked)
        if changes.row_by_key(
            reader, feed.table, changes.key_of(feed.table, candidates[key])
        )
        is None
    }


def _removed(feed: ChangeFeed, reader, key: str, previous: tuple) -> Change:
    """A key no longer in the table; its history row when the table has one."""
    key_fields = changes.parse_key(feed.table, key)
    history_table = changes.HISTORY_TABLES.get(feed.table)
    history = (
        changes.row_by_key(reader, history_table, key_fields) if history_table else None
    )
    return Change(
        key=key,
        key_fields=key_fields,
        change=REMOVED,
        detected_by="hash" if feed.mode == FeedMode.HASH else "reconcile",
        row=None,
        row_hash="",
        previous_hash=previous[0],
        previous_stamp=f"{previous[1] or ''} {previous[2]}",
        previous_event=previous[3],
        history=history,
        has_history=history_table is not None,
    )


# -- committing: publish, remember, move the watermark --------------------------------


def _commit(feed, plan: Plan, *, now, clock, full: bool) -> bool:
    """Publish in batches; False when another poll got there first."""
    batches = [
        plan.changes[start : start + BATCH]
        for start in range(0, len(plan.changes), BATCH)
    ] or [[]]
    version, mark, mark_key = feed.version, feed.watermark, feed.watermark_key
    for number, batch in enumerate(batches, start=1):
        fields = {"version": version + 1}
        if number == len(batches):
            mark, mark_key = _advance(
                mark, mark_key, plan.newest, plan.newest_key, clock
            )
            fields.update(last_polled_at=now, last_error="")
            if full:
                fields.update(last_reconciled_at=now, resync_requested=False)
        elif not full:
            last = max(
                (c for c in batch if c.stamp), key=lambda c: c.stamp, default=None
            )
            if last is not None:
                mark, mark_key = _advance(mark, mark_key, last.stamp, last.key, clock)
        fields.update(watermark_fields(mark, mark_key))
        with transaction.atomic():
            claimed = ChangeFeed.objects.filter(pk=feed.pk, version=version).update(
                **fields
            )
            if not claimed:
                return False
            listeners = inbox.listeners_of(feed.connection)
            for change in batch:
                _publish(feed, change, listeners)
            _remember(feed, batch, now)
        version += 1
    return True


def _advance(mark, mark_key, candidate, candidate_key, clock):
    """The later of the two stamps, but never past the Sage server's "now".

    A stamp from a clock that runs ahead must not carry the watermark into the
    future: rows stamped correctly afterwards would fall behind it. Rows in the
    "future" are read again each poll (and dropped by their hash) until then.
    """
    if candidate is not None and (mark is None or candidate > mark):
        mark, mark_key = candidate, candidate_key
    if mark is not None and mark > clock:
        return clock.replace(microsecond=0), ""
    return mark, mark_key


def _nothing_changed(feed: ChangeFeed, plan: Plan, now, clock) -> None:
    fields = {"last_polled_at": now}
    if feed.last_error:
        fields["last_error"] = ""
    mark, key = _advance(
        feed.watermark, feed.watermark_key, plan.newest, plan.newest_key, clock
    )
    if (mark, key) != (feed.watermark, feed.watermark_key):
        # Rows saved without a change: move past them so they are not re-read.
        fields.update(watermark_fields(mark, key))
    ChangeFeed.objects.filter(pk=feed.pk).update(**fields)


def _failed(feed: ChangeFeed, result: PollResult, now, message: str) -> PollResult:
    logger.warning("%s: poll failed: %s", feed, message)
    ChangeFeed.objects.filter(pk=feed.pk).update(
        last_error=message[:500], last_polled_at=now
    )
    result.error = message
    return result


def event_id(feed: ChangeFeed, change: Change) -> str:
    """The same change always gets the same id; a later change never does.

    Sage's (table, key, DateUpdated, TimeUpdated, row hash) chained to the id
    of the event we published before for the key: a bulk change that flips a
    row back and forth without moving its stamps is a new event every time (a
    crash before commit rolls the chain back, so a retry repeats the same id).
    A removal carries the stamps we last saw, so a number deleted, re-used and
    deleted again is new too.
    """
    if change.change == REMOVED:
        parts = [REMOVED, change.previous_stamp, change.previous_hash]
    else:
        day = change.date_updated.isoformat() if change.date_updated else ""
        parts = [day, change.time_updated, change.row_hash, change.previous_hash]
    parts.append(change.previous_event)
    raw = "\x1f".join([feed.table, change.key, *parts])
    return hashlib.sha256(raw.encode()).hexdigest()


def _publish(feed: ChangeFeed, change: Change, listeners: list) -> None:
    change.event_id = event_id(feed, change)
    body = {
        "table": feed.table,
        "topic": feed.topic,
        "key": change.key_fields,
        "change": change.change,
        "detected_by": change.detected_by,
        "row": changes.json_safe(change.row) if change.row is not None else None,
    }
    if change.has_history:
        body["history"] = changes.json_safe(change.history)
    inbox.accept(
        feed.connection,
        body=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "X-Change-Feed": str(feed.pk)},
        provider_event_id=change.event_id,
        topic=feed.topic,
        signature_verified=True,
        listeners=listeners,
    )


def _remember(feed: ChangeFeed, batch: list[Change], now) -> None:
    kept = [
        ChangeFeedRow(
            feed=feed,
            key=change.key,
            row_hash=change.row_hash,
            date_updated=change.date_updated,
            time_updated=change.time_updated,
            seen_at=now,
            last_event_id=change.event_id,
        )
        for change in batch
        if change.change != REMOVED
    ]
    if kept:
        ChangeFeedRow.objects.bulk_create(
            kept,
            update_conflicts=True,
            unique_fields=["feed", "key"],
            update_fields=[
                "row_hash",
                "date_updated",
                "time_updated",
                "seen_at",
                "last_event_id",
            ],
        )
    gone = [change.key for change in batch if change.change == REMOVED]
    for start in range(0, len(gone), KEYS_PER_QUERY):
        ChangeFeedRow.objects.filter(
            feed=feed, key__in=gone[start : start + KEYS_PER_QUERY]
        ).delete()
