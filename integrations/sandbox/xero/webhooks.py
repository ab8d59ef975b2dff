"""The simulated Xero's webhooks: signed batches of events, as Xero sends them.

What Xero does (developer.xero.com/documentation/webhooks/configuring-your-
server and /overview; shapes from ``contracts/xero/xero-webhooks.yaml``):

- Each POST carries ``{events, firstEventSequence, lastEventSequence,
  entropy}``, signed with ``x-xero-signature`` = base64(HMAC-SHA256(body,
  webhook key)).
- "Intent to receive": before any event, a series of validation requests with
  no events (sequences 0, as Xero's documentation shows, although the
  contract's minimum is 1), some signed correctly and some not. The
  subscription is OK only when every signed one got 200 with no body and no
  cookie, and every wrongly signed one 401, each within 5 seconds.
- A batch not answered 200 within 5 seconds is sent again, less and less
  often; after 24 hours of failures Xero gives up and disables the webhook.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

from integrations.sandbox.delivery import BackgroundSender, backoff
from integrations.sandbox.xero.contract import check_webhook_payload

SIGNATURE_HEADER = "x-xero-signature"
API_URL = "https://api.xero.com/api.xro/2.0"
# eventCategory → the Accounting API collection its resourceUrl points into.
COLLECTIONS = {
    "CONTACT": "Contacts",
    "INVOICE": "Invoices",
    "CREDITNOTE": "CreditNotes",
}
RESPONSE_DEADLINE = 5.0
GIVE_UP_AFTER = 24 * 3600.0


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(
        hmac.new(key.encode(), body, hashlib.sha256).digest()
    ).decode()


def _entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


def _xero_time(moment: datetime | None = None) -> str:
    """Xero's eventDateUtc spelling: UTC, milliseconds, no zone suffix."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def event(
    category: str,
    event_type: str,
    *,
    tenant_id: str,
    resource_id: str | None = None,
    occurred: datetime | None = None,
    data: dict | None = None,
    api_url: str = API_URL,
) -> dict:
    """One event as Xero words it. ``category`` CONTACT, INVOICE, CREDITNOTE or
    SUBSCRIPTION; ``event_type`` CREATE or UPDATE; credit notes need ``data``
    ({"Type": ..., "Status": ...})."""
    if event_type not in ("CREATE", "UPDATE"):
        raise ValueError(f"eventType must be CREATE or UPDATE, not {event_type!r}.")
    if category == "CREDITNOTE" and data is None:
        raise ValueError("eventCategory CREDITNOTE needs data with Type and Status.")
    resource_id = resource_id or str(uuid.uuid4())
    if category == "SUBSCRIPTION":
        resource_url, tenant_type = (
            f"{api_url}/Subscriptions/{resource_id}",
            "APPLICATION",
        )
    elif category in COLLECTIONS:
        resource_url = f"{api_url}/{COLLECTIONS[category]}/{resource_id}"
        tenant_type = "ORGANISATION"
    else:
        raise ValueError(f"eventCategory {category!r} is not one Xero sends.")
    built = {
        "resourceUrl": resource_url,
        "resourceId": resource_id,
        "eventDateUtc": _xero_time(occurred),
        "eventType": event_type,
        "eventCategory": category,
        "tenantId": tenant_id,
        "tenantType": tenant_type,
    }
    if data is not None:
        built["data"] = dict(data)
    return built


def payload(
    events: list[dict], first_sequence: int, entropy: str | None = None
) -> dict:
    """A batch of events numbered from ``first_sequence``."""
    if not events:
        raise ValueError("A batch needs at least one event; see intent_payload().")
    return {
        "events": list(events),
        "firstEventSequence": first_sequence,
        "lastEventSequence": first_sequence + len(events) - 1,
        "entropy": entropy or _entropy(),
    }


def intent_payload() -> dict:
    """A validation request's body, as Xero's documentation shows it."""
    return {
        "events": [],
        "firstEventSequence": 0,
        "lastEventSequence": 0,
        "entropy": _entropy(),
    }


@dataclass
class Answer:
    """How the receiver answered one POST (status None: no answer in time)."""

    status: int | None
    body: bytes = b""
    cookies: bool = False
    seconds: float = 0.0

    @property
    def taken(self) -> bool:
        """Xero's test: 200, in time."""
        return self.status == 200 and self.seconds <= RESPONSE_DEADLINE


@dataclass
class Check:
    """One intent-to-receive request and whether its answer was right."""

    signed: bool
    answer: Answer

    @property
    def passed(self) -> bool:
        answer = self.answer
        clean = answer.body == b"" and not answer.cookies
        expected = 200 if self.signed else 401
        return (
            answer.status == expected and clean and answer.seconds <= RESPONSE_DEADLINE
        )


@dataclass
class Delivery:
    payload: dict
    body: bytes
    first_attempt: float | None = None
    next_attempt: float = 0.0
    attempts: int = 0
    answers: list[Answer] = field(default_factory=list)


class WebhookSender(BackgroundSender):
    """One app's webhook subscription: validates the URL, then delivers batches.

    ``status``: "new", "OK" after a passed intent to receive, "failed" after
    a failed one, "disabled" once a batch went unanswered for ``give_up_after``
    seconds (then every queued batch is dropped, as Xero does).
    """

    thread_name = "xero-webhooks"

    def __init__(
        self,
        url: str,
        webhook_key: str,
        *,
        ca_bundle: str | bool = True,
        timeout: float = RESPONSE_DEADLINE,
        retry_initial: float = 30.0,
        retry_max: float = 3600.0,
        give_up_after: float = GIVE_UP_AFTER,
    ) -> None:
        super().__init__()
        self.url = url
        self.webhook_key = webhook_key
        self.timeout = timeout
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.give_up_after = give_up_after
        self.session = requests.Session()
        self.session.verify = ca_bundle
        self.status = "new"
        self.checks: list[Check] = []
        self.next_sequence = 1
        self.pending: list[Delivery] = []
        self.delivered: list[Delivery] = []
        self.failed: list[Delivery] = []

    def post(self, body: bytes, signature: str) -> Answer:
        """One POST as Xero makes it; cookies are not kept between requests."""
        started = time.monotonic()
        self.session.cookies.clear()
        try:
            response = self.session.post(
                self.url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: signature,
                },
                timeout=self.timeout,
            )
        except requests.RequestException:
            return Answer(None, seconds=time.monotonic() - started)
        return Answer(
            response.status_code,
            body=response.content,
            cookies="Set-Cookie" in response.headers,
            seconds=time.monotonic() - started,
        )

    def intent_to_receive(
        self, requests_sent: int = 6, seed: int | None = None
    ) -> bool:
        """Send validation requests, at least one of each kind, in random
        order; the subscription is OK only if every answer was right."""
        if requests_sent < 2:
            raise ValueError("requests_sent must be at least 2: one signed, one not.")
        chance = random.Random(seed)
        kinds = [True, False] + [
            chance.random() < 0.5 for _ in range(requests_sent - 2)
        ]
        chance.shuffle(kinds)
        self.checks = []
        for signed in kinds:
            body = json.dumps(intent_payload()).encode()
            key = self.webhook_key if signed else secrets.token_urlsafe(32)
            self.checks.append(Check(signed, self.post(body, sign(key, body))))
        self.status = "OK" if all(check.passed for check in self.checks) else "failed"
        return self.status == "OK"

    def publish(self, events: list[dict]) -> Delivery:
        """Queue one signed batch of ``events`` for delivery."""
        if self.status != "OK":
            raise RuntimeError(
                f"The webhook's status is {self.status!r}: events are sent only "
                "after a passed intent to receive."
            )
        with self._condition:
            batch = payload(events, self.next_sequence)
            self.next_sequence = batch["lastEventSequence"] + 1
            delivery = Delivery(batch, json.dumps(batch).encode())
            self.pending.append(delivery)
            self._condition.notify_all()
        return delivery

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            with self._condition:
                due = next((d for d in self.pending if d.next_attempt <= now), None)
                if due is None:
                    self._condition.wait(0.05 if self.pending else 1.0)
                    continue
            if due.first_attempt is None:
                due.first_attempt = now
            answer = self.post(due.body, sign(self.webhook_key, due.body))
            due.answers.append(answer)
            due.attempts += 1
            with self._condition:
                if answer.taken:
                    self.pending.remove(due)
                    self.delivered.append(due)
                elif time.monotonic() - due.first_attempt >= self.give_up_after:
                    self.failed.extend(self.pending)
                    self.pending = []
                    self.status = "disabled"
                else:
                    delay = backoff(due.attempts, self.retry_initial, self.retry_max)
                    due.next_attempt = time.monotonic() + delay


class EventBatcher(BackgroundSender):
    """Organisation changes → Xero's batches: one per organisation, sent when
    its first event is ``window`` seconds old, through a ``WebhookSender``.

    Events wait until the subscription has passed its intent to receive; the
    batcher runs the check itself (again every ``intent_retry`` seconds while
    it fails). Each batch is checked against ``xero-webhooks.yaml`` before it
    goes; a problem is reported to ``on_problem``. CREDITNOTE events carry
    ``data`` {Type, Status}, which ``details(tenant, category, id)`` supplies.
    """

    thread_name = "xero-webhook-batcher"

    def __init__(
        self,
        sender: WebhookSender,
        *,
        api_url: str = API_URL,
        window: float = 1.0,
        intent_retry: float = 5.0,
        details=None,
        on_problem=None,
    ) -> None:
        super().__init__()
        self.sender = sender
        self.api_url = api_url
        self.window = window
        self.intent_retry = intent_retry
        self.details = details
        self.on_problem = on_problem
        self.pending: dict[str, list[dict]] = {}
        self.first_at: dict[str, float] = {}
        self.published: list[Delivery] = []
        self._last_intent = float("-inf")

    def listener(self, tenant_id: str):
        """The ``on_change(category, event_type, resource_id)`` for one
        organisation's books."""

        def on_change(category: str, event_type: str, resource_id: str) -> None:
            data = None
            if category == "CREDITNOTE" and self.details is not None:
                data = self.details(tenant_id, category, resource_id)
            built = event(
                category,
                event_type,
                tenant_id=tenant_id,
                resource_id=resource_id,
                data=data,
                api_url=self.api_url,
            )
            with self._condition:
                self.pending.setdefault(tenant_id, []).append(built)
                self.first_at.setdefault(tenant_id, time.monotonic())
                self._condition.notify_all()

        return on_change

    def _due(self, now: float) -> list[str]:
        return [t for t, first in self.first_at.items() if now - first >= self.window]

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._condition:
                due = self._due(time.monotonic())
                if not due:
                    self._condition.wait(0.05 if self.pending else 1.0)
                    continue
            if self.sender.status != "OK":
                if time.monotonic() - self._last_intent < self.intent_retry:
                    with self._condition:
                        self._condition.wait(0.05)
                    continue
                self._last_intent = time.monotonic()
                if not self.sender.intent_to_receive():
                    continue
            for tenant_id in due:
                with self._condition:
                    events = self.pending.pop(tenant_id, [])
                    self.first_at.pop(tenant_id, None)
                if events:
                    self._publish(events)

    def _publish(self, events: list[dict]) -> None:
        problems = check_webhook_payload(
            payload(events, max(self.sender.next_sequence, 1))
        )
        if problems and self.on_problem is not None:
            for problem in problems:
                self.on_problem(problem)
        self.published.append(self.sender.publish(events))
