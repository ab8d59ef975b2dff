"""Drives an ``Organisation`` directly, holding every exchange against the
contract: a request the test sends must be contract-valid, and so must every
answer the books give."""

from __future__ import annotations

from typing import Any

from integrations.sandbox.xero import contract
from integrations.sandbox.xero.accounting import Organisation
from integrations.sandbox.xero.http import AccountingRequest, AccountingResponse

TENANT = "6f1b8b0e-3c55-4a4b-9d0c-1c9a3e0b7a11"
START = 1_796_198_400.0  # 2026-12-02 08:00:00 UTC


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class BooksClient:
    def __init__(self, *, seeded: bool = True) -> None:
        self.clock = Clock()
        self.events: list[tuple[str, str, str]] = []
        self.organisation = Organisation(
            TENANT,
            "Demo Books",
            clock=self.clock,
            on_change=lambda *event: self.events.append(event),
        )
        if seeded:
            self.organisation.seed_demo()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        *,
        check_request: bool = True,
    ) -> AccountingResponse:
        query = query or {}
        headers = {"xero-tenant-id": TENANT, **(headers or {})}
        operation = contract.operation(method, path)
        assert operation is not None, f"{method} {path} is not in the contract"
        if check_request:
            assert operation.check_request(query, headers, body) == []
        response = self.organisation.handle(
            AccountingRequest(method, path, query, headers, body)
        )
        if response.status != 404:
            assert operation.check_response(response.status, response.body) == []
        return response

    def get(self, path: str, **query: str) -> AccountingResponse:
        return self.call("GET", path, query=query)

    # -- helpers for the common documents -----------------------------------------
    def invoice(self, **fields: Any) -> dict:
        document = {
            "Type": "ACCREC",
            "Contact": {"Name": "American Office Supply"},
            "LineItems": [{"ItemCode": "1001-HON-H252", "Quantity": 1}],
            **fields,
        }
        response = self.call(
            "PUT", "/Invoices", {"Invoices": [document]}, {"summarizeErrors": "false"}
        )
        assert response.status == 200, response.body
        saved = response.body["Invoices"][0]
        assert saved["StatusAttributeString"] == "OK", saved.get("ValidationErrors")
        return saved

    def errors_of(self, response: AccountingResponse, key: str) -> list[list[str]]:
        """Each element's ValidationErrors messages (summarised or not)."""
        elements = (
            response.body["Elements"] if response.status == 400 else response.body[key]
        )
        return [
            [error["Message"] for error in element.get("ValidationErrors", [])]
            for element in elements
        ]
