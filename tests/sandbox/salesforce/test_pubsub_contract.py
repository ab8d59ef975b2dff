"""The committed Pub/Sub stubs are exactly what the contract's proto generates."""

import pytest

from integrations.connectors.salesforce.pubsub import regenerate

pytest.importorskip("grpc_tools")


def test_stubs_match_a_fresh_generation_from_the_contract():
    for name, content in regenerate.generate().items():
        committed = (regenerate.HERE / name).read_bytes()
        assert committed == content, (
            f"{name} differs from the contract's proto: run "
            "python -m integrations.connectors.salesforce.pubsub.regenerate"
        )
