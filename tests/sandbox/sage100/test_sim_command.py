"""``manage.py sage100_sim``: create, extend and break the simulated company."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from integrations.connectors.sage100.odbc import OdbcReader, connection_string
from integrations.sandbox.sage100.database import CompanyDatabase
from integrations.sandbox.sage100.faults import Faults


def sim(root, *args) -> str:
    out = io.StringIO()
    call_command("sage100_sim", "--root", str(root), *args, stdout=out)
    return out.getvalue()


def test_create_with_seed_prints_the_odbc_settings_that_reach_it(tmp_path):
    output = sim(tmp_path, "create", "--seed")
    assert "Seeded 300 customers" in output
    settings = json.loads(output.split("ODBC settings: ")[1])
    rows = OdbcReader(connection_string(settings)).select(
        "AR_Customer", "SELECT COUNT(*) AS n FROM AR_Customer"
    )
    assert rows == [{"n": 300}]


def test_reset_starts_the_company_again(tmp_path):
    sim(tmp_path, "create", "--seed")
    with pytest.raises(CommandError, match="already has data"):
        sim(tmp_path, "create", "--seed")
    assert "Seeded" in sim(tmp_path, "create", "--seed", "--reset")


def test_the_default_root_is_under_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("sage100_sim", "create", stdout=io.StringIO())
    assert (tmp_path / "sage100" / "ABC.db").exists()


def test_add_udf_adds_a_live_column(tmp_path):
    sim(tmp_path, "create")
    output = sim(tmp_path, "add-udf", "AR_Customer", "sf_account_id", "--length", "18")
    assert output.strip() == "Added AR_Customer.UDF_SF_ACCOUNT_ID (string, 18)."
    db = CompanyDatabase(tmp_path, "ABC")
    columns = OdbcReader(connection_string(db.odbc_settings())).columns("AR_Customer")
    assert columns["UDF_SF_ACCOUNT_ID"].size == 18


def test_add_udf_to_an_unknown_table_says_so(tmp_path):
    sim(tmp_path, "create")
    with pytest.raises(CommandError, match="There is no table AR_Nothing"):
        sim(tmp_path, "add-udf", "AR_Nothing", "X")


def test_fault_switches_reach_the_shared_state(tmp_path):
    sim(tmp_path, "create", "--seed")
    faults = Faults(tmp_path)
    sim(tmp_path, "fault", "slow", "1.5")
    sim(tmp_path, "fault", "skew", "-90")
    assert (faults.state()["slow"], faults.state()["skew"]) == (1.5, -90.0)
    sim(tmp_path, "fault", "lock", "AR_Customer", "1", "abf")
    assert "locked: AR_Customer 01|ABF by JANE" in sim(tmp_path, "status")
    sim(tmp_path, "fault", "down")
    assert faults.is_down()
    assert "ABC.db.offline" in sim(tmp_path, "status")
    sim(tmp_path, "fault", "clear")
    assert faults.status()["locks"] == [] and not faults.is_down()


def test_fault_busy_holds_the_files_for_the_seconds_given(tmp_path):
    sim(tmp_path, "create")
    assert "Holding ABC's files for 0.05 s" in sim(tmp_path, "fault", "busy", "0.05")
    assert Faults(tmp_path).state()["busy_until"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fault", "outage"), "Usage: fault outage SECONDS"),
        (("fault", "slow", "soon"), "SECONDS must be a number"),
        (("fault", "lock", "AR_Customer"), "Usage: fault lock TABLE"),
        (("fault", "down", "now"), "takes no values"),
        (("fault", "lock", "AR_Customer", "ABF"), "key has 2 parts"),
    ],
)
def test_fault_mistakes_are_explained(tmp_path, args, message):
    sim(tmp_path, "create")
    with pytest.raises(CommandError, match=message):
        sim(tmp_path, *args)


def test_add_udf_before_create_says_what_to_do(tmp_path):
    with pytest.raises(CommandError, match="run 'sage100_sim create' first"):
        sim(tmp_path, "add-udf", "AR_Customer", "X")
