"""An auditor reads everything and changes nothing: no buttons, no payload
editor, and a hand-made POST to a change form or an action is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import RecordStatus, System
from integrations.roles import AUDITOR
from tests.browser.people import person, sign_in
from tests.factories import (
    ConnectionFactory,
    FieldMappingFactory,
    FlowConfigFactory,
    SyncRecordFactory,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def failed_order():
    config = FlowConfigFactory(
        flow="generic_order_to_sage100",
        source_connection=ConnectionFactory(name="Web shop"),
        target_connection=ConnectionFactory(name="ABC", system=System.SAGE100),
    )
    FieldMappingFactory(flow_config=config, source_field="id", target_field="ref")
    return SyncRecordFactory(
        flow_config=config,
        flow=config.flow,
        source_id="WEB-5003",
        status=RecordStatus.NEEDS_ATTENTION,
        attempts=1,
        error_category="referential",
        error_field="lines.0.item",
        error_message="Item WIDGET-9 does not exist in Sage 100.",
        finished_at=timezone.now(),
        payload={
            "id": "WEB-5003",
            "reference": "WEB-5003",
            "customer": "01-ABF",
            "lines": [{"item": "WIDGET-9", "quantity": "3"}],
        },
    )


def post_as_page(page, url: str, form: dict):
    """A POST with the signed-in session and a valid CSRF token, so that only
    the permission check can refuse it."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return page.request.post(
        url,
        form=form,
        headers={"X-CSRFToken": token, "Referer": page.url},
        max_redirects=0,
    )


def test_an_auditor_sees_the_queue_and_the_record_but_can_change_nothing(
    page, failed_order
):
    sign_in(page, person("arthur", AUDITOR))

    page.goto("/admin/queue/")
    row = page.locator(f"tr[data-record='{failed_order.pk}']")
    expect(row).to_contain_text("WIDGET-9 does not exist in Sage 100")
    expect(page.locator(".lb-bulk-bar")).to_have_count(0)
    expect(page.locator("input[name=records]")).to_have_count(0)

    row.locator("a.lb-record-link").click()
    expect(page.locator(".lb-problem")).to_contain_text("lines.0.item")
    expect(page.locator(".lb-document--received")).to_contain_text("WIDGET-9")
    expect(page.get_by_role("button", name="Resubmit")).to_have_count(0)
    expect(page.locator(".objectaction-item")).to_have_count(0)
    expect(page.locator("textarea[name=payload_override]")).to_have_count(0)
    expect(page.locator(".lb-je input")).to_have_count(0)
    expect(page.locator(".submit-row input[type=submit]")).to_have_count(0)

    change = reverse("admin:integrations_syncrecord_change", args=[failed_order.pk])
    edited = post_as_page(
        page, change, {"payload_override": '{"id": "WEB-5003", "lines": []}'}
    )
    resubmit = post_as_page(
        page,
        reverse(
            "admin:integrations_syncrecord_actions", args=[failed_order.pk, "resubmit"]
        ),
        {},
    )
    bulk = post_as_page(
        page, "/admin/queue/", {"action": "resubmit", "records": failed_order.pk}
    )

    assert (edited.status, resubmit.status, bulk.status) == (403, 403, 403)
    failed_order.refresh_from_db()
    assert failed_order.status == RecordStatus.NEEDS_ATTENTION
    assert failed_order.payload_override is None
    assert failed_order.attempts == 1


def test_an_auditor_sees_a_flows_mappings_without_try_it_or_save(page, failed_order):
    sign_in(page, person("arthur", AUDITOR))
    config = failed_order.flow_config

    page.goto(f"/admin/integrations/flowconfig/{config.pk}/change/")

    expect(page.locator("#mappings-group")).to_contain_text("ref")
    expect(page.locator("[name$=-target_field]")).to_have_count(0)
    expect(page.locator("#lb-try-it")).to_have_count(0)
    expect(page.locator(".submit-row input[type=submit]")).to_have_count(0)
    refused = post_as_page(
        page,
        reverse("admin:integrations_flowconfig_change", args=[config.pk]),
        {"name": "Renamed by an auditor"},
    )
    assert refused.status == 403
    config.refresh_from_db()
    assert config.name != "Renamed by an auditor"
