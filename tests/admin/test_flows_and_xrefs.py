"""Flows, field mappings, cross-references and alerts: edited without code."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import Alert, CrossReference, FieldMapping
from tests.admin.formdata import form_data
from tests.factories import (
    AlertRuleFactory,
    ConnectionFactory,
    CrossReferenceFactory,
    FieldMappingFactory,
    FlowConfigFactory,
    SyncRecordFactory,
)

pytestmark = pytest.mark.django_db


def flow_url(config) -> str:
    return reverse("admin:integrations_flowconfig_change", args=[config.pk])


def test_flow_is_chosen_from_the_installed_flows(admin_client):
    html = admin_client.get(reverse("admin:integrations_flowconfig_add")).content
    html = html.decode()

    assert '<select name="flow"' in html
    assert '<option value="test_effect">Test: count effects</option>' in html


def test_flow_not_installed_is_refused(admin_client):
    config = FlowConfigFactory()
    page = admin_client.get(flow_url(config))

    response = admin_client.post(flow_url(config), form_data(page, flow="nope"))

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_invalid_schedule_is_refused(admin_client):
    config = FlowConfigFactory()
    page = admin_client.get(flow_url(config))

    response = admin_client.post(
        flow_url(config), form_data(page, trigger="poll", schedule="every monday")
    )

    assert response.status_code == 200
    assert "Not a valid cron expression" in response.content.decode()
    config.refresh_from_db()
    assert config.schedule == ""


def test_field_mappings_are_listed_in_position_order(admin_client):
    config = FlowConfigFactory()
    second = FieldMappingFactory(flow_config=config, position=2, target_field="B")
    first = FieldMappingFactory(flow_config=config, position=1, target_field="A")

    page = admin_client.get(flow_url(config))

    (inline,) = page.context["inline_admin_formsets"]
    assert [f.instance for f in inline.formset.initial_forms] == [first, second]


def test_field_mapping_is_added_inline_and_audited(admin_client, admin_user):
    config = FlowConfigFactory()
    page = admin_client.get(flow_url(config))

    response = admin_client.post(
        flow_url(config),
        form_data(
            page,
            **{
                "mappings-0-position": "1",
                "mappings-0-source_field": "customer.email",
                "mappings-0-target_field": "EmailAddress",
                "mappings-0-transform": "lower",
                "mappings-0-required": "on",
            },
        ),
    )

    assert response.status_code == 302
    mapping = FieldMapping.objects.get(flow_config=config)
    assert (mapping.source_field, mapping.transform) == ("customer.email", "lower")
    assert mapping.history.first().history_user == admin_user


def test_flow_list_links_to_its_records(admin_client):
    config = FlowConfigFactory()
    SyncRecordFactory.create_batch(2, flow_config=config)
    SyncRecordFactory()

    html = admin_client.get(reverse("admin:integrations_flowconfig_changelist"))
    link = f"?flow_config__id__exact={config.pk}"
    assert link in html.content.decode()

    records = admin_client.get(
        reverse("admin:integrations_syncrecord_changelist") + link
    )
    assert records.context["cl"].result_count == 2


def test_cross_references_are_edited_in_the_list(admin_client, admin_user):
    xref = CrossReferenceFactory(source_value="ACME", target_value="01-ACME")
    url = reverse("admin:integrations_crossreference_changelist")
    page = admin_client.get(url)
    assert 'name="form-0-target_value"' in page.content.decode()

    response = admin_client.post(
        url,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(xref.pk),
            "form-0-target_value": "01-ACME2",
            "form-0-note": "Renumbered in Sage",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    xref.refresh_from_db()
    assert (xref.target_value, xref.note) == ("01-ACME2", "Renumbered in Sage")
    assert xref.history.first().history_user == admin_user


def test_cross_references_filter_by_kind_and_connection_and_search_values(
    admin_client,
):
    sage = ConnectionFactory(name="Sage")
    wanted = CrossReferenceFactory(
        kind="item", target_connection=sage, source_value="WIDGET-9"
    )
    CrossReferenceFactory(kind="item", source_value="WIDGET-99")
    CrossReferenceFactory(kind="customer", target_connection=sage)
    url = reverse("admin:integrations_crossreference_changelist")

    response = admin_client.get(
        url,
        {"kind__exact": "item", "target_connection__id__exact": sage.pk, "q": "WIDG"},
    )

    assert list(response.context["cl"].result_list) == [wanted]


def test_alert_rules_are_editable_but_alerts_are_read_only(admin_client):
    rule = AlertRuleFactory()
    alert = Alert.objects.create(rule=rule, message="3 records need attention")
    rule_url = reverse("admin:integrations_alertrule_change", args=[rule.pk])
    alert_url = reverse("admin:integrations_alert_change", args=[alert.pk])

    assert 'name="_save"' in admin_client.get(rule_url).content.decode()
    assert admin_client.get(alert_url).status_code == 200
    assert admin_client.post(alert_url, {"message": "x"}).status_code == 403
    assert admin_client.get(reverse("admin:integrations_alert_add")).status_code == 403


def test_unique_cross_reference_is_enforced_with_a_message(admin_client):
    xref = CrossReferenceFactory(kind="item", source_value="W-1")
    url = reverse("admin:integrations_crossreference_add")
    page = admin_client.get(url)

    response = admin_client.post(
        url,
        form_data(
            page,
            kind="item",
            source_connection=xref.source_connection_id,
            target_connection=xref.target_connection_id,
            source_value="W-1",
            target_value="OTHER",
        ),
    )

    assert response.status_code == 200
    assert CrossReference.objects.count() == 1
