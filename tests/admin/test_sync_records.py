"""The sync record screens, driven through the real admin as a superuser."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from integrations.engine.dispatch import job_id
from integrations.models import RecordStatus, SyncRecord
from tests.admin.formdata import form_data
from tests.factories import ConnectionFactory, SyncAttemptFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:integrations_syncrecord_changelist")


def change_url(record) -> str:
    return reverse("admin:integrations_syncrecord_change", args=[record.pk])


def action_url(record, tool: str) -> str:
    return reverse(
        "admin:integrations_syncrecord_actions", kwargs={"pk": record.pk, "tool": tool}
    )


def failed(**fields) -> SyncRecord:
    """A record that needs attention after one failed attempt."""
    defaults = {
        "status": RecordStatus.NEEDS_ATTENTION,
        "attempts": 1,
        "error_category": "validation",
        "error_field": "lines.0.qty",
        "error_message": "Quantity must be positive.",
        "finished_at": timezone.now(),
    }
    return SyncRecordFactory(**{**defaults, **fields})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the list -------------------------------------------------------------------


def test_record_list_shows_status_as_a_coloured_badge(admin_client):
    failed(source_id="SO-1")

    response = admin_client.get(LIST_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="lb-badge lb-badge--needs_attention"' in html
    assert "order SO-1" in html
    assert "portal/admin.css" in html


def test_records_cannot_be_added_or_deleted_by_hand(admin_client):
    record = failed()

    add = reverse("admin:integrations_syncrecord_add")
    assert admin_client.get(add).status_code == 403
    delete = reverse("admin:integrations_syncrecord_delete", args=[record.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert SyncRecord.objects.filter(pk=record.pk).exists()


def test_search_finds_records_by_target_id(admin_client):
    wanted = SyncRecordFactory(
        status=RecordStatus.SUCCEEDED, target_ids={"sage_order": "SO-004711"}
    )
    SyncRecordFactory(status=RecordStatus.SUCCEEDED, target_ids={"sage_order": "X-1"})

    response = admin_client.get(LIST_URL, {"q": "004711"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_search_finds_records_by_source_id_and_idempotency_key(admin_client):
    by_source = SyncRecordFactory(source_id="ORD-778899")
    by_key = SyncRecordFactory(idempotency_key="shopify:evt-5566")
    SyncRecordFactory()

    assert list(
        admin_client.get(LIST_URL, {"q": "778899"}).context["cl"].result_list
    ) == [by_source]
    assert list(
        admin_client.get(LIST_URL, {"q": "evt-5566"}).context["cl"].result_list
    ) == [by_key]


def test_list_filters_by_status_connection_and_error_category(admin_client):
    shop = ConnectionFactory(name="Shop")
    wanted = failed(flow_config__source_connection=shop, error_category="referential")
    failed(error_category="referential")
    failed(flow_config__source_connection=shop, error_category="validation")
    SyncRecordFactory(flow_config__source_connection=shop)

    response = admin_client.get(
        LIST_URL,
        {
            "status__exact": "needs_attention",
            "flow_config__source_connection__id__exact": shop.pk,
            "error_category__exact": "referential",
        },
    )

    assert list(response.context["cl"].result_list) == [wanted]


def test_list_filters_by_created_date(admin_client):
    old = SyncRecordFactory()
    SyncRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    recent = SyncRecordFactory()
    since = str(timezone.now() - timedelta(days=7))  # as DateFieldListFilter links

    response = admin_client.get(LIST_URL, {"created_at__gte": since})

    assert list(response.context["cl"].result_list) == [recent]


# --- the record page ------------------------------------------------------------


def test_record_page_states_the_error_in_plain_words(admin_client):
    record = failed(error_category="referential", error_field="ItemCode")
    SyncRecord.objects.filter(pk=record.pk).update(
        error_message="Item WIDGET-9 does not exist in Sage 100."
    )

    html = admin_client.get(change_url(record)).content.decode()

    assert 'class="lb-problem lb-problem--needs_attention"' in html
    assert "Missing reference" in html
    assert "<code>ItemCode</code>" in html
    assert "Item WIDGET-9 does not exist in Sage 100." in html
    assert "Add the missing cross-reference" in html


def test_record_page_shows_the_attempt_timeline_with_collapsible_detail(
    admin_client,
):
    record = failed(attempts=2)
    SyncAttemptFactory(
        record=record, number=1, outcome="retry_scheduled", duration_ms=1200,
        steps_run=["extract", "transform"], error_category="unavailable",
        error_message="The target server did not answer.",
        error_detail="Traceback: ConnectionRefusedError",
        api_calls=[{"system": "sage100", "method": "GET", "status": 503}],
    )  # fmt: skip
    SyncAttemptFactory(record=record, number=2, outcome="needs_attention")

    html = admin_client.get(change_url(record)).content.decode()

    assert "attempt timeline" in html.lower()
    assert "extract → transform" in html
    assert "1.2 s" in html
    assert "The target server did not answer." in html
    assert '<details class="lb-detail">' in html
    assert "Traceback: ConnectionRefusedError" in html
    assert 'lb-badge--retry_scheduled">Failed, will retry' in html


def test_original_payload_is_shown_escaped_and_read_only(admin_client):
    record = failed(payload={"note": "<script>alert(1)</script>", "qty": -1})

    response = admin_client.get(change_url(record))
    html = response.content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    form = response.context["adminform"].form
    # the only editable field, and the hidden "as shown" stamp that guards it
    assert list(form.fields) == ["payload_override", "seen_updated_at"]


def test_record_page_links_to_its_inbound_event(admin_client):
    from tests.factories import InboundEventFactory

    event = InboundEventFactory()
    record = failed(event=event)

    html = admin_client.get(change_url(record)).content.decode()

    assert reverse("admin:integrations_inboundevent_change", args=[event.pk]) in html


# --- correcting the payload -----------------------------------------------------


def test_payload_override_is_stored_beside_original(admin_client, admin_user):
    record = failed(payload={"id": "A1", "qty": -1})
    page = admin_client.get(change_url(record))
    corrected = json.dumps({"id": "A1", "qty": 2})

    response = admin_client.post(
        change_url(record), form_data(page, payload_override=corrected, _continue="1")
    )

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.payload == {"id": "A1", "qty": -1}
    assert record.payload_override == {"id": "A1", "qty": 2}
    latest = record.history.first()
    assert latest.history_change_reason == "Payload corrected"
    assert latest.history_user == admin_user


def test_untouched_payload_box_stores_no_override(admin_client):
    record = failed(payload={"id": "A1", "qty": -1})
    page = admin_client.get(change_url(record))

    response = admin_client.post(change_url(record), form_data(page))

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.payload_override is None
    assert not record.history.filter(history_change_reason="Payload corrected")


def test_payload_override_must_be_a_json_object(admin_client):
    record = failed()
    page = admin_client.get(change_url(record))

    response = admin_client.post(
        change_url(record), form_data(page, payload_override="[1, 2]")
    )

    assert response.status_code == 200
    assert "Enter a JSON object" in response.content.decode()
    record.refresh_from_db()
    assert record.payload_override is None


def test_payload_of_a_succeeded_record_cannot_be_corrected(admin_client):
    record = SyncRecordFactory(status=RecordStatus.SUCCEEDED, payload={"qty": 1})
    page = admin_client.get(change_url(record))

    assert "payload_override" not in page.context["adminform"].form.fields

    admin_client.post(
        change_url(record), form_data(page, payload_override='{"qty": 9}')
    )
    record.refresh_from_db()
    assert record.payload_override is None


# --- Resubmit and Ignore buttons ------------------------------------------------


def test_resubmit_button_requeues_a_failed_record(
    admin_client, admin_user, queue, django_capture_on_commit_callbacks
):
    record = failed()
    page = admin_client.get(change_url(record)).content.decode()
    assert action_url(record, "resubmit") in page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(action_url(record, "resubmit"))

    assert response.status_code == 302
    assert response["Location"] == change_url(record)
    record.refresh_from_db()
    assert record.status == RecordStatus.PENDING
    assert queue.fetch_job(job_id(record.pk, 2)) is not None
    latest = record.history.first()
    assert (latest.history_change_reason, latest.history_user) == (
        "Resubmitted",
        admin_user,
    )
    assert "Resubmitted. A worker will pick it up shortly." in messages_of(response)


def test_resubmit_of_a_succeeded_record_is_refused_in_plain_words(
    admin_client, redis_conn
):
    record = SyncRecordFactory(status=RecordStatus.SUCCEEDED, attempts=1)
    page = admin_client.get(change_url(record)).content.decode()
    assert action_url(record, "resubmit") not in page

    response = admin_client.post(action_url(record, "resubmit"))

    assert messages_of(response) == [
        "This record is succeeded and cannot be resubmitted now."
    ]
    record.refresh_from_db()
    assert record.status == RecordStatus.SUCCEEDED


def test_resubmit_is_refused_over_get(admin_client):
    record = failed()

    assert admin_client.get(action_url(record, "resubmit")).status_code == 405
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION


def test_staff_without_change_permission_cannot_resubmit(client, django_user_model):
    viewer = django_user_model.objects.create_user(
        "viewer", password="pw", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_syncrecord"))
    client.force_login(viewer)
    record = failed()

    assert (
        action_url(record, "resubmit")
        not in client.get(change_url(record)).content.decode()
    )
    assert client.post(action_url(record, "resubmit")).status_code == 403
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION


def test_ignore_requires_a_reason(admin_client):
    record = failed()

    form_page = admin_client.get(action_url(record, "ignore"))
    assert form_page.status_code == 200
    assert 'name="reason"' in form_page.content.decode()

    response = admin_client.post(action_url(record, "ignore"), {"reason": "  "})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION


def test_ignore_with_a_reason_stops_the_record(admin_client, admin_user):
    record = failed()

    response = admin_client.post(
        action_url(record, "ignore"), {"reason": "Duplicate of order 1001"}
    )

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == RecordStatus.IGNORED
    assert record.ignored_reason == "Duplicate of order 1001"
    assert record.history.first().history_user == admin_user
    page = admin_client.get(change_url(record)).content.decode()
    assert "Ignored: Duplicate of order 1001" in page
    assert action_url(record, "resubmit") in page


def test_record_history_shows_who_resubmitted(admin_client, redis_conn):
    record = failed()
    admin_client.post(action_url(record, "resubmit"))

    history = reverse("admin:integrations_syncrecord_history", args=[record.pk])
    html = admin_client.get(history).content.decode()

    assert "Resubmitted" in html
    assert "admin" in html


# --- list actions ---------------------------------------------------------------


def test_bulk_resubmit_reports_successes_and_refusals(
    admin_client, queue, django_capture_on_commit_callbacks
):
    first, second = failed(), failed(status=RecordStatus.IGNORED)
    done = SyncRecordFactory(status=RecordStatus.SUCCEEDED, attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            LIST_URL,
            {
                "action": "resubmit_selected",
                "_selected_action": [first.pk, second.pk, done.pk],
            },
        )

    assert response.status_code == 302
    (message,) = messages_of(response)
    assert message.startswith("2 records resubmitted. 1 record refused.")
    assert f"#{done.pk}: This record is succeeded" in message
    statuses = dict(SyncRecord.objects.values_list("pk", "status"))
    assert statuses == {
        first.pk: "pending",
        second.pk: "pending",
        done.pk: "succeeded",
    }
    assert queue.fetch_job(job_id(first.pk, 2)) is not None


def test_bulk_ignore_asks_for_a_reason_first(admin_client):
    records = [failed(), failed()]
    selected = [r.pk for r in records]

    page = admin_client.post(
        LIST_URL, {"action": "ignore_selected", "_selected_action": selected}
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="reason"' in html
    assert "Ignore 2 records" in html
    assert not SyncRecord.objects.filter(status=RecordStatus.IGNORED).exists()

    response = admin_client.post(
        LIST_URL,
        {
            "action": "ignore_selected",
            "_selected_action": selected,
            "apply": "1",
            "reason": "Test orders",
        },
    )

    assert response.status_code == 302
    assert messages_of(response) == ["2 records ignored."]
    assert set(SyncRecord.objects.values_list("status", "ignored_reason")) == {
        ("ignored", "Test orders")
    }
