"""Salesforce record ids: 15 characters, case-sensitive, or 18 with a suffix
that makes them safe for case-insensitive systems. The same record reaches us
in both forms (callouts and formulas use 15), so keys always use 18."""

from __future__ import annotations

import re

_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def is_id(value: str) -> bool:
    return bool(_ID.match(value or ""))


def to_18(value: str) -> str:
    """The 18-character form; a string that is not an id is returned as given."""
    if not is_id(value) or len(value) == 18:
        return value
    suffix = ""
    for start in range(0, 15, 5):
        chunk = value[start : start + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        suffix += _SUFFIX[bits]
    return value + suffix
