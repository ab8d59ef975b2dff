"""Xero's published contracts as checks: every request the simulator takes and
every answer it gives is held against them.

The three OpenAPI files in ``contracts/xero`` (Accounting, Identity,
Webhooks) are loaded once. ``operation(method, path)`` finds the operation a
concrete path belongs to (``/Invoices/<uuid>`` → ``/Invoices/{InvoiceID}``);
its ``check_request`` and ``check_response`` return readable problems naming
the JSON path, an empty list when all is well.

Choices, where the spec alone does not say how Xero behaves:

- Schemas are checked with jsonschema: Draft 4 semantics for the OpenAPI 3.0
  files (``nullable: true`` becomes ``null`` in ``type``), 2020-12 for the
  3.1 webhooks file. ``$ref`` resolves through one registry holding the whole
  document, so the Invoice → Payment → CreditNote → Invoice cycle validates
  (Prism skips exactly these bodies; API-FACTS §5).
- Of the ``format`` keywords only ``uuid`` is enforced: Xero's own examples
  break ``date-time`` (no zone) and ``double``/``int32`` say nothing JSON can
  break.
- Query booleans are ``true``/``false`` in any case: xero-python sends
  ``False`` and Xero takes it (API-FACTS §1.5). Arrays are comma-separated.
  Query parameters the operation does not declare are problems: Xero ignores
  them silently, which hides a misspelt ``summarizeErrors``.
- ``If-Modified-Since`` takes ISO 8601 (what xero-python sends) or an HTTP
  date.
- Paths match case-insensitively, as Xero's do (``/connections`` is the
  spec's ``/Connections``). When two templates fit (``/Contacts/{ContactID}``
  and ``/Contacts/{ContactNumber}``), the one whose parameters satisfy their
  formats wins.
- Error statuses the spec does not declare (401, 403, 404, 429: it declares
  almost none) are not checked against a schema; an undeclared 2xx is a
  problem.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from integrations.sandbox.contracts import contract

ACCOUNTING = "xero/xero_accounting.yaml"
IDENTITY = "xero/xero-identity.yaml"
WEBHOOKS = "xero/xero-webhooks.yaml"
METHODS = ("get", "put", "post", "delete", "patch")
MAX_PROBLEMS = 25

_formats = FormatChecker(formats=())


@_formats.checks("uuid", raises=ValueError)
def _is_uuid(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    uuid.UUID(instance)
    return len(instance) == 36 and all(instance[i] == "-" for i in (8, 13, 18, 23))


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_path(parts) -> str:
    """``$.Invoices[0].LineItems[2].Quantity`` from a jsonschema path."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _message(error: ValidationError) -> str:
    schema, instance = error.schema, error.instance
    if error.validator == "type":
        return f"{_short(instance)} is not of type {_short(error.validator_value)}"
    if error.validator == "enum":
        return f"{_short(instance)} is not one of {_short(error.validator_value, 200)}"
    if error.validator == "format":
        return f"{_short(instance)} is not a {error.validator_value}"
    if error.validator == "maxLength":
        return f"{_short(instance)} is longer than {error.validator_value} characters"
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: len(e.path))
        return _message(best)
    del schema
    return error.message if len(error.message) <= 300 else error.message[:299] + "…"


def _nullable_to_types(node: Any) -> None:
    """OpenAPI 3.0 ``nullable: true`` → JSON Schema ``null`` type (in place)."""
    if isinstance(node, dict):
        if node.get("nullable") is True:
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
            if isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
            if "$ref" in node:
                node["anyOf"] = [{"$ref": node.pop("$ref")}, {"type": "null"}]
        for value in node.values():
            _nullable_to_types(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_to_types(value)


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class Spec:
    """One OpenAPI document: its operations and cached schema validators."""

    def __init__(self, name: str, document: dict, *, draft: str) -> None:
        self.name = name
        self.document = document
        self.uri = f"urn:xero:{name}"
        if draft == "4":
            _nullable_to_types(document)
            specification, self._validator_class = DRAFT4, Draft4Validator
        else:
            specification, self._validator_class = DRAFT202012, Draft202012Validator
        resource = Resource(contents=document, specification=specification)
        self.registry = Registry().with_resource(self.uri, resource)
        self._validators: dict[str, Any] = {}
        self._templates = [
            _Template.build(self, path, item)
            for path, item in (document.get("paths") or {}).items()
        ]

    def resolve(self, node: dict) -> tuple[dict, str | None]:
        """Follow a local ``$ref`` one level: (target, its pointer)."""
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not ref:
            return node, None
        pointer = ref.split("#", 1)[1]
        target: Any = self.document
        for token in pointer.lstrip("/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        return target, pointer

    def validator(self, pointer: str):
        """A compiled validator for the schema at ``pointer``, made once."""
        found = self._validators.get(pointer)
        if found is None:
            found = self._validator_class(
                {"$ref": f"{self.uri}#{pointer}"},
                registry=self.registry,
                format_checker=_formats,
            )
            self._validators[pointer] = found
        return found

    def check(self, pointer: str, instance: Any, where: str) -> list[str]:
        """Problems of ``instance`` against the schema at ``pointer``."""
        errors = sorted(
            self.validator(pointer).iter_errors(instance),
            key=lambda e: ([str(p) for p in e.absolute_path], e.message),
        )
        problems = [
            f"{where} at {json_path(e.absolute_path)}: {_message(e)}"
            for e in errors[:MAX_PROBLEMS]
        ]
        if len(errors) > MAX_PROBLEMS:
            problems.append(f"{where}: {len(errors) - MAX_PROBLEMS} more problems")
        return problems

    def schema_problems(self, name: str, instance: Any, where: str) -> list[str]:
        """Problems against ``components.schemas.<name>``."""
        return self.check(f"/components/schemas/{name}", instance, where)

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation ``method path`` is, with its path parameters bound."""
        method = method.lower()
        best: tuple[tuple[int, int], _Template, dict[str, str]] | None = None
        for template in self._templates:
            if method not in template.operations:
                continue
            values = template.match(path)
            if values is None:
                continue
            fitting = 0
            for name, value in values.items():
                parameter = template.path_parameter(method, name)
                if parameter is None or _value_problems(value, parameter.schema):
                    continue
                # A value that satisfies a format or a non-text type says more
                # than one any text satisfies.
                schema = parameter.schema
                fitting += (
                    2
                    if schema.get("format")
                    or schema.get("type")
                    not in (
                        None,
                        "string",
                    )
                    else 1
                )
            score = (template.literals, fitting)
            if best is None or score > best[0]:
                best = (score, template, values)
        if best is None:
            return None
        _, template, values = best
        return Operation(self, template, method, values)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # query, header, path
    required: bool
    schema: dict


@dataclass
class _Template:
    spec: Spec
    path: str
    pattern: re.Pattern
    names: list[str]
    literals: int
    operations: dict[str, dict]
    shared: list[dict]

    @classmethod
    def build(cls, spec: Spec, path: str, item: dict) -> _Template:
        names: list[str] = []
        parts, literals = [], 0
        for segment in path.strip("/").split("/"):
            found = re.fullmatch(r"\{([^}]+)\}", segment)
            if found:
                names.append(found.group(1))
                parts.append("([^/]+)")
            else:
                literals += 1
                parts.append(re.escape(segment))
        pattern = re.compile("/" + "/".join(parts) + "/?", re.IGNORECASE)
        operations = {m: item[m] for m in METHODS if isinstance(item.get(m), dict)}
        return cls(
            spec,
            path,
            pattern,
            names,
            literals,
            operations,
            list(item.get("parameters") or []),
        )

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return dict(zip(self.names, found.groups(), strict=True))

    def parameters(self, method: str) -> list[Parameter]:
        merged: dict[tuple[str, str], Parameter] = {}
        for raw in [*self.shared, *(self.operations[method].get("parameters") or [])]:
            node, _ = self.spec.resolve(raw)
            parameter = Parameter(
                node["name"],
                node["in"],
                bool(node.get("required")),
                node.get("schema") or {},
            )
            merged[(parameter.location, parameter.name.lower())] = parameter
        return list(merged.values())

    def path_parameter(self, method: str, name: str) -> Parameter | None:
        return next(
            (
                p
                for p in self.parameters(method)
                if p.location == "path" and p.name == name
            ),
            None,
        )


def _value_problems(raw: str, schema: dict) -> list[str]:
    """Problems of a query, header or path value (always text on the wire)."""
    kind = schema.get("type", "string")
    if kind == "array":
        items = schema.get("items") or {}
        problems = []
        for piece in [p.strip() for p in raw.split(",") if p.strip()]:
            problems += _value_problems(piece.strip('"'), items)
        return problems
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            return [f"{raw!r} is not an integer"]
    elif kind == "number":
        try:
            float(raw)
        except ValueError:
            return [f"{raw!r} is not a number"]
    elif kind == "boolean":
        if raw.strip().lower() not in ("true", "false"):
            return [f"{raw!r} is not a boolean (true or false)"]
    else:
        form = schema.get("format")
        if form == "uuid":
            try:
                _is_uuid(raw)
            except ValueError:
                return [f"{raw!r} is not a uuid"]
        elif form == "date":
            try:
                date.fromisoformat(raw)
            except ValueError:
                return [f"{raw!r} is not a date (YYYY-MM-DD)"]
        elif form == "date-time" and not _is_datetime(raw):
            return [f"{raw!r} is not a date-time (ISO 8601 or an HTTP date)"]
    enum = schema.get("enum")
    if enum and raw not in [str(v) for v in enum]:
        return [f"{raw!r} is not one of {enum}"]
    return []


def _is_datetime(raw: str) -> bool:
    try:
        datetime.fromisoformat(raw)
        return True
    except ValueError:
        pass
    try:
        parsedate_to_datetime(raw)
        return True
    except (TypeError, ValueError, IndexError):
        return False


def _is_json_content(content: dict | None) -> bool:
    return bool(content) and any("json" in kind for kind in content)


@dataclass
class Operation:
    """One operation of a spec, bound to the concrete path it was found by."""

    spec: Spec
    template: _Template
    method: str
    path_values: dict[str, str] = field(default_factory=dict)

    @property
    def definition(self) -> dict:
        return self.template.operations[self.method]

    @property
    def operation_id(self) -> str:
        return self.definition.get("operationId", "")

    @property
    def path(self) -> str:
        return self.template.path

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.operation_id})"

    @property
    def parameters(self) -> list[Parameter]:
        return self.template.parameters(self.method)

    def check_request(
        self, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> list[str]:
        """Problems with a request: path, query and header parameters, body.

        ``headers`` are matched case-insensitively; ``body`` is the parsed
        JSON (None when there was none)."""
        problems: list[str] = []
        parameters = self.parameters
        lowered = {name.lower(): value for name, value in headers.items()}
        declared_query = {p.name for p in parameters if p.location == "query"}
        for name in query:
            if name not in declared_query:
                problems.append(
                    f"query parameter {name}: not a parameter of {self}"
                    + (
                        f" (did you mean {_near(name, declared_query)}?)"
                        if _near(name, declared_query)
                        else ""
                    )
                )
        for parameter in parameters:
            if parameter.location == "path":
                value = self.path_values.get(parameter.name)
            elif parameter.location == "query":
                value = query.get(parameter.name)
            elif parameter.location == "header":
                value = lowered.get(parameter.name.lower())
            else:
                continue
            label = f"{parameter.location} parameter {parameter.name}"
            if value is None or (parameter.location == "header" and value == ""):
                if parameter.required:
                    problems.append(f"{label}: required, but missing")
                continue
            problems += [
                f"{label}: {p}" for p in _value_problems(value, parameter.schema)
            ]
        problems += self._check_body(body)
        return problems

    def _check_body(self, body: Any) -> list[str]:
        raw = self.definition.get("requestBody")
        if raw is None:
            return []
        node, pointer = self.spec.resolve(raw)
        if pointer is None:
            pointer = (
                f"/paths/{_pointer_escape(self.template.path)}/{self.method}"
                "/requestBody"
            )
        content = node.get("content") or {}
        if body is None or body == b"":
            return (
                ["request body: required, but none was sent"]
                if node.get("required")
                else []
            )
        kind = next((k for k in content if "json" in k), None)
        if kind is None:
            return []
        schema_pointer = f"{pointer}/content/{_pointer_escape(kind)}/schema"
        return self.spec.check(schema_pointer, body, "request body")

    def check_response(self, status: int, body: Any) -> list[str]:
        """Problems with an answer: a status the operation declares, a body
        matching that status's schema."""
        responses = self.definition.get("responses") or {}
        key = str(status)
        if key not in responses:
            if 200 <= status < 300:
                return [
                    f"response status {status}: {self} declares only "
                    f"{', '.join(sorted(responses))}"
                ]
            return []
        node, pointer = self.spec.resolve(responses[key])
        if pointer is None:
            pointer = (
                f"/paths/{_pointer_escape(self.template.path)}/{self.method}"
                f"/responses/{key}"
            )
        content = node.get("content")
        if not content:
            if body not in (None, b"", ""):
                return [f"response {status}: the contract declares no body"]
            return []
        if not _is_json_content(content):
            return []
        kind = next(k for k in content if "json" in k)
        if "schema" not in content[kind]:
            return []
        schema_pointer = f"{pointer}/content/{_pointer_escape(kind)}/schema"
        return self.spec.check(schema_pointer, body, f"response {status} body")


def _near(name: str, names: set[str]) -> str | None:
    folded = re.sub(r"[^a-z]", "", name.lower())
    for candidate in names:
        if re.sub(r"[^a-z]", "", candidate.lower()) == folded:
            return candidate
    return None


class _Loader(yaml.CSafeLoader):
    """CSafeLoader without timestamp resolution: dates in the spec stay text,
    as they are in JSON (``2019-03-11 17:58:46+00:00`` is a string there)."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers if not tag.endswith(":timestamp")
    ]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def _load(name: str) -> dict:
    with contract(name).open("rb") as stream:
        return yaml.load(stream, Loader=_Loader)


@cache
def accounting() -> Spec:
    return Spec("accounting", _load(ACCOUNTING), draft="4")


@cache
def identity() -> Spec:
    return Spec("identity", _load(IDENTITY), draft="4")


@cache
def webhooks() -> Spec:
    return Spec("webhooks", _load(WEBHOOKS), draft="2020-12")


def operation(method: str, path: str) -> Operation | None:
    """The Accounting API operation for ``method`` on ``path`` (relative to
    ``/api.xro/2.0``), or None when the API has no such operation."""
    return accounting().operation(method, path)


def identity_operation(method: str, path: str) -> Operation | None:
    """``GET /connections``, ``DELETE /connections/{id}``."""
    return identity().operation(method, path)


def check_webhook_payload(payload: dict) -> list[str]:
    """Problems with a batch of events Xero would send (CREDITNOTE events
    are checked against ``CreditNoteWebhookEvent`` too)."""
    spec = webhooks()
    problems = spec.schema_problems("WebhookEvent", payload, "webhook payload")
    events = payload.get("events") if isinstance(payload, dict) else None
    if isinstance(events, list) and any(
        isinstance(e, dict) and e.get("eventCategory") == "CREDITNOTE" for e in events
    ):
        notes = {
            **payload,
            "events": [e for e in events if e.get("eventCategory") == "CREDITNOTE"],
        }
        problems += spec.schema_problems(
            "CreditNoteWebhookEvent", notes, "webhook payload (credit notes)"
        )
    return problems
