"""The agent's operations: each backend write made idempotent and serialised.

Every call carries the hub's idempotency key. The journal answers a key it has
finished with the stored result; a create that carries a ``reference`` (where
Sage keeps the hub's id, e.g. ``CustomerPONo`` or a UDF) looks the record up
first, so a write that reached Sage before the agent could journal it is found
rather than repeated.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from integrations.agent.backends.base import Backend, BOIError, Reference, WriteResult
from integrations.agent.journal import PENDING, Journal

# The business object each create writes (its BOI name without "_bus"); find()
# is asked about these names.
OBJECTS = {
    "create_customer": "AR_Customer",
    "create_item": "CI_ItemCode",
    "create_sales_order": "SO_SalesOrder",
    "create_purchase_order": "PO_PurchaseOrder",
    "record_cash_receipt": "AR_CashReceipts",
    "create_vendor": "AP_Vendor",
    "create_ap_invoice": "AP_Invoice",
    # Facts name no AP payment object; Sage's manual check entry is
    # AP_ManualCheck_bus (Sage's 4.40 file layouts) [INFERRED].
    "record_ap_payment": "AP_ManualCheck",
}
# Vendor documents: another vendor's bill or check with the same number is
# not ours, so their references are scoped to the vendor.
VENDOR_SCOPE = ("APDivisionNo", "VendorNo")
MAX_KEY_LENGTH = 200
# Writes that make a new record: repeating one whose outcome is unknown could
# make a second, so without a reference to look for it the agent must not guess.
CREATES = frozenset(OBJECTS)


class OutcomeUnknown(Exception):
    """A create with this key may or may not be in Sage, and has no reference."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"The write under idempotency key {key!r} was interrupted and may "
            "already be in Sage 100; without a reference to look for, the agent "
            "will not write it again. Check Sage 100 before entering it by hand."
        )


class BadRequest(ValueError):
    """The call's shape is wrong; ``field`` names the part to fix."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def request_digest(operation: str, payload: dict[str, Any]) -> str:
    """The same request always hashes the same, whatever its key order."""
    text = json.dumps(
        {"operation": operation, **payload},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


class _KeyLocks:
    """One lock per idempotency key in use, so a key is handled once at a time."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}  # key -> [lock, users]

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            slot = self._locks.setdefault(key, [threading.Lock(), 0])
            slot[1] += 1
        try:
            with slot[0]:
                yield
        finally:
            with self._guard:
                slot[1] -= 1
                if not slot[1]:
                    del self._locks[key]


class AgentService:
    """The agent's operations over one backend and one journal."""

    def __init__(self, backend: Backend, journal: Journal, *, name: str = "") -> None:
        self.backend = backend
        self.journal = journal
        self.name = name or type(backend).__name__
        self._keys = _KeyLocks()
        self._references = _KeyLocks()
        # A BOI session is single-threaded: unless the backend says it copes
        # with threads, one backend call runs at a time.
        thread_safe = getattr(backend, "thread_safe", False)
        self._backend_lock = nullcontext() if thread_safe else threading.RLock()

    def ping(self) -> dict[str, Any]:
        with self._backend_lock:
            return self.backend.ping()

    # -- operations -------------------------------------------------------------
    def create_customer(self, values, *, idempotency_key, reference=None) -> dict:
        values = _values(values, "values")
        reference = _attach(_reference(reference), values, "values")
        return self._run(
            "create_customer",
            idempotency_key,
            {"values": values},
            lambda: self.backend.create_customer(values),
            reference,
        )

    def update_customer(
        self, division, customer_no, values, *, idempotency_key
    ) -> dict:
        division = _text(division, "division")
        customer_no = _text(customer_no, "customer_no")
        values = _values(values, "values")
        return self._run(
            "update_customer",
            idempotency_key,
            {"division": division, "customer_no": customer_no, "values": values},
            lambda: self.backend.update_customer(division, customer_no, values),
        )

    def create_item(self, values, *, idempotency_key, reference=None) -> dict:
        values = _values(values, "values")
        reference = _attach(_reference(reference), values, "values")
        return self._run(
            "create_item",
            idempotency_key,
            {"values": values},
            lambda: self.backend.create_item(values),
            reference,
        )

    def create_sales_order(
        self, header, lines, *, idempotency_key, reference=None
    ) -> dict:
        return self._document(
            "create_sales_order",
            self.backend.create_sales_order,
            header,
            lines,
            idempotency_key,
            reference,
            scope=("ARDivisionNo", "CustomerNo"),
        )

    def update_order_status(self, sales_order_no, status, *, idempotency_key) -> dict:
        sales_order_no = _text(sales_order_no, "sales_order_no")
        status = _text(status, "status")
        return self._run(
            "update_order_status",
            idempotency_key,
            {"sales_order_no": sales_order_no, "status": status},
            lambda: self.backend.update_order_status(sales_order_no, status),
        )

    def create_purchase_order(
        self, header, lines, *, idempotency_key, reference=None
    ) -> dict:
        return self._document(
            "create_purchase_order",
            self.backend.create_purchase_order,
            header,
            lines,
            idempotency_key,
            reference,
            scope=VENDOR_SCOPE,
        )

    def _document(self, operation, write, header, lines, key, reference, *, scope):
        """An order with lines; its reference is scoped to its customer/vendor."""
        header, lines = _values(header, "header"), _lines(lines)
        reference = _scoped(
            _attach(_reference(reference), header, "header"), header, scope
        )
        return self._run(
            operation,
            key,
            {"header": header, "lines": lines},
            lambda: write(header, lines),
            reference,
        )

    def record_cash_receipt(self, values, *, idempotency_key, reference=None) -> dict:
        values = _values(values, "values")
        reference = _attach(_reference(reference), values, "values")
        return self._run(
            "record_cash_receipt",
            idempotency_key,
            {"values": values},
            lambda: self.backend.record_cash_receipt(values),
            reference,
        )

    def update_item(self, item_code, values, *, idempotency_key) -> dict:
        item_code = _text(item_code, "item_code")
        values = _values(values, "values")
        return self._run(
            "update_item",
            idempotency_key,
            {"item_code": item_code, "values": values},
            lambda: self.backend.update_item(item_code, values),
        )

    def create_vendor(self, values, *, idempotency_key, reference=None) -> dict:
        values = _values(values, "values")
        reference = _attach(_reference(reference), values, "values")
        return self._run(
            "create_vendor",
            idempotency_key,
            {"values": values},
            lambda: self.backend.create_vendor(values),
            reference,
        )

    def update_vendor(self, division, vendor_no, values, *, idempotency_key) -> dict:
        division = _text(division, "division")
        vendor_no = _text(vendor_no, "vendor_no")
        values = _values(values, "values")
        return self._run(
            "update_vendor",
            idempotency_key,
            {"division": division, "vendor_no": vendor_no, "values": values},
            lambda: self.backend.update_vendor(division, vendor_no, values),
        )

    def create_ap_invoice(self, header, *, idempotency_key, reference=None) -> dict:
        """A bill as a Sage user enters it (the demo's and tests' purchase cycle)."""
        header = _values(header, "header")
        reference = _scoped(
            _attach(_reference(reference), header, "header"), header, VENDOR_SCOPE
        )
        return self._run(
            "create_ap_invoice",
            idempotency_key,
            {"header": header},
            lambda: self.backend.create_ap_invoice(header),
            reference,
        )

    def record_ap_payment(self, values, *, idempotency_key, reference=None) -> dict:
        """A payment (e.g. from Xero) against one open AP invoice; with a
        reference (its CheckNo), a repeat finds the first payment."""
        values = _values(values, "values")
        reference = _scoped(
            _attach(_reference(reference), values, "values"), values, VENDOR_SCOPE
        )
        return self._run(
            "record_ap_payment",
            idempotency_key,
            {"values": values},
            lambda: self.backend.record_ap_payment(values),
            reference,
        )

    # -- the idempotent core ----------------------------------------------------
    def _run(
        self,
        operation: str,
        key: Any,
        payload: dict[str, Any],
        write: Callable[[], WriteResult],
        reference: Reference | None = None,
    ) -> dict[str, Any]:
        key = _idempotency_key(key)
        if reference is not None:
            payload = {**payload, "reference": [reference.column, reference.value]}
        digest = request_digest(operation, payload)
        # Two keys carrying the same reference (a webhook delivered twice under
        # different event ids) must not both find nothing and both write.
        same_reference = (
            self._references.hold(f"{operation}:{reference.column}:{reference.value}")
            if reference is not None
            else nullcontext()
        )
        with self._keys.hold(key), same_reference:
            entry = self.journal.begin(key, operation, digest)
            if entry.status != PENDING:  # done: the first answer again
                return {**entry.result, "replayed": True}
            # A key that was pending before this call may already be in Sage.
            unknown_outcome = entry.previous == PENDING
            if unknown_outcome and reference is None and operation in CREATES:
                raise OutcomeUnknown(key)
            try:
                result = None
                if reference is not None:
                    result = self._call(
                        self.backend.find, OBJECTS[operation], reference
                    )
                    if result is not None:
                        result.created = False
                if result is None:
                    result = self._call(write)
            except BOIError as exc:
                if not unknown_outcome:
                    self.journal.fail(key, exc.message)
                raise
            # Anything else leaves the key pending: the write may have happened,
            # and the next call with this key looks before writing again.
            answer = result.as_json()
            self.journal.finish(key, answer)
            return {**answer, "replayed": False}

    def _call(self, function, *args):
        with self._backend_lock:
            return function(*args)


# -- shapes: checked before anything is journalled --------------------------------
def _idempotency_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip():
        raise BadRequest(
            "idempotency_key is required: a non-empty string that is the same "
            "on every retry of this write.",
            field="idempotency_key",
        )
    if len(key) > MAX_KEY_LENGTH:
        raise BadRequest(
            f"idempotency_key is longer than {MAX_KEY_LENGTH} characters.",
            field="idempotency_key",
        )
    return key


def _text(value: Any, name: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} is required (text).", field=name)
    return value.strip()


def _values(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise BadRequest(
            f"{name} must be an object of Sage column names and values.", field=name
        )
    for column in value:
        if not isinstance(column, str) or not column.strip():
            raise BadRequest(f"{name} has an empty column name.", field=name)
    return dict(value)


def _lines(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise BadRequest("lines must be a non-empty list of objects.", field="lines")
    return [_values(line, f"lines[{n}]") for n, line in enumerate(value)]


def _reference(value: Any) -> Reference | None:
    if value is None or isinstance(value, Reference):
        return value
    if not isinstance(value, dict):
        raise BadRequest(
            'reference must be an object {"column": ..., "value": ...}.',
            field="reference",
        )
    column, text = value.get("column"), value.get("value")
    if not isinstance(column, str) or not column.strip():
        raise BadRequest(
            "reference.column is required (e.g. CustomerPONo or a UDF_ column).",
            field="reference.column",
        )
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("reference.value is required (text).", field="reference.value")
    return Reference(column.strip(), text.strip())


def _scoped(reference: Reference | None, header: dict, columns) -> Reference | None:
    """Narrow a document reference to its customer or vendor, when the header
    names them: another customer's order with the same PO is not ours."""
    if reference is None:
        return None
    within = tuple(
        (column, str(header[column]))
        for column in columns
        if header.get(column) not in (None, "")
    )
    return Reference(reference.column, reference.value, within)


def _attach(reference: Reference | None, values: dict, name: str):
    """The reference must be written with the record, or find() cannot see it."""
    if reference is None:
        return None
    given = values.get(reference.column)
    if given in (None, ""):
        values[reference.column] = reference.value
    elif str(given).strip() != reference.value:
        raise BadRequest(
            f"{name}.{reference.column} is {given!r} but reference.value is "
            f"{reference.value!r}; they must be the same.",
            field=f"{name}.{reference.column}",
        )
    return reference
