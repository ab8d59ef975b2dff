"""Only the hub, signing with a key the agent knows, gets anything written."""

import json
import time

import pytest

from integrations.agent.signing import (
    KEY_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign_request,
)
from tests.agent.conftest import KEY_ID, SECRET

BODY = json.dumps(
    {"idempotency_key": "k1", "values": {"ARDivisionNo": "01", "CustomerNo": "ABF"}}
).encode()


def _refused(agent, response, words: str) -> None:
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert words in error["message"]
    assert agent.backend.writes == []
    assert agent.journal.get("k1") is None


def test_good_signature_is_accepted_and_the_customer_written(agent):
    response = agent.raw("POST", "/v1/customers", BODY)

    assert response.status_code == 201
    result = response.json()["result"]
    assert result["key"] == {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    assert result["created"] is True and result["replayed"] is False
    assert agent.backend.writes == [("AR_Customer", ("01", "ABF"))]


def test_ping_needs_a_signature_too(agent):
    assert agent.raw("GET", "/v1/ping").status_code == 200
    response = agent.raw("GET", "/v1/ping", headers={})
    assert response.status_code == 401


def test_unsigned_request_is_refused_naming_the_headers(agent):
    response = agent.raw("POST", "/v1/customers", BODY, headers={})
    _refused(agent, response, "not signed")
    assert SIGNATURE_HEADER in response.json()["error"]["message"]


def test_signature_with_the_wrong_secret_is_refused(agent):
    headers = sign_request(
        KEY_ID, "another-secret-entirely", "POST", "/v1/customers", BODY
    )
    _refused(
        agent,
        agent.raw("POST", "/v1/customers", BODY, headers=headers),
        "does not match",
    )


def test_a_signature_that_is_not_ascii_is_refused_not_a_crash(agent):
    headers = sign_request(KEY_ID, SECRET, "POST", "/v1/customers", BODY)
    headers[SIGNATURE_HEADER] = "é" * 64
    encoded = {k: v.encode() for k, v in headers.items()}
    _refused(
        agent,
        agent.raw("POST", "/v1/customers", BODY, headers=encoded),
        "does not match",
    )


def test_body_changed_after_signing_is_refused(agent):
    headers = sign_request(KEY_ID, SECRET, "POST", "/v1/customers", BODY)
    tampered = BODY.replace(b"ABF", b"XYZ")
    _refused(
        agent,
        agent.raw("POST", "/v1/customers", tampered, headers=headers),
        "does not match",
    )


def test_signature_for_another_path_is_refused(agent):
    headers = sign_request(KEY_ID, SECRET, "POST", "/v1/items", BODY)
    _refused(
        agent,
        agent.raw("POST", "/v1/customers", BODY, headers=headers),
        "does not match",
    )


def test_unknown_key_id_is_refused(agent):
    headers = sign_request("stranger", SECRET, "POST", "/v1/customers", BODY)
    _refused(
        agent,
        agent.raw("POST", "/v1/customers", BODY, headers=headers),
        "does not match",
    )


@pytest.mark.parametrize("age", [-3600, 3600])
def test_timestamp_outside_the_window_is_refused(agent, age):
    stamp = int(time.time()) - age
    response = agent.raw("POST", "/v1/customers", BODY, timestamp=stamp)
    _refused(agent, response, "expired")


def test_replayed_nonce_is_refused_and_writes_nothing_more(agent):
    headers = sign_request(KEY_ID, SECRET, "POST", "/v1/customers", BODY)
    first = agent.raw("POST", "/v1/customers", BODY, headers=headers)
    again = agent.raw("POST", "/v1/customers", BODY, headers=headers)

    assert first.status_code == 201
    assert again.status_code == 401
    assert "already used" in again.json()["error"]["message"]
    assert len(agent.backend.writes) == 1


def test_missing_one_header_is_refused(agent):
    headers = sign_request(KEY_ID, SECRET, "POST", "/v1/customers", BODY)
    for name in (KEY_HEADER, TIMESTAMP_HEADER, NONCE_HEADER):
        partial = {k: v for k, v in headers.items() if k != name}
        _refused(
            agent,
            agent.raw("POST", "/v1/customers", BODY, headers=partial),
            "not signed",
        )
