"""Xero's ``where`` and ``order`` query parameters, parsed and checked as Xero does.

Xero hands ``where`` to a .NET Dynamic LINQ parser, so the syntax is C#-like:
``Type=="ACCREC" AND Status!="DELETED"``, ``Contact.ContactID==Guid("…")``,
``Date>=DateTime(2026,12,01)``, ``Name.Contains("Ltd")``,
``EmailAddress.ToLower()=="a@b.com"``, ``IsCustomer==true``, ``AmountDue>0``,
with ``AND``/``OR``/``NOT`` (or ``&&``/``||``/``!``) and parentheses.

The parser types every operand from the spec (uuid → Guid, ``x-is-msdate`` →
DateTime, number → Decimal, boolean → Boolean) and refuses what Xero refuses,
with Xero's ``QueryParseException`` wording: an unknown field ("No property or
field 'X' exists in type 'Invoice'"), a Guid field compared with a string
("Operator '==' incompatible with operand types 'Guid' and 'String'"), a
missing operand ("Expression expected").

Assumption (documented in docs/xero.md): string comparisons and
``Contains``/``StartsWith``/``EndsWith`` ignore case, as Xero's database
collation does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.sandbox.xero.books import dates, spec


class QueryError(ValueError):
    """A ``where``/``order`` Xero would answer with QueryParseException (16)."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"]|"")*")
    | (?P<char>'[^']*')
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<op>==|!=|<>|>=|<=|&&|\|\||[=<>!(),.-])
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.X,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise QueryError(f"Syntax error '{text[at:].strip()[:1]}'")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        if kind == "char":
            if len(raw) != 3:
                raise QueryError("Character literal must contain exactly one character")
            kind, raw = "string", '"' + raw[1] + '"'
        found.append(_Token(kind, raw, match.start(kind)))
        at = match.end()
    found.append(_Token("end", "", len(text)))
    return found


# A compiled expression: its static type and a function of the document.
Getter = Callable[[dict], Any]


@dataclass(frozen=True)
class _Expr:
    type: str  # String, Guid, DateTime, Decimal, Boolean, Null, or an object name
    get: Getter


_KEYWORDS = {"and": "&&", "or": "||", "not": "!"}
_COMPARISONS = {"==", "=", "!=", "<>", ">", "<", ">=", "<="}
_SCALARS = {"String", "Guid", "DateTime", "Decimal", "Boolean", "Null"}


def _property_type(prop: dict) -> str:
    if prop.get("$ref"):
        name = prop["$ref"].rsplit("/", 1)[-1]
        return name if spec.properties(name) else "String"
    if prop.get("format") == "uuid":
        return "Guid"
    if prop.get("x-is-msdate") or prop.get("x-is-msdate-time"):
        return "DateTime"
    return {
        "number": "Decimal",
        "integer": "Decimal",
        "boolean": "Boolean",
        "array": "List",
    }.get(prop.get("type", "string"), "String")


def _typed(value: Any, kind: str) -> Any:
    """A document's value in the expression's type (None stays None)."""
    if value is None:
        return None
    if kind == "DateTime":
        try:
            return dates.parse(value)
        except dates.BadDate:
            return None
    if kind == "Guid":
        return str(value).lower()
    if kind == "Decimal" and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    return value


class _Parser:
    def __init__(self, text: str, object_name: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.object_name = object_name

    # -- tokens ----------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.at]

    def op(self) -> str:
        token = self.peek()
        if token.kind == "ident" and token.text.lower() in _KEYWORDS:
            return _KEYWORDS[token.text.lower()]
        return token.text if token.kind == "op" else ""

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, text: str) -> None:
        if self.peek().text != text:
            raise QueryError(f"'{text}' expected")
        self.take()

    # -- grammar -----------------------------------------------------------
    def parse(self) -> _Expr:
        expr = self.or_()
        if self.peek().kind != "end":
            raise QueryError(f"Syntax error '{self.peek().text}'")
        if expr.type != "Boolean":
            raise QueryError("Expression of type 'Boolean' expected")
        return expr

    def or_(self) -> _Expr:
        left = self.and_()
        while self.op() == "||":
            self.take()
            right = self.and_()
            self._both_boolean("||", left, right)
            left = _Expr(
                "Boolean", lambda d, a=left.get, b=right.get: bool(a(d)) or bool(b(d))
            )
        return left

    def and_(self) -> _Expr:
        left = self.not_()
        while self.op() == "&&":
            self.take()
            right = self.not_()
            self._both_boolean("&&", left, right)
            left = _Expr(
                "Boolean", lambda d, a=left.get, b=right.get: bool(a(d)) and bool(b(d))
            )
        return left

    def not_(self) -> _Expr:
        if self.op() == "!":
            self.take()
            inner = self.not_()
            if inner.type != "Boolean":
                raise QueryError(
                    f"Operator '!' incompatible with operand type '{inner.type}'"
                )
            return _Expr("Boolean", lambda d, a=inner.get: not a(d))
        return self.comparison()

    def comparison(self) -> _Expr:
        left = self.postfix()
        op = self.op()
        if op not in _COMPARISONS:
            return left
        self.take()
        right = self.postfix()
        return _compare(op, left, right)

    def postfix(self) -> _Expr:
        expr = self.primary()
        while self.peek().text == ".":
            self.take()
            name = self.take()
            if name.kind != "ident":
                raise QueryError("Identifier expected")
            if self.peek().text == "(":
                expr = self.method(expr, name.text)
            else:
                expr = self.member(expr, name.text)
        return expr

    def primary(self) -> _Expr:
        token = self.peek()
        if token.text == "(":
            self.take()
            inner = self.or_()
            self.expect(")")
            return inner
        if token.kind == "string":
            self.take()
            value = token.text[1:-1].replace('""', '"')
            return _Expr("String", lambda d, v=value: v)
        if token.kind == "number" or (
            token.text == "-" and self.tokens[self.at + 1].kind == "number"
        ):
            sign = -1 if self.take().text == "-" else 1
            if sign == -1:
                token = self.take()
            number = Decimal(token.text) * sign
            return _Expr("Decimal", lambda d, v=number: v)
        if token.kind == "ident":
            return self.identifier()
        raise QueryError("Expression expected")

    def identifier(self) -> _Expr:
        name = self.take().text
        lowered = name.lower()
        if lowered in ("true", "false"):
            return _Expr("Boolean", lambda d, v=lowered == "true": v)
        if lowered == "null":
            return _Expr("Null", lambda d: None)
        if name == "Guid" and self.peek().text == "(":
            text = self.literal_argument("Guid")
            if not re.fullmatch(
                r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}", text
            ):
                raise QueryError(f"'{text}' is not a valid Guid")
            value = text.replace("-", "").lower()
            guid = "-".join(
                (value[:8], value[8:12], value[12:16], value[16:20], value[20:])
            )
            return _Expr("Guid", lambda d, v=guid: v)
        if name == "DateTime":
            return self.datetime()
        return self.member(None, name)

    def literal_argument(self, function: str) -> str:
        self.expect("(")
        token = self.take()
        if token.kind != "string":
            raise QueryError(f"No applicable constructor exists in type '{function}'")
        self.expect(")")
        return token.text[1:-1]

    def datetime(self) -> _Expr:
        if self.peek().text == ".":
            self.take()
            method = self.take().text
            if method != "Parse":
                raise QueryError(
                    f"No property or field '{method}' exists in type 'DateTime'"
                )
            text = self.literal_argument("DateTime")
            try:
                moment = dates.parse(text)
            except dates.BadDate:
                raise QueryError(
                    f"String '{text}' was not recognized as a valid DateTime."
                ) from None
            return _Expr("DateTime", lambda d, v=moment: v)
        self.expect("(")
        parts: list[int] = []
        while True:
            token = self.take()
            if token.kind != "number" or "." in token.text:
                raise QueryError("No applicable constructor exists in type 'DateTime'")
            parts.append(int(token.text))
            if self.peek().text == ",":
                self.take()
                continue
            self.expect(")")
            break
        if len(parts) not in (3, 6):
            raise QueryError("No applicable constructor exists in type 'DateTime'")
        try:
            moment = datetime(*parts, tzinfo=UTC)  # type: ignore[misc]
        except ValueError as error:
            raise QueryError(f"Invalid DateTime: {error}") from None
        return _Expr("DateTime", lambda d, v=moment: v)

    def member(self, owner: _Expr | None, name: str) -> _Expr:
        object_name = self.object_name if owner is None else owner.type
        if object_name in _SCALARS or object_name == "List":
            raise QueryError(
                f"No property or field '{name}' exists in type '{object_name}'"
            )
        prop = spec.properties(object_name).get(name)
        if prop is None:
            raise QueryError(
                f"No property or field '{name}' exists in type '{object_name}'"
            )
        kind = _property_type(prop)
        parent: Getter = (lambda d: d) if owner is None else owner.get

        def get(document: dict, parent: Getter = parent) -> Any:
            holder = parent(document)
            if not isinstance(holder, dict):
                return None
            value = holder.get(name)
            return value if kind not in _SCALARS else _typed(value, kind)

        return _Expr(kind, get)

    def method(self, target: _Expr, name: str) -> _Expr:
        self.expect("(")
        arguments: list[_Expr] = []
        while self.peek().text != ")":
            arguments.append(self.or_())
            if self.peek().text == ",":
                self.take()
        self.expect(")")
        if name == "ToString" and not arguments:
            return _Expr(
                "String", lambda d, t=target.get: None if t(d) is None else str(t(d))
            )
        if target.type != "String":
            raise QueryError(
                f"No applicable method '{name}' exists in type '{target.type}'"
            )
        if name in ("ToLower", "ToUpper", "Trim") and not arguments:
            change = {"ToLower": str.lower, "ToUpper": str.upper, "Trim": str.strip}[
                name
            ]
            return _Expr(
                "String",
                lambda d, t=target.get, f=change: None if t(d) is None else f(t(d)),
            )
        tests = {
            "Contains": lambda value, part: part in value,
            "StartsWith": str.startswith,
            "EndsWith": str.endswith,
            "Equals": str.__eq__,
        }
        if name in tests and len(arguments) == 1 and arguments[0].type == "String":
            test = tests[name]

            def check(document: dict, t=target.get, a=arguments[0].get) -> bool:
                value, part = t(document), a(document)
                if value is None or part is None:
                    return False
                return bool(test(value.lower(), part.lower()))

            return _Expr("Boolean", check)
        raise QueryError(f"No applicable method '{name}' exists in type 'String'")

    @staticmethod
    def _both_boolean(op: str, left: _Expr, right: _Expr) -> None:
        if left.type != "Boolean" or right.type != "Boolean":
            raise QueryError(
                f"Operator '{op}' incompatible with operand types "
                f"'{left.type}' and '{right.type}'"
            )


def _display(kind: str) -> str:
    return "Boolean?" if kind == "Boolean" else kind


def _compare(op: str, left: _Expr, right: _Expr) -> _Expr:
    kinds = {left.type, right.type}
    ordering = op in (">", "<", ">=", "<=")
    compatible = (len(kinds) == 1 or "Null" in kinds) and not (
        {"List"} & kinds or any(k not in _SCALARS for k in kinds)
    )
    if ordering and (kinds & {"Null", "Boolean", "Guid"}):
        compatible = False
    if not compatible:
        raise QueryError(
            f"Operator '{op}' incompatible with operand types "
            f"'{_display(left.type)}' and '{_display(right.type)}'"
        )
    fold = "String" in kinds

    def compare(document: dict) -> bool:
        a, b = left.get(document), right.get(document)
        if fold:
            a = a.lower() if isinstance(a, str) else a
            b = b.lower() if isinstance(b, str) else b
        if op in ("==", "="):
            return a == b
        if op in ("!=", "<>"):
            return a != b
        if a is None or b is None:
            return False
        return {
            ">": a > b,
            "<": a < b,
            ">=": a >= b,
            "<=": a <= b,
        }[op]

    return _Expr("Boolean", compare)


def compile_where(text: str, object_name: str) -> Callable[[dict], bool]:
    """A predicate over rendered documents of ``object_name`` (e.g. "Invoice")."""
    if not text.strip():
        return lambda document: True
    expr = _Parser(text, object_name).parse()
    return lambda document: bool(expr.get(document))


def compile_order(text: str, object_name: str) -> Callable[[list[dict]], list[dict]]:
    """Sorts by ``Field [ASC|DESC][, Field2 …]``, missing values last."""
    keys: list[tuple[_Expr, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words:
            raise QueryError("Expression expected")
        if len(words) > 2 or (
            len(words) == 2 and words[1].upper() not in ("ASC", "DESC")
        ):
            raise QueryError(f"Syntax error '{' '.join(words[1:])}'")
        parser = _Parser(words[0], object_name)
        expr = parser.postfix()
        if parser.peek().kind != "end":
            raise QueryError(f"Syntax error '{parser.peek().text}'")
        keys.append((expr, len(words) == 2 and words[1].upper() == "DESC"))

    def order(documents: list[dict]) -> list[dict]:
        result = list(documents)
        for expr, descending in reversed(keys):
            present = [d for d in result if expr.get(d) is not None]
            missing = [d for d in result if expr.get(d) is None]
            present.sort(key=lambda d, g=expr.get: _sortable(g(d)), reverse=descending)
            result = present + missing
        return result

    return order


def _sortable(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value
