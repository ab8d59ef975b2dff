"""The record page: three documents, the timeline, who did what, the fix, and the
checked payload editor, as a finance clerk sees them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import RecordStatus
from integrations.services import records
from tests.admin.formdata import form_data
from tests.factories import (
    ConnectionFactory,
    FlowConfigFactory,
    SyncAttemptFactory,
    SyncRecordFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(django_user_model):
    user = django_user_model.objects.create_user(
        "clerk", is_staff=True, first_name="Carla", last_name="Clerk"
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="integrations",
            codename__in=[
                "view_syncrecord",
                "change_syncrecord",
                "view_syncattempt",
            ],
        )
    )
    return user


@pytest.fixture
def client(clerk) -> Client:
    client = Client()
    client.force_login(clerk)
    return client


@pytest.fixture
def web_order():
    config = FlowConfigFactory(
        flow="generic_order_to_sage100",
        source_connection=ConnectionFactory(name="Web shop"),
        target_connection=ConnectionFactory(name="ABC", system="sage100"),
    )
    return SyncRecordFactory(
        flow_config=config,
        flow=config.flow,
        source_id="WEB-2003",
        status=RecordStatus.NEEDS_ATTENTION,
        attempts=1,
        error_category="referential",
        error_field="lines.0.item",
        error_message="Item WIDGET-9 does not exist in Sage 100.",
        finished_at=timezone.now(),
        payload={
            "id": "WEB-2003",
            "reference": "WEB-2003",
            "customer": "01-ABF",
            "lines": [{"item": "WIDGET-9", "quantity": "3"}],
        },
        transformed={"reference": "WEB-2003", "customer": "01-ABF", "mapped": "yes"},
        step_state={"resolved": {"customer_no": "ABF", "division": "01"}},
    )


def url(record) -> str:
    return reverse("admin:integrations_syncrecord_change", args=[record.pk])


def test_record_page_shows_the_three_documents_side_by_side(client, web_order):
    html = client.get(url(web_order)).content.decode()

    assert 'class="lb-documents"' in html
    assert "Received from Generic HTTP" in html
    assert "&quot;WIDGET-9&quot;" in html
    assert "After the mappings" in html
    assert "&quot;mapped&quot;: &quot;yes&quot;" in html
    assert "What goes to Sage 100" in html
    assert "Checked against Sage 100" in html
    assert "&quot;customer_no&quot;: &quot;ABF&quot;" in html


def test_record_page_shows_the_fix_with_its_link(client, web_order):
    html = client.get(url(web_order)).content.decode()

    assert (
        "Item WIDGET-9 does not exist in Sage 100: add a cross-reference, or create "
        "the item." in html
    )
    assert reverse("admin:integrations_crossreference_add") not in html  # no perm
    assert "#payload-editor" in html


def test_record_page_shows_the_attempt_timeline(client, web_order):
    SyncAttemptFactory(
        record=web_order,
        number=1,
        worker="worker-7",
        outcome="needs_attention",
        steps_run=["extract", "transform", "validate"],
        error_category="referential",
        error_message="Item WIDGET-9 does not exist in Sage 100.",
        api_calls=[{"system": "sage100", "method": "GET", "url": "/i", "status": 200}],
    )

    html = client.get(url(web_order)).content.decode()

    assert "attempt timeline" in html.lower()
    assert "worker-7" in html
    assert "extract → transform → validate" in html
    assert "Failed, needs attention" in html


def test_record_page_says_who_did_what(client, clerk, web_order):
    records.assign(web_order, actor=clerk, assignee=clerk)
    records.ignore(web_order, actor=clerk, reason="Sample order")

    html = client.get(url(web_order)).content.decode()

    assert "Who did what" in html
    assert "Assigned to Carla Clerk" in html
    assert "Ignored: Sample order" in html
    assert html.index("Ignored: Sample order") < html.index("Assigned to Carla Clerk")


def test_record_page_carries_the_flow_schema_for_the_editor(client, web_order):
    html = client.get(url(web_order)).content.decode()

    assert '<script id="lb-payload-schema" type="application/json">' in html
    assert 'data-schema="lb-payload-schema"' in html
    assert "integrations/json-editor.js" in html


def test_payload_override_that_breaks_the_schema_is_shown_field_by_field(
    client, web_order
):
    page = client.get(url(web_order))
    broken = '{"reference": "WEB-2003", "lines": [{"item": "WIDGET-9"}]}'

    response = client.post(
        url(web_order), form_data(page, payload_override=broken, _continue="1")
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["payload_override"]
    assert errors == ["customer: is required.", "lines.0.quantity: is required."]
    web_order.refresh_from_db()
    assert web_order.payload_override is None


def test_payload_override_that_fits_is_saved_and_audited(client, clerk, web_order):
    page = client.get(url(web_order))
    fixed = (
        '{"reference": "WEB-2003", "customer": "01-ABF", '
        '"lines": [{"item": "1001-HON-H252", "quantity": "3"}]}'
    )

    response = client.post(
        url(web_order), form_data(page, payload_override=fixed, _continue="1")
    )

    assert response.status_code == 302
    web_order.refresh_from_db()
    assert web_order.payload_override["lines"][0]["item"] == "1001-HON-H252"
    entry = web_order.history.first()
    assert (entry.history_change_reason, entry.history_user) == (
        "Payload corrected",
        clerk,
    )


def test_a_correction_saved_after_someone_else_changed_the_record_is_refused(
    client, clerk, web_order
):
    mine = client.get(url(web_order))
    theirs = client.get(url(web_order))
    fixed = (
        '{"reference": "WEB-2003", "customer": "01-ABF", '
        '"lines": [{"item": "1001-HON-H252", "quantity": "3"}]}'
    )
    other = fixed.replace("1001-HON-H252", "1001-HON-H254")
    client.post(
        url(web_order), form_data(theirs, payload_override=other, _continue="1")
    )

    response = client.post(
        url(web_order),
        form_data(mine, payload_override=fixed, _continue="1"),
        follow=True,
    )

    web_order.refresh_from_db()
    assert web_order.payload_override["lines"][0]["item"] == "1001-HON-H254"
    said = [str(m) for m in response.context["messages"]]
    assert any("changed since you looked at it: open it again" in m for m in said)


def test_assign_button_assigns_the_record(client, clerk, web_order):
    action = reverse(
        "admin:integrations_syncrecord_actions",
        kwargs={"pk": web_order.pk, "tool": "assign"},
    )
    assert action in client.get(url(web_order)).content.decode()
    assert client.get(action).status_code == 200

    response = client.post(action, {"assignee": clerk.pk})

    web_order.refresh_from_db()
    assert web_order.assigned_to == clerk
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Assigned to clerk." in said


def test_record_list_searches_by_any_id_a_person_knows(client, web_order):
    web_order.search_text = "web-2003 | northwind traders | 0000123"
    web_order.save()
    SyncRecordFactory(search_text="other")

    response = client.get(
        reverse("admin:integrations_syncrecord_changelist"), {"q": "Northwind"}
    )

    assert list(response.context["cl"].result_list) == [web_order]


def test_list_action_assigns_the_selected_records(client, clerk, web_order):
    response = client.post(
        reverse("admin:integrations_syncrecord_changelist"),
        {
            "action": "assign_selected",
            "_selected_action": [web_order.pk],
            "apply": "1",
            "assignee": clerk.pk,
        },
    )

    assert response.status_code == 302
    web_order.refresh_from_db()
    assert web_order.assigned_to == clerk
