"""Where the vendors' published contracts are (SAGE100-FACTS.md, Xero's OpenAPI…).

The project carries an unmodified copy under ``contracts/`` (see its
PROVENANCE.md), so simulators and contract tests work from a fresh clone. A
newer set beside the project (``../shared/contracts``) or one named by
``LEDGERBRIDGE_CONTRACTS_DIR`` takes precedence, and a test checks that the copy
has not drifted from it.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUNDLED = PROJECT_ROOT / "contracts"
SHARED = PROJECT_ROOT.parent / "shared" / "contracts"


def contracts_dir() -> Path:
    named = os.environ.get("LEDGERBRIDGE_CONTRACTS_DIR")
    if named:
        return Path(named)
    return SHARED if SHARED.is_dir() else BUNDLED


def contract(name: str) -> Path:
    """A contract file by its path inside the contracts folder."""
    return contracts_dir() / name
