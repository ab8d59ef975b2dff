"""A recorded fake of Sage 100's COM objects: ProvideX.Script, SY_Session and
the business objects the agent uses.

Every call is appended to ``FakeSage.calls`` as ``(object, method, *args)``,
objects named as a BOI script names them (``oScript``, ``oSS``,
``SO_SalesOrder_bus``, ``SO_SalesOrder_bus.oLines``), out-parameters as
``"&out"``. Results are what the BOI documents (1, 2 new / 1 existing for
``nSetKey``, 0 + ``sLastErrorMsg``); ``FakeSage.script`` makes the next
matching call answer differently, or raise a COM error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OUT = "&out"
KEYS = {
    "AR_Customer": ("ARDivisionNo", "CustomerNo"),
    "CI_ItemCode": ("ItemCode",),
    "SO_SalesOrder": ("SalesOrderNo",),
    "PO_PurchaseOrder": ("PurchaseOrderNo",),
    "AR_CashReceiptsDeposit": ("DepositNo",),
    "AR_CashReceipts": ("DepositNo", "ARDivisionNo", "CustomerNo", "CheckNo"),
    "AP_Vendor": ("APDivisionNo", "VendorNo"),
    "AP_Invoice": ("APDivisionNo", "VendorNo", "InvoiceNo"),
    "AP_ManualCheck": ("BankCode", "CheckNo"),
}
COUNTERS = {
    "nGetNextSalesOrderNo": "0000124",
    "nGetNextPurchaseOrderNo": "0000311",
    "nGetNextCustomerNo": "0000042",
    "nGetNextDepositNo": "00007",
    "nGetNextVendorNo": "0000019",
}


class FakeComError(Exception):
    """Stands in for pywintypes.com_error."""


class FakeRef:
    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass
class Scripted:
    label: str
    method: str
    args: tuple
    ret: Any = 0
    message: str = ""
    error: BaseException | None = None


@dataclass
class FakeSage:
    calls: list[tuple] = field(default_factory=list)
    tables: dict[str, dict[tuple, dict]] = field(default_factory=dict)
    scripted: list[Scripted] = field(default_factory=list)
    task_id: int = 42

    def script(self, label, method, *args, ret=0, message="", error=None) -> None:
        """The next call of ``label.method`` whose args start with ``args``."""
        self.scripted.append(Scripted(label, method, args, ret, message, error))

    def answer(self, obj: FakeObject, method: str, args: tuple, default: Any) -> Any:
        shown = tuple(OUT if isinstance(a, FakeRef) else _shown(a) for a in args)
        self.calls.append((obj.label, method, *shown))
        for n, item in enumerate(self.scripted):
            if (item.label, item.method) == (obj.label, method) and (
                shown[: len(item.args)] == item.args
            ):
                del self.scripted[n]
                if item.error is not None:
                    raise item.error
                obj.sLastErrorMsg = item.message
                return item.ret
        obj.sLastErrorMsg = ""
        return default() if callable(default) else default

    def methods(self, label: str) -> list[str]:
        return [call[1] for call in self.calls if call[0] == label]


def _shown(value):
    return "oSS" if isinstance(value, FakeSession) else value


class FakeObject:
    label = ""

    def __init__(self, sage: FakeSage) -> None:
        self.sage = sage
        self.sLastErrorMsg = ""

    def _call(self, method: str, *args, default: Any = 1) -> Any:
        return self.sage.answer(self, method, args, default)

    def DropObject(self):
        return self._call("DropObject")


class FakeCom:
    """The ComPort the BOI backend is given instead of pywin32."""

    errors = (FakeComError,)

    def __init__(self, sage: FakeSage) -> None:
        self.sage = sage

    def dispatch(self, progid: str):
        self.sage.calls.append(("com", "Dispatch", progid))
        if progid != "ProvideX.Script":
            raise FakeComError(f"Invalid class string {progid}")
        return FakeScript(self.sage)

    def byref(self, initial):
        return FakeRef(initial)

    def enter_thread(self) -> None:
        self.sage.calls.append(("com", "CoInitialize"))

    def leave_thread(self) -> None:
        self.sage.calls.append(("com", "CoUninitialize"))


class FakeScript(FakeObject):
    label = "oScript"

    def Init(self, home):
        return self._call("Init", home, default=None)

    def NewObject(self, name, *args):
        self._call("NewObject", name, *args, default=None)
        if name == "SY_Session":
            return FakeSession(self.sage)
        if name.endswith("_svc"):
            return FakeService(self.sage, name)
        return FakeBusiness(self.sage, name)


class FakeSession(FakeObject):
    label = "oSS"

    def nSetUser(self, user, password):
        return self._call("nSetUser", user, password)

    def nSetCompany(self, company):
        return self._call("nSetCompany", company)

    def nSetDate(self, module, day):
        return self._call("nSetDate", module, day)

    def nSetModule(self, module):
        return self._call("nSetModule", module)

    def nLookupTask(self, task):
        return self._call("nLookupTask", task, default=self.sage.task_id)

    def nSetProgram(self, task_id):
        return self._call("nSetProgram", task_id)

    def nCleanup(self):
        return self._call("nCleanup")


class FakeBusiness(FakeObject):
    """``<X>_bus``: a key, a record being edited, lines, nWrite to the table."""

    def __init__(self, sage: FakeSage, name: str) -> None:
        super().__init__(sage)
        self.label = name
        self.table = name.rsplit("_", 1)[0]
        self.key: dict[str, Any] = {}
        self.record: dict[str, Any] | None = None
        self._lines = FakeLines(sage, self)

    @property
    def oLines(self):
        return self._lines

    def nSetKeyValue(self, column, value):
        result = self._call("nSetKeyValue", column, value)
        if result:
            self.key[column.rstrip("$")] = value
        return result

    def nSetKey(self):
        key = tuple(self.key.get(c, "") for c in KEYS[self.table])
        existing = self.sage.tables.get(self.table, {}).get(key)
        result = self._call("nSetKey", default=1 if existing else 2)
        if result:
            self.record = dict(existing or self.key)
            self._lines.rows = []
        return result

    def nSetValue(self, column, value):
        result = self._call("nSetValue", column, value)
        if result and self.record is not None:
            self.record[column.rstrip("$")] = value
        return result

    def nGetValue(self, column, out):
        result = self._call("nGetValue", column, out, default=0)
        name = column.rstrip("$")
        if self.record is not None and name in self.record:
            out.value = self.record[name]
            return 1
        return result

    def nWrite(self):
        result = self._call("nWrite")
        if result and self.record is not None:
            key = tuple(self.record.get(c, "") for c in KEYS[self.table])
            stored = {**self.record, "_lines": list(self._lines.rows)}
            self.sage.tables.setdefault(self.table, {})[key] = stored
            self.record = None
        return result

    def nClear(self):
        self.record = None
        return self._call("nClear")

    def nDelete(self):
        result = self._call("nDelete")
        if result and self.record is not None:
            key = tuple(self.record.get(c, "") for c in KEYS[self.table])
            self.sage.tables.get(self.table, {}).pop(key, None)
        return result

    def __getattr__(self, method: str):
        if method in COUNTERS:

            def next_number(out):
                result = self._call(method, out)
                if result:
                    out.value = COUNTERS[method]
                return result

            return next_number
        raise AttributeError(method)


class FakeLines(FakeObject):
    def __init__(self, sage: FakeSage, parent: FakeBusiness) -> None:
        super().__init__(sage)
        self.label = f"{parent.label}.oLines"
        self.rows: list[dict] = []
        self.current: dict | None = None

    def nAddLine(self):
        result = self._call("nAddLine")
        if result:
            self.current = {"LineKey": f"{len(self.rows) + 1:06d}"}
        return result

    def nSetValue(self, column, value):
        result = self._call("nSetValue", column, value)
        if result and self.current is not None:
            self.current[column.rstrip("$")] = value
        return result

    def nGetValue(self, column, out):
        result = self._call("nGetValue", column, out, default=0)
        name = column.rstrip("$")
        if self.current is not None and name in self.current:
            out.value = self.current[name]
            return 1
        return result

    def nWrite(self):
        result = self._call("nWrite")
        if result and self.current is not None:
            self.rows.append(self.current)
            self.current = None
        return result


class FakeService(FakeObject):
    """``<X>_svc``: browse a table, optionally by an index and a filter."""

    def __init__(self, sage: FakeSage, name: str) -> None:
        super().__init__(sage)
        self.label = name
        self.table = name.rsplit("_", 1)[0]
        self.index_column = ""
        self.filter = ""
        self.rows: list[dict] = []
        self.position = 0

    @property
    def nEOF(self):
        return 1 if self.position >= len(self.rows) else 0

    def nSetBrowseIndex(self, index, start):
        self.index_column = {"KCUSTOMERPO": "CustomerPONo"}.get(index, "")
        return self._call("nSetBrowseIndex", index, start)

    def nSetBrowseFilter(self, value):
        self.filter = value
        return self._call("nSetBrowseFilter", value)

    def nMoveFirst(self):
        rows = list(self.sage.tables.get(self.table, {}).values())
        if self.index_column:
            rows = [
                r
                for r in rows
                if str(r.get(self.index_column, "")).startswith(self.filter)
            ]
        self.rows, self.position = rows, 0
        return self._call("nMoveFirst")

    def nMoveNext(self):
        self.position += 1
        return self._call("nMoveNext")

    def nGetValue(self, column, out):
        result = self._call("nGetValue", column, out, default=0)
        name = column.rstrip("$")
        if self.position < len(self.rows) and name in self.rows[self.position]:
            out.value = self.rows[self.position][name]
            return 1
        return result

    def nClear(self):
        return self._call("nClear")
