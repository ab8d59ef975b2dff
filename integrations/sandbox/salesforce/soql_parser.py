"""Tokenizer and recursive-descent parser for the SOQL subset the simulator answers.

Hand-written on purpose: the grammar is small, Salesforce's error messages name the
exact token and row/column where parsing stopped, and a parser generator would add a
dependency while making those messages harder to reproduce. The parser only checks
syntax; names and types are checked against the org's metadata in ``soql.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

__all__ = [
    "And",
    "Comparison",
    "Condition",
    "CountCall",
    "DateRange",
    "FieldPath",
    "FieldsCall",
    "InList",
    "Literal",
    "Not",
    "Or",
    "OrderItem",
    "Query",
    "SemiJoin",
    "SoqlError",
    "SubQuery",
    "parse",
]


class SoqlError(Exception):
    """A query Salesforce would refuse, with its ``errorCode`` and message."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message


# --------------------------------------------------------------------------- tokens

_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})"
_TOKEN_RE = re.compile(
    rf"""
    (?P<space>\s+)
  | (?P<datetime>{_DATETIME})(?![\w:])
  | (?P<date>\d{{4}}-\d{{2}}-\d{{2}})(?![\w:])
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+))(?![\w.])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>')
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),.:])
    """,
    re.VERBOSE,
)

# Escapes Salesforce accepts inside quoted strings (letters in either case). ``\%``
# and ``\_`` are kept apart so LIKE can tell a literal percent sign from a wildcard.
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "%",
    "_": "_",
}


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, number, date, datetime, op, punct, eof
    text: str  # source text (for strings: the body between the quotes, undecoded)
    pos: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.text.upper() in words

    def shown(self) -> str:
        if self.kind == "eof":
            return "<EOF>"
        if self.kind == "string":
            return f"'{self.text}'"
        return self.text


def _located(text: str, pos: int, message: str) -> str:
    """Prefix ``message`` with the offending line and a caret, as Salesforce does."""
    row = text.count("\n", 0, pos) + 1
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end != -1 else len(text)]
    column = pos - line_start + 1
    caret = " " * (column - 1) + "^"
    return f"\n{line}\n{caret}\nERROR at Row:{row}:Column:{column}\n{message}"


def located_error(code: str, text: str, pos: int, message: str) -> SoqlError:
    return SoqlError(code, _located(text, pos, message))


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise located_error(
                "MALFORMED_QUERY", text, pos, f"unexpected token: '{text[pos]}'"
            )
        kind = match.lastgroup
        assert kind is not None
        if kind == "space":
            pos = match.end()
            continue
        if kind == "string":
            end = _string_end(text, pos)
            tokens.append(Token("string", text[pos + 1 : end], pos))
            pos = end + 1
            continue
        tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


def _string_end(text: str, start: int) -> int:
    """Index of the closing quote of the string opened at ``start``."""
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            escaped = text[pos + 1 : pos + 2]
            if escaped.lower() not in _ESCAPES:
                raise located_error(
                    "MALFORMED_QUERY",
                    text,
                    pos,
                    "Invalid string literal '"
                    + text[start + 1 : pos + 2]
                    + "'. Illegal character sequence '\\"
                    + escaped
                    + "' in string literal.",
                )
            pos += 2
            continue
        if char == "'":
            return pos
        pos += 1
    raise located_error(
        "MALFORMED_QUERY", text, start, f"unexpected token: '{text[start:]}'"
    )


def decode_string(body: str) -> str:
    """The value of a quoted literal: escapes resolved, ``\\%``/``\\_`` made plain."""
    return "".join(char for char, _escaped in string_chars(body))


def string_chars(body: str) -> list[tuple[str, bool]]:
    """Characters of a literal paired with "was escaped", for LIKE wildcards."""
    chars: list[tuple[str, bool]] = []
    pos = 0
    while pos < len(body):
        char = body[pos]
        if char == "\\":
            chars.append((_ESCAPES[body[pos + 1].lower()], True))
            pos += 2
            continue
        chars.append((char, False))
        pos += 1
    return chars


# ----------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class FieldPath:
    """``Name`` or ``Account.Owner.Name`` as written (names not yet resolved)."""

    parts: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class CountCall:
    pos: int


@dataclass(frozen=True)
class FieldsCall:
    """``FIELDS(ALL|STANDARD|CUSTOM)``."""

    which: str
    pos: int


@dataclass(frozen=True)
class Literal:
    """A filter value: kind is string, number, boolean, null, date or datetime."""

    kind: str
    value: object
    pos: int
    raw: str = ""  # string body as written, so LIKE can see escaped wildcards


@dataclass(frozen=True)
class DateRange:
    """A relative date literal such as ``THIS_MONTH`` or ``LAST_N_DAYS:30``."""

    name: str
    n: int | None
    pos: int


@dataclass(frozen=True)
class Comparison:
    path: FieldPath
    op: str  # =, !=, <, >, <=, >=, LIKE
    value: Literal | DateRange
    pos: int


@dataclass(frozen=True)
class InList:
    path: FieldPath
    op: str  # IN, NOT IN, INCLUDES, EXCLUDES
    values: tuple[Literal | DateRange, ...]
    pos: int


@dataclass(frozen=True)
class SemiJoin:
    path: FieldPath
    negated: bool
    query: Query
    pos: int


@dataclass(frozen=True)
class And:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = Comparison | InList | SemiJoin | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    path: FieldPath
    descending: bool
    nulls_last: bool


@dataclass
class Query:
    select: list[FieldPath | SubQuery | CountCall | FieldsCall]
    sobject: str
    sobject_pos: int
    alias: str | None = None
    where: Condition | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    offset_pos: int = 0


@dataclass(frozen=True)
class SubQuery:
    """A child-relationship subquery in the SELECT list; ``query.sobject`` is the
    relationship name (``Contacts``), not an object name."""

    query: Query
    pos: int


# -------------------------------------------------------------------------- parser

_CLAUSE_WORDS = (
    "WHERE",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "GROUP",
    "HAVING",
    "WITH",
    "FOR",
    "USING",
)
_RANGE_LITERALS = {
    "TODAY",
    "YESTERDAY",
    "TOMORROW",
    "LAST_WEEK",
    "THIS_WEEK",
    "NEXT_WEEK",
    "LAST_MONTH",
    "THIS_MONTH",
    "NEXT_MONTH",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
    "LAST_QUARTER",
    "THIS_QUARTER",
    "NEXT_QUARTER",
    "LAST_YEAR",
    "THIS_YEAR",
    "NEXT_YEAR",
}
_RANGE_LITERALS_N = {
    "LAST_N_DAYS",
    "NEXT_N_DAYS",
    "N_DAYS_AGO",
    "LAST_N_WEEKS",
    "NEXT_N_WEEKS",
    "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
    "LAST_N_QUARTERS",
    "NEXT_N_QUARTERS",
    "LAST_N_YEARS",
    "NEXT_N_YEARS",
}
_COMPARISON_OPS = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", ">": ">"}
_COMPARISON_OPS |= {"<=": "<=", ">=": ">="}


def parse(text: str) -> Query:
    """Parse one SOQL statement; raises :class:`SoqlError` on bad syntax."""
    parser = _Parser(text)
    query = parser.query(nested=False)
    parser.expect_eof()
    return query


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    # -- token helpers

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.current
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.current
        return located_error(
            "MALFORMED_QUERY",
            self.text,
            token.pos,
            f"unexpected token: '{token.shown()}'",
        )

    def expect_word(self, word: str) -> Token:
        if not self.current.is_word(word):
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if self.current.kind != "punct" or self.current.text != char:
            raise self.unexpected()
        return self.advance()

    def at_punct(self, char: str) -> bool:
        return self.current.kind == "punct" and self.current.text == char

    def expect_eof(self) -> None:
        if self.current.kind != "eof":
            raise self.unexpected()

    # -- statement

    def query(self, *, nested: bool) -> Query:
        self.expect_word("SELECT")
        select = [self.select_item(nested=nested)]
        while self.at_punct(","):
            self.advance()
            select.append(self.select_item(nested=nested))
        self.expect_word("FROM")
        name_token = self.current
        if name_token.kind != "ident":
            raise self.unexpected()
        self.advance()
        query = Query(
            select=select, sobject=name_token.text, sobject_pos=name_token.pos
        )
        if self.current.kind == "ident" and not self.current.is_word(*_CLAUSE_WORDS):
            query.alias = self.advance().text
        if self.current.is_word("WHERE"):
            self.advance()
            query.where = self.condition()
        if self.current.is_word("ORDER"):
            self.advance()
            self.expect_word("BY")
            query.order_by = [self.order_item()]
            while self.at_punct(","):
                self.advance()
                query.order_by.append(self.order_item())
        if self.current.is_word("LIMIT"):
            self.advance()
            query.limit = self.non_negative_integer()
        if self.current.is_word("OFFSET"):
            self.advance()
            query.offset_pos = self.current.pos
            query.offset = self.non_negative_integer()
        return query

    def non_negative_integer(self) -> int:
        token = self.current
        if token.kind != "number" or not token.text.isdigit():
            raise self.unexpected()
        self.advance()
        return int(token.text)

    def select_item(
        self, *, nested: bool
    ) -> FieldPath | SubQuery | CountCall | FieldsCall:
        token = self.current
        if self.at_punct("("):
            if nested:
                raise self.unexpected(self.peek())
            self.advance()
            subquery = self.query(nested=True)
            self.expect_punct(")")
            return SubQuery(subquery, token.pos)
        following = self.peek()
        if (
            token.kind == "ident"
            and following.kind == "punct"
            and following.text == "("
        ):
            return self.function_call()
        return self.field_path()

    def function_call(self) -> CountCall | FieldsCall:
        name = self.advance()
        self.expect_punct("(")
        if name.is_word("COUNT"):
            if not self.at_punct(")"):
                raise located_error(
                    "MALFORMED_QUERY",
                    self.text,
                    name.pos,
                    "Aggregate functions such as COUNT(field) need GROUP BY "
                    "support, which this simulated org does not have; only "
                    "COUNT() is answered.",
                )
            self.advance()
            return CountCall(name.pos)
        if name.is_word("FIELDS"):
            which = self.current
            if not which.is_word("ALL", "STANDARD", "CUSTOM"):
                raise self.unexpected()
            self.advance()
            self.expect_punct(")")
            return FieldsCall(which.text.upper(), name.pos)
        raise located_error(
            "MALFORMED_QUERY",
            self.text,
            name.pos,
            f"Function '{name.text}' is not supported by this simulated org; "
            "only COUNT() and FIELDS() are.",
        )

    def field_path(self) -> FieldPath:
        first = self.current
        if first.kind != "ident":
            raise self.unexpected()
        parts = [self.advance().text]
        while self.at_punct("."):
            self.advance()
            if self.current.kind != "ident":
                raise self.unexpected()
            parts.append(self.advance().text)
        return FieldPath(tuple(parts), first.pos)

    def order_item(self) -> OrderItem:
        path = self.field_path()
        descending = False
        if self.current.is_word("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        nulls_last = descending
        if self.current.is_word("NULLS"):
            self.advance()
            if not self.current.is_word("FIRST", "LAST"):
                raise self.unexpected()
            nulls_last = self.advance().text.upper() == "LAST"
        return OrderItem(path, descending, nulls_last)

    # -- conditions

    def condition(self) -> Condition:
        """Terms joined by AND or by OR; mixing them needs parentheses in SOQL."""
        first = self.condition_term()
        if not self.current.is_word("AND", "OR"):
            return first
        joiner = self.current.text.upper()
        parts = [first]
        while self.current.is_word("AND", "OR"):
            if self.current.text.upper() != joiner:
                raise self.unexpected()
            self.advance()
            parts.append(self.condition_term())
        return And(tuple(parts)) if joiner == "AND" else Or(tuple(parts))

    def condition_term(self) -> Condition:
        if self.current.is_word("NOT"):
            self.advance()
            return Not(self.condition_term())
        if self.at_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.simple_condition()

    def simple_condition(self) -> Condition:
        path = self.field_path()
        token = self.current
        if token.kind == "op":
            self.advance()
            return Comparison(
                path, _COMPARISON_OPS[token.text], self.value(), token.pos
            )
        if token.is_word("LIKE"):
            self.advance()
            return Comparison(path, "LIKE", self.value(), token.pos)
        if token.is_word("NOT") and self.peek().is_word("IN"):
            self.advance()
            self.advance()
            return self.in_condition(path, "NOT IN", token.pos)
        if token.is_word("IN", "INCLUDES", "EXCLUDES"):
            self.advance()
            return self.in_condition(path, token.text.upper(), token.pos)
        raise self.unexpected()

    def in_condition(self, path: FieldPath, op: str, pos: int) -> Condition:
        self.expect_punct("(")
        if self.current.is_word("SELECT"):
            if op not in ("IN", "NOT IN"):
                raise self.unexpected()
            inner = self.query(nested=True)
            self.expect_punct(")")
            return SemiJoin(path, op == "NOT IN", inner, pos)
        values = [self.value()]
        while self.at_punct(","):
            self.advance()
            values.append(self.value())
        self.expect_punct(")")
        return InList(path, op, tuple(values), pos)

    def value(self) -> Literal | DateRange:
        token = self.current
        if token.kind == "string":
            self.advance()
            return Literal("string", decode_string(token.text), token.pos, token.text)
        if token.kind == "number":
            self.advance()
            number: object = float(token.text) if "." in token.text else int(token.text)
            return Literal("number", number, token.pos)
        if token.kind == "date":
            self.advance()
            try:
                return Literal("date", date.fromisoformat(token.text), token.pos)
            except ValueError:
                raise self.unexpected(token) from None
        if token.kind == "datetime":
            self.advance()
            try:
                return Literal(
                    "datetime", datetime.fromisoformat(token.text), token.pos
                )
            except ValueError:
                raise self.unexpected(token) from None
        if token.is_word("TRUE", "FALSE"):
            self.advance()
            return Literal("boolean", token.text.upper() == "TRUE", token.pos)
        if token.is_word("NULL"):
            self.advance()
            return Literal("null", None, token.pos)
        if token.kind == "ident" and token.text.upper() in _RANGE_LITERALS:
            self.advance()
            return DateRange(token.text.upper(), None, token.pos)
        if token.kind == "ident" and token.text.upper() in _RANGE_LITERALS_N:
            self.advance()
            self.expect_punct(":")
            return DateRange(token.text.upper(), self.non_negative_integer(), token.pos)
        raise self.unexpected()
