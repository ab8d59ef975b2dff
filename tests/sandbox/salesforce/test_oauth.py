"""The token endpoint's three flows, its refusals, and session expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import jwt
import pytest
from simple_salesforce.exceptions import SalesforceExpiredSession

from integrations.sandbox.salesforce.seed import new_key_pair

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _token(sim, **form):
    return sim.http().post(f"{sim.url}/services/oauth2/token", data=form)


def _password_form(sim, **overrides):
    access = sim.access
    form = {
        "grant_type": "password",
        "client_id": access.client_id,
        "client_secret": access.client_secret,
        "username": access.username,
        "password": access.password + access.security_token,
    }
    form.update(overrides)
    return form


def _assertion(sim, *, key=None, exp_in=120, **claims):
    body = {
        "iss": sim.access.client_id,
        "sub": sim.access.username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + exp_in,
    }
    body.update(claims)
    return jwt.encode(body, key or sim.access.private_key_pem, algorithm="RS256")


def test_password_flow_returns_a_signed_token_for_the_instance(sim):
    response = _token(sim, **_password_form(sim))
    assert response.status_code == 200
    body = response.json()
    user = sim.org.identity.user(sim.access.username)
    assert body["instance_url"] == sim.url
    assert body["id"] == f"{sim.url}/id/{sim.org.org_id}/{user.id}"
    assert body["token_type"] == "Bearer" and body["issued_at"].isdigit()
    expected = base64.b64encode(
        hmac.new(
            sim.access.client_secret.encode(),
            (body["id"] + body["issued_at"]).encode(),
            hashlib.sha256,
        ).digest()
    ).decode()
    assert body["signature"] == expected
    assert (
        sim.client(body["access_token"]).query("SELECT Id FROM Account")["totalSize"]
        == 6
    )


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"password": "wrong"}, "invalid_grant", "authentication failure"),
        ({"username": "nobody@x.test"}, "invalid_grant", "authentication failure"),
        ({"client_id": "unknown"}, "invalid_client_id", "client identifier invalid"),
        ({"client_secret": "bad"}, "invalid_client", "invalid client credentials"),
        (
            {"grant_type": "authorization_code"},
            "unsupported_grant_type",
            "grant type not supported",
        ),
    ],
)
def test_password_flow_refusals_match_salesforce(sim, overrides, error, description):
    response = _token(sim, **_password_form(sim, **overrides))
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_password_without_security_token_fails(sim):
    response = _token(sim, **_password_form(sim, password=sim.access.password))
    assert response.json()["error"] == "invalid_grant"


def test_jwt_bearer_flow_accepts_login_and_instance_audiences(sim):
    for audience in ("https://login.salesforce.com", sim.url):
        response = _token(
            sim, grant_type=JWT_GRANT, assertion=_assertion(sim, aud=audience)
        )
        assert response.status_code == 200, response.text
        assert "refresh_token" not in response.json()


def test_jwt_signed_with_another_key_is_an_invalid_assertion(sim):
    other_key, _ = new_key_pair()
    response = _token(
        sim, grant_type=JWT_GRANT, assertion=_assertion(sim, key=other_key)
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "invalid assertion",
    }


def test_expired_or_far_future_jwt_is_refused(sim):
    expired = _token(sim, grant_type=JWT_GRANT, assertion=_assertion(sim, exp_in=-60))
    assert expired.json() == {
        "error": "invalid_grant",
        "error_description": "expired authorization code",
    }
    too_long = _token(sim, grant_type=JWT_GRANT, assertion=_assertion(sim, exp_in=3600))
    assert too_long.json()["error"] == "invalid_grant"


def test_jwt_with_wrong_audience_or_unknown_user_is_refused(sim):
    wrong_aud = _token(
        sim, grant_type=JWT_GRANT, assertion=_assertion(sim, aud="https://evil.test")
    )
    assert wrong_aud.json()["error"] == "invalid_grant"
    stranger = _token(
        sim, grant_type=JWT_GRANT, assertion=_assertion(sim, sub="who@x.test")
    )
    assert stranger.json()["error"] == "invalid_grant"


def test_client_credentials_with_basic_auth_runs_as_the_integration_user(sim):
    response = sim.http().post(
        f"{sim.url}/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(sim.access.client_id, sim.access.client_secret),
    )
    assert response.status_code == 200
    user = sim.org.identity.user(sim.access.username)
    assert response.json()["id"].endswith(f"/{user.id}")


def test_client_credentials_refused_without_run_as_user(sim):
    sim.org.add_connected_app("Bare", "bare-id", "bare-secret")
    response = _token(
        sim,
        grant_type="client_credentials",
        client_id="bare-id",
        client_secret="bare-secret",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_missing_revoked_or_expired_session_is_invalid_session_id(sim):
    anonymous = sim.http().get(f"{sim.url}/services/data/v62.0/limits")
    assert anonymous.status_code == 401
    assert anonymous.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    token = sim.token()
    client = sim.client(token)
    revoke = sim.http().post(f"{sim.url}/services/oauth2/revoke", data={"token": token})
    assert revoke.status_code == 200
    with pytest.raises(SalesforceExpiredSession):
        client.query("SELECT Id FROM Account")
    other = sim.client()
    sim.org.expire_sessions()
    with pytest.raises(SalesforceExpiredSession):
        other.Account.describe()


def test_session_lifetime_is_configurable(tmp_path):
    from tests.support.salesforce import running_salesforce

    with running_salesforce(tmp_path, seed=False, session_seconds=0) as sim:
        client = sim.client()
        with pytest.raises(SalesforceExpiredSession):
            client.limits()


def test_versions_list_needs_no_session(sim):
    response = sim.http().get(f"{sim.url}/services/data/")
    versions = [v["version"] for v in response.json()]
    assert versions[0] == "55.0" and versions[-1] == "62.0"
    assert "Sforce-Limit-Info" not in response.headers
