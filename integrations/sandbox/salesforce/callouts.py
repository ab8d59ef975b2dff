"""Signed JSON callouts from the simulated org, like a Flow's HTTP action or Apex.

Each matching change becomes one JSON event with a fresh id, POSTed with
``X-Salesforce-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` (our
``integrations.signing`` format) and ``X-Salesforce-Event-Id``. A non-2xx
answer or a network error is retried with backoff, re-signed each time, with
the same id so the receiver can de-duplicate.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from integrations import signing
from integrations.sandbox.delivery import RetryQueue
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


class CalloutSender(RetryQueue):
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
        super().__init__(
            retry_initial=retry_initial, retry_max=retry_max, max_attempts=max_attempts
        )
        self.rules = list(rules)
        self.secret = secret
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = ca_bundle
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
