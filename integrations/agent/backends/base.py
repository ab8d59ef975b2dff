"""What every agent backend offers: the Business Object Interface's writes.

Values are keyed by Sage column names without the BOI's ``$`` suffix
(``CustomerNo``, ``QuantityOrdered``); the backend adds the suffix where the
BOI wants one. Dates travel as ``YYYY-MM-DD`` strings, numbers as decimal
strings or numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class BOIError(Exception):
    """A business object said no. ``message`` is its ``sLastErrorMsg``.

    ``code`` is one of: ``invalid`` (a value or a missing required field),
    ``not_on_file`` (a referenced record does not exist), ``locked`` (in use by
    another user or task: retry), ``login`` (bad user, password or rights),
    ``unavailable`` (Sage 100 cannot be reached), ``not_found`` (the record to
    update does not exist).
    """

    RETRYABLE = frozenset({"locked", "unavailable"})

    def __init__(self, message: str, *, code: str = "invalid", column: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.column = column

    @property
    def retryable(self) -> bool:
        return self.code in self.RETRYABLE


@dataclass
class WriteResult:
    """What a business object left on file after a write."""

    object: str  # e.g. "SO_SalesOrder"
    key: dict[str, str]  # e.g. {"SalesOrderNo": "0000123"}
    record: dict[str, Any]  # the header row as stored
    lines: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # nWrite returned -1
    created: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "key": self.key,
            "record": self.record,
            "lines": self.lines,
            "warnings": self.warnings,
            "created": self.created,
        }


@dataclass(frozen=True)
class Reference:
    """Where the hub's reference is kept in Sage, to find an earlier write."""

    column: str  # e.g. "CustomerPONo" or "UDF_SF_ORDER_ID"
    value: str
    # Columns the match must also have: a customer PO is only the same order
    # for the same division and customer (Sage's KDUPLICATEPO index).
    within: tuple[tuple[str, str], ...] = ()

    def matches(self, record: dict[str, Any]) -> bool:
        return all(
            str(record.get(column, "")).strip().upper() == str(value).strip().upper()
            for column, value in self.within
        )


class Backend(Protocol):
    company: str

    def ping(self) -> dict[str, Any]: ...

    def find(self, object_name: str, reference: Reference) -> WriteResult | None:
        """The record whose ``reference.column`` holds ``reference.value``."""

    def create_customer(self, values: dict[str, Any]) -> WriteResult: ...

    def update_customer(
        self, division: str, customer_no: str, values: dict[str, Any]
    ) -> WriteResult: ...

    def create_item(self, values: dict[str, Any]) -> WriteResult: ...

    def create_sales_order(
        self, header: dict[str, Any], lines: list[dict[str, Any]]
    ) -> WriteResult: ...

    def update_order_status(self, sales_order_no: str, status: str) -> WriteResult: ...

    def create_purchase_order(
        self, header: dict[str, Any], lines: list[dict[str, Any]]
    ) -> WriteResult: ...

    def record_cash_receipt(self, values: dict[str, Any]) -> WriteResult: ...

    def update_item(self, item_code: str, values: dict[str, Any]) -> WriteResult: ...

    def create_vendor(self, values: dict[str, Any]) -> WriteResult: ...

    def update_vendor(
        self, division: str, vendor_no: str, values: dict[str, Any]
    ) -> WriteResult: ...

    def create_ap_invoice(self, header: dict[str, Any]) -> WriteResult: ...

    def record_ap_payment(self, values: dict[str, Any]) -> WriteResult: ...
