"""One Sage 100 write per idempotency key, whatever the hub retries."""

import threading

import pytest

from integrations.agent.backends.base import BOIError
from integrations.agent.service import request_digest
from integrations.engine import errors

HEADER = {"ARDivisionNo": "01", "CustomerNo": "ABF", "CustomerPONo": "SHOP-1001"}
LINES = [{"ItemCode": "1001-HON-H252", "QuantityOrdered": 2}]
REFERENCE = {"column": "CustomerPONo", "value": "SHOP-1001"}


def test_same_key_returns_the_first_result_without_a_second_write(agent, client):
    first = client.create_sales_order(HEADER, LINES, idempotency_key="order-1")
    again = client.create_sales_order(HEADER, LINES, idempotency_key="order-1")

    assert first["key"] == {"SalesOrderNo": "0000101"}
    assert first["replayed"] is False
    assert again == {**first, "replayed": True}
    assert agent.backend.writes == [("SO_SalesOrder", ("0000101",))]


def test_same_key_with_a_different_body_is_a_conflict_naming_the_key(agent, client):
    client.create_sales_order(HEADER, LINES, idempotency_key="order-1")
    other = [{"ItemCode": "1001-HON-H252", "QuantityOrdered": 3}]

    with pytest.raises(errors.ConflictDetected) as caught:
        client.create_sales_order(HEADER, other, idempotency_key="order-1")

    assert "'order-1'" in caught.value.message
    assert caught.value.field == "idempotency_key"
    assert len(agent.backend.writes) == 1


def test_reference_already_in_sage_is_returned_instead_of_written(agent, client):
    agent.backend.records["SO_SalesOrder"] = {("0000077",): dict(HEADER)}

    result = client.create_sales_order(
        HEADER, LINES, idempotency_key="order-1", reference=REFERENCE
    )

    assert result["key"] == {"SalesOrderNo": "0000077"}
    assert result["created"] is False and result["replayed"] is False
    assert agent.backend.writes == []
    assert agent.backend.finds[0][0] == "SO_SalesOrder"


def test_reference_value_is_written_with_the_record(agent, client):
    header = {k: v for k, v in HEADER.items() if k != "CustomerPONo"}
    result = client.create_sales_order(
        header, LINES, idempotency_key="order-1", reference=REFERENCE
    )
    assert result["record"]["CustomerPONo"] == "SHOP-1001"


def test_reference_that_disagrees_with_the_values_is_refused(agent, client):
    with pytest.raises(errors.ValidationFailed) as caught:
        client.create_sales_order(
            {**HEADER, "CustomerPONo": "OTHER"},
            LINES,
            idempotency_key="order-1",
            reference=REFERENCE,
        )
    assert caught.value.field == "header.CustomerPONo"
    assert agent.backend.writes == []


def _pending(agent, operation: str, key: str, payload: dict) -> None:
    """What a crash between the BOI write and the journal update leaves behind."""
    agent.journal.begin(key, operation, request_digest(operation, payload))


def test_pending_key_with_a_reference_finds_the_earlier_write(agent, client):
    agent.backend.records["SO_SalesOrder"] = {("0000101",): dict(HEADER)}
    payload = {
        "header": HEADER,
        "lines": LINES,
        "reference": ["CustomerPONo", "SHOP-1001"],
    }
    _pending(agent, "create_sales_order", "order-1", payload)

    result = client.create_sales_order(
        HEADER, LINES, idempotency_key="order-1", reference=REFERENCE
    )

    assert result["key"] == {"SalesOrderNo": "0000101"}
    assert result["created"] is False
    assert (
        agent.backend.finds == [("SO_SalesOrder", agent.backend.finds[0][1])]
        and agent.backend.finds[0][1].value == "SHOP-1001"
    )
    assert agent.backend.writes == []
    assert agent.journal.get("order-1").status == "done"


def test_pending_key_whose_write_never_landed_is_written_now(agent, client):
    payload = {
        "header": HEADER,
        "lines": LINES,
        "reference": ["CustomerPONo", "SHOP-1001"],
    }
    _pending(agent, "create_sales_order", "order-1", payload)

    result = client.create_sales_order(
        HEADER, LINES, idempotency_key="order-1", reference=REFERENCE
    )

    assert result["created"] is True
    assert agent.backend.writes == [("SO_SalesOrder", ("0000101",))]


def test_pending_key_with_a_different_body_is_a_conflict(agent, client):
    _pending(agent, "create_sales_order", "order-1", {"header": {}, "lines": []})
    with pytest.raises(errors.ConflictDetected):
        client.create_sales_order(HEADER, LINES, idempotency_key="order-1")
    assert agent.backend.writes == []


def test_refused_write_lets_the_corrected_request_reuse_the_key(agent, client):
    agent.backend.refuse_next(
        BOIError("The customer number is invalid.", code="invalid", column="CustomerNo")
    )
    with pytest.raises(errors.ValidationFailed):
        client.create_sales_order(HEADER, LINES, idempotency_key="order-1")
    assert agent.journal.get("order-1").status == "failed"

    fixed = {**HEADER, "CustomerNo": "ABS"}
    result = client.create_sales_order(fixed, LINES, idempotency_key="order-1")

    assert result["created"] is True
    assert len(agent.backend.writes) == 1


def test_unexpected_failure_keeps_the_key_pending_so_the_retry_looks_first(
    agent, client
):
    agent.backend.refuse_next(RuntimeError("COM went away mid-write"))
    with pytest.raises(errors.Unavailable):
        client.create_sales_order(
            HEADER, LINES, idempotency_key="order-1", reference=REFERENCE
        )
    assert agent.journal.get("order-1").status == "pending"
    # The write had in fact reached Sage before the failure.
    agent.backend.records["SO_SalesOrder"] = {("0000101",): dict(HEADER)}

    result = client.create_sales_order(
        HEADER, LINES, idempotency_key="order-1", reference=REFERENCE
    )

    assert result["key"] == {"SalesOrderNo": "0000101"}
    assert result["created"] is False
    assert agent.backend.writes == []


def test_concurrent_calls_with_one_key_write_once(agent):
    backend = agent.backend
    backend.release_write.clear()  # hold the first write inside the backend
    results, failures = [], []

    def call():
        try:
            results.append(
                agent.client().create_sales_order(HEADER, LINES, idempotency_key="k")
            )
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert backend.write_started.wait(10)
    backend.release_write.set()
    for thread in threads:
        thread.join(10)

    assert failures == []
    assert len(backend.writes) == 1
    assert sorted(r["replayed"] for r in results) == [False, True, True, True]
    assert len({r["key"]["SalesOrderNo"] for r in results}) == 1


def test_update_replayed_is_not_applied_twice(agent, client):
    client.create_customer(
        {"ARDivisionNo": "01", "CustomerNo": "ABF"}, idempotency_key="c"
    )
    first = client.update_customer(
        "01", "ABF", {"CreditHold": "Y"}, idempotency_key="u"
    )
    again = client.update_customer(
        "01", "ABF", {"CreditHold": "Y"}, idempotency_key="u"
    )

    assert first["created"] is False and again["replayed"] is True
    assert len(agent.backend.writes) == 2


def test_pending_create_without_a_reference_is_not_written_again(agent, client):
    """The outcome is unknown and nothing in Sage says which record it was:
    the agent refuses to guess rather than risk a second order."""
    _pending(agent, "create_sales_order", "order-1", {"header": HEADER, "lines": LINES})

    with pytest.raises(errors.ConflictDetected, match="interrupted"):
        client.create_sales_order(HEADER, LINES, idempotency_key="order-1")

    assert agent.backend.writes == []


def test_two_keys_with_one_reference_write_once(agent):
    """A webhook delivered twice under different event ids: the second call
    waits for the first and then finds its order instead of writing another."""
    backend = agent.backend
    backend.release_write.clear()
    results, failures = [], []

    def call(key: str):
        try:
            results.append(
                agent.client().create_sales_order(
                    HEADER, LINES, idempotency_key=key, reference=REFERENCE
                )
            )
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(f"k{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    assert backend.write_started.wait(10)
    backend.release_write.set()
    for thread in threads:
        thread.join(10)

    assert failures == []
    assert len(backend.writes) == 1
    assert sorted(r["created"] for r in results) == [False, False, True]
