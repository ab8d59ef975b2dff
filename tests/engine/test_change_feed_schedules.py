"""The scheduler's tick starts each due change feed's poll once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.engine import schedules
from integrations.models import ConnectionStatus
from tests.support.changefeeds import (
    NOW,
    feed_for,
)

pytestmark = pytest.mark.django_db


def feed_jobs(queue) -> list[tuple]:
    return sorted(
        j.args for j in queue.jobs if j.func_name.endswith("poll_change_feed")
    )


def test_tick_enqueues_each_due_feed_once(queue, sage):
    due = feed_for(sage, "AR_Customer", next_poll_at=NOW - timedelta(seconds=1))
    new = feed_for(sage, "CI_Item")  # never polled: due at once
    feed_for(sage, "AP_Vendor", next_poll_at=NOW + timedelta(seconds=30))
    feed_for(sage, "PO_PurchaseOrderHeader", enabled=False)

    first = schedules.tick(now=NOW)
    second = schedules.tick(now=NOW)

    assert (first["feeds"], second["feeds"]) == (2, 0)
    assert feed_jobs(queue) == [(due.pk,), (new.pk,)]
    due.refresh_from_db()
    assert due.next_poll_at == NOW + timedelta(seconds=due.interval_seconds)


def test_a_feed_still_waiting_in_the_queue_is_not_queued_again(queue, sage):
    feed = feed_for(sage, "AR_Customer", interval_seconds=60)

    assert schedules.tick(now=NOW)["feeds"] == 1
    # No worker took it yet (Sage is slow); the next interval comes round.
    assert schedules.tick(now=NOW + timedelta(seconds=61))["feeds"] == 0

    assert feed_jobs(queue) == [(feed.pk,)]
    feed.refresh_from_db()
    assert feed.next_poll_at == NOW + timedelta(seconds=121)


def test_a_failed_poll_job_does_not_block_the_next_one(queue, sage):
    from rq.job import Job

    feed = feed_for(sage, "AR_Customer", interval_seconds=60)
    schedules.tick(now=NOW)
    job = Job.fetch(schedules.feed_job_id(feed.pk), connection=queue.connection)
    queue.remove(job)
    job.set_status("failed")

    assert schedules.tick(now=NOW + timedelta(seconds=61))["feeds"] == 1
    assert feed_jobs(queue) == [(feed.pk,)]


def test_feeds_of_a_disabled_connection_are_not_polled(queue, sage):
    sage.status = ConnectionStatus.DISABLED
    sage.save()
    feed_for(sage, "AR_Customer")

    assert schedules.tick(now=NOW)["feeds"] == 0
    assert feed_jobs(queue) == []
