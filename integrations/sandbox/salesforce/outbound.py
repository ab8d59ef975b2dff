"""Workflow Outbound Messages from the simulated org, as Salesforce sends them.

A rule names an object, the fields to send, a condition and an endpoint. Each
matching change queues one Notification (id ``04l…``); a background thread
POSTs queued notifications in SOAP ``notifications`` messages (up to 100 each,
per the Outbound Messaging WSDL) and keeps retrying with exponential backoff
until the listener answers ``<Ack>true</Ack>`` or the notification is older
than the give-up age (24 hours in Salesforce). Delivery is at least once.
"""

from __future__ import annotations

import itertools
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

import requests

from integrations.sandbox.delivery import BackgroundSender, backoff
from integrations.sandbox.salesforce.events import ChangeEvent
from integrations.sandbox.salesforce.ids import make_id

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_PER_MESSAGE = 100


def always(change: ChangeEvent) -> bool:
    return change.change_type in ("CREATE", "UPDATE")


def field_became(name: str, value) -> Callable[[ChangeEvent], bool]:
    """A rule condition: ``name`` was set to ``value`` (e.g. StageName, Closed Won)."""

    def check(change: ChangeEvent) -> bool:
        return (
            change.change_type in ("CREATE", "UPDATE")
            and name in change.fields
            and change.fields[name] == value
        )

    return check


@dataclass(frozen=True)
class OutboundRule:
    sobject: str
    endpoint_url: str
    fields: tuple[str, ...]
    when: Callable[[ChangeEvent], bool] = always
    action_id: str = "04k5g000000OutMsgAAA"
    include_session: bool = False


@dataclass
class Pending:
    notification_id: str
    rule: OutboundRule
    record: dict
    session_id: str | None
    queued_at: float
    attempts: int = 0
    next_attempt: float = 0.0


@dataclass
class Delivery:
    """One POST and what came back, for tests and the demo."""

    notification_ids: list[str]
    status: int | None
    acknowledged: bool
    error: str = ""


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def notifications_envelope(
    org_id: str,
    action_id: str,
    notifications: list[tuple[str, str, dict]],
    *,
    session_id: str | None = None,
    instance_url: str = "https://127.0.0.1",
    api_version: str = "62.0",
) -> bytes:
    """The SOAP message: ``notifications`` = [(notification id, sobject, record)]."""
    items = []
    for notification_id, sobject, record in notifications:
        values = "".join(
            f"<sf:{name}>{escape(_value(value))}</sf:{name}>"
            for name, value in record.items()
            if value is not None
        )
        items.append(
            f"<Notification><Id>{escape(notification_id)}</Id>"
            f'<sObject xsi:type="sf:{sobject}" xmlns:sf="{SOBJECT_NS}">'
            f"{values}</sObject></Notification>"
        )
    session = (
        f"<SessionId>{escape(session_id)}</SessionId>"
        if session_id
        else '<SessionId xsi:nil="true"/>'
    )
    org15 = org_id[:15]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="{XSI}">'
        f'<soapenv:Body><notifications xmlns="{OUTBOUND_NS}">'
        f"<OrganizationId>{escape(org_id)}</OrganizationId>"
        f"<ActionId>{escape(action_id)}</ActionId>{session}"
        f"<EnterpriseUrl>{instance_url}/services/Soap/c/{api_version}/{org15}"
        "</EnterpriseUrl>"
        f"<PartnerUrl>{instance_url}/services/Soap/u/{api_version}/{org15}"
        "</PartnerUrl>"
        f"{''.join(items)}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def acknowledged(body: bytes) -> bool:
    """Only a ``notificationsResponse`` with ``<Ack>true</Ack>`` counts."""
    try:
        envelope = ET.fromstring(body)
    except ET.ParseError:
        return False
    ack = envelope.find(
        f"{{{SOAP_ENV}}}Body/{{{OUTBOUND_NS}}}notificationsResponse/{{{OUTBOUND_NS}}}Ack"
    )
    return ack is not None and (ack.text or "").strip() == "true"


class OutboundMessenger(BackgroundSender):
    """Queue notifications from the org's changes and deliver them until acked.

    ``ca_bundle``: the CA our endpoint's certificate is checked against;
    ``client_cert``: (cert path, key path) to present, when the listener
    requires a client certificate.
    """

    thread_name = "outbound messages"

    def __init__(
        self,
        org,
        rules: list[OutboundRule],
        *,
        ca_bundle: str | bool = True,
        client_cert: tuple[str, str] | None = None,
        retry_initial: float = 15.0,
        retry_max: float = 7200.0,
        give_up_after: float = 24 * 3600,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.org = org
        self.rules = list(rules)
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.give_up_after = give_up_after
        self.timeout = timeout
        self.clock = clock
        self.session = requests.Session()
        self.session.verify = ca_bundle
        if client_cert:
            self.session.cert = client_cert
        self.pending: list[Pending] = []
        self.deliveries: list[Delivery] = []
        self.delivered: list[str] = []
        self._acknowledged: dict[str, Pending] = {}
        self.dropped: list[str] = []
        self._numbers = itertools.count(1)
        org.on_change(self._on_change)

    def _on_change(self, change: ChangeEvent) -> None:
        for rule in self.rules:
            if rule.sobject != change.entity or not rule.when(change):
                continue
            record = {"Id": change.record_ids[0]}
            snapshot = change.record or change.fields
            record.update({name: snapshot.get(name) for name in rule.fields})
            session_id = None
            if rule.include_session:
                user = self.org.identity.user_by_id(change.commit_user)
                if user is not None:
                    session_id = self.org.identity.open_session(user, "outbound").token
            number = next(self._numbers)
            with self._condition:
                self.pending.append(
                    Pending(
                        make_id("04l", self.org.pod, number),
                        rule,
                        record,
                        session_id,
                        self.clock(),
                    )
                )
                self._condition.notify_all()

    def redeliver(self) -> list[str]:
        """Queue every acknowledged notification again, with its id.

        Salesforce does this when an acknowledgement is lost on the way back;
        returns the notification ids sent again.
        """
        with self._condition:
            again = list(self._acknowledged.values())
            self._acknowledged.clear()
            for item in again:
                self.delivered.remove(item.notification_id)
                item.attempts, item.next_attempt = 0, 0.0
                item.queued_at = self.clock()
            self.pending.extend(again)
            self._condition.notify_all()
        return [item.notification_id for item in again]

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._due()
            if batch:
                self._send(batch)
                continue
            with self._condition:
                self._condition.wait(self._wait_seconds())

    def _due(self) -> list[Pending]:
        """Due notifications of one rule (one endpoint, one ActionId), ≤ 100."""
        now = self.clock()
        with self._condition:
            for item in list(self.pending):
                if now - item.queued_at > self.give_up_after:
                    self.pending.remove(item)
                    self.dropped.append(item.notification_id)
            due = [p for p in self.pending if p.next_attempt <= now]
            if not due:
                return []
            rule = due[0].rule
            return [p for p in due if p.rule is rule][:MAX_PER_MESSAGE]

    def _wait_seconds(self) -> float:
        with self._condition:
            if not self.pending:
                return 1.0
            soonest = min(p.next_attempt for p in self.pending)
        return max(0.01, min(1.0, soonest - self.clock()))

    def _send(self, batch: list[Pending]) -> None:
        rule = batch[0].rule
        body = notifications_envelope(
            self.org.org_id,
            rule.action_id,
            [(p.notification_id, rule.sobject, p.record) for p in batch],
            session_id=batch[0].session_id,
            instance_url=self.org.instance_url,
        )
        ids = [p.notification_id for p in batch]
        try:
            response = self.session.post(
                rule.endpoint_url,
                data=body,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            self.deliveries.append(Delivery(ids, None, False, repr(exc)))
            return self._retry(batch)
        ok = response.status_code == 200 and acknowledged(response.content)
        error = "" if ok else response.text[:500]
        self.deliveries.append(Delivery(ids, response.status_code, ok, error))
        if not ok:
            return self._retry(batch)
        with self._condition:
            for item in batch:
                self.pending.remove(item)
                self._acknowledged[item.notification_id] = item
            self.delivered.extend(ids)

    def _retry(self, batch: list[Pending]) -> None:
        now = self.clock()
        with self._condition:
            for item in batch:
                item.attempts += 1
                delay = backoff(item.attempts, self.retry_initial, self.retry_max)
                item.next_attempt = now + delay
