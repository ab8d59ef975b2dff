"""Signed JSON in, mapped JSON out to an HTTP endpoint, exactly once."""

from __future__ import annotations

from typing import Any

from integrations import mapping
from integrations.flows.base import Flow, Run, specs_from_generic_body
from integrations.flows.registry import register
from integrations.models import System


@register
class GenericWebhookToHttp(Flow):
    """Relay each inbound document, reshaped by the field mappings, to a JSON API.

    The record's idempotency key travels as the Idempotency-Key header, so a
    retry after a lost answer returns the document created the first time.
    """

    name = "generic_webhook_to_http"
    title = "Generic webhook → HTTP endpoint"
    source, target = System.GENERIC, System.GENERIC

    def records_from_event(self, body: Any, *, topic: str):
        return specs_from_generic_body(body)

    def transform(self, run: Run, raw: Any) -> dict:
        if not run.mappings:
            return dict(raw)  # no mappings configured: pass the document through
        return mapping.apply(run.mappings, raw, xref=run.xref)

    def load(self, run: Run, document: dict) -> dict:
        answer = run.target.post_document(
            document, idempotency_key=run.record.idempotency_key
        )
        return {"document_id": str(answer.get("id", ""))}
