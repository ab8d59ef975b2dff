"""The REST API's routing and handlers, independent of the HTTP server.

``RestApi.handle(request)`` turns a method, path, query, headers and body into a
``Response``; ``server.py`` does the sockets. Authentication, the daily
request budget, ``Sforce-Limit-Info`` and fault injection are applied here so
every resource behaves alike.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from integrations.sandbox.salesforce import oauth, soql
from integrations.sandbox.salesforce.errors import ApiError, invalid_session, not_found
from integrations.sandbox.salesforce.org import Caller, MultipleMatches, SalesforceOrg
from integrations.sandbox.salesforce.values import format_datetime, parse_datetime

VERSIONS = [f"{major}.0" for major in range(55, 63)]
RELEASES = {
    "55.0": "Summer '22",
    "56.0": "Winter '23",
    "57.0": "Spring '23",
    "58.0": "Summer '23",
    "59.0": "Winter '24",
    "60.0": "Spring '24",
    "61.0": "Summer '24",
    "62.0": "Winter '25",
}
COLLECTION_LIMIT = 200
DEFAULT_BATCH = 2000
LOCATOR_SECONDS = 15 * 60
MAX_LOCATORS = 500


@dataclass
class Request:
    method: str
    path: str
    query: str = ""
    headers: dict = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def params(self) -> dict[str, str]:
        return {
            k: v[-1] for k, v in parse_qs(self.query, keep_blank_values=True).items()
        }

    def json(self):
        if not self.body.strip():
            raise ApiError("JSON_PARSER_ERROR", "The request body is empty.")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                "JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}"
            ) from None


@dataclass
class Response:
    status: int
    body: object = None  # JSON-able, bytes, or None (no content)
    headers: dict = field(default_factory=dict)


def _error(exc: ApiError) -> Response:
    return Response(exc.status, exc.body())


def _method_not_allowed(method: str) -> ApiError:
    return ApiError(
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE,HEAD,POST",
        status=405,
        with_fields=False,
    )


@dataclass
class _Cursor:
    records: list
    total: int
    batch: int
    touched: float


class RestApi:
    """Routes ``/services/...`` requests to the org."""

    def __init__(self, org: SalesforceOrg) -> None:
        self.org = org
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._cursor_lock = threading.Lock()
        self._cursor_numbers = itertools.count(1)

    # -- entry point -------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        try:
            if path.startswith("/services/oauth2/"):
                return self._oauth(request, path)
            if path.startswith("/id/"):
                return self._identity(request, path)
            if path == "/services/data":
                return self._versions(request)
            match = re.match(r"^/services/data/v(\d+\.\d)(?:/(.*))?$", path)
            if not match:
                raise not_found()
            return self._api(request, match.group(1), match.group(2) or "")
        except ApiError as exc:
            return _error(exc)

    def _versions(self, request: Request) -> Response:
        if request.method != "GET":
            raise _method_not_allowed(request.method)
        return Response(
            200,
            [
                {
                    "label": RELEASES[v],
                    "url": f"/services/data/v{v}",
                    "version": v,
                }
                for v in VERSIONS
            ],
        )

    def _authenticate(self, request: Request):
        authorization = request.header("Authorization")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token.strip():
            raise invalid_session()
        with self.org.reading():
            session = self.org.identity.session(token.strip())
        if session is None:
            raise invalid_session()
        return session

    def _api(self, request: Request, version: str, rest: str) -> Response:
        if version not in VERSIONS:
            raise not_found()
        session = self._authenticate(request)
        fault = self.org.faults.take()
        if fault is not None:
            status, code, message = fault
            return Response(status, [{"message": message, "errorCode": code}])
        with self.org.reading():
            allowed = self.org.budget.spend()
            usage = self.org.budget.header()
        headers = {"Sforce-Limit-Info": usage}
        if not allowed:
            return Response(
                403,
                [
                    {
                        "message": "TotalRequests Limit exceeded.",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
                headers,
            )
        caller = Caller(session.user_id, session.client_id, version)
        segments = [unquote(s) for s in rest.split("/")] if rest else []
        handler, template = self._route(request.method, segments)
        self.org.api_calls[(request.method, template)] += 1
        try:
            response = handler(request, version, caller, segments)
        except ApiError as exc:
            response = _error(exc)
        response.headers.update(headers)
        return response

    # -- routing -----------------------------------------------------------------------
    def _route(self, method: str, s: list[str]) -> tuple[Callable, str]:
        n = len(s)
        table: list[tuple[bool, dict[str, Callable], str]] = [
            (n == 0, {"GET": self._resources}, "/"),
            (
                s[:1] == ["sobjects"] and n == 1,
                {"GET": self._describe_global},
                "/sobjects",
            ),
            (
                s[:1] == ["sobjects"] and n == 2,
                {"GET": self._basic_info, "POST": self._create},
                "/sobjects/{sobject}",
            ),
            (
                s[:1] == ["sobjects"] and n == 3 and s[2] == "describe",
                {"GET": self._describe},
                "/sobjects/{sobject}/describe",
            ),
            (
                s[:1] == ["sobjects"] and n == 3 and s[2] in ("updated", "deleted"),
                {"GET": self._replication},
                "/sobjects/{sobject}/" + (s[2] if n == 3 else ""),
            ),
            (
                s[:1] == ["sobjects"] and n == 3,
                {"GET": self._get, "PATCH": self._patch, "DELETE": self._remove},
                "/sobjects/{sobject}/{id}",
            ),
            (
                s[:1] == ["sobjects"] and n == 4,
                {
                    "GET": self._get_by_external_id,
                    "PATCH": self._upsert,
                    "DELETE": self._delete_by_external_id,
                },
                "/sobjects/{sobject}/{field}/{value}",
            ),
            (
                s[:1] in (["query"], ["queryAll"]) and n == 1,
                {"GET": self._query},
                f"/{s[0] if s else ''}",
            ),
            (
                s[:1] in (["query"], ["queryAll"]) and n == 2,
                {"GET": self._query_more},
                f"/{s[0] if s else ''}/{{locator}}",
            ),
            (
                s[:2] == ["composite", "sobjects"] and n == 2,
                {
                    "POST": self._collection_create,
                    "PATCH": self._collection_update,
                    "DELETE": self._collection_delete,
                },
                "/composite/sobjects",
            ),
            (
                s[:2] == ["composite", "sobjects"] and n == 3,
                # PATCH and DELETE with the object in the path: the forms the
                # Postman collection uses; the object segment adds nothing.
                {
                    "GET": self._collection_get,
                    "POST": self._collection_get,
                    "PATCH": self._collection_update,
                    "DELETE": self._collection_delete,
                },
                "/composite/sobjects/{sobject}",
            ),
            (
                s[:2] == ["composite", "sobjects"] and n == 4,
                {"PATCH": self._collection_upsert},
                "/composite/sobjects/{sobject}/{field}",
            ),
            (s == ["limits"], {"GET": self._limits}, "/limits"),
        ]
        for matched, handlers, template in table:
            if not matched:
                continue
            handler = handlers.get(method)
            if handler is None:
                return self._refuse_method, template
            return handler, template
        return self._no_resource, "(unknown)"

    def _refuse_method(self, request, version, caller, segments) -> Response:
        raise _method_not_allowed(request.method)

    def _no_resource(self, request, version, caller, segments) -> Response:
        raise not_found()

    # -- discovery ---------------------------------------------------------------------
    def _resources(self, request, version, caller, segments) -> Response:
        base = f"/services/data/v{version}"
        names = (
            "sobjects query queryAll limits composite search tooling recent "
            "jobs analytics connect"
        )
        return Response(200, {name: f"{base}/{name}" for name in names.split()})

    def _describe_global(self, request, version, caller, segments) -> Response:
        objects = [obj.summary(version) for obj in self.org.schema.objects.values()]
        objects.sort(key=lambda o: o["name"])
        return Response(
            200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objects}
        )

    def _basic_info(self, request, version, caller, segments) -> Response:
        obj = self.org.object_or_404(segments[1])
        recent = sorted(
            self.org.rows(obj.name) if obj.queryable else [],
            key=lambda r: r["LastModifiedDate"],
            reverse=True,
        )[:5]
        return Response(
            200,
            {
                "objectDescribe": obj.summary(version),
                "recentItems": [
                    {
                        "attributes": {
                            "type": obj.name,
                            "url": self.org.record_url(obj.name, r["Id"], version),
                        },
                        "Id": r["Id"],
                        **({"Name": r.get("Name")} if "Name" in r else {}),
                    }
                    for r in recent
                ],
            },
        )

    def _describe(self, request, version, caller, segments) -> Response:
        obj = self.org.object_or_404(segments[1])
        return Response(200, obj.describe(version))

    def _limits(self, request, version, caller, segments) -> Response:
        return Response(200, self.org.limits())

    # -- single records ----------------------------------------------------------------
    def _create(self, request, version, caller, segments) -> Response:
        self.org.object_or_404(segments[1])
        record_id = self.org.create(segments[1], request.json(), caller=caller)
        return Response(201, {"id": record_id, "success": True, "errors": []})

    def _fields_param(self, request) -> list[str] | None:
        fields = request.params().get("fields")
        return [f for f in fields.split(",") if f.strip()] if fields else None

    def _get(self, request, version, caller, segments) -> Response:
        obj = self.org.object_or_404(segments[1])
        self._check_id_syntax(segments[2])
        record = self.org.retrieve(
            obj.name, segments[2], self._fields_param(request), version
        )
        return Response(200, record)

    def _check_id_syntax(self, value: str) -> None:
        from integrations.sandbox.salesforce.ids import to18

        if to18(value) is None:
            raise ApiError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: "
                f"{value}",
                status=404,
            )

    def _patch(self, request, version, caller, segments) -> Response:
        obj = self.org.object_or_404(segments[1])
        self._check_id_syntax(segments[2])
        self.org.update(obj.name, segments[2], request.json(), caller=caller)
        return Response(204)

    def _remove(self, request, version, caller, segments) -> Response:
        obj = self.org.object_or_404(segments[1])
        self._check_id_syntax(segments[2])
        self.org.delete(obj.name, segments[2], caller=caller)
        return Response(204)

    def _external_match(self, obj_name: str, field_name: str, value: str) -> str:
        obj = self.org.object_or_404(obj_name)
        meta = obj.field(field_name)
        if meta is None or not (meta.external_id or meta.name == "Id"):
            raise ApiError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: "
                f"{field_name}",
                status=404,
            )
        with self.org.reading():
            matches = self.org._matches(obj.name, meta.name, value)
        if len(matches) > 1:
            raise MultipleMatches([self.org.record_url(obj.name, i) for i in matches])
        if not matches:
            raise not_found()
        return matches[0]

    def _get_by_external_id(self, request, version, caller, segments) -> Response:
        try:
            record_id = self._external_match(*segments[1:4])
        except MultipleMatches as exc:
            return Response(300, exc.urls)
        record = self.org.retrieve(
            segments[1], record_id, self._fields_param(request), version
        )
        return Response(200, record)

    def _delete_by_external_id(self, request, version, caller, segments) -> Response:
        try:
            record_id = self._external_match(*segments[1:4])
        except MultipleMatches as exc:
            return Response(300, exc.urls)
        self.org.delete(segments[1], record_id, caller=caller)
        return Response(204)

    def _upsert(self, request, version, caller, segments) -> Response:
        obj = self.org.object_or_404(segments[1])
        body = request.json()
        if request.params().get("updateOnly", "").lower() == "true":
            record_id = self._external_match(obj.name, segments[2], segments[3])
            self.org.update(obj.name, record_id, body, caller=caller)
            return Response(
                200, {"id": record_id, "success": True, "errors": [], "created": False}
            )
        try:
            record_id, created = self.org.upsert(
                obj.name, segments[2], segments[3], body, caller=caller
            )
        except MultipleMatches as exc:
            return Response(300, exc.urls)
        answer = {"id": record_id, "success": True, "errors": [], "created": created}
        if created:
            return Response(201, answer)
        if float(version) < 46:
            return Response(204)
        return Response(200, answer)

    def _replication(self, request, version, caller, segments) -> Response:
        obj = self.org.object_or_404(segments[1])
        params = request.params()
        start = parse_datetime((params.get("start") or "").replace(" ", "+"))
        end = parse_datetime((params.get("end") or "").replace(" ", "+"))
        if start is None or end is None:
            raise ApiError(
                "INVALID_REPLICATION_DATE",
                "start and end are required ISO 8601 date-times",
            )
        if end <= start:
            raise ApiError(
                "INVALID_REPLICATION_DATE",
                "startDate must chronologically precede endDate by more than one "
                "minute",
            )
        start_text, end_text = format_datetime(start), format_datetime(end)
        end_minute = format_datetime(end.replace(second=0, microsecond=0))
        deleted = segments[2] == "deleted"
        found = self.org.changed_between(
            obj.name, start_text, end_text, deleted=deleted
        )
        if deleted:
            return Response(
                200,
                {
                    "deletedRecords": [
                        {"id": record_id, "deletedDate": stamp}
                        for record_id, stamp in sorted(found, key=lambda f: f[1])
                    ],
                    "earliestDateAvailable": start_text,
                    "latestDateCovered": end_minute,
                },
            )
        return Response(
            200,
            {
                "ids": [
                    record_id for record_id, _ in sorted(found, key=lambda f: f[1])
                ],
                "latestDateCovered": end_minute,
            },
        )

    # -- queries -----------------------------------------------------------------------
    def _batch_size(self, request) -> int:
        match = re.search(
            r"batchSize\s*=\s*(\d+)", request.header("Sforce-Query-Options")
        )
        if not match:
            return DEFAULT_BATCH
        return min(max(int(match.group(1)), 200), 2000)

    def _query(self, request, version, caller, segments) -> Response:
        text = request.params().get("q")
        if not text:
            raise ApiError("MALFORMED_QUERY", "A query string has to be specified")
        include_deleted = segments[0] == "queryAll"
        try:
            with self.org.reading():
                result = soql.run_query(
                    text,
                    self.org,
                    include_deleted=include_deleted,
                    api_version=version,
                )
        except soql.SoqlError as exc:
            raise ApiError(exc.error_code, exc.message) from None
        if isinstance(result, soql.CountResult):
            return Response(
                200, {"totalSize": result.count, "done": True, "records": []}
            )
        return Response(
            200, self._page(result, self._batch_size(request), version, segments[0])
        )

    def _page(self, records: list, batch: int, version: str, resource: str) -> dict:
        if len(records) <= batch:
            return {"totalSize": len(records), "done": True, "records": records}
        base = (
            f"01g{self.org.pod}{next(self._cursor_numbers):010d}"
            + secrets.token_hex(2).upper()
        )
        now = time.monotonic()
        with self._cursor_lock:
            for key in [
                k for k, c in self._cursors.items() if now - c.touched > LOCATOR_SECONDS
            ]:
                del self._cursors[key]
            while len(self._cursors) >= MAX_LOCATORS:
                self._cursors.popitem(last=False)
            self._cursors[base] = _Cursor(records, len(records), batch, now)
        return {
            "totalSize": len(records),
            "done": False,
            "nextRecordsUrl": f"/services/data/v{version}/{resource}/{base}-{batch}",
            "records": records[:batch],
        }

    def _query_more(self, request, version, caller, segments) -> Response:
        base, _, offset_text = segments[1].rpartition("-")
        with self._cursor_lock:
            cursor = self._cursors.get(base)
            if cursor is not None:
                cursor.touched = time.monotonic()
        if cursor is None or not offset_text.isdigit():
            raise ApiError("INVALID_QUERY_LOCATOR", "invalid query locator", status=400)
        offset = int(offset_text)
        end = offset + cursor.batch
        body = {
            "totalSize": cursor.total,
            "done": end >= cursor.total,
            "records": cursor.records[offset:end],
        }
        if end < cursor.total:
            body["nextRecordsUrl"] = (
                f"/services/data/v{version}/{segments[0]}/{base}-{end}"
            )
        else:
            with self._cursor_lock:
                self._cursors.pop(base, None)
        body = {
            k: body[k]
            for k in ("totalSize", "done", "nextRecordsUrl", "records")
            if k in body
        }
        return Response(200, body)

    # -- sObject Collections -----------------------------------------------------------
    def _collection_body(self, request) -> tuple[bool, list]:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise ApiError(
                "JSON_PARSER_ERROR", "The request body needs a list named records."
            )
        records = body["records"]
        self._check_collection_size(len(records))
        return bool(body.get("allOrNone", False)), records

    @staticmethod
    def _check_collection_size(size: int) -> None:
        if size > COLLECTION_LIMIT:
            raise ApiError(
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {COLLECTION_LIMIT} "
                "records into this call",
            )

    def _each(self, caller, all_or_none: bool, items: list, operation) -> list[dict]:
        """Run ``operation(item) -> (id, extra)`` per item in one transaction."""
        results: list[dict | None] = [None] * len(items)
        org = self.org
        with org.atomic(caller):
            for position, item in enumerate(items):
                mark = org.savepoint()
                try:
                    record_id, extra = operation(item)
                    results[position] = {
                        "id": record_id,
                        "success": True,
                        "errors": [],
                        **extra,
                    }
                except ApiError as exc:
                    org.rollback_to(mark)
                    results[position] = {
                        "id": _item_id(item),
                        "success": False,
                        "errors": [exc.collection_error()],
                    }
                    if all_or_none:
                        break
            if all_or_none and any(r is None or not r["success"] for r in results):
                org.rollback_to((0, 0, 0))
                for position, result in enumerate(results):
                    if result is None or result["success"]:
                        results[position] = {
                            "id": _item_id(items[position]),
                            "success": False,
                            "errors": [
                                {
                                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                    "message": "Record rolled back because not all "
                                    "records were valid and the request was using "
                                    "AllOrNone header",
                                    "fields": [],
                                }
                            ],
                        }
        return results

    def _typed(self, record) -> tuple[str, dict]:
        if not isinstance(record, dict):
            raise ApiError("JSON_PARSER_ERROR", "Each record must be a JSON object.")
        sobject = (record.get("attributes") or {}).get("type")
        if not sobject:
            raise ApiError(
                "INVALID_TYPE",
                "Must send a concrete entity type.",
            )
        if self.org.schema.get(sobject) is None:
            raise ApiError(
                "INVALID_TYPE", f"sObject type '{sobject}' is not supported."
            )
        # Field names are case-insensitive: the documented examples send "id".
        return sobject, {
            ("Id" if k.lower() == "id" else k): v
            for k, v in record.items()
            if k != "attributes"
        }

    def _collection_create(self, request, version, caller, segments) -> Response:
        all_or_none, records = self._collection_body(request)

        def create(record):
            sobject, data = self._typed(record)
            if "Id" in data:
                raise ApiError(
                    "INVALID_FIELD",
                    "Record ID: cannot specify Id in an insert call",
                    ["Id"],
                )
            return self.org._insert(sobject, data), {}

        return Response(200, self._each(caller, all_or_none, records, create))

    def _collection_update(self, request, version, caller, segments) -> Response:
        all_or_none, records = self._collection_body(request)

        def update(record):
            sobject, data = self._typed(record)
            record_id = data.pop("Id", None)
            if not record_id:
                raise ApiError(
                    "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"]
                )
            obj = self.org.schema.get(sobject)
            try:
                self.org._update(obj.name, record_id, data)
            except ApiError as exc:
                if exc.error_code == "NOT_FOUND":
                    raise ApiError(
                        "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"
                    ) from None
                raise
            return self.org.get(obj.name, record_id)["Id"], {}

        return Response(200, self._each(caller, all_or_none, records, update))

    def _collection_upsert(self, request, version, caller, segments) -> Response:
        obj = self.org.object_or_404(segments[2])
        meta = obj.field(segments[3])
        if meta is None or not (meta.external_id or meta.name == "Id"):
            raise ApiError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: "
                f"{segments[3]}",
                status=404,
            )
        all_or_none, records = self._collection_body(request)

        def upsert(record):
            sobject, data = self._typed(record)
            if sobject.lower() != obj.name.lower():
                raise ApiError(
                    "INVALID_TYPE",
                    f"Expected records of type {obj.name}, got {sobject}.",
                )
            value = next(
                (v for k, v in data.items() if k.lower() == meta.name.lower()), None
            )
            if value in (None, ""):
                raise ApiError(
                    "MISSING_ARGUMENT",
                    f"{meta.name} not specified",
                    [meta.name],
                )
            try:
                record_id, created = self.org._upsert(
                    obj.name, meta.name, str(value), data
                )
            except MultipleMatches as exc:
                raise ApiError(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{meta.name}: more than one record found for external id field: "
                    f"{exc.urls}",
                    [meta.name],
                ) from None
            return record_id, {"created": created}

        return Response(200, self._each(caller, all_or_none, records, upsert))

    def _collection_delete(self, request, version, caller, segments) -> Response:
        params = request.params()
        ids = [i for i in params.get("ids", "").split(",") if i]
        if not ids:
            raise ApiError("MISSING_ARGUMENT", "ids parameter is required", ["ids"])
        self._check_collection_size(len(ids))
        all_or_none = params.get("allOrNone", "false").lower() == "true"

        def delete(record_id):
            obj = self._object_for_id(record_id)
            self.org._delete(obj.name, record_id)
            return self.org._tables[obj.name][_full(record_id)]["Id"], {}

        return Response(200, self._each(caller, all_or_none, ids, delete))

    def _object_for_id(self, record_id: str):
        full = _full(record_id)
        if full is None:
            raise ApiError("MALFORMED_ID", f"malformed id {record_id}")
        for obj in self.org.schema.objects.values():
            usable = full.startswith(obj.key_prefix) and not obj.platform_event
            if usable and self.org._tables[obj.name].get(full) is not None:
                return obj
        raise ApiError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")

    def _collection_get(self, request, version, caller, segments) -> Response:
        obj = self.org.object_or_404(segments[2])
        if request.method == "POST":
            body = request.json()
            ids = body.get("ids") or []
            fields = body.get("fields") or []
        else:
            params = request.params()
            ids = [i for i in params.get("ids", "").split(",") if i]
            fields = [f for f in params.get("fields", "").split(",") if f]
        if not ids or not fields:
            raise ApiError(
                "MISSING_ARGUMENT", "ids and fields are required", ["ids", "fields"]
            )
        self._check_collection_size(len(ids))
        out = []
        for record_id in ids:
            try:
                out.append(self.org.retrieve(obj.name, record_id, fields, version))
            except ApiError as exc:
                if exc.error_code == "INVALID_FIELD":
                    raise
                out.append(None)
        return Response(200, out)

    # -- OAuth -------------------------------------------------------------------------
    def _oauth(self, request: Request, path: str) -> Response:
        name = path.rsplit("/", 1)[1]
        if name == "userinfo":
            try:
                session = self._authenticate(request)
            except ApiError:
                return Response(403, b"Bad_OAuth_Token")
            return Response(200, oauth.userinfo(self.org, session))
        if name not in ("token", "revoke"):
            raise not_found()
        if request.method != "POST":
            raise _method_not_allowed(request.method)
        content_type = request.header("Content-Type").split(";")[0].strip().lower()
        form = {}
        if content_type == "application/x-www-form-urlencoded":
            form = {
                k: v[-1]
                for k, v in parse_qs(
                    request.body.decode(errors="replace"), keep_blank_values=True
                ).items()
            }
        if name == "revoke":
            status, body = oauth.revoke(self.org, form or self._query_form(request))
            return Response(status, body)
        status, body = oauth.token(self.org, form, request.header("Authorization"))
        return Response(status, body)

    @staticmethod
    def _query_form(request) -> dict:
        return request.params()

    def _identity(self, request: Request, path: str) -> Response:
        session = self._authenticate(request)
        parts = path.split("/")
        if len(parts) != 4 or parts[2] != self.org.org_id:
            raise not_found()
        user = self.org.identity.user_by_id(parts[3])
        if user is None or user.id != session.user_id:
            raise not_found()
        info = oauth.userinfo(self.org, session)
        info.update(
            id=oauth.identity_url(self.org, user),
            username=user.username,
            display_name=info["name"],
        )
        return Response(200, info)


def _full(record_id: str) -> str | None:
    from integrations.sandbox.salesforce.ids import to18

    return to18(record_id)


def _item_id(item) -> str | None:
    if isinstance(item, str):
        return _full(item) or item
    if isinstance(item, dict):
        return item.get("Id")
    return None
