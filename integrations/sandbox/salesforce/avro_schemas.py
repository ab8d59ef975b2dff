"""Avro schemas of the simulated org's event channels, shaped like Salesforce's.

Change Data Capture events are records named ``<Entity>ChangeEvent`` carrying a
``ChangeEventHeader`` and every field of the object as a nullable union; an
UPDATE sets only the changed fields. ``Order_Event__e`` is the platform event
our order flow listens to.

Simplifications (documented, deliberate):
- Real CDC carries ``changedFields``/``nulledFields``/``diffFields`` as
  bitmaps over the schema's field positions; here they are field names, which
  is what a subscriber derives from the bitmaps anyway.
- Dates use Avro's ``date`` logical type and date-times ``timestamp-millis``,
  so a subscriber gets typed values without per-field knowledge.

A schema's id is its Avro fingerprint (CRC-64-AVRO of the parsing canonical
form, in hex): stable across runs, different whenever the schema changes.
"""

from __future__ import annotations

import json

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

NAMESPACE = "com.sforce.eventbus"

# Salesforce field types (describe "type") as Avro types.
_AVRO_TYPES = {
    "id": "string",
    "reference": "string",
    "string": "string",
    "textarea": "string",
    "picklist": "string",
    "email": "string",
    "phone": "string",
    "url": "string",
    "boolean": "boolean",
    "int": "int",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": {"type": "int", "logicalType": "date"},
    "datetime": {"type": "long", "logicalType": "timestamp-millis"},
}

OPPORTUNITY_FIELDS: tuple[tuple[str, str], ...] = (
    ("AccountId", "reference"),
    ("Name", "string"),
    ("Description", "textarea"),
    ("StageName", "picklist"),
    ("Amount", "currency"),
    ("Probability", "percent"),
    ("CloseDate", "date"),
    ("Type", "picklist"),
    ("NextStep", "string"),
    ("LeadSource", "picklist"),
    ("IsClosed", "boolean"),
    ("IsWon", "boolean"),
    ("ForecastCategoryName", "picklist"),
    ("CurrencyIsoCode", "picklist"),
    ("Pricebook2Id", "reference"),
    ("OwnerId", "reference"),
    ("CreatedDate", "datetime"),
    ("CreatedById", "reference"),
    ("LastModifiedDate", "datetime"),
    ("LastModifiedById", "reference"),
)

ORDER_FIELDS: tuple[tuple[str, str], ...] = (
    ("AccountId", "reference"),
    ("OpportunityId", "reference"),
    ("Pricebook2Id", "reference"),
    ("OrderNumber", "string"),
    ("EffectiveDate", "date"),
    ("EndDate", "date"),
    ("Status", "picklist"),
    ("StatusCode", "picklist"),
    ("Type", "picklist"),
    ("Description", "textarea"),
    ("PoNumber", "string"),
    ("TotalAmount", "currency"),
    ("CurrencyIsoCode", "picklist"),
    ("ActivatedDate", "datetime"),
    ("BillingStreet", "textarea"),
    ("BillingCity", "string"),
    ("BillingState", "string"),
    ("BillingPostalCode", "string"),
    ("BillingCountry", "string"),
    ("ShippingStreet", "textarea"),
    ("ShippingCity", "string"),
    ("ShippingState", "string"),
    ("ShippingPostalCode", "string"),
    ("ShippingCountry", "string"),
    ("OwnerId", "reference"),
    ("CreatedDate", "datetime"),
    ("CreatedById", "reference"),
    ("LastModifiedDate", "datetime"),
    ("LastModifiedById", "reference"),
)

CHANGE_EVENT_FIELDS = {"Opportunity": OPPORTUNITY_FIELDS, "Order": ORDER_FIELDS}

ORDER_EVENT = "Order_Event__e"


def _header_schema() -> dict:
    strings = {"type": "array", "items": "string"}
    return {
        "type": "record",
        "name": "ChangeEventHeader",
        "namespace": NAMESPACE,
        "fields": [
            {"name": "entityName", "type": "string"},
            {"name": "recordIds", "type": strings},
            {"name": "changeType", "type": "string"},
            {"name": "changeOrigin", "type": "string"},
            {"name": "transactionKey", "type": "string"},
            {"name": "sequenceNumber", "type": "int"},
            {"name": "commitTimestamp", "type": "long"},
            {"name": "commitNumber", "type": "long"},
            {"name": "commitUser", "type": "string"},
            {"name": "nulledFields", "type": strings},
            {"name": "diffFields", "type": strings},
            {"name": "changedFields", "type": strings},
        ],
    }


def change_event_schema(entity: str, fields: tuple[tuple[str, str], ...]) -> dict:
    """The CDC schema of ``entity`` with ``fields`` as (name, Salesforce type)."""
    return {
        "type": "record",
        "name": f"{entity}ChangeEvent",
        "namespace": NAMESPACE,
        "doc": f"Change Data Capture event for {entity}",
        "fields": [
            {"name": "ChangeEventHeader", "type": _header_schema()},
            *(
                {
                    "name": name,
                    "type": ["null", _AVRO_TYPES[sf_type]],
                    "default": None,
                    "doc": f"{name}:{sf_type}",
                }
                for name, sf_type in fields
            ),
        ],
    }


def order_event_schema() -> dict:
    nullable = {"type": ["null", "string"], "default": None}
    return {
        "type": "record",
        "name": ORDER_EVENT,
        "namespace": NAMESPACE,
        "doc": "Platform event: an order changed state",
        "fields": [
            {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
            {"name": "CreatedById", "type": "string"},
            {"name": "Order_Id__c", **nullable},
            {"name": "Action__c", **nullable},
        ],
    }


def schema_id(schema: dict) -> str:
    """Avro fingerprint of the schema: what ``ProducerEvent.schema_id`` carries."""
    canonical = to_parsing_canonical_form(fastavro.parse_schema(schema))
    return fingerprint(canonical, "CRC-64-AVRO")


def schema_json(schema: dict) -> str:
    return json.dumps(schema, separators=(",", ":"))


# Not in a CDC body: the id travels in the header, the rest is bookkeeping.
NOT_CAPTURED = frozenset(
    {"Id", "IsDeleted", "SystemModstamp", "LastViewedDate", "LastReferencedDate"}
)


def captured_fields(fields) -> tuple[tuple[str, str], ...]:
    """(name, type) of the fields CDC carries, from an org's field metadata
    (objects with ``name``/``type``/``calculated``, like the simulator's)."""
    return tuple(
        (meta.name, meta.type if meta.type in _AVRO_TYPES else "string")
        for meta in fields
        if meta.name not in NOT_CAPTURED
        and not getattr(meta, "calculated", False)
        and meta.type != "address"
    )
