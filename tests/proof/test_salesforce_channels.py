"""One won opportunity through all three real Salesforce channels at once.

A simulated org with its Pub/Sub API server, its Outbound Messages and its
signed callouts, all aimed at our portal on a real HTTP port, and our Pub/Sub
subscriber in a thread: the win arrives three times, then every channel sends
it again. However often it arrives, it is one record and one Sage 100 order.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

import pytest

from integrations.connectors.salesforce import client as salesforce_client
from integrations.connectors.salesforce.subscriber import Subscriber
from integrations.engine import runner
from integrations.models import (
    InboundEvent,
    RecordStatus,
    StreamCursor,
    SyncRecord,
    System,
)
from integrations.sandbox.salesforce import pubsub_server
from integrations.sandbox.salesforce.callouts import CalloutRule, CalloutSender
from integrations.sandbox.salesforce.eventbus import EventBus
from integrations.sandbox.salesforce.outbound import (
    OutboundMessenger,
    OutboundRule,
    field_became,
)
from integrations.sandbox.tls import server_certificate
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.sage100 import running_sage100
from tests.support.salesforce import running_salesforce

pytestmark = pytest.mark.django_db(transaction=True)

OPPORTUNITIES = "/data/OpportunityChangeEvent"
OUTBOUND_SECRET, CALLOUT_SECRET = "proof-outbound-secret", "proof-callout-secret"
CHANNELS = {"pubsub", "om", "callout"}  # provider event id prefixes
WON = field_became("StageName", "Closed Won")


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}.")
        time.sleep(0.05)


@pytest.fixture
def sage(tmp_path):
    with running_sage100(tmp_path / "sage100") as company:
        company.db.add_udf("AR_Customer", "UDF_SF_ACCOUNT_ID", length=18)
        company.db.add_udf("SO_SalesOrderHeader", "UDF_SF_OPPORTUNITY_ID", length=18)
        yield company


@pytest.fixture
def salesforce(tmp_path):
    salesforce_client.forget_tokens()
    with running_salesforce(tmp_path / "salesforce") as running:
        yield running


@pytest.fixture
def pubsub(salesforce, tmp_path):
    """The org's Pub/Sub API; its bus starts after seeding, so it holds only
    what the test does."""
    bus = EventBus(salesforce.org)
    certificate = server_certificate(tmp_path / "salesforce" / "tls", "salesforce")
    server = pubsub_server.serve(
        salesforce.org, bus, certificate=certificate, keepalive_seconds=1
    )
    yield server
    server.stop()


@pytest.fixture
def config(sage, salesforce, pubsub):
    settings, credentials = salesforce.connection()
    source = ConnectionFactory(
        system=System.SALESFORCE,
        settings={
            **settings,
            "pubsub_url": pubsub.target,
            "pubsub_topics": [OPPORTUNITIES],
            "pubsub_start": "EARLIEST",
        },
        credentials={
            **credentials,
            "outbound_secret": OUTBOUND_SECRET,
            "signing_secret": CALLOUT_SECRET,
        },
    )
    target = ConnectionFactory(
        system=System.SAGE100,
        settings=sage.connection_settings(),
        credentials=sage.credentials,
    )
    return FlowConfigFactory(
        flow="salesforce_opportunity_to_sage100",
        source_connection=source,
        target_connection=target,
        options={
            "customer_reference_column": "UDF_SF_ACCOUNT_ID",
            "item_codes": {"remove_prefixes": ["SF-"], "replace": {" ": "-"}},
        },
    )


@pytest.fixture
def channels(salesforce, config, live_server):
    """The org's Outbound Message and callout senders, aimed at the portal."""
    inbound = f"{live_server.url}/api/v1/inbound/salesforce/"
    inbound += config.source_connection.slug
    messenger = OutboundMessenger(
        salesforce.org,
        [
            OutboundRule(
                "Opportunity",
                f"{inbound}/outbound-message?secret={OUTBOUND_SECRET}",
                ("Name", "StageName", "AccountId"),
                when=WON,
            )
        ],
        retry_initial=0.05,
        retry_max=0.2,
    )
    sender = CalloutSender(
        salesforce.org,
        [CalloutRule("Opportunity", f"{inbound}/events", when=WON)],
        secret=CALLOUT_SECRET,
        retry_initial=0.05,
    )
    for started in (messenger, sender):
        started.session.trust_env = False  # plain HTTP, no proxy from the env
        started.start()
    yield messenger, sender
    messenger.stop()
    sender.stop()


@pytest.fixture
def subscribers(config):
    """Start our subscriber (real OAuth login, TLS to the Pub/Sub server)."""
    started: list[Subscriber] = []

    def start() -> Subscriber:
        subscriber = Subscriber(config.source_connection.pk, backoff_initial=0.05)
        subscriber.start()
        started.append(subscriber)
        return subscriber

    yield start
    for subscriber in started:
        subscriber.stop()


def win_events(connection, opportunity: str) -> dict[str, list[InboundEvent]]:
    """The stored deliveries that carry the win, by channel."""
    found: dict[str, list[InboundEvent]] = {}
    for event in InboundEvent.objects.filter(
        connection=connection, topic="salesforce.opportunity"
    ):
        body = bytes(event.body)
        if opportunity.encode() in body and b"Closed Won" in body:
            channel = event.provider_event_id.split(":", 1)[0]
            found.setdefault(channel, []).append(event)
    return found


def sage_orders(sage, opportunity: str) -> list[str]:
    with sqlite3.connect(sage.db.path) as db:
        rows = db.execute(
            "SELECT SalesOrderNo FROM SO_SalesOrderHeader "
            "WHERE UDF_SF_OPPORTUNITY_ID = ?",
            (opportunity,),
        ).fetchall()
    return [row[0] for row in rows]


def test_one_win_by_three_channels_six_times_is_one_record_and_one_order(
    salesforce, sage, config, channels, subscribers, redis_conn
):
    messenger, sender = channels
    source = config.source_connection
    first_subscriber = subscribers()
    opportunity = salesforce.access.ids["opportunity:abf"]

    salesforce.org.update("Opportunity", opportunity, {"StageName": "Closed Won"})

    wait_until(
        lambda: set(win_events(source, opportunity)) == CHANNELS,
        "the win to arrive by Pub/Sub, Outbound Message and callout",
    )
    arrived = win_events(source, opportunity)
    assert {channel: len(events) for channel, events in arrived.items()} == {
        "pubsub": 1,
        "om": 1,
        "callout": 1,
    }
    (record,) = SyncRecord.objects.filter(flow_config=config, source_id=opportunity)

    runner.run_record(record.pk)
    record.refresh_from_db()
    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(sage_orders(sage, opportunity)) == 1

    # Every channel delivers again: lost acknowledgements, and a subscriber
    # that lost its cursor and replays the topic from the earliest event.
    assert messenger.redeliver() and sender.redeliver()
    first_subscriber.stop()
    StreamCursor.objects.filter(connection=source).delete()
    subscribers()

    wait_until(
        lambda: all(
            [event.deliveries for event in events] == [2]
            for events in win_events(source, opportunity).values()
        ),
        "every channel to deliver the win again",
    )
    arrived = win_events(source, opportunity)
    assert sum(e.deliveries for events in arrived.values() for e in events) == 6
    (again,) = SyncRecord.objects.filter(flow_config=config, source_id=opportunity)
    assert again.pk == record.pk
    for each in SyncRecord.objects.filter(flow_config=config):
        runner.run_record(each.pk)
    assert len(sage_orders(sage, opportunity)) == 1
