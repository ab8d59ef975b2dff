"""Signed JSON callouts from the simulated org, like a Flow's HTTP action or Apex.

Each matching change becomes one JSON event with a fresh id, POSTed with
``X-Salesforce-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` (our
``integrations.signing`` format) and ``X-Salesforce-Event-Id``. A non-2xx
answer or a network error is retried with backoff, re-signed each time, with
the same id so the receiver can de-duplicate.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from integrations import signing
from integrations.sandbox.delivery import BackgroundSender, backoff
from integrations.sandbox.salesforce.events import ChangeEvent

SIGNATURE_HEADER = "X-Salesforce-Signature"
EVENT_ID_HEADER = "X-Salesforce-Event-Id"


def callout_body(change: ChangeEvent, event_id: str) -> dict:
    return {
        "id": event_id,
        "sobject": change.entity,
        "change_type": change.change_type,
        "record_ids": list(change.record_ids),
        "fields": dict(change.fields),
        "timestamp": change.commit_timestamp,
    }


@dataclass(frozen=True)
class CalloutRule:
    sobject: str
    endpoint_url: str
    when: Callable[[ChangeEvent], bool] = lambda change: True


@dataclass
class Callout:
    event_id: str
    rule: CalloutRule
    body: bytes
    attempts: int = 0
    next_attempt: float = 0.0
    statuses: list = field(default_factory=list)


class CalloutSender(BackgroundSender):
    """Send each matching change as a signed callout until a 2xx answer."""

    thread_name = "callouts"

    def __init__(
        self,
        org,
        rules: list[CalloutRule],
        *,
        secret: str,
        ca_bundle: str | bool = True,
        retry_initial: float = 1.0,
        retry_max: float = 600.0,
        max_attempts: int = 10,
        timeout: float = 10.0,
    ) -> None:
        super().__init__()
        self.rules = list(rules)
        self.secret = secret
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = ca_bundle
        self.pending: list[Callout] = []
        self.delivered: list[Callout] = []
        self.failed: list[Callout] = []
        org.on_change(self._on_change)

    def _on_change(self, change: ChangeEvent) -> None:
        for rule in self.rules:
            if rule.sobject == change.entity and rule.when(change):
                event_id = str(uuid.uuid4())
                body = json.dumps(callout_body(change, event_id)).encode()
                with self._condition:
                    self.pending.append(Callout(event_id, rule, body))
                    self._condition.notify_all()

    def send(self, callout: Callout) -> int | None:
        """One signed POST; the status code, or None when unreachable."""
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signing.sign(self.secret, callout.body),
            EVENT_ID_HEADER: callout.event_id,
        }
        try:
            response = self.session.post(
                callout.rule.endpoint_url,
                data=callout.body,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.RequestException:
            return None
        return response.status_code

    def redeliver(self) -> list[str]:
        """Send every delivered callout again, with its id and body (a lost 2xx,
        or a Flow that ran twice); returns the event ids sent again."""
        with self._condition:
            again, self.delivered = self.delivered, []
            for callout in again:
                callout.attempts, callout.next_attempt = 0, 0.0
            self.pending.extend(again)
            self._condition.notify_all()
        return [callout.event_id for callout in again]

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            with self._condition:
                due = next((c for c in self.pending if c.next_attempt <= now), None)
                if due is None:
                    self._condition.wait(0.05 if self.pending else 1.0)
                    continue
            status = self.send(due)
            due.statuses.append(status)
            due.attempts += 1
            with self._condition:
                if status is not None and 200 <= status < 300:
                    self.pending.remove(due)
                    self.delivered.append(due)
                elif due.attempts >= self.max_attempts:
                    self.pending.remove(due)
                    self.failed.append(due)
                else:
                    delay = backoff(due.attempts, self.retry_initial, self.retry_max)
                    due.next_attempt = time.monotonic() + delay
