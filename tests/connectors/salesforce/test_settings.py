import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from integrations.connectors.salesforce.settings import SalesforceSettings
from integrations.engine.errors import ValidationFailed

PASSWORD_FLOW = {
    "login_url": "https://login.example.test/",
    "client_id": "3MVG9-consumer-key",
    "username": "integration@example.test",
}
PASSWORD_SECRETS = {
    "client_secret": "consumer-secret",
    "password": "pw",
    "security_token": "tok",
}


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def rsa_pem() -> str:
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def test_defaults_fill_in_what_a_connection_leaves_out():
    conf = SalesforceSettings.from_connection(PASSWORD_FLOW, PASSWORD_SECRETS)

    assert conf.login_url == "https://login.example.test"
    assert conf.token_url == "https://login.example.test/services/oauth2/token"
    assert conf.auth_flow == "password"
    assert conf.api_version == "62.0"
    assert conf.timeout == 30.0
    assert conf.budget_reset_seconds == 900.0
    assert conf.low_budget_reserve == 0
    assert conf.describe_ttl == 3600.0
    assert conf.verify is True


def test_secrets_stay_out_of_the_repr():
    conf = SalesforceSettings.from_connection(
        PASSWORD_FLOW, {**PASSWORD_SECRETS, "signing_secret": "sign-me"}
    )

    assert "consumer-secret" not in repr(conf)
    assert "sign-me" not in repr(conf)
    assert conf.signing_secret == "sign-me"


@pytest.mark.parametrize(
    ("given", "expected"), [("v59", "59.0"), ("62", "62.0"), (61.0, "61.0")]
)
def test_api_version_is_normalised(given, expected):
    conf = SalesforceSettings.from_connection(
        {**PASSWORD_FLOW, "api_version": given}, PASSWORD_SECRETS
    )

    assert conf.api_version == expected


def test_ca_bundle_that_exists_is_used_for_verification(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")

    conf = SalesforceSettings.from_connection(
        {**PASSWORD_FLOW, "ca_bundle": str(bundle)}, PASSWORD_SECRETS
    )

    assert conf.verify == str(bundle)


def test_jwt_flow_needs_no_password_or_client_secret(rsa_pem):
    conf = SalesforceSettings.from_connection(
        {**PASSWORD_FLOW, "auth_flow": "jwt"}, {"private_key": rsa_pem}
    )

    assert conf.auth_flow == "jwt"
    assert conf.private_key == rsa_pem


def test_client_credentials_flow_needs_no_username():
    conf = SalesforceSettings.from_connection(
        {
            "login_url": "https://acme.my.example.test",
            "auth_flow": "client_credentials",
            "client_id": "key",
        },
        {"client_secret": "secret"},
    )

    assert conf.username == ""


@pytest.mark.parametrize(
    ("given", "credentials", "field"),
    [
        ({**PASSWORD_FLOW, "login_url": ""}, PASSWORD_SECRETS, "settings.login_url"),
        (
            {**PASSWORD_FLOW, "login_url": "http://login.example.test"},
            PASSWORD_SECRETS,
            "settings.login_url",
        ),
        (
            {**PASSWORD_FLOW, "auth_flow": "saml"},
            PASSWORD_SECRETS,
            "settings.auth_flow",
        ),
        (
            {**PASSWORD_FLOW, "api_version": "sixty-two"},
            PASSWORD_SECRETS,
            "settings.api_version",
        ),
        (
            {**PASSWORD_FLOW, "ca_bundle": "/nowhere/ca.pem"},
            PASSWORD_SECRETS,
            "settings.ca_bundle",
        ),
        ({**PASSWORD_FLOW, "timeout": "soon"}, PASSWORD_SECRETS, "settings.timeout"),
        ({**PASSWORD_FLOW, "timeout": 0}, PASSWORD_SECRETS, "settings.timeout"),
        (
            {**PASSWORD_FLOW, "low_budget_reserve": -1},
            PASSWORD_SECRETS,
            "settings.low_budget_reserve",
        ),
        (
            {**PASSWORD_FLOW, "budget_reset_seconds": 0},
            PASSWORD_SECRETS,
            "settings.budget_reset_seconds",
        ),
        (
            {**PASSWORD_FLOW, "organization_id": "001000000000001"},
            PASSWORD_SECRETS,
            "settings.organization_id",
        ),
        ({**PASSWORD_FLOW, "client_id": ""}, PASSWORD_SECRETS, "settings.client_id"),
        ({**PASSWORD_FLOW, "username": ""}, PASSWORD_SECRETS, "settings.username"),
        (
            PASSWORD_FLOW,
            {**PASSWORD_SECRETS, "client_secret": ""},
            "credentials.client_secret",
        ),
        (PASSWORD_FLOW, {**PASSWORD_SECRETS, "password": ""}, "credentials.password"),
        ({**PASSWORD_FLOW, "auth_flow": "jwt"}, {}, "credentials.private_key"),
        (
            {**PASSWORD_FLOW, "auth_flow": "jwt"},
            {"private_key": "not a key"},
            "credentials.private_key",
        ),
        (
            {**PASSWORD_FLOW, "auth_flow": "client_credentials"},
            {},
            "credentials.client_secret",
        ),
    ],
)
def test_bad_settings_are_refused_naming_the_field(given, credentials, field):
    with pytest.raises(ValidationFailed) as caught:
        SalesforceSettings.from_connection(given, credentials)

    assert caught.value.field == field
    assert field.split(".")[-1] in caught.value.message


def test_jwt_refuses_a_key_salesforce_cannot_use():
    ec_pem = _pem(ec.generate_private_key(ec.SECP256R1()))

    with pytest.raises(ValidationFailed) as caught:
        SalesforceSettings.from_connection(
            {**PASSWORD_FLOW, "auth_flow": "jwt"}, {"private_key": ec_pem}
        )

    assert caught.value.field == "credentials.private_key"
    assert "RS256" in caught.value.message
