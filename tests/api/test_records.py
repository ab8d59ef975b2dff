"""GET/POST /api/v1/records/: find records, read their history, act on them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine.dispatch import job_id
from integrations.models import RecordStatus, SyncAttempt, SyncRecord
from tests.api.helpers import key_client
from tests.factories import FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db

RECORDS = "/api/v1/records/"


def _needs_attention(**fields) -> SyncRecord:
    return SyncRecordFactory(
        status=RecordStatus.NEEDS_ATTENTION,
        attempts=1,
        error_category="validation",
        error_field="lines.0.qty",
        error_message="Quantity must be positive.",
        **fields,
    )


def test_records_list_is_paginated_newest_first(reader):
    config = FlowConfigFactory()
    records = [SyncRecordFactory(flow_config=config) for _ in range(3)]

    first = reader.get(RECORDS, {"page_size": 2}).json()
    second = reader.get(first["next"]).json()

    assert first["count"] == 3
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert ids == [r.pk for r in reversed(records)]
    assert first["results"][0]["source_connection"] == config.source_connection.slug


def test_records_filter_by_status_flow_source_id_and_category(reader):
    wanted = _needs_attention(source_id="SO-1")
    _needs_attention(source_id="SO-2")
    SyncRecordFactory(source_id="SO-1")

    response = reader.get(
        RECORDS,
        {
            "status": "needs_attention",
            "flow": "test_effect",
            "source_id": "SO-1",
            "error_category": "validation",
        },
    )

    assert [r["id"] for r in response.json()["results"]] == [wanted.pk]


def test_records_filter_by_connection_matches_source_or_target(reader):
    config = FlowConfigFactory()
    from_it = SyncRecordFactory(flow_config=config)
    to_it = SyncRecordFactory(
        flow_config=FlowConfigFactory(target_connection=config.source_connection)
    )
    SyncRecordFactory()

    response = reader.get(RECORDS, {"connection": config.source_connection.slug})

    assert {r["id"] for r in response.json()["results"]} == {from_it.pk, to_it.pk}


def test_records_filter_by_creation_time(reader):
    old, new = SyncRecordFactory(), SyncRecordFactory()
    SyncRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()

    after = reader.get(RECORDS, {"created_after": yesterday}).json()
    before = reader.get(RECORDS, {"created_before": yesterday}).json()

    assert [r["id"] for r in after["results"]] == [new.pk]
    assert [r["id"] for r in before["results"]] == [old.pk]


def test_records_filter_rejects_unknown_status(reader):
    response = reader.get(RECORDS, {"status": "bogus"})

    assert response.status_code == 400
    assert response.json()["field"] == "status"
    assert "bogus" in response.json()["error"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("error_category", "typo"),
        ("created_after", "last tuesday"),
        ("connection", "no-such-connection"),
    ],
)
def test_records_filter_rejects_bad_values_naming_the_field(reader, name, value):
    response = reader.get(RECORDS, {name: value})

    assert response.status_code == 400
    assert response.json()["field"] == name


def test_records_filter_rejects_an_empty_time_range(reader):
    response = reader.get(
        RECORDS,
        {"created_after": "2026-02-01", "created_before": "2026-01-01"},
    )

    assert response.status_code == 400
    assert response.json()["field"] == "created_before"


def test_record_detail_has_payload_and_attempt_timeline(reader):
    record = _needs_attention()
    started = timezone.now() - timedelta(minutes=5)
    for number, outcome in ((2, "needs_attention"), (1, "retry_scheduled")):
        SyncAttempt.objects.create(
            record=record,
            number=number,
            started_at=started + timedelta(minutes=number),
            outcome=outcome,
            error_category="validation" if number == 2 else "unavailable",
        )

    body = reader.get(f"{RECORDS}{record.pk}/").json()

    assert body["payload"] == {"id": record.source_id}
    assert body["error_field"] == "lines.0.qty"
    assert [(a["number"], a["outcome"]) for a in body["timeline"]] == [
        (1, "retry_scheduled"),
        (2, "needs_attention"),
    ]


def test_unknown_record_answers_json_404(reader):
    response = reader.get(f"{RECORDS}999999/")

    assert response.status_code == 404
    assert response.json()["error"]


def test_key_bound_to_a_connection_sees_only_its_records():
    mine = SyncRecordFactory()
    theirs = SyncRecordFactory()
    partner = key_client("records:read", connection=mine.flow_config.source_connection)

    listed = partner.get(RECORDS).json()["results"]

    assert [r["id"] for r in listed] == [mine.pk]
    assert partner.get(f"{RECORDS}{theirs.pk}/").status_code == 404


def test_resubmit_puts_the_record_back_in_the_queue(
    writer, queue, django_capture_on_commit_callbacks
):
    record = _needs_attention()

    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post(f"{RECORDS}{record.pk}/resubmit/")

    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert job_id(record.pk, 2) in queue.job_ids
    assert record.history.first().history_user is None  # a key is not a person


def test_resubmit_of_succeeded_record_is_conflict(writer):
    record = SyncRecordFactory(status=RecordStatus.SUCCEEDED)

    response = writer.post(f"{RECORDS}{record.pk}/resubmit/")

    assert response.status_code == 409
    assert response.json()["error"] == (
        "This record is succeeded and cannot be resubmitted now."
    )
    record.refresh_from_db()
    assert record.status == RecordStatus.SUCCEEDED


def test_ignore_keeps_the_reason_and_the_staff_member(client, admin_user):
    client.force_login(admin_user)
    record = _needs_attention()

    response = client.post(
        f"{RECORDS}{record.pk}/ignore/",
        {"reason": "Cancelled by the customer"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert response.json()["ignored_reason"] == "Cancelled by the customer"
    entry = record.history.first()
    assert entry.history_user == admin_user
    assert entry.history_change_reason == "Ignored: Cancelled by the customer"


def test_ignore_without_reason_is_refused_naming_reason(writer):
    record = _needs_attention()

    response = writer.post(
        f"{RECORDS}{record.pk}/ignore/",
        {"reason": "  "},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["field"] == "reason"
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION


def test_ignore_of_succeeded_record_is_conflict(writer):
    record = SyncRecordFactory(status=RecordStatus.SUCCEEDED)

    response = writer.post(
        f"{RECORDS}{record.pk}/ignore/",
        {"reason": "dup"},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert "cannot be ignored" in response.json()["error"]
