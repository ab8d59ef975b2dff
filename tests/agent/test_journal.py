"""The agent's journal keeps its promises across restarts and over time."""

import datetime

import pytest
import time_machine

from integrations.agent.journal import (
    DONE,
    FAILED,
    PENDING,
    IdempotencyConflict,
    Journal,
)


@pytest.fixture
def journal(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    yield journal
    journal.close()


def test_done_result_survives_a_restart(tmp_path, journal):
    journal.begin("k", "create_item", "d1")
    journal.finish("k", {"key": {"ItemCode": "A"}, "created": True})
    journal.close()

    reopened = Journal(tmp_path / "journal.db")
    entry = reopened.begin("k", "create_item", "d1")
    reopened.close()

    assert entry.status == DONE
    assert entry.result == {"key": {"ItemCode": "A"}, "created": True}


def test_pending_entry_is_reported_as_pending_to_the_next_call(journal):
    journal.begin("k", "create_item", "d1")
    entry = journal.begin("k", "create_item", "d1")
    assert (entry.status, entry.previous) == (PENDING, PENDING)


def test_failed_key_is_free_for_a_corrected_request(journal):
    journal.begin("k", "create_item", "d1")
    journal.fail("k", "The item code is invalid.")
    entry = journal.begin("k", "create_item", "d2")
    assert (entry.status, entry.previous, entry.digest) == (PENDING, FAILED, "d2")


def test_other_operation_with_the_same_key_is_a_conflict(journal):
    journal.begin("k", "create_item", "d1")
    journal.finish("k", {})
    with pytest.raises(IdempotencyConflict, match="'k'"):
        journal.begin("k", "create_customer", "d1")


def test_prune_forgets_old_finished_keys_but_never_pending_ones(journal):
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        for key in ("done", "failed", "pending"):
            journal.begin(key, "create_item", "d")
        journal.finish("done", {})
        journal.fail("failed", "no")
    with time_machine.travel(start + datetime.timedelta(days=91), tick=False):
        journal.begin("recent", "create_item", "d")
        journal.finish("recent", {})
        assert journal.prune(older_than_days=90) == 2

    assert journal.get("done") is None and journal.get("failed") is None
    assert journal.get("pending").status == PENDING
    assert journal.get("recent").status == DONE
