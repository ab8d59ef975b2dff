"""The flow the benchmarks drive: every step costs nothing, so what is measured is
the engine (claim, attempt, state changes), RQ and the inbox around it.

Loaded in worker and gunicorn processes through
``LEDGERBRIDGE_EXTRA_FLOW_MODULES=bench.flows``; never installed in production.
"""

from __future__ import annotations

from integrations.flows.base import Flow, RecordSpec, Run
from integrations.flows.registry import register
from integrations.models import System


@register
class BenchNoop(Flow):
    """One record per event; extract, transform, validate and load do nothing."""

    name = "bench_noop"
    title = "Benchmark: no-op"
    source, target = System.GENERIC, System.GENERIC

    def records_from_event(self, body, *, topic: str) -> list[RecordSpec]:
        return [
            RecordSpec(source_object_type="order", source_id=body["id"], payload=body)
        ]

    def extract(self, run: Run) -> dict:
        return {}

    def transform(self, run: Run, raw) -> dict:
        # The base class would read the flow's FieldMapping rows (one query);
        # a free step here keeps the figure about the engine alone.
        return raw

    def load(self, run: Run, document) -> dict:
        return {}
