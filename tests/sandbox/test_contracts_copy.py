"""The project's copy of the vendors' contracts is whole and has not drifted."""

from __future__ import annotations

import filecmp

import pytest

from integrations.sandbox.contracts import BUNDLED, SHARED, contract


def _files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_the_bundled_copy_holds_every_contract_the_simulators_read():
    for name in ("SAGE100-FACTS.md", "API-FACTS.md", "PROVENANCE.md"):
        assert (BUNDLED / name).is_file(), name
    assert contract("SAGE100-FACTS.md").is_file()


@pytest.mark.skipif(
    not SHARED.is_dir(), reason="no shared contracts beside the project"
)
def test_the_bundled_copy_matches_the_shared_contracts():
    assert _files(BUNDLED) == _files(SHARED)
    different = [
        str(name)
        for name in _files(SHARED)
        if not filecmp.cmp(BUNDLED / name, SHARED / name, shallow=False)
    ]
    assert different == []
