"""A Xero connection's settings: what is refused, and the addresses derived."""

from __future__ import annotations

import pytest

from integrations.connectors.xero.settings import XeroSettings
from integrations.engine.errors import ValidationFailed

SECRETS = {"client_id": "app-id", "client_secret": "app-secret"}


def test_real_xero_addresses_are_the_defaults():
    conf = XeroSettings.from_connection({}, SECRETS)

    assert conf.token_url == "https://identity.xero.com/connect/token"
    assert conf.revocation_url == "https://identity.xero.com/connect/revocation"
    assert conf.authorize_url == "https://login.xero.com/identity/connect/authorize"
    assert conf.identity_api_url == "https://api.xero.com"  # where /connections is
    assert "offline_access" in conf.scopes


def test_a_simulator_on_one_host_is_reached_everywhere_through_its_base():
    conf = XeroSettings.from_connection(
        {
            "accounting_url": "https://127.0.0.1:9443/api.xro/2.0/",
            "identity_url": "https://127.0.0.1:9443",
            "login_url": "https://127.0.0.1:9443",
            "scopes": "offline_access accounting.transactions",
        },
        SECRETS,
    )

    assert conf.identity_api_url == "https://127.0.0.1:9443"
    assert conf.authorize_url == "https://127.0.0.1:9443/identity/connect/authorize"
    assert conf.scopes == ("offline_access", "accounting.transactions")


@pytest.mark.parametrize(
    ("given", "credentials", "field"),
    [
        ({}, {"client_secret": "s"}, "credentials.client_id"),
        ({}, {"client_id": "i"}, "credentials.client_secret"),
        ({"grant": "password"}, SECRETS, "settings.grant"),
        ({"accounting_url": "http://api.xero.com"}, SECRETS, "settings.accounting_url"),
        ({"ca_bundle": "/no/such/ca.pem"}, SECRETS, "settings.ca_bundle"),
        ({"scopes": [1, 2]}, SECRETS, "settings.scopes"),
        ({}, {**SECRETS, "token_set": {"refresh_token": "r"}}, "credentials.token_set"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(given, credentials, field):
    with pytest.raises(ValidationFailed) as refused:
        XeroSettings.from_connection(given, credentials)
    assert refused.value.field == field


def test_a_stored_token_set_takes_xero_pythons_shape():
    conf = XeroSettings.from_connection(
        {},
        {
            **SECRETS,
            "token_set": {
                "access_token": "access-secret",
                "refresh_token": "refresh-secret",
                "scope": "offline_access accounting.transactions",
                "expires_at": 1.0,
                "unexpected": "dropped",
            },
        },
    )

    assert conf.token_set["scope"] == ["offline_access", "accounting.transactions"]
    assert conf.token_set["token_type"] == "Bearer"
    assert "unexpected" not in conf.token_set
    assert "secret" not in repr(conf)
