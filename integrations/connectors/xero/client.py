"""The Xero Accounting client the flows use, on xero-python's ``AccountingApi``.

Documents are plain dicts in Xero's own JSON names (``InvoiceNumber``,
``LineItems``…); numbers come back as ``Decimal``, as xero-python parses them.
The SDK is asked for the raw answer (``_preload_content=False``) so nothing is
lost in its models and the rate headers can be read.

Every call goes through the shared per-tenant throttle and is logged; a 401
renews the login once and tries again; a 429 pauses the tenant's throttle for
every worker for Retry-After. ``save_*`` send batches of at most 50 with
``summarizeErrors=false`` and one ``Idempotency-Key`` per batch, so one bad
invoice fails alone and a retried batch is not created twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from xero_python import exceptions as sdk
from xero_python.accounting import AccountingApi

from integrations.connectors.base import CallLog, Throttle, no_log
from integrations.connectors.xero import auth
from integrations.connectors.xero import errors as xero_errors
from integrations.connectors.xero.settings import XeroSettings
from integrations.engine import errors

BATCH_SIZE = 50
PAGE_SIZE = 100  # what Xero returns per page= on paged endpoints
MAX_PAGES = 1000
IDEMPOTENCY_KEY_MAX = 128
# Xero parses the query string itself; the SDK would send Python's "False".
SUMMARIZE_ERRORS = "false"
RATE_HEADERS = {
    "x-minlimit-remaining": "minute",
    "x-daylimit-remaining": "day",
    "x-appminlimit-remaining": "app_minute",
}


@dataclass
class ElementResult:
    """What Xero did with one document of a batch, in the order they were sent."""

    ok: bool
    document: dict
    errors: list[str] = field(default_factory=list)

    def error(self, *, kind: str, doing: str = "saving it") -> errors.SyncError:
        """This refusal as the taxonomy error a flow raises (data errors)."""
        return xero_errors.for_messages(
            self.errors,
            doing=doing,
            what=xero_errors.describe(kind, self.document),
            detail=json.dumps(self.document, default=str)[:4000],
        )


@dataclass(frozen=True)
class RateLimits:
    """Xero's X-*Limit-Remaining headers from the latest answer (None: not sent)."""

    minute: int | None = None
    day: int | None = None
    app_minute: int | None = None


class XeroClient:
    system = "xero"

    def __init__(
        self,
        conf: XeroSettings,
        *,
        tokens: auth.TokenStore | None = None,
        throttle: Throttle | None = None,
        log: CallLog = no_log,
    ) -> None:
        self.conf = conf
        self.tokens = tokens or auth.MemoryTokenStore(conf.token_set)
        self.throttle = throttle
        self.log = log
        self.api_client = auth.new_api_client(conf, self.tokens)
        self.accounting = AccountingApi(self.api_client, base_url=conf.accounting_url)
        self.identity = auth.identity_api(conf, self.api_client)
        self.limits = RateLimits()

    # -- reading ------------------------------------------------------------------

    def ping(self) -> dict:
        """The organisation, proving addresses, certificate, login and tenant."""
        body = self._accounting(
            "GET",
            "/Organisation",
            self.accounting.get_organisations,
            doing="testing the connection",
            what="the organisation",
        )
        organisation = (body.get("Organisations") or [{}])[0]
        name = organisation.get("Name") or self.conf.tenant_name or "?"
        details = {
            "organisation": name,
            "tenant_id": self.conf.tenant_id,
            "base_currency": organisation.get("BaseCurrency", ""),
        }
        if self.limits.day is not None:
            details["calls_left_today"] = self.limits.day
        return {"summary": f"Reached Xero organisation {name}.", **details}

    def connections(self) -> list[dict]:
        """The tenants this connection's login reaches (``GET /connections``)."""
        return self._call(
            "GET",
            "/Connections",
            self.identity.get_connections,
            {},
            url=f"{self.conf.identity_api_url}/Connections",
            doing="listing the organisations",
            what="the connections list",
            throttled=False,
        )

    def disconnect_tenant(self, connection_id: str) -> None:
        """``DELETE /connections/{id}``: Xero forgets this app for one tenant."""
        self._call(
            "DELETE",
            f"/Connections/{connection_id}",
            self.identity.delete_connection,
            {"id": connection_id},
            url=f"{self.conf.identity_api_url}/Connections/{connection_id}",
            doing="disconnecting the organisation",
            what="that connection",
            throttled=False,
        )

    def get_contacts(
        self,
        *,
        where: str | None = None,
        ids: Sequence[str] | None = None,
        modified_since: datetime | str | None = None,
        page: int | None = None,
        search_term: str | None = None,
        include_archived: bool = False,
    ) -> list[dict]:
        query = {
            "where": where,
            "i_ds": list(ids) if ids else None,
            "if_modified_since": _since(modified_since),
            "search_term": search_term,
            "include_archived": "true" if include_archived else None,
        }
        return self._pages("Contacts", query, page)

    def get_items(
        self, *, where: str | None = None, modified_since: datetime | str | None = None
    ) -> list[dict]:
        query = {"where": where, "if_modified_since": _since(modified_since)}
        return self._list("Items", query)

    def get_invoices(
        self,
        *,
        where: str | None = None,
        ids: Sequence[str] | None = None,
        invoice_numbers: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        contact_ids: Sequence[str] | None = None,
        modified_since: datetime | str | None = None,
        page: int | None = None,
    ) -> list[dict]:
        query = {
            "where": where,
            "i_ds": list(ids) if ids else None,
            "invoice_numbers": list(invoice_numbers) if invoice_numbers else None,
            "statuses": list(statuses) if statuses else None,
            "contact_i_ds": list(contact_ids) if contact_ids else None,
            "if_modified_since": _since(modified_since),
        }
        return self._pages("Invoices", query, page)

    def get_payments(
        self,
        *,
        where: str | None = None,
        modified_since: datetime | str | None = None,
        page: int | None = None,
    ) -> list[dict]:
        query = {"where": where, "if_modified_since": _since(modified_since)}
        return self._pages("Payments", query, page)

    def get_purchase_orders(
        self,
        *,
        status: str | None = None,
        modified_since: datetime | str | None = None,
        page: int | None = None,
    ) -> list[dict]:
        query = {"status": status, "if_modified_since": _since(modified_since)}
        return self._pages("PurchaseOrders", query, page)

    def get_credit_notes(
        self,
        *,
        where: str | None = None,
        modified_since: datetime | str | None = None,
        page: int | None = None,
    ) -> list[dict]:
        query = {"where": where, "if_modified_since": _since(modified_since)}
        return self._pages("CreditNotes", query, page)

    def get_accounts(self, *, where: str | None = None) -> list[dict]:
        return self._list("Accounts", {"where": where})

    def get_tax_rates(self, *, where: str | None = None) -> list[dict]:
        return self._list("TaxRates", {"where": where})

    def get_currencies(self) -> list[dict]:
        return self._list("Currencies", {})

    # -- writing ------------------------------------------------------------------

    def save_contacts(
        self,
        contacts: Sequence[dict],
        *,
        create_only: bool = False,
        idempotency_key: str,
    ) -> list[ElementResult]:
        return self._save("Contacts", contacts, idempotency_key, create_only)

    def save_items(
        self, items: Sequence[dict], *, idempotency_key: str
    ) -> list[ElementResult]:
        return self._save("Items", items, idempotency_key, create_only=False)

    def save_invoices(
        self,
        invoices: Sequence[dict],
        *,
        create_only: bool = False,
        idempotency_key: str,
    ) -> list[ElementResult]:
        return self._save("Invoices", invoices, idempotency_key, create_only)

    def update_invoice(
        self, invoice_id: str, invoice: dict, *, idempotency_key: str
    ) -> dict:
        """Change one invoice (status, lines…); a refusal raises, naming it."""
        _check_key(idempotency_key)
        what = xero_errors.describe("invoice", {"InvoiceID": invoice_id, **invoice})
        body = self._accounting(
            "POST",
            f"/Invoices/{invoice_id}",
            self.accounting.update_invoice,
            invoice_id=invoice_id,
            invoices={"Invoices": [_wire({**invoice, "InvoiceID": invoice_id})]},
            idempotency_key=_batch_key(idempotency_key, 0),
            doing="updating it",
            what=what,
        )
        updated = (body.get("Invoices") or [{}])[0]
        if updated.get("HasErrors"):
            raise xero_errors.for_element(updated, doing="updating it", what=what)
        return updated

    def create_payments(
        self, payments: Sequence[dict], *, idempotency_key: str
    ) -> list[ElementResult]:
        return self._save("Payments", payments, idempotency_key, create_only=True)

    def save_credit_notes(
        self,
        credit_notes: Sequence[dict],
        *,
        create_only: bool = False,
        idempotency_key: str,
    ) -> list[ElementResult]:
        """Credit notes (``ACCRECCREDIT``/``ACCPAYCREDIT``) in batches of 50, as
        ``save_invoices``; Xero ignores ``Allocations`` sent here, so applying
        credit to an invoice is ``allocate_credit_note``'s own call."""
        return self._save("CreditNotes", credit_notes, idempotency_key, create_only)

    def allocate_credit_note(
        self,
        credit_note_id: str,
        invoice_id: str,
        amount: Decimal,
        on: date | str,
        *,
        idempotency_key: str,
    ) -> dict:
        """Apply ``amount`` of the credit note to an invoice of the same contact
        (``PUT /CreditNotes/{id}/Allocations``); a refusal raises, naming it."""
        _check_key(idempotency_key)
        what = f"credit note {credit_note_id}"
        allocation = {
            "Invoice": {"InvoiceID": invoice_id},
            "Amount": amount,
            "Date": on,
        }
        body = self._accounting(
            "PUT",
            f"/CreditNotes/{credit_note_id}/Allocations",
            self.accounting.create_credit_note_allocation,
            credit_note_id=credit_note_id,
            allocations={"Allocations": [_wire(allocation)]},
            summarize_errors=SUMMARIZE_ERRORS,
            idempotency_key=_batch_key(idempotency_key, 0),
            doing="allocating it to an invoice",
            what=what,
        )
        made = (body.get("Allocations") or [{}])[0]
        if made.get("HasErrors") or xero_errors.validation_messages(made):
            raise xero_errors.for_element(
                made, doing="allocating it to an invoice", what=what
            )
        return made

    def save_purchase_orders(
        self, orders: Sequence[dict], *, idempotency_key: str
    ) -> list[ElementResult]:
        return self._save("PurchaseOrders", orders, idempotency_key, create_only=False)

    # -- machinery ----------------------------------------------------------------

    def _save(
        self,
        plural: str,
        documents: Sequence[dict],
        idempotency_key: str,
        create_only: bool,
    ) -> list[ElementResult]:
        """PUT creates only (Xero refuses one that exists), POST updates or
        creates; the SDK names them ``create_<plural>``/``update_or_create_<plural>``.
        Batches of 50, each its own call and Idempotency-Key; results in order."""
        name = _snake(plural)
        method = "PUT" if create_only else "POST"
        operation = getattr(
            self.accounting,
            f"create_{name}" if create_only else f"update_or_create_{name}",
        )
        path = f"/{plural}"
        _check_key(idempotency_key)
        documents = list(documents)
        results: list[ElementResult] = []
        for index, batch in enumerate(_batches(documents, BATCH_SIZE)):
            doing = f"saving {len(batch)} {plural.lower()} (batch {index + 1})"
            try:
                body = self._accounting(
                    method,
                    path,
                    operation,
                    doing=doing,
                    what=f"the {plural.lower()}",
                    summarize_errors=SUMMARIZE_ERRORS,
                    idempotency_key=_batch_key(idempotency_key, index),
                    **{_argument(operation): {plural: [_wire(d) for d in batch]}},
                )
            except errors.SyncError as exc:
                per_element = _refused_batch(exc, batch, plural)
                if per_element is None:
                    raise
                results.extend(per_element)
                continue
            answered = body.get(plural) or []
            if len(answered) != len(batch):
                raise errors.Unavailable(
                    f"Xero answered with {len(answered)} {plural.lower()} for the "
                    f"{len(batch)} sent while {doing}; will retry (the same "
                    "Idempotency-Key keeps it from creating any twice).",
                    detail=json.dumps(body, default=str)[:4000],
                )
            results.extend(_result(element) for element in answered)
        return results

    def _list(self, plural: str, query: dict) -> list[dict]:
        """``GET /<plural>`` through the SDK's ``get_<plural>``."""
        body = self._accounting(
            "GET",
            f"/{plural}",
            getattr(self.accounting, f"get_{_snake(plural)}"),
            doing=f"reading {plural.lower()}",
            what=f"the {plural.lower()}",
            **_present(query),
        )
        return list(body.get(plural) or [])

    def _pages(self, plural: str, query: dict, page: int | None) -> list[dict]:
        """One page when asked for one; otherwise every page, until a short one."""
        if page is not None:
            return self._list(plural, {**query, "page": page})
        found: list[dict] = []
        for number in range(1, MAX_PAGES + 1):
            chunk = self._list(plural, {**query, "page": number})
            found.extend(chunk)
            if len(chunk) < PAGE_SIZE:
                break
        return found

    def _accounting(
        self,
        method: str,
        path: str,
        operation: Callable,
        *,
        doing: str,
        what: str,
        **kwargs,
    ) -> dict:
        kwargs = {"xero_tenant_id": self.conf.tenant_id, **kwargs}
        if not self.conf.tenant_id and not self.conf.is_custom_connection:
            raise errors.ValidationFailed(
                "No Xero organisation is chosen for this connection yet; press "
                "Connect to Xero and choose one (settings.tenant_id).",
                field="settings.tenant_id",
            )
        body = self._call(
            method,
            path,
            operation,
            kwargs,
            url=f"{self.conf.accounting_url}{path}",
            doing=doing,
            what=what,
        )
        return body if isinstance(body, dict) else {}

    def _call(
        self,
        method: str,
        path: str,
        operation: Callable,
        kwargs: dict,
        *,
        url: str,
        doing: str,
        what: str,
        throttled: bool = True,
    ) -> Any:
        """One API call: throttled, logged, renewed once on 401, errors mapped."""
        token = self.api_client.configuration.oauth2_token
        for attempt in (1, 2):
            started = time.monotonic()
            gate = self.throttle.call() if throttled and self.throttle else None
            try:
                with gate or nullcontext():
                    try:
                        response, status, headers = operation(
                            **kwargs,
                            _return_http_data_only=False,
                            _preload_content=False,
                            _request_timeout=(self.conf.timeout, self.conf.timeout),
                        )
                    except sdk.HTTPStatusException as exc:
                        # Pause every worker before this call gives its slot
                        # back, or another may slip a call Xero will refuse
                        # into the gap.
                        self._pause_on_429(exc, doing=doing, what=what)
                        raise
                    data = response.data
                    response.release_conn()
            except sdk.HTTPStatusException as exc:
                status = int(getattr(exc.http_resp, "status", 0) or 0)
                self.log(self.system, method, url, status, started)
                self._note_limits(exc.headers)
                if status == 401 and attempt == 1:
                    token.renew(self.api_client)
                    continue
                error = xero_errors.from_api_exception(exc, doing=doing, what=what)
                if isinstance(error, errors.RateLimited):
                    self._pause(error.retry_after)
                raise error from exc
            except sdk.ApiException as exc:
                self.log(self.system, method, url, "ApiException", started)
                raise xero_errors.from_api_exception(
                    exc, doing=doing, what=what
                ) from exc
            except xero_errors.TRANSPORT_ERRORS as exc:
                self.log(self.system, method, url, type(exc).__name__, started)
                raise xero_errors.from_transport(exc, doing=doing, url=url) from exc
            self.log(self.system, method, url, status, started)
            self._note_limits(headers)
            if not data:
                return {}
            try:
                return json.loads(data, parse_float=Decimal)
            except ValueError as exc:
                raise errors.Unavailable(
                    f"Xero's answer was not JSON while {doing}; check "
                    "settings.accounting_url.",
                    field="settings.accounting_url",
                    detail=data[:2000].decode("utf-8", "replace"),
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _note_limits(self, headers) -> None:
        found: dict[str, int] = {}
        for key, value in (headers or {}).items():
            name = RATE_HEADERS.get(str(key).lower())
            if name is not None and str(value).strip().lstrip("-").isdigit():
                found[name] = int(value)
        if found:
            self.limits = RateLimits(**{**self.limits.__dict__, **found})

    def _pause_on_429(self, exc: Exception, *, doing: str, what: str) -> None:
        if int(getattr(getattr(exc, "http_resp", None), "status", 0) or 0) != 429:
            return
        error = xero_errors.from_api_exception(exc, doing=doing, what=what)
        if isinstance(error, errors.RateLimited):
            self._pause(error.retry_after)

    def _pause(self, seconds: float | None) -> None:
        """Xero said 429: every worker on this tenant waits, not only this one."""
        pause = getattr(self.throttle, "pause", None)
        if pause is not None and seconds:
            pause(seconds)


def _result(element: dict) -> ElementResult:
    messages = xero_errors.validation_messages(element)
    failed = bool(element.get("HasErrors")) or bool(messages)
    return ElementResult(ok=not failed, document=element, errors=messages)


def _refused_batch(
    exc: errors.SyncError, batch: list[dict], plural: str
) -> list[ElementResult] | None:
    """A whole batch answered 400 with one element per document sent (errors
    summarised after all) still tells which documents failed; anything else
    is the batch's own failure and is raised."""
    if not isinstance(exc, errors.ValidationFailed | errors.ReferenceMissing) and (
        not isinstance(exc, errors.DuplicateAmbiguous)
    ):
        return None
    body = getattr(exc, "xero_body", None)
    elements = body.get("Elements") if isinstance(body, dict) else None
    if not isinstance(elements, list) or len(elements) != len(batch):
        return None
    return [_result(element) for element in elements]


def _argument(operation: Callable) -> str:
    """The SDK's name for the body argument (``invoices``, ``purchase_orders``…)."""
    import inspect

    names = list(inspect.signature(operation).parameters)
    return names[1]


def _snake(plural: str) -> str:
    """``CreditNotes`` → ``credit_notes``: how the SDK names its operations."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", plural).lower()


def _batches(documents: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(documents), size):
        yield documents[start : start + size]


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key.strip():
        raise ValueError("idempotency_key must be a non-empty string")


def _batch_key(key: str, index: int) -> str:
    """``<key>:<batch>``, hashed when it would pass Xero's 128 characters."""
    suffix = f":{index}"
    if len(key) + len(suffix) > IDEMPOTENCY_KEY_MAX:
        key = "sha256-" + hashlib.sha256(key.encode()).hexdigest()
    return key + suffix


def _present(query: dict) -> dict:
    return {k: v for k, v in query.items() if v is not None}


def _since(value: datetime | date | str | None) -> str | None:
    """``If-Modified-Since`` as Xero takes it: UTC, to the second."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat()
    return datetime(value.year, value.month, value.day).isoformat()


def _wire(value: Any) -> Any:
    """JSON the SDK passes through untouched: no None (its serialiser refuses
    it), dates as ISO strings, Decimals kept exact as numbers."""
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value
