"""A running simulated Salesforce org on a loopback HTTPS port, for tests.

``connection(flow)`` gives the (settings, credentials) pair a Salesforce
Connection holds, in the keys of the connector's ``SalesforceSettings``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from simple_salesforce import Salesforce

from integrations.sandbox.salesforce.org import SalesforceOrg
from integrations.sandbox.salesforce.seed import SeedResult, add_integration_access
from integrations.sandbox.salesforce.seed import seed as seed_org
from integrations.sandbox.salesforce.server import RunningServer, serve
from integrations.sandbox.tls import server_certificate

FLOWS = ("password", "jwt", "client_credentials")


@dataclass
class RunningSalesforce:
    org: SalesforceOrg
    server: RunningServer
    ca_bundle: str
    access: SeedResult

    @property
    def url(self) -> str:
        """The instance URL, which is also where the token endpoint lives."""
        return self.server.url

    def http(self) -> requests.Session:
        """A session trusting the local CA (and not REQUESTS_CA_BUNDLE, which
        would otherwise replace a session-level ``verify``)."""
        session = requests.Session()
        session.verify = self.ca_bundle
        session.trust_env = False
        return session

    def token(self, username: str = "", password: str = "") -> str:
        """An access token from the OAuth username-password flow."""
        access = self.access
        response = self.http().post(
            f"{self.url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": access.client_id,
                "client_secret": access.client_secret,
                "username": username or access.username,
                "password": password or access.password + access.security_token,
            },
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def client(self, token: str = "") -> Salesforce:
        """The real simple-salesforce client, as the connector builds it."""
        return Salesforce(
            instance_url=self.url,
            session_id=token or self.token(),
            session=self.http(),
            version="62.0",
        )

    def connection(self, flow: str = "password") -> tuple[dict, dict]:
        if flow not in FLOWS:
            raise ValueError(f"auth flow must be one of {FLOWS}, not {flow!r}")
        access = self.access
        settings = {
            "login_url": self.url,
            "auth_flow": flow,
            "api_version": "62.0",
            "ca_bundle": self.ca_bundle,
            "timeout": 10,
            "client_id": access.client_id,
            "username": access.username,
            "organization_id": self.org.org_id,
        }
        credentials = {"client_secret": access.client_secret}
        if flow == "password":
            credentials.update(
                password=access.password, security_token=access.security_token
            )
        elif flow == "jwt":
            credentials = {"private_key": access.private_key_pem.decode()}
        return settings, credentials


@contextmanager
def running_salesforce(
    root: Path, *, seed: bool = True, **org_options
) -> Iterator[RunningSalesforce]:
    """A simulated org (seeded unless ``seed=False``) served over HTTPS on port 0.

    ``org_options`` go to ``SalesforceOrg`` (multi_currency, daily_api_requests,
    budget_window_seconds, session_seconds...)."""
    certificate = server_certificate(Path(root) / "tls", "salesforce")
    org = SalesforceOrg(**org_options)
    server = serve(org, certificate=certificate)
    try:
        access = seed_org(org) if seed else add_integration_access(org)
        yield RunningSalesforce(org, server, str(certificate.ca), access)
    finally:
        server.stop()
