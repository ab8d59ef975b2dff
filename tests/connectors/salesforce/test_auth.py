"""The three OAuth flows against the simulated org's token endpoint, over HTTPS."""

import socket

import pytest

from integrations.connectors.salesforce.auth import obtain_token
from integrations.connectors.salesforce.client import shared_session
from integrations.connectors.salesforce.settings import SalesforceSettings
from integrations.engine.errors import AuthRevoked, Unavailable


@pytest.mark.parametrize("flow", ["password", "jwt", "client_credentials"])
def test_each_auth_flow_obtains_a_token(salesforce, make_client, calls, flow):
    client = make_client(flow)

    token = client.token()

    assert token.access_token
    assert token.instance_url == salesforce.url.rstrip("/")
    assert token.org_id == salesforce.org.org_id
    assert token.user_id.startswith("005")
    assert calls.token_requests == 1
    assert client.query("SELECT Id FROM User")  # the token works for REST


def test_clients_of_one_connection_share_one_login(make_client, calls):
    first, second = make_client(), make_client()

    assert first.token() == second.token()
    assert calls.token_requests == 1


def test_a_wrong_password_is_auth_revoked_in_plain_words(make_client):
    client = make_client(credentials={"password": "not-the-password"})

    with pytest.raises(AuthRevoked) as caught:
        client.token()

    message = caught.value.message
    assert "refused the integration user's password or security token" in message
    assert "authentication failure" in message  # Salesforce's own words
    assert "re-enter them on the connection" in message
    assert caught.value.field == "credentials.password"


def test_a_wrong_client_secret_is_auth_revoked_naming_it(make_client):
    client = make_client(credentials={"client_secret": "not-the-secret"})

    with pytest.raises(AuthRevoked) as caught:
        client.token()

    assert "consumer key or secret" in caught.value.message
    assert caught.value.field == "credentials.client_secret"


def test_a_client_credentials_app_with_a_wrong_secret_is_refused(make_client):
    client = make_client(
        "client_credentials", credentials={"client_secret": "not-the-secret"}
    )

    with pytest.raises(AuthRevoked):
        client.token()


def test_a_jwt_signed_with_another_key_is_refused(make_client):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    client = make_client("jwt", credentials={"private_key": pem})

    with pytest.raises(AuthRevoked) as caught:
        client.token()

    assert "signed (JWT) login" in caught.value.message


def test_tls_is_verified_against_the_configured_ca_only(salesforce):
    settings, credentials = salesforce.connection("password")
    conf = SalesforceSettings.from_connection(
        {**settings, "ca_bundle": ""}, credentials
    )

    with pytest.raises(Unavailable) as caught:
        obtain_token(conf, shared_session(conf))

    assert "Cannot verify Salesforce's TLS certificate" in caught.value.message
    assert caught.value.field == "settings.ca_bundle"


def test_nothing_listening_is_unavailable(salesforce):
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings, credentials = salesforce.connection("password")
    conf = SalesforceSettings.from_connection(
        {**settings, "login_url": f"https://127.0.0.1:{port}", "timeout": 2},
        credentials,
    )

    with pytest.raises(Unavailable) as caught:
        obtain_token(conf, shared_session(conf))

    assert f"Cannot reach Salesforce at 127.0.0.1:{port}" in caught.value.message
