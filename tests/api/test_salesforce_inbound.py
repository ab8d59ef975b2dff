"""Salesforce pushing to us: SOAP Outbound Messages and signed JSON callouts."""

from __future__ import annotations

import hashlib
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


def notification_events():
    return InboundEvent.objects.filter(provider_event_id__startswith="om:")


def test_outbound_message_is_stored_then_acknowledged(client, connection):
    response = post_soap(client, connection, soap())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert acknowledged(response.content)
    event = notification_events().get()
    assert event.provider_event_id == "om:04l5g000000N0001AAA"
    assert event.topic == "salesforce.opportunity"
    assert b"Closed Won" in bytes(event.body)
    assert "om-key" not in json.dumps(event.headers)


def test_whole_envelope_is_kept_and_each_notification_is_its_exact_bytes(
    client, connection
):
    body = soap(
        notifications=[
            (f"04l5g000000N000{n}AAA", "Opportunity", {"Id": OPPORTUNITY, "Name": "x"})
            for n in range(2)
        ]
    )

    post_soap(client, connection, body)

    envelope = InboundEvent.objects.get(topic="salesforce.outbound_message")
    assert bytes(envelope.body) == body
    assert envelope.provider_event_id == (
        f"om-message:{hashlib.sha256(body).hexdigest()}"
    )
    assert not envelope.error
    for event in notification_events():
        part = bytes(event.body)
        assert part.startswith(b"<Notification><Id>") and part in body
        assert part.endswith(b"</Notification>")
        assert event.headers["X-LedgerBridge-Envelope"] == envelope.provider_event_id


def test_repeated_notification_creates_one_event(client, connection):
    post_soap(client, connection, soap())
    again = post_soap(client, connection, soap())

    assert acknowledged(again.content)
    assert notification_events().get().deliveries == 2
    envelope = InboundEvent.objects.get(topic="salesforce.outbound_message")
    assert envelope.deliveries == 2


def test_every_notification_of_a_message_is_stored(client, connection):
    body = soap(
        notifications=[
            (f"04l5g000000N000{n}AAA", "Opportunity", {"Id": OPPORTUNITY, "Name": "x"})
            for n in range(3)
        ]
    )

    assert acknowledged(post_soap(client, connection, body).content)
    assert notification_events().count() == 3


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


def test_other_org_is_kept_with_the_reason_and_refused_with_a_soap_fault(
    client, connection
):
    body = soap(org_id="00D000000000999AAA")

    response = post_soap(client, connection, body)
    post_soap(client, connection, body)  # Salesforce retries

    assert response.status_code == 401
    assert b"<faultstring>OrganizationId" in response.content
    assert not acknowledged(response.content)
    (kept,) = InboundEvent.objects.all()
    assert bytes(kept.body) == body
    assert kept.error.startswith("OrganizationId: ")
    assert kept.deliveries == 2
    assert not kept.records.exists()


def test_missing_secret_is_refused_and_nothing_is_stored(client, connection):
    response = post_soap(client, connection, soap(), query="")

    assert response.status_code == 401
    assert b"secret" in response.content
    assert not InboundEvent.objects.exists()


def test_connection_without_any_sender_check_refuses_every_message(client, connection):
    connection.credentials = {"signing_secret": "callout-secret"}
    connection.save()

    response = post_soap(client, connection, soap(), query="")

    assert response.status_code == 401
    assert b"set credentials.outbound_secret" in response.content
    assert b"outbound_client_cert_fingerprint" in response.content
    assert not InboundEvent.objects.exists()


def test_client_certificate_alone_is_a_sender_check(client, connection):
    connection.credentials = {}
    connection.settings["outbound_client_cert_fingerprint"] = "AB:CD:EF"
    connection.save()

    response = post_soap(
        client, connection, soap(), query="", HTTP_X_SSL_CLIENT_FINGERPRINT="abcdef"
    )

    assert acknowledged(response.content)


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


def with_entity(declaration: str = "UTF-8") -> str:
    """The test message with an internal entity standing in for the stage."""
    rest = soap().split(b"?>", 1)[1].decode().replace("Closed Won", "&won;")
    return (
        f'<?xml version="1.0" encoding="{declaration}"?>'
        '<!DOCTYPE x [<!ENTITY won "Closed Won">]>' + rest
    )


def test_entity_declarations_are_refused(client, connection):
    response = post_soap(client, connection, with_entity().encode())

    assert response.status_code == 500
    assert b"entities are not accepted" in response.content
    assert not notification_events().exists()


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-16"),  # with a byte order mark
        lambda text: text.encode("utf-16-le"),  # none: the declaration says so
    ],
    ids=["utf-16-bom", "utf-16-le"],
)
def test_utf16_body_cannot_smuggle_an_entity_past_the_guard(client, connection, encode):
    body = encode(with_entity("UTF-16"))

    response = post_soap(client, connection, body)

    assert response.status_code == 500
    assert not acknowledged(response.content)
    assert not notification_events().exists()
    (kept,) = InboundEvent.objects.all()
    assert bytes(kept.body) == body
    assert kept.error.startswith("body: ")


def test_utf8_body_declaring_another_encoding_is_refused(client, connection):
    body = soap().replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')

    response = post_soap(client, connection, body)

    assert response.status_code == 500
    assert b"only UTF-8 is accepted" in response.content


def test_malformed_message_is_kept_and_a_fault_names_the_element(client, connection):
    body = soap().replace(b"<sf:Id>", b"<sf:Name>").replace(b"</sf:Id>", b"</sf:Name>")

    response = post_soap(client, connection, body)

    assert response.status_code == 500
    assert b"Notification.sObject.Id" in response.content
    (kept,) = InboundEvent.objects.all()
    assert bytes(kept.body) == body
    assert kept.topic == "salesforce.outbound_message"
    assert kept.error.startswith("Notification.sObject.Id: ")


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
