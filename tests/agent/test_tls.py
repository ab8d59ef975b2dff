"""The agent over TLS, with a private CA the hub is told to trust."""

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integrations.engine import errors
from tests.agent.conftest import agent_config, running_agent


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1: its own CA bundle."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sage-agent.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "agent.crt", tmp_path / "agent.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_agent(tmp_path, backend, certificate):
    cert, key = certificate
    config = agent_config(tmp_path, tls_cert=cert, tls_key=key)
    with running_agent(config, backend) as agent:
        yield agent


def test_hub_trusting_the_agents_ca_writes_over_https(tls_agent, certificate):
    assert tls_agent.url.startswith("https://127.0.0.1:")
    client = tls_agent.client(verify=str(certificate[0]))

    result = client.create_customer(
        {"ARDivisionNo": "01", "CustomerNo": "ABF"}, idempotency_key="k"
    )

    assert result["created"] is True
    assert client.ping()["ok"] is True


def test_hub_without_the_ca_refuses_the_certificate(tls_agent):
    client = tls_agent.client()  # verify=True: the system CAs only
    with pytest.raises(errors.Unavailable) as caught:
        client.ping()
    assert "TLS certificate was not accepted" in caught.value.message
    assert tls_agent.backend.writes == []


def test_plain_http_to_a_tls_agent_gets_no_answer(tls_agent, certificate):
    client = tls_agent.client()
    client.base_url = tls_agent.url.replace("https://", "http://")
    with pytest.raises(errors.Unavailable):
        client.ping()
    # The failed handshake did not stop the agent.
    assert tls_agent.client(verify=str(certificate[0])).ping()["ok"] is True
