"""Twenty simultaneous deliveries of one event: one event row, one record."""

import json
import threading

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.test import Client

from integrations.models import InboundEvent, SyncRecord
from tests.api.helpers import signed_headers
from tests.factories import FlowConfigFactory

SENDERS = 20


def _cannot_race() -> str:
    """Why this database cannot take concurrent writers, or "" when it can."""
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):
        return ""
    if database.get("OPTIONS", {}).get("transaction_mode") == "IMMEDIATE":
        return ""  # writers queue for the lock instead of failing "database is locked"
    return "SQLite without IMMEDIATE transactions fails concurrent writers at random"


# Runs on PostgreSQL and on the embedded SQLite (IMMEDIATE mode serialises the
# writers; 25 repeated runs passed), so both engines prove the de-duplication.
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_make_one_record(redis_conn):
    if reason := _cannot_race():
        pytest.skip(reason)
    source = FlowConfigFactory().source_connection
    raw = json.dumps({"id": "SO-77"}).encode()
    headers = signed_headers(source.signing_secret, raw, event_id="evt-race")
    start = threading.Barrier(SENDERS)
    answers: list[int] = []
    failures: list[BaseException] = []

    def deliver() -> None:
        try:
            sender = Client()
            start.wait(timeout=30)
            response = sender.post(
                f"/api/v1/inbound/{source.slug}/",
                data=raw,
                content_type="application/json",
                **headers,
            )
            answers.append(response.status_code)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            failures.append(exc)
        finally:
            db_connection.close()  # each thread has its own; don't leak it

    threads = [threading.Thread(target=deliver) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    assert sorted(answers) == [200] * (SENDERS - 1) + [202]
    event = InboundEvent.objects.get()
    assert event.deliveries == SENDERS
    assert SyncRecord.objects.get().event == event
