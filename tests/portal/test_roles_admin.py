"""Each role in the admin: Auditors read, Finance works records, admins configure."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from integrations import roles
from integrations.models import CrossReference, FieldMapping, RecordStatus, SyncRecord
from tests.admin.formdata import form_data
from tests.factories import (
    ConnectionFactory,
    CrossReferenceFactory,
    FieldMappingFactory,
    FlowConfigFactory,
    SyncRecordFactory,
)
from tests.support.roles import member, signed_in

pytestmark = pytest.mark.django_db

SECRET = "sk_live_roles-never-shown-7731"


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def record_action(record, tool: str) -> str:
    return reverse(
        "admin:integrations_syncrecord_actions", kwargs={"pk": record.pk, "tool": tool}
    )


def failed_record(**fields) -> SyncRecord:
    return SyncRecordFactory(
        status=RecordStatus.NEEDS_ATTENTION,
        attempts=1,
        error_category="validation",
        error_message="Quantity must be positive.",
        **fields,
    )


@pytest.fixture
def auditor():
    return signed_in(member(roles.AUDITOR))


@pytest.fixture
def finance_user():
    return member(roles.FINANCE)


@pytest.fixture
def finance(finance_user):
    return signed_in(finance_user)


@pytest.fixture
def integration_admin():
    return signed_in(member(roles.INTEGRATION_ADMIN))


@pytest.fixture
def connection():
    return ConnectionFactory(
        name="Sage 100 ABC", credentials={"password": SECRET, "client_id": "abc"}
    )


def integrations_admins() -> list[str]:
    return sorted(
        model._meta.model_name
        for model in admin.site._registry
        if model._meta.app_label == "integrations"
    )


# --- Auditor: every page opens, nothing changes -----------------------------------


@pytest.mark.parametrize("model_name", integrations_admins())
def test_auditor_opens_every_integrations_list_but_cannot_add(auditor, model_name):
    listing = auditor.get(reverse(f"admin:integrations_{model_name}_changelist"))
    adding = auditor.get(reverse(f"admin:integrations_{model_name}_add"))

    assert listing.status_code == 200
    assert adding.status_code == 403


def test_auditor_reads_detail_pages_and_history_but_every_post_is_refused(
    auditor, connection
):
    flow = FlowConfigFactory(source_connection=connection)
    objects = [
        failed_record(flow_config=flow),
        connection,
        flow,
        FieldMappingFactory(flow_config=flow),
        CrossReferenceFactory(source_connection=connection),
    ]
    for obj in objects:
        page = auditor.get(change_url(obj))
        assert page.status_code == 200, obj
        assert 'name="_save"' not in page.content.decode(), obj
        history = auditor.get(change_url(obj).replace("/change/", "/history/"))
        assert history.status_code == 200, obj

        refused = auditor.post(change_url(obj), {"name": "changed"})
        assert refused.status_code == 403, obj

        deleting = auditor.post(
            change_url(obj).replace("/change/", "/delete/"), {"post": "yes"}
        )
        assert deleting.status_code == 403, obj
        assert type(obj).objects.filter(pk=obj.pk).exists()


def test_auditor_sees_no_record_buttons_and_cannot_resubmit_or_ignore(auditor):
    record = failed_record()

    page = auditor.get(change_url(record)).content.decode()
    resubmit = auditor.post(record_action(record, "resubmit"))
    ignore_page = auditor.get(record_action(record, "ignore"))
    ignore = auditor.post(record_action(record, "ignore"), {"reason": "not mine"})

    assert record_action(record, "resubmit") not in page
    assert record_action(record, "ignore") not in page
    assert (resubmit.status_code, ignore_page.status_code, ignore.status_code) == (
        403,
        403,
        403,
    )
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.history.count() == 1  # only its creation


def test_auditor_bulk_actions_change_nothing(auditor):
    record = failed_record()

    auditor.post(
        reverse("admin:integrations_syncrecord_changelist"),
        {"action": "resubmit_selected", "_selected_action": [record.pk]},
    )

    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION


# --- Finance staff: records and data fixes, no configuration ----------------------


def test_finance_resubmits_and_the_history_names_them(
    finance, finance_user, redis_conn, django_capture_on_commit_callbacks
):
    record = failed_record()
    page = finance.get(change_url(record)).content.decode()
    assert record_action(record, "resubmit") in page

    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(record_action(record, "resubmit"))

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == RecordStatus.PENDING
    latest = record.history.first()
    assert (latest.history_user, latest.history_change_reason) == (
        finance_user,
        "Resubmitted",
    )


def test_finance_ignores_with_a_reason_and_the_history_names_them(
    finance, finance_user
):
    record = failed_record()

    finance.post(record_action(record, "ignore"), {"reason": "Cancelled by phone"})

    record.refresh_from_db()
    assert record.status == RecordStatus.IGNORED
    latest = record.history.first()
    assert (latest.history_user, latest.history_change_reason) == (
        finance_user,
        "Ignored: Cancelled by phone",
    )


def test_finance_adds_a_cross_reference(finance, connection):
    target = ConnectionFactory()
    url = reverse("admin:integrations_crossreference_add")
    page = finance.get(url)
    assert page.status_code == 200

    response = finance.post(
        url,
        form_data(
            page,
            kind="item",
            source_connection=connection.pk,
            target_connection=target.pk,
            source_value="WIDGET-9",
            target_value="WID-009",
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    created = CrossReference.objects.get(source_value="WIDGET-9")
    assert created.history.first().history_user.username == "finance-staff"


def test_finance_cannot_change_mappings_or_flows(finance):
    mapping = FieldMappingFactory(target_field="CustomerPONo")
    flow = mapping.flow_config

    mapping_post = finance.post(change_url(mapping), {"target_field": "Comment"})
    flow_post = finance.post(change_url(flow), {"name": "renamed", "enabled": ""})
    mapping_add = finance.get(reverse("admin:integrations_fieldmapping_add"))

    assert (mapping_post.status_code, flow_post.status_code) == (403, 403)
    assert mapping_add.status_code == 403
    mapping.refresh_from_db()
    assert mapping.target_field == "CustomerPONo"
    assert 'name="_save"' not in finance.get(change_url(mapping)).content.decode()


def test_finance_sees_which_secrets_are_set_but_no_secret_and_no_boxes(
    finance, connection
):
    page = finance.get(change_url(connection))

    html = page.content.decode()
    assert page.status_code == 200
    assert "client_id, password" in html
    assert SECRET not in html
    for box in ("secret__password", "replace_secrets", "new_secret_value"):
        assert f'name="{box}"' not in html
    assert finance.post(change_url(connection), {"name": "x"}).status_code == 403


def test_finance_cannot_open_api_keys_or_alert_rules(finance):
    keys = finance.get(reverse("admin:integrations_connectionapikey_changelist"))
    rules = finance.get(reverse("admin:integrations_alertrule_add"))

    assert (keys.status_code, rules.status_code) == (403, 403)


# --- Integration admin: everything -------------------------------------------------


def test_integration_admin_changes_a_mapping(integration_admin):
    mapping = FieldMappingFactory(target_field="CustomerPONo")
    page = integration_admin.get(change_url(mapping))

    response = integration_admin.post(
        change_url(mapping), form_data(page, target_field="Comment")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert FieldMapping.objects.get(pk=mapping.pk).target_field == "Comment"


def test_integration_admin_gets_a_box_per_secret_but_never_its_value(
    integration_admin, connection
):
    html = integration_admin.get(change_url(connection)).content.decode()

    assert 'name="secret__password"' in html
    assert 'name="secret__client_id"' in html
    assert SECRET not in html
