"""The simulated Xero's front door: routing, Xero's error shapes, contract
checks on requests and answers, the call log, webhooks out."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.sandbox.xero.contract import check_webhook_payload
from integrations.sandbox.xero.webhooks import sign
from tests.sandbox.xero.fake_books import FakeBooks
from tests.support.xero import running_xero, sdk_clients

KEY = "xero-webhook-key"


def wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def xero(tmp_path):
    with running_xero(tmp_path, books_factory=FakeBooks) as running:
        yield running


@pytest.fixture
def api(xero):
    settings, credentials = xero.connection()
    session = xero.session()
    session.headers.update(
        {
            "Authorization": f"Bearer {credentials['token_set']['access_token']}",
            "xero-tenant-id": settings["tenant_id"],
        }
    )
    session.base = xero.accounting_url
    session.tenant = settings["tenant_id"]
    session.token_set = credentials["token_set"]
    return session


def test_a_request_breaking_the_contract_gets_a_validation_exception(xero, api):
    answer = api.put(
        api.base + "/Invoices?summarizeErrors=false",
        json={"Invoices": [{"Type": "INVOICE"}]},
        timeout=10,
    )
    assert answer.status_code == 400
    body = answer.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    messages = [e["Message"] for e in body["Elements"][0]["ValidationErrors"]]
    assert messages[0].startswith('request body at $.Invoices[0].Type: "INVOICE"')
    assert xero.organisation(api.tenant).handled == [], "the books never saw it"
    assert xero.simulator.request_problems
    assert xero.problems == []


def test_malformed_json_is_a_post_data_invalid_exception(api):
    answer = api.put(
        api.base + "/Contacts",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["Type"] == "PostDataInvalidException"


def test_unknown_routes_and_methods(api):
    assert api.get(api.base + "/Widgets", timeout=10).status_code == 404
    answer = api.delete(api.base + "/Contacts", timeout=10)
    assert answer.status_code == 405


def test_an_answer_breaking_the_contract_is_recorded_as_a_problem(xero, api):
    xero.organisation(api.tenant).broken = True
    assert api.get(api.base + "/Contacts", timeout=10).status_code == 200
    assert xero.problems == [
        "GET /Contacts (getContacts) answered 200: response 200 body at "
        '$.Contacts[0].ContactID: "not-a-uuid" is not a uuid'
    ]


def test_every_call_is_logged_with_its_status(xero, api):
    api.get(api.base + "/Contacts", timeout=10)
    api.get(api.base + "/Widgets", timeout=10)
    assert xero.calls[-2:] == [
        ("GET", "/api.xro/2.0/Contacts", 200),
        ("GET", "/api.xro/2.0/Widgets", 404),
    ]


def test_the_sdk_reads_the_validation_exception(xero, api):
    from xero_python.exceptions.http_status_exceptions import BadRequestException

    _, accounting, _ = sdk_clients(xero, api.token_set)
    with pytest.raises(BadRequestException) as raised:
        accounting.create_contacts(api.tenant, {"Contacts": "nope"})
    assert raised.value.error_data["Type"] == "ValidationException"


class Hub:
    """A webhook endpoint doing what the hub does: 200 when the signature is
    right, 401 with no body when it is not."""

    def __init__(self) -> None:
        self.batches: list[dict] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                good = self.headers["x-xero-signature"] == sign(KEY, body)
                if good and json.loads(body)["events"]:
                    hub.batches.append(json.loads(body))
                self.send_response(200 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_changes_go_out_as_signed_batches_per_organisation_after_the_handshake(
    tmp_path,
):
    hub = Hub()
    try:
        with running_xero(
            tmp_path, books_factory=FakeBooks, webhook_url=hub.url, webhook_key=KEY
        ) as xero:
            (first, _), (second, _) = xero.tenants
            xero.organisation(first).on_change("CONTACT", "CREATE", _uuid(1))
            xero.organisation(first).on_change("CONTACT", "UPDATE", _uuid(1))
            xero.organisation(second).on_change("INVOICE", "CREATE", _uuid(2))
            wait_until(lambda: len(hub.batches) == 2)
            assert xero.sender.status == "OK"
            assert all(check.passed for check in xero.sender.checks)
            by_tenant = {b["events"][0]["tenantId"]: b for b in hub.batches}
            assert [e["eventType"] for e in by_tenant[first]["events"]] == [
                "CREATE",
                "UPDATE",
            ]
            assert by_tenant[second]["events"][0]["resourceUrl"] == (
                f"{xero.accounting_url}/Invoices/{_uuid(2)}"
            )
            for batch in hub.batches:
                assert check_webhook_payload(batch) == []
            assert xero.problems == []
    finally:
        hub.close()


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"
