import socket

import pytest

from integrations.connectors.generic.client import GenericClient, GenericSettings
from integrations.engine import errors
from integrations.engine.throttle import Budget, Throttle
from tests.support.sink import running_sink

SECRET = "desk-secret"


@pytest.fixture
def sink():
    with running_sink(signing_secret=SECRET, required_fields=("reference",)) as s:
        yield s


def _client(base_url: str, secret: str = SECRET, **kwargs) -> GenericClient:
    conf = GenericSettings(
        url=f"{base_url}/documents", signing_secret=secret, timeout=5
    )
    return GenericClient(conf, **kwargs)


def test_document_is_created_and_signed(sink):
    base_url, state = sink
    calls = []
    client = _client(base_url, log=lambda *call: calls.append(call))

    answer = client.post_document({"reference": "R1"}, idempotency_key="k1")

    assert answer == {"id": "DOC-000001"}
    assert state.documents["DOC-000001"] == {"id": "DOC-000001", "reference": "R1"}
    assert calls[0][:4] == ("generic", "POST", f"{base_url}/documents", 201)


def test_same_idempotency_key_returns_the_first_document(sink):
    base_url, state = sink
    client = _client(base_url)
    first = client.post_document({"reference": "R1"}, idempotency_key="k1")
    again = client.post_document({"reference": "R1"}, idempotency_key="k1")

    assert first == again
    assert len(state.documents) == 1


def test_missing_required_field_is_validation_error_naming_it(sink):
    with pytest.raises(errors.ValidationFailed) as caught:
        _client(sink[0]).post_document({"total": 1}, idempotency_key="k")
    assert caught.value.field == "reference"
    assert "reference is required" in caught.value.message


def test_wrong_secret_is_an_auth_error(sink):
    with pytest.raises(errors.AuthRevoked):
        _client(sink[0], secret="wrong").post_document(
            {"reference": "R"}, idempotency_key="k"
        )


def test_server_outage_is_unavailable_and_retryable(sink):
    base_url, state = sink
    state.fail_next = 1
    with pytest.raises(errors.Unavailable) as caught:
        _client(base_url).post_document({"reference": "R"}, idempotency_key="k")
    assert caught.value.retryable


def test_rate_limit_carries_retry_after(sink):
    base_url, state = sink
    state.calls_per_minute = 1
    client = _client(base_url)
    client.post_document({"reference": "R1"}, idempotency_key="k1")
    with pytest.raises(errors.RateLimited) as caught:
        client.post_document({"reference": "R2"}, idempotency_key="k2")
    assert 0 < caught.value.retry_after <= 61


def test_connection_refused_is_unavailable():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(errors.Unavailable) as caught:
        _client(f"http://127.0.0.1:{port}").post_document({}, idempotency_key="k")
    assert "Cannot reach the target" in caught.value.message


def test_shared_throttle_stops_calls_over_budget(sink, redis_conn):
    base_url, state = sink
    throttle = Throttle(redis_conn, "test-conn", Budget(per_minute=2))
    client = _client(base_url, throttle=throttle)
    client.post_document({"reference": "R1"}, idempotency_key="k1")
    client.post_document({"reference": "R2"}, idempotency_key="k2")

    with pytest.raises(errors.RateLimited):
        client.post_document({"reference": "R3"}, idempotency_key="k3")
    assert len(state.documents) == 2


def test_connection_without_url_is_a_plain_words_error():
    with pytest.raises(errors.ValidationFailed) as caught:
        GenericSettings.from_connection({}, {})
    assert caught.value.field == "settings.url"
