"""Suggestions an admin accepts with one click, each with its reasons.

Three kinds, all read from what is already there:

- **Unknown codes**: records that failed because a code (an item, a customer,
  a warehouse) does not exist in the target. Suggested: the target's own codes
  whose code or description is alike, and the targets of existing
  cross-references for similar codes. Accepting adds the cross-reference; the
  records waiting for it can then be resubmitted.
- **Fields not mapped yet**: source fields seen in recent payloads that no
  field mapping reads, matched to target fields by name and sample values.
- **Possible duplicates**: the candidate pairs a flow could not decide between,
  with the matcher's score and reasons; a person says "same" (merge: a match
  decision and a customer cross-reference) or "different" (keep apart), and the
  flows honour it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from rapidfuzz import fuzz, process

from integrations.engine.errors import SyncError
from integrations.models import (
    Connection,
    CrossReference,
    ErrorCategory,
    FieldMapping,
    FlowConfig,
    MatchDecision,
    RecordStatus,
    SyncRecord,
    System,
    XrefKind,
)
from integrations.services import fixes, records

MAX_OPTIONS = 5
MIN_SCORE = 0.5  # below this a suggestion is noise, not help
CATALOG_SECONDS = 300  # the target's codes are read at most every five minutes
RECENT_RECORDS = 50  # payloads looked at per flow for unmapped fields
PICKERS_SECONDS = 300  # a flow's target fields are asked for at most every 5 min
RECORD_LIMIT = 500  # records needing attention read per list: the newest
# What the lists read of a record: not its attempts' history, not its search text.
RECORD_FIELDS = (
    "id",
    "flow",
    "flow_config",
    "status",
    "attempts",
    "source_object_type",
    "source_id",
    "error_category",
    "error_field",
    "error_message",
    "payload",
    "payload_override",
    "transformed",
    "step_state",
    "created_at",
)
NAME_KEYS = ("name", "description", "product_name", "Name", "Description")


# -- shared ----------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One suggested value, best first; ``reasons`` say why in words."""

    value: str
    score: float  # 0..1
    reasons: tuple[str, ...]
    label: str = ""  # e.g. the item's description

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def _pct(ratio: float) -> str:
    return f"{round(ratio * 100)}%"


def _rank(found: dict[str, dict]) -> list[Option]:
    """Combine each value's signals: the best one counts, every further signal
    of 60% or more adds a little (two weak hints beat one)."""
    options = []
    for value, facts in found.items():
        signals = sorted(facts["signals"], reverse=True)
        if not signals or signals[0] < MIN_SCORE:
            continue
        bonus = 0.03 * sum(1 for s in signals[1:] if s >= 0.6)
        options.append(
            Option(
                value=value,
                score=round(min(1.0, signals[0] + bonus), 2),
                reasons=tuple(dict.fromkeys(facts["reasons"])),
                label=facts.get("label", ""),
            )
        )
    options.sort(key=lambda o: (-o.score, o.value))
    return options[:MAX_OPTIONS]


class Found(list):
    """Findings, and whether only the ``limit`` newest records were read (the
    page says so: the rest show once these are dealt with)."""

    def __init__(
        self, items: Iterable = (), *, limited: bool = False, limit: int = 0
    ) -> None:
        super().__init__(items)
        self.limited = limited
        self.limit = limit


def _newest(queryset, limit: int | None) -> tuple[list[SyncRecord], bool, int]:
    """The ``limit`` (default ``RECORD_LIMIT``) newest records of ``queryset``,
    oldest first, whether there were more, and the limit."""
    limit = limit or RECORD_LIMIT
    rows = list(
        queryset.only(*RECORD_FIELDS).order_by("-created_at", "-pk")[: limit + 1]
    )
    return list(reversed(rows[:limit])), len(rows) > limit, limit


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# -- unknown codes ------------------------------------------------------------------


@dataclass(frozen=True)
class TargetCode:
    code: str
    name: str = ""


Catalog = Callable[[Connection, str], list[TargetCode]]

_SAGE_QUERIES = {
    "item": (
        "CI_Item",
        "SELECT ItemCode, ItemCodeDesc, InactiveItem FROM CI_Item",
        lambda row: (
            None
            if (row.get("InactiveItem") or "N") == "Y"
            else TargetCode(row["ItemCode"], row.get("ItemCodeDesc") or "")
        ),
    ),
    "customer": (
        "AR_Customer",
        "SELECT ARDivisionNo, CustomerNo, CustomerName FROM AR_Customer",
        lambda row: TargetCode(
            f"{row['ARDivisionNo']}-{row['CustomerNo']}", row.get("CustomerName") or ""
        ),
    ),
    "warehouse": (
        "IM_Warehouse",
        "SELECT WarehouseCode, WarehouseDesc FROM IM_Warehouse",
        lambda row: TargetCode(row["WarehouseCode"], row.get("WarehouseDesc") or ""),
    ),
}


def sage_catalog(connection: Connection, kind: str) -> list[TargetCode]:
    """The Sage 100 codes of ``kind`` (active items, customers, warehouses)."""
    from integrations.engine import clients

    if connection.system != System.SAGE100 or kind not in _SAGE_QUERIES:
        return []
    table, sql, make = _SAGE_QUERIES[kind]
    reader = clients.build(connection).reader
    return [code for code in map(make, reader.select(table, sql, [])) if code]


def cached_catalog(connection: Connection, kind: str) -> list[TargetCode]:
    """``sage_catalog``, read at most every five minutes per connection and kind:
    the suggestions page must not read a whole item file on every visit."""
    key = f"suggestions:catalog:{connection.pk}:{kind}"
    found = cache.get(key)
    if found is None:
        found = sage_catalog(connection, kind)
        cache.set(key, found, CATALOG_SECONDS)
    return found


@dataclass
class UnknownCode:
    kind: str
    source_connection: Connection
    target_connection: Connection
    value: str
    source_name: str = ""  # what the source calls it, e.g. the product's name
    record_ids: list[int] = field(default_factory=list)
    message: str = ""  # the first record's error
    options: list[Option] = field(default_factory=list)
    catalog_problem: str = ""  # why the target's codes could not be read

    @property
    def reasons(self) -> str:
        return f"used in {_plural(len(self.record_ids), 'failed record')}"

    @property
    def kind_words(self) -> str:
        return fixes.KIND_WORDS.get(self.kind, self.kind.replace("_", " "))


def unknown_code_of(record: SyncRecord) -> tuple[str, str, str] | None:
    """``(kind, code, source name)`` a referential error is about, or None.

    The field path's last part says the kind (``lines.0.item`` → item); the
    code is at that path in the transformed document or the payload, else
    named in the message ("Item WIDGET-9 does not exist").
    """
    if record.error_category != ErrorCategory.REFERENTIAL:
        return None
    path = record.error_field or ""
    if path.startswith("options.") or path == "record_ids":
        return None
    kind = fixes.XREF_KIND_BY_FIELD.get(path.rsplit(".", 1)[-1].lower(), "")
    if not kind or (kind == "customer" and path.startswith("account")):
        return None  # an account's customer is a duplicate question, not a code
    documents = [record.transformed, record.effective_payload, record.step_state]
    for document in documents:
        value = _lookup(document, path)
        if isinstance(value, str | int) and str(value).strip():
            return kind, str(value).strip(), _sibling_name(document, path)
    found = re.search(
        rf"\b{kind} (\S+?):? does not exist", record.error_message or "", re.I
    )
    return (kind, found.group(1), "") if found else None


def _lookup(document: Any, path: str) -> Any:
    value = document
    for part in path.split(".") if path else []:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _sibling_name(document: Any, path: str) -> str:
    parent_path, _, _ = path.rpartition(".")
    parent = _lookup(document, parent_path) if parent_path else document
    if isinstance(parent, dict):
        for key in NAME_KEYS:
            if isinstance(parent.get(key), str) and parent[key].strip():
                return parent[key].strip()
    return ""


def waiting_records(
    kind: str,
    source_connection_id: int,
    target_connection_id: int,
    value: str,
    *,
    limit: int | None = None,
) -> Found:
    """Records needing attention because ``value`` of ``kind`` is unknown, among
    the ``limit`` newest that failed on a missing code between the two."""
    candidates, limited, limit = _newest(
        SyncRecord.objects.filter(
            status=RecordStatus.NEEDS_ATTENTION,
            error_category=ErrorCategory.REFERENTIAL,
            flow_config__source_connection_id=source_connection_id,
            flow_config__target_connection_id=target_connection_id,
        ).select_related("flow_config"),
        limit,
    )
    return Found(
        (
            r
            for r in candidates
            if (unknown_code_of(r) or ("", "", ""))[:2] == (kind, value)
        ),
        limited=limited,
        limit=limit,
    )


def unknown_codes(
    *, catalog: Catalog = cached_catalog, limit: int | None = None
) -> Found:
    """Every unknown code behind the ``limit`` newest failed records, most-used
    first, each with ranked suggestions."""
    found: dict[tuple, UnknownCode] = {}
    failed, limited, limit = _newest(
        SyncRecord.objects.filter(
            status=RecordStatus.NEEDS_ATTENTION,
            error_category=ErrorCategory.REFERENTIAL,
        ).select_related(
            "flow_config__source_connection", "flow_config__target_connection"
        ),
        limit,
    )
    for record in failed:
        code = unknown_code_of(record)
        config = record.flow_config
        if code is None or config.target_connection is None:
            continue
        kind, value, name = code
        key = (kind, config.source_connection_id, config.target_connection_id, value)
        if key not in found:
            found[key] = UnknownCode(
                kind=kind,
                source_connection=config.source_connection,
                target_connection=config.target_connection,
                value=value,
                source_name=name,
                message=record.error_message,
            )
        found[key].record_ids.append(record.pk)
        found[key].source_name = found[key].source_name or name
    codes = sorted(found.values(), key=lambda c: (-len(c.record_ids), c.kind, c.value))
    for code in codes:
        try:
            known = catalog(code.target_connection, code.kind)
        except (SyncError, LookupError, OSError, ValueError) as exc:
            known = []
            code.catalog_problem = (
                f"The {code.target_connection.get_system_display()} {code.kind_words}s "
                f"could not be read ({exc}); only cross-references are compared."
            )
        code.options = code_options(code, known)
    return Found(codes, limited=limited, limit=limit)


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def code_options(code: UnknownCode, known: list[TargetCode]) -> list[Option]:
    """Ranked target values for ``code``: target codes alike in code or in
    name, and targets of cross-references for alike source codes."""
    found: dict[str, dict] = defaultdict(lambda: {"signals": [], "reasons": []})
    wanted = _plain(code.value)
    by_code = {_plain(t.code): t for t in known}
    for match, ratio, _ in process.extract(
        wanted, list(by_code), scorer=fuzz.ratio, limit=MAX_OPTIONS * 2
    ):
        target = by_code[match]
        facts = found[target.code]
        facts["signals"].append(ratio / 100)
        facts["reasons"].append(f"code {_pct(ratio / 100)} like {code.value}")
        facts["label"] = target.name
    if code.source_name:
        by_name = {t.code: _plain(t.name) for t in known if t.name}
        for target_code, ratio in _extract_by_value(
            _plain(code.source_name), by_name, scorer=fuzz.token_set_ratio
        ):
            target = next(t for t in known if t.code == target_code)
            facts = found[target.code]
            facts["signals"].append(ratio / 100)
            facts["reasons"].append(
                f"name {_pct(ratio / 100)} like “{code.source_name}” ({target.name})"
            )
            facts["label"] = target.name
    existing = CrossReference.objects.filter(
        kind=code.kind,
        source_connection=code.source_connection,
        target_connection=code.target_connection,
    ).values_list("source_value", "target_value")
    by_source = dict(existing)
    if by_source:
        plain_sources = {source: _plain(source) for source in by_source}
        for source, ratio in _extract_by_value(
            wanted, plain_sources, scorer=fuzz.ratio
        ):
            target = by_source[source]
            facts = found[target]
            facts["signals"].append(ratio / 100 * 0.95)  # a hint, not a fact
            facts["reasons"].append(
                f"the cross-reference for {source} (code {_pct(ratio / 100)} "
                f"like {code.value}) points to it"
            )
            facts.setdefault("label", "")
    return _rank(found)


def _extract_by_value(
    query: str, choices: dict[str, str], *, scorer
) -> list[tuple[str, float]]:
    """The keys of ``{key: text}`` whose text is most like ``query``, with the
    score 0..100 (rapidfuzz yields ``(text, score, key)`` for a dict)."""
    found = process.extract(query, choices, scorer=scorer, limit=MAX_OPTIONS * 2)
    return [(key, ratio) for _, ratio, key in found]


@transaction.atomic
def accept_code(
    *,
    kind: str,
    source_connection: Connection,
    target_connection: Connection,
    source_value: str,
    target_value: str,
    actor=None,
    reasons: str = "",
) -> CrossReference:
    """Add the cross-reference (or point an existing one at ``target_value``).

    ``kind`` must be a kind of cross-reference (or one the flows record
    themselves): a form posts it, and a made-up kind would add a row no flow
    ever reads.
    """
    from django.core.exceptions import ValidationError

    from integrations.services import xref_import

    if kind not in xref_import.known_kinds():
        raise ValidationError(
            {
                "kind": f"The kind “{kind}” is not a kind of cross-reference: use "
                f"one of {', '.join(XrefKind.values)}."
            }
        )
    value, problem = xref_import.plausible(kind, target_connection, target_value)
    if problem or not source_value.strip():
        raise ValidationError({"target_value": problem or "The source value is empty."})
    xref = CrossReference.objects.filter(
        kind=kind,
        source_connection=source_connection,
        target_connection=target_connection,
        source_value=source_value,
    ).first() or CrossReference(
        kind=kind,
        source_connection=source_connection,
        target_connection=target_connection,
        source_value=source_value,
    )
    xref.target_value = value
    xref.note = f"Suggested: {reasons}"[:255] if reasons else xref.note
    xref._history_user = actor
    xref._change_reason = "Accepted a suggestion"
    xref.save()
    return xref


def resubmit_waiting(xref: CrossReference, *, actor=None) -> list[records.Outcome]:
    """Resubmit the records that failed for want of ``xref``."""
    waiting = waiting_records(
        xref.kind,
        xref.source_connection_id,
        xref.target_connection_id,
        xref.source_value,
    )
    return records.resubmit_many(waiting, actor=actor)


# -- fields not mapped yet ------------------------------------------------------------


@dataclass
class UnmappedField:
    flow_config: FlowConfig
    source_field: str
    samples: list[str]
    seen_in: int  # how many of the recent payloads have it
    looked_at: int
    options: list[Option] = field(default_factory=list)

    @property
    def reasons(self) -> str:
        return f"in {self.seen_in} of the last {_plural(self.looked_at, 'record')}"


def _paths(document: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Dotted paths of a document's values; lists by their first element."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _paths(value, f"{prefix}{key}.")
    elif isinstance(document, list):
        if document:
            yield from _paths(document[0], f"{prefix}0.")
    elif prefix:
        yield prefix[:-1], document


def _words(name: str) -> str:
    """``Sage_Order_No__c`` / ``customerPO`` / ``UDF_SF_ID`` → comparable words."""
    name = re.sub(r"__c$|^udf_", "", name.rsplit(".", 1)[-1], flags=re.I)
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return _plain(name.replace("_", " "))


def target_fields(config: FlowConfig, recent: list[SyncRecord]) -> dict[str, list[str]]:
    """The fields a mapping of this flow may write, with sample values.

    The names come from the mapping editor's pickers (``services.schemas``: the
    target system's real fields, or what recent records carry), else from the
    flow's documented payload; the samples from recent transformed documents.
    """
    fields: dict[str, list[str]] = defaultdict(list)
    try:
        for scope in cached_pickers(config)["scopes"]:
            for target in scope["target"]:
                fields[target["name"]]
    except (ImportError, SyncError, LookupError, OSError, ValueError):
        fields.clear()
    from_schema = bool(fields)
    if not fields:
        schema = records.payload_schema(
            SyncRecord(flow_config=config, flow=config.flow)
        )
        for path, _ in _paths(_schema_skeleton(schema or {})):
            fields[path]
    for record in recent:
        for path, value in _paths(record.transformed or {}):
            if from_schema and path not in fields:
                continue  # the document's own keys are not all mapping targets
            if value not in (None, "") and len(fields[path]) < 3:
                fields[path].append(str(value))
    return dict(fields)


def cached_pickers(config: FlowConfig) -> dict:
    """``schemas.pickers`` of the flow, asked at most every five minutes: it may
    ask the target system (Sage 100's UDF columns, a Salesforce describe), and
    the suggestions page must not do that for every flow on every visit. A
    saved change to the flow asks afresh."""
    from integrations.services import schemas

    stamp = config.updated_at.isoformat() if config.updated_at else ""
    key = f"suggestions:pickers:{config.pk}:{stamp}"
    found = cache.get(key)
    if found is None:
        found = schemas.pickers(config)
        cache.set(key, found, PICKERS_SECONDS)
    return found


def _schema_skeleton(schema: dict) -> Any:
    """A document with every property of a JSON schema, values None."""
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: _schema_skeleton(sub)
            for name, sub in (schema.get("properties") or {}).items()
        }
    if kind == "array" and isinstance(schema.get("items"), dict):
        return [_schema_skeleton(schema["items"])]
    return None


def unmapped_fields(*, per_flow: int = RECENT_RECORDS) -> list[UnmappedField]:
    """Source fields recent payloads carry that no mapping reads, for flows that
    use mappings (a flow without any passes its payload through whole)."""
    found: list[UnmappedField] = []
    configs = FlowConfig.objects.filter(enabled=True, mappings__enabled=True).distinct()
    for config in configs:
        mapped = config.mappings.all()
        sources = {m.source_field for m in mapped if m.source_field}
        targeted = {m.target_field for m in mapped}
        recent = list(
            config.records.only(*RECORD_FIELDS).order_by("-created_at")[:per_flow]
        )
        if not recent:
            continue
        seen: Counter[str] = Counter()
        samples: dict[str, list[str]] = defaultdict(list)
        for record in recent:
            for path, value in _paths(record.effective_payload or {}):
                seen[path] += 1
                if value not in (None, "") and len(samples[path]) < 3:
                    samples[path].append(str(value))
        targets = {
            name: values
            for name, values in target_fields(config, recent).items()
            if name not in targeted
        }
        for path in sorted(seen):
            if path in sources or not samples[path]:
                continue
            item = UnmappedField(
                flow_config=config,
                source_field=path,
                samples=samples[path],
                seen_in=seen[path],
                looked_at=len(recent),
            )
            item.options = field_options(path, samples[path], targets)
            found.append(item)
    found.sort(key=lambda f: (-(f.options[0].score if f.options else 0), -f.seen_in))
    return found


def field_options(
    source_field: str, samples: list[str], targets: dict[str, list[str]]
) -> list[Option]:
    """Target fields alike in name, or holding the same sample values."""
    found: dict[str, dict] = defaultdict(lambda: {"signals": [], "reasons": []})
    words = _words(source_field)
    for target, values in targets.items():
        ratio = fuzz.token_set_ratio(words, _words(target)) / 100 if words else 0
        if ratio >= MIN_SCORE:
            found[target]["signals"].append(ratio)
            found[target]["reasons"].append(f"name {_pct(ratio)} like {source_field}")
        shared = [s for s in samples if s in values]
        if shared:
            found[target]["signals"].append(0.85)
            found[target]["reasons"].append(f"same sample value “{shared[0]}”")
    return _rank(found)


@transaction.atomic
def accept_field(
    config: FlowConfig, source_field: str, target_field: str, *, actor=None
) -> FieldMapping:
    """Map ``source_field`` to ``target_field``, after the flow's other mappings."""
    from django.core.exceptions import ValidationError

    if config.mappings.filter(target_field=target_field).exists():
        raise ValidationError(
            {"target_field": f"{target_field} is already written by another mapping."}
        )
    last = config.mappings.aggregate(last=Max("position"))["last"]
    mapping = FieldMapping(
        flow_config=config,
        position=0 if last is None else last + 1,
        source_field=source_field,
        target_field=target_field,
    )
    mapping._history_user = actor
    mapping._change_reason = "Accepted a suggestion"
    mapping.save()
    return mapping


# -- possible duplicates ------------------------------------------------------------

_CANDIDATE = re.compile(r"([\w-]+) \((\d+)%(?::\s*([^)]*))?\)")


@dataclass(frozen=True)
class Pair:
    record_id: int
    kind: str
    source_connection: Connection
    target_connection: Connection
    source_value: str  # e.g. the Salesforce account id
    source_label: str  # e.g. the account's name
    target_value: str  # e.g. 01-ABF
    score: float | None
    reasons: tuple[str, ...]

    @property
    def percent(self) -> int | None:
        return None if self.score is None else round(self.score * 100)


def duplicate_pairs(*, limit: int | None = None) -> Found:
    """Candidate pairs from the ``limit`` newest records the matcher could not
    decide, best first, leaving out pairs a person already judged."""
    decided = set(
        MatchDecision.objects.values_list(
            "kind",
            "source_connection_id",
            "target_connection_id",
            "source_value",
            "target_value",
        )
    )
    pairs = []
    stuck, limited, limit = _newest(
        SyncRecord.objects.filter(
            status=RecordStatus.NEEDS_ATTENTION,
            error_category=ErrorCategory.DUPLICATE,
        ).select_related(
            "flow_config__source_connection", "flow_config__target_connection"
        ),
        limit,
    )
    for record in stuck:
        config = record.flow_config
        if config.target_connection is None:
            continue
        source_value = _duplicate_source(record)
        label = str(_lookup(record.transformed, "account.name") or source_value)
        for key, percent, reasons in _CANDIDATE.findall(record.error_message or ""):
            pair_key = (
                "customer",
                config.source_connection_id,
                config.target_connection_id,
                source_value,
                key,
            )
            if pair_key in decided:
                continue
            decided.add(pair_key)  # the same pair in two records: shown once
            pairs.append(
                Pair(
                    record_id=record.pk,
                    kind="customer",
                    source_connection=config.source_connection,
                    target_connection=config.target_connection,
                    source_value=source_value,
                    source_label=label,
                    target_value=key,
                    score=int(percent) / 100,
                    reasons=tuple(r.strip() for r in reasons.split(",") if r.strip()),
                )
            )
    pairs.sort(key=lambda p: (-(p.score or 0), p.source_label, p.target_value))
    return Found(pairs, limited=limited, limit=limit)


def _duplicate_source(record: SyncRecord) -> str:
    for path in ("account.id", "customer"):
        value = _lookup(record.transformed, path) or _lookup(
            record.effective_payload, path
        )
        if isinstance(value, str) and value.strip():
            return value.strip()
    return record.source_id


@transaction.atomic
def decide(
    *,
    kind: str,
    source_connection: Connection,
    target_connection: Connection,
    source_value: str,
    target_value: str,
    verdict: str,
    score: float | None = None,
    reasons: str = "",
    actor=None,
) -> MatchDecision:
    """Record a person's verdict on a pair; "same" also binds the customer
    through a cross-reference, so every flow finds it, not only the matcher."""
    from django.core.exceptions import ValidationError

    if verdict not in ("same", "different"):
        raise ValidationError({"verdict": "Say whether they are the same or not."})
    decision = MatchDecision.objects.filter(
        kind=kind,
        source_connection=source_connection,
        target_connection=target_connection,
        source_value=source_value,
        target_value=target_value,
    ).first() or MatchDecision(
        kind=kind,
        source_connection=source_connection,
        target_connection=target_connection,
        source_value=source_value,
        target_value=target_value,
    )
    decision.verdict = verdict
    decision.score = None if score is None else round(score, 2)
    decision.reasons = reasons[:500]
    decision.decided_by = actor
    decision._history_user = actor
    decision.save()
    if verdict == "same" and kind == "customer":
        accept_code(
            kind="customer",
            source_connection=source_connection,
            target_connection=target_connection,
            source_value=source_value,
            target_value=target_value,
            actor=actor,
            reasons=f"merged by a person ({reasons})" if reasons else "",
        )
    return decision
