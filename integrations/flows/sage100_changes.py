"""Sage 100's changes, published to any JSON endpoint (a warehouse app, a data
warehouse, a partner): the simplest subscriber of the change feeds.

Each change event (customer, item, inventory, order, invoice…) becomes one
signed POST carrying the record's idempotency key, so a redelivery is answered
with the first document. An admin narrows what it receives with the flow's
``options["topics"]``, e.g. ``["sage100.inventory"]``.
"""

from __future__ import annotations

from typing import Any

from integrations.engine.errors import ValidationFailed
from integrations.flows.base import Flow, RecordSpec, Run
from integrations.flows.registry import register
from integrations.models import System

TOPICS = frozenset(
    f"sage100.{name}"
    for name in (
        "customer", "item", "inventory", "sales_order", "invoice", "vendor",
        "purchase_order",
    )
)  # fmt: skip


@register
class Sage100ChangesToHttp(Flow):
    name = "sage100_changes_to_http"
    title = "Sage 100 changes → HTTP endpoint"
    source, target = System.SAGE100, System.GENERIC
    topics = TOPICS

    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        if not isinstance(body, dict) or not isinstance(body.get("key"), dict):
            raise ValidationFailed("A change event needs a key object.", field="key")
        table = str(body.get("table") or "")
        key = "|".join(str(value) for value in body["key"].values())
        return [
            RecordSpec(
                source_object_type=table or topic,
                source_id=key,
                payload=body,
            )
        ]

    def transform(self, run: Run, raw: Any) -> dict:
        document = {
            "reference": f"{raw.get('table')}:{run.record.source_id}",
            "topic": raw.get("topic"),
            "table": raw.get("table"),
            "change": raw.get("change"),
            "key": raw.get("key"),
            "row": raw.get("row"),
        }
        if not run.mappings:
            return document
        return super().transform(run, document)

    def load(self, run: Run, document: dict) -> dict:
        answer = run.target.post_document(
            document, idempotency_key=run.record.idempotency_key
        )
        return {"document_id": str(answer.get("id", ""))}
