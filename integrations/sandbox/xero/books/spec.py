"""The objects' field names, read from Xero's OpenAPI spec in contracts.

The ``where`` and ``order`` parameters name fields; Xero refuses a field its
object does not have, so the simulator checks names against the spec.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from integrations.sandbox.contracts import contract


@lru_cache(maxsize=1)
def _text() -> str:
    return contract("xero/xero_accounting.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=64)
def properties(object_name: str) -> dict[str, dict]:
    """The schema's properties (only that block of the large spec is parsed)."""
    text = _text()
    schemas_at = text.index("\n  schemas:\n")
    match = re.compile(rf"^    {re.escape(object_name)}:\n", re.M).search(
        text, schemas_at
    )
    if match is None:
        return {}
    end = re.compile(r"^    \S|^  \S|^\S", re.M).search(text, match.end())
    block = text[match.start() : end.start() if end else len(text)]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    schema = yaml.load(block, Loader=loader)[object_name] or {}
    return schema.get("properties") or {}


def field_type(object_name: str, field: str) -> str | None:
    """The object a field refers to (``Contact`` for Invoice.Contact), if any."""
    prop = properties(object_name).get(field) or {}
    ref = prop.get("$ref") or ""
    name = ref.rsplit("/", 1)[-1]
    return name if name and properties(name) else None
