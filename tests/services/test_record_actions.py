"""Assigning records, bulk actions with per-record outcomes, and checked payload
corrections, through ``services.records``."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from integrations.models import RecordStatus
from integrations.services import records
from tests.factories import FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(django_user_model):
    return django_user_model.objects.create_user(
        "pat", is_staff=True, first_name="Pat", last_name="Jones"
    )


def failed(**fields):
    defaults = {
        "status": RecordStatus.NEEDS_ATTENTION,
        "attempts": 1,
        "error_category": "validation",
        "error_message": "Bad.",
        "finished_at": timezone.now(),
    }
    return SyncRecordFactory(**{**defaults, **fields})


@pytest.fixture
def web_order():
    config = FlowConfigFactory(flow="generic_order_to_sage100")
    return failed(
        flow_config=config,
        flow=config.flow,
        payload={
            "id": "WEB-1",
            "reference": "WEB-1",
            "customer": "01-ABF",
            "lines": [{"item": "W-1", "quantity": "0"}],
        },
    )


def test_assign_sets_the_person_and_says_so_in_the_history(person):
    record = failed()

    records.assign(record, actor=person, assignee=person)

    record.refresh_from_db()
    assert record.assigned_to == person
    entry = record.history.first()
    assert (entry.history_change_reason, entry.history_user) == (
        "Assigned to Pat Jones",
        person,
    )


def test_unassign_says_nobody(person):
    record = failed(assigned_to=person)

    records.assign(record, actor=person, assignee=None)

    record.refresh_from_db()
    assert record.assigned_to is None
    assert record.history.first().history_change_reason == "Assigned to nobody"


def test_assigning_to_someone_who_cannot_sign_in_is_refused(person, django_user_model):
    gone = django_user_model.objects.create_user("gone", is_active=False)

    with pytest.raises(ValidationError, match="gone can no longer sign in"):
        records.assign(failed(), actor=person, assignee=gone)


def test_resubmit_many_reports_each_record(person, redis_conn):
    waiting, done = failed(), SyncRecordFactory(status=RecordStatus.SUCCEEDED)

    outcomes = records.resubmit_many([waiting, done], actor=person)

    assert [(o.record_id, o.done) for o in outcomes] == [
        (waiting.pk, True),
        (done.pk, False),
    ]
    assert outcomes[1].message == (
        "This record is succeeded and cannot be resubmitted now."
    )
    waiting.refresh_from_db()
    assert waiting.status == RecordStatus.PENDING


def test_resubmit_many_refuses_a_record_changed_since_it_was_read(person, redis_conn):
    record = failed()
    stale = type(record).objects.get(pk=record.pk)
    records.resubmit(record, actor=person)

    outcomes = records.resubmit_many([stale], actor=person)

    assert not outcomes[0].done
    assert "pending" in outcomes[0].message


def test_ignore_many_needs_a_reason(person):
    with pytest.raises(ValidationError, match="Say why"):
        records.ignore_many([failed()], actor=person, reason=" ")


def test_ignore_many_ignores_each_and_refuses_the_finished(person):
    waiting, done = failed(), SyncRecordFactory(status=RecordStatus.SUCCEEDED)

    outcomes = records.ignore_many([waiting, done], actor=person, reason="Test data")

    assert [o.done for o in outcomes] == [True, False]
    waiting.refresh_from_db()
    assert (waiting.status, waiting.ignored_reason) == (
        RecordStatus.IGNORED,
        "Test data",
    )


def test_assign_many_assigns_every_record(person):
    first, second = failed(), failed(status=RecordStatus.SUCCEEDED)

    outcomes = records.assign_many([first, second], actor=person, assignee=person)

    assert all(o.done for o in outcomes)
    assert {r.assigned_to for r in (first, second) if not r.refresh_from_db()} == {
        person
    }


def test_payload_override_that_breaks_the_schema_is_refused_per_field(
    person, web_order
):
    broken = {
        "reference": "WEB-1",
        "lines": [{"item": "", "quantity": "lots"}],
        "order_date": "24/11/2026",
    }

    with pytest.raises(ValidationError) as refused:
        records.override_payload(web_order, actor=person, payload=broken)

    assert refused.value.message_dict["payload_override"] == [
        "customer: is required.",
        "lines.0.item: must not be empty.",
        "lines.0.quantity: must be a number.",
        "order_date: must be a date written YYYY-MM-DD.",
    ]
    web_order.refresh_from_db()
    assert web_order.payload_override is None


def test_payload_override_that_fits_the_schema_is_stored(person, web_order):
    fixed = {**web_order.payload, "lines": [{"item": "W-1", "quantity": "2"}]}

    records.override_payload(web_order, actor=person, payload=fixed)

    web_order.refresh_from_db()
    assert web_order.payload_override == fixed
    assert web_order.history.first().history_change_reason == "Payload corrected"


def test_flows_without_a_schema_accept_any_object(person):
    record = failed()

    records.override_payload(record, actor=person, payload={"anything": [1, 2]})

    record.refresh_from_db()
    assert record.payload_override == {"anything": [1, 2]}


def test_the_web_order_schema_steps_aside_when_the_flow_has_mappings(web_order):
    from tests.factories import FieldMappingFactory

    assert records.payload_schema(web_order)["required"] == [
        "reference",
        "customer",
        "lines",
    ]
    FieldMappingFactory(flow_config=web_order.flow_config)

    assert records.payload_schema(web_order) is None


def ran_again(record):
    """The worker ran the record once more and it needs attention again."""
    type(record).objects.filter(pk=record.pk).update(attempts=record.attempts + 1)
    record.refresh_from_db()
    return record


@pytest.mark.parametrize("action", ["resubmit", "ignore", "assign"])
def test_a_bulk_action_refuses_a_record_that_ran_since_the_person_looked(
    person, redis_conn, action
):
    record = failed()
    seen = {record.pk: record.attempts}
    fresh = ran_again(record)
    run = {
        "resubmit": lambda: records.resubmit_many([fresh], actor=person, seen=seen),
        "ignore": lambda: records.ignore_many(
            [fresh], actor=person, reason="Test order", seen=seen
        ),
        "assign": lambda: records.assign_many(
            [fresh], actor=person, assignee=person, seen=seen
        ),
    }[action]

    [outcome] = run()

    assert not outcome.done
    assert outcome.message == (
        "This record changed since you looked at it: open it again."
    )
    fresh.refresh_from_db()
    assert (fresh.status, fresh.assigned_to) == (RecordStatus.NEEDS_ATTENTION, None)


def test_a_bulk_action_on_the_attempts_the_person_saw_is_done(person, redis_conn):
    first, second = failed(), failed(attempts=3)

    outcomes = records.assign_many(
        [first, second],
        actor=person,
        assignee=person,
        seen={first.pk: 1, second.pk: 3},
    )

    assert [o.done for o in outcomes] == [True, True]


def test_a_payload_correction_is_refused_when_the_record_changed_since(
    person, web_order
):
    seen = web_order.updated_at
    records.override_payload(
        web_order,
        actor=person,
        payload={**web_order.payload, "customer": "01-AVNET"},
        seen_updated_at=seen,
    )

    with pytest.raises(records.ActionRefused, match="changed since you looked at it"):
        records.override_payload(
            web_order,
            actor=person,
            payload={**web_order.payload, "customer": "02-ZZZ"},
            seen_updated_at=seen,
        )

    web_order.refresh_from_db()
    assert web_order.payload_override["customer"] == "01-AVNET"
