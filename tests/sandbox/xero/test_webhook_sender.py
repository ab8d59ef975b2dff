"""The simulated Xero's webhook sender: contract-shaped, signed, retried."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from integrations.models import InboundEvent, System
from integrations.sandbox.contracts import contract
from integrations.sandbox.xero.webhooks import (
    WebhookSender,
    event,
    intent_payload,
    payload,
    sign,
)
from tests.factories import ConnectionFactory

KEY = "xero-webhook-key"
TENANT = "aef86862-2015-4b6b-88bc-d89032cecc50"
APP = "4f2c8a8e-9d8b-4c51-9c63-3e8e6f1d2a10"


def contract_validator(schema: str) -> Draft202012Validator:
    spec = yaml.safe_load(contract("xero/xero-webhooks.yaml").read_text())
    registry = Registry().with_resource(
        "urn:xero", Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"urn:xero#/components/schemas/{schema}"}, registry=registry
    )


def wait_until(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("Timed out waiting for the sender.")
        time.sleep(0.02)


class Receiver:
    """A stand-in endpoint answering from a script: (status, delay) per POST,
    the last entry repeating."""

    def __init__(self, script: list[tuple[int, float]]) -> None:
        self.script = list(script)
        self.bodies: list[bytes] = []
        self.signatures: list[str] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies.append(body)
                receiver.signatures.append(self.headers["x-xero-signature"])
                turn = min(len(receiver.bodies), len(receiver.script)) - 1
                status, delay = receiver.script[turn]
                if delay:
                    receiver.release.wait(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(script):
        made.append(Receiver(script))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def senders():
    made = []

    def make(url: str, **options) -> WebhookSender:
        status = options.pop("status", "OK")  # most tests start past the handshake
        sender = WebhookSender(url, KEY, retry_initial=0.02, **options)
        sender.status = status
        sender.start()
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.stop()


def every_kind_of_event() -> list[dict]:
    return [
        event("CONTACT", "CREATE", tenant_id=TENANT),
        event("CONTACT", "UPDATE", tenant_id=TENANT),
        event("INVOICE", "CREATE", tenant_id=TENANT),
        event("INVOICE", "UPDATE", tenant_id=TENANT),
        event(
            "CREDITNOTE",
            "CREATE",
            tenant_id=TENANT,
            data={"Type": "ACCRECCREDIT", "Status": "AUTHORISED"},
        ),
        event("SUBSCRIPTION", "UPDATE", tenant_id=APP),
    ]


def test_every_batch_the_sender_builds_keeps_the_contract():
    validator = contract_validator("WebhookEvent")
    events = every_kind_of_event()
    batches = [payload([one], 1 + n) for n, one in enumerate(events)]
    batches.append(payload(events, 40))

    for batch in batches:
        assert list(validator.iter_errors(batch)) == []
    assert batches[-1]["lastEventSequence"] == 40 + len(events) - 1


def test_credit_note_batch_keeps_the_credit_note_contract():
    validator = contract_validator("CreditNoteWebhookEvent")
    credit = event(
        "CREDITNOTE",
        "UPDATE",
        tenant_id=TENANT,
        data={"Type": "ACCPAYCREDIT", "Status": "PAID"},
    )

    assert list(validator.iter_errors(payload([credit], 3))) == []


def test_subscription_event_is_an_application_event():
    built = event("SUBSCRIPTION", "CREATE", tenant_id=APP)

    assert built["tenantType"] == "APPLICATION"
    assert built["resourceUrl"].endswith(f"/Subscriptions/{built['resourceId']}")


def test_intent_payload_breaks_the_contract_only_in_its_zero_sequences():
    # Xero's documentation sends 0; the contract says at least 1.
    errors = list(contract_validator("WebhookEvent").iter_errors(intent_payload()))

    assert sorted(error.path[0] for error in errors) == [
        "firstEventSequence",
        "lastEventSequence",
    ]
    assert all(error.validator == "minimum" for error in errors)


@pytest.mark.parametrize(
    ("category", "event_type", "data"),
    [
        ("PAYMENT", "CREATE", None),
        ("INVOICE", "DELETE", None),
        ("CREDITNOTE", "CREATE", None),
    ],
)
def test_events_xero_would_not_send_are_refused(category, event_type, data):
    with pytest.raises(ValueError, match="event"):
        event(category, event_type, tenant_id=TENANT, data=data)


def test_intent_to_receive_fails_when_a_wrong_signature_gets_200(receivers):
    receiver = receivers([(200, 0)])
    sender = WebhookSender(receiver.url, KEY)

    assert not sender.intent_to_receive(seed=3)
    assert sender.status == "failed"
    with pytest.raises(RuntimeError, match="intent to receive"):
        sender.publish([event("INVOICE", "UPDATE", tenant_id=TENANT)])


def test_batches_are_signed_with_the_webhook_key_and_numbered(receivers, senders):
    receiver = receivers([(200, 0)])
    sender = senders(receiver.url)

    sender.publish(every_kind_of_event()[:2])
    sender.publish(every_kind_of_event()[2:3])
    wait_until(lambda: len(sender.delivered) == 2)

    assert [sign(KEY, body) for body in receiver.bodies] == receiver.signatures
    sequences = [
        (json.loads(body)["firstEventSequence"], json.loads(body)["lastEventSequence"])
        for body in receiver.bodies
    ]
    assert sequences == [(1, 2), (3, 3)]


def test_answer_500_is_retried_with_the_same_body_then_delivered(receivers, senders):
    receiver = receivers([(500, 0), (500, 0), (200, 0)])
    sender = senders(receiver.url)

    delivery = sender.publish([event("INVOICE", "UPDATE", tenant_id=TENANT)])
    wait_until(lambda: sender.delivered)

    assert [answer.status for answer in delivery.answers] == [500, 500, 200]
    assert len(set(receiver.bodies)) == 1
    assert sender.status == "OK"


def test_answer_later_than_the_deadline_is_retried(receivers, senders):
    receiver = receivers([(200, 2.0), (200, 0)])
    sender = senders(receiver.url, timeout=0.2)

    delivery = sender.publish([event("CONTACT", "UPDATE", tenant_id=TENANT)])
    wait_until(lambda: sender.delivered)

    assert delivery.answers[0].status is None
    assert delivery.answers[-1].status == 200


def test_gives_up_after_the_window_and_disables_the_webhook(receivers, senders):
    receiver = receivers([(503, 0)])
    sender = senders(receiver.url, give_up_after=0.3)

    sender.publish([event("INVOICE", "CREATE", tenant_id=TENANT)])
    sender.publish([event("INVOICE", "UPDATE", tenant_id=TENANT)])
    wait_until(lambda: sender.status == "disabled")

    assert len(sender.failed) == 2
    assert not sender.pending
    assert sender.failed[0].attempts >= 2


@pytest.mark.django_db(transaction=True)
def test_handshake_then_events_reach_our_endpoint_once(live_server, senders):
    connection = ConnectionFactory(system=System.XERO, credentials={"webhook_key": KEY})
    url = f"{live_server.url}/api/v1/inbound/xero/{connection.slug}/webhook"
    sender = senders(url, status="new")
    assert sender.intent_to_receive(seed=11)
    update = event("INVOICE", "UPDATE", tenant_id=TENANT)

    for _ in range(5):
        sender.publish([update])
    wait_until(lambda: len(sender.delivered) == 5)

    stored = InboundEvent.objects.get()
    assert stored.deliveries == 5
    assert stored.topic == "xero.invoice.update"
    assert all(len(d.answers) == 1 for d in sender.delivered)
    assert all(d.answers[0].body == b"" for d in sender.delivered)
