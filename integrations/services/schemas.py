"""What fields a flow's systems offer, for the mapping editor's pickers.

Each flow maps within one or more *scopes* (a Salesforce order flow maps the
order header, each line and the customer separately); each scope reads one
source object and writes one target object. Fields come from the systems
themselves: Salesforce's describe (through the connector and its cache), Sage
100's standard columns plus the UDFs the company has now, Xero's published
OpenAPI spec, and, for systems without a schema, the keys seen in the flow's
recent records.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from integrations.connectors.sage100.columns import TABLES as SAGE_TABLES
from integrations.engine.errors import SyncError
from integrations.flows import registry
from integrations.models import Connection, FlowConfig, SyncRecord, System
from integrations.sandbox.contracts import contract


@dataclass(frozen=True)
class Field:
    """One pickable field: its path, and words that help a person choose it."""

    name: str
    label: str = ""
    type: str = ""
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Scope:
    """A part of a flow's document mapped on its own.

    ``prefix`` starts the target field ("header.UDF_PRIORITY"); source fields
    are paths inside ``source_path`` of the document the flow extracts (each
    item of it when ``many``). ``source_object``/``target_objects`` name the
    systems' objects; None/empty means "no schema: the keys records carry".
    """

    prefix: str
    label: str
    source_object: str | None = None
    target_objects: tuple[str, ...] = ()
    source_path: str = ""
    many: bool = False
    target_fields: tuple[Field, ...] = field(default=(), compare=False)

    def target_name(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name


# The neutral order the web-order flow reads (see flows.sage100_orders._parse).
WEB_ORDER_FIELDS = (
    Field("reference", "Order reference", "text", "required"),
    Field("customer", "Customer (Sage 100 number)", "text", "required"),
    Field("order_date", "Order date", "date", "YYYY-MM-DD"),
    Field("ship_date", "Ship date", "date", "YYYY-MM-DD"),
    Field("customer_po", "Customer PO", "text", "at most 15 characters"),
    Field("comment", "Comment", "text"),
    Field("warehouse", "Warehouse", "text", "3 digits, e.g. 000"),
    Field("lines", "Lines", "list", "each with item, quantity, unit_price"),
)


def _salesforce_order_scopes(sobject: str, lines: str, line_object: str):
    return (
        Scope("header", "Order header", sobject, ("SO_SalesOrderHeader",)),
        Scope(
            "lines",
            "Each order line",
            line_object,
            ("SO_SalesOrderDetail",),
            source_path=f"{lines}.records",
            many=True,
        ),
        Scope("customer", "Customer", "Account", ("AR_Customer",), "Account"),
    )


FLOW_SCOPES: dict[str, tuple[Scope, ...]] = {
    "salesforce_opportunity_to_sage100": _salesforce_order_scopes(
        "Opportunity", "OpportunityLineItems", "OpportunityLineItem"
    ),
    "salesforce_order_to_sage100": _salesforce_order_scopes(
        "Order", "OrderItems", "OrderItem"
    ),
    "sage100_order_status_to_salesforce": (
        Scope(
            "",
            "Sage order → Salesforce record",
            "SO_SalesOrderHeader",
            ("Opportunity", "Order"),
            source_path="row",
        ),
    ),
    # Writes fixed fields chosen by its options; it has no mapping set.
    "sage100_inventory_to_salesforce": (),
    "generic_order_to_sage100": (
        Scope("", "Web order", None, (), target_fields=WEB_ORDER_FIELDS),
    ),
}


def scopes(flow_config: FlowConfig) -> tuple[Scope, ...]:
    """The flow's scopes: its own ``mapping_scopes`` if it declares them, else the
    table above, else one scope over the whole document."""
    try:
        flow_class = type(registry.get(flow_config.flow))
    except KeyError:
        flow_class = None
    declared = getattr(flow_class, "mapping_scopes", None)
    if declared is not None:
        return tuple(declared)
    if flow_config.flow in FLOW_SCOPES:
        return FLOW_SCOPES[flow_config.flow]
    target = flow_config.target_connection
    if target is not None and target.system == System.XERO:
        return (Scope("", "Invoice", None, ("Invoice",)),)
    return (Scope("", "Fields"),)


# -- one system's object ------------------------------------------------------
def object_fields(connection: Connection, object_name: str) -> list[Field]:
    """The fields of ``object_name`` in ``connection``'s system.

    Raises the connector's SyncError (Unavailable, AuthRevoked…) when the system
    cannot be asked; LookupError for a system without a schema.
    """
    if connection.system == System.SALESFORCE:
        return salesforce_fields(connection, object_name)
    if connection.system == System.SAGE100:
        return sage100_fields(connection, object_name)
    if connection.system == System.XERO:
        return xero_fields(object_name)
    raise LookupError(
        f"{connection.get_system_display()} publishes no schema: its fields are "
        "the ones its records carry."
    )


def salesforce_fields(connection: Connection, sobject: str) -> list[Field]:
    """Through the connector's cached describe: custom fields included."""
    from integrations.engine import clients

    found = []
    for item in clients.build(connection).describe_fields(sobject):
        notes = []
        if item["name"].endswith("__c"):
            notes.append("custom field")
        if item.get("external_id"):
            notes.append("external id")
        if not item.get("createable") and not item.get("updateable"):
            notes.append("read only")
        if item.get("picklist_values"):
            notes.append("values: " + ", ".join(item["picklist_values"][:8]))
        kind = item.get("type") or ""
        if item.get("length"):
            kind = f"{kind}({item['length']})"
        found.append(
            Field(item["name"], item.get("label") or "", kind, "; ".join(notes))
        )
    return found


def sage100_fields(connection: Connection, table: str) -> list[Field]:
    """Sage's standard columns, then the company's UDFs as they are now."""
    from integrations.engine import clients

    found = [
        Field(column.name, "", f"{column.kind}({column.length})", column.note)
        for column in SAGE_TABLES.get(table, ())
    ]
    for udf in clients.build(connection).reader.udf_columns(table):
        size = f"({udf['size']})" if udf.get("size") else ""
        found.append(Field(udf["name"], "", f"{udf['type']}{size}", "UDF"))
    return found


def xero_fields(object_name: str) -> list[Field]:
    """From Xero's OpenAPI spec (contracts/xero/xero_accounting.yaml)."""
    properties = _xero_schema(object_name).get("properties") or {}
    found = []
    for name, prop in properties.items():
        notes = []
        if prop.get("readOnly"):
            notes.append("read only")
        if prop.get("enum"):
            notes.append("values: " + ", ".join(map(str, prop["enum"][:8])))
        found.append(
            Field(
                name,
                _first_sentence(prop.get("description") or ""),
                _xero_type(prop),
                "; ".join(notes),
            )
        )
    return found


XERO_OBJECTS = ("Invoice", "Contact", "Item", "LineItem")


@lru_cache(maxsize=16)
def _xero_schema(object_name: str) -> dict:
    """Only the object's block of the 25,000-line spec is parsed (quickly)."""
    import yaml

    text = contract("xero/xero_accounting.yaml").read_text(encoding="utf-8")
    schemas_at = text.index("\n  schemas:\n")
    match = re.compile(rf"^    {re.escape(object_name)}:\n", re.M).search(
        text, schemas_at
    )
    if match is None:
        raise LookupError(f"Xero's spec has no object {object_name}.")
    end = re.compile(r"^    \S|^  \S|^\S", re.M).search(text, match.end())
    block = text[match.start() : end.start() if end else len(text)]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(block, Loader=loader)[object_name] or {}


def _xero_type(prop: dict) -> str:
    if "$ref" in prop:
        return "object " + prop["$ref"].rsplit("/", 1)[-1]
    if prop.get("type") == "array":
        items = prop.get("items") or {}
        inner = items.get("$ref", items.get("type", "")).rsplit("/", 1)[-1]
        return f"list of {inner}"
    return str(prop.get("format") or prop.get("type") or "")


def _first_sentence(text: str) -> str:
    return text.strip().split(". ")[0][:120]


# -- systems without a schema: what recent records carry -----------------------
def payload_fields(
    flow_config: FlowConfig, *, transformed: bool = False, limit: int = 20
) -> list[Field]:
    """Dotted paths seen in the flow's latest records (their payload, or what the
    mappings made of it), each with an example value."""
    column = "transformed" if transformed else "payload"
    documents = (
        SyncRecord.objects.filter(flow_config=flow_config)
        .exclude(**{f"{column}__isnull": True})
        .order_by("-created_at")
        .values_list(column, flat=True)[:limit]
    )
    seen: dict[str, Any] = {}
    for document in documents:
        _walk(document, "", seen, depth=0)
    return [
        Field(path, "", _kind(value), f"e.g. {str(value)[:40]}" if value else "")
        for path, value in sorted(seen.items())
    ]


def _walk(value: Any, path: str, seen: dict, *, depth: int) -> None:
    if depth > 4:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{path}.{key}" if path else str(key), seen, depth=depth + 1)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        _walk(value[0], f"{path}.0", seen, depth=depth + 1)
    elif path and (
        path not in seen or (seen[path] in (None, "") and value not in (None, ""))
    ):
        seen[path] = value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    return "text"


# -- everything the editor needs -------------------------------------------------
def pickers(flow_config: FlowConfig) -> dict:
    """Per scope, the source and target fields to pick from; ``problems`` says in
    plain words which system could not be asked (the editor then takes free text)."""
    problems: list[str] = []
    result = []
    for scope in scopes(flow_config):
        source = _side(
            flow_config,
            flow_config.source_connection,
            (scope.source_object,) if scope.source_object else (),
            problems,
            transformed=False,
        )
        if scope.target_fields:
            target = list(scope.target_fields)
        else:
            target = _side(
                flow_config,
                flow_config.target_connection,
                scope.target_objects,
                problems,
                transformed=True,
            )
        result.append(
            {
                "prefix": scope.prefix,
                "label": scope.label,
                "source_object": scope.source_object or "",
                "target_objects": list(scope.target_objects),
                "source": [f.as_dict() for f in source],
                "target": [
                    f.as_dict() | {"name": scope.target_name(f.name)}
                    for f in _unique(target)
                ],
            }
        )
    return {"scopes": result, "problems": problems}


def _side(
    flow_config: FlowConfig,
    connection: Connection | None,
    objects: tuple[str, ...],
    problems: list[str],
    *,
    transformed: bool,
) -> list[Field]:
    if connection is None or not objects:
        return payload_fields(flow_config, transformed=transformed)
    found: list[Field] = []
    for name in objects:
        try:
            found.extend(object_fields(connection, name))
        except (SyncError, LookupError) as exc:
            problems.append(
                f"Could not read the {name} fields from {connection.name}: "
                f"{getattr(exc, 'message', None) or exc}"
            )
    return found


def _unique(fields: list[Field]) -> list[Field]:
    seen: set[str] = set()
    unique = []
    for item in fields:
        if item.name not in seen:
            seen.add(item.name)
            unique.append(item)
    return unique
