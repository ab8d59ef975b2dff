"""The hub's side of the Sage 100 write agent: signed JSON calls over HTTPS.

Every write carries the record's idempotency key, so a retry after a timeout
gets the first answer back instead of a second order; creates may also carry a
``reference`` (where Sage keeps our id, e.g. ``CustomerPONo``) that the agent
looks up before writing. Answers come back as the agent's result dict:
``{"object", "key", "record", "lines", "warnings", "created", "replayed"}``.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import nullcontext
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from integrations.agent.signing import sign_request
from integrations.connectors.base import CallLog, Throttle, no_log
from integrations.connectors.sage100 import agent_errors

# One keep-alive session per agent and process: a client is built for every
# record attempt, and a session each would leave an idle socket (and an agent
# thread waiting on it) behind every time, and pay a TLS handshake per record.
_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def shared_session(base_url: str) -> requests.Session:
    with _sessions_lock:
        session = _sessions.get(base_url)
        if session is None:
            session = _sessions[base_url] = requests.Session()
        return session


class AgentClient:
    system = "sage100"

    def __init__(
        self,
        base_url: str,
        key_id: str,
        secret: str,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
        session: requests.Session | None = None,
        throttle: Throttle | None = None,
        log: CallLog = no_log,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self._secret = secret
        self.timeout = timeout
        self.verify = verify
        self.session = session or shared_session(self.base_url)
        self.throttle = throttle
        self.log = log

    def __repr__(self) -> str:
        return f"AgentClient({self.base_url!r}, key_id={self.key_id!r})"

    def ping(self) -> dict[str, Any]:
        """``{ok, company, backend, version, time, details}``; proves the keys work."""
        return self._call("GET", "/v1/ping")

    def create_customer(
        self, values: dict, *, idempotency_key: str, reference: dict | None = None
    ) -> dict[str, Any]:
        body = {"idempotency_key": idempotency_key, "values": values}
        return self._write("POST", "/v1/customers", body, reference)

    def update_customer(
        self, division: str, customer_no: str, values: dict, *, idempotency_key: str
    ) -> dict[str, Any]:
        path = f"/v1/customers/{_segment(division)}/{_segment(customer_no)}"
        body = {"idempotency_key": idempotency_key, "values": values}
        return self._write("PATCH", path, body)

    def create_item(
        self, values: dict, *, idempotency_key: str, reference: dict | None = None
    ) -> dict[str, Any]:
        body = {"idempotency_key": idempotency_key, "values": values}
        return self._write("POST", "/v1/items", body, reference)

    def create_sales_order(
        self,
        header: dict,
        lines: list[dict],
        *,
        idempotency_key: str,
        reference: dict | None = None,
    ) -> dict[str, Any]:
        body = {"idempotency_key": idempotency_key, "header": header, "lines": lines}
        return self._write("POST", "/v1/sales-orders", body, reference)

    def update_order_status(
        self, sales_order_no: str, status: str, *, idempotency_key: str
    ) -> dict[str, Any]:
        path = f"/v1/sales-orders/{_segment(sales_order_no)}/status"
        body = {"idempotency_key": idempotency_key, "status": status}
        return self._write("POST", path, body)

    def create_purchase_order(
        self,
        header: dict,
        lines: list[dict],
        *,
        idempotency_key: str,
        reference: dict | None = None,
    ) -> dict[str, Any]:
        body = {"idempotency_key": idempotency_key, "header": header, "lines": lines}
        return self._write("POST", "/v1/purchase-orders", body, reference)

    def record_cash_receipt(
        self, values: dict, *, idempotency_key: str, reference: dict | None = None
    ) -> dict[str, Any]:
        body = {"idempotency_key": idempotency_key, "values": values}
        return self._write("POST", "/v1/cash-receipts", body, reference)

    def update_item(
        self, item_code: str, values: dict, *, idempotency_key: str
    ) -> dict[str, Any]:
        body = {"idempotency_key": idempotency_key, "values": values}
        return self._write("PATCH", f"/v1/items/{_segment(item_code)}", body)

    def create_vendor(
        self, values: dict, *, idempotency_key: str, reference: dict | None = None
    ) -> dict[str, Any]:
        body = {"idempotency_key": idempotency_key, "values": values}
        return self._write("POST", "/v1/vendors", body, reference)

    def update_vendor(
        self, division: str, vendor_no: str, values: dict, *, idempotency_key: str
    ) -> dict[str, Any]:
        path = f"/v1/vendors/{_segment(division)}/{_segment(vendor_no)}"
        body = {"idempotency_key": idempotency_key, "values": values}
        return self._write("PATCH", path, body)

    def create_ap_invoice(
        self, header: dict, *, idempotency_key: str, reference: dict | None = None
    ) -> dict[str, Any]:
        """A bill entered in Sage (AP_OpenInvoice): the demo's purchase cycle."""
        body = {"idempotency_key": idempotency_key, "header": header}
        return self._write("POST", "/v1/ap-invoices", body, reference)

    def record_ap_payment(
        self, values: dict, *, idempotency_key: str, reference: dict | None = None
    ) -> dict[str, Any]:
        """Pay one open AP invoice: ``APDivisionNo``, ``VendorNo``, ``InvoiceNo``,
        ``PaymentAmount``, ``PaymentDate``, ``CheckNo`` (the payment reference;
        pass it as ``reference`` too, so a repeat finds the first payment)."""
        body = {"idempotency_key": idempotency_key, "values": values}
        return self._write("POST", "/v1/ap-payments", body, reference)

    # -- the wire ---------------------------------------------------------------
    def _write(self, method, path, body, reference=None) -> dict[str, Any]:
        if reference is not None:
            body["reference"] = {
                "column": reference["column"],
                "value": reference["value"],
            }
        return self._call(method, path, body)["result"]

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        url = self.base_url + path
        data = b"" if body is None else json.dumps(body, default=str).encode()
        # Sign what the agent will see: the full request path, prefix included.
        parts = urlsplit(url)
        signed_path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = sign_request(self.key_id, self._secret, method, signed_path, data)
        if data:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            with self.throttle.call() if self.throttle else nullcontext():
                response = self.session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                    verify=self.verify,
                )
        except requests.RequestException as exc:
            self.log(self.system, method, url, type(exc).__name__, started)
            raise agent_errors.from_exception(exc, url=self.base_url) from exc
        self.log(self.system, method, url, response.status_code, started)
        if response.status_code not in (200, 201):
            raise agent_errors.from_response(response)
        try:
            answer = response.json()
        except ValueError:
            raise agent_errors.from_response(response) from None
        if not isinstance(answer, dict) or (
            body is not None and "result" not in answer
        ):
            raise agent_errors.from_response(response)
        return answer


def _segment(value: str) -> str:
    """A key inside the URL path: customer numbers may hold ``/`` or spaces."""
    return quote(str(value), safe="")
