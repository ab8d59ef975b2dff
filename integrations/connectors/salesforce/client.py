"""The Salesforce connector: REST calls through simple-salesforce, one budget.

We log in ourselves (``auth.py``) and give simple-salesforce the ready token
and a ``requests`` session that trusts our CA bundle and applies our timeout.
Every REST call goes through ``SalesforceClient._call``: under the connection's
shared throttle, logged, its ``Sforce-Limit-Info`` remembered, an expired
session renewed once, and any failure turned into the error taxonomy.

A client is built for every record attempt, so what is worth keeping lives per
process and connection: the login (one per worker, not one per record), the
keep-alive session and the last known API usage. Describe answers live in
Django's cache, shared by every worker when that cache is shared.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from decimal import Decimal
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce, SFType
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.util import exception_handler

from integrations.connectors.base import CallLog, Throttle, no_log
from integrations.connectors.salesforce import errors
from integrations.connectors.salesforce.auth import Token, obtain_token
from integrations.connectors.salesforce.settings import SalesforceSettings
from integrations.engine.errors import (
    RateLimited,
    SyncError,
    Unavailable,
    ValidationFailed,
)

COLLECTION_LIMIT = 200  # records per sObject Collections request
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_FROM = re.compile(r"\bFROM\s+([A-Za-z0-9_]+)", re.IGNORECASE)

T = TypeVar("T")
ConnectionKey = tuple[str, str, str, str, str]

# -- per-process state, shared by every client of the same connection ----------
_lock = threading.Lock()
_tokens: dict[ConnectionKey, Token] = {}
_token_locks: dict[ConnectionKey, threading.Lock] = {}
_usage: dict[ConnectionKey, tuple[int, int, float]] = {}  # used, max, seen at
_sessions: dict[tuple[bool | str, float], _Session] = {}
_observed = threading.local()


class _Session(requests.Session):
    """A keep-alive session with the connection's CA bundle and timeout.

    simple-salesforce passes no timeout of its own, so the session supplies
    one. Each answer is also shown to the calling thread's observer, which is
    how ``_call`` learns the status and ``Sforce-Limit-Info`` of every call,
    failed ones included.
    """

    def __init__(self, verify: bool | str, timeout: float) -> None:
        super().__init__()
        self.verify = verify
        self.timeout = timeout
        # Cookies Salesforce sets are never needed, and must not leak between
        # the connections that share this session.
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.mount("https://", HTTPAdapter(pool_maxsize=32))

    def request(self, method, url, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        # A request-level verify, so REQUESTS_CA_BUNDLE cannot replace ours.
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify
        response = super().request(method, url, *args, **kwargs)
        seen = getattr(_observed, "responses", None)
        if seen is not None:
            seen.append(response)
        return response


def shared_session(conf: SalesforceSettings) -> requests.Session:
    key = (conf.verify, conf.timeout)
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = _sessions[key] = _Session(conf.verify, conf.timeout)
        return session


@contextmanager
def _observing() -> Iterator[list[requests.Response]]:
    outer = getattr(_observed, "responses", None)
    _observed.responses = seen = []
    try:
        yield seen
    finally:
        _observed.responses = outer


def connection_key(conf: SalesforceSettings) -> ConnectionKey:
    """Who we log in as. The secrets' digest is part of it, so a connection whose
    secrets were re-entered logs in afresh instead of reusing the old login."""
    secrets = "\0".join(
        (conf.client_secret, conf.password, conf.security_token, conf.private_key)
    )
    digest = hashlib.sha256(secrets.encode()).hexdigest()[:16]
    return (conf.login_url, conf.client_id, conf.username, conf.auth_flow, digest)


def forget_tokens() -> None:
    """Drop every remembered login and usage (tests; a credential rotation)."""
    with _lock:
        _tokens.clear()
        _usage.clear()


def cached_token(conf: SalesforceSettings) -> Token | None:
    """This process's current login for a connection, if it has one (health pages)."""
    return _tokens.get(connection_key(conf))


def forget_token(conf: SalesforceSettings) -> None:
    """Drop this process's login for one connection, so the next call logs in."""
    with _lock:
        _tokens.pop(connection_key(conf), None)


class _LocalCache:
    """Django's cache API, in process, for when Django is not configured."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, default=None):
        with self._lock:
            expires, value = self._items.get(key, (0.0, default))
            return value if expires > time.monotonic() else default

    def set(self, key: str, value, timeout: float) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + timeout, value)


_local_cache = _LocalCache()


def _cache():
    try:
        from django.conf import settings

        if settings.configured:
            from django.core.cache import cache

            return cache
    except ImportError:  # pragma: no cover - Django is a dependency
        pass
    return _local_cache


class SalesforceClient:
    system = "salesforce"

    def __init__(
        self,
        conf: SalesforceSettings,
        *,
        throttle: Throttle | None = None,
        log: CallLog = no_log,
        session: requests.Session | None = None,
    ) -> None:
        self.conf = conf
        self.throttle = throttle
        self.log = log
        self.session = session or shared_session(conf)
        self.key = connection_key(conf)
        self._token: Token | None = None
        self._sf: Salesforce | None = None

    def __repr__(self) -> str:
        return (
            f"SalesforceClient({self.conf.login_url!r}, "
            f"user={self.conf.username or self.conf.client_id!r})"
        )

    # -- login ------------------------------------------------------------------
    def token(self) -> Token:
        """The current login, shared by every client of this connection here."""
        if self._token is None:
            with self._token_lock():
                token = _tokens.get(self.key)
                if token is None:
                    token = _tokens[self.key] = obtain_token(
                        self.conf, self.session, log=self.log
                    )
            self._token = token
        return self._token

    def _renew(self, expired: Token) -> None:
        """Log in again, unless another client already replaced the expired login."""
        with self._token_lock():
            current = _tokens.get(self.key)
            if current is None or current.access_token == expired.access_token:
                current = _tokens[self.key] = obtain_token(
                    self.conf, self.session, log=self.log
                )
        self._token, self._sf = current, None

    def _token_lock(self) -> threading.Lock:
        with _lock:
            return _token_locks.setdefault(self.key, threading.Lock())

    def _salesforce(self) -> Salesforce:
        if self._sf is None:
            token = self.token()
            self._sf = Salesforce(
                instance_url=token.instance_url,
                session_id=token.access_token,
                version=self.conf.api_version,
                session=self.session,
                object_pairs_hook=dict,
            )
        return self._sf

    # -- the one way a REST call is made ------------------------------------------
    def _call(
        self,
        method: str,
        url: str,
        fn: Callable[[Salesforce], T],
        *,
        doing: str,
    ) -> T:
        """Run ``fn(sf)`` (one HTTP request) under the budget, logged and mapped."""
        self._check_reserve(doing)
        token = self.token()
        try:
            return self._once(method, url, fn, self._salesforce(), doing)
        except SalesforceError:  # only an expired session leaves _once unmapped
            self._renew(token)
        try:
            return self._once(method, url, fn, self._salesforce(), doing)
        except SalesforceError as exc:
            raise self._mapped(exc, doing, None) from exc

    def _once(self, method, url, fn, sf, doing):
        started = time.monotonic()
        throttle = self.throttle.call() if self.throttle else nullcontext()
        with throttle, _observing() as seen:
            try:
                result = fn(sf)
            except SalesforceError as exc:
                self._observe(method, url, seen, exc.status, started)
                if errors.is_expired_session(exc):
                    raise
                headers = seen[-1].headers if seen else None
                raise self._mapped(exc, doing, headers) from exc
            except requests.RequestException as exc:
                self.log(self.system, method, url, type(exc).__name__, started)
                raise errors.from_request_exception(exc, doing=doing) from exc
        self._observe(
            method, url, seen, seen[-1].status_code if seen else "ok", started
        )
        return result

    def _mapped(self, exc, doing, headers) -> SyncError:
        return errors.from_salesforce(
            exc,
            doing=doing,
            budget_reset_seconds=self.conf.budget_reset_seconds,
            headers=headers,
        )

    def _observe(self, method, url, seen, status, started) -> None:
        self.log(self.system, method, url, status, started)
        header = seen[-1].headers.get("Sforce-Limit-Info") if seen else None
        if header:
            usage = Salesforce.parse_api_usage(header).get("api-usage")
            if usage is not None:
                _usage[self.key] = (usage.used, usage.total, time.time())

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """``(used, max)`` daily API calls, from the latest answer of this connection.

        An answer older than ``budget_reset_seconds`` is forgotten: by then the
        rolling allowance may have freed up, and only a new call can tell.
        """
        known = _usage.get(self.key)
        if known is None or time.time() - known[2] > self.conf.budget_reset_seconds:
            return None
        return known[0], known[1]

    def _check_reserve(self, doing: str) -> None:
        usage = self.api_usage
        if usage is None:
            return
        used, most = usage
        if most - used <= self.conf.low_budget_reserve:
            raise RateLimited(
                f"Salesforce's daily API allowance is down to {max(most - used, 0)} "
                f"of {most} calls, and {self.conf.low_budget_reserve} are kept for "
                f"people (settings.low_budget_reserve); not {doing} for now.",
                retry_after=self.conf.budget_reset_seconds,
            )

    # -- URLs -------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return (
            f"{self.token().instance_url}/services/data/v{self.conf.api_version}/{path}"
        )

    def _sobject(self, sf: Salesforce, name: str) -> SFType:
        return SFType(
            name,
            sf.session_id,
            sf.sf_instance,
            sf_version=sf.sf_version,
            session=sf.session,
            salesforce=sf,
            object_pairs_hook=dict,
        )

    # -- queries ----------------------------------------------------------------
    def query(
        self, soql: str, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> list[dict]:
        """Every record of a SOQL query, following ``nextRecordsUrl`` page by page."""
        page = self.query_page(
            soql, include_deleted=include_deleted, batch_size=batch_size
        )
        records = list(page.get("records") or [])
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            page = self.query_more(page["nextRecordsUrl"], batch_size=batch_size)
            records.extend(page.get("records") or [])
        return records

    def query_page(
        self, soql: str, *, include_deleted: bool = False, batch_size: int | None = None
    ) -> dict:
        """The first page: ``{totalSize, done, nextRecordsUrl?, records}``."""
        headers = _batch_header(batch_size)
        path = "queryAll/" if include_deleted else "query/"
        return self._call(
            "GET",
            self._url(path),
            lambda sf: sf.query(soql, include_deleted=include_deleted, headers=headers),
            doing=_querying(soql),
        )

    def query_more(
        self, next_records_url: str, *, batch_size: int | None = None
    ) -> dict:
        """The page a previous page's ``nextRecordsUrl`` (a path) points at."""
        if not str(next_records_url).startswith("/services/data/"):
            raise ValidationFailed(
                f"{next_records_url!r} is not a Salesforce query page address.",
                field="nextRecordsUrl",
            )
        headers = _batch_header(batch_size)
        return self._call(
            "GET",
            self.token().instance_url + next_records_url.split("?", 1)[0],
            lambda sf: sf.query_more(
                next_records_url, identifier_is_url=True, headers=headers
            ),
            doing="reading the next page of a query",
        )

    # -- single records ---------------------------------------------------------
    def get(
        self, sobject: str, record_id: str, fields: Iterable[str] | None = None
    ) -> dict:
        name, record_id = _name(sobject), _record_id(record_id)
        params = (
            {"fields": ",".join(_name(f, "fields") for f in fields)} if fields else None
        )
        return self._call(
            "GET",
            self._url(f"sobjects/{name}/{record_id}"),
            lambda sf: self._sobject(sf, name).get(record_id, params=params),
            doing=f"reading {name} {record_id}",
        )

    def create(self, sobject: str, values: dict) -> str:
        """Create one record; its new id."""
        name = _name(sobject)
        result = self._call(
            "POST",
            self._url(f"sobjects/{name}/"),
            lambda sf: self._sobject(sf, name).create(_plain(values)),
            doing=f"creating a {name}",
        )
        if not result.get("success", True):
            raise errors.for_record(result, doing=f"creating a {name}")
        return str(result["id"])

    def update(self, sobject: str, record_id: str, values: dict) -> None:
        name, record_id = _name(sobject), _record_id(record_id)
        self._call(
            "PATCH",
            self._url(f"sobjects/{name}/{record_id}"),
            lambda sf: self._sobject(sf, name).update(record_id, _plain(values)),
            doing=f"updating {name} {record_id}",
        )

    def upsert(
        self, sobject: str, external_field: str, value: str, values: dict
    ) -> dict:
        """Create or update by an external id: ``{"id", "created"}``.

        Salesforce answers 201 for a create, and 200 (newer versions, with a
        body) or 204 (older, no body) for an update; after a 204 the id is read
        back by the external id.
        """
        name, field = _name(sobject), _name(external_field, "external_field")
        key = f"{field}/{quote(str(value), safe='')}"
        body = {k: v for k, v in values.items() if k != field}
        doing = f"saving {name} {field}={value}"
        response = self._call(
            "PATCH",
            self._url(f"sobjects/{name}/{key}"),
            lambda sf: self._sobject(sf, name).upsert(
                key, _plain(body), raw_response=True
            ),
            doing=doing,
        )
        answer = _json(response)
        if isinstance(answer, dict) and not answer.get("success", True):
            raise errors.for_record(answer, doing=doing)
        created = response.status_code == 201
        record_id = answer.get("id") if isinstance(answer, dict) else None
        if not record_id:
            found = self._call(
                "GET",
                self._url(f"sobjects/{name}/{key}"),
                lambda sf: self._sobject(sf, name).get(key, params={"fields": "Id"}),
                doing=f"reading back {name} {field}={value}",
            )
            record_id = found["Id"]
        return {"id": str(record_id), "created": created}

    def publish_event(self, name: str, fields: dict) -> str:
        """Publish a platform event (``Order_Event`` or ``Order_Event__e``); its id."""
        event = _name(name if name.endswith("__e") else f"{name}__e")
        result = self._call(
            "POST",
            self._url(f"sobjects/{event}/"),
            lambda sf: self._sobject(sf, event).create(_plain(fields)),
            doing=f"publishing a {event} event",
        )
        if not result.get("success", True):
            raise errors.for_record(result, doing=f"publishing a {event} event")
        return str(result["id"])

    # -- sObject Collections ----------------------------------------------------
    def collection_create(
        self, records: list[dict], all_or_none: bool = False, *, sobject: str = ""
    ) -> list[dict]:
        """Create records 200 a call: ``[{"id", "success", "errors"}]`` in input order.

        Each record names its type in ``attributes.type`` or takes ``sobject``.
        A failed record does not raise: callers decide what it means (see
        ``errors.for_record``).
        """
        typed = [_typed(record, sobject) for record in records]
        return self._collection("POST", "composite/sobjects", typed, all_or_none)

    def collection_update(
        self, records: list[dict], all_or_none: bool = False, *, sobject: str = ""
    ) -> list[dict]:
        """Update records (each with its ``Id``) 200 a call, results in input order."""
        typed = []
        for record in records:
            if not (record.get("Id") or record.get("id")):
                raise ValidationFailed(
                    "Every record of a collection update needs its Salesforce Id.",
                    field="Id",
                )
            typed.append(_typed(record, sobject))
        return self._collection("PATCH", "composite/sobjects", typed, all_or_none)

    def collection_upsert(
        self,
        sobject: str,
        external_field: str,
        records: list[dict],
        all_or_none: bool = False,
    ) -> list[dict]:
        """Upsert by an external id 200 a call: results add ``created``."""
        name, field = _name(sobject), _name(external_field, "external_field")
        for record in records:
            if record.get(field) in (None, ""):
                raise ValidationFailed(
                    f"Every record of a {name} upsert needs a value in {field}.",
                    field=field,
                )
        typed = [_typed(record, name) for record in records]
        return self._collection(
            "PATCH",
            f"composite/sobjects/{name}/{field}",
            typed,
            all_or_none,
            upsert=True,
        )

    def _collection(
        self,
        method: str,
        path: str,
        records: list[dict],
        all_or_none: bool,
        *,
        upsert: bool = False,
    ) -> list[dict]:
        if all_or_none and len(records) > COLLECTION_LIMIT:
            raise ValidationFailed(
                f"Salesforce applies all-or-none to at most {COLLECTION_LIMIT} "
                f"records a call, and {len(records)} were given; send them in "
                "smaller groups or without all-or-none.",
                field="records",
            )
        results: list[dict] = []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = records[start : start + COLLECTION_LIMIT]
            types = sorted({record["attributes"]["type"] for record in chunk})
            doing = (
                f"{'creating' if method == 'POST' else 'saving'} "
                f"{len(chunk)} {'/'.join(types)} records"
            )
            payload = json.dumps({"allOrNone": all_or_none, "records": chunk})
            answer = self._call(
                method,
                self._url(path),
                lambda sf, payload=payload: sf.restful(
                    path, method=method, data=payload
                ),
                doing=doing,
            )
            if not isinstance(answer, list) or len(answer) != len(chunk):
                raise Unavailable(
                    f"Salesforce answered {len(answer or [])} results for "
                    f"{len(chunk)} records while {doing}; nothing is assumed saved.",
                    detail=repr(answer)[:2000],
                )
            results.extend(_result(item, upsert=upsert) for item in answer)
        return results

    # -- schema -----------------------------------------------------------------
    def describe(self, sobject: str) -> dict:
        """The object's describe metadata, cached for ``settings.describe_ttl``."""
        name = _name(sobject)
        cache_key = self._cache_key(f"describe:{name}")
        cache = _cache()
        if self.conf.describe_ttl > 0:
            cached = cache.get(cache_key)
            if cached is not None:
                return cached
        result = self._call(
            "GET",
            self._url(f"sobjects/{name}/describe"),
            lambda sf: self._sobject(sf, name).describe(),
            doing=f"reading the {name} fields",
        )
        if self.conf.describe_ttl > 0:
            cache.set(cache_key, result, self.conf.describe_ttl)
        return result

    def describe_fields(self, sobject: str) -> list[dict]:
        """The fields as an admin field picker shows them."""
        fields = []
        for item in self.describe(sobject).get("fields") or []:
            fields.append(
                {
                    "name": item.get("name"),
                    "label": item.get("label"),
                    "type": item.get("type"),
                    "length": item.get("length"),
                    "nillable": bool(item.get("nillable")),
                    "createable": bool(item.get("createable")),
                    "updateable": bool(item.get("updateable")),
                    "external_id": bool(item.get("externalId")),
                    "reference_to": list(item.get("referenceTo") or []),
                    "picklist_values": [
                        value.get("value")
                        for value in item.get("picklistValues") or []
                        if value.get("active", True)
                    ],
                }
            )
        return fields

    def _cache_key(self, what: str) -> str:
        digest = hashlib.sha256("\0".join(self.key[:4]).encode()).hexdigest()[:24]
        return f"ledgerbridge:salesforce:{digest}:v{self.conf.api_version}:{what}"

    # -- budget and health --------------------------------------------------------
    def limits(self) -> dict:
        return self._call(
            "GET",
            self._url("limits/"),
            lambda sf: sf.limits(),
            doing="reading the org's API limits",
        )

    def budget(self) -> dict:
        """``{"used", "max", "remaining"}`` daily API calls."""
        usage = self.api_usage
        if usage is None:
            daily = self.limits().get("DailyApiRequests") or {}
            most, remaining = int(daily.get("Max", 0)), int(daily.get("Remaining", 0))
            usage = self.api_usage or (most - remaining, most)
        used, most = usage
        return {"used": used, "max": most, "remaining": most - used}

    def api_versions(self) -> list[str]:
        """The API versions this Salesforce serves, oldest first."""
        url = f"{self.token().instance_url}/services/data/"

        def versions(sf: Salesforce) -> list:
            response = sf.session.request("GET", url, headers=sf.headers)
            if response.status_code >= 300:
                exception_handler(response, name="versions")
            return response.json()

        answer = self._call("GET", url, versions, doing="listing the API versions")
        return [str(item.get("version")) for item in answer if isinstance(item, dict)]

    def ping(self) -> dict:
        """For "Test connection": log in, check the API version, read the budget."""
        token = self.token()
        if self.conf.organization_id and (
            self.conf.organization_id[:15] != token.org_id[:15]
        ):
            raise ValidationFailed(
                f"The login reached org {token.org_id}, but settings.organization_id "
                f"says {self.conf.organization_id}; fix one of them.",
                field="settings.organization_id",
            )
        versions = self.api_versions()
        if self.conf.api_version not in versions:
            served = f"{versions[0]} to {versions[-1]}" if versions else "none"
            raise ValidationFailed(
                f"This Salesforce serves API versions {served}, not "
                f"{self.conf.api_version}; change settings.api_version.",
                field="settings.api_version",
            )
        budget = self.budget()
        summary = (
            f"Logged in to Salesforce org {token.org_id} as user {token.user_id} "
            f"({self.conf.auth_flow} login) at {token.instance_url}, API "
            f"v{self.conf.api_version}; {budget['used']} of {budget['max']} daily "
            "API calls used."
        )
        return {
            "org_id": token.org_id,
            "user_id": token.user_id,
            "instance_url": token.instance_url,
            "api_version": self.conf.api_version,
            "budget": budget,
            "summary": summary,
        }


# -- helpers ---------------------------------------------------------------------
def _name(value: str, what: str = "sobject") -> str:
    """An API name that is safe to put in a URL path."""
    text = str(value or "").strip()
    if not _NAME.match(text):
        raise ValidationFailed(f"{value!r} is not a Salesforce API name.", field=what)
    return text


def _record_id(value: str) -> str:
    text = str(value or "").strip()
    if not _RECORD_ID.match(text):
        raise ValidationFailed(f"{value!r} is not a Salesforce record id.", field="Id")
    return text


def _typed(record: dict, sobject: str) -> dict:
    attributes = dict(record.get("attributes") or {})
    kind = attributes.get("type") or sobject
    if not kind:
        raise ValidationFailed(
            "Every record of a collection needs its type in attributes.type.",
            field="attributes.type",
        )
    attributes["type"] = _name(kind)
    return {**_plain(record), "attributes": attributes}


def _result(item: dict, *, upsert: bool) -> dict:
    result = {
        "id": item.get("id"),
        "success": bool(item.get("success")),
        "errors": list(item.get("errors") or []),
    }
    if upsert:
        result["created"] = bool(item.get("created"))
    return result


def _plain(value):
    """Values as Salesforce's JSON takes them (Decimal amounts, dates)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        # A float prints back the same digits up to 15 significant figures,
        # which covers any amount; beyond that keep the exact text.
        return float(value) if len(value.as_tuple().digits) <= 15 else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _json(response: requests.Response):
    if response.status_code == 204 or not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {}


def _batch_header(batch_size: int | None) -> dict[str, str]:
    if batch_size is None:
        return {}
    size = max(200, min(2000, int(batch_size)))
    return {"Sforce-Query-Options": f"batchSize={size}"}


def _querying(soql: str) -> str:
    match = _FROM.search(soql)
    return f"querying {match.group(1)}" if match else "running a query"
