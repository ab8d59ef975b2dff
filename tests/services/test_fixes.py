"""The cause and the suggested fix for each kind of failure, with its links."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import ConnectionStatus, RecordStatus
from integrations.services import fixes
from tests.factories import (
    ConnectionFactory,
    CrossReferenceFactory,
    FieldMappingFactory,
    FlowConfigFactory,
    SyncRecordFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def web_orders():
    return FlowConfigFactory(
        flow="generic_order_to_sage100",
        name="Web orders",
        source_connection=ConnectionFactory(name="Web shop"),
        target_connection=ConnectionFactory(name="ABC Distribution", system="sage100"),
    )


def needing_attention(config, category: str, **fields):
    defaults = {
        "flow_config": config,
        "flow": config.flow,
        "status": RecordStatus.NEEDS_ATTENTION,
        "attempts": 1,
        "error_category": category,
        "finished_at": timezone.now(),
    }
    return SyncRecordFactory(**{**defaults, **fields})


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_missing_item_names_the_item_and_links_to_a_prefilled_cross_reference(
    web_orders,
):
    record = needing_attention(
        web_orders,
        "referential",
        payload={"reference": "WEB-1", "lines": [{"item": "WIDGET-9"}]},
        error_field="lines.0.item",
        error_message="Item WIDGET-9 does not exist in Sage 100.",
    )

    fix = fixes.suggest(record)

    assert fix.cause == "referential"
    assert fix.field == "lines.0.item"
    assert fix.suggestion == (
        "Item WIDGET-9 does not exist in Sage 100: add a cross-reference, or create "
        "the item."
    )
    add = fix.links[0]
    assert add.label == "Add the missing cross-reference for item WIDGET-9"
    assert urlsplit(add.url).path == reverse("admin:integrations_crossreference_add")
    assert query_of(add.url) == {
        "kind": "item",
        "source_connection": str(web_orders.source_connection_id),
        "target_connection": str(web_orders.target_connection_id),
        "source_value": "WIDGET-9",
    }


def test_missing_reference_with_a_wrong_cross_reference_links_to_correct_it(
    web_orders,
):
    xref = CrossReferenceFactory(
        kind="customer",
        source_connection=web_orders.source_connection,
        target_connection=web_orders.target_connection,
        source_value="SHOP-CUST-1",
        target_value="01-GONE",
    )
    record = needing_attention(
        web_orders,
        "referential",
        payload={"customer": "SHOP-CUST-1"},
        error_field="customer",
        error_message="Customer SHOP-CUST-1 does not exist in Sage 100.",
    )

    fix = fixes.suggest(record)

    assert "points to 01-GONE, which does not exist in Sage 100" in fix.suggestion
    assert fix.links[0].url == reverse(
        "admin:integrations_crossreference_change", args=[xref.pk]
    )


def test_salesforce_line_item_is_read_from_the_transformed_order(web_orders):
    record = needing_attention(
        web_orders,
        "referential",
        transformed={"lines": [{"product_code": "SF-FOOT-9000"}]},
        error_field="lines.0.product_code",
        error_message="Line 1: item SF-FOOT-9000 does not exist in Sage 100.",
    )

    fix = fixes.suggest(record)

    assert fix.suggestion.startswith("Item SF-FOOT-9000 does not exist in Sage 100")
    assert query_of(fix.links[0].url)["source_value"] == "SF-FOOT-9000"


def test_duplicate_links_to_match_decisions_prefilled_with_each_candidate(web_orders):
    record = needing_attention(
        web_orders,
        "duplicate",
        error_field="account",
        error_message="Account Northwind looks like several Sage 100 customers: "
        "01-NORTH (82%: same name); 01-NWT (71%: same phone). Say which one it is.",
        transformed={"account": {"id": "001A", "name": "Northwind"}},
    )

    fix = fixes.suggest(record)

    assert fix.cause == "duplicate"
    assert "Northwind looks like more than one Sage 100 customer" in fix.suggestion
    assert "01-NORTH, 01-NWT" in fix.suggestion
    assert [link.label for link in fix.links] == [
        "It is 01-NORTH",
        "It is 01-NWT",
        "See Match decisions for it",
    ]
    assert query_of(fix.links[0].url) == {
        "kind": "customer",
        "source_connection": str(web_orders.source_connection_id),
        "target_connection": str(web_orders.target_connection_id),
        "source_value": "001A",
        "target_value": "01-NORTH",
        "verdict": "same",
    }
    assert query_of(fix.links[2].url) == {"q": "001A"}


def test_auth_links_to_the_connection_that_must_be_signed_in_again(web_orders):
    source = web_orders.source_connection
    source.status = ConnectionStatus.NEEDS_REAUTH
    source.save()
    record = needing_attention(
        web_orders,
        "auth",
        status=RecordStatus.RETRY_SCHEDULED,
        next_attempt_at=timezone.now() + timedelta(minutes=15),
        error_message="Refused our token.",
    )

    fix = fixes.suggest(record)

    assert fix.cause == "auth"
    assert "The connection Web shop must be signed in again" in fix.suggestion
    assert fix.links[0].url == reverse(
        "admin:integrations_connection_change", args=[source.pk]
    )


def test_validation_names_the_field_and_links_to_the_payload_editor(web_orders):
    record = needing_attention(
        web_orders,
        "validation",
        error_field="lines.0.quantity",
        error_message="The quantity must be more than zero.",
    )

    fix = fixes.suggest(record)

    assert fix.suggestion == "Correct lines.0.quantity in the payload, then resubmit."
    assert fix.links[0].url == (
        reverse("admin:integrations_syncrecord_change", args=[record.pk])
        + "#payload-editor"
    )


def test_validation_points_at_the_mappings_when_the_flow_has_some(web_orders):
    FieldMappingFactory(flow_config=web_orders)
    record = needing_attention(web_orders, "validation", error_field="customer")

    fix = fixes.suggest(record)

    assert [link.label for link in fix.links] == [
        "Correct the payload",
        "Check the flow's field mappings",
    ]


def test_unavailable_too_long_says_how_many_attempts_and_links_the_connection(
    web_orders,
):
    record = needing_attention(
        web_orders,
        "unavailable",
        status=RecordStatus.RETRY_SCHEDULED,
        attempts=4,
        next_attempt_at=timezone.now() + timedelta(minutes=30),
        error_message="Connection refused.",
    )

    fix = fixes.suggest(record)

    assert fix.cause == "unavailable"
    assert fix.suggestion.startswith("Sage 100 did not answer after 4 attempts")
    assert fix.links[0].url == reverse(
        "admin:integrations_connection_change", args=[web_orders.target_connection_id]
    )


def test_conflict_asks_for_the_winning_value(web_orders):
    record = needing_attention(web_orders, "conflict", error_field="ship_date")

    fix = fixes.suggest(record)

    assert fix.suggestion == (
        "Both systems changed ship_date: put the value that should win in the "
        "payload, then resubmit."
    )
    assert fix.links[0].url.endswith("#payload-editor")


def test_links_a_person_may_not_open_are_left_out(web_orders, django_user_model):
    record = needing_attention(
        web_orders,
        "referential",
        payload={"lines": [{"item": "WIDGET-9"}]},
        error_field="lines.0.item",
    )
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)

    fix = fixes.suggest(record, user=viewer)

    assert fix.links == ()
    assert "WIDGET-9" in fix.suggestion


def test_record_label_uses_the_order_name_and_customer(web_orders):
    record = needing_attention(
        web_orders,
        "validation",
        source_id="0065g00000XyZaBAAV",
        transformed={
            "source": {"name": "Northwind - 40 footrests"},
            "account": {"name": "Northwind Traders"},
        },
    )

    assert fixes.record_label(record) == "Northwind - 40 footrests · Northwind Traders"


def test_salesforce_source_and_sage_target_links(web_orders):
    salesforce = ConnectionFactory(
        system="salesforce", settings={"login_url": "https://127.0.0.1:8443/"}
    )
    config = FlowConfigFactory(
        flow="generic_order_to_sage100",
        source_connection=salesforce,
        target_connection=web_orders.target_connection,
    )
    record = SyncRecordFactory(
        flow_config=config,
        source_system="salesforce",
        source_object_type="Opportunity",
        source_id="0065g00000XyZaBAAV",
        target_ids={"sales_order_no": "0000123"},
    )

    links = fixes.system_links(record)

    assert [(link.label, link.url) for link in links] == [
        (
            "Open Opportunity in Salesforce",
            "https://127.0.0.1:8443/lightning/r/Opportunity/0065g00000XyZaBAAV/view",
        ),
        ("Sage 100 sales order 0000123", ""),
    ]


@pytest.mark.django_db
def test_our_own_fault_is_not_blamed_on_the_connection():
    from integrations.engine.errors import INTERNAL_FAULT
    from integrations.services import fixes
    from tests.factories import SyncRecordFactory

    record = SyncRecordFactory(
        status="needs_attention",
        attempts=5,
        error_category="unavailable",
        error_message=f"Gave up after 5 attempts. {INTERNAL_FAULT}",
    )

    fix = fixes.suggest(record)

    assert "fault in LedgerBridge itself" in fix.suggestion
    assert "Test the connection" not in " ".join(link.label for link in fix.links)
