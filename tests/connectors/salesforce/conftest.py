"""A running simulated Salesforce org over HTTPS, and clients that count their calls."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from integrations.connectors.salesforce.client import SalesforceClient, forget_tokens
from integrations.connectors.salesforce.settings import SalesforceSettings


class Calls:
    """The client's ``log`` callback: every HTTP call it made, in order."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str, int | str]] = []

    def __call__(self, system, method, url, status, started) -> None:
        assert system == "salesforce"
        self.made.append((method, url, status))

    def count(self, method: str = "", contains: str = "") -> int:
        return sum(
            1
            for made_method, url, _ in self.made
            if (not method or made_method == method) and contains in url
        )

    @property
    def token_requests(self) -> int:
        return self.count("POST", "/services/oauth2/token")

    @property
    def rest_calls(self) -> int:
        return len(self.made) - self.token_requests


@pytest.fixture(autouse=True)
def _fresh_logins():
    """Each test logs in for itself, so token requests can be counted."""
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def salesforce(tmp_path):
    from tests.support.salesforce import running_salesforce

    with running_salesforce(tmp_path, seed=False) as running:
        yield running


@pytest.fixture
def calls() -> Calls:
    return Calls()


MakeClient = Callable[..., SalesforceClient]


@pytest.fixture
def make_client(salesforce, calls) -> MakeClient:
    def make(
        flow: str = "password",
        *,
        throttle=None,
        credentials: dict | None = None,
        **settings,
    ) -> SalesforceClient:
        base_settings, base_credentials = salesforce.connection(flow)
        conf = SalesforceSettings.from_connection(
            {**base_settings, **settings}, {**base_credentials, **(credentials or {})}
        )
        return SalesforceClient(conf, throttle=throttle, log=calls)

    return make


@pytest.fixture
def client(make_client) -> SalesforceClient:
    return make_client()
