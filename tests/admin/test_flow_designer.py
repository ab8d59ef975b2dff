"""The flow designer: a flow as its steps, switched and rescheduled without code,
every change a version that can be compared and rolled back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import FieldMapping, FlowConfig
from tests.factories import FieldMappingFactory, FlowConfigFactory

pytestmark = pytest.mark.django_db


def designer(config) -> str:
    return reverse("admin:integrations_flowconfig_designer", args=[config.pk])


def versions(config) -> str:
    return reverse("admin:integrations_flowconfig_versions", args=[config.pk])


def form(config, **changes) -> dict:
    data = {
        "enabled": "on" if config.enabled else "",
        "trigger": config.trigger,
        "schedule": config.schedule,
        "max_attempts": "",
        "options": "{}",
        "reason": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if not (k == "enabled" and v == "")}


def test_steps_are_drawn_from_the_flow_class(admin_client):
    config = FlowConfigFactory(
        flow="sage100_order_status_to_salesforce",
        options={"status_field": "Sage_Status__c", "topics": ["sage100.sales_order"]},
    )

    page = admin_client.get(designer(config))

    steps = page.context["steps"]
    assert [s.title for s in steps] == [
        "Trigger", "Extract", "Transform", "Validate", "Load", "Confirm",
    ]  # fmt: skip
    by_key = {s.key: s for s in steps}
    assert "Listens to: sage100.sales_order." in by_key["trigger"].details
    assert by_key["trigger"].options == {"topics": ["sage100.sales_order"]}
    assert "in batches of up to 200 records" in by_key["load"].summary
    assert by_key["load"].options == {"status_field": "Sage_Status__c"}
    assert not by_key["confirm"].used
    html = page.content.decode()
    assert "Cross-reference tables this flow reads" in html
    assert "Status</a>: 0 rows" in html


def test_the_transform_step_lists_the_mapping_set(admin_client):
    config = FlowConfigFactory(flow="generic_webhook_to_http")
    FieldMappingFactory(flow_config=config, source_field="sku", target_field="Item")
    FieldMappingFactory(
        flow_config=config, source_field="x", target_field="Off", enabled=False
    )

    page = admin_client.get(designer(config))

    transform = page.context["steps"][2]
    assert transform.summary == "1 field mapping switched on, 1 off."
    assert "<td>sku</td>" in page.content.decode()


def test_switching_a_flow_off_is_saved_as_a_version_with_who_and_why(
    admin_client, admin_user
):
    config = FlowConfigFactory(enabled=True)

    response = admin_client.post(
        designer(config), form(config, enabled="", reason="Sage upgrade tonight")
    )

    assert response.status_code == 302
    config.refresh_from_db()
    assert config.enabled is False
    newest = config.history.first()
    assert newest.history_user == admin_user
    assert newest.history_change_reason == "Sage upgrade tonight"
    page = admin_client.get(designer(config))
    assert "Switched off" in page.content.decode()


def test_options_are_checked_by_the_flows_own_rules(admin_client):
    config = FlowConfigFactory()

    response = admin_client.post(
        designer(config), form(config, options='{"topics": "sage100.inventory"}')
    )

    assert response.status_code == 200
    assert "topics must be a list of event topics" in response.content.decode()
    config.refresh_from_db()
    assert config.options == {}


def test_a_poll_without_a_schedule_is_refused_in_words(admin_client):
    config = FlowConfigFactory()

    response = admin_client.post(designer(config), form(config, trigger="poll"))

    assert "A poll or schedule trigger needs a schedule" in response.content.decode()
    config.refresh_from_db()
    assert config.trigger == "webhook"


def test_a_bad_schedule_is_refused(admin_client):
    config = FlowConfigFactory()

    response = admin_client.post(
        designer(config), form(config, trigger="poll", schedule="hourly")
    )

    assert "Not a valid cron expression" in response.content.decode()


def test_versions_page_compares_and_rolls_back(admin_client, admin_user):
    config = FlowConfigFactory(schedule="")
    admin_client.post(
        designer(config), form(config, trigger="poll", schedule="*/5 * * * *")
    )

    page = admin_client.get(versions(config))
    assert [v.number for v in page.context["versions"]] == [2, 1]
    compared = admin_client.get(
        reverse("admin:integrations_flowconfig_versions_compare", args=[config.pk]),
        {"older": 1, "newer": 2},
    )
    assert "Schedule: (empty) → “*/5 * * * *”." in compared.content.decode()

    rollback = reverse("admin:integrations_flowconfig_rollback", args=[config.pk, 1])
    response = admin_client.post(rollback, {"reason": "Back to events"}, follow=True)

    assert "Rolled back to version 1" in response.content.decode()
    config.refresh_from_db()
    assert (config.trigger, config.schedule) == ("webhook", "")
    assert config.history.first().history_user == admin_user


def test_a_rollback_restores_mappings_deleted_since(admin_client):
    config = FlowConfigFactory()
    kept = FieldMappingFactory(flow_config=config, target_field="CustomerPONo")
    first = len(admin_client.get(versions(config)).context["versions"])
    FlowConfig.history.update(
        history_date=kept.flow_config.created_at.replace(year=2020)
    )
    FieldMapping.history.update(
        history_date=kept.flow_config.created_at.replace(year=2020)
    )
    FieldMapping.objects.get(pk=kept.pk).delete()

    admin_client.post(
        reverse("admin:integrations_flowconfig_rollback", args=[config.pk, first]),
        {"reason": "Deleted by mistake"},
    )

    assert FieldMapping.objects.get(pk=kept.pk).target_field == "CustomerPONo"


def test_people_who_may_only_look_cannot_change_a_flow(client, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("auditor", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_flowconfig"))
    client.force_login(viewer)
    config = FlowConfigFactory(enabled=True)

    page = client.get(designer(config))
    refused = client.post(designer(config), form(config, enabled=""))
    rollback = client.post(
        reverse("admin:integrations_flowconfig_rollback", args=[config.pk, 1]),
        {"reason": "x"},
    )

    assert page.status_code == 200
    assert "Save as a new version" not in page.content.decode()
    assert refused.status_code == 403
    assert rollback.status_code == 403
    config.refresh_from_db()
    assert config.enabled is True


def test_a_rollback_needs_the_field_mapping_permissions_too(client, django_user_model):
    from django.contrib.auth.models import Permission

    editor = django_user_model.objects.create_user("flow-editor", is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_flowconfig", "change_flowconfig"]
        )
    )
    client.force_login(editor)
    config = FlowConfigFactory()
    mapping = FieldMappingFactory(flow_config=config, target_field="CustomerPONo")
    FlowConfig.history.update(history_date=config.created_at.replace(year=2020))
    FieldMapping.history.update(history_date=config.created_at.replace(year=2020))
    FieldMapping.objects.get(pk=mapping.pk).delete()

    page = client.get(versions(config))
    refused = client.post(
        reverse("admin:integrations_flowconfig_rollback", args=[config.pk, 1]),
        {"reason": "Bring the mapping back"},
    )

    assert "Roll back to this" not in page.content.decode()
    assert refused.status_code == 403
    assert not FieldMapping.objects.filter(pk=mapping.pk).exists()


def test_the_designer_shows_the_five_newest_versions(admin_client):
    from datetime import timedelta

    config = FlowConfigFactory(schedule="")
    for hour in range(6):
        for row in FlowConfig.history.all():  # each save a moment of its own
            row.history_date -= timedelta(minutes=1)
            row.save()
        admin_client.post(
            designer(config), form(config, schedule=f"0 {hour} * * *", trigger="poll")
        )
        config.refresh_from_db()

    shown = admin_client.get(designer(config)).context["latest_versions"]

    assert [v.number for v in shown] == [7, 6, 5, 4, 3]
