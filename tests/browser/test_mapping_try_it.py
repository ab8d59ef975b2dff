"""An admin adds a field mapping on a flow's page, tries it on a recent record,
saves it, and the next record carries the new field to the target."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from integrations.engine import runner
from integrations.models import FieldMapping, RecordStatus, System
from integrations.roles import INTEGRATION_ADMIN
from integrations.services import inbox
from tests.browser.people import person, sign_in
from tests.factories import ConnectionFactory, FieldMappingFactory, FlowConfigFactory
from tests.support.sink import running_sink

pytestmark = pytest.mark.browser


@pytest.fixture
def relay(redis_conn):
    """Web orders relayed to an HTTP endpoint, mapping only the reference so far."""
    with running_sink(signing_secret="desk", required_fields=("reference",)) as (
        url,
        state,
    ):
        config = FlowConfigFactory(
            flow="generic_webhook_to_http",
            name="Web shop orders → Order desk",
            source_connection=ConnectionFactory(name="Web shop"),
            target_connection=ConnectionFactory(
                name="Order desk",
                system=System.GENERIC,
                settings={"url": f"{url}/documents"},
                credentials={"signing_secret": "desk"},
            ),
        )
        FieldMappingFactory(
            flow_config=config, position=1, source_field="id", target_field="reference"
        )
        yield config, state


def deliver(config, order_id: str, email: str):
    accepted = inbox.accept(
        config.source_connection,
        body=json.dumps({"id": order_id, "customer": {"email": email}}).encode(),
        headers={},
        provider_event_id=f"event-{order_id}",
        signature_verified=True,
    )
    (record,) = accepted.records
    runner.run_record(record.pk)
    record.refresh_from_db()
    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    return record


def written(state, record) -> dict:
    return state.documents[record.target_ids["document_id"]]


def test_admin_adds_a_mapping_tries_it_and_the_next_record_carries_it(page, relay):
    config, sink = relay
    earlier = deliver(config, "WEB-4001", "Ap@Example.COM")
    assert "customer_email" not in written(sink, earlier)
    sign_in(page, person("ines", INTEGRATION_ADMIN))

    page.goto(f"/admin/integrations/flowconfig/{config.pk}/change/")
    expect(page.locator("#lb-fields-status")).to_contain_text("Field pickers")
    page.fill("[name=mappings-1-position]", "2")
    page.fill("[name=mappings-1-source_field]", "customer.email")
    page.fill("[name=mappings-1-target_field]", "customer_email")
    page.select_option("[name=mappings-1-transform]", "lower")
    expect(page.locator("#lb-try-record option")).to_have_count(1)
    page.click("#lb-try-button")

    result = page.locator("#lb-try-result")
    expect(result.locator("tr.lb-try-ok")).to_have_count(2)
    expect(result.locator("tr", has_text="customer_email")).to_contain_text(
        "ap@example.com"
    )
    assert FieldMapping.objects.filter(flow_config=config).count() == 1  # not saved
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    assert FieldMapping.objects.filter(
        flow_config=config, target_field="customer_email", transform="lower"
    ).exists()
    later = deliver(config, "WEB-4002", "Buyer@Example.COM")
    document = written(sink, later)
    assert document["reference"] == "WEB-4002"
    assert document["customer_email"] == "buyer@example.com"
