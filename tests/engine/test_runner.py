from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine import runner
from integrations.models import (
    AttemptOutcome,
    Connection,
    ConnectionStatus,
    CrossReference,
    FieldMapping,
    RecordStatus,
    SyncRecord,
)
from tests.factories import FlowConfigFactory, SyncRecordFactory
from tests.support.flows import EFFECTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def scripted():
    return FlowConfigFactory(flow="test_scripted")


def _record(config, **payload):
    return SyncRecordFactory(flow_config=config, payload={"id": "X1", **payload})


def _run(record):
    runner.run_record(record.pk, worker="test")
    record.refresh_from_db()
    return record


def test_successful_record_ends_succeeded_with_target_ids(redis_conn):
    record = _run(SyncRecordFactory())

    assert record.status == RecordStatus.SUCCEEDED
    assert record.target_ids == {"target_id": f"T-{record.source_id}"}
    attempt = record.attempt_set.get()
    assert attempt.outcome == AttemptOutcome.SUCCEEDED
    assert attempt.steps_run == ["extract", "transform", "validate", "load"]
    assert redis_conn.hget(EFFECTS, record.idempotency_key) == b"1"


def test_a_finished_record_is_not_run_again(redis_conn):
    record = _run(SyncRecordFactory())
    assert runner.run_record(record.pk) == "not claimable (succeeded)"
    assert redis_conn.hget(EFFECTS, record.idempotency_key) == b"1"


def test_record_running_elsewhere_is_not_claimed(redis_conn):
    record = SyncRecordFactory(
        status=RecordStatus.RUNNING,
        attempts=1,
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )
    assert runner.run_record(record.pk) == "not claimable (running)"
    assert redis_conn.hget(EFFECTS, record.idempotency_key) is None


def test_permanent_error_lands_in_needs_attention_with_field(scripted, redis_conn):
    record = _run(_record(scripted, amount=-5))

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert (record.error_category, record.error_field) == ("validation", "amount")
    assert record.error_message == "The amount cannot be negative."
    assert record.attempt_set.get().outcome == AttemptOutcome.NEEDS_ATTENTION


def test_transient_error_schedules_a_retry_with_backoff(scripted, redis_conn, settings):
    settings.LEDGERBRIDGE = {**settings.LEDGERBRIDGE, "RETRY_BASE_SECONDS": 10.0}
    before = timezone.now()
    record = _run(_record(scripted, fail="unavailable", fail_times=1))

    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.error_category == "unavailable"
    delay = (record.next_attempt_at - before).total_seconds()
    assert 5 <= delay <= 11
    # The retry runs when due and succeeds.
    SyncRecord.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())
    record = _run(record)
    assert record.status == RecordStatus.SUCCEEDED
    assert list(record.attempt_set.values_list("outcome", flat=True)) == [
        "retry_scheduled",
        "succeeded",
    ]


def test_retry_is_not_run_before_it_is_due(scripted, redis_conn):
    record = _run(_record(scripted, fail="unavailable", fail_times=1))
    assert runner.run_record(record.pk) == "not due"


def test_rate_limit_honours_the_vendors_retry_after(scripted, redis_conn):
    before = timezone.now()
    record = _run(_record(scripted, fail="rate_limited", fail_times=1, retry_after=900))

    assert record.error_category == "rate_limited"
    assert record.next_attempt_at - before >= timedelta(seconds=900)


def test_retries_are_bounded(scripted, redis_conn, settings):
    settings.LEDGERBRIDGE = {**settings.LEDGERBRIDGE, "MAX_ATTEMPTS": 2}
    record = _record(scripted, fail="unavailable", fail_times=5)
    _run(record)
    SyncRecord.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())
    record = _run(record)

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_message.startswith("Gave up after 2 attempts.")


def test_unclassified_exception_becomes_unavailable_not_a_crash(scripted, redis_conn):
    record = _run(_record(scripted, fail="crash", fail_times=1))

    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.error_category == "unavailable"
    # People read what to do; the technical detail stays on the attempt.
    assert "fault in its own software" in record.error_message
    assert "RuntimeError: boom" not in record.error_message
    detail = record.attempt_set.get().error_detail
    assert "Traceback" in detail and "RuntimeError: boom" in detail


def test_auth_error_marks_connection_and_record_waits(scripted, redis_conn):
    record = _run(_record(scripted, fail="auth", fail_times=1))

    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.error_category == "auth"
    target = Connection.objects.get(pk=scripted.target_connection_id)
    assert target.status == ConnectionStatus.NEEDS_REAUTH
    source = Connection.objects.get(pk=scripted.source_connection_id)
    assert source.status == ConnectionStatus.ACTIVE  # only the one that refused
    SyncRecord.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())
    assert runner.run_record(record.pk).startswith("waiting")


def test_failed_confirm_is_retried_without_writing_again(scripted, redis_conn):
    record = _run(_record(scripted, confirm_fail_times=1))
    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.step_state["load"] == {"target_id": f"T-{record.source_id}"}

    SyncRecord.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED
    assert record.attempt_set.get(number=2).steps_run == ["confirm"]
    assert redis_conn.hget(EFFECTS, record.idempotency_key) == b"1"


def test_disabled_flow_leaves_record_pending(redis_conn):
    record = SyncRecordFactory(flow_config=FlowConfigFactory(enabled=False))
    assert runner.run_record(record.pk).startswith("waiting")
    record.refresh_from_db()
    assert record.status == RecordStatus.PENDING


def test_bindings_are_written_with_success(redis_conn):
    from integrations.flows import registry
    from tests.support.flows import TestEffect

    class Binding(TestEffect):
        name = "test_binding"

        def load(self, run, document):
            run.bind("customer", "SF-1", "01-ABF")
            return {}

    registry.register(Binding)
    record = _run(SyncRecordFactory(flow_config=FlowConfigFactory(flow="test_binding")))

    assert record.status == RecordStatus.SUCCEEDED
    assert CrossReference.objects.get().target_value == "01-ABF"


def test_write_done_before_a_failure_is_not_repeated_on_retry(redis_conn):
    config = FlowConfigFactory(flow="test_two_targets")
    record = _run(_record(config, order_fail_times=1))
    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.step_state["once"] == {"invoice": "INV-1"}

    SyncRecord.objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED
    assert record.target_ids == {"invoice": "INV-1", "order": "SO-1"}
    key = record.idempotency_key
    assert redis_conn.hget(EFFECTS, f"invoice:{key}") == b"1"
    assert redis_conn.hget(EFFECTS, f"order:{key}") == b"1"


def test_queue_reuses_one_redis_client_per_process():
    from integrations.engine import dispatch

    assert dispatch.queue().connection is dispatch.queue().connection


def test_a_record_remembers_its_document_and_what_people_search_it_by(redis_conn):
    record = SyncRecordFactory(
        payload={"id": "ORD-77", "customer": {"name": "Acme Corp"}, "total": 5}
    )
    FieldMapping.objects.create(
        flow_config=record.flow_config,
        source_field="customer.name",
        target_field="customer_name",
    )

    record = _run(record)

    assert record.transformed == {"customer_name": "Acme Corp"}
    terms = record.search_text.split(" | ")
    assert {"ord-77", "acme corp", f"t-{record.source_id}".lower()} <= set(terms)
