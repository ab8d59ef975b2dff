"""A few contacts standing in for the simulated books in platform tests: the
platform (auth, limits, idempotency, contract checks, webhooks) is tested
without depending on the accounting objects."""

from __future__ import annotations

import threading
import uuid

from integrations.sandbox.xero.http import AccountingRequest, AccountingResponse


class FakeBooks:
    """Contacts only. ``gate``: when set to an unset Event, every call waits
    on it (to hold calls in flight). ``broken``: answers break the contract."""

    def __init__(self, tenant_id: str, name: str, *, clock=None, on_change=None):
        self.tenant_id = tenant_id
        self.name = name
        self.on_change = on_change
        self.contacts: dict[str, dict] = {}
        self.handled: list[AccountingRequest] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Semaphore(0)
        self.broken = False

    def handle(self, request: AccountingRequest) -> AccountingResponse:
        self.handled.append(request)
        if self.gate is not None:
            self.entered.release()
            self.gate.wait(10)
        if self.broken:
            return AccountingResponse(200, {"Contacts": [{"ContactID": "not-a-uuid"}]})
        if request.method == "GET" and request.path == "/Contacts":
            return AccountingResponse(200, {"Contacts": list(self.contacts.values())})
        if request.method in ("PUT", "POST") and request.path == "/Contacts":
            created = []
            for contact in request.body.get("Contacts", []):
                contact = {**contact, "ContactID": str(uuid.uuid4())}
                self.contacts[contact["ContactID"]] = contact
                created.append(contact)
                if self.on_change is not None:
                    self.on_change("CONTACT", "CREATE", contact["ContactID"])
            return AccountingResponse(200, {"Contacts": created})
        return AccountingResponse(404, None)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
