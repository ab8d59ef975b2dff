"""The demo's private CA: the hub reaches the agent over verified HTTPS."""

from __future__ import annotations

import pytest

from integrations.engine.errors import Unavailable
from integrations.sandbox import tls
from tests.support.sage100 import KEY_ID, SECRET, running_sage100


def test_certificates_are_made_once_and_reused(tmp_path):
    first = tls.server_certificate(tmp_path, "agent")
    second = tls.server_certificate(tmp_path, "agent")

    assert first == second
    assert first.cert.read_bytes() == second.cert.read_bytes()
    assert oct(first.key.stat().st_mode & 0o777) == "0o600"


def test_the_agent_is_reached_over_https_trusting_only_the_local_ca(tmp_path):
    from integrations.connectors.sage100.agent_client import AgentClient

    certificate = tls.server_certificate(tmp_path / "tls", "sage100-agent")
    with running_sage100(tmp_path / "sage", customers=3, certificate=certificate) as s:
        assert s.agent_url.startswith("https://")
        trusting = AgentClient(s.agent_url, KEY_ID, SECRET, verify=str(certificate.ca))
        assert trusting.ping()["company"] == "ABC"

        default_trust = AgentClient(s.agent_url, KEY_ID, SECRET, timeout=5)
        with pytest.raises(Unavailable):
            default_trust.ping()


def test_the_demo_connection_trusts_the_agent_certificate(settings, tmp_path):
    from integrations.services import demo_sage100

    settings.VAR_DIR = tmp_path
    command = demo_sage100.agent_command()
    options = demo_sage100.connection_settings()

    assert options["agent_url"].startswith("https://")
    assert command[command.index("--tls-cert") + 1] == str(
        tmp_path / "tls" / "sage100-agent.pem"
    )
    assert options["agent_ca_bundle"] == str(tmp_path / "tls" / "ca.pem")
