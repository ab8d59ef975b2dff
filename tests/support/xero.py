"""A running simulated Xero for tests: login, identity, /connections and the
Accounting API over HTTPS on port 0, organisations with demo books, and
(with ``webhook_url``) signed webhooks to the hub.

``connection()`` gives the (settings, credentials) a Xero Connection holds,
in the keys of the connector's ``XeroSettings``; for the authorisation-code
grant it goes through the consent page and the code exchange over HTTP
first. ``problems`` lists every contract violation the simulator saw in its
own answers and in the requests it refused; tests assert it stays empty.
"""

from __future__ import annotations

import functools
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from integrations.sandbox.tls import server_certificate
from integrations.sandbox.xero.identity import (
    AUTHORIZE_PATH,
    REVOCATION_PATH,
    TOKEN_PATH,
    App,
    Tenant,
)
from integrations.sandbox.xero.server import API_PREFIX, XeroStack, start

TENANT_NAMES = ("Demo Company (US)", "Demo Company (Wholesale)", "Demo Company (EU)")
DEFAULT_SCOPES = (
    "openid",
    "profile",
    "email",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
    "offline_access",
)
CALLBACK = "https://127.0.0.1/xero/callback"


def demo_books(tenant_id: str, name: str, *, clock, on_change) -> Any:
    """The real simulated books, seeded with the demo chart, taxes, items."""
    from integrations.sandbox.xero.accounting import Organisation

    organisation = Organisation(tenant_id, name, clock=clock, on_change=on_change)
    organisation.seed_demo()
    return organisation


@dataclass
class RunningXero:
    stack: XeroStack
    tenants: list[tuple[str, str]]
    webhook_key: str | None
    clock: Callable[[], float]
    _custom: dict[str, App] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.stack.url

    @property
    def accounting_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def identity_url(self) -> str:
        return self.url

    @property
    def login_url(self) -> str:
        return self.url + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def revocation_url(self) -> str:
        return self.url + REVOCATION_PATH

    @property
    def ca_bundle(self) -> str:
        return self.stack.ca_bundle

    @property
    def client_id(self) -> str:
        return self.stack.app.client_id

    @property
    def client_secret(self) -> str:
        return self.stack.app.client_secret

    @property
    def simulator(self):
        return self.stack.simulator

    @property
    def identity(self):
        return self.stack.identity

    @property
    def problems(self) -> list[str]:
        return self.stack.simulator.problems

    @property
    def calls(self) -> list[tuple[str, str, int]]:
        return [(c.method, c.path, c.status) for c in self.stack.simulator.calls]

    @property
    def limits(self):
        return self.stack.simulator.limits

    @property
    def sender(self):
        return self.stack.sender

    def organisation(self, tenant_id: str) -> Any:
        return self.stack.organisations[tenant_id]

    def session(self) -> requests.Session:
        """A session trusting the simulator's CA (and not the environment's)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_bundle
        return session

    def authorise(
        self,
        redirect_uri: str,
        state: str,
        *,
        tenant_ids: list[str] | None = None,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        allow: bool = True,
        client_id: str | None = None,
    ) -> str:
        """Drive the consent page as a user would; returns the code (or the
        ``error`` when ``allow`` is False)."""
        session = self.session()
        page = session.get(
            self.login_url,
            params={
                "response_type": "code",
                "client_id": client_id or self.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(scopes),
                "state": state,
            },
            timeout=10,
        )
        page.raise_for_status()
        consent = re.search(r'name="consent" value="([^"]+)"', page.text)
        assert consent, "the consent page has no consent id"
        offered = re.findall(r'name="tenant" value="([^"]+)"', page.text)
        chosen = offered[:1] if tenant_ids is None else tenant_ids
        answer = session.post(
            self.login_url,
            data={
                "consent": consent.group(1),
                "tenant": chosen,
                "decision": "allow" if allow else "deny",
            },
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text
        location = urlsplit(answer.headers["Location"])
        params = parse_qs(location.query)
        assert params.get("state") == [state], "the state did not come back"
        if not allow:
            return params["error"][0]
        return params["code"][0]

    def exchange(self, code: str, redirect_uri: str = CALLBACK) -> dict:
        """The code → token set, as xero-python stores it (``scope`` a list,
        ``expires_at`` on the simulator's clock)."""
        answer = self.session().post(
            self.token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            },
            auth=(self.client_id, self.client_secret),
            timeout=10,
        )
        answer.raise_for_status()
        return self._token_set(answer.json())

    def custom_connection(self, tenant_id: str) -> App:
        """A custom connection (client credentials) to ``tenant_id``."""
        if tenant_id not in self._custom:
            self._custom[tenant_id] = self.identity.register_custom_connection(
                tenant_id
            )
        return self._custom[tenant_id]

    def client_credentials_token(self, app: App) -> dict:
        answer = self.session().post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
            timeout=10,
        )
        answer.raise_for_status()
        return self._token_set(answer.json())

    def _token_set(self, issued: dict) -> dict:
        token_set = dict(issued)
        token_set["scope"] = str(issued.get("scope", "")).split()
        token_set["expires_at"] = self.clock() + int(issued["expires_in"])
        return token_set

    def connection(
        self, tenant_id: str | None = None, grant: str = "authorization_code"
    ) -> tuple[dict, dict]:
        """(settings, credentials) for a Xero Connection to ``tenant_id``
        (default: the first organisation)."""
        tenant_id = tenant_id or self.tenants[0][0]
        names = dict(self.tenants)
        if tenant_id not in names:
            raise ValueError(f"tenant_id {tenant_id!r} is not one of {list(names)}")
        settings = {
            "accounting_url": self.accounting_url,
            "identity_url": self.identity_url,
            "login_url": self.login_url,
            "tenant_id": tenant_id,
            "tenant_name": names[tenant_id],
            "grant": grant,
            "ca_bundle": self.ca_bundle,
            "scopes": list(DEFAULT_SCOPES),
        }
        if grant == "authorization_code":
            code = self.authorise(CALLBACK, uuid.uuid4().hex, tenant_ids=[tenant_id])
            credentials = {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "token_set": self.exchange(code),
            }
        elif grant == "client_credentials":
            app = self.custom_connection(tenant_id)
            settings["scopes"] = list(app.scopes)
            credentials = {
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "token_set": self.client_credentials_token(app),
            }
        else:
            raise ValueError(
                f"grant must be 'authorization_code' or 'client_credentials', "
                f"not {grant!r}"
            )
        credentials["webhook_key"] = self.webhook_key or ""
        return settings, credentials


@contextmanager
def running_xero(
    root: Path,
    *,
    tenants: int = 2,
    webhook_url: str | None = None,
    webhook_key: str | None = None,
    per_minute: int = 60,
    per_day: int = 5000,
    concurrent: int = 5,
    clock: Callable[[], float] | None = None,
    books_factory: Callable[..., Any] = demo_books,
    webhook_window: float = 0.2,
    retry_initial: float = 0.05,
) -> Iterator[RunningXero]:
    """A simulated Xero with ``tenants`` organisations. Webhook batches go
    out ``webhook_window`` seconds after their first event and are retried
    after ``retry_initial`` seconds, so tests need not wait Xero's minutes."""
    if not 1 <= tenants <= len(TENANT_NAMES):
        raise ValueError(f"tenants must be 1 to {len(TENANT_NAMES)}, not {tenants}")
    clock = clock or time.time
    certificate = server_certificate(Path(root) / "tls", "xero")
    organisations = [Tenant(str(uuid.uuid4()), name) for name in TENANT_NAMES[:tenants]]
    stack = start(
        certificate,
        organisations,
        books_factory,
        clock=clock,
        per_minute=per_minute,
        per_day=per_day,
        concurrent=concurrent,
        webhook_url=webhook_url,
        webhook_key=webhook_key,
        webhook_window=webhook_window,
        retry_initial=retry_initial,
    )
    try:
        yield RunningXero(
            stack,
            [(t.tenant_id, t.name) for t in organisations],
            webhook_key,
            clock,
        )
    finally:
        stack.stop()


def sdk_clients(
    running: RunningXero,
    token_set: dict,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    saver=None,
    retries: bool | int = False,
):
    """xero-python pointed at the simulator: ``(api_client, accounting_api,
    identity_api)``. Refreshes go to the simulator's token URL through
    subclasses, never by changing ``TokenApi``'s class attributes."""
    from xero_python.accounting import AccountingApi
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
    from xero_python.identity import IdentityApi

    class LocalTokenApi(TokenApi):
        refresh_token_url = running.token_url
        client_credentials_token_url = running.token_url
        revoke_token_url = running.revocation_url

    class LocalOAuth2Token(OAuth2Token):
        def refresh_access_token(self, api_client):
            if not self.can_refresh_access_token():
                return False
            api = LocalTokenApi(api_client, self.client_id, self.client_secret)
            new_token = self.fetch_access_token(api)
            self.update_token(**new_token)
            api_client.set_oauth2_token(new_token)
            return True

    store = {"token": dict(token_set)}

    def save(new_token: dict) -> None:
        store["token"] = dict(new_token)
        if saver is not None:
            saver(new_token)

    # Configuration's metaclass hands out copies of the *first* instance ever
    # made, ignoring later arguments: set the attributes on the copy instead.
    configuration = Configuration()
    configuration.oauth2_token = LocalOAuth2Token(
        client_id=client_id or running.client_id,
        client_secret=client_secret or running.client_secret,
    )
    configuration.ssl_ca_cert = running.ca_bundle
    configuration.verify_ssl = True
    api_client = ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=lambda: store["token"],
        oauth2_token_saver=save,
    )
    # xero-python leaves urllib3 on its default Retry(3), which sleeps out a
    # 429's Retry-After up to three times inside the call; here a 429 reaches
    # the caller at once unless ``retries`` says otherwise.
    manager = api_client.rest_client.pool_manager
    manager.request = functools.partial(manager.request, retries=retries)
    accounting = AccountingApi(api_client, base_url=running.accounting_url)
    identity = IdentityApi(api_client, base_url=running.identity_url)
    return api_client, accounting, identity
