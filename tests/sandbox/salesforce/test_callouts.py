"""The simulated org's signed callouts reach our endpoint, retried until 2xx."""

from __future__ import annotations

import time

import pytest

from integrations.models import InboundEvent, System
from integrations.sandbox.salesforce.callouts import CalloutRule, CalloutSender
from integrations.sandbox.salesforce.org import SalesforceOrg
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("Timed out waiting for the sender.")
        time.sleep(0.05)


@pytest.fixture
def org():
    return SalesforceOrg()


@pytest.fixture
def sender_for(org, live_server):
    started = []

    def make(connection, secret: str) -> CalloutSender:
        url = f"{live_server.url}/api/v1/inbound/salesforce/{connection.slug}/events"
        sender = CalloutSender(
            org, [CalloutRule("Account", url)], secret=secret, retry_initial=0.05
        )
        sender.start()
        started.append(sender)
        return sender

    yield make
    for sender in started:
        sender.stop()


def test_change_arrives_as_one_signed_event(org, sender_for):
    connection = ConnectionFactory(
        system=System.SALESFORCE, credentials={"signing_secret": "shared"}
    )
    sender = sender_for(connection, "shared")

    account = org.create("Account", {"Name": "Acme"})

    wait_until(lambda: sender.delivered)
    event = InboundEvent.objects.get()
    assert event.provider_event_id == f"callout:{sender.delivered[0].event_id}"
    assert event.topic == "salesforce.account"
    assert account.encode() in bytes(event.body)
    assert sender.delivered[0].statuses == [202]


def test_refused_callout_is_retried_with_the_same_id(org, sender_for):
    connection = ConnectionFactory(
        system=System.SALESFORCE, credentials={"signing_secret": "rotated"}
    )
    sender = sender_for(connection, "shared")
    org.create("Account", {"Name": "Acme"})
    wait_until(lambda: sender.pending and sender.pending[0].attempts >= 2)

    connection.credentials = {"signing_secret": "shared"}
    connection.save()

    wait_until(lambda: sender.delivered)
    assert sender.delivered[0].statuses[0] == 401
    assert sender.delivered[0].statuses[-1] == 202
    assert InboundEvent.objects.count() == 1


def test_redelivered_callout_keeps_its_id_and_is_one_event(org, sender_for):
    connection = ConnectionFactory(
        system=System.SALESFORCE, credentials={"signing_secret": "shared"}
    )
    sender = sender_for(connection, "shared")
    org.create("Account", {"Name": "Acme"})
    wait_until(lambda: sender.delivered)
    first = sender.delivered[0].event_id

    assert sender.redeliver() == [first]

    wait_until(lambda: sender.delivered and not sender.pending)
    assert sender.delivered[0].statuses == [202, 200]  # 200: a repeat
    assert InboundEvent.objects.get().deliveries == 2
