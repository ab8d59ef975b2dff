"""``SalesforceOrg``: one simulated org in memory, shared by the HTTPS server's
threads, the Pub/Sub server and tests.

Writes run in transactions under one lock: a failing record leaves nothing
behind (or only itself, for collections with ``allOrNone`` false), and change
callbacks run after the lock is released, once the transaction committed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from integrations.sandbox.salesforce import rules
from integrations.sandbox.salesforce.budget import ApiBudget, Faults
from integrations.sandbox.salesforce.errors import ApiError, not_found
from integrations.sandbox.salesforce.events import ChangeEvent, PlatformEvent
from integrations.sandbox.salesforce.identity import ConnectedApp, Identity, User
from integrations.sandbox.salesforce.ids import make_id, to18
from integrations.sandbox.salesforce.schema import (
    API_VERSION,
    FieldMeta,
    ObjectMeta,
    Schema,
)
from integrations.sandbox.salesforce.values import coerce, format_datetime

log = logging.getLogger(__name__)

AUDIT_FIELDS = (
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)
UNTRACKED = {"LastModifiedDate", "LastModifiedById", "SystemModstamp"}
AUTO_NUMBER_START = {"Order": 100, "OrderItem": 1}


@dataclass(frozen=True)
class Caller:
    """Who makes a change, and through which app and API version."""

    user_id: str
    client_id: str = ""
    api_version: str = API_VERSION

    @property
    def origin(self) -> str:
        origin = f"com/salesforce/api/rest/{self.api_version}"
        return f"{origin};client={self.client_id}" if self.client_id else origin


class MultipleMatches(ApiError):
    """Upsert's 300: the external id matched more than one record."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__("MULTIPLE_CHOICES", "More than one record matched", status=300)
        self.urls = urls


@dataclass
class _Pending:
    entity: str
    change_type: str
    record_id: str
    changed_fields: tuple[str, ...]
    fields: dict
    record: dict


@dataclass
class _Transaction:
    caller: Caller
    now: str
    undo: list[tuple[str, str, dict | None]] = field(default_factory=list)
    changes: list[_Pending] = field(default_factory=list)
    published: list[PlatformEvent] = field(default_factory=list)

    def mark(self) -> tuple[int, int, int]:
        return len(self.undo), len(self.changes), len(self.published)


class _RuleContext:
    """What ``rules`` may see and do inside a transaction."""

    def __init__(self, org: SalesforceOrg, tx: _Transaction) -> None:
        self._org, self.caller, self.now = org, tx.caller, tx.now
        self.multi_currency = org.schema.multi_currency
        self.standard_pricebook_id = org.standard_pricebook_id

    def get(self, sobject: str, record_id: str | None) -> dict | None:
        return self._org._live(sobject, record_id)

    def children(self, sobject: str, field_name: str, parent_id: str) -> list[dict]:
        return self._org._children(sobject, field_name, parent_id)

    def system_update(self, sobject: str, record_id: str, values: dict) -> None:
        self._org._system_update(sobject, record_id, values)

    def next_number(self, sobject: str) -> str:
        return self._org._next_number(sobject)

    def find_entry(self, book, product, currency, *, active_only=True) -> str | None:
        for entry in self._org._children("PricebookEntry", "Product2Id", product):
            if entry["Pricebook2Id"] != book or (active_only and not entry["IsActive"]):
                continue
            if self.multi_currency and entry["CurrencyIsoCode"] != currency:
                continue
            return entry["Id"]
        return None


class SalesforceOrg:
    """A thread-safe in-memory org: schema, records, identity, limits, hooks."""

    def __init__(
        self,
        *,
        instance_url: str = "https://127.0.0.1",
        multi_currency: bool = False,
        custom_fields: bool = True,
        daily_api_requests: int = 15000,
        budget_window_seconds: float = 86400,
        session_seconds: float = 7200,
        org_number: int = 1,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.schema = Schema(multi_currency=multi_currency, custom_fields=custom_fields)
        self.instance_url = instance_url
        self.pod = "5g"
        self.org_id = make_id("00D", self.pod, 3_000_000 + org_number)
        self.identity = Identity(self.org_id, session_seconds=session_seconds)
        self.budget = ApiBudget(daily_api_requests, budget_window_seconds)
        self.faults = Faults()
        self.api_calls: Counter = Counter()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._tables: dict[str, dict[str, dict]] = defaultdict(dict)
        self._unique: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self._references: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self._deleted_with: dict[str, list[tuple[str, str]]] = {}
        self._sequence = itertools.count(7_000_000)
        self._numbers: dict[str, int] = dict(AUTO_NUMBER_START)
        self._commit_numbers = itertools.count(1)
        self._tx: _Transaction | None = None
        self._change_callbacks: list[Callable[[ChangeEvent], None]] = []
        self._event_callbacks: list[Callable[[PlatformEvent], None]] = []
        self.published_events: list[PlatformEvent] = []
        self.published_count = 0
        self.standard_pricebook_id = ""
        self.admin = self.add_user(
            "admin@ledgerbridge.demo", "admin-password", "ADMINTOKEN", first="Org"
        )
        self.standard_pricebook_id = self._bootstrap_pricebook()

    # -- identity ----------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        password: str,
        security_token: str = "",
        *,
        first: str = "",
        last: str = "Admin",
        email: str = "",
        profile: str = "System Administrator",
    ) -> User:
        with self._lock:
            user_id = self._new_id("User")
            user = User(
                user_id,
                username,
                password,
                security_token,
                first,
                last,
                email or username,
                profile,
            )
            self.identity.users[username.lower()] = user
            now = format_datetime(self.clock())
            record = self._blank(self.schema.get("User"))
            record.update(
                Id=user_id,
                Username=username,
                FirstName=first or None,
                LastName=last,
                Name=" ".join(p for p in (first, last) if p),
                Email=user.email,
                Alias=(first[:1] + last)[:8].lower(),
                IsActive=True,
                ProfileName=profile,
                IsDeleted=False,
                CreatedDate=now,
                LastModifiedDate=now,
                SystemModstamp=now,
            )
            record["CreatedById"] = record["LastModifiedById"] = getattr(
                self, "admin", user
            ).id
            self._tables["User"][user_id] = record
            return user

    def add_connected_app(
        self,
        name: str,
        client_id: str,
        client_secret: str,
        *,
        public_key_pem: str = "",
        run_as_username: str = "",
    ) -> ConnectedApp:
        app = ConnectedApp(
            name, client_id, client_secret, public_key_pem, run_as_username
        )
        with self._lock:
            self.identity.apps[client_id] = app
        return app

    def expire_sessions(self) -> None:
        """Every issued access token stops working (as after a session timeout)."""
        with self._lock:
            self.identity.sessions.clear()

    def revoke(self, token: str) -> bool:
        with self._lock:
            return self.identity.sessions.pop(token, None) is not None

    def set_budget(self, *, max: int | None = None, used: int | None = None) -> None:
        with self._lock:
            self.budget.remaining()  # start the window
            if max is not None:
                self.budget.maximum = max
            if used is not None:
                self.budget.used = used

    def limits(self) -> dict:
        with self._lock:
            api_max, api_left = self.budget.maximum, self.budget.remaining()
            records = sum(len(t) for t in self._tables.values())
        storage_mb = 5 + records * 2 // 1024

        def entry(maximum: int, remaining: int) -> dict:
            return {"Max": maximum, "Remaining": remaining}

        return {
            "ConcurrentAsyncGetReportInstances": entry(200, 200),
            "DailyApiRequests": entry(api_max, api_left),
            "DailyAsyncApexExecutions": entry(250000, 250000),
            "DailyBulkApiBatches": entry(15000, 15000),
            "DailyBulkV2QueryJobs": entry(10000, 10000),
            "DailyDeliveredPlatformEvents": entry(50000, 50000),
            "DataStorageMB": entry(1024, max(1024 - storage_mb, 0)),
            "FileStorageMB": entry(20480, 20480),
            "HourlyPublishedPlatformEvents": entry(
                250000, max(250000 - self.published_count, 0)
            ),
            "SingleEmail": entry(5000, 5000),
        }

    # -- hooks -------------------------------------------------------------------------
    def on_change(self, callback: Callable[[ChangeEvent], None]) -> None:
        self._change_callbacks.append(callback)

    def on_platform_event(self, callback: Callable[[PlatformEvent], None]) -> None:
        self._event_callbacks.append(callback)

    def _dispatch(self, changes: list[ChangeEvent], events: list[PlatformEvent]):
        for change in changes:
            for callback in list(self._change_callbacks):
                try:
                    callback(change)
                except Exception:
                    log.exception("change callback %r failed", callback)
        for event in events:
            for callback in list(self._event_callbacks):
                try:
                    callback(event)
                except Exception:
                    log.exception("platform event callback %r failed", callback)

    # -- the SOQL source protocol ------------------------------------------------------
    def sobject(self, name: str) -> ObjectMeta | None:
        return self.schema.get(name)

    def rows(
        self, sobject_name: str, *, include_deleted: bool = False
    ) -> Iterable[dict]:
        """Stored records (read-only views) of one object."""
        obj = self.schema.get(sobject_name)
        if obj is None:
            return []
        with self._lock:
            table = list(self._tables[obj.name].values())
        if include_deleted:
            return table
        return [r for r in table if not r["IsDeleted"]]

    def get(self, sobject_name: str, record_id: str) -> dict | None:
        """A stored record (read-only view) by 15- or 18-character id, deleted
        ones included (a queryAll row's parent still resolves)."""
        obj = self.schema.get(sobject_name)
        full = to18(record_id) if isinstance(record_id, str) else None
        if obj is None or full is None:
            return None
        with self._lock:
            return self._tables[obj.name].get(full)

    def record_url(self, sobject_name: str, record_id: str, version: str = "") -> str:
        obj = self.schema.get(sobject_name)
        name = obj.name if obj else sobject_name
        return f"/services/data/v{version or API_VERSION}/sobjects/{name}/{record_id}"

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock for a consistent read across several calls (queries)."""
        with self._lock:
            yield

    # -- transactions ------------------------------------------------------------------
    def default_caller(self) -> Caller:
        return Caller(self.admin.id)

    @contextmanager
    def atomic(self, caller: Caller | None = None) -> Iterator[_Transaction]:
        """One transaction; nested calls join the outer one."""
        with self._lock:
            if self._tx is not None:
                yield self._tx
                return
            tx = _Transaction(
                caller or self.default_caller(), format_datetime(self.clock())
            )
            self._tx = tx
            try:
                yield tx
            except BaseException:
                self._rollback(tx, (0, 0, 0))
                raise
            finally:
                self._tx = None
            changes = self._commit(tx)
            self.published_events.extend(tx.published)
            self.published_count += len(tx.published)
        self._dispatch(changes, tx.published)

    def savepoint(self) -> tuple[int, int, int]:
        return self._tx.mark()

    def rollback_to(self, mark: tuple[int, int, int]) -> None:
        self._rollback(self._tx, mark)

    def _rollback(self, tx: _Transaction, mark: tuple[int, int, int]) -> None:
        undo_at, changes_at, published_at = mark
        while len(tx.undo) > undo_at:
            sobject, record_id, before = tx.undo.pop()
            self._store(sobject, record_id, before, journal=False)
        del tx.changes[changes_at:]
        del tx.published[published_at:]

    def _commit(self, tx: _Transaction) -> list[ChangeEvent]:
        if not tx.changes:
            return []
        commit_number = next(self._commit_numbers)
        stamp = int(
            dt.datetime.fromisoformat(tx.now.replace("+0000", "+00:00")).timestamp()
            * 1000
        )
        key = str(uuid.uuid4())
        return [
            ChangeEvent(
                entity=p.entity,
                change_type=p.change_type,
                record_ids=(p.record_id,),
                changed_fields=p.changed_fields,
                fields=p.fields,
                commit_timestamp=stamp,
                commit_number=commit_number,
                transaction_key=key,
                commit_user=tx.caller.user_id,
                change_origin=tx.caller.origin,
                record=p.record,
            )
            for p in tx.changes
        ]

    # -- storage and indexes -----------------------------------------------------------
    def _store(
        self, sobject: str, record_id: str, record: dict | None, *, journal=True
    ):
        table = self._tables[sobject]
        before = table.get(record_id)
        if journal and self._tx is not None:
            self._tx.undo.append((sobject, record_id, before))
        obj = self.schema.get(sobject)
        for meta in obj.fields:
            if meta.unique or meta.external_id:
                index = self._unique[(sobject, meta.name)]
                if (
                    before is not None
                    and before.get(meta.name)
                    and not before["IsDeleted"]
                ):
                    index[str(before[meta.name]).lower()].discard(record_id)
                if (
                    record is not None
                    and record.get(meta.name)
                    and not record["IsDeleted"]
                ):
                    index[str(record[meta.name]).lower()].add(record_id)
            elif meta.type == "reference" and meta.name not in UNTRACKED | {
                "CreatedById",
                "OwnerId",
            }:
                index = self._references[(sobject, meta.name)]
                if before is not None and before.get(meta.name):
                    index[before[meta.name]].discard(record_id)
                if record is not None and record.get(meta.name):
                    index[record[meta.name]].add(record_id)
        if record is None:
            table.pop(record_id, None)
        else:
            table[record_id] = record

    def _live(self, sobject: str, record_id: str | None) -> dict | None:
        record = self._tables[sobject].get(record_id) if record_id else None
        return None if record is None or record["IsDeleted"] else record

    def _children(self, sobject: str, field_name: str, parent_id: str) -> list[dict]:
        ids = self._references[(sobject, field_name)].get(parent_id, ())
        table = self._tables[sobject]
        return [table[i] for i in sorted(ids) if not table[i]["IsDeleted"]]

    def _matches(self, sobject: str, field_name: str, value) -> list[str]:
        return sorted(self._unique[(sobject, field_name)].get(str(value).lower(), ()))

    def _new_id(self, sobject: str) -> str:
        obj = self.schema.get(sobject)
        return make_id(obj.key_prefix, self.pod, next(self._sequence) * 7919)

    def _next_number(self, sobject: str) -> str:
        number = self._numbers.get(sobject, 1)
        self._numbers[sobject] = number + 1
        return f"{number:08d}" if sobject == "Order" else f"{number:010d}"

    def _blank(self, obj: ObjectMeta) -> dict:
        record = {meta.name: None for meta in obj.fields}
        for meta in obj.fields:
            if meta.defaulted_on_create and meta.default_value is not None:
                record[meta.name] = meta.default_value
        return record

    def _bootstrap_pricebook(self) -> str:
        with self.atomic():
            record_id = self._insert(
                "Pricebook2", {"Name": "Standard Price Book", "IsActive": True}
            )
            self._tables["Pricebook2"][record_id]["IsStandard"] = True
            self._tx.changes.clear()
        return record_id

    # -- schema administration ---------------------------------------------------------
    def add_custom_field(
        self, sobject: str, name: str, type: str = "string", **options
    ) -> FieldMeta:
        """Add a custom field the way an admin does in Setup (``name`` ends __c).

        ``options``: label, length, precision, scale, external_id, unique,
        picklist (values), restricted_picklist, reference_to, relationship_name,
        nillable, default_value."""
        if "picklist" in options:
            options["picklist"] = tuple(options["picklist"])
        if "reference_to" in options:
            options["reference_to"] = tuple(options["reference_to"])
            options.setdefault("relationship_name", name[:-3] + "__r")
            options.setdefault("length", 18)
        if options.get("external_id"):
            options.setdefault("id_lookup", True)
        with self._lock:
            meta = self.schema.add_custom_field(
                sobject, FieldMeta(name, type, **options)
            )
            obj = self.schema.get(sobject)
            for record in self._tables[obj.name].values():
                record.setdefault(meta.name, meta.default_value)
        return meta

    # -- record operations (public) ----------------------------------------------------
    def create(self, sobject: str, data: dict, *, caller: Caller | None = None) -> str:
        """Insert one record (or publish a platform event); returns its id."""
        with self.atomic(caller):
            return self._insert(sobject, data)

    def update(
        self, sobject: str, record_id: str, data: dict, *, caller: Caller | None = None
    ) -> None:
        with self.atomic(caller):
            self._update(sobject, record_id, data)

    def delete(self, sobject: str, record_id: str, *, caller: Caller | None = None):
        with self.atomic(caller):
            self._delete(sobject, record_id)

    def undelete(self, sobject: str, record_id: str, *, caller: Caller | None = None):
        with self.atomic(caller):
            self._undelete(sobject, record_id)

    def upsert(
        self,
        sobject: str,
        field_name: str,
        value: str,
        data: dict,
        *,
        caller: Caller | None = None,
    ) -> tuple[str, bool]:
        """(id, created) for an upsert on an external-id field (or Id)."""
        with self.atomic(caller):
            return self._upsert(sobject, field_name, value, data)

    def retrieve(
        self, sobject: str, record_id: str, fields: list[str] | None = None, version=""
    ) -> dict:
        """The REST GET shape of a record (``attributes`` first)."""
        obj = self.object_or_404(sobject)
        with self._lock:
            record = self._find_for(obj, record_id, for_write=False)
            return self.shape(obj, record, fields, version)

    def shape(self, obj: ObjectMeta, record: dict, fields=None, version="") -> dict:
        names = [meta.name for meta in obj.fields]
        if fields:
            names = []
            for name in fields:
                meta = obj.field(name.strip())
                if meta is None:
                    raise ApiError(
                        "INVALID_FIELD",
                        f"No such column '{name.strip()}' on sobject of type "
                        f"{obj.name}",
                    )
                names.append(meta.name)
        body = {
            "attributes": {
                "type": obj.name,
                "url": self.record_url(obj.name, record["Id"], version),
            }
        }
        body.update({name: record.get(name) for name in names})
        return body

    def object_or_404(self, sobject: str) -> ObjectMeta:
        obj = self.schema.get(sobject)
        if obj is None:
            raise not_found()
        return obj

    def changed_between(self, sobject: str, start: str, end: str, *, deleted: bool):
        """Ids updated (or deleted) with SystemModstamp in [start, end)."""
        obj = self.object_or_404(sobject)
        with self._lock:
            return [
                (record["Id"], record["SystemModstamp"])
                for record in self._tables[obj.name].values()
                if bool(record["IsDeleted"]) == deleted
                and start <= record["SystemModstamp"] < end
            ]

    # -- record operations (inside a transaction) --------------------------------------
    def _check_body(self, obj: ObjectMeta, data: dict, *, creating: bool) -> dict:
        """The caller's values, coerced; errors name the offending fields."""
        if not isinstance(data, dict):
            raise ApiError(
                "JSON_PARSER_ERROR", "The request body must be a JSON object."
            )
        values, read_only = {}, []
        for key, value in data.items():
            if key == "attributes":
                continue
            meta = obj.field(key)
            if meta is None:
                parent = obj.parent_relationship(key)
                if parent is not None and isinstance(value, dict):
                    values[parent.name] = self._resolve_parent(parent, value)
                    continue
                raise ApiError(
                    "INVALID_FIELD",
                    f"No such column '{key}' on sobject of type {obj.name}",
                    [key],
                )
            allowed = meta.createable if creating else meta.updateable
            if not allowed:
                read_only.append(meta.name)
                continue
            values[meta.name] = coerce(meta, value)
        if read_only:
            raise ApiError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(read_only)}. Please check "
                "the security settings of this field and verify that it is read/write "
                "for your profile or permission set.",
                read_only,
            )
        return values

    def _resolve_parent(self, meta: FieldMeta, value: dict) -> str:
        """``"Account": {"ExternalID__c": "01-ABF"}`` → the Account's id."""
        target = self.schema.get(meta.reference_to[0])
        keys = [k for k in value if k != "attributes"]
        key_meta = target.field(keys[0]) if len(keys) == 1 else None
        if key_meta is None or not (key_meta.external_id or key_meta.name == "Id"):
            raise ApiError(
                "INVALID_FIELD",
                f"{meta.relationship_name}: a foreign key reference needs exactly one "
                f"external id field of {target.name}",
                [meta.name],
            )
        if key_meta.name == "Id":
            return value[keys[0]]
        matches = self._matches(target.name, key_meta.name, value[keys[0]])
        if not matches:
            raise ApiError(
                "INVALID_FIELD",
                f"Foreign key external ID: {value[keys[0]]} not found for field "
                f"{key_meta.name} in entity {target.name}",
                [meta.name],
            )
        if len(matches) > 1:
            raise ApiError(
                "INVALID_FIELD",
                f"Foreign key external ID: {value[keys[0]]} matches more than one "
                f"record for field {key_meta.name} in entity {target.name}",
                [meta.name],
            )
        return matches[0]

    def _check_references(self, obj: ObjectMeta, values: dict) -> None:
        for name, value in list(values.items()):
            meta = obj.field(name)
            if meta.type != "reference" or value is None:
                continue
            full = to18(value)
            if full is None:
                raise ApiError(
                    "MALFORMED_ID",
                    f"{meta.label}: id value of incorrect type: {value}",
                    [meta.name],
                )
            targets = [self.schema.get(t) for t in meta.reference_to]
            target = next(
                (t for t in targets if t and full.startswith(t.key_prefix)), None
            )
            if target is None:
                raise ApiError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"{meta.label}: id value of incorrect type: {value}",
                    [meta.name],
                )
            if self._live(target.name, full) is None:
                raise ApiError(
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id",
                    [meta.name],
                )
            values[name] = full

    def _check_required(self, obj: ObjectMeta, record: dict, values: dict, creating):
        missing = [
            meta.name
            for meta in obj.fields
            if not meta.nillable
            and meta.createable
            and record.get(meta.name) in (None, "")
            and (creating or meta.name in values)
        ]
        if missing:
            raise ApiError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )

    def _check_unique(self, obj: ObjectMeta, record: dict) -> None:
        for meta in obj.fields:
            if not meta.unique or record.get(meta.name) in (None, ""):
                continue
            others = [
                i
                for i in self._matches(obj.name, meta.name, record[meta.name])
                if i != record["Id"]
            ]
            if others:
                raise ApiError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {meta.name} duplicates value on record "
                    f"with id: {others[0]}",
                    [meta.name],
                )

    def _writable_object(self, sobject: str, action: str) -> ObjectMeta:
        obj = self.object_or_404(sobject)
        allowed = {"create": obj.createable, "update": obj.updateable}.get(
            action, obj.deletable
        )
        if not allowed:
            raise ApiError(
                "INVALID_TYPE",
                f"{obj.name}: entity type does not support {action}",
                status=400,
            )
        return obj

    def _insert(self, sobject: str, data: dict) -> str:
        obj = self._writable_object(sobject, "create")
        if obj.platform_event:
            return self._publish(obj, data)
        values = self._check_body(obj, data, creating=True)
        self._check_references(obj, values)
        tx = self._tx
        record = self._blank(obj)
        record.update(values)
        record_id = self._new_id(obj.name)
        user = tx.caller.user_id
        record.update(
            Id=record_id,
            IsDeleted=False,
            CreatedDate=tx.now,
            CreatedById=user,
            LastModifiedDate=tx.now,
            LastModifiedById=user,
            SystemModstamp=tx.now,
        )
        if obj.field("OwnerId") and not record.get("OwnerId"):
            record["OwnerId"] = user
        if obj.field("Name") and obj.field("Name").defaulted_on_create:
            record["Name"] = record["Name"] or record_id
        self._check_required(obj, record, values, True)
        rules.before_write(_RuleContext(self, tx), obj.name, None, record, values)
        self._check_unique(obj, record)
        self._store(obj.name, record_id, record)
        tx.changes.append(
            _Pending(
                obj.name,
                "CREATE",
                record_id,
                tuple(k for k, v in record.items() if v is not None and k != "Id"),
                {k: v for k, v in record.items() if v is not None and k != "Id"},
                dict(record),
            )
        )
        rules.after_write(_RuleContext(self, tx), obj.name, None, record)
        return record_id

    def _find_for(self, obj: ObjectMeta, record_id: str, *, for_write: bool) -> dict:
        full = to18(record_id)
        if full is None or not full.startswith(obj.key_prefix):
            raise ApiError(
                "MALFORMED_ID",
                f"{obj.label} ID: id value of incorrect type: {record_id}",
                ["Id"],
            )
        record = self._tables[obj.name].get(full)
        if record is None or (record["IsDeleted"] and not for_write):
            raise not_found()
        if record["IsDeleted"]:
            raise ApiError("ENTITY_IS_DELETED", "entity is deleted", status=404)
        return record

    def _update(self, sobject: str, record_id: str, data: dict) -> None:
        obj = self._writable_object(sobject, "update")
        old = self._find_for(obj, record_id, for_write=True)
        values = self._check_body(obj, data, creating=False)
        self._check_references(obj, values)
        new = dict(old)
        new.update(values)
        self._check_required(obj, new, values, False)
        tx = self._tx
        rules.before_write(_RuleContext(self, tx), obj.name, old, new, values)
        self._check_unique(obj, new)
        self._save_update(obj, old, new)
        rules.after_write(_RuleContext(self, tx), obj.name, old, new)

    def _save_update(self, obj: ObjectMeta, old: dict, new: dict) -> None:
        tx = self._tx
        new.update(
            LastModifiedDate=tx.now,
            LastModifiedById=tx.caller.user_id,
            SystemModstamp=tx.now,
        )
        changed = tuple(
            name for name in new if name not in UNTRACKED and new[name] != old.get(name)
        )
        self._store(obj.name, old["Id"], new)
        if changed:
            tx.changes.append(
                _Pending(
                    obj.name,
                    "UPDATE",
                    old["Id"],
                    changed,
                    {name: new[name] for name in changed},
                    dict(new),
                )
            )

    def _system_update(self, sobject: str, record_id: str, values: dict) -> None:
        """Roll-ups and derived values the platform writes itself (no rules)."""
        old = self._live(sobject, record_id)
        if old is None or all(old.get(k) == v for k, v in values.items()):
            return
        new = dict(old)
        new.update(values)
        self._save_update(self.schema.get(sobject), old, new)

    def _delete(self, sobject: str, record_id: str, *, cascade_of: str = "") -> None:
        obj = self._writable_object(sobject, "delete")
        record = self._find_for(obj, record_id, for_write=True)
        ctx = _RuleContext(self, self._tx)
        rules.before_delete(ctx, obj.name, record)
        removed = []
        for child in obj.children:
            if not child.cascade_delete:
                continue
            for row in self._children(child.child_sobject, child.field, record["Id"]):
                self._delete(child.child_sobject, row["Id"], cascade_of=record["Id"])
                removed.append((child.child_sobject, row["Id"]))
        tx = self._tx
        new = dict(record, IsDeleted=True, SystemModstamp=tx.now)
        new.update(LastModifiedDate=tx.now, LastModifiedById=tx.caller.user_id)
        self._store(obj.name, record["Id"], new)
        self._deleted_with[record["Id"]] = removed
        tx.changes.append(_Pending(obj.name, "DELETE", record["Id"], (), {}, dict(new)))
        if not cascade_of:
            rules.after_write(ctx, obj.name, record, None)

    def _undelete(self, sobject: str, record_id: str) -> None:
        obj = self._writable_object(sobject, "delete")
        full = to18(record_id)
        record = self._tables[obj.name].get(full or "")
        if record is None:
            raise not_found()
        if not record["IsDeleted"]:
            raise ApiError("UNDELETE_FAILED", "Entity is not in the recycle bin")
        tx = self._tx
        new = dict(record, IsDeleted=False, SystemModstamp=tx.now)
        new.update(LastModifiedDate=tx.now, LastModifiedById=tx.caller.user_id)
        self._check_unique(obj, new)
        self._store(obj.name, new["Id"], new)
        fields = {k: v for k, v in new.items() if v is not None and k != "Id"}
        tx.changes.append(
            _Pending(obj.name, "UNDELETE", new["Id"], tuple(fields), fields, dict(new))
        )
        for child_sobject, child_id in self._deleted_with.pop(new["Id"], []):
            self._undelete(child_sobject, child_id)
        rules.after_write(_RuleContext(self, tx), obj.name, None, new)

    def _upsert(self, sobject: str, field_name: str, value: str, data: dict):
        obj = self._writable_object(sobject, "update")
        meta = obj.field(field_name)
        if meta is None or not (meta.external_id or meta.name == "Id"):
            raise ApiError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: "
                f"{field_name}",
                status=404,
            )
        if isinstance(data, dict):
            for key, given in data.items():
                if key.lower() == meta.name.lower() and str(given) != str(value):
                    raise ApiError(
                        "INVALID_FIELD",
                        f"The value of {meta.name} in the request body ({given}) does "
                        f"not match the value in the URL ({value})",
                        [meta.name],
                    )
            data = {k: v for k, v in data.items() if k.lower() != meta.name.lower()}
        if meta.name == "Id":
            matches = (
                [to18(value)] if value and to18(value) in self._tables[obj.name] else []
            )
        else:
            matches = self._matches(obj.name, meta.name, value)
        if len(matches) > 1:
            raise MultipleMatches([self.record_url(obj.name, i) for i in matches])
        if matches:
            self._update(obj.name, matches[0], data)
            return matches[0], False
        if meta.name == "Id":
            return self._insert(obj.name, data), True
        coerce(meta, value)
        return self._insert(obj.name, {**data, meta.name: value}), True

    def _publish(self, obj: ObjectMeta, data: dict) -> str:
        values = self._check_body(obj, data, creating=True)
        record = self._blank(obj)
        record.update(values)
        self._check_required(obj, record, values, True)
        tx = self._tx
        event_id = self._new_id(obj.name)
        fields = {k: v for k, v in values.items() if v is not None}
        event = PlatformEvent(
            name=obj.name,
            fields=fields,
            event_uuid=str(uuid.uuid4()),
            created_date=tx.now,
            created_by_id=tx.caller.user_id,
        )
        tx.published.append(event)
        return event_id
