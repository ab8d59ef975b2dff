"""Salesforce events from every channel, in the one shape the flows read.

Pub/Sub (Change Data Capture and the order platform event), SOAP Outbound
Messages and signed JSON callouts all become::

    {"sobject": "Opportunity", "change_type": "UPDATE", "record_ids": ["006..."],
     "fields": {"StageName": "Closed Won"}, "channel": "pubsub",
     "event_id": "<the channel's own id>", "commit_timestamp": 1733150000000}

Plus the SOAP helpers the Outbound Message endpoint needs: a guarded parser
and the acknowledgement and fault answers. The parser takes UTF-8 only
(Salesforce sends UTF-8; a UTF-16 body could hide a DOCTYPE from a byte
search) and runs expat with handlers that refuse any document type or entity
declaration, so no entity is ever expanded; it also caps the size.

How an Outbound Message is kept (the endpoint stores before it answers):
the whole SOAP envelope exactly as received is one inbound event with
provider event id ``om-message:<sha256 of the body>`` (``envelope_event_id``);
each Notification is its own event, ``om:<notification Id>``, for
de-duplication and records, whose body is that Notification element's exact
bytes cut from the envelope and whose ``X-LedgerBridge-Envelope`` header names
the envelope event. A message that cannot be used is kept whole with the
reason. Plain functions: the views and the Pub/Sub subscriber call them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.parsers import expat

from integrations.engine.errors import ValidationFailed

ORDER_EVENT = "Order_Event__e"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ENVELOPE_TOPIC = "salesforce.outbound_message"
ENVELOPE_HEADER = "X-LedgerBridge-Envelope"
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
    xml: bytes  # the Notification element's bytes exactly as sent, for the inbox


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


def envelope_event_id(raw: bytes) -> str:
    """The inbox id of a whole SOAP message: the same bytes are the same message."""
    return f"om-message:{hashlib.sha256(raw).hexdigest()}"


def _refuse_declarations(*_args) -> None:
    raise SoapMessageInvalid(
        "Document type declarations and entities are not accepted.", "body"
    )


def _utf8_only(_version, encoding, _standalone) -> None:
    if encoding and encoding.replace("-", "").replace("_", "").lower() != "utf8":
        raise SoapMessageInvalid(
            f"The message declares the encoding {encoding!r}; only UTF-8 is "
            "accepted (Salesforce sends UTF-8).",
            "body",
        )


def _guarded_tree(raw: bytes) -> tuple[ET.Element, dict[ET.Element, bytes]]:
    """Parse UTF-8 ``raw`` refusing DTDs and entities; also each Notification's bytes.

    expat itself refuses: ``encoding="UTF-8"`` overrides whatever the document
    claims, and the declaration handlers raise before an entity can be defined.
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SoapMessageInvalid(
            f"The message is not UTF-8 (byte {exc.start}); Salesforce sends UTF-8 "
            "and only UTF-8 is accepted.",
            "body",
        ) from None
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate("UTF-8", "}")
    parser.buffer_text = True
    notification = _tag(OUTBOUND_NS, "Notification")
    starts: list[int] = []
    as_sent: dict[ET.Element, bytes] = {}

    def name(raw_name: str) -> str:
        return "{" + raw_name if "}" in raw_name else raw_name

    def start(tag: str, attributes: dict) -> None:
        tag = name(tag)
        if tag == notification:
            starts.append(parser.CurrentByteIndex)
        builder.start(tag, {name(key): value for key, value in attributes.items()})

    def end(tag: str) -> None:
        tag = name(tag)
        at = parser.CurrentByteIndex
        element = builder.end(tag)
        if tag == notification:
            # An end tag ends at its ">"; an empty <Notification/> (refused
            # later for its missing Id) is reported just after itself.
            stop = raw.index(b">", at) + 1 if raw.startswith(b"</", at) else at
            as_sent[element] = raw[starts.pop() : stop]

    parser.XmlDeclHandler = _utf8_only
    parser.StartDoctypeDeclHandler = _refuse_declarations
    parser.EntityDeclHandler = _refuse_declarations
    parser.UnparsedEntityDeclHandler = _refuse_declarations
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        message = f"The body is not well-formed XML: {exc}."
        raise SoapMessageInvalid(message, "body") from None
    return builder.close(), as_sent


def parse_outbound_message(raw: bytes, *, max_bytes: int = MAX_SOAP_BYTES):
    """Read a ``notifications`` SOAP message, refusing anything unusual.

    defusedxml is not a dependency, so the guard is ours: see ``_guarded_tree``.
    """
    if len(raw) > max_bytes:
        raise SoapMessageInvalid(f"The message is over {max_bytes} bytes.", "body")
    envelope, as_sent = _guarded_tree(raw)
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
        notifications=[_notification(item, as_sent[item]) for item in elements],
    )


def _notification(element: ET.Element, as_sent: bytes) -> Notification:
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
        xml=as_sent,
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
