"""The hub's AgentClient: every agent answer becomes one taxonomy error."""

import socket

import pytest

from integrations.agent.backends.base import BOIError
from integrations.engine import errors
from integrations.engine.throttle import Budget, Throttle
from tests.agent.conftest import SECRET, agent_config, running_agent

VALUES = {"ARDivisionNo": "01", "CustomerNo": "ABF"}


def _refusal(client, agent, code, message="The customer number is invalid."):
    agent.backend.refuse_next(BOIError(message, code=code, column="CustomerNo"))
    with pytest.raises(errors.SyncError) as caught:
        client.create_customer(VALUES, idempotency_key="k")
    return caught.value


def test_writes_are_logged_like_every_connector_call(agent):
    calls = []
    client = agent.client(log=lambda *call: calls.append(call))
    client.create_customer(VALUES, idempotency_key="k")
    assert calls[0][:4] == ("sage100", "POST", f"{agent.url}/v1/customers", 201)


def test_invalid_value_is_validation_failed_in_sages_words(agent, client):
    error = _refusal(client, agent, "invalid")
    assert type(error) is errors.ValidationFailed
    assert error.message == "Sage 100 says: The customer number is invalid."
    assert error.field == "CustomerNo"
    assert not error.retryable


@pytest.mark.parametrize("code", ["not_on_file", "not_found"])
def test_missing_record_is_reference_missing(agent, client, code):
    error = _refusal(client, agent, code, "The terms code is not on file.")
    assert type(error) is errors.ReferenceMissing
    assert error.message == "Sage 100 says: The terms code is not on file."
    assert error.field == "CustomerNo"


def test_record_in_use_is_retryable_with_retry_after(agent, client):
    error = _refusal(client, agent, "locked", "The record is in use by another user.")
    assert type(error) is errors.Unavailable
    assert error.retryable and error.retry_after == 5
    assert "in use by another user" in error.message


def test_sage_down_is_unavailable_with_retry_after(agent, client):
    error = _refusal(client, agent, "unavailable", "Cannot start the business objects.")
    assert type(error) is errors.Unavailable
    assert error.retry_after == 30


def test_sage_login_refused_is_auth_revoked(agent, client):
    error = _refusal(client, agent, "login", "Invalid user or password.")
    assert type(error) is errors.AuthRevoked
    assert "Sage 100 refused the agent's login" in error.message


def test_wrong_secret_is_auth_revoked_saying_signature(agent):
    client = agent.client(secret="not-the-agents-secret-at-all")
    with pytest.raises(errors.AuthRevoked) as caught:
        client.create_customer(VALUES, idempotency_key="k")
    assert caught.value.message.startswith(
        "The Sage 100 agent refused our signature: The signature does not match."
    )
    assert agent.backend.writes == []


def test_key_reused_for_another_body_is_conflict(agent, client):
    client.create_customer(VALUES, idempotency_key="k")
    with pytest.raises(errors.ConflictDetected):
        client.create_customer({**VALUES, "CustomerNo": "XYZ"}, idempotency_key="k")


def test_agent_bug_is_unavailable_and_retryable(agent, client):
    agent.backend.refuse_next(ZeroDivisionError())
    with pytest.raises(errors.Unavailable) as caught:
        client.create_customer(VALUES, idempotency_key="k")
    assert "HTTP 500: internal error" in caught.value.message


def test_body_too_large_is_validation_failed(tmp_path, backend):
    config = agent_config(tmp_path, max_body_bytes=1024)
    with (
        running_agent(config, backend) as agent,
        pytest.raises(errors.ValidationFailed) as caught,
    ):
        agent.client().create_customer(
            {**VALUES, "Comment": "x" * 4000}, idempotency_key="k"
        )
    assert "too large" in caught.value.message


def test_agent_too_old_for_a_route_is_validation_failed(agent, client):
    client.base_url += "/v9"  # a path this agent does not have
    with pytest.raises(errors.ValidationFailed) as caught:
        client.ping()
    assert "does not offer this call" in caught.value.message


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_agent_not_running_is_unavailable(tmp_path):
    from integrations.connectors.sage100.agent_client import AgentClient

    url = f"http://127.0.0.1:{_free_port()}"
    client = AgentClient(url, "hub", SECRET, timeout=5)
    with pytest.raises(errors.Unavailable) as caught:
        client.create_customer(VALUES, idempotency_key="k")
    assert (
        caught.value.message
        == f"Cannot reach the Sage 100 agent at {url}: is it running?"
    )


def test_agent_that_never_answers_is_unavailable_after_the_timeout():
    from integrations.connectors.sage100.agent_client import AgentClient

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        client = AgentClient(url, "hub", SECRET, timeout=0.3)
        with pytest.raises(errors.Unavailable) as caught:
            client.create_customer(VALUES, idempotency_key="k")
    assert caught.value.message == "The Sage 100 agent did not answer in time."


def test_shared_throttle_stops_calls_over_budget(agent, redis_conn):
    throttle = Throttle(redis_conn, "sage-agent", Budget(per_minute=1))
    client = agent.client(throttle=throttle)
    client.create_customer(VALUES, idempotency_key="k1")
    with pytest.raises(errors.RateLimited):
        client.create_customer({**VALUES, "CustomerNo": "B"}, idempotency_key="k2")
    assert len(agent.backend.writes) == 1


def test_clients_of_one_agent_share_one_keep_alive_session(agent):
    """A client is built per record attempt; sharing the session keeps one
    connection to the agent instead of leaving one idle socket per attempt."""
    first, second = agent.client(), agent.client()

    assert first.ping()["company"] and second.ping()["company"]
    assert first.session is second.session
