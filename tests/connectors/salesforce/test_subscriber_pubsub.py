"""Our Pub/Sub subscriber against the simulated org, over real gRPC and TLS."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import pytest

from integrations.connectors.salesforce.auth import Token
from integrations.connectors.salesforce.subscriber import Subscriber
from integrations.models import InboundEvent, StreamCursor, System
from integrations.sandbox.salesforce import pubsub_server
from integrations.sandbox.salesforce.eventbus import EventBus, replay_bytes
from integrations.sandbox.salesforce.org import SalesforceOrg
from integrations.sandbox.tls import server_certificate
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db(transaction=True)

OPPORTUNITIES = "/data/OpportunityChangeEvent"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("Timed out waiting for the subscriber.")
        time.sleep(0.05)


@pytest.fixture
def org():
    return SalesforceOrg()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def bus(org, clock):
    return EventBus(org, clock=clock)


@pytest.fixture
def certificate(tmp_path):
    return server_certificate(tmp_path / "tls", "salesforce")


@pytest.fixture
def server(org, bus, certificate):
    running = pubsub_server.serve(
        org, bus, certificate=certificate, keepalive_seconds=1
    )
    yield running
    running.stop()


@pytest.fixture
def connection(server):
    return ConnectionFactory(
        system=System.SALESFORCE,
        settings={
            "pubsub_url": server.target,
            "pubsub_topics": [OPPORTUNITIES],
            "pubsub_start": "EARLIEST",
        },
    )


def org_login(org) -> Callable[[], Token]:
    """What the connector's OAuth login gives, straight from the org's sessions."""

    def login() -> Token:
        session = org.identity.open_session(org.admin, "ledgerbridge")
        return Token(
            session.token, org.instance_url, org.org_id, org.admin.id, time.time()
        )

    return login


@pytest.fixture
def start(connection, org, certificate):
    started = []

    def start_subscriber(**options) -> Subscriber:
        options.setdefault("token_source", org_login(org))
        subscriber = Subscriber(
            connection.pk,
            root_certificates=certificate.ca.read_bytes(),
            backoff_initial=0.05,
            **options,
        )
        subscriber.start()
        started.append(subscriber)
        return subscriber

    yield start_subscriber
    for subscriber in started:
        subscriber.stop()


def new_opportunity(org, name: str) -> str:
    account = org.create("Account", {"Name": f"{name} Ltd"})
    return org.create(
        "Opportunity",
        {
            "Name": name,
            "AccountId": account,
            "StageName": "Prospecting",
            "CloseDate": "2025-01-31",
        },
    )


def stored(connection) -> list[InboundEvent]:
    return list(InboundEvent.objects.filter(connection=connection).order_by("pk"))


def test_won_opportunity_is_stored_once_in_the_normalised_shape(org, connection, start):
    opportunity = new_opportunity(org, "Big deal")
    start()
    org.update("Opportunity", opportunity, {"StageName": "Closed Won"})

    wait_until(lambda: len(stored(connection)) == 2)
    event = stored(connection)[1]
    parsed = json.loads(bytes(event.body))
    assert event.topic == "salesforce.opportunity"
    assert event.provider_event_id == f"pubsub:{OPPORTUNITIES}:{parsed['replay_id']}"
    assert event.signature_verified
    assert parsed["payload"]["StageName"] == "Closed Won"
    assert parsed["payload"]["ChangeEventHeader"]["recordIds"] == [opportunity]
    cursor = StreamCursor.objects.get(connection=connection, topic=OPPORTUNITIES)
    assert bytes(cursor.replay_id).hex() == parsed["replay_id"]
    assert cursor.events_received == 2
    assert cursor.last_event_at is not None


def test_restart_resumes_from_the_cursor_without_loss_or_duplicates(
    org, connection, start
):
    first = start()
    new_opportunity(org, "One")
    wait_until(lambda: len(stored(connection)) == 1)
    first.stop()
    for name in ("Two", "Three", "Four"):
        new_opportunity(org, name)

    start()
    wait_until(lambda: len(stored(connection)) == 4)
    new_opportunity(org, "Five")
    wait_until(lambda: len(stored(connection)) == 5)

    events = stored(connection)
    names = [json.loads(bytes(e.body))["payload"]["Name"] for e in events]
    assert names == ["One", "Two", "Three", "Four", "Five"]
    assert all(event.deliveries == 1 for event in events)
    cursor = StreamCursor.objects.get(connection=connection, topic=OPPORTUNITIES)
    assert cursor.events_received == 5


def test_small_batches_still_receive_every_event(org, connection, start):
    for number in range(7):
        new_opportunity(org, f"Deal {number}")

    start(batch_size=2)

    wait_until(lambda: len(stored(connection)) == 7)
    assert len({e.provider_event_id for e in stored(connection)}) == 7


def test_refused_session_is_replaced_by_a_new_login(org, connection, start):
    login = org_login(org)
    tokens = iter([Token("expired-token", org.instance_url, org.org_id, "", 0.0)])

    def token_source() -> Token:
        return next(tokens, None) or login()

    new_opportunity(org, "After login")
    start(token_source=token_source)

    wait_until(lambda: len(stored(connection)) == 1)
    cursor = StreamCursor.objects.get(connection=connection, topic=OPPORTUNITIES)
    assert "refused the session" in cursor.last_error


def test_expired_replay_id_falls_back_to_earliest_and_says_so(
    org, clock, connection, start
):
    for name in ("Gone", "Also gone"):
        new_opportunity(org, name)
    clock.now += 73 * 3600
    new_opportunity(org, "Retained")
    StreamCursor.objects.create(
        connection=connection, topic=OPPORTUNITIES, replay_id=replay_bytes(1)
    )

    start()

    wait_until(lambda: len(stored(connection)) == 1)
    event = stored(connection)[0]
    assert json.loads(bytes(event.body))["payload"]["Name"] == "Retained"
    cursor = StreamCursor.objects.get(connection=connection, topic=OPPORTUNITIES)
    assert "refused the stored replay id" in cursor.last_error
    assert "EARLIEST" in cursor.last_error


def test_unreachable_pubsub_is_recorded_and_retried(org, connection, start, server):
    server.stop()

    start()

    wait_until(
        lambda: StreamCursor.objects.filter(
            connection=connection, last_error__contains="UNAVAILABLE"
        ).exists()
    )


def test_undecodable_event_is_kept_raw_and_the_stream_goes_on(
    org, bus, connection, start
):
    new_opportunity(org, "Before")
    bad = bus.append_unchecked(OPPORTUNITIES, b"\x02")  # a string cut short
    new_opportunity(org, "After")

    start()

    wait_until(lambda: len(stored(connection)) == 3)
    _before, kept, after = stored(connection)
    assert kept.provider_event_id == f"pubsub:{OPPORTUNITIES}:{bad.replay_id.hex()}"
    assert "could not be decoded" in kept.error
    assert not kept.records.exists()
    raw = json.loads(bytes(kept.body))
    assert base64.b64decode(raw["payload_base64"]) == b"\x02"
    assert raw["schema_id"] == bus.topic_schema[OPPORTUNITIES]
    assert raw["replay_id"] == bad.replay_id.hex()
    assert json.loads(bytes(after.body))["payload"]["Name"] == "After"
    cursor = StreamCursor.objects.get(connection=connection, topic=OPPORTUNITIES)
    assert cursor.events_received == 3
    assert bytes(cursor.replay_id).hex() == json.loads(bytes(after.body))["replay_id"]
