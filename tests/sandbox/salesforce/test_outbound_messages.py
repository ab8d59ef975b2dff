"""The simulated org's Outbound Messages reach our endpoint and retry until acked."""

from __future__ import annotations

import time

import pytest

from integrations.models import InboundEvent, System
from integrations.sandbox.salesforce.org import SalesforceOrg
from integrations.sandbox.salesforce.outbound import (
    OutboundMessenger,
    OutboundRule,
    field_became,
)
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("Timed out waiting for the messenger.")
        time.sleep(0.05)


def notifications():
    return InboundEvent.objects.filter(provider_event_id__startswith="om:")


@pytest.fixture
def org():
    return SalesforceOrg()


@pytest.fixture
def messenger_for(org, live_server):
    started = []

    def make(connection) -> OutboundMessenger:
        url = (
            f"{live_server.url}/api/v1/inbound/salesforce/{connection.slug}"
            "/outbound-message?secret=om-key"
        )
        rule = OutboundRule(
            "Opportunity",
            url,
            ("Name", "StageName", "AccountId"),
            when=field_became("StageName", "Closed Won"),
        )
        messenger = OutboundMessenger(org, [rule], retry_initial=0.05, retry_max=0.2)
        messenger.start()
        started.append(messenger)
        return messenger

    yield make
    for messenger in started:
        messenger.stop()


def won_opportunity(org) -> str:
    account = org.create("Account", {"Name": "Acme"})
    opportunity = org.create(
        "Opportunity",
        {
            "Name": "Big",
            "AccountId": account,
            "StageName": "Prospecting",
            "CloseDate": "2025-01-31",
        },
    )
    org.update("Opportunity", opportunity, {"StageName": "Closed Won"})
    return opportunity


def test_closed_won_is_delivered_once_and_acknowledged(org, messenger_for):
    connection = ConnectionFactory(
        system=System.SALESFORCE,
        settings={"organization_id": org.org_id},
        credentials={"outbound_secret": "om-key"},
    )
    messenger = messenger_for(connection)

    opportunity = won_opportunity(org)

    wait_until(lambda: messenger.delivered)
    event = notifications().get()
    assert event.provider_event_id == f"om:{messenger.delivered[0]}"
    assert messenger.delivered[0].startswith("04l")
    assert opportunity.encode() in bytes(event.body)
    assert [d.acknowledged for d in messenger.deliveries] == [True]


def test_redelivered_notification_keeps_its_id_and_is_one_event(org, messenger_for):
    connection = ConnectionFactory(
        system=System.SALESFORCE,
        settings={"organization_id": org.org_id},
        credentials={"outbound_secret": "om-key"},
    )
    messenger = messenger_for(connection)
    won_opportunity(org)
    wait_until(lambda: messenger.delivered)

    again = messenger.redeliver()

    wait_until(lambda: len(messenger.deliveries) == 2 and not messenger.pending)
    assert again == messenger.delivered
    assert notifications().get().deliveries == 2
    assert [d.acknowledged for d in messenger.deliveries] == [True, True]


def test_refused_message_is_retried_until_acknowledged(org, messenger_for):
    connection = ConnectionFactory(
        system=System.SALESFORCE,
        settings={"organization_id": "00D000000000999AAA"},  # not this org yet
        credentials={"outbound_secret": "om-key"},
    )
    messenger = messenger_for(connection)
    won_opportunity(org)
    wait_until(lambda: len(messenger.deliveries) >= 2)
    assert not notifications().exists()

    connection.settings["organization_id"] = org.org_id
    connection.save()

    wait_until(lambda: messenger.delivered)
    refused = [d for d in messenger.deliveries if not d.acknowledged]
    assert refused and all(d.status == 401 for d in refused)
    assert "OrganizationId" in refused[0].error
    assert notifications().count() == 1
    assert not messenger.pending
    # What was refused is kept, whole, with the reason.
    kept = InboundEvent.objects.get(provider_event_id__isnull=True)
    assert kept.error.startswith("OrganizationId: ")
    assert kept.deliveries >= 2
