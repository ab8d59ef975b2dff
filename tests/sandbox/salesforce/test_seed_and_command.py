"""The demo seed stays consistent with the simulated Sage 100; the command serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests
from django.conf import settings

from integrations.sandbox.sage100.database import CompanyDatabase
from integrations.sandbox.sage100.seed import seed as seed_sage
from integrations.sandbox.salesforce.seed import ACCOUNTS, PRODUCTS


@pytest.fixture(scope="module")
def sage(tmp_path_factory):
    db = CompanyDatabase(tmp_path_factory.mktemp("sage"), "ABC")
    db.create()
    seed_sage(db, customers=40)
    return db


def test_product_codes_stand_for_real_sage_items_at_sage_prices(sage):
    with sage.connect() as con:
        items = {
            row[0]: row[1]
            for row in con.execute("SELECT ItemCode, StandardUnitPrice FROM CI_Item")
        }
    for code, item_code, _, _, price in PRODUCTS:
        if item_code is None:
            assert code not in items
            continue
        assert float(items[item_code]) == price, item_code


def test_sage_customers_in_the_seed_exist_with_their_phone(sage):
    with sage.connect() as con:
        customers = {
            f"{row[0]}-{row[1]}": row[2:]
            for row in con.execute(
                "SELECT ARDivisionNo, CustomerNo, CustomerName, TelephoneNo, "
                "AddressLine1 FROM AR_Customer"
            )
        }
    for key, name, sage_key, _, street, *_, phone in ACCOUNTS:
        if sage_key is None:
            assert all(c[0] != name for c in customers.values())
            continue
        sage_name, sage_phone, sage_street = customers[sage_key]
        if key in ("abf", "delta"):  # the exact twins
            assert (sage_name, sage_phone, sage_street) == (name, phone, street)


def test_seed_links_one_account_by_external_id(sim, sf):
    linked = sf.query("SELECT Name FROM Account WHERE ExternalID__c != null")
    assert [r["Name"] for r in linked["records"]] == ["American Business Futures"]
    assert sf.query("SELECT COUNT() FROM Product2")["totalSize"] == len(PRODUCTS)


def test_command_serves_and_writes_credentials(tmp_path):
    folder = tmp_path / "sf"
    # The test run's Redis: without REDIS_URL the command would start an
    # embedded redis-server of its own, which outlives it.
    env_var = {
        "LEDGERBRIDGE_VAR_DIR": str(tmp_path / "var"),
        "REDIS_URL": settings.REDIS_URL,
    }

    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "salesforce_sim",
            "--port",
            "0",
            "--folder",
            str(folder),
        ],
        env={**os.environ, **env_var},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        path = folder / "credentials.json"
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read().decode()
            time.sleep(0.1)
        credentials = json.loads(path.read_text())
        session = requests.Session()
        session.trust_env = False
        session.verify = credentials["ca_bundle"]
        response = session.post(
            credentials["login_url"] + "/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
                "username": credentials["username"],
                "password": credentials["password"] + credentials["security_token"],
            },
        )
        assert response.status_code == 200
        assert (folder / "jwt-private-key.pem").read_bytes().startswith(b"-----BEGIN")
    finally:
        process.terminate()
        process.wait(10)
