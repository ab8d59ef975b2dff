"""What the sales rep sees in Salesforce without asking: Sage 100 order status
and stock on hand, written back in batches of sObject Collections.

Both flows subscribe to the Sage 100 change feeds (``sage100.sales_order`` and
``sage100.inventory``). A worker claims up to 200 due changes and writes them
in one call, so a busy day of inventory movements costs a handful of API calls,
not one per movement. The values written are Sage's as they are at the time of
the write (read once per batch), not the event's copy: a late retry of an old
change can never put an old quantity or status back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integrations import mapping
from integrations.connectors.sage100.settings import QUANTITIES, parse_formula
from integrations.engine.errors import ReferenceMissing, ValidationFailed
from integrations.flows.base import Flow, RecordSpec, Run
from integrations.flows.registry import register
from integrations.models import System

# Sage 100 OrderStatus → Salesforce's status picklist, unless the admin maps it
# (status cross-references of this flow: Sage code → Salesforce value).
DEFAULT_STATUS = {"N": "Open", "O": "Open", "H": "Hold", "C": "Completed"}
# An open order that leaves SO_SalesOrderHeader was invoiced (or deleted).
REMOVED_STATUS = "Completed"
COLLECTION_SIZE = 200
# Salesforce id prefixes of the objects an order can come from.
SOBJECT_BY_PREFIX = {"006": "Opportunity", "801": "Order"}


def _change_spec(body: Any, table: str) -> RecordSpec:
    if not isinstance(body, dict) or not isinstance(body.get("key"), dict):
        raise ValidationFailed("A change event needs a key object.", field="key")
    key = "|".join(str(value) for value in body["key"].values())
    return RecordSpec(source_object_type=table, source_id=key, payload=body)


def _salesforce_reference(row: Any) -> str:
    if not isinstance(row, dict):
        return ""
    for column, value in row.items():
        text = str(value or "")
        if column.startswith("UDF_SF_") and text[:3] in SOBJECT_BY_PREFIX:
            return text
    return ""


def _results(results: list[dict], what: str) -> list:
    """Salesforce's per-record answers as target ids or errors, in order."""
    out: list = []
    for result in results:
        if result.get("success"):
            out.append({"salesforce_id": result.get("id", ""), "written": what})
            continue
        error = (result.get("errors") or [{}])[0]
        code = error.get("statusCode") or error.get("errorCode") or ""
        fields = ",".join(error.get("fields") or [])
        words = f"Salesforce refused the {what}: {error.get('message', code)}"
        if code in {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"}:
            out.append(ReferenceMissing(words, field=fields or "id"))
        else:
            out.append(ValidationFailed(words, field=fields or what))
    return out


def _write(records: list[dict], key: str, call) -> list:
    """One collection call per 200 records; a record named twice in a batch is
    written once (its values are Sage's current ones either way)."""
    first: dict[str, int] = {}
    for index, record in enumerate(records):
        first.setdefault(str(record[key]), index)
    unique = sorted(first.values())
    answers: dict[int, dict] = {}
    for start in range(0, len(unique), COLLECTION_SIZE):
        chunk = unique[start : start + COLLECTION_SIZE]
        for index, answer in zip(chunk, call([records[i] for i in chunk]), strict=True):
            answers[index] = answer
    return [answers[first[str(record[key])]] for record in records]


@register
class Sage100OrderStatusToSalesforce(Flow):
    name = "sage100_order_status_to_salesforce"
    title = "Sage 100 order status → Salesforce opportunities and orders"
    source, target = System.SAGE100, System.SALESFORCE
    topics = frozenset({"sage100.sales_order"})
    batch_size = COLLECTION_SIZE

    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        spec = _change_spec(body, "SO_SalesOrderHeader")
        row = body.get("row") or body.get("history") or {}
        # Only orders that came from Salesforce carry its id (in a UDF_SF_* column);
        # the rest are not ours to report.
        return [spec] if _salesforce_reference(row) else []

    def transform(self, run: Run, raw: Any) -> dict:
        row = raw.get("row") or raw.get("history") or {}
        column = run.option("reference_column", "UDF_SF_OPPORTUNITY_ID")
        record_id = str(row.get(column) or _salesforce_reference(row))
        sobject = SOBJECT_BY_PREFIX.get(record_id[:3])
        if sobject is None:
            raise ValidationFailed(
                f"{record_id!r} is not the id of a Salesforce opportunity or order.",
                field=f"row.{column}",
            )
        number = str(
            row.get("SalesOrderNo") or (raw.get("key") or {}).get("SalesOrderNo")
        )
        return {"sobject": sobject, "id": record_id, "sales_order_no": number}

    def load_batch(self, runs: list[Run], documents: list[dict]) -> list:
        run = runs[0]
        current = run.source.reader.sales_order_headers(
            document["sales_order_no"] for document in documents
        )
        records = []
        statuses: dict[str, str] = {}  # one lookup per status code, not per order
        for document in documents:
            row = current.get(document["sales_order_no"])
            if row is None:
                status = run.option("removed_status", REMOVED_STATUS)
            else:
                code = str(row.get("OrderStatus") or "")
                if code not in statuses:
                    statuses[code] = run.xref("status", code) or DEFAULT_STATUS.get(
                        code, "Open"
                    )
                status = statuses[code]
            record = {
                "attributes": {"type": document["sobject"]},
                "id": document["id"],
                run.option("order_number_field", "Sage_Order_No__c"): document[
                    "sales_order_no"
                ],
                run.option("status_field", "Sage_Order_Status__c"): status,
            }
            if run.mappings and row is not None:
                # Sage UDFs → Salesforce custom fields: the way back.
                record.update(mapping.apply(run.mappings, row, xref=run.xref))
            records.append(record)
        answers = _write(records, "id", run.target.collection_update)
        return _results(answers, "order status")


@register
class Sage100InventoryToSalesforce(Flow):
    name = "sage100_inventory_to_salesforce"
    title = "Sage 100 stock levels → Salesforce inventory records"
    source, target = System.SAGE100, System.SALESFORCE
    topics = frozenset({"sage100.inventory"})
    batch_size = COLLECTION_SIZE

    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        return [_change_spec(body, "IM_ItemWarehouse")]

    def transform(self, run: Run, raw: Any) -> dict:
        key = raw.get("key") or {}
        item, warehouse = key.get("ItemCode"), key.get("WarehouseCode")
        if not item or not warehouse:
            raise ValidationFailed(
                "An inventory change needs ItemCode and WarehouseCode.", field="key"
            )
        return {"item": str(item), "warehouse": str(warehouse)}

    def load_batch(self, runs: list[Run], documents: list[dict]) -> list:
        run = runs[0]
        sobject = run.option("sobject", "Inventory_Level__c")
        external = run.option("external_id_field", "ExternalID__c")
        current = {
            (row["ItemCode"], row["WarehouseCode"]): row
            for row in run.source.reader.quantities(
                {document["item"] for document in documents}
            )
        }
        formula = None
        if run.option("available_formula", ""):
            formula = parse_formula(run.options["available_formula"])
        records = []
        for document in documents:
            # A row Sage no longer has (item-warehouse removed) stocks nothing.
            row = current.get((document["item"], document["warehouse"]), {})
            records.append(
                {"attributes": {"type": sobject}}
                | self._fields(run, document, row, external, formula)
            )
        answers = _write(
            records,
            external,
            lambda chunk: run.target.collection_upsert(sobject, external, chunk),
        )
        return _results(answers, "stock level")

    def _fields(self, run: Run, document: dict, row: dict, external: str, formula):
        amounts = {name: Decimal(str(row.get(name) or 0)) for name in QUANTITIES}
        if formula is None:
            available = Decimal(str(row.get("available") or 0))
        else:
            available = sum((s * amounts[name] for s, name in formula), Decimal(0))
        fields = {
            external: f"{document['item']}|{document['warehouse']}",
            run.option("warehouse_field", "Warehouse_Code__c"): document["warehouse"],
            run.option("on_hand_field", "Quantity_On_Hand__c"): float(
                amounts["on_hand"]
            ),
            run.option("available_field", "Quantity_Available__c"): float(available),
        }
        product_key = run.option("product_external_id_field", "")
        if product_key:
            # A lookup by the product's own external id: no query for its Id.
            relationship = run.option("product_relationship", "Product__r")
            fields[relationship] = {product_key: document["item"]}
        return fields
