"""The agent's HTTP surface: routes, shapes and answers, over real HTTP."""

import json
import logging
import re
import threading

import pytest
import requests

from integrations.agent.backends.base import BOIError
from integrations.engine import errors
from tests.agent.conftest import SECRET, agent_config, running_agent


def _post(agent, path: str, payload, method: str = "POST"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return agent.raw(method, path, body)


def test_ping_says_who_answers(agent, client):
    answer = client.ping()

    assert answer["ok"] is True
    assert answer["company"] == "ABC"
    assert answer["backend"] == "memory"
    assert answer["version"]
    assert answer["time"].endswith("+00:00")


@pytest.mark.parametrize(
    ("method", "path", "payload", "operation"),
    [
        (
            "POST",
            "/v1/customers",
            {"values": {"ARDivisionNo": "01", "CustomerNo": "A"}},
            "AR_Customer",
        ),
        ("POST", "/v1/items", {"values": {"ItemCode": "1001-HON-H252"}}, "CI_ItemCode"),
        (
            "POST",
            "/v1/sales-orders",
            {"header": {"CustomerNo": "ABF"}, "lines": [{"ItemCode": "X"}]},
            "SO_SalesOrder",
        ),
        (
            "POST",
            "/v1/purchase-orders",
            {"header": {"VendorNo": "AIRWAY"}, "lines": [{"ItemCode": "X"}]},
            "PO_PurchaseOrder",
        ),
        (
            "POST",
            "/v1/cash-receipts",
            {"values": {"ARDivisionNo": "01", "CustomerNo": "ABF", "CheckNo": "1001"}},
            "AR_CashReceipts",
        ),
    ],
)
def test_each_create_route_writes_once_and_answers_201(
    agent, method, path, payload, operation
):
    response = _post(agent, path, {"idempotency_key": "k", **payload}, method)

    assert response.status_code == 201, response.text
    assert response.json()["result"]["object"] == operation
    assert [w[0] for w in agent.backend.writes] == [operation]


def test_update_routes_decode_their_path_keys(agent, client):
    client.create_customer(
        {"ARDivisionNo": "01", "CustomerNo": "A/B 1"}, idempotency_key="c"
    )
    result = client.update_customer(
        "01", "A/B 1", {"CustomerName": "Ace"}, idempotency_key="u"
    )
    assert result["key"] == {"ARDivisionNo": "01", "CustomerNo": "A/B 1"}
    assert result["record"]["CustomerName"] == "Ace"

    order = client.create_sales_order(
        {"CustomerNo": "A"}, [{"ItemCode": "X"}], idempotency_key="o"
    )
    number = order["key"]["SalesOrderNo"]
    status = client.update_order_status(number, "H", idempotency_key="s")
    assert status["record"]["OrderStatus"] == "H"


def test_unknown_route_is_404(agent):
    response = _post(agent, "/v1/invoices", {"idempotency_key": "k"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_route"


def test_wrong_method_is_405_with_allow(agent):
    response = agent.raw("GET", "/v1/customers")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_malformed_json_is_400(agent):
    response = _post(agent, "/v1/customers", b"{not json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request",
        "message": "The body is not JSON.",
        "column": "body",
        "retryable": False,
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"values": {"CustomerNo": "A"}}, "idempotency_key"),
        ({"idempotency_key": "", "values": {"CustomerNo": "A"}}, "idempotency_key"),
        ({"idempotency_key": "k"}, "values"),
        ({"idempotency_key": "k", "values": ["CustomerNo"]}, "values"),
        ({"idempotency_key": "k", "values": {"A": 1}, "reference": "PO"}, "reference"),
        (
            {"idempotency_key": "k", "values": {"A": 1}, "reference": {"value": "1"}},
            "reference.column",
        ),
    ],
)
def test_wrong_shapes_are_400_naming_the_field(agent, payload, field):
    response = _post(agent, "/v1/customers", payload)
    assert response.status_code == 400
    assert response.json()["error"]["column"] == field
    assert agent.backend.writes == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"idempotency_key": "k", "header": {"A": 1}}, "lines"),
        (
            {"idempotency_key": "k", "header": {"A": 1}, "lines": [{"I": 1}, 3]},
            "lines[1]",
        ),
        ({"idempotency_key": "k", "lines": [{"I": 1}]}, "header"),
    ],
)
def test_order_shapes_are_400_naming_the_field(agent, payload, field):
    response = _post(agent, "/v1/sales-orders", payload)
    assert response.status_code == 400
    assert response.json()["error"]["column"] == field


def test_status_update_needs_a_status(agent):
    response = _post(agent, "/v1/sales-orders/0000101/status", {"idempotency_key": "k"})
    assert response.status_code == 400
    assert response.json()["error"]["column"] == "status"


def test_body_over_the_limit_is_413_and_not_read(tmp_path, backend):
    config = agent_config(tmp_path, max_body_bytes=2048)
    with running_agent(config, backend) as agent:
        payload = {"idempotency_key": "k", "values": {"Comment": "x" * 5000}}
        response = _post(agent, "/v1/customers", payload)
    assert response.status_code == 413
    assert "at most 2048" in response.json()["error"]["message"]
    assert backend.writes == []


@pytest.mark.parametrize(
    ("code", "status", "retry_after"),
    [
        ("invalid", 422, None),
        ("not_on_file", 422, None),
        ("not_found", 422, None),
        ("locked", 423, "5"),
        ("unavailable", 503, "30"),
        ("login", 403, None),
    ],
)
def test_business_object_refusals_keep_sages_words(agent, code, status, retry_after):
    agent.backend.refuse_next(
        BOIError("The customer number is invalid.", code=code, column="CustomerNo")
    )
    response = _post(
        agent, "/v1/customers", {"idempotency_key": "k", "values": {"CustomerNo": "A"}}
    )
    assert response.status_code == status
    assert response.headers.get("Retry-After") == retry_after
    assert response.json()["error"] == {
        "code": code,
        "message": "The customer number is invalid.",
        "column": "CustomerNo",
        "retryable": code in ("locked", "unavailable"),
    }


def test_unexpected_error_is_500_logged_but_not_leaked(agent, caplog):
    agent.backend.refuse_next(RuntimeError("boom: card 4111-1111"))
    with caplog.at_level(logging.INFO, logger="integrations.agent"):
        response = _post(
            agent,
            "/v1/customers",
            {"idempotency_key": "k", "values": {"CustomerNo": "A"}},
        )
    assert response.status_code == 500
    assert response.json()["error"]["message"] == "internal error"
    assert "4111" not in response.text
    assert "RuntimeError" in caplog.text


class _Lines(logging.Handler):
    """Log lines as they come, with an event for the one a test waits for."""

    def __init__(self, wanted: str) -> None:
        super().__init__(logging.INFO)
        self.wanted, self.lines, self.seen = wanted, [], threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if self.wanted in record.getMessage():
            self.seen.set()


def test_each_request_is_logged_with_status_time_and_key_id(agent):
    lines = _Lines("/v1/ping")
    logger = logging.getLogger("integrations.agent")
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        agent.raw("GET", "/v1/ping")
        assert lines.seen.wait(5)  # logged once the answer is on its way
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    line = next(text for text in lines.lines if "/v1/ping" in text)
    assert re.fullmatch(r"GET /v1/ping 200 \d+ms key=hub", line)
    assert not any(SECRET in text for text in lines.lines)


def test_stopping_lets_the_write_in_flight_finish_and_turns_new_calls_away(agent):
    keep_alive = agent.client(session=requests.Session())
    keep_alive.ping()  # an idle keep-alive connection, as the hub's session has
    agent.backend.release_write.clear()
    results = []
    writer = threading.Thread(
        target=lambda: results.append(
            agent.client().create_customer({"CustomerNo": "A"}, idempotency_key="k")
        )
    )
    writer.start()
    assert agent.backend.write_started.wait(5)

    agent.server.shutdown()
    assert agent.server.app.drain(0) is False  # the write is still running
    with pytest.raises(errors.Unavailable) as caught:
        keep_alive.ping()
    agent.backend.release_write.set()
    writer.join(10)

    assert agent.server.app.drain(10) is True
    assert "stopping" in caught.value.message and caught.value.retry_after == 5
    assert results[0]["created"] is True
