"""Sage 100 change feeds by stamps: every change published once, whatever the
timing (same-second writes, late commits, skewed clocks, crashes, races).

The simulator's rows are written with sqlite3 and stamped the way Sage stamps
them; the poller reads them through real ODBC. Our clock and the Sage server's
agree (UTC) unless a test skews the stamps on purpose.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection as db
from django.db import connections
from django.test.utils import CaptureQueriesContext

from integrations import jobs
from integrations.models import ChangeFeed, ChangeFeedRow, InboundEvent
from integrations.services import changefeeds
from tests.support.changefeeds import (
    bodies,
    customer,
    feed_for,
    later,
    poll,
    published,
    sage_time,
)

pytestmark = pytest.mark.django_db


class CountingReader:
    """The real ODBC reader, noting each statement sent to Sage."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, connection):
        self.inner = changefeeds.sage_reader(connection)
        return self

    def select(self, table, sql, params=()):
        self.sql.append(sql)
        return self.inner.select(table, sql, params)


# -- the first look and the watermark ------------------------------------------


def test_first_poll_publishes_every_row_once_as_created(company, sage):
    customer(company, "ABF", sage_time(-300), CreditLimit="5000.00")
    customer(company, "ZZZ", sage_time(-60))
    feed = feed_for(sage, "AR_Customer")

    result = poll(feed)

    assert (result.created, result.reconciled) == (2, True)
    assert published() == [("01|ABF", "created"), ("01|ZZZ", "created")]
    first = bodies()[0]
    assert first["table"] == "AR_Customer"
    assert first["topic"] == "sage100.customer"
    assert first["key"] == {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    assert first["detected_by"] == "reconcile"
    assert Decimal(first["row"]["CreditLimit"]) == Decimal("5000")
    assert first["row"]["DateUpdated"] == "2026-03-02"
    event = InboundEvent.objects.earliest("pk")
    assert (event.topic, event.signature_verified) == ("sage100.customer", True)
    feed.refresh_from_db()
    assert (feed.watermark, feed.watermark_key) == (sage_time(-60), "01|ZZZ")
    assert ChangeFeedRow.objects.filter(feed=feed).count() == 2
    assert poll(feed, later(60)).emitted == 0


def test_rows_stamped_in_the_same_second_are_each_published_once(company, feed):
    customer(company, "ABF", sage_time(5))
    first = poll(feed, later(10))
    # Committed after that poll, stamped the same second, sorting before ABF.
    customer(company, "AAA", sage_time(5))
    second = poll(feed, later(20))
    third = poll(feed, later(30))

    assert (first.created, second.created, third.emitted) == (1, 1, 0)
    assert not second.reconciled
    assert published() == [
        ("01|BASE", "created"),
        ("01|ABF", "created"),
        ("01|AAA", "created"),
    ]
    assert bodies()[-1]["detected_by"] == "stamps"


def test_an_edited_row_is_published_as_changed(company, feed):
    customer(company, "BASE", sage_time(30), CustomerName="Base Corp (new name)")

    assert poll(feed, later(60)).changed == 1
    assert bodies()[-1]["change"] == "changed"
    assert bodies()[-1]["row"]["CustomerName"] == "Base Corp (new name)"


def test_poll_with_nothing_changed_sends_one_select_and_only_notes_the_time(
    company,
    feed,
):
    customer(company, "ABF", sage_time(-30))  # read again in every overlap window
    poll(feed, later(30))
    reader = CountingReader()

    with CaptureQueriesContext(db) as queries:
        result = poll(feed, later(60), reader_factory=reader)

    assert (result.read, result.emitted) == (1, 0)
    assert len(reader.sql) == 1
    assert "TimeUpdated" not in reader.sql[0]  # decimal-hour text: never in SQL
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert len(writes) == 1
    assert "integrations_changefeed" in writes[0]
    assert "last_polled_at" in writes[0]
    assert InboundEvent.objects.count() == 2


# -- clocks --------------------------------------------------------------------


def test_a_sage_clock_running_ahead_does_not_hide_later_changes(company, feed):
    customer(company, "AHEAD", sage_time(3600))  # stamped by a clock an hour fast
    poll(feed, later(60))
    feed.refresh_from_db()
    assert feed.watermark <= sage_time(60)

    customer(company, "ONTIME", sage_time(90))
    poll(feed, later(120))
    poll(feed, later(180))

    assert published() == [
        ("01|BASE", "created"),
        ("01|AHEAD", "created"),
        ("01|ONTIME", "created"),
    ]


def test_a_row_committed_late_with_an_earlier_stamp_is_still_published(
    company,
    feed,
):
    customer(company, "FIRST", sage_time(50))
    poll(feed, later(60))
    feed.refresh_from_db()
    assert feed.watermark == sage_time(50)

    # Stamped 80 s before the watermark (a slow clock, a long write), inside
    # the 120 s overlap.
    customer(company, "LATE", sage_time(-30))
    result = poll(feed, later(120))

    assert result.created == 1
    assert published()[-1] == ("01|LATE", "created")


# -- crashes and races ---------------------------------------------------------


def test_a_crash_mid_poll_commits_nothing_and_the_next_poll_publishes_each_once(
    company,
    feed,
    monkeypatch,
):
    for number in ("A", "B", "C"):
        customer(company, number, sage_time(10))
    feed.refresh_from_db()
    before = (feed.watermark, feed.version)
    real_accept = changefeeds.inbox.accept
    calls = []

    def dies_on_the_third_event(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return real_accept(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(changefeeds.inbox, "accept", dies_on_the_third_event)
        with pytest.raises(RuntimeError):
            poll(feed, later(60))

    feed.refresh_from_db()
    assert (feed.watermark, feed.version) == before
    assert published() == [("01|BASE", "created")]
    assert ChangeFeedRow.objects.filter(feed=feed).count() == 1

    assert poll(feed, later(120)).created == 3
    assert poll(feed, later(180)).emitted == 0
    assert [key for key, _ in published()] == ["01|BASE", "01|A", "01|B", "01|C"]


def test_a_crash_between_batches_keeps_the_first_and_repeats_none_of_it(
    company,
    feed,
    monkeypatch,
):
    monkeypatch.setattr(changefeeds, "BATCH", 2)
    for offset, number in enumerate("ABCDE"):
        customer(company, number, sage_time(10 + offset))
    real_accept = changefeeds.inbox.accept
    calls = []

    def dies_in_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return real_accept(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(changefeeds.inbox, "accept", dies_in_the_second_batch)
        with pytest.raises(RuntimeError):
            poll(feed, later(60))

    feed.refresh_from_db()
    assert feed.watermark == sage_time(11)  # where the committed batch ended
    assert [key for key, _ in published()] == ["01|BASE", "01|A", "01|B"]
    assert poll(feed, later(120)).created == 3
    assert [key for key, _ in published()] == [
        "01|BASE",
        "01|A",
        "01|B",
        "01|C",
        "01|D",
        "01|E",
    ]


def test_a_poller_that_loses_the_race_publishes_nothing(company, feed, monkeypatch):
    customer(company, "A", sage_time(10))
    customer(company, "B", sage_time(10))
    real_commit = changefeeds._commit

    def other_poller_commits_first(*args, **kwargs):
        monkeypatch.setattr(changefeeds, "_commit", real_commit)
        assert poll(feed, later(60)).created == 2
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(changefeeds, "_commit", other_poller_commits_first)
    result = poll(feed, later(61))

    assert result.emitted == 0
    assert "Another poll" in result.skipped
    assert published() == [
        ("01|BASE", "created"),
        ("01|A", "created"),
        ("01|B", "created"),
    ]
    assert set(InboundEvent.objects.values_list("deliveries", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_two_pollers_at_once_publish_each_change_once(company, sage, monkeypatch):
    customer(company, "BASE", sage_time(-600))
    feed = feed_for(sage, "AR_Customer")
    poll(feed)
    for number in range(20):
        customer(company, f"C{number:02}", sage_time(10))
    both_planned = threading.Barrier(2, timeout=30)
    real_commit = changefeeds._commit

    def commit_together(*args, **kwargs):
        both_planned.wait()  # each has read the same 20 changes
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(changefeeds, "_commit", commit_together)
    results, failures = [], []

    def poller():
        try:
            results.append(poll(feed, later(60)))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(r.emitted for r in results) == [0, 20]
    assert InboundEvent.objects.count() == 21
    assert set(InboundEvent.objects.values_list("deliveries", flat=True)) == {1}


# -- failures ------------------------------------------------------------------


def test_sage_down_keeps_the_watermark_and_says_why(company, feed):
    feed.refresh_from_db()
    before = (feed.watermark, feed.version)
    customer(company, "NEW", sage_time(30))
    offline = company.path.with_suffix(".offline")
    company.path.rename(offline)

    result = poll(feed, later(60))

    feed.refresh_from_db()
    assert "Sage 100" in result.error
    assert feed.last_error == result.error
    assert (feed.watermark, feed.version) == before
    assert InboundEvent.objects.count() == 1

    offline.rename(company.path)
    assert poll(feed, later(120)).created == 1
    feed.refresh_from_db()
    assert feed.last_error == ""


def test_a_feed_without_odbc_settings_says_which_setting(company, sage):
    sage.settings = {"company": "ABC"}
    sage.save()
    feed = feed_for(sage, "AR_Customer")

    result = poll(feed)

    assert "settings.odbc" in result.error
    feed.refresh_from_db()
    assert "settings.odbc" in feed.last_error


@pytest.mark.django_db(transaction=True)  # the job closes stale connections
def test_the_poll_job_returns_what_it_did(company, sage):
    customer(company, "ABF", sage_time(-60))
    feed = feed_for(sage, "AR_Customer")

    outcome = jobs.poll_change_feed(feed.pk)

    assert (outcome["created"], outcome["error"]) == (1, "")


def test_a_disabled_feed_is_not_polled(company, sage):
    feed = feed_for(sage, "AR_Customer", enabled=False)

    assert poll(feed).skipped
    assert ChangeFeed.objects.get(pk=feed.pk).last_polled_at is None


def test_a_poll_reads_its_subscribers_once_not_per_change(company, sage):
    from tests.factories import FlowConfigFactory

    FlowConfigFactory(flow="sage100_changes_to_http", source_connection=sage)
    for number in range(20):
        customer(company, f"C{number:03}", sage_time(10 + number))
    feed = feed_for(sage, "AR_Customer")

    with CaptureQueriesContext(db) as queries:
        assert poll(feed, later(60)).emitted == 20

    flow_reads = [
        q
        for q in queries.captured_queries
        if '"integrations_flowconfig"' in q["sql"]
        and q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert len(flow_reads) == 1
