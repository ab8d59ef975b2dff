"""``python -m integrations.agent`` as an administrator runs it: a real process
over the simulated company, signed calls from the hub's client, SIGTERM to stop.
"""

import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from integrations.sandbox.sage100.database import CompanyDatabase
from integrations.sandbox.sage100.seed import seed
from tests.agent.conftest import KEY_ID, SECRET

PROJECT = Path(__file__).resolve().parents[2]


def _line(stream, deadline: float) -> str:
    """One line of the agent's output, or fail at the deadline (no sleeping)."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    try:
        while time.monotonic() < deadline:
            if selector.select(timeout=deadline - time.monotonic()):
                return stream.readline()
        raise AssertionError("the agent printed nothing in time")
    finally:
        selector.close()


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "integrations.agent", *args],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def company(tmp_path):
    db = CompanyDatabase(tmp_path / "sage", "ABC")
    db.create()
    seed(db, customers=10)
    return db


@pytest.fixture
def agent_process(tmp_path, company):
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{KEY_ID}:{SECRET}\n")
    process = _start(
        "--backend",
        "simulator",
        "--root",
        str(company.root),
        "--company",
        "abc",
        "--journal",
        str(tmp_path / "journal.db"),
        "--keys-file",
        str(keys),
        "--port",
        "0",
    )
    try:
        first = _line(process.stdout, time.monotonic() + 30)
        assert " listening on http://127.0.0.1:" in first, process.stderr.read()
        yield process, first.split(" listening on ")[1].split()[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_sales_order_through_the_running_agent_is_written_once(agent_process, company):
    from integrations.connectors.sage100.agent_client import AgentClient

    process, url = agent_process
    client = AgentClient(url, KEY_ID, SECRET, timeout=10)
    today = date.today()
    header = {
        "ARDivisionNo": "01",
        "CustomerNo": "ABF",
        "OrderDate": today.isoformat(),
        "ShipExpireDate": (today + timedelta(days=7)).isoformat(),
    }
    lines = [
        {"ItemCode": "1001-HON-H252", "WarehouseCode": "000", "QuantityOrdered": 1}
    ]
    reference = {"column": "CustomerPONo", "value": "SHOP-9001"}

    assert client.ping()["company"] == "ABC"
    first = client.create_sales_order(
        header, lines, idempotency_key="shop-9001", reference=reference
    )
    replay = client.create_sales_order(
        header, lines, idempotency_key="shop-9001", reference=reference
    )
    # A second SyncRecord for the same shop order: found by its reference.
    found = client.create_sales_order(
        header, lines, idempotency_key="shop-9001-again", reference=reference
    )

    number = first["key"]["SalesOrderNo"]
    assert first["created"] is True and first["record"]["CustomerPONo"] == "SHOP-9001"
    assert replay == {**first, "replayed": True}
    assert found["key"] == {"SalesOrderNo": number} and found["created"] is False
    with sqlite3.connect(company.path) as con:
        rows = con.execute(
            "SELECT SalesOrderNo FROM SO_SalesOrderHeader WHERE CustomerPONo = ?",
            ("SHOP-9001",),
        ).fetchall()
    assert rows == [(number,)]

    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert "LedgerBridge agent stopped." in process.stdout.read()


def test_refusal_from_the_simulator_reaches_the_hub_in_sages_words(agent_process):
    from integrations.connectors.sage100.agent_client import AgentClient
    from integrations.engine import errors

    _, url = agent_process
    client = AgentClient(url, KEY_ID, SECRET, timeout=10)
    with pytest.raises(errors.SyncError) as caught:
        client.create_sales_order(
            {"ARDivisionNo": "01", "CustomerNo": "NOSUCH"},
            [{"ItemCode": "1001-HON-H252", "QuantityOrdered": 1}],
            idempotency_key="bad-customer",
        )
    assert caught.value.message.startswith("Sage 100 says: ")
    assert caught.value.field == "CustomerNo"


def test_boi_backend_off_windows_stops_with_a_clear_message(tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{KEY_ID}:{SECRET}\n")
    process = _start(
        "--backend",
        "boi",
        "--home",
        "C:\\Sage\\MAS90\\Home",
        "--company",
        "ABC",
        "--journal",
        str(tmp_path / "j.db"),
        "--keys-file",
        str(keys),
    )
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "only on the Windows server" in stderr


def test_missing_journal_setting_is_named(tmp_path):
    process = _start("--backend", "simulator", "--root", str(tmp_path))
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "journal:" in stderr


def test_agent_runs_without_django_or_the_hub():
    """It is installed alone on the Sage server: standard library only."""
    code = (
        "import sys, integrations.agent.__main__, integrations.agent.backends.boi\n"
        "hub = ('django', 'requests', 'rq', 'redis', 'pyodbc', 'integrations.')\n"
        "print(sorted(m for m in sys.modules if m.startswith(hub)\n"
        "             and not m.startswith('integrations.agent')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
