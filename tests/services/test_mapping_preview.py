"""Try it: unsaved mapping rows on a real record, per-row errors, nothing written."""

from __future__ import annotations

import pytest

from integrations.connectors.salesforce import client as salesforce_client
from integrations.models import (
    CrossReference,
    FieldMapping,
    FlowConfig,
    SyncRecord,
    System,
)
from integrations.services import mapping_preview
from tests.factories import (
    ConnectionFactory,
    CrossReferenceFactory,
    FieldMappingFactory,
    FlowConfigFactory,
    SyncRecordFactory,
)
from tests.support.sage100 import running_sage100
from tests.support.salesforce import running_salesforce

pytestmark = pytest.mark.django_db

ORDER = {
    "id": "WEB-2003",
    "customer": {"name": "  american business futures ", "code": "ABF"},
    "status": "paid",
    "placed_at": "2024-03-05T10:00:00Z",
    "lines": [{"sku": "widget-9", "qty": 2}],
}


@pytest.fixture
def config():
    return FlowConfigFactory(flow="generic_webhook_to_http")


@pytest.fixture
def record(config):
    return SyncRecordFactory(flow_config=config, source_id="WEB-2003", payload=ORDER)


def try_rows(config, record, rows):
    built, problems = mapping_preview.rows_from_data(config, rows)
    return mapping_preview.preview(config, built, record, row_problems=problems)


def test_each_row_shows_what_it_makes_of_the_record(config, record):
    outcome = try_rows(
        config,
        record,
        [
            {"source_field": "customer.name", "target_field": "CustomerName",
             "transform": "trim"},
            {"source_field": "placed_at", "target_field": "OrderDate",
             "transform": "date_format", "transform_args": '{"format": "%m/%d/%Y"}'},
            {"source_field": "status", "target_field": "OrderStatus",
             "transform": "value_map", "transform_args": {"map": {"paid": "O"}}},
            {"source_field": "lines.0.sku", "target_field": "line.ItemCode",
             "transform": "upper"},
        ],
    )  # fmt: skip

    assert [row.value for row in outcome.rows] == [
        "american business futures",
        "03/05/2024",
        "O",
        "WIDGET-9",
    ]
    assert all(row.ok for row in outcome.rows)
    assert outcome.result == {
        "CustomerName": "american business futures",
        "OrderDate": "03/05/2024",
        "OrderStatus": "O",
        "line": {"ItemCode": "WIDGET-9"},
    }
    assert outcome.document == ORDER
    assert outcome.document_note == "The record's payload as received."


def test_a_failing_row_is_named_and_the_others_still_run(config, record):
    outcome = try_rows(
        config,
        record,
        [
            {"source_field": "status", "target_field": "OrderStatus",
             "transform": "value_map", "transform_args": {"map": {"open": "O"}}},
            {"source_field": "customer.code", "target_field": "CustomerNo",
             "transform": "xref", "transform_args": {"kind": "customer"}},
            {"source_field": "customer.missing", "target_field": "Comment",
             "required": True},
            {"source_field": "id", "target_field": "CustomerPONo"},
        ],
    )  # fmt: skip

    errors = {row.target_field: row.error for row in outcome.rows}
    assert (
        "'paid' has no entry in the value map of OrderStatus" in errors["OrderStatus"]
    )
    assert "No customer cross-reference for 'ABF'" in errors["CustomerNo"]
    assert errors["Comment"] == "customer.missing is required but empty."
    assert errors["CustomerPONo"] == ""
    assert outcome.result == {"CustomerPONo": "WEB-2003"}


def test_cross_references_of_the_flows_connections_are_used(config, record):
    CrossReferenceFactory(
        kind="customer",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value="ABF",
        target_value="01-ABF",
    )
    outcome = try_rows(
        config,
        record,
        [{"source_field": "customer.code", "target_field": "CustomerNo",
          "transform": "xref", "transform_args": {"kind": "customer"}}],
    )  # fmt: skip

    assert outcome.rows[0].value == "01-ABF"


def test_arguments_a_transform_needs_are_asked_for_before_it_runs(config, record):
    outcome = try_rows(
        config,
        record,
        [
            {"source_field": "status", "target_field": "OrderStatus",
             "transform": "value_map", "transform_args": {}},
            {"source_field": "id", "target_field": "Amount",
             "transform": "currency", "transform_args": {"from": "euro"}},
            {"source_field": "id", "target_field": "Other",
             "transform_args": "{not json"},
            {"source_field": "id", "target_field": ""},
        ],
    )  # fmt: skip

    errors = [row.error for row in outcome.rows]
    assert errors[0] == "Values is needed for this transform."
    assert "From currency must be a three-letter currency code" in errors[1]
    assert "To currency is needed" in errors[1]
    assert errors[2] == "The transform's arguments are not valid JSON."
    assert errors[3] == "The target field is empty."


def test_rows_marked_for_deletion_or_switched_off_are_left_out(config, record):
    outcome = try_rows(
        config,
        record,
        [
            {"source_field": "id", "target_field": "A", "delete": True},
            {"source_field": "id", "target_field": "B", "enabled": False},
            {"source_field": "id", "target_field": "C"},
        ],
    )

    assert [row.target_field for row in outcome.rows] == ["C"]


def test_a_preview_saves_nothing(config, record):
    FieldMappingFactory(flow_config=config, source_field="id", target_field="Ref")
    before = (
        FieldMapping.objects.count(),
        FieldMapping.history.count(),
        FlowConfig.history.count(),
        CrossReference.objects.count(),
        SyncRecord.objects.get(pk=record.pk).updated_at,
    )

    try_rows(
        config,
        record,
        [
            {"source_field": "id", "target_field": "Ref", "transform": "lower"},
            {"source_field": "status", "target_field": "New"},
        ],
    )

    assert before == (
        FieldMapping.objects.count(),
        FieldMapping.history.count(),
        FlowConfig.history.count(),
        CrossReference.objects.count(),
        SyncRecord.objects.get(pk=record.pk).updated_at,
    )
    assert FieldMapping.objects.get(flow_config=config).transform == ""


def test_staff_corrections_are_what_the_preview_reads(config, record):
    record.payload_override = {**ORDER, "status": "refunded"}
    record.save()

    outcome = try_rows(
        config, record, [{"source_field": "status", "target_field": "S"}]
    )

    assert outcome.rows[0].value == "refunded"
    assert outcome.document_note == "The record's payload as corrected by staff."


def test_recent_records_are_the_flows_own_newest_first(config, record):
    newer = SyncRecordFactory(flow_config=config)
    SyncRecordFactory()  # another flow's

    assert mapping_preview.recent_records(config) == [newer, record]


# -- a Salesforce flow: the record as Salesforce has it now ------------------------
@pytest.fixture
def salesforce_config(tmp_path):
    salesforce_client.forget_tokens()
    with (
        running_salesforce(tmp_path / "salesforce") as org,
        running_sage100(tmp_path / "sage100") as sage,
    ):
        settings, credentials = org.connection()
        config = FlowConfigFactory(
            flow="salesforce_opportunity_to_sage100",
            source_connection=ConnectionFactory(
                system=System.SALESFORCE, settings=settings, credentials=credentials
            ),
            target_connection=ConnectionFactory(
                system=System.SAGE100,
                settings=sage.connection_settings(),
                credentials=sage.credentials,
            ),
        )
        opportunity = org.access.ids["opportunity:abf"]
        record = SyncRecordFactory(
            flow_config=config,
            source_system=System.SALESFORCE,
            source_object_type="Opportunity",
            source_id=opportunity,
            payload={"sobject": "Opportunity", "record_ids": [opportunity]},
        )
        yield config, record


def test_salesforce_rows_read_the_opportunity_its_lines_and_account_now(
    salesforce_config,
):
    config, record = salesforce_config

    outcome = try_rows(
        config,
        record,
        [
            {"source_field": "Customer_PO__c", "target_field": "header.CustomerPONo"},
            {"source_field": "Order_Priority__c", "target_field": "header.UDF_PRIORITY",
             "transform": "value_map",
             "transform_args": {"map": {"High": "1", "Normal": "2"}}},
            {"source_field": "Quantity", "target_field": "lines.UDF_QTY"},
            {"source_field": "Name", "target_field": "customer.CustomerName",
             "transform": "upper"},
            {"source_field": "Name", "target_field": "Comment"},
        ],
    )  # fmt: skip

    values = {row.target_field: row.value for row in outcome.rows}
    assert values["header.CustomerPONo"] == "PO-ABF-7731"
    assert values["header.UDF_PRIORITY"] == "1"
    assert values["lines.UDF_QTY"] == [4.0, 2.0]
    assert values["customer.CustomerName"].startswith("AMERICAN BUSINESS")
    assert outcome.rows[4].error.startswith("The target field must start with")
    assert outcome.result["lines"] == [{"UDF_QTY": 4.0}, {"UDF_QTY": 2.0}]
    assert outcome.document_note == "The record as Salesforce has it now."
