"""The suggestions page: one click accepts, and every suggestion says why."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from integrations.models import (
    CrossReference,
    FieldMapping,
    MatchDecision,
    RecordStatus,
)
from tests.factories import (
    CrossReferenceFactory,
    FieldMappingFactory,
    FlowConfigFactory,
    SyncRecordFactory,
)

pytestmark = pytest.mark.django_db

PAGE = "admin:crossreference_suggestions"
ACCOUNT = "001000000000001AAA"


@pytest.fixture
def config():
    return FlowConfigFactory()


def failed_on_item(config, code):
    return SyncRecordFactory(
        flow_config=config,
        status=RecordStatus.NEEDS_ATTENTION,
        error_category="referential",
        error_field="lines.0.item",
        error_message=f"Item {code} does not exist in Sage 100.",
        payload={"lines": [{"item": code, "quantity": "1"}]},
    )


def stuck_on_duplicate(config):
    return SyncRecordFactory(
        flow_config=config,
        status=RecordStatus.NEEDS_ATTENTION,
        error_category="duplicate",
        error_field="account",
        error_message="Account Acme looks like several Sage 100 customers: "
        "01-ACME (92%: name 100%, phone equal); 01-ACMEIN (71%: name 88%).",
        transformed={"account": {"id": ACCOUNT, "name": "Acme"}},
    )


def pair_form(config, target_value, verdict, record):
    return {
        "kind": "customer",
        "record": record.pk,
        "source_connection": config.source_connection_id,
        "target_connection": config.target_connection_id,
        "source_value": ACCOUNT,
        "source_label": "Acme",
        "target_value": target_value,
        "score": "0.92",
        "reasons": "name 100%, phone equal",
        "verdict": verdict,
    }


def test_the_page_shows_each_suggestion_with_its_reasons(admin_client, config):
    CrossReferenceFactory(
        kind="item",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value="WIDGET-8",
        target_value="1001-HON-H254",
    )
    failed_on_item(config, "WIDGET-9")
    failed_on_item(config, "WIDGET-9")
    stuck_on_duplicate(config)

    html = admin_client.get(reverse(PAGE)).content.decode()

    assert "used in 2 failed records" in html
    assert "Use 1001-HON-H254" in html
    assert (
        "the cross-reference for WIDGET-8 (code 88% like WIDGET-9) points to it" in html
    )
    assert "Same customer: merge" in html
    assert "phone equal" in html


def test_accepting_a_code_adds_the_cross_reference_then_resubmits(
    admin_client, config, queue
):
    record = failed_on_item(config, "WIDGET-9")
    form = {
        "kind": "item",
        "source_connection": config.source_connection_id,
        "target_connection": config.target_connection_id,
        "source_value": "WIDGET-9",
        "target_value": "1001-HON-H252",
        "reasons": "code 50% like WIDGET-9",
    }

    accepted = admin_client.post(
        reverse("admin:crossreference_accept_code"), form, follow=True
    )

    xref = CrossReference.objects.get(source_value="WIDGET-9")
    assert xref.target_value == "1001-HON-H252"
    assert xref.note == "Suggested: code 50% like WIDGET-9"
    html = accepted.content.decode()
    assert "1 record was waiting for it" in html
    assert "Resubmit 1 record" in html

    admin_client.post(reverse("admin:crossreference_accepted", args=[xref.pk]))

    record.refresh_from_db()
    assert record.status == RecordStatus.PENDING


def test_the_page_says_when_only_the_newest_records_were_looked_at(
    admin_client, config, monkeypatch
):
    from integrations.services import suggestions

    monkeypatch.setattr(suggestions, "RECORD_LIMIT", 1)
    failed_on_item(config, "OLDEST-1")
    failed_on_item(config, "WIDGET-9")

    html = admin_client.get(reverse(PAGE)).content.decode()

    assert "Only the 1 newest records with an unknown code were looked at" in html
    assert "WIDGET-9" in html and "OLDEST-1" not in html


def test_accepting_a_code_of_an_unknown_kind_is_refused_in_words(admin_client, config):
    form = {
        "kind": "widgets",
        "source_connection": config.source_connection_id,
        "target_connection": config.target_connection_id,
        "source_value": "WIDGET-9",
        "target_value": "1001-HON-H252",
    }

    page = admin_client.post(
        reverse("admin:crossreference_accept_code"), form, follow=True
    )

    assert not CrossReference.objects.exists()
    assert "The kind “widgets” is not a kind of cross-reference" in (
        page.content.decode()
    )


def test_accepting_a_field_creates_the_mapping(admin_client):
    config = FlowConfigFactory()
    FieldMappingFactory(
        flow_config=config, source_field="customer", target_field="customer"
    )
    SyncRecordFactory(
        flow_config=config,
        payload={"customer": "01-ABF", "po_number": "PO-1"},
        transformed={"customer": "01-ABF", "customer_po": "PO-1"},
    )
    assert "Map to customer_po" in admin_client.get(reverse(PAGE)).content.decode()

    admin_client.post(
        reverse("admin:crossreference_accept_field"),
        {
            "flow_config": config.pk,
            "source_field": "po_number",
            "target_field": "customer_po",
        },
    )

    assert FieldMapping.objects.filter(
        flow_config=config, source_field="po_number", target_field="customer_po"
    ).exists()


def test_merge_and_keep_apart_record_the_decisions(admin_client, admin_user, config):
    record = stuck_on_duplicate(config)
    decide = reverse("admin:crossreference_decide")

    admin_client.post(decide, pair_form(config, "01-ACME", "same", record))
    admin_client.post(decide, pair_form(config, "01-ACMEIN", "different", record))

    verdicts = dict(MatchDecision.objects.values_list("target_value", "verdict"))
    assert verdicts == {"01-ACME": "same", "01-ACMEIN": "different"}
    assert MatchDecision.objects.filter(decided_by=admin_user).count() == 2
    assert CrossReference.objects.get(kind="customer").target_value == "01-ACME"
    html = admin_client.get(reverse(PAGE)).content.decode()
    assert "No possible duplicate is waiting for a decision" in html


def test_someone_who_may_only_look_sees_no_buttons_and_cannot_post(
    client, django_user_model, config
):
    viewer = django_user_model.objects.create_user(
        "viewer", password="x", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_crossreference"))
    client.force_login(viewer)
    record = stuck_on_duplicate(config)
    failed_on_item(config, "WIDGET-9")

    html = client.get(reverse(PAGE)).content.decode()
    refused = client.post(
        reverse("admin:crossreference_decide"),
        pair_form(config, "01-ACME", "same", record),
    )

    assert "WIDGET-9" in html
    assert "Use it" not in html and "Same customer: merge" not in html
    assert refused.status_code == 403
    assert not MatchDecision.objects.exists()
