"""Salesforce pushing to us: SOAP Outbound Messages and signed JSON callouts."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import DatabaseError

from integrations import signing
from integrations.models import InboundEvent, System
from integrations.sandbox.salesforce.outbound import (
    acknowledged,
    notifications_envelope,
)
from integrations.services import inbox
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

ORG_ID = "00D5g000000CaR7EAK"
OPPORTUNITY = "0065g00000AbCdEAAR"


@pytest.fixture
def connection():
    return ConnectionFactory(
        system=System.SALESFORCE,
        settings={"organization_id": ORG_ID[:15]},
        credentials={"signing_secret": "callout-secret", "outbound_secret": "om-key"},
    )


def soap(org_id=ORG_ID, notifications=None) -> bytes:
    return notifications_envelope(
        org_id,
        "04k5g000000OutMsgAAA",
        notifications
        or [
            (
                "04l5g000000N0001AAA",
                "Opportunity",
                {"Id": OPPORTUNITY, "StageName": "Closed Won"},
            )
        ],
    )


def post_soap(client, connection, body: bytes, query="?secret=om-key", **headers):
    return client.post(
        f"/api/v1/inbound/salesforce/{connection.slug}/outbound-message{query}",
        data=body,
        content_type="text/xml; charset=utf-8",
        HTTP_SOAPACTION='""',
        **headers,
    )


def test_outbound_message_is_stored_then_acknowledged(client, connection):
    response = post_soap(client, connection, soap())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert acknowledged(response.content)
    event = InboundEvent.objects.get()
    assert event.provider_event_id == "om:04l5g000000N0001AAA"
    assert event.topic == "salesforce.opportunity"
    assert b"Closed Won" in bytes(event.body)
    assert "om-key" not in json.dumps(event.headers)


def test_repeated_notification_creates_one_event(client, connection):
    post_soap(client, connection, soap())
    again = post_soap(client, connection, soap())

    assert acknowledged(again.content)
    assert InboundEvent.objects.get().deliveries == 2


def test_every_notification_of_a_message_is_stored(client, connection):
    body = soap(
        notifications=[
            (f"04l5g000000N000{n}AAA", "Opportunity", {"Id": OPPORTUNITY, "Name": "x"})
            for n in range(3)
        ]
    )

    assert acknowledged(post_soap(client, connection, body).content)
    assert InboundEvent.objects.count() == 3


def test_normalised_event_is_what_flows_read(client, connection):
    with mock.patch.object(inbox, "accept", wraps=inbox.accept) as accept:
        post_soap(client, connection, soap())

    assert accept.call_args.kwargs["parsed"] == {
        "sobject": "Opportunity",
        "change_type": "UPDATE",
        "record_ids": [OPPORTUNITY],
        "fields": {"StageName": "Closed Won"},
        "channel": "outbound_message",
        "event_id": "04l5g000000N0001AAA",
        "commit_timestamp": None,
    }


def test_other_org_is_refused_with_a_soap_fault(client, connection):
    response = post_soap(client, connection, soap(org_id="00D000000000999AAA"))

    assert response.status_code == 401
    assert b"<faultstring>OrganizationId" in response.content
    assert not acknowledged(response.content)
    assert not InboundEvent.objects.exists()


def test_missing_secret_is_refused(client, connection):
    response = post_soap(client, connection, soap(), query="")

    assert response.status_code == 401
    assert b"secret" in response.content
    assert not InboundEvent.objects.exists()


def test_client_certificate_fingerprint_is_required_where_configured(
    client, connection
):
    connection.settings["outbound_client_cert_fingerprint"] = "AB:CD:EF"
    connection.save()

    refused = post_soap(client, connection, soap(), HTTP_X_SSL_CLIENT_FINGERPRINT="00")
    allowed = post_soap(
        client, connection, soap(), HTTP_X_SSL_CLIENT_FINGERPRINT="abcdef"
    )

    assert refused.status_code == 401
    assert acknowledged(allowed.content)


def test_entity_declarations_are_refused(client, connection):
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        + soap().split(b"?>", 1)[1]
    )

    response = post_soap(client, connection, body)

    assert response.status_code == 500
    assert b"entities are not accepted" in response.content


def test_malformed_message_is_a_fault_naming_the_element(client, connection):
    body = soap().replace(b"<sf:Id>", b"<sf:Name>").replace(b"</sf:Id>", b"</sf:Name>")

    response = post_soap(client, connection, body)

    assert response.status_code == 500
    assert b"Notification.sObject.Id" in response.content


def test_no_ack_when_storing_fails(client, connection):
    with mock.patch.object(inbox, "accept", side_effect=DatabaseError("disk full")):
        response = post_soap(client, connection, soap())

    assert response.status_code == 500
    assert not acknowledged(response.content)
    assert not InboundEvent.objects.exists()


# --- signed callouts -------------------------------------------------------------


def callout(**overrides) -> dict:
    return {
        "id": "5b1c0c6e-1111-4a4a-9d9d-000000000001",
        "sobject": "Opportunity",
        "change_type": "UPDATE",
        "record_ids": [OPPORTUNITY],
        "fields": {"StageName": "Closed Won"},
        "timestamp": 1733150000000,
        **overrides,
    }


def post_callout(client, connection, body, *, secret="callout-secret", **options):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"HTTP_X_SALESFORCE_SIGNATURE": signing.sign(secret, raw, **options)}
    return client.post(
        f"/api/v1/inbound/salesforce/{connection.slug}/events",
        data=raw,
        content_type="application/json",
        **headers,
    )


def test_signed_callout_is_stored(client, connection):
    response = post_callout(client, connection, callout())

    assert response.status_code == 202
    event = InboundEvent.objects.get()
    assert event.provider_event_id == "callout:5b1c0c6e-1111-4a4a-9d9d-000000000001"
    assert event.topic == "salesforce.opportunity"
    assert event.signature_verified


def test_repeated_callout_id_is_one_event(client, connection):
    first = post_callout(client, connection, callout())
    second = post_callout(client, connection, callout())

    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["duplicate"] is True
    assert InboundEvent.objects.count() == 1


def test_wrong_signature_is_refused(client, connection):
    response = post_callout(client, connection, callout(), secret="guess")

    assert response.status_code == 401
    assert response.json()["field"] == "X-Salesforce-Signature"
    assert not InboundEvent.objects.exists()


def test_stale_signature_is_refused(client, connection):
    response = post_callout(client, connection, callout(), timestamp=1_000_000)

    assert response.status_code == 401
    assert "window" in response.json()["error"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"record_ids": []}, "record_ids"),
        ({"record_ids": ["not an id"]}, "record_ids.0"),
        ({"sobject": ""}, "sobject"),
        ({"change_type": "MERGE"}, "change_type"),
        ({"fields": ["StageName"]}, "fields"),
        ({"id": None}, "id"),
    ],
)
def test_bad_callout_body_names_the_field_and_is_kept(
    client, connection, change, field
):
    response = post_callout(client, connection, callout(**change))

    assert response.status_code == 400
    assert response.json()["field"] == field
    # Signed, so it is kept with the reason: nothing a sender sent is lost.
    (event,) = InboundEvent.objects.all()
    assert event.error.startswith(f"{field}: ")
    assert response.json()["event"] == event.pk
    assert not event.records.exists()
