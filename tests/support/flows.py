"""Flows the tests drive the engine with. Their effects are counted in Redis so
that worker subprocesses and the test process see the same numbers."""

from __future__ import annotations

from integrations.engine import errors
from integrations.flows.base import Flow, RecordSpec, Run, specs_from_generic_body
from integrations.flows.registry import register
from integrations.models import System

EFFECTS = "ledgerbridge:test:effects"
WRITES = "ledgerbridge:test:writes"


def _redis():
    from integrations.engine.dispatch import queue

    return queue().connection


@register
class TestEffect(Flow):
    """Counts how many times ``load`` ran per record: the proof of exactly-once."""

    name = "test_effect"
    title = "Test: count effects"
    source, target = System.GENERIC, System.GENERIC

    def records_from_event(self, body, *, topic):
        return specs_from_generic_body(body)

    def load(self, run: Run, document) -> dict:
        _redis().hincrby(EFFECTS, run.record.idempotency_key, 1)
        return {"target_id": f"T-{run.record.source_id}"}


@register
class TestScripted(Flow):
    """Does what the payload says: fail N times with a category, or block."""

    name = "test_scripted"
    title = "Test: scripted behaviour"
    source, target = System.GENERIC, System.GENERIC

    def records_from_event(self, body, *, topic):
        return specs_from_generic_body(body)

    def validate(self, run: Run, document) -> None:
        if "amount" in run.payload and float(run.payload["amount"]) < 0:
            raise errors.ValidationFailed(
                "The amount cannot be negative.", field="amount"
            )

    def load(self, run: Run, document) -> dict:
        payload = run.payload
        conn = _redis()
        if run.attempt.number <= int(payload.get("block_attempts", 0)):
            conn.rpush(
                f"ledgerbridge:test:started:{run.record.source_id}", run.attempt.number
            )
            conn.blpop(
                [f"ledgerbridge:test:release:{run.record.source_id}"], timeout=120
            )
        if run.attempt.number <= int(payload.get("fail_times", 0)):
            raise _failure(payload.get("fail", "unavailable"), payload)
        # An idempotent write: look up by our reference before creating.
        created = conn.hsetnx(WRITES, run.record.idempotency_key, run.attempt.number)
        if created:
            conn.hincrby(EFFECTS, run.record.idempotency_key, 1)
        return {"target_id": f"T-{run.record.source_id}"}

    def confirm(self, run: Run, target_ids: dict) -> None:
        if run.attempt.number <= int(run.payload.get("confirm_fail_times", 0)):
            raise errors.Unavailable("The source did not accept the write-back.")


def _failure(kind: str, payload: dict) -> Exception:
    if kind == "rate_limited":
        return errors.RateLimited(
            "Too many calls.", retry_after=payload.get("retry_after")
        )
    if kind == "auth":
        return errors.AuthRevoked("The refresh token was revoked.")
    if kind == "validation":
        return errors.ValidationFailed(
            "Quantity must be positive.", field="lines.0.qty"
        )
    if kind == "crash":
        return RuntimeError("boom")
    return errors.Unavailable("The target server did not answer.")


@register
class TestTwoTargets(Flow):
    """Writes to two systems; the second write fails the first N attempts."""

    name = "test_two_targets"
    title = "Test: two targets"
    source, target = System.GENERIC, System.GENERIC

    def load(self, run: Run, document) -> dict:
        conn = _redis()
        key = run.record.idempotency_key
        invoice = run.once(
            "invoice", lambda: f"INV-{conn.hincrby(EFFECTS, f'invoice:{key}', 1)}"
        )
        if run.attempt.number <= int(run.payload.get("order_fail_times", 0)):
            raise errors.Unavailable("Sage 100 is not answering.")
        conn.hincrby(EFFECTS, f"order:{key}", 1)
        return {"invoice": invoice, "order": "SO-1"}


class _ChangeSubscriber(Flow):
    """Takes Sage 100 change-feed events: one record per changed row."""

    source, target = System.SAGE100, System.GENERIC

    def records_from_event(self, body, *, topic):
        return [
            RecordSpec(
                source_object_type=body["table"],
                source_id="|".join(body["key"].values()),
                payload=body,
            )
        ]

    def load(self, run: Run, document) -> dict:
        return {}


@register
class TestInventorySubscriber(_ChangeSubscriber):
    name = "test_inventory_subscriber"
    title = "Test: Sage 100 inventory subscriber"
    topics = frozenset({"sage100.inventory"})


@register
class TestCustomerSubscriber(_ChangeSubscriber):
    name = "test_customer_subscriber"
    title = "Test: Sage 100 customer subscriber"
    topics = frozenset({"sage100.customer"})


BATCH_CALLS = "ledgerbridge:test:batch-calls"


@register
class TestBatched(Flow):
    """Loads in batches of 3; a payload with ``"bad": true`` fails validation and
    ``"refuse": true`` is refused by the (pretend) target inside the batch."""

    name = "test_batched"
    title = "Test: batched loads"
    source, target = System.GENERIC, System.GENERIC
    batch_size = 3

    def records_from_event(self, body, *, topic):
        return specs_from_generic_body(body)

    def validate(self, run: Run, document) -> None:
        if run.payload.get("bad"):
            raise errors.ValidationFailed("Bad on purpose.", field="bad")

    def load_batch(self, runs, documents) -> list:
        conn = _redis()
        conn.rpush(BATCH_CALLS, ",".join(run.record.source_id for run in runs))
        if any(run.payload.get("outage") for run in runs):
            raise errors.Unavailable("The target is down.")
        return [
            errors.ValidationFailed("Refused by the target.", field="refuse")
            if run.payload.get("refuse")
            else {"target_id": f"T-{run.record.source_id}"}
            for run in runs
        ]
