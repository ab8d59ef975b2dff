"""Finding a record by whichever id or name a person knows."""

from __future__ import annotations

import pytest

from integrations.models import SyncRecord
from integrations.services.search import search
from tests.factories import SyncRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def records():
    return {
        "salesforce": SyncRecordFactory(
            source_id="0065g00000XyZaBAAV",
            search_text="0065g00000xyzabaav | northwind - 40 footrests | "
            "northwind traders",
            target_ids={"sales_order_no": "0000123"},
        ),
        "shopify": SyncRecordFactory(
            source_id="5512345678",
            search_text="5512345678 | #1001 | jane@example.com",
        ),
        "xero": SyncRecordFactory(
            source_id="inv-guid-1", search_text="inv-guid-1 | inv-0042 | acme ltd"
        ),
        # From before search_text existed: only its ids know it.
        "old": SyncRecordFactory(source_id="WEB-2003", target_ids={"number": "SO-77"}),
    }


def found(term: str) -> set[int]:
    return set(search(SyncRecord.objects.all(), term).values_list("pk", flat=True))


def test_search_by_salesforce_opportunity_id(records):
    assert found("0065g00000XyZaBAAV") == {records["salesforce"].pk}


def test_search_by_shopify_order_name(records):
    assert found("#1001") == {records["shopify"].pk}


def test_search_by_xero_invoice_number_in_any_case(records):
    assert found("INV-0042") == {records["xero"].pk}


def test_search_by_sage_sales_order_number(records):
    assert found("0000123") == {records["salesforce"].pk}
    assert found("SO-77") == {records["old"].pk}


def test_search_by_customer_name_words_in_any_order(records):
    assert found("northwind") == {records["salesforce"].pk}
    assert found("Traders Northwind") == {records["salesforce"].pk}


def test_search_by_source_id_without_search_text(records):
    assert found("web-2003") == {records["old"].pk}


def test_search_by_our_record_number(records):
    assert found(f"#{records['xero'].pk}") >= {records["xero"].pk}


def test_empty_search_keeps_everything(records):
    assert found("  ") == {r.pk for r in records.values()}


def test_search_that_matches_nothing_finds_nothing(records):
    assert found("no-such-order") == set()
