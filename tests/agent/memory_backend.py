"""A small Backend kept in memory, for driving the real agent server in tests.

It keeps just enough of Sage's behaviour to make the agent's promises testable:
numbered orders, records found by a reference column, and scripted refusals
(``refuse_next``) shaped like the business objects' own.
"""

from __future__ import annotations

import threading
from typing import Any

from integrations.agent.backends.base import BOIError, Reference, WriteResult


class MemoryBackend:
    company = "ABC"
    thread_safe = True  # it has its own lock; lets concurrency tests race

    def __init__(self) -> None:
        self.records: dict[str, dict[tuple, dict]] = {}  # object -> key -> record
        self.writes: list[tuple[str, Any]] = []  # every write that reached "Sage"
        self.finds: list[tuple[str, Reference]] = []
        self.refusals: list[tuple[str, BaseException]] = []  # (call kind, error)
        self.next_no = {"SO_SalesOrder": 100, "PO_PurchaseOrder": 500}
        self.lock = threading.Lock()
        self.write_started = threading.Event()  # set when a write begins
        self.release_write = threading.Event()  # writes wait for it if hold=True
        self.release_write.set()

    def refuse_next(self, error: BaseException, *, on: str = "write") -> None:
        """The next ``on`` call (ping, find or write) raises ``error``."""
        self.refusals.append((on, error))

    def ping(self) -> dict[str, Any]:
        self._maybe_refuse("ping")
        return {"records": sum(len(r) for r in self.records.values())}

    def find(self, object_name: str, reference: Reference) -> WriteResult | None:
        self.finds.append((object_name, reference))
        self._maybe_refuse("find")
        for key, record in self.records.get(object_name, {}).items():
            if str(record.get(reference.column, "")) == reference.value:
                return WriteResult(
                    object_name, _key_dict(object_name, key), record, created=False
                )
        return None

    def create_customer(self, values):
        division = str(values.get("ARDivisionNo", "")).zfill(2)
        number = str(values.get("CustomerNo", "")).upper()
        if not number:
            raise BOIError("Required field CustomerNo is missing.", column="CustomerNo")
        return self._store(
            "AR_Customer",
            (division, number),
            {**values, "ARDivisionNo": division, "CustomerNo": number},
        )

    def update_customer(self, division, customer_no, values):
        key = (division, customer_no.upper())
        with self.lock:
            record = self.records.get("AR_Customer", {}).get(key)
        if record is None:
            raise BOIError(
                f"Customer {division}-{customer_no} is not on file.",
                code="not_found",
                column="CustomerNo",
            )
        return self._store("AR_Customer", key, {**record, **values}, created=False)

    def create_item(self, values):
        code = str(values["ItemCode"]).upper()
        return self._store("CI_ItemCode", (code,), {**values, "ItemCode": code})

    def create_sales_order(self, header, lines):
        return self._document("SO_SalesOrder", header, lines)

    def update_order_status(self, sales_order_no, status):
        with self.lock:
            record = self.records.get("SO_SalesOrder", {}).get((sales_order_no,))
        if record is None:
            raise BOIError(
                f"Sales order {sales_order_no} is not on file.",
                code="not_found",
                column="SalesOrderNo",
            )
        return self._store(
            "SO_SalesOrder",
            (sales_order_no,),
            {**record, "OrderStatus": status},
            created=False,
        )

    def create_purchase_order(self, header, lines):
        return self._document("PO_PurchaseOrder", header, lines)

    def record_cash_receipt(self, values):
        key = (
            "00001",
            values.get("ARDivisionNo", ""),
            values.get("CustomerNo", ""),
            values.get("CheckNo", ""),
        )
        return self._store("AR_CashReceipts", key, dict(values))

    # -- helpers ------------------------------------------------------------------
    def _document(self, object_name, header, lines):
        with self.lock:
            self.next_no[object_name] += 1
            number = f"{self.next_no[object_name]:07d}"
        return self._store(object_name, (number,), dict(header), lines=lines)

    def _store(self, object_name, key, record, *, lines=(), created=True):
        self._maybe_refuse("write")
        self.write_started.set()
        self.release_write.wait(10)
        with self.lock:
            self.writes.append((object_name, key))
            self.records.setdefault(object_name, {})[key] = record
        return WriteResult(
            object_name,
            _key_dict(object_name, key),
            record,
            [dict(line) for line in lines],
            created=created,
        )

    def _maybe_refuse(self, kind: str) -> None:
        with self.lock:
            for n, (on, error) in enumerate(self.refusals):
                if on == kind:
                    del self.refusals[n]
                    raise error


_KEYS = {
    "AR_Customer": ("ARDivisionNo", "CustomerNo"),
    "CI_ItemCode": ("ItemCode",),
    "SO_SalesOrder": ("SalesOrderNo",),
    "PO_PurchaseOrder": ("PurchaseOrderNo",),
    "AR_CashReceipts": ("DepositNo", "ARDivisionNo", "CustomerNo", "CheckNo"),
}


def _key_dict(object_name: str, key: tuple) -> dict[str, str]:
    return dict(zip(_KEYS[object_name], key, strict=True))
