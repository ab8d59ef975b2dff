"""Read SAGE100-FACTS.md into plain data for the contract tests.

The facts file is prose with tables; these helpers pull out only what the
simulator must match: field lengths and formats (section 1), and the tables,
keys and columns each section-2 bullet names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from integrations.sandbox.contracts import contract

FACTS_FILE = contract("SAGE100-FACTS.md")

_TICKED = re.compile(r"`([^`]+)`")
_BOLD_TABLE = re.compile(
    r"\*\*`([A-Z]{2}_[A-Za-z]+)`(?:\s*/\s*`([A-Z]{2}_[A-Za-z]+)`)?\*\*"
)
_COLUMN = re.compile(r"^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$")
_RANGE = re.compile(r"^([A-Za-z]+?)(\d)\.\.(\d)$")
# All-capital column names the prose cannot tell apart from values.
_CAPITAL_COLUMNS = {"FOB"}


@dataclass
class FieldFact:
    name: str
    length: int
    format: str


@dataclass
class TableFact:
    tables: tuple[str, ...]  # one, or a header/detail pair sharing a bullet
    keys: list[tuple[str, ...]] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)
    indexes: set[str] = field(default_factory=set)


def section(text: str, number: int) -> str:
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", text, re.M | re.S)
    assert match, f"section {number} is missing from the facts file"
    return match.group(0)


def expand(token: str) -> list[str]:
    """``AddressLine1..3`` → ``AddressLine1``, ``AddressLine2``, ``AddressLine3``."""
    match = _RANGE.match(token)
    if not match:
        return [token]
    stem, first, last = match.group(1), int(match.group(2)), int(match.group(3))
    return [f"{stem}{i}" for i in range(first, last + 1)]


def field_facts(text: str) -> list[FieldFact]:
    """Section 1's table: every backticked field with its length and format."""
    facts = []
    for line in section(text, 1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not line.startswith("|") or set(cells[0]) <= {"-"}:
            continue
        name_cell, length_cell, format_cell = cells[0], cells[1], cells[2]
        inline = re.findall(r"`(\w+)`\s+(\d+)", name_cell)
        if inline:
            facts += [FieldFact(n, int(length), "") for n, length in inline]
            continue
        if not length_cell.isdigit():
            continue
        names = _TICKED.findall(name_cell)
        if not names and not re.sub(r"`[^`]+`|[,\s]", "", format_cell):
            names = _TICKED.findall(format_cell)  # "names, address lines | 30 | ..."
        for name in names:
            for expanded in expand(name):
                facts.append(FieldFact(expanded, int(length_cell), format_cell))
    return facts


def table_facts(text: str) -> list[TableFact]:
    """Section 2's bullets: each bold table name and what its text names."""
    facts = []
    body = section(text, 2)
    bullets = re.split(r"^- ", body, flags=re.M)[1:]
    for bullet in bullets:
        matches = list(_BOLD_TABLE.finditer(bullet))
        for i, match in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(bullet)
            segment = bullet[match.end() : end]
            names = tuple(n for n in match.groups() if n)
            fact = TableFact(names)
            key = re.search(r"\bkey\s+`([^`]+)`", segment)
            if key:
                fact.keys.append(tuple(key.group(1).split("+")))
            detail = re.search(r"\bdetail\s+`([^`]+)`", segment)
            if detail:
                fact.keys.append(tuple(detail.group(1).split("+")))
            for token in _TICKED.findall(segment):
                if re.fullmatch(r"K[A-Z]+", token):
                    fact.indexes.add(token)
                elif "+" in token or "_" in token:
                    continue
                else:
                    for name in expand(token):
                        if _COLUMN.match(name) or name in _CAPITAL_COLUMNS:
                            fact.columns.add(name)
            facts.append(fact)
    return facts
