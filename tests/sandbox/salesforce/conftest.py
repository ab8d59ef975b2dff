"""A seeded simulated org served over HTTPS, and the real client talking to it."""

from __future__ import annotations

import pytest

from tests.support.salesforce import running_salesforce


@pytest.fixture
def sim(tmp_path):
    with running_salesforce(tmp_path) as running:
        yield running


@pytest.fixture
def sf(sim):
    return sim.client()


@pytest.fixture
def changes(sim):
    """Every ChangeEvent the org commits from now on."""
    seen = []
    sim.org.on_change(seen.append)
    return seen
