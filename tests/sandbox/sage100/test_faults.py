"""Fault switches break the simulated server for real: readers and writers notice."""

from __future__ import annotations

import threading
import time

import pytest

from integrations.agent.backends.base import BOIError
from integrations.engine.errors import Unavailable
from integrations.sandbox.sage100.faults import Faults
from tests.sandbox.sage100.conftest import offline_path

COMPANY_SQL = "SELECT CompanyCode FROM SY_Company"


def read_company(odbc) -> list[dict]:
    return odbc.select("SY_Company", COMPANY_SQL)


def wait_for(condition, seconds: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or the deadline passes."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while time.monotonic() < deadline:
        if condition():
            return True
        pause.wait(0.02)
    return condition()


def test_down_refuses_odbc_connections_and_business_objects(
    company, odbc, backend, faults
):
    faults.down()
    assert not company.path.exists() and offline_path(company).exists()
    with pytest.raises(Unavailable):
        read_company(odbc)
    with pytest.raises(BOIError) as caught:
        backend.ping()
    assert (caught.value.code, caught.value.retryable) == ("unavailable", True)
    faults.up()
    assert read_company(odbc) == [{"CompanyCode": "ABC"}]
    assert backend.ping()["company_name"] == "ABC Distribution and Service Corp."


def test_the_down_switch_is_shared_through_the_root(company, backend):
    Faults(company.root).down()  # e.g. the admin command, another process
    with pytest.raises(BOIError, match="not available"):
        backend.create_customer({"ARDivisionNo": "01", "CustomerName": "X"})


def test_an_outage_ends_by_itself_when_due(company, odbc, faults):
    faults.outage(30, now=1000.0)
    assert faults.refresh(now=1029.0)["down"] is True
    with pytest.raises(Unavailable):
        read_company(odbc)
    assert faults.refresh(now=1030.0)["down"] is False
    assert read_company(odbc) == [{"CompanyCode": "ABC"}]


def test_the_watchdog_ends_an_outage_without_any_write(company, odbc, backend, faults):
    faults.outage(0)
    watchdog = backend.start_watchdog(interval=0.02)
    try:
        assert wait_for(company.path.exists)
        assert read_company(odbc) == [{"CompanyCode": "ABC"}]
    finally:
        backend.stop_watchdog()
        watchdog.join(timeout=5)


def test_the_first_call_after_an_outage_ends_it(company, backend, faults):
    faults.outage(0)
    assert backend.ping()["backend"] == "simulator"
    assert company.path.exists()


def test_slow_makes_every_call_take_longer(backend, faults):
    faults.slow(0.3)
    started = time.monotonic()
    backend.ping()
    assert time.monotonic() - started >= 0.3
    faults.slow(0)
    started = time.monotonic()
    backend.ping()
    assert time.monotonic() - started < 0.3


def test_busy_locks_out_odbc_readers_and_writers(odbc, backend, faults):
    with faults.busy():
        with pytest.raises(Unavailable) as caught:
            read_company(odbc)
        assert "database is locked" in caught.value.detail
        with pytest.raises(BOIError) as refused:
            backend.update_customer("01", "ABF", {"Comment": "x"})
        assert (refused.value.code, refused.value.retryable) == ("locked", True)
        assert faults.state()["busy_until"] == "held"
    assert read_company(odbc) == [{"CompanyCode": "ABC"}]
    assert faults.state()["busy_until"] is None


def test_a_started_busy_spell_releases_itself(odbc, faults):
    spell = faults.busy(0.05).start()
    spell.wait()
    assert read_company(odbc) == [{"CompanyCode": "ABC"}]


def test_bulk_change_leaves_the_stamps_alone(odbc, table, faults):
    item = "1001-HON-H252"
    before = table("CI_Item", ItemCode=item)[0]
    faults.bulk_change("CI_Item", item, {"StandardUnitPrice": "999.99"})
    rows = odbc.select(
        "CI_Item",
        "SELECT StandardUnitPrice, DateUpdated, TimeUpdated, UserUpdatedKey "
        "FROM CI_Item WHERE ItemCode = ?",
        [item],
    )
    assert str(rows[0]["StandardUnitPrice"]) == "999.99"
    after = table("CI_Item", ItemCode=item)[0]
    stamps = ("DateUpdated", "TimeUpdated", "UserUpdatedKey")
    assert [after[s] for s in stamps] == [before[s] for s in stamps]


def test_bulk_change_of_a_missing_record_says_so(faults):
    from integrations.sandbox.sage100.database import SimulatorError

    with pytest.raises(SimulatorError, match="CI_Item has no record NOPE"):
        faults.bulk_change("CI_Item", "nope", {"ItemCodeDesc": "x"})


def test_a_record_locked_by_the_same_user_can_be_written(backend, faults):
    faults.lock_record("AR_Customer", "01|ABF", user="api")
    assert backend.update_customer("01", "ABF", {"Comment": "mine"}).record


def test_clear_turns_every_fault_off(company, backend, faults):
    faults.slow(5)
    faults.clock_skew(60)
    faults.lock_record("AR_Customer", ["01", "ABF"])
    faults.down()
    faults.clear()
    assert faults.status() == {
        "down": False,
        "down_until": None,
        "slow": 0.0,
        "skew": 0.0,
        "busy_until": None,
        "locks": [],
    }
    assert backend.update_customer("01", "ABF", {"Comment": "ok"}).record


def test_status_lists_record_locks(faults):
    faults.lock_record("SO_SalesOrderHeader", "1001", user="jane")
    assert faults.status()["locks"] == [
        {
            "TableName": "SO_SalesOrderHeader",
            "RecordKey": "0001001",
            "LockedBy": "JANE",
        }
    ]


def test_a_key_with_the_wrong_number_of_parts_is_explained(faults):
    from integrations.sandbox.sage100.database import SimulatorError

    with pytest.raises(SimulatorError, match="ARDivisionNo, CustomerNo"):
        faults.lock_record("AR_Customer", "ABF")


def test_a_company_never_created_is_named_in_the_error(tmp_path):
    from integrations.sandbox.sage100.business import SimulatorBackend

    with pytest.raises(BOIError, match="Company XYZ does not exist") as caught:
        SimulatorBackend(tmp_path, "xyz").ping()
    assert caught.value.code == "unavailable"


def test_down_takes_only_the_companys_own_file_offline(company):
    """An agent's journal (or another company) beside it is not part of the outage."""
    journal = company.root / "journal.db"
    journal.write_bytes(b"")
    faults = Faults(company.root, company.company)

    faults.down()

    assert journal.exists()
    assert not company.path.exists()
    faults.up()
    assert company.path.exists()
