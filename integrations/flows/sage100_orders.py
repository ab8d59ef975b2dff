"""Orders from any system that can sign a JSON webhook become Sage 100 sales orders.

The shape after the field mappings (or sent as is)::

    {"reference": "WEB-1001", "customer": "01-ABF", "order_date": "2026-11-20",
     "ship_date": "2026-11-27", "customer_po": "WEB-1001", "comment": "…",
     "warehouse": "000",
     "lines": [{"item": "1001-HON-H252", "quantity": "2", "unit_price": "12.50"}]}

Every reference is checked against Sage 100 before anything is written, so a
missing customer or item lands in "needs attention" naming the field and the
fix, never as a half-written order. The write carries the record's idempotency
key to the agent, and the order's reference (``CustomerPONo`` by default, or a
UDF named in the flow's options) lets the agent find an order written before a
lost answer instead of writing a second one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.connectors.sage100 import keys
from integrations.engine.errors import ReferenceMissing, ValidationFailed
from integrations.flows.base import Flow, Run, specs_from_generic_body
from integrations.flows.registry import register
from integrations.models import System


@register
class GenericOrderToSage100(Flow):
    name = "generic_order_to_sage100"
    title = "Web orders (signed webhook) → Sage 100 sales orders"
    source, target = System.GENERIC, System.SAGE100

    def records_from_event(self, body: Any, *, topic: str):
        return specs_from_generic_body(body)

    def payload_schema(self, config) -> dict | None:
        """The order shape ``_parse`` reads; with mappings the payload is the
        sender's own shape, which this flow cannot describe."""
        if config.mappings.filter(enabled=True).exists():
            return None
        text = {"type": ["string", "integer"], "minLength": 1}
        number = {
            "type": ["number", "string"],
            "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
        }
        date_text = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Web order",
            "type": "object",
            "required": ["reference", "customer", "lines"],
            "properties": {
                "reference": text | {"title": "Order reference"},
                "customer": text | {"title": "Customer (Sage 100 number)"},
                "order_date": date_text | {"title": "Order date (YYYY-MM-DD)"},
                "ship_date": date_text | {"title": "Ship date (YYYY-MM-DD)"},
                "customer_po": {
                    "type": "string",
                    "maxLength": 15,
                    "title": "Customer PO",
                },
                "comment": {"type": "string", "title": "Comment"},
                "warehouse": {"type": "string", "maxLength": 3, "title": "Warehouse"},
                "lines": {
                    "type": "array",
                    "minItems": 1,
                    "title": "Lines",
                    "items": {
                        "type": "object",
                        "required": ["item", "quantity"],
                        "properties": {
                            "item": text | {"title": "Item code"},
                            "quantity": number
                            | {"exclusiveMinimum": 0, "title": "Quantity"},
                            "unit_price": number
                            | {"minimum": 0, "title": "Unit price"},
                            "warehouse": {
                                "type": "string",
                                "maxLength": 3,
                                "title": "Warehouse",
                            },
                        },
                    },
                },
            },
        }

    def transform(self, run: Run, raw: Any) -> dict:
        if not run.mappings:
            return dict(raw)
        return super().transform(run, raw)

    def validate(self, run: Run, document: dict) -> None:
        order = _parse(document)
        reader = run.target.reader
        customer_ref = run.xref("customer", order["customer"]) or order["customer"]
        customer = reader.find_customer(customer_ref)
        if customer is None:
            raise ReferenceMissing(
                f"Customer {order['customer']} does not exist in Sage 100: add a "
                "customer cross-reference, or create the customer in Sage 100.",
                field="customer",
            )
        if customer.get("CustomerStatus") == "I":
            raise ValidationFailed(
                f"Customer {customer['ARDivisionNo']}-{customer['CustomerNo']} is "
                "inactive in Sage 100: reactivate it or map the order to another "
                "customer.",
                field="customer",
            )
        # Sage's own key rules, blamed on the order's line rather than on ItemCode.
        codes = [
            keys.item_code(
                run.xref("item", line["item"]) or line["item"], f"lines.{index}.item"
            )
            for index, line in enumerate(order["lines"])
        ]
        found = reader.items(codes)
        for index, (line, code) in enumerate(zip(order["lines"], codes, strict=True)):
            item = found.get(code)
            if item is None:
                raise ReferenceMissing(
                    f"Item {line['item']} does not exist in Sage 100: add an item "
                    "cross-reference, or create the item in Sage 100.",
                    field=f"lines.{index}.item",
                )
            if item.get("InactiveItem") == "Y":
                raise ValidationFailed(
                    f"Item {code} is inactive in Sage 100.",
                    field=f"lines.{index}.item",
                )
        run.state["resolved"] = {
            "division": customer["ARDivisionNo"],
            "customer_no": customer["CustomerNo"],
            "items": codes,
        }
        run.save_state(run.state)

    def load(self, run: Run, document: dict) -> dict:
        order = _parse(document)
        resolved = run.state["resolved"]
        header = {
            "ARDivisionNo": resolved["division"],
            "CustomerNo": resolved["customer_no"],
            "OrderDate": order["order_date"],
            "ShipExpireDate": order["ship_date"],
            "CustomerPONo": order["customer_po"],
        }
        if order["comment"]:
            header["Comment"] = order["comment"][:30]
        if order["warehouse"]:
            header["WarehouseCode"] = order["warehouse"]
        lines = []
        for line, code in zip(order["lines"], resolved["items"], strict=True):
            values = {"ItemCode": code, "QuantityOrdered": str(line["quantity"])}
            if line["unit_price"] is not None:
                values["UnitPrice"] = str(line["unit_price"])
            if line["warehouse"] or order["warehouse"]:
                values["WarehouseCode"] = line["warehouse"] or order["warehouse"]
            lines.append(values)
        column = run.options.get("reference_column", "CustomerPONo")
        if column != "CustomerPONo":
            header[column] = order["reference"]
        result = run.target.agent.create_sales_order(
            header,
            lines,
            idempotency_key=run.record.idempotency_key,
            reference={"column": column, "value": header[column]},
        )
        record = result["record"]
        run.bind("sales_order", order["reference"], record["SalesOrderNo"])
        return {
            "sales_order_no": record["SalesOrderNo"],
            "order_status": record.get("OrderStatus", ""),
            "warnings": result.get("warnings", []),
        }


def _parse(document: Any) -> dict:
    """The order's fields, each checked, or ValidationFailed naming the field."""
    if not isinstance(document, dict):
        raise ValidationFailed("The order must be a JSON object.", field="body")
    reference = _text(document, "reference", required=True)
    lines = document.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ValidationFailed("The order needs at least one line.", field="lines")
    order_date = _date(document, "order_date") or date.today().isoformat()
    try:
        customer_po = keys.customer_po(
            _text(document, "customer_po") or reference, "customer_po"
        )
    except ValidationFailed as exc:
        raise ValidationFailed(
            f"{exc.message} Shorten it (a mapping with the truncate transform "
            "does this).",
            field="customer_po",
        ) from None
    return {
        "reference": reference,
        "customer": _text(document, "customer", required=True),
        "order_date": order_date,
        "ship_date": _date(document, "ship_date") or order_date,
        "customer_po": customer_po,
        "comment": _text(document, "comment"),
        "warehouse": _text(document, "warehouse"),
        "lines": [_line(line, index) for index, line in enumerate(lines)],
    }


def _line(line: Any, index: int) -> dict:
    where = f"lines.{index}"
    if not isinstance(line, dict):
        raise ValidationFailed("Each line must be a JSON object.", field=where)
    quantity = _number(line, "quantity", where, required=True)
    if quantity <= 0:
        raise ValidationFailed(
            "The quantity must be more than zero.", field=f"{where}.quantity"
        )
    price = _number(line, "unit_price", where)
    if price is not None and price < 0:
        raise ValidationFailed(
            "The unit price cannot be negative.", field=f"{where}.unit_price"
        )
    return {
        "item": _text(line, "item", required=True, where=where),
        "quantity": quantity,
        "unit_price": price,
        "warehouse": _text(line, "warehouse", where=where),
    }


def _text(data: dict, key: str, *, required: bool = False, where: str = "") -> str:
    value = data.get(key)
    name = f"{where}.{key}" if where else key
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"{name} is required.", field=name)
        return ""
    if not isinstance(value, str | int):
        raise ValidationFailed(f"{name} must be text.", field=name)
    return str(value).strip()


def _number(data: dict, key: str, where: str, *, required: bool = False):
    value = data.get(key)
    name = f"{where}.{key}"
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"{name} is required.", field=name)
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(f"{value!r} is not a number.", field=name) from None
    if not number.is_finite():
        raise ValidationFailed(f"{value!r} is not a number.", field=name)
    return number


def _date(data: dict, key: str) -> str:
    value = data.get(key)
    if value in (None, ""):
        return ""
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise ValidationFailed(
            f"{value!r} is not a date (use YYYY-MM-DD).", field=key
        ) from None
