"""A seeded simulated Sage 100 company with its write agent, for flow tests.

The agent is the real HTTP server on a loopback port with the simulator
backend; the connection reaches the company through ODBC and the agent only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from integrations.agent.config import AgentConfig
from integrations.agent.journal import Journal
from integrations.agent.server import make_server, serve_in_thread
from integrations.sandbox.sage100.business import SimulatorBackend
from integrations.sandbox.sage100.database import CompanyDatabase
from integrations.sandbox.sage100.faults import Faults
from integrations.sandbox.sage100.seed import seed

KEY_ID, SECRET = "hub", "agent-secret-for-flow-tests"


@dataclass
class Sage100:
    db: CompanyDatabase
    faults: Faults
    agent_url: str
    ca_bundle: str | None = None

    def connection_settings(self) -> dict:
        return {
            "company": self.db.company,
            "odbc": self.db.odbc_settings(timeout_ms=2000),
            "agent_url": self.agent_url,
            "agent_key_id": KEY_ID,
            "agent_timeout": 10,
            **({"agent_ca_bundle": self.ca_bundle} if self.ca_bundle else {}),
        }

    credentials = {"agent_secret": SECRET}


@contextmanager
def running_sage100(
    root: Path, *, customers: int = 40, certificate=None
) -> Iterator[Sage100]:
    """``certificate``: a sandbox.tls.ServerCertificate to serve HTTPS with."""
    db = CompanyDatabase(root, "ABC")
    db.create()
    seed(db, customers=customers)
    backend = SimulatorBackend(root, "ABC", user="agent")
    config = AgentConfig(
        keys={KEY_ID: SECRET},
        journal=root / "journal.db",
        backend="simulator",
        host="127.0.0.1",
        port=0,
        tls_cert=certificate and certificate.cert,
        tls_key=certificate and certificate.key,
    )
    journal = Journal(config.journal)
    server = make_server(config, backend, journal=journal)
    thread = serve_in_thread(server)
    try:
        ca = str(certificate.ca) if certificate else None
        yield Sage100(db, Faults(root, "ABC"), server.url, ca)
    finally:
        server.shutdown()
        server.app.drain(10)
        server.server_close()
        thread.join(5)
        journal.close()
