"""Salesforce record ids: 15 case-sensitive characters plus a 3-character suffix.

The suffix makes the id usable where case is lost: each block of five
characters contributes one letter that encodes which of them are upper case.
"""

from __future__ import annotations

import re

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ID_PATTERN = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


def checksum(id15: str) -> str:
    """The three suffix characters for a 15-character id."""
    suffix = ""
    for block in range(3):
        bits = 0
        for position, char in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += SUFFIX_ALPHABET[bits]
    return suffix


def to18(record_id: str) -> str | None:
    """The 18-character form of a 15- or 18-character id; None when malformed
    (including an 18-character id whose suffix does not match its case)."""
    if not isinstance(record_id, str) or not ID_PATTERN.match(record_id):
        return None
    if len(record_id) == 18:
        base = record_id[:15]
        if record_id[15:].upper() != checksum(base):
            return None
        return base + checksum(base)
    return record_id + checksum(record_id)


def make_id(prefix: str, pod: str, number: int) -> str:
    """``prefix`` (3) + ``pod`` (2) + "0" + ``number`` in base 62 (9) + suffix."""
    digits = ""
    for _ in range(9):
        number, remainder = divmod(number, 62)
        digits = BASE62[remainder] + digits
    base = f"{prefix}{pod}0{digits}"
    return base + checksum(base)
