"""Answer SOQL queries against a simulated org the way Salesforce would.

``run_query`` parses the text (``soql_parser``), checks every name and filter value
against the org's describe metadata, then filters, sorts and shapes the stored rows.
The checks matter as much as the results: a connector that builds a query Salesforce
would refuse (a quoted date, a misspelt field, a missing ``__r``) must fail here too,
with the same ``errorCode`` and a message worded like Salesforce's.

Conventions of the simulated org: every user works in GMT, weeks start on Sunday and
the fiscal year is the calendar year, so date literals such as ``THIS_WEEK`` or
``THIS_QUARTER`` are computed from ``today`` with those rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from integrations.sandbox.salesforce.soql_parser import (
    And,
    Comparison,
    Condition,
    CountCall,
    DateRange,
    FieldPath,
    FieldsCall,
    InList,
    Literal,
    Not,
    Or,
    Query,
    SemiJoin,
    SoqlError,
    SubQuery,
    located_error,
    parse,
    string_chars,
)

__all__ = ["CountResult", "SoqlError", "run_query"]

MAX_OFFSET = 2000
FIELDS_FUNCTION_MAX_LIMIT = 200

_TEXT_TYPES = {
    "id",
    "reference",
    "string",
    "textarea",
    "picklist",
    "multipicklist",
    "combobox",
    "email",
    "phone",
    "url",
    "encryptedstring",
}
_ID_TYPES = {"id", "reference"}
_NUMBER_TYPES = {"double", "currency", "percent", "int", "long"}
_ID_RE = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


class FieldMeta(Protocol):
    name: str
    type: str
    reference_to: tuple[str, ...]
    relationship_name: str | None


class ObjectMeta(Protocol):
    name: str
    queryable: bool
    fields: list[FieldMeta]

    def field(self, name: str) -> FieldMeta | None: ...
    def child_relationship(self, name: str) -> tuple[str, str] | None: ...
    def parent_relationship(self, name: str) -> FieldMeta | None: ...


class RecordSource(Protocol):
    """What the simulated org offers the query engine (lookups ignore case)."""

    def sobject(self, name: str) -> ObjectMeta | None: ...
    def rows(self, sobject_name: str, *, include_deleted: bool) -> Iterable[dict]: ...
    def get(self, sobject_name: str, record_id: str) -> dict | None: ...
    def record_url(
        self, sobject_name: str, record_id: str, version: str = ""
    ) -> str: ...


@dataclass(frozen=True)
class CountResult:
    """Answer to ``SELECT COUNT() ...``: Salesforce reports ``totalSize`` = count
    and no records, so the server turns this into ``{"totalSize": count,
    "done": true, "records": []}``."""

    count: int


def run_query(
    text: str,
    source: RecordSource,
    *,
    include_deleted: bool = False,
    today: date | None = None,
    api_version: str = "62.0",
) -> list[dict] | CountResult:
    """All records ``text`` selects from ``source``, in order, shaped like the REST
    API's ``records`` (the caller pages them); :class:`CountResult` for COUNT().

    ``include_deleted`` gives queryAll semantics. Raises :class:`SoqlError`.
    """
    query = parse(text)
    context = _Context(
        text=text,
        source=source,
        include_deleted=include_deleted,
        today=today or datetime.now(UTC).date(),
        api_version=api_version,
    )
    return _Compiler(context).top_level(query).run()


# -------------------------------------------------------------------------- helpers


@dataclass
class _Context:
    text: str
    source: RecordSource
    include_deleted: bool
    today: date
    api_version: str

    def __post_init__(self) -> None:
        self._parents: dict[tuple[str, str], tuple[str, dict] | None] = {}

    def error(self, code: str, pos: int, message: str) -> SoqlError:
        return located_error(code, self.text, pos, message)

    def parent(self, reference: FieldMeta, record_id: Any) -> tuple[str, dict] | None:
        """The record a reference field points at (deleted parents still resolve)."""
        if not record_id:
            return None
        key = (reference.reference_to, record_id)
        if key not in self._parents:
            found = None
            for target in reference.reference_to:
                record = self.source.get(target, record_id)
                if record is not None:
                    found = (self.source.sobject(target).name, record)
                    break
            self._parents[key] = found
        return self._parents[key]

    def attributes(self, sobject: str, record: dict) -> dict:
        return {
            "type": sobject,
            "url": self.source.record_url(
                sobject, record["Id"], version=self.api_version
            ),
        }


@dataclass(frozen=True)
class _Path:
    """A field path resolved against metadata: reference fields walked, then a field."""

    hops: tuple[FieldMeta, ...]
    field: FieldMeta

    @property
    def key(self) -> tuple[str, ...]:
        return (
            *(hop.relationship_name.lower() for hop in self.hops),
            self.field.name.lower(),
        )

    def value(self, row: dict, context: _Context) -> Any:
        for hop in self.hops:
            found = context.parent(hop, row.get(hop.name))
            if found is None:
                return None
            row = found[1]
        return row.get(self.field.name)


def _not_found_field(context: _Context, pos: int, name: str, entity: str) -> SoqlError:
    return context.error(
        "INVALID_FIELD",
        pos,
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use "
        "a custom field, be sure to append the '__c' after the custom field name. "
        "Please reference your WSDL or the describe call for the appropriate names.",
    )


def _type_label(field: FieldMeta) -> str:
    return "dateTime" if field.type == "datetime" else field.type


def _comparable(field: FieldMeta, value: Any) -> Any:
    """A stored value in a form that compares like Salesforce compares it."""
    if value is None or value == "":
        return None
    kind = field.type
    if kind in _ID_TYPES:
        return str(value)[:15]
    if kind in _TEXT_TYPES:
        return str(value).casefold()
    if kind in _NUMBER_TYPES:
        return float(value)
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if kind == "datetime":
        if isinstance(value, datetime):
            return value
        return datetime.fromisoformat(str(value))
    return value


def _sort_key(field: FieldMeta, value: Any) -> Any:
    """Picklists sort in their defined value order, as in Salesforce; the rest as
    they compare."""
    values = getattr(field, "picklist", ())
    if field.type == "picklist" and values and value:
        order = [v.casefold() for v in values]
        folded = str(value).casefold()
        return (0, order.index(folded), "") if folded in order else (1, 0, folded)
    return _comparable(field, value)


def _long_text_allowed(field: FieldMeta, flag: str) -> bool:
    """Long text areas (over 255 characters) can be neither filtered nor sorted."""
    explicit = getattr(field, flag, None)
    if explicit is not None:
        return bool(explicit)
    return field.type != "textarea" or getattr(field, "length", 0) <= 255


# ------------------------------------------------------------------------- compiler


class _Plan:
    """A checked query, ready to run against the rows of one object."""

    def __init__(self, context: _Context, meta: ObjectMeta) -> None:
        self.context = context
        self.meta = meta
        self.predicate: Callable[[dict], bool] = lambda row: True
        self.order: list[tuple[_Path, bool, bool]] = []
        self.limit: int | None = None
        self.offset: int = 0
        self.count_only = False
        self.outputs: list[_Path | _ChildPlan] = []  # in SELECT order

    def matching_rows(self) -> list[dict]:
        rows = self.context.source.rows(
            self.meta.name, include_deleted=self.context.include_deleted
        )
        return [row for row in rows if self.predicate(row)]

    def arrange(self, rows: list[dict]) -> list[dict]:
        """Sort (stable; nulls placed per item) then apply OFFSET and LIMIT."""
        for path, descending, nulls_last in reversed(self.order):
            keyed = [
                (_sort_key(path.field, path.value(r, self.context)), r) for r in rows
            ]
            present = [pair for pair in keyed if pair[0] is not None]
            absent = [pair[1] for pair in keyed if pair[0] is None]
            present.sort(key=lambda pair: pair[0], reverse=descending)
            ordered = [pair[1] for pair in present]
            rows = ordered + absent if nulls_last else absent + ordered
        rows = rows[self.offset :]
        return rows if self.limit is None else rows[: self.limit]

    def run(self) -> list[dict] | CountResult:
        rows = self.arrange(self.matching_rows())
        if self.count_only:
            return CountResult(len(rows))
        children = {
            id(child): child.rows_by_parent()
            for child in self.outputs
            if isinstance(child, _ChildPlan)
        }
        return [self.shape(row, children) for row in rows]

    def shape(self, row: dict, children: dict) -> dict:
        record: dict[str, Any] = {
            "attributes": self.context.attributes(self.meta.name, row)
        }
        for output in self.outputs:
            if isinstance(output, _Path):
                self._put(record, row, output.hops, output.field)
            else:
                grouped = children[id(output)]
                found = output.arrange(grouped.get(row["Id"][:15], []))
                record[output.key] = (
                    {
                        "totalSize": len(found),
                        "done": True,
                        "records": [output.shape(r, {}) for r in found],
                    }
                    if found
                    else None
                )
        return record

    def _put(self, out: dict, row: dict, hops: tuple, field: FieldMeta) -> None:
        if not hops:
            out[field.name] = row.get(field.name)
            return
        hop = hops[0]
        key = hop.relationship_name
        if key in out and out[key] is None:
            return
        found = self.context.parent(hop, row.get(hop.name))
        if found is None:
            out[key] = None
            return
        sobject, parent_row = found
        nested = out.setdefault(
            key, {"attributes": self.context.attributes(sobject, parent_row)}
        )
        self._put(nested, parent_row, hops[1:], field)


class _ChildPlan(_Plan):
    """A child-relationship subquery: rows grouped by the parent they point at."""

    def __init__(
        self, context: _Context, meta: ObjectMeta, key: str, link_field: str
    ) -> None:
        super().__init__(context, meta)
        self.key = key  # the relationship name, as described
        self.link_field = link_field

    def rows_by_parent(self) -> dict[str, list[dict]]:
        grouped: dict[str, list[dict]] = {}
        for row in self.matching_rows():
            parent_id = row.get(self.link_field)
            if parent_id:
                grouped.setdefault(parent_id[:15], []).append(row)
        return grouped


class _Compiler:
    def __init__(self, context: _Context) -> None:
        self.context = context

    # -- objects and paths

    def sobject(self, name: str, pos: int) -> ObjectMeta:
        meta = self.context.source.sobject(name)
        if meta is None:
            raise self.context.error(
                "INVALID_TYPE",
                pos,
                f"sObject type '{name}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. "
                "Please reference your WSDL or the describe call for the appropriate "
                "names.",
            )
        if not meta.queryable:
            raise self.context.error(
                "INVALID_TYPE", pos, f"entity type {meta.name} does not support query"
            )
        return meta

    def path(self, meta: ObjectMeta, path: FieldPath, alias: str | None) -> _Path:
        parts = list(path.parts)
        prefixes = {meta.name.lower(), (alias or "").lower()}
        if (
            len(parts) > 1
            and parts[0].lower() in prefixes
            and meta.parent_relationship(parts[0]) is None
        ):
            parts = parts[1:]  # "Account.Name FROM Account" or "a.Name FROM Account a"
        hops = []
        current = meta
        for name in parts[:-1]:
            reference = current.parent_relationship(name)
            if reference is None:
                raise self.context.error(
                    "INVALID_FIELD",
                    path.pos,
                    f"Didn't understand relationship '{name}' in field path. If you "
                    "are attempting to use a custom relationship, be sure to append "
                    "the '__r' after the custom relationship name. Please reference "
                    "your WSDL or the describe call for the appropriate names.",
                )
            hops.append(reference)
            targets = (self.context.source.sobject(t) for t in reference.reference_to)
            current = next(t for t in targets if t is not None)
        field = current.field(parts[-1])
        if field is None:
            raise _not_found_field(self.context, path.pos, parts[-1], current.name)
        return _Path(tuple(hops), field)

    # -- queries

    def top_level(self, query: Query) -> _Plan:
        meta = self.sobject(query.sobject, query.sobject_pos)
        plan = _Plan(self.context, meta)
        self.fill(plan, query)
        return plan

    def fill(self, plan: _Plan, query: Query) -> None:
        meta, alias = plan.meta, query.alias
        counts = [item for item in query.select if isinstance(item, CountCall)]
        if counts:
            if len(query.select) > 1:
                raise self.context.error(
                    "MALFORMED_QUERY",
                    counts[0].pos,
                    "COUNT() must be the only element in the SELECT list.",
                )
            plan.count_only = True
        seen: set[tuple[str, ...]] = set()
        for item in query.select:
            if isinstance(item, CountCall):
                continue
            if isinstance(item, SubQuery):  # the parser allows one level only
                plan.outputs.append(self.child(meta, item))
                continue
            paths = (
                self.fields_call(meta, item, query)
                if isinstance(item, FieldsCall)
                else [self.path(meta, item, alias)]
            )
            for resolved in paths:
                if resolved.key in seen:
                    raise self.context.error(
                        "MALFORMED_QUERY",
                        item.pos,
                        f"duplicate field selected: {resolved.field.name}",
                    )
                seen.add(resolved.key)
                plan.outputs.append(resolved)
        if query.where is not None:
            plan.predicate = self.condition(meta, query.where, alias)
        for item in query.order_by:
            resolved = self.path(meta, item.path, alias)
            if not _long_text_allowed(resolved.field, "sortable"):
                raise self.context.error(
                    "INVALID_FIELD",
                    item.path.pos,
                    f"field '{resolved.field.name}' can not be sorted in a query call",
                )
            plan.order.append((resolved, item.descending, item.nulls_last))
        if query.offset is not None and query.offset > MAX_OFFSET:
            raise self.context.error(
                "NUMBER_OUTSIDE_VALID_RANGE",
                query.offset_pos,
                f"Maximum SOQL offset allowed is {MAX_OFFSET}",
            )
        plan.limit = query.limit
        plan.offset = query.offset or 0

    def fields_call(
        self, meta: ObjectMeta, item: FieldsCall, query: Query
    ) -> list[_Path]:
        """``FIELDS(...)`` expands to the object's fields in describe order."""
        if float(self.context.api_version) < 51.0:  # FIELDS() arrived in v51.0
            raise self.context.error(
                "MALFORMED_QUERY", item.pos, "unexpected token: 'FIELDS'"
            )
        if item.which != "STANDARD" and (
            query.limit is None or query.limit > FIELDS_FUNCTION_MAX_LIMIT
        ):
            raise self.context.error(
                "MALFORMED_QUERY",
                item.pos,
                "The SOQL FIELDS function must have a LIMIT of at most "
                f"{FIELDS_FUNCTION_MAX_LIMIT}",
            )
        wanted = {
            "ALL": lambda name: True,
            "CUSTOM": lambda name: name.endswith("__c"),
            "STANDARD": lambda name: not name.endswith("__c"),
        }[item.which]
        return [_Path((), f) for f in meta.fields if wanted(f.name)]

    def child(self, meta: ObjectMeta, item: SubQuery) -> _ChildPlan:
        query = item.query
        relationship = meta.child_relationship(query.sobject)
        if relationship is None:
            raise self.context.error(
                "INVALID_TYPE",
                query.sobject_pos,
                f"Didn't understand relationship '{query.sobject}' in FROM part of "
                "query call. If you are attempting to use a custom relationship, be "
                "sure to append the '__r' after the custom relationship name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        child_name, link_field = relationship[0], relationship[1]
        key = _canonical_child_name(meta, query.sobject)
        child_meta = self.sobject(child_name, query.sobject_pos)
        plan = _ChildPlan(
            self.context, child_meta, key, child_meta.field(link_field).name
        )
        self.fill(plan, query)
        if plan.count_only:
            raise self.context.error(
                "MALFORMED_QUERY", item.pos, "COUNT() is not allowed in a subquery."
            )
        return plan

    # -- conditions

    def condition(
        self, meta: ObjectMeta, cond: Condition, alias: str | None
    ) -> Callable[[dict], bool]:
        if isinstance(cond, And):
            parts = [self.condition(meta, part, alias) for part in cond.parts]
            return lambda row: all(part(row) for part in parts)
        if isinstance(cond, Or):
            parts = [self.condition(meta, part, alias) for part in cond.parts]
            return lambda row: any(part(row) for part in parts)
        if isinstance(cond, Not):
            inner = self.condition(meta, cond.part, alias)
            return lambda row: not inner(row)
        if isinstance(cond, SemiJoin):
            return self.semi_join(meta, cond, alias)
        path = self.path(meta, cond.path, alias)
        if not _long_text_allowed(path.field, "filterable"):
            raise self.context.error(
                "INVALID_FIELD",
                cond.path.pos,
                f"field '{path.field.name}' can not be filtered in a query call",
            )
        context = self.context
        if isinstance(cond, Comparison):
            test = self.comparison(path.field, cond.op, cond.value, cond.pos)
            return lambda row: test(_comparable(path.field, path.value(row, context)))
        return self.in_list(path, cond)

    def in_list(self, path: _Path, cond: InList) -> Callable[[dict], bool]:
        context, field = self.context, path.field
        if cond.op in ("INCLUDES", "EXCLUDES"):
            if field.type != "multipicklist":
                raise context.error(
                    "INVALID_FIELD",
                    cond.pos,
                    f"{cond.op} can only be used with multi-select picklist fields, "
                    f"and '{field.name}' is a {field.type} field",
                )
            wanted = [self._multi_value(field, value) for value in cond.values]

            def includes(row: dict) -> bool:
                raw = path.value(row, context)
                chosen = {v.strip().casefold() for v in (raw or "").split(";") if v}
                return any(group <= chosen for group in wanted)

            if cond.op == "INCLUDES":
                return includes
            return lambda row: not includes(row)
        tests = [self.comparison(field, "=", value, cond.pos) for value in cond.values]

        def member(row: dict) -> bool:
            value = _comparable(field, path.value(row, context))
            return any(test(value) for test in tests)

        if cond.op == "IN":
            return member
        return lambda row: not member(row)

    def _multi_value(self, field: FieldMeta, value: Literal | DateRange) -> set[str]:
        if not (isinstance(value, Literal) and value.kind == "string"):
            raise self._wrong_type(field, value)
        return {v.strip().casefold() for v in str(value.value).split(";") if v.strip()}

    def semi_join(
        self, meta: ObjectMeta, cond: SemiJoin, alias: str | None
    ) -> Callable[[dict], bool]:
        """``Id IN (SELECT AccountId FROM Opportunity ...)``: the inner query's ids."""
        outer = self.path(meta, cond.path, alias)
        if outer.field.type not in _ID_TYPES:
            raise self.context.error(
                "INVALID_FIELD",
                cond.path.pos,
                f"The field '{outer.field.name}' must be an Id or a reference field "
                "to be compared with a semi-join subquery",
            )
        inner_query = cond.query
        inner_meta = self.sobject(inner_query.sobject, inner_query.sobject_pos)
        items = inner_query.select
        if len(items) != 1 or not isinstance(items[0], FieldPath):
            raise self.context.error(
                "MALFORMED_QUERY",
                inner_query.sobject_pos,
                "A semi-join subquery must select exactly one Id or reference field",
            )
        inner_path = self.path(inner_meta, items[0], inner_query.alias)
        if inner_path.field.type not in _ID_TYPES:
            raise self.context.error(
                "INVALID_FIELD",
                items[0].pos,
                f"The selected field '{inner_path.field.name}' in a semi-join subquery "
                "must be an Id or a reference field",
            )
        plan = _Plan(self.context, inner_meta)
        if inner_query.where is not None:
            plan.predicate = self.condition(
                inner_meta, inner_query.where, inner_query.alias
            )
        context = self.context
        ids: set[str] | None = None

        def member(row: dict) -> bool:
            nonlocal ids
            if ids is None:
                found = (inner_path.value(r, context) for r in plan.matching_rows())
                ids = {v[:15] for v in found if v}
            value = outer.value(row, context)
            return bool(value) and value[:15] in ids

        if cond.negated:
            return lambda row: not member(row)
        return member

    def comparison(
        self, field: FieldMeta, op: str, value: Literal | DateRange, pos: int
    ) -> Callable[[Any], bool]:
        """A test on a comparable stored value, once ``value`` is known to fit."""
        if isinstance(value, Literal) and value.kind == "null":
            if op == "=":
                return lambda stored: stored is None
            if op == "!=":
                return lambda stored: stored is not None
            raise self.context.error(
                "MALFORMED_QUERY",
                value.pos,
                f"null can only be compared with = or != (field '{field.name}' "
                f"uses {op})",
            )
        if op == "LIKE":
            return self.like(field, value, pos)
        if field.type in _TEXT_TYPES and _is_empty_string(value):
            # Salesforce stores empty text as null, so '' filters like null does.
            return {
                "=": lambda stored: stored is None,
                "!=": lambda stored: stored is not None,
            }.get(op, lambda stored: False)
        low, high = self.bounds(field, value)
        tests: dict[str, Callable[[Any], bool]] = {
            "=": lambda v: v is not None and low <= v <= high,
            "!=": lambda v: v is None or not (low <= v <= high),
            "<": lambda v: v is not None and v < low,
            ">": lambda v: v is not None and v > high,
            "<=": lambda v: v is not None and v <= high,
            ">=": lambda v: v is not None and v >= low,
        }
        return tests[op]

    def like(
        self, field: FieldMeta, value: Literal | DateRange, pos: int
    ) -> Callable[[Any], bool]:
        if field.type in _ID_TYPES or field.type not in _TEXT_TYPES:
            label = "id" if field.type in _ID_TYPES else _type_label(field)
            raise self.context.error(
                "INVALID_QUERY_FILTER_OPERATOR",
                pos,
                f"invalid operator on {label} field '{field.name}'",
            )
        if not (isinstance(value, Literal) and value.kind == "string"):
            raise self._wrong_type(field, value)
        pattern = "".join(
            ".*"
            if char == "%" and not escaped
            else "."
            if char == "_" and not escaped
            else re.escape(char)
            for char, escaped in string_chars(value.raw)
        )
        compiled = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        return lambda stored: stored is not None and bool(compiled.fullmatch(stored))

    def bounds(self, field: FieldMeta, value: Literal | DateRange) -> tuple[Any, Any]:
        """The literal as an inclusive [low, high] range in the field's domain."""
        kind = field.type
        if kind in _TEXT_TYPES:
            if not (isinstance(value, Literal) and value.kind == "string"):
                raise self._wrong_type(field, value)
            text = str(value.value)
            if kind in _ID_TYPES and not _ID_RE.fullmatch(text):
                raise self.context.error(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    value.pos,
                    f"invalid ID field: {text}",
                )
            point = _comparable(field, text)
            return point, point
        if kind in _NUMBER_TYPES:
            if not (isinstance(value, Literal) and value.kind == "number"):
                raise self._wrong_type(field, value)
            return float(value.value), float(value.value)
        if kind == "boolean":
            if not (isinstance(value, Literal) and value.kind == "boolean"):
                raise self._wrong_type(field, value)
            return value.value, value.value
        if kind == "date":
            if isinstance(value, DateRange):
                return _date_range(value, self.context.today)
            if isinstance(value, Literal) and value.kind == "date":
                return value.value, value.value
            raise self._wrong_type(field, value)
        if kind == "datetime":
            if isinstance(value, DateRange):
                start, end = _date_range(value, self.context.today)
                low = datetime.combine(start, time.min, UTC)
                high = datetime.combine(end, time.max, UTC)
                return low, high
            if isinstance(value, Literal) and value.kind == "datetime":
                return value.value, value.value
            raise self._wrong_type(field, value)
        raise self.context.error(
            "INVALID_FIELD",
            value.pos,
            f"field '{field.name}' of type {field.type} can not be filtered here",
        )

    def _wrong_type(self, field: FieldMeta, value: Literal | DateRange) -> SoqlError:
        """Salesforce's wording (and code) for a filter value of the wrong type."""
        if field.type in _TEXT_TYPES:
            expected, advice = "string", "should be enclosed in quotes"
        else:
            expected, advice = _type_label(field), "should not be enclosed in quotes"
        return self.context.error(
            "INVALID_FIELD",
            value.pos,
            f"value of filter criterion for field '{field.name}' must be of type "
            f"{expected} and {advice}",
        )


def _is_empty_string(value: Any) -> bool:
    return isinstance(value, Literal) and value.kind == "string" and value.value == ""


def _canonical_child_name(meta: ObjectMeta, written: str) -> str:
    """The relationship name as described (``Contacts``), whatever case was written."""
    for child in getattr(meta, "children", ()):
        name = getattr(child, "relationship_name", None)
        if name and name.lower() == written.lower():
            return name
    return written


# -------------------------------------------------------------------- date literals


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _date_range(literal: DateRange, today: date) -> tuple[date, date]:
    """First and last day covered by a relative date literal."""
    name, n = literal.name, literal.n or 0
    day = timedelta(days=1)
    week = today - timedelta(days=(today.weekday() + 1) % 7)  # Sunday
    month = today.replace(day=1)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year = date(today.year, 1, 1)

    def months(start: date, count: int) -> tuple[date, date]:
        return start, _add_months(start, count) - day

    ranges: dict[str, Callable[[], tuple[date, date]]] = {
        "TODAY": lambda: (today, today),
        "YESTERDAY": lambda: (today - day, today - day),
        "TOMORROW": lambda: (today + day, today + day),
        "THIS_WEEK": lambda: (week, week + 6 * day),
        "LAST_WEEK": lambda: (week - 7 * day, week - day),
        "NEXT_WEEK": lambda: (week + 7 * day, week + 13 * day),
        "THIS_MONTH": lambda: months(month, 1),
        "LAST_MONTH": lambda: months(_add_months(month, -1), 1),
        "NEXT_MONTH": lambda: months(_add_months(month, 1), 1),
        "LAST_90_DAYS": lambda: (today - 90 * day, today),
        "NEXT_90_DAYS": lambda: (today + day, today + 90 * day),
        "THIS_QUARTER": lambda: months(quarter, 3),
        "LAST_QUARTER": lambda: months(_add_months(quarter, -3), 3),
        "NEXT_QUARTER": lambda: months(_add_months(quarter, 3), 3),
        "THIS_YEAR": lambda: months(year, 12),
        "LAST_YEAR": lambda: months(_add_months(year, -12), 12),
        "NEXT_YEAR": lambda: months(_add_months(year, 12), 12),
        "LAST_N_DAYS": lambda: (today - n * day, today),
        "NEXT_N_DAYS": lambda: (today + day, today + n * day),
        "N_DAYS_AGO": lambda: (today - n * day, today - n * day),
        "LAST_N_WEEKS": lambda: (week - 7 * n * day, week - day),
        "NEXT_N_WEEKS": lambda: (week + 7 * day, week + (7 * n + 6) * day),
        "LAST_N_MONTHS": lambda: months(_add_months(month, -n), n),
        "NEXT_N_MONTHS": lambda: months(_add_months(month, 1), n),
        "LAST_N_QUARTERS": lambda: months(_add_months(quarter, -3 * n), 3 * n),
        "NEXT_N_QUARTERS": lambda: months(_add_months(quarter, 3), 3 * n),
        "LAST_N_YEARS": lambda: months(_add_months(year, -12 * n), 12 * n),
        "NEXT_N_YEARS": lambda: months(_add_months(year, 12), 12 * n),
    }
    return ranges[name]()
