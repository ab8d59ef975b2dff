"""The field mapping editor on a flow's page: pickers, checked transform
arguments and "Try it" on a recent record."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from integrations.models import FieldMapping
from tests.admin.formdata import form_data
from tests.factories import FieldMappingFactory, FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def config():
    return FlowConfigFactory(flow="generic_webhook_to_http")


@pytest.fixture
def record(config):
    return SyncRecordFactory(
        flow_config=config,
        source_id="WEB-7",
        payload={"id": "WEB-7", "status": "paid", "customer": {"email": "A@B.C"}},
    )


def change_url(config) -> str:
    return reverse("admin:integrations_flowconfig_change", args=[config.pk])


def preview(client, config, **body):
    return client.post(
        reverse("admin:integrations_flowconfig_preview", args=[config.pk]),
        json.dumps(body),
        content_type="application/json",
    )


def test_the_flow_page_offers_try_it_on_the_latest_records(admin_client, record):
    page = admin_client.get(change_url(record.flow_config))

    html = page.content.decode()
    assert 'id="lb-try-it"' in html
    assert f'<option value="{record.pk}">order WEB-7 — pending' in html
    assert "integrations/mapping-editor.js" in html
    editor = page.context["mapping_editor"]
    assert editor["preview_url"].endswith(f"/{record.flow_config.pk}/preview/")
    value_map = next(t for t in editor["transforms"] if t["value"] == "value_map")
    assert [a["name"] for a in value_map["arguments"]] == ["map", "default"]


def test_the_pickers_endpoint_lists_fields_the_records_carry(admin_client, record):
    response = admin_client.get(
        reverse("admin:integrations_flowconfig_fields", args=[record.flow_config.pk])
    )

    (scope,) = response.json()["scopes"]
    assert {f["name"] for f in scope["source"]} == {"id", "status", "customer.email"}


def test_try_it_answers_per_row_and_saves_nothing(admin_client, config, record):
    FieldMappingFactory(flow_config=config, source_field="id", target_field="Ref")

    response = preview(
        admin_client,
        config,
        record=record.pk,
        rows=[
            {"source_field": "customer.email", "target_field": "Email",
             "transform": "lower", "transform_args": "{}"},
            {"source_field": "status", "target_field": "Status",
             "transform": "value_map", "transform_args": '{"map": {"open": "O"}}'},
        ],
    )  # fmt: skip

    answer = response.json()
    assert [(r["target_field"], r["value"], r["ok"]) for r in answer["rows"]] == [
        ("Email", "a@b.c", True),
        ("Status", None, False),
    ]
    assert "has no entry in the value map" in answer["rows"][1]["error"]
    assert answer["result"] == {"Email": "a@b.c"}
    assert list(FieldMapping.objects.values_list("target_field", flat=True)) == ["Ref"]


def test_try_it_needs_one_of_the_flows_own_records(admin_client, config):
    stranger = SyncRecordFactory()

    response = preview(admin_client, config, record=stranger.pk, rows=[])

    assert response.status_code == 400
    assert "Choose one of this flow's records" in response.json()["error"]


def test_try_it_is_for_people_who_may_change_mappings(
    client, django_user_model, config, record
):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("finance", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_flowconfig"))
    client.force_login(viewer)

    response = preview(client, config, record=record.pk, rows=[])

    assert response.status_code == 403


def test_a_value_map_without_values_is_refused_on_save(admin_client, config):
    page = admin_client.get(change_url(config))

    response = admin_client.post(
        change_url(config),
        form_data(
            page,
            **{
                "mappings-0-position": "1",
                "mappings-0-source_field": "status",
                "mappings-0-target_field": "OrderStatus",
                "mappings-0-transform": "value_map",
                "mappings-0-transform_args": "{}",
            },
        ),
    )

    assert response.status_code == 200
    assert "Values is needed for this transform." in response.content.decode()
    assert not FieldMapping.objects.filter(flow_config=config).exists()


def test_a_mapping_with_its_arguments_is_saved(admin_client, config):
    page = admin_client.get(change_url(config))

    admin_client.post(
        change_url(config),
        form_data(
            page,
            **{
                "mappings-0-position": "1",
                "mappings-0-source_field": "status",
                "mappings-0-target_field": "OrderStatus",
                "mappings-0-transform": "value_map",
                "mappings-0-transform_args": '{"map": {"paid": "O"}}',
            },
        ),
    )

    saved = FieldMapping.objects.get(flow_config=config)
    assert saved.transform_args == {"map": {"paid": "O"}}
