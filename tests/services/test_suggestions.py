"""Suggestions: ranked, explained, and accepted in one step."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from integrations.flows.salesforce_orders import _verdicts
from integrations.models import (
    CrossReference,
    FieldMapping,
    MatchDecision,
    RecordStatus,
    System,
)
from integrations.services import suggestions
from integrations.services.suggestions import TargetCode
from tests.factories import (
    ConnectionFactory,
    CrossReferenceFactory,
    FieldMappingFactory,
    FlowConfigFactory,
    SyncRecordFactory,
)
from tests.support.sage100 import running_sage100

pytestmark = pytest.mark.django_db

ACCOUNT = "001000000000001AAA"
CATALOG = [
    TargetCode("1001-HON-H252", "HON file cabinet H252"),
    TargetCode("1001-HON-H254", "HON file cabinet H254"),
    TargetCode("3001-CHR-GLB-C10", "Global office chair C10"),
    TargetCode("9000-FTR-ERG", "Ergonomic footrest"),
]


@pytest.fixture
def config():
    sage = ConnectionFactory(slug="sage", name="ABC (Sage 100)", system=System.SAGE100)
    return FlowConfigFactory(target_connection=sage)


def failed_on_item(config, code: str, name: str = "", **fields):
    line = {"item": code, "quantity": "1", **({"name": name} if name else {})}
    fields.setdefault("status", RecordStatus.NEEDS_ATTENTION)
    return SyncRecordFactory(
        flow_config=config,
        error_category="referential",
        error_field="lines.0.item",
        error_message=f"Item {code} does not exist in Sage 100: add an item "
        "cross-reference, or create the item in Sage 100.",
        payload={"customer": "01-ABF", "lines": [line]},
        **fields,
    )


def only_code(catalog=CATALOG):
    [code] = suggestions.unknown_codes(catalog=lambda connection, kind: catalog)
    return code


def test_a_mistyped_code_suggests_the_nearest_target_code_first(config):
    failed_on_item(config, "1001-HON-H25")
    failed_on_item(config, "1001-HON-H25")

    code = only_code()

    assert (code.kind, code.value, code.reasons) == (
        "item",
        "1001-HON-H25",
        "used in 2 failed records",
    )
    best, second = code.options[:2]
    assert {best.value, second.value} == {"1001-HON-H252", "1001-HON-H254"}
    assert best.score >= 0.9
    assert best.reasons[0] == "code 96% like 1001-HON-H25"
    assert all(o.score >= suggestions.MIN_SCORE for o in code.options)
    assert "3001-CHR-GLB-C10" not in [o.value for o in code.options]


def test_the_source_name_finds_a_target_whose_code_looks_nothing_alike(config):
    failed_on_item(config, "SF-FOOT-9000", name="Ergonomic footrest (blue)")

    code = only_code()

    best = code.options[0]
    assert best.value == "9000-FTR-ERG"
    assert best.label == "Ergonomic footrest"
    assert any(
        r.startswith("name 100% like “Ergonomic footrest (blue)”") for r in best.reasons
    )


def test_a_cross_reference_of_a_similar_code_is_suggested_with_its_reason(config):
    CrossReferenceFactory(
        kind="item",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value="WIDGET-8",
        target_value="1001-HON-H254",
    )
    failed_on_item(config, "WIDGET-9")

    code = only_code(catalog=[])

    assert [o.value for o in code.options] == ["1001-HON-H254"]
    assert code.options[0].reasons == (
        "the cross-reference for WIDGET-8 (code 88% like WIDGET-9) points to it",
    )


def test_records_needing_attention_for_other_reasons_bring_no_code(config):
    SyncRecordFactory(
        flow_config=config,
        status=RecordStatus.NEEDS_ATTENTION,
        error_category="validation",
        error_field="lines.0.quantity",
        error_message="Quantity must be more than 0.",
    )
    failed_on_item(config, "GONE", status=RecordStatus.SUCCEEDED)

    assert suggestions.unknown_codes(catalog=lambda c, k: CATALOG) == []


def test_the_sage_catalog_reads_active_items_from_sage(tmp_path, redis_conn):
    with running_sage100(tmp_path / "sage100", customers=3) as company:
        sage = ConnectionFactory(
            system=System.SAGE100,
            settings=company.connection_settings(),
            credentials=company.credentials,
        )
        items = suggestions.sage_catalog(sage, "item")
        customers = suggestions.sage_catalog(sage, "customer")

    codes = {item.code: item.name for item in items}
    assert codes["1001-HON-H252"] == "HON file cabinet H252"
    assert len(customers) >= 3
    assert all("-" in c.code for c in customers)  # the 01-ABF form


def test_accepting_a_code_adds_the_cross_reference_and_resubmits_its_records(
    config, queue, admin_user
):
    first = failed_on_item(config, "WIDGET-9")
    second = failed_on_item(config, "WIDGET-9")
    other = failed_on_item(config, "GADGET-2")

    xref = suggestions.accept_code(
        kind="item",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value="WIDGET-9",
        target_value="1001-hon-h252",
        reasons="code 50% like WIDGET-9",
        actor=admin_user,
    )
    outcomes = suggestions.resubmit_waiting(xref, actor=admin_user)

    assert xref.target_value == "1001-HON-H252"  # as Sage 100 stores it
    assert xref.history.first().history_user == admin_user
    assert sorted(o.record_id for o in outcomes if o.done) == [first.pk, second.pk]
    for record, status in [
        (first, RecordStatus.PENDING),
        (second, RecordStatus.PENDING),
        (other, RecordStatus.NEEDS_ATTENTION),
    ]:
        record.refresh_from_db()
        assert record.status == status


def test_accepting_an_implausible_sage_code_is_refused(config):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="longer than Sage 100's 30"):
        suggestions.accept_code(
            kind="item",
            source_connection=config.source_connection,
            target_connection=config.target_connection,
            source_value="WIDGET-9",
            target_value="X" * 31,
        )
    assert not CrossReference.objects.exists()


def test_an_unmapped_field_is_matched_by_name_and_sample_value():
    config = FlowConfigFactory()
    FieldMappingFactory(
        flow_config=config, source_field="customer", target_field="customer"
    )
    for number in ("PO-77", "PO-78"):
        SyncRecordFactory(
            flow_config=config,
            payload={
                "customer": "01-ABF",
                "po_number": number,
                "lines": [{"sku": "A"}],
            },
            transformed={"customer": "01-ABF", "customer_po": number, "comment": ""},
        )

    found = {f.source_field: f for f in suggestions.unmapped_fields()}

    assert set(found) == {"po_number", "lines.0.sku"}
    po = found["po_number"]
    assert po.reasons == "in 2 of the last 2 records"
    assert po.samples == ["PO-78", "PO-77"]
    best = po.options[0]
    assert best.value == "customer_po"
    assert "same sample value “PO-78”" in best.reasons
    assert any(r.startswith("name ") for r in best.reasons)
    assert "customer" not in [o.value for o in po.options]  # already written


def test_flows_without_mappings_are_not_offered_field_suggestions():
    config = FlowConfigFactory()
    SyncRecordFactory(flow_config=config, payload={"po_number": "PO-1"})

    assert suggestions.unmapped_fields() == []


def test_accepting_a_field_adds_a_mapping_after_the_others():
    config = FlowConfigFactory()
    FieldMappingFactory(flow_config=config, position=4, target_field="customer")

    mapping = suggestions.accept_field(config, "po_number", "customer_po")

    assert (mapping.position, mapping.source_field) == (5, "po_number")
    assert FieldMapping.objects.filter(flow_config=config).count() == 2


def stuck_on_duplicate(config):
    return SyncRecordFactory(
        flow_config=config,
        status=RecordStatus.NEEDS_ATTENTION,
        error_category="duplicate",
        error_field="account",
        error_message=(
            "Account Acme Industrial looks like several Sage 100 customers: "
            "01-ACME (92%: name 100%, phone equal); 01-ACMEIN (71%: name 88%, "
            "ZIP differs). Say which one it is under Match decisions."
        ),
        transformed={"account": {"id": ACCOUNT, "name": "Acme Industrial"}},
    )


def test_duplicate_pairs_come_with_scores_and_reasons(config):
    record = stuck_on_duplicate(config)

    pairs = suggestions.duplicate_pairs()

    assert [(p.target_value, p.percent, p.reasons) for p in pairs] == [
        ("01-ACME", 92, ("name 100%", "phone equal")),
        ("01-ACMEIN", 71, ("name 88%", "ZIP differs")),
    ]
    assert {(p.source_value, p.source_label, p.record_id) for p in pairs} == {
        (ACCOUNT, "Acme Industrial", record.pk)
    }


def decide(config, target_value, verdict, actor=None):
    return suggestions.decide(
        kind="customer",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value=ACCOUNT,
        target_value=target_value,
        verdict=verdict,
        score=0.92,
        reasons="name 100%, phone equal",
        actor=actor,
    )


def test_merge_binds_the_customer_and_the_flow_reads_the_verdict(config, admin_user):
    stuck_on_duplicate(config)

    decision = decide(config, "01-ACME", "same", admin_user)

    assert (decision.verdict, decision.decided_by, str(decision.score)) == (
        "same",
        admin_user,
        "0.92",
    )
    xref = CrossReference.objects.get(kind="customer", source_value=ACCOUNT)
    assert xref.target_value == "01-ACME"
    assert _verdicts(SimpleNamespace(flow_config=config), ACCOUNT) == {
        "01-ACME": "same"
    }
    assert [p.target_value for p in suggestions.duplicate_pairs()] == ["01-ACMEIN"]


def test_keep_apart_records_the_verdict_and_binds_nothing(config):
    stuck_on_duplicate(config)

    decide(config, "01-ACMEIN", "different")
    decide(config, "01-ACMEIN", "different")  # twice: still one decision

    assert MatchDecision.objects.count() == 1
    assert not CrossReference.objects.exists()
    assert _verdicts(SimpleNamespace(flow_config=config), ACCOUNT) == {
        "01-ACMEIN": "different"
    }


@pytest.mark.parametrize("kind", ["widgets", "", "Item"])
def test_accepting_a_code_of_a_kind_that_is_not_a_cross_reference_kind_is_refused(
    config, kind
):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="is not a kind of cross-reference"):
        suggestions.accept_code(
            kind=kind,
            source_connection=config.source_connection,
            target_connection=config.target_connection,
            source_value="WIDGET-9",
            target_value="1001-HON-H252",
        )
    assert not CrossReference.objects.exists()


def test_accepting_a_code_of_a_kind_the_flows_record_themselves_is_allowed(config):
    CrossReferenceFactory(
        kind="sales_order",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value="WEB-2001",
        target_value="0000123",
    )

    xref = suggestions.accept_code(
        kind="sales_order",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value="WEB-2002",
        target_value="0000124",
    )

    assert xref.kind == "sales_order"


@pytest.fixture
def fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()


def test_the_pickers_of_a_flow_are_asked_once_within_five_minutes(
    monkeypatch, fresh_cache
):
    from integrations.services import schemas

    asked = []

    def pickers(config):
        asked.append(config.pk)
        return {"scopes": [{"target": [{"name": "customer_po"}]}], "problems": []}

    monkeypatch.setattr(schemas, "pickers", pickers)
    config = FlowConfigFactory()
    FieldMappingFactory(flow_config=config, source_field="a", target_field="a")
    SyncRecordFactory(flow_config=config, payload={"po_number": "PO-1"})

    first = suggestions.unmapped_fields()
    second = suggestions.unmapped_fields()

    assert asked == [config.pk]
    assert [o.value for o in first[0].options] == [o.value for o in second[0].options]


def test_unknown_codes_read_the_newest_records_only_and_say_so(config):
    failed_on_item(config, "OLDEST-1")
    failed_on_item(config, "WIDGET-9")
    failed_on_item(config, "GADGET-2")

    codes = suggestions.unknown_codes(catalog=lambda c, k: CATALOG, limit=2)
    everything = suggestions.unknown_codes(catalog=lambda c, k: CATALOG)

    assert sorted(c.value for c in codes) == ["GADGET-2", "WIDGET-9"]
    assert (codes.limited, codes.limit) == (True, 2)
    assert not everything.limited and len(everything) == 3


def test_waiting_records_and_duplicate_pairs_are_bounded_too(config):
    failed_on_item(config, "WIDGET-9")
    newest = failed_on_item(config, "WIDGET-9")
    stuck_on_duplicate(config)
    stuck_on_duplicate(config)

    waiting = suggestions.waiting_records(
        "item",
        config.source_connection_id,
        config.target_connection_id,
        "WIDGET-9",
        limit=1,
    )
    pairs = suggestions.duplicate_pairs(limit=1)

    assert [r.pk for r in waiting] == [newest.pk] and waiting.limited
    assert pairs.limited and len(pairs) == 2  # one record names two candidates
