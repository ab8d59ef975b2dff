"""Salesforce events from every channel, in the one shape the flows read.

Pub/Sub (Change Data Capture and the order platform event), SOAP Outbound
Messages and signed JSON callouts all become::

    {"sobject": "Opportunity", "change_type": "UPDATE", "record_ids": ["006..."],
     "fields": {"StageName": "Closed Won"}, "channel": "pubsub",
     "event_id": "<the channel's own id>", "commit_timestamp": 1733150000000}

Plus the SOAP helpers the Outbound Message endpoint needs: a guarded parser
(no DTDs, no entities, a size cap) and the acknowledgement and fault answers.
Plain functions: the views and the Pub/Sub subscriber call them.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from integrations.engine.errors import ValidationFailed

ORDER_EVENT = "Order_Event__e"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_SOAP_BYTES = 1_000_000
MAX_NOTIFICATIONS = 100
CHANGE_TYPES = ("CREATE", "UPDATE", "DELETE", "UNDELETE")
_SOBJECT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


def topic_for(sobject: str) -> str:
    """The inbox topic flows subscribe to, e.g. ``salesforce.opportunity``."""
    return f"salesforce.{sobject.lower()}"


def jsonable(value):
    """Avro's typed values (dates, date-times) as the strings the REST API uses."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
        millis = f"{value.microsecond // 1000:03d}"
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + millis + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return value


# --- Pub/Sub -------------------------------------------------------------------


def from_pubsub(decoded: dict, *, event_id: str) -> dict:
    """A decoded CDC event or ``Order_Event__e`` as the normalised event."""
    header = decoded.get("ChangeEventHeader")
    if header is None:
        return _from_order_event(decoded, event_id=event_id)
    nulled = set(header.get("nulledFields") or ())
    fields = {
        name: jsonable(value)
        for name, value in decoded.items()
        if name != "ChangeEventHeader" and (value is not None or name in nulled)
    }
    return {
        "sobject": header["entityName"],
        "change_type": header["changeType"],
        "record_ids": list(header["recordIds"]),
        "fields": fields,
        "channel": "pubsub",
        "event_id": event_id,
        "commit_timestamp": header["commitTimestamp"],
    }


def _from_order_event(decoded: dict, *, event_id: str) -> dict:
    """``Order_Event__e``: Action__c is the order's new status (e.g. Activated)."""
    order_id = decoded.get("Order_Id__c")
    return {
        "sobject": "Order",
        "change_type": "UPDATE",
        "record_ids": [order_id] if order_id else [],
        "fields": {"Status": decoded.get("Action__c")},
        "channel": "pubsub",
        "event_id": event_id,
        "commit_timestamp": decoded.get("CreatedDate"),
    }


# --- Outbound Messages (SOAP) ----------------------------------------------------


class SoapMessageInvalid(Exception):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Notification:
    id: str
    sobject: str
    record_id: str
    fields: dict
    xml: bytes  # the notification element as sent, for the inbox


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str
    session_id: str | None
    enterprise_url: str
    partner_url: str
    notifications: list[Notification] = field(default_factory=list)


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _text(parent: ET.Element, name: str, *, required: bool = True) -> str | None:
    element = parent.find(_tag(OUTBOUND_NS, name))
    if element is None:
        if required:
            raise SoapMessageInvalid(f"The {name} element is missing.", name)
        return None
    if element.get(_tag(XSI, "nil")) == "true":
        return None
    return (element.text or "").strip()


def parse_outbound_message(raw: bytes, *, max_bytes: int = MAX_SOAP_BYTES):
    """Read a ``notifications`` SOAP message, refusing anything unusual.

    DTDs and entity declarations are refused before parsing (defusedxml is not
    a dependency; ElementTree would otherwise expand internal entities).
    """
    if len(raw) > max_bytes:
        raise SoapMessageInvalid(f"The message is over {max_bytes} bytes.", "body")
    lowered = raw.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise SoapMessageInvalid(
            "Document type declarations and entities are not accepted.", "body"
        )
    try:
        envelope = ET.fromstring(raw)
    except ET.ParseError as exc:
        message = f"The body is not well-formed XML: {exc}."
        raise SoapMessageInvalid(message, "body") from None
    if envelope.tag != _tag(SOAP_ENV, "Envelope"):
        raise SoapMessageInvalid("The body is not a SOAP 1.1 Envelope.", "Envelope")
    body = envelope.find(_tag(SOAP_ENV, "Body"))
    message = None if body is None else body.find(_tag(OUTBOUND_NS, "notifications"))
    if message is None:
        raise SoapMessageInvalid(
            f"The SOAP Body holds no notifications element in {OUTBOUND_NS}.",
            "notifications",
        )
    elements = message.findall(_tag(OUTBOUND_NS, "Notification"))
    if not elements:
        raise SoapMessageInvalid("The message has no Notification.", "Notification")
    if len(elements) > MAX_NOTIFICATIONS:
        raise SoapMessageInvalid(
            f"At most {MAX_NOTIFICATIONS} Notification elements.", "Notification"
        )
    return OutboundMessage(
        organization_id=_text(message, "OrganizationId") or "",
        action_id=_text(message, "ActionId") or "",
        session_id=_text(message, "SessionId", required=False),
        enterprise_url=_text(message, "EnterpriseUrl", required=False) or "",
        partner_url=_text(message, "PartnerUrl", required=False) or "",
        notifications=[_notification(element) for element in elements],
    )


def _notification(element: ET.Element) -> Notification:
    notification_id = _text(element, "Id")
    if not notification_id:
        raise SoapMessageInvalid("A Notification has an empty Id.", "Notification.Id")
    sobject = element.find(_tag(OUTBOUND_NS, "sObject"))
    if sobject is None:
        raise SoapMessageInvalid(
            f"Notification {notification_id} has no sObject.", "Notification.sObject"
        )
    xsi_type = sobject.get(_tag(XSI, "type"), "")
    type_name = xsi_type.rsplit(":", 1)[-1]
    if not _SOBJECT_NAME.match(type_name):
        raise SoapMessageInvalid(
            f"Notification {notification_id}'s sObject has no xsi:type naming the "
            "object (e.g. sf:Opportunity).",
            "Notification.sObject",
        )
    fields: dict = {}
    for child in sobject:
        name = child.tag.rsplit("}", 1)[-1]
        nil = child.get(_tag(XSI, "nil")) == "true"
        fields[name] = None if nil else (child.text or "")
    record_id = fields.pop("Id", None)
    if not record_id:
        raise SoapMessageInvalid(
            f"Notification {notification_id}'s sObject has no Id.",
            "Notification.sObject.Id",
        )
    return Notification(
        id=notification_id,
        sobject=type_name,
        record_id=record_id,
        fields=fields,
        xml=ET.tostring(element, encoding="utf-8"),
    )


def from_notification(notification: Notification) -> dict:
    stamp = notification.fields.get("SystemModstamp") or notification.fields.get(
        "LastModifiedDate"
    )
    return {
        "sobject": notification.sobject,
        "change_type": "UPDATE",
        "record_ids": [notification.record_id],
        "fields": dict(notification.fields),
        "channel": "outbound_message",
        "event_id": notification.id,
        "commit_timestamp": _epoch_ms(stamp),
    }


def _epoch_ms(stamp: str | None) -> int | None:
    if not stamp:
        return None
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def same_org(given: str, expected: str) -> bool:
    """Org ids compare on their first 15 characters (15- and 18-char forms)."""
    return bool(given) and given[:15] == expected[:15]


def _envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}">'
        f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    ).encode()


def ack_response(ack: bool = True) -> bytes:
    """The ``notificationsResponse`` Salesforce waits for before it stops retrying."""
    return _envelope(
        f'<notificationsResponse xmlns="{OUTBOUND_NS}">'
        f"<Ack>{'true' if ack else 'false'}</Ack></notificationsResponse>"
    )


def soap_fault(code: str, message: str) -> bytes:
    """A SOAP 1.1 Fault; ``code`` is Client (the sender's fault) or Server."""
    from xml.sax.saxutils import escape

    return _envelope(
        "<soapenv:Fault>"
        f"<faultcode>soapenv:{escape(code)}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring>"
        "</soapenv:Fault>"
    )


# --- Signed JSON callouts ----------------------------------------------------------


def from_callout(body, *, event_id: str) -> dict:
    """Validate a callout body; ValidationFailed names the first bad field."""
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object.", field="body")
    sobject = body.get("sobject")
    if not isinstance(sobject, str) or not _SOBJECT_NAME.match(sobject):
        raise ValidationFailed(
            "sobject must be an object's API name, e.g. Opportunity.", field="sobject"
        )
    change_type = body.get("change_type")
    if change_type not in CHANGE_TYPES:
        raise ValidationFailed(
            f"change_type must be one of {', '.join(CHANGE_TYPES)}.",
            field="change_type",
        )
    record_ids = body.get("record_ids")
    if not isinstance(record_ids, list) or not record_ids:
        raise ValidationFailed(
            "record_ids must be a non-empty list of record ids.", field="record_ids"
        )
    for index, record_id in enumerate(record_ids):
        if not isinstance(record_id, str) or not _RECORD_ID.match(record_id):
            raise ValidationFailed(
                "Each record id is 15 or 18 letters and digits.",
                field=f"record_ids.{index}",
            )
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise ValidationFailed("fields must be a JSON object.", field="fields")
    timestamp = body.get("timestamp")
    if timestamp is not None and (
        isinstance(timestamp, bool) or not isinstance(timestamp, int)
    ):
        raise ValidationFailed(
            "timestamp must be epoch milliseconds (an integer).", field="timestamp"
        )
    return {
        "sobject": sobject,
        "change_type": change_type,
        "record_ids": record_ids,
        "fields": fields,
        "channel": "callout",
        "event_id": event_id,
        "commit_timestamp": timestamp,
    }
