"""The real agent server on an ephemeral loopback port, over an in-memory backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from integrations.agent.config import AgentConfig
from integrations.agent.journal import Journal
from integrations.agent.server import AgentServer, make_server, serve_in_thread
from integrations.agent.signing import sign_request
from integrations.connectors.sage100.agent_client import AgentClient
from tests.agent.memory_backend import MemoryBackend

KEY_ID = "hub"
SECRET = "s3cret-for-the-agent-tests"


@dataclass
class RunningAgent:
    url: str
    server: AgentServer
    backend: MemoryBackend
    journal: Journal
    config: AgentConfig

    def client(self, **kwargs) -> AgentClient:
        kwargs.setdefault("timeout", 10)
        return AgentClient(
            self.url,
            kwargs.pop("key_id", KEY_ID),
            kwargs.pop("secret", SECRET),
            **kwargs,
        )

    def raw(self, method: str, path: str, body: bytes = b"", *, headers=None, **kw):
        """A request signed correctly unless ``headers`` replaces the signature."""
        signed = sign_request(KEY_ID, SECRET, method, path, body, **kw)
        return requests.request(
            method,
            self.url + path,
            data=body,
            headers=headers if headers is not None else signed,
            timeout=10,
        )


def agent_config(tmp_path: Path, **overrides) -> AgentConfig:
    options = {
        "keys": {KEY_ID: SECRET},
        "journal": tmp_path / "journal.db",
        "backend": "memory",
        "host": "127.0.0.1",
        "port": 0,
        **overrides,
    }
    return AgentConfig(**options)


@contextmanager
def running_agent(config: AgentConfig, backend) -> Iterator[RunningAgent]:
    journal = Journal(config.journal)
    server = make_server(config, backend, journal=journal)
    thread = serve_in_thread(server)
    try:
        yield RunningAgent(server.url, server, backend, journal, config)
    finally:
        server.shutdown()
        server.app.drain(10)
        server.server_close()
        thread.join(5)
        journal.close()


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def agent(tmp_path, backend) -> Iterator[RunningAgent]:
    with running_agent(agent_config(tmp_path), backend) as running:
        yield running


@pytest.fixture
def client(agent) -> AgentClient:
    return agent.client()
