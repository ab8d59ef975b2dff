"""A running simulated Xero over HTTPS, and connector clients that log their calls."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from integrations.connectors.xero.auth import MemoryTokenStore
from integrations.connectors.xero.client import XeroClient
from integrations.connectors.xero.settings import XeroSettings


class Calls:
    """The client's ``log`` callback: every Accounting/identity call, in order."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str, int | str]] = []

    def __call__(self, system, method, url, status, started) -> None:
        assert system == "xero"
        self.made.append((method, url, status))

    def count(self, method: str = "", ends: str = "", status=None) -> int:
        return sum(
            1
            for made_method, url, made_status in self.made
            if (not method or made_method == method)
            and url.endswith(ends)
            and (status is None or made_status == status)
        )


@pytest.fixture
def xero(tmp_path):
    from tests.support.xero import running_xero

    with running_xero(tmp_path) as running:
        yield running
        assert running.problems == [], "requests or answers broke Xero's contract"


@pytest.fixture
def calls() -> Calls:
    return Calls()


MakeClient = Callable[..., XeroClient]


@pytest.fixture
def make_client(xero, calls) -> MakeClient:
    """``make_client(settings=…, credentials=…, grant=…, throttle=…, tokens=…)``."""

    def make(
        *,
        grant: str = "authorization_code",
        tenant_id: str | None = None,
        settings: dict | None = None,
        credentials: dict | None = None,
        throttle=None,
        tokens=None,
    ) -> XeroClient:
        base_settings, base_credentials = xero.connection(
            tenant_id=tenant_id, grant=grant
        )
        conf = XeroSettings.from_connection(
            {**base_settings, **(settings or {})},
            {**base_credentials, **(credentials or {})},
        )
        store = tokens if tokens is not None else MemoryTokenStore(conf.token_set)
        return XeroClient(conf, tokens=store, throttle=throttle, log=calls)

    return make


@pytest.fixture
def client(make_client) -> XeroClient:
    return make_client()


@pytest.fixture
def customer(client) -> dict:
    """A new customer contact in the first organisation."""
    (saved,) = client.save_contacts(
        [{"Name": f"Test customer {uuid.uuid4().hex[:6]}", "IsCustomer": True}],
        idempotency_key=f"customer-{uuid.uuid4()}",
    )
    assert saved.ok, saved.errors
    return saved.document
