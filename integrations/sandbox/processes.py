"""The simulator processes ``make demo`` starts beside the portal."""

from __future__ import annotations


def demo_commands() -> list[tuple[str, list[str]]]:
    """(name, command) for each simulator; vendor issues add theirs here."""
    return []
