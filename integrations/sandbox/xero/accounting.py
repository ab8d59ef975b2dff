"""One simulated Xero organisation: the Accounting API's objects and rules.

``Organisation.handle`` takes an ``AccountingRequest`` (already authorised,
rate-limited and contract-checked by the server) and answers as Xero does:

- ``PUT`` creates only, ``POST`` creates or updates (by id, or by
  InvoiceNumber / ContactNumber / Item Code / PurchaseOrderNumber), and
  ``POST /<Collection>/{id}`` updates one.
- Batches answer per element. With ``summarizeErrors`` absent or true (Xero's
  real default, API-FACTS §1.3) any failure makes the answer 400
  ``ValidationException`` listing the failed elements, and the valid elements
  are saved all the same; with ``false`` the answer is 200 with every element,
  failed ones marked ``StatusAttributeString: "ERROR"`` and their
  ``ValidationErrors``.
- Reads honour ``If-Modified-Since``, ``where``, ``order``, ``page``/
  ``pageSize``, ``IDs``, ``InvoiceNumbers``, ``ContactIDs``, ``Statuses``,
  ``includeArchived``, ``summaryOnly``, ``searchTerm`` and ``unitdp``.

The rules themselves live in ``books/`` (one module per object family);
docs/xero.md, "Simulated Xero books", lists them with the assumptions made.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from integrations.sandbox.xero.books import (
    chart,
    contacts,
    dates,
    documents,
    items,
    payments,
    query,
    rules,
    seed,
)
from integrations.sandbox.xero.books.rules import Invalid
from integrations.sandbox.xero.books.state import Books
from integrations.sandbox.xero.books.where import QueryError
from integrations.sandbox.xero.http import AccountingRequest, AccountingResponse

PROVIDER = "LedgerBridge Xero simulator"
NOT_FOUND_DETAIL = "The resource you're looking for cannot be found"


@dataclass(frozen=True)
class Collection:
    """An API collection: its path segment (also the JSON key) and its object."""

    key: str
    object_name: str
    store: str
    id_field: str
    error_flag: str | None  # the schema's "this element failed" boolean


CONTACTS = Collection(
    "Contacts", "Contact", "contacts", "ContactID", "HasValidationErrors"
)
ITEMS = Collection("Items", "Item", "items", "ItemID", None)
INVOICES = Collection("Invoices", "Invoice", "invoices", "InvoiceID", "HasErrors")
CREDIT_NOTES = Collection(
    "CreditNotes", "CreditNote", "credit_notes", "CreditNoteID", "HasErrors"
)
PURCHASE_ORDERS = Collection(
    "PurchaseOrders", "PurchaseOrder", "purchase_orders", "PurchaseOrderID", None
)
PAYMENTS = Collection(
    "Payments", "Payment", "payments", "PaymentID", "HasValidationErrors"
)
ACCOUNTS = Collection("Accounts", "Account", "accounts", "AccountID", None)
KINDS = {
    "Invoices": documents.INVOICE,
    "CreditNotes": documents.CREDIT_NOTE,
    "PurchaseOrders": documents.PURCHASE_ORDER,
}
# List documents whose line items Xero returns only when paging or fetching one.
LINES_ONLY_WHEN_PAGED = {"Invoices", "CreditNotes"}


class Organisation:
    """One tenant's books; thread-safe (the server is threaded)."""

    def __init__(
        self,
        tenant_id: str,
        name: str,
        *,
        base_currency: str = "USD",
        clock: Callable[[], float] = time.time,
        on_change: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.on_change = on_change
        self._lock = threading.RLock()
        self.books = Books(tenant_id, name, base_currency, clock)
        self.books.created = clock()
        chart.add_currency(self.books, {"Code": base_currency}, "1")

    def _ok(self, key: str, found: list[dict], **kwargs: Any) -> AccountingResponse:
        return ok(key, found, now=self.books.now(), **kwargs)

    def _shown(
        self, key: str, found: dict | None, show: Callable[[dict], dict] | None = None
    ) -> AccountingResponse:
        """``GET /<key>/<id>``: the one record, as shown (``render`` unless
        told), or Xero's 404."""
        if found is None:
            return not_found()
        return self._ok(key, [(show or render)(found)])

    # -- set-up -------------------------------------------------------------------
    def seed_demo(self) -> None:
        """Chart of accounts, US tax rates, currencies, the Sage demo's items and a
        few contacts (books/seed.py)."""
        with self._lock:
            seed.seed(self.books)
            self.books.events.clear()

    # -- the API ------------------------------------------------------------------
    def handle(self, request: AccountingRequest) -> AccountingResponse:
        with self._lock:
            try:
                response = self._route(request)
            except QueryError as error:
                response = AccountingResponse(
                    400,
                    {
                        "ErrorNumber": 16,
                        "Type": "QueryParseException",
                        "Message": str(error),
                    },
                )
            events, self.books.events = self.books.events, []
        if self.on_change is not None:
            for category, event_type, resource_id in events:
                self.on_change(category, event_type, resource_id)
        return response

    def _route(self, request: AccountingRequest) -> AccountingResponse:
        parts = [p for p in request.path.split("/") if p]
        method = request.method.upper()
        if not parts:
            return not_found()
        head, rest = parts[0].lower(), parts[1:]
        handler = {
            "organisation": self._organisation,
            "accounts": self._accounts,
            "taxrates": self._tax_rates,
            "currencies": self._currencies,
            "contacts": self._contacts,
            "items": self._items,
            "invoices": self._documents,
            "creditnotes": self._documents,
            "purchaseorders": self._documents,
            "payments": self._payments,
        }.get(head)
        if handler is None:
            return not_found()
        return handler(method, parts[0], rest, request)

    # -- reference data -------------------------------------------------------------
    def _organisation(self, method, head, rest, request) -> AccountingResponse:
        if method != "GET" or rest:
            return not_found()
        books = self.books
        organisation = {
            "OrganisationID": books.tenant_id
            if _is_uuid(books.tenant_id)
            else str(uuid.uuid5(uuid.NAMESPACE_URL, books.tenant_id)),
            "Name": books.name,
            "LegalName": books.name,
            "PaysTax": True,
            "Version": "US",
            "OrganisationType": "COMPANY",
            "BaseCurrency": books.base_currency,
            "CountryCode": "US",
            "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE",
            "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 12,
            "SalesTaxBasis": "ACCRUALS",
            "SalesTaxPeriod": "MONTHLY",
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Exclusive",
            "CreatedDateUTC": dates.msdate(dates.from_timestamp(books.created)),
            "OrganisationEntityType": "COMPANY",
            "Timezone": "PACIFICSTANDARDTIME",
            "ShortCode": "!" + books.tenant_id.replace("-", "")[:5],
            "Class": "PREMIUM",
            "Edition": "BUSINESS",
            "Addresses": [],
            "Phones": [],
            "ExternalLinks": [],
            "PaymentTerms": {
                "Bills": {"Day": 30, "Type": "DAYSAFTERBILLDATE"},
                "Sales": {"Day": 30, "Type": "DAYSAFTERBILLDATE"},
            },
        }
        return self._ok("Organisations", [organisation])

    def _accounts(self, method, head, rest, request) -> AccountingResponse:
        books = self.books
        if method == "GET":
            if rest:
                return self._shown("Accounts", books.accounts.get(rest[0].lower()))
            listed = _modified_since(books.accounts, request)
            found = query.select([render(a) for a in listed], request.query, "Account")
            return self._ok("Accounts", found)
        if method == "PUT" and not rest:
            return self._one(
                ACCOUNTS,
                lambda: chart.add_account(books, request.body or {}),
                request.body,
            )
        if method == "POST" and len(rest) == 1:
            if rest[0].lower() not in books.accounts:
                return not_found()
            body = _first(request.body, "Accounts")
            return self._one(
                ACCOUNTS,
                lambda: chart.add_account(books, body, account_id=rest[0]),
                body,
            )
        return not_found()

    def _tax_rates(self, method, head, rest, request) -> AccountingResponse:
        if method != "GET":
            return not_found()
        rates = [render(rate) for rate in self.books.tax_rates.values()]
        if rest:
            rates = [r for r in rates if r["TaxType"].lower() == rest[0].lower()]
            if not rates:
                return not_found()
        return self._ok("TaxRates", query.select(rates, request.query, "TaxRate"))

    def _currencies(self, method, head, rest, request) -> AccountingResponse:
        books = self.books
        if method == "GET" and not rest:
            found = [render(c) for c in books.currencies.values()]
            return self._ok(
                "Currencies", query.select(found, request.query, "Currency")
            )
        if method == "PUT" and not rest:
            try:
                record = chart.add_currency(books, request.body)
            except Invalid as error:
                return validation_error([_failed(request.body, error, None)])
            return self._ok("Currencies", [render(record)])
        return not_found()

    # -- contacts and items ---------------------------------------------------------
    def _contacts(self, method, head, rest, request) -> AccountingResponse:
        books = self.books
        if method == "GET":
            if rest:
                found = books.contacts.get(rest[0].lower()) or books.contact_by(
                    "ContactNumber", rest[0]
                )
                return self._shown("Contacts", found)
            listed = _modified_since(books.contacts, request)
            if not query.truthy(
                request.query.get("includeArchived")
            ) and not request.query.get("IDs"):
                listed = [c for c in listed if c.get("ContactStatus") != "ARCHIVED"]
            found = query.select(
                [render(c) for c in listed],
                request.query,
                "Contact",
                filters={"IDs": lambda d, wanted: d["ContactID"] in wanted},
                search_fields=(
                    "Name",
                    "FirstName",
                    "LastName",
                    "ContactNumber",
                    "CompanyNumber",
                    "EmailAddress",
                ),
            )
            page = query.paginate(found, request.query)
            shown = page.documents
            if query.truthy(request.query.get("summaryOnly")):
                shown = [_summary_contact(c) for c in shown]
            return self._ok("Contacts", shown, pagination=page.pagination)
        if method in ("PUT", "POST") and not rest:
            return self._batch(
                CONTACTS,
                request,
                lambda element: contacts.save(
                    books, element, create_only=method == "PUT"
                )[0],
            )
        if method == "POST" and len(rest) == 1:
            target = books.contacts.get(rest[0].lower()) or books.contact_by(
                "ContactNumber", rest[0]
            )
            if target is None:
                return not_found()
            return self._batch(
                CONTACTS,
                request,
                lambda element: contacts.save(
                    books, element, create_only=False, contact_id=target["ContactID"]
                )[0],
                single=True,
            )
        return not_found()

    def _items(self, method, head, rest, request) -> AccountingResponse:
        books = self.books
        unitdp = _unitdp(request)
        if method == "GET":
            if rest:
                found = books.items.get(rest[0].lower()) or books.item_by_code(rest[0])
                return self._shown("Items", found, lambda i: render(i, unitdp))
            listed = _modified_since(books.items, request)
            found = query.select(
                [render(i, unitdp) for i in listed], request.query, "Item"
            )
            return self._ok("Items", found)
        if method in ("PUT", "POST") and not rest:
            return self._batch(
                ITEMS,
                request,
                lambda element: items.save(
                    books, element, create_only=method == "PUT", unitdp=unitdp
                )[0],
                unitdp=unitdp,
            )
        if method == "POST" and len(rest) == 1:
            target = books.items.get(rest[0].lower())
            if target is None:
                return not_found()
            return self._batch(
                ITEMS,
                request,
                lambda element: items.save(
                    books,
                    element,
                    create_only=False,
                    unitdp=unitdp,
                    item_id=target["ItemID"],
                )[0],
                unitdp=unitdp,
                single=True,
            )
        if method == "DELETE" and len(rest) == 1:
            if books.items.pop(rest[0].lower(), None) is None:
                return not_found()
            return AccountingResponse(204, None)
        return not_found()

    # -- invoices, credit notes, purchase orders -------------------------------------
    def _documents(self, method, head, rest, request) -> AccountingResponse:
        kind = KINDS[
            {"invoices": "Invoices", "creditnotes": "CreditNotes"}.get(
                head.lower(), "PurchaseOrders"
            )
        ]
        collection = {
            "Invoices": INVOICES,
            "CreditNotes": CREDIT_NOTES,
            "PurchaseOrders": PURCHASE_ORDERS,
        }[_key(kind)]
        books = self.books
        records = documents.collection(books, kind)
        unitdp = _unitdp(request)
        if method == "GET":
            if rest:
                found = self._find_document(kind, records, rest[0])
                return self._shown(
                    collection.key,
                    found if len(rest) == 1 else None,
                    lambda d: self._render_document(d, unitdp),
                )
            return self._list_documents(kind, collection, records, request, unitdp)
        if method in ("PUT", "POST") and not rest:
            return self._batch(
                collection,
                request,
                lambda element: documents.save(
                    books, kind, element, create_only=method == "PUT", unitdp=unitdp
                )[0],
                unitdp=unitdp,
            )
        if method == "POST" and len(rest) == 1:
            target = self._find_document(kind, records, rest[0])
            if target is None:
                return not_found()
            return self._batch(
                collection,
                request,
                lambda element: documents.save(
                    books,
                    kind,
                    element,
                    create_only=False,
                    unitdp=unitdp,
                    document_id=target[kind.id_field],
                )[0],
                unitdp=unitdp,
                single=True,
            )
        if (
            kind is documents.CREDIT_NOTE
            and method == "PUT"
            and len(rest) == 2
            and rest[1].lower() == "allocations"
        ):
            credit_note = records.get(rest[0].lower())
            if credit_note is None:
                return not_found()
            return self._batch(
                Collection("Allocations", "Allocation", "", "AllocationID", None),
                request,
                lambda element: documents.allocate(books, credit_note, element),
            )
        return not_found()

    def _find_document(
        self, kind: documents.Kind, records: dict, key: str
    ) -> dict | None:
        found = records.get(key.lower())
        if found is None:
            found = next(
                (
                    r
                    for r in records.values()
                    if r.get(kind.number_field) == key and r["Status"] != "DELETED"
                ),
                None,
            )
        return found

    def _list_documents(
        self, kind, collection, records, request, unitdp
    ) -> AccountingResponse:
        listed = _modified_since(records, request)
        q = dict(request.query)
        if kind is documents.PURCHASE_ORDER:
            listed = _purchase_order_filters(listed, q)
        found = query.select(
            [self._render_document(r, unitdp) for r in listed],
            q,
            collection.object_name,
            filters={
                "IDs": lambda d, wanted: d[kind.id_field] in wanted,
                "InvoiceNumbers": lambda d, wanted: (
                    str(d.get("InvoiceNumber", "")).lower() in wanted
                ),
                "ContactIDs": lambda d, wanted: d["Contact"]["ContactID"] in wanted,
                "Statuses": lambda d, wanted: d["Status"].lower() in wanted,
            }
            if kind is documents.INVOICE
            else None,
            search_fields=("InvoiceNumber", "Reference")
            if kind is documents.INVOICE
            else (),
        )
        page = query.paginate(found, q)
        shown = page.documents
        summary_only = query.truthy(q.get("summaryOnly"))
        if collection.key in LINES_ONLY_WHEN_PAGED and (
            page.pagination is None or summary_only
        ):
            shown = [{k: v for k, v in d.items() if k != "LineItems"} for d in shown]
        return self._ok(collection.key, shown, pagination=page.pagination)

    def _render_document(self, record: dict, unitdp: int = 2) -> dict:
        shown = render(record, unitdp)
        contact = self.books.contacts.get(record["_contact"])
        if contact is not None:
            shown["Contact"] = render(contacts.summary(contact))
        return shown

    # -- payments -------------------------------------------------------------------
    def _payments(self, method, head, rest, request) -> AccountingResponse:
        books = self.books
        if method == "GET":
            if rest:
                return self._shown(
                    "Payments",
                    books.payments.get(rest[0].lower()),
                    lambda p: render(payments.render(books, p)),
                )
            listed = _modified_since(books.payments, request)
            found = query.select(
                [render(payments.render(books, p)) for p in listed],
                request.query,
                "Payment",
            )
            page = query.paginate(found, request.query)
            return self._ok("Payments", page.documents, pagination=page.pagination)
        if method == "PUT" and not rest:
            return self._batch(
                PAYMENTS,
                request,
                lambda element: payments.render(books, payments.create(books, element)),
            )
        if method == "POST" and not rest:
            body = request.body
            single = (
                _first(body, "Payments")
                if isinstance(body, dict) and "Payments" in body
                else body
            )
            return self._batch(
                PAYMENTS,
                AccountingRequest(
                    request.method,
                    request.path,
                    request.query,
                    request.headers,
                    {"Payments": [single]},
                ),
                lambda element: payments.render(books, payments.create(books, element)),
                single=True,
            )
        if method == "POST" and len(rest) == 1:
            if rest[0].lower() not in books.payments:
                return not_found()
            return self._one(
                PAYMENTS,
                lambda: payments.render(
                    books, payments.delete(books, rest[0], request.body)
                ),
                _first(request.body, "Payments"),
            )
        return not_found()

    # -- batches --------------------------------------------------------------------
    def _batch(
        self,
        collection: Collection,
        request: AccountingRequest,
        save: Callable[[Any], dict],
        *,
        unitdp: int = 2,
        single: bool = False,
    ) -> AccountingResponse:
        """Each element saved or refused on its own; the answer per summarizeErrors."""
        body = request.body
        elements = body.get(collection.key) if isinstance(body, dict) else None
        if not isinstance(elements, list) or not elements:
            return validation_error(
                [],
                message=f"The request body must hold a list of {collection.key}.",
            )
        if single:
            elements = elements[:1]
        summarise = str(request.query.get("summarizeErrors", "true")).lower() != "false"
        saved: list[dict] = []
        failed: list[dict] = []
        answered: list[dict] = []
        for element in elements:
            try:
                record = save(element)
            except Invalid as error:
                shown = _failed(element, error, collection.error_flag)
                failed.append(shown)
                answered.append(shown)
                continue
            if collection.key in KINDS:
                shown = self._render_document(record, unitdp)
            else:
                shown = render(record, unitdp)
            if not summarise:
                shown["StatusAttributeString"] = "OK"
            saved.append(shown)
            answered.append(shown)
        if failed and summarise:
            return validation_error(failed)
        return self._ok(collection.key, answered)

    def _one(
        self, collection: Collection, save: Callable[[], dict], element: Any
    ) -> AccountingResponse:
        try:
            record = save()
        except Invalid as error:
            return validation_error([_failed(element, error, collection.error_flag)])
        return self._ok(collection.key, [render(record)])


# -- rendering -----------------------------------------------------------------------
def render(record: Any, unitdp: int = 2) -> Any:
    """Private ``_`` keys dropped, Decimals as JSON numbers (UnitAmount at the
    requested unit decimal places)."""
    if isinstance(record, dict):
        shown = {}
        for key, value in record.items():
            if key.startswith("_"):
                continue
            if key in ("UnitAmount", "UnitPrice") and isinstance(value, Decimal):
                shown[key] = float(rules.unit(value, unitdp))
            else:
                shown[key] = render(value, unitdp)
        return shown
    if isinstance(record, list):
        return [render(value, unitdp) for value in record]
    if isinstance(record, Decimal):
        return float(record)
    return copy.copy(record)


def ok(
    key: str, documents_: list[dict], *, now: str, pagination: dict | None = None
) -> AccountingResponse:
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": PROVIDER,
        "DateTimeUTC": now,
    }
    if pagination is not None:
        body["pagination"] = pagination
    body[key] = documents_
    return AccountingResponse(200, body)


def validation_error(
    elements: list[dict], *, message: str | None = None
) -> AccountingResponse:
    body: dict[str, Any] = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": elements,
    }
    if message:
        body["Elements"] = [{"ValidationErrors": [{"Message": message}]}]
    return AccountingResponse(400, body)


def not_found() -> AccountingResponse:
    """The server's problem shape for 404 (server.problem_body)."""
    return AccountingResponse(
        404,
        {
            "Type": None,
            "Title": "Not Found",
            "Status": 404,
            "Detail": NOT_FOUND_DETAIL,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
    )


def _failed(element: Any, error: Invalid, flag: str | None) -> dict:
    shown = copy.deepcopy(element) if isinstance(element, dict) else {}
    shown["ValidationErrors"] = [{"Message": message} for message in error.messages]
    shown["StatusAttributeString"] = "ERROR"
    if flag:
        shown[flag] = True
    return shown


def _summary_contact(contact: dict) -> dict:
    keep = (
        "ContactID",
        "ContactNumber",
        "AccountNumber",
        "ContactStatus",
        "Name",
        "FirstName",
        "LastName",
        "EmailAddress",
        "IsSupplier",
        "IsCustomer",
        "DefaultCurrency",
        "UpdatedDateUTC",
        "HasValidationErrors",
    )
    return {k: contact[k] for k in keep if k in contact}


def _purchase_order_filters(records: list[dict], q: dict[str, str]) -> list[dict]:
    status = q.pop("Status", None)
    if status:
        records = [r for r in records if r["Status"] == status.upper()]
    for name, keep in (
        ("DateFrom", lambda d, b: d >= b),
        ("DateTo", lambda d, b: d <= b),
    ):
        bound = q.pop(name, None)
        if bound:
            try:
                day = dates.parse_day(bound)
            except dates.BadDate:
                raise QueryError(f"{name} '{bound}' is not a valid date") from None
            records = [r for r in records if keep(dates.parse_day(r["Date"]), day)]
    return records


def _modified_since(records: dict, request: AccountingRequest) -> list[dict]:
    """The records changed since the request's ``If-Modified-Since`` (all
    without one)."""
    return query.modified_since(
        records.values(), request.headers.get("if-modified-since")
    )


def _first(body: Any, key: str) -> Any:
    if isinstance(body, dict) and isinstance(body.get(key), list) and body[key]:
        return body[key][0]
    return body


def _unitdp(request: AccountingRequest) -> int:
    return 4 if str(request.query.get("unitdp", "")).strip() == "4" else 2


def _key(kind: documents.Kind) -> str:
    return {"Invoice": "Invoices", "CreditNote": "CreditNotes"}.get(
        kind.name, "PurchaseOrders"
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
