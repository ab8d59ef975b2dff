"""COM plumbing for the BOI backend: sessions, return codes, value names.

Kept apart from the operations so the operations read like the BOI scripts
Sage's integrators write, and so the COM layer can be swapped for a recorded
fake in tests (``tests/agent/fake_boi.py``).

A BOI call returns ``1`` (success), ``2`` (``nSetKey``: a new record), ``-1``
(success with a warning) or ``0`` (failure; the reason is in
``sLastErrorMsg``). SAGE100-FACTS.md section 4.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from integrations.agent.backends.base import BOIError

log = logging.getLogger("integrations.agent.boi")

NEW, EXISTING = 2, 1
# Numeric columns the project writes: no "$" suffix, sent as numbers. Anything
# else is a string column ("$"), unless the caller sends a JSON number or
# spells the BOI name itself ("UDF_WEIGHT" → 12.5, or "Foo$").
NUMERIC = frozenset(
    (
        "CreditLimit", "StandardUnitCost", "StandardUnitPrice", "SuggestedRetailPrice",
        "QuantityOrdered", "QuantityShipped", "QuantityBackordered", "QuantityReceived",
        "UnitPrice", "UnitCost", "ExtensionAmt", "LineDiscountPercent", "TaxableAmt",
        "NonTaxableAmt", "SalesTaxAmt", "FreightAmt", "DiscountAmt", "DepositAmt",
        "PostingAmt", "AmountPosted", "ReorderPointQty", "EconomicOrderQty",
        "MinimumOrderQty", "MaximumOnHandQty", "InvoiceAmt", "CheckAmt",
        "AmountPaid", "DistributionAmt",
    )
)  # fmt: skip
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_COLUMN_IN_MESSAGE = re.compile(
    r"(?:Required field|The column|The field)\s+(?P<column>[A-Za-z_][A-Za-z0-9_]*)"
)


class BOIUnsupported(RuntimeError):
    """This machine cannot run the BOI backend."""


class WriteOutcomeUnknown(RuntimeError):
    """COM failed during ``nWrite``: the record may or may not be on file.

    Not a BOIError on purpose: the service keeps the journal entry pending, so
    the retry looks the record up before writing again.
    """


class ComPort(Protocol):
    """What the backend needs from COM; pywin32 in production, a fake in tests."""

    errors: tuple[type[BaseException], ...]

    def dispatch(self, progid: str) -> Any: ...

    def byref(self, initial: Any) -> Any:
        """An out-parameter; its ``.value`` holds the answer after the call."""

    def enter_thread(self) -> None: ...

    def leave_thread(self) -> None: ...


class Win32Com:
    """pywin32 on Windows, imported only when the BOI backend is chosen."""

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise BOIUnsupported(
                "The boi backend runs only on the Windows server where Sage 100 "
                "is installed (it drives the ProvideX COM server); use the "
                "simulator backend elsewhere."
            )
        try:
            import pythoncom
            import pywintypes
            import win32com.client
        except ImportError:
            raise BOIUnsupported(
                "The boi backend needs pywin32: pip install pywin32"
            ) from None
        self._pythoncom = pythoncom
        self._client = win32com.client
        self.errors = (pywintypes.com_error,)

    def dispatch(self, progid: str) -> Any:
        return self._client.Dispatch(progid)

    def byref(self, initial: Any) -> Any:
        kind = self._pythoncom.VT_BYREF | self._pythoncom.VT_VARIANT
        return self._client.VARIANT(kind, initial)

    def enter_thread(self) -> None:
        # Each request runs in its own thread, and COM wants every thread
        # initialised before it creates objects.
        self._pythoncom.CoInitialize()

    def leave_thread(self) -> None:
        self._pythoncom.CoUninitialize()


def classify(message: str) -> str:
    """A BOIError code from ``sLastErrorMsg`` (SAGE100-FACTS.md section 4)."""
    text = message.lower()
    if "in use" in text or "locked" in text:
        return "locked"
    if "not on file" in text:
        return "not_on_file"
    return "invalid"


def check(
    obj: Any,
    ret: Any,
    *,
    doing: str,
    column: str = "",
    code: str = "",
    warnings: list[str] | None = None,
) -> int:
    """Return a successful BOI result; raise BOIError with the object's words."""
    try:
        result = int(ret)
    except (TypeError, ValueError):
        result = 0
    if result > 0:
        return result
    message = str(getattr(obj, "sLastErrorMsg", "") or "").strip()
    if result < 0:
        if warnings is not None and message:
            warnings.append(message)
        return result
    message = message or f"Sage 100 refused to {doing}."
    if not column:
        found = _COLUMN_IN_MESSAGE.search(message)
        column = found.group("column") if found else ""
    raise BOIError(message, code=code or classify(message), column=column)


def boi_name(column: str, value: Any = None) -> str:
    """``CustomerNo`` → ``CustomerNo$``; numeric columns keep their plain name."""
    if column.endswith("$"):
        return column
    if column in NUMERIC or (
        isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
    ):
        return column
    return f"{column}$"


def boi_value(column: str, value: Any) -> tuple[str, Any]:
    """The BOI's name for ``column`` and the value in the type it wants.

    Strings end in ``$``; dates go as ``YYYYMMDD`` strings; yes/no as ``Y``/``N``.
    """
    name = boi_name(column, value)
    if name.endswith("$"):
        return name, _text(value)
    try:
        return name, float(value)
    except (TypeError, ValueError):
        raise BOIError(
            f"The {column} is invalid: {value!r} is not a number.",
            code="invalid",
            column=column,
        ) from None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if value is None:
        return ""
    text = str(value)
    match = _ISO_DATE.match(text)
    return "".join(match.groups()) if match else text


def ordered(values: dict[str, Any], first: tuple[str, ...]) -> list[tuple[str, Any]]:
    """Key-like columns first: setting CustomerNo or ItemCode fills defaults
    that the caller's later values then override."""
    head = [(c, values[c]) for c in first if c in values]
    return head + [(c, v) for c, v in values.items() if c not in first]


def set_values(obj: Any, items, *, warnings: list[str], prefix: str = "") -> None:
    for column, value in items:
        name, boi = boi_value(column, value)
        check(
            obj,
            obj.nSetValue(name, boi),
            doing=f"set {column}",
            column=f"{prefix}{column}",
            warnings=warnings,
        )


def read_values(com: ComPort, obj: Any, columns: dict[str, Any]) -> dict[str, Any]:
    """The object's current values, defaults it filled in included.

    ``columns`` maps each column to a sample value (what was set, or ``""``),
    which decides its BOI name the way ``boi_value`` did when setting it.
    """
    record: dict[str, Any] = {}
    for column, sample in columns.items():
        name = boi_name(column, sample)
        out = com.byref(0.0 if not name.endswith("$") else "")
        if int(obj.nGetValue(name, out) or 0) > 0:
            record[column.rstrip("$")] = out.value
    return record


def next_number(com: ComPort, obj: Any, method: str, column: str) -> str:
    """``nGetNextSalesOrderNo(byref no)`` and friends: the counter's next number."""
    out = com.byref("")
    check(obj, getattr(obj, method)(out), doing=f"number a new {column}", column=column)
    number = str(out.value or "").strip()
    if not number:
        raise BOIError(f"Sage 100 gave no next {column}.", column=column)
    return number


def set_key(obj: Any, key: dict[str, str], *, expect: int, what: str) -> None:
    """``nSetKeyValue`` each key column, then ``nSetKey()``: 2 new, 1 existing."""
    last = ""
    for column, value in key.items():
        last = column
        check(
            obj,
            obj.nSetKeyValue(f"{column}$", value),
            doing=f"set {column}",
            column=column,
        )
    found = check(obj, obj.nSetKey(), doing=f"open {what}", column=last)
    if found == expect:
        return
    if expect == NEW:
        raise BOIError(f"{what} is already on file.", code="invalid", column=last)
    raise BOIError(f"{what} is not on file.", code="not_found", column=last)


@contextmanager
def session(
    com: ComPort,
    *,
    home: str,
    company: str,
    user: str,
    password: str,
    module: str = "",
    task: str = "",
    today: date | None = None,
) -> Iterator[tuple[Any, Any]]:
    """``ProvideX.Script`` → ``SY_Session`` → user, company, date, module, task.

    One session per operation, in the request's thread: COM objects belong to
    the thread that made them, and a fresh session never goes stale.
    """
    com.enter_thread()
    oss = None
    try:
        try:
            script = com.dispatch("ProvideX.Script")
            script.Init(home)
            oss = script.NewObject("SY_Session")
        except com.errors as exc:
            raise BOIError(
                f"Cannot start Sage 100's business objects at {home}: {exc}",
                code="unavailable",
            ) from None
        check(oss, oss.nSetUser(user, password), doing="log in", code="login")
        check(
            oss, oss.nSetCompany(company), doing=f"open company {company}", code="login"
        )
        if module:
            day = (today or date.today()).strftime("%Y%m%d")
            check(oss, oss.nSetDate(module, day), doing=f"set the {module} date")
            check(oss, oss.nSetModule(module), doing=f"open module {module}")
        if task:
            task_id = oss.nLookupTask(task)
            if not task_id:
                raise BOIError(
                    f"Sage 100 user {user!r} has no access to the task {task}.",
                    code="login",
                )
            check(oss, oss.nSetProgram(task_id), doing=f"open {task}", code="login")
        yield script, oss
    except com.errors as exc:
        raise BOIError(
            f"Sage 100's business objects failed: {exc}", code="unavailable"
        ) from None
    finally:
        if oss is not None:
            _quietly(com, oss, "nCleanup")
            _quietly(com, oss, "DropObject")
        com.leave_thread()


@contextmanager
def business_object(com: ComPort, script: Any, oss: Any, name: str) -> Iterator[Any]:
    """``NewObject(name, oSS)``: abandoned with ``nClear`` on failure, then dropped."""
    obj = script.NewObject(name, oss)
    try:
        yield obj
    except BaseException:
        _quietly(com, obj, "nClear")
        raise
    finally:
        _quietly(com, obj, "DropObject")


def write(com: ComPort, obj: Any, *, what: str, warnings: list[str]) -> int:
    """``nWrite()``: 1 written, -1 written with a warning, 0 refused (none written)."""
    try:
        ret = obj.nWrite()
    except com.errors as exc:
        raise WriteOutcomeUnknown(f"COM failed while writing {what}: {exc}") from None
    try:
        # Reading sLastErrorMsg after nWrite is a COM call too: if it fails, the
        # record may well be written, so this is not a refusal.
        return check(obj, ret, doing=f"write {what}", warnings=warnings)
    except com.errors as exc:
        raise WriteOutcomeUnknown(
            f"COM failed after writing {what} (result {ret!r}): {exc}"
        ) from None


def _quietly(com: ComPort, obj: Any, method: str) -> None:
    """Clean-up after the write must not turn a written record into an error;
    the method is looked up inside the ``try``, since that is a COM call too."""
    try:
        getattr(obj, method)()
    except (AttributeError, *com.errors) as exc:
        log.warning("BOI clean-up %s failed: %s", method, exc)
