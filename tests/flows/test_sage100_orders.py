"""Web orders become Sage 100 sales orders: checked first, written once."""

import json
import sqlite3

import pytest

from integrations.engine import runner
from integrations.models import ErrorCategory, RecordStatus, System
from integrations.services import inbox, records
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.sage100 import running_sage100

pytestmark = pytest.mark.django_db


@pytest.fixture
def sage(tmp_path):
    with running_sage100(tmp_path / "sage100") as company:
        yield company


@pytest.fixture
def config(sage):
    target = ConnectionFactory(
        system=System.SAGE100,
        settings=sage.connection_settings(),
        credentials=sage.credentials,
    )
    return FlowConfigFactory(flow="generic_order_to_sage100", target_connection=target)


def _order(**overrides) -> dict:
    order = {
        "id": "WEB-1",
        "reference": "WEB-1",
        "customer": "01-ABF",
        "order_date": "2026-11-24",
        "lines": [{"item": "1001-hon-h252", "quantity": "2"}],
    }
    order.update(overrides)
    return order


def _run(config, body: dict, event_id: str):
    accepted = inbox.accept(
        config.source_connection,
        body=json.dumps(body).encode(),
        headers={},
        provider_event_id=event_id,
        signature_verified=True,
    )
    (record,) = accepted.records
    runner.run_record(record.pk)
    record.refresh_from_db()
    return record


def _orders(sage, po: str) -> list[tuple]:
    with sqlite3.connect(sage.db.path) as db:
        return db.execute(
            "SELECT SalesOrderNo, CustomerNo, OrderStatus FROM SO_SalesOrderHeader "
            "WHERE CustomerPONo = ?",
            (po,),
        ).fetchall()


def test_web_order_becomes_one_sales_order(config, sage, redis_conn):
    record = _run(config, _order(), "e1")

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    ((number, customer, status),) = _orders(sage, "WEB-1")
    assert record.target_ids["sales_order_no"] == number
    assert (customer, status) == ("ABF", "N")
    assert len(number) == 7 and number.isdigit()


def test_unknown_item_needs_attention_naming_the_line(config, sage, redis_conn):
    body = _order(lines=[{"item": "WIDGET-9", "quantity": "1"}])
    record = _run(config, body, "e2")

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.REFERENTIAL
    assert record.error_field == "lines.0.item"
    assert "WIDGET-9 does not exist in Sage 100" in record.error_message
    assert _orders(sage, "WEB-1") == []


def test_unknown_customer_needs_attention(config, sage, redis_conn):
    record = _run(config, _order(customer="01-NOSUCH"), "e3")

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "customer"


def test_item_cross_reference_fixes_the_order_on_resubmit(config, sage, redis_conn):
    from integrations.models import CrossReference

    record = _run(config, _order(lines=[{"item": "W-252", "quantity": "1"}]), "e4")
    assert record.status == RecordStatus.NEEDS_ATTENTION
    CrossReference.objects.create(
        kind="item",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value="W-252",
        target_value="1001-HON-H252",
    )
    records.resubmit(record, actor=None)
    runner.run_record(record.pk)
    record.refresh_from_db()

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(_orders(sage, "WEB-1")) == 1


def test_a_lost_answer_does_not_write_a_second_order(config, sage, redis_conn):
    """The first attempt wrote the order but its answer was lost: the retry is
    answered from the agent's journal, and Sage keeps one order."""
    record = _run(config, _order(), "e5")
    assert record.status == RecordStatus.SUCCEEDED
    # Replay the whole load as a retry would: same idempotency key.
    from integrations.engine import clients

    client = clients.build(config.target_connection)
    again = client.agent.create_sales_order(
        {"ARDivisionNo": "01", "CustomerNo": "ABF", "OrderDate": "2026-11-24",
         "ShipExpireDate": "2026-11-24", "CustomerPONo": "WEB-1"},
        [{"ItemCode": "1001-HON-H252", "QuantityOrdered": "2"}],
        idempotency_key="another-key-same-reference",
        reference={"column": "CustomerPONo", "value": "WEB-1"},
    )  # fmt: skip

    assert again["created"] is False
    assert again["record"]["SalesOrderNo"] == record.target_ids["sales_order_no"]
    assert len(_orders(sage, "WEB-1")) == 1


def test_order_above_credit_is_written_on_hold(config, sage, redis_conn):
    with sqlite3.connect(sage.db.path) as db:
        db.execute(
            "UPDATE AR_Customer SET CreditLimit = '100.00', CurrentBalance = '0', "
            "OpenOrderAmt = '0' WHERE ARDivisionNo = '01' AND CustomerNo = 'ABF'"
        )
    record = _run(config, _order(), "e6")

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert record.target_ids["order_status"] == "H"
    assert record.target_ids["warnings"]
    assert _orders(sage, "WEB-1")[0][2] == "H"


def test_sage_down_is_retried_not_failed(config, sage, redis_conn):
    sage.faults.down()
    record = _run(config, _order(), "e7")

    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.error_category == ErrorCategory.UNAVAILABLE


def test_a_record_in_use_is_retried(config, sage, redis_conn):
    sage.faults.lock_record("AR_Customer", "01|ABF", user="JANE")
    record = _run(config, _order(), "e8")

    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert "in use" in record.error_message


def test_another_customers_order_with_the_same_po_is_not_taken_for_ours(
    config, sage, redis_conn
):
    from integrations.engine import clients

    agent = clients.build(config.target_connection).agent
    theirs = agent.create_sales_order(
        {"ARDivisionNo": "01", "CustomerNo": "ABF", "OrderDate": "2026-11-24",
         "ShipExpireDate": "2026-11-24", "CustomerPONo": "PO-77"},
        [{"ItemCode": "1001-HON-H252", "QuantityOrdered": "1"}],
        idempotency_key="their-order",
    )  # fmt: skip
    other = _customer_other_than_abf(sage)

    record = _run(config, _order(reference="PO-77", customer=other), "e9")

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert record.target_ids["sales_order_no"] != theirs["record"]["SalesOrderNo"]
    assert len(_orders(sage, "PO-77")) == 2


def _customer_other_than_abf(sage) -> str:
    with sqlite3.connect(sage.db.path) as db:
        division, number = db.execute(
            "SELECT ARDivisionNo, CustomerNo FROM AR_Customer WHERE CustomerNo <> "
            "'ABF' AND CreditHold = 'N' AND CustomerStatus = 'A' AND CreditLimit = 0 "
            "ORDER BY CustomerNo LIMIT 1"
        ).fetchone()
    return f"{division}-{number}"


def test_an_item_code_longer_than_sage_allows_names_the_line(config, sage, redis_conn):
    record = _run(config, _order(lines=[{"item": "X" * 31, "quantity": "1"}]), "e10")

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "lines.0.item"
    assert "longer than Sage 100's 30 characters" in record.error_message


def test_a_customer_po_longer_than_sage_allows_is_refused_before_writing(
    config, sage, redis_conn
):
    record = _run(config, _order(customer_po="P" * 16), "e11")

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "customer_po"
    assert "truncate" in record.error_message
