"""The BOI backend's A/P and item writes follow the business objects' sequence.

Checked against the recorded fake of Sage's COM objects (``fake_boi``).
"""

from datetime import date

import pytest

from integrations.agent.backends.base import BOIError, Reference
from integrations.agent.backends.boi import BOIBackend
from integrations.engine import errors
from tests.agent.conftest import agent_config, running_agent
from tests.agent.fake_boi import FakeCom, FakeSage

HOME = "\\\\SAGE\\Sage 100\\MAS90\\Home"
DAY = date(2026, 1, 31)
END = [("oSS", "nCleanup"), ("oSS", "DropObject"), ("com", "CoUninitialize")]


@pytest.fixture
def sage():
    return FakeSage()


@pytest.fixture
def boi(sage):
    return BOIBackend(
        HOME,
        "abc",
        "ledgerbridge",
        "pw",
        com=FakeCom(sage),
        today=lambda: DAY,
        bank_code="a",
    )


def _session(module: str, task: str) -> list[tuple]:
    return [
        ("com", "CoInitialize"),
        ("com", "Dispatch", "ProvideX.Script"),
        ("oScript", "Init", HOME),
        ("oScript", "NewObject", "SY_Session"),
        ("oSS", "nSetUser", "ledgerbridge", "pw"),
        ("oSS", "nSetCompany", "ABC"),
        ("oSS", "nSetDate", module, "20260131"),
        ("oSS", "nSetModule", module),
        ("oSS", "nLookupTask", task),
        ("oSS", "nSetProgram", 42),
    ]


def _writes(calls):
    return [c for c in calls if c[1] != "nGetValue"]


def test_a_vendor_is_keyed_by_division_and_number_in_the_ap_module(boi, sage):
    result = boi.create_vendor(
        {"APDivisionNo": "01", "VendorNo": "acme", "VendorName": "Acme Freight"}
    )

    bus = "AP_Vendor_bus"
    assert _writes(sage.calls) == [
        *_session("A/P", "AP_Vendor_ui"),
        ("oScript", "NewObject", bus, "oSS"),
        (bus, "nSetKeyValue", "APDivisionNo$", "01"),
        (bus, "nSetKeyValue", "VendorNo$", "ACME"),
        (bus, "nSetKey"),
        (bus, "nSetValue", "VendorName$", "Acme Freight"),
        (bus, "nWrite"),
        (bus, "DropObject"),
        *END,
    ]
    assert result.object == "AP_Vendor"
    assert result.key == {"APDivisionNo": "01", "VendorNo": "ACME"}


def test_a_vendor_without_a_number_takes_the_next_one(boi, sage):
    result = boi.create_vendor({"APDivisionNo": "01", "VendorName": "New"})
    assert ("AP_Vendor_bus", "nGetNextVendorNo", "&out") in sage.calls
    assert result.key["VendorNo"] == "0000019"


def test_a_vendor_update_opens_the_existing_record(boi, sage):
    sage.tables["AP_Vendor"] = {
        ("01", "ACME"): {"APDivisionNo": "01", "VendorNo": "ACME"}
    }
    result = boi.update_vendor("01", "acme", {"City": "Irvine"})
    assert ("AP_Vendor_bus", "nSetValue", "City$", "Irvine") in sage.calls
    assert result.created is False
    assert sage.tables["AP_Vendor"][("01", "ACME")]["City"] == "Irvine"


def test_an_update_of_a_vendor_not_on_file_is_not_found(boi, sage):
    with pytest.raises(BOIError) as caught:
        boi.update_vendor("01", "NOSUCH", {"City": "X"})
    assert (caught.value.code, caught.value.column) == ("not_found", "VendorNo")
    assert "nWrite" not in sage.methods("AP_Vendor_bus")


def test_an_item_update_writes_through_ci_itemcode(boi, sage):
    sage.tables["CI_ItemCode"] = {("1001-HON-H252",): {"ItemCode": "1001-HON-H252"}}
    boi.update_item("1001-hon-h252", {"StandardUnitPrice": "19.5", "Category1": "X"})

    bus = "CI_ItemCode_bus"
    assert _writes(sage.calls)[10:] == [
        ("oScript", "NewObject", bus, "oSS"),
        (bus, "nSetKeyValue", "ItemCode$", "1001-HON-H252"),
        (bus, "nSetKey"),
        (bus, "nSetValue", "StandardUnitPrice", 19.5),
        (bus, "nSetValue", "Category1$", "X"),
        (bus, "nWrite"),
        (bus, "DropObject"),
        *END,
    ]
    assert sage.calls[6:10] == _session("C/I", "CI_ItemCode_ui")[6:10]


def test_an_item_value_sage_refuses_names_the_column(boi, sage):
    sage.tables["CI_ItemCode"] = {("X1",): {"ItemCode": "X1"}}
    sage.script(
        "CI_ItemCode_bus",
        "nSetValue",
        "AverageUnitCost",
        message="The column AverageUnitCost is read only.",
    )
    with pytest.raises(BOIError) as caught:
        boi.update_item("X1", {"AverageUnitCost": 2})
    assert caught.value.column == "AverageUnitCost"


def test_a_bill_is_entered_with_one_distribution_line(boi, sage):
    result = boi.create_ap_invoice(
        {
            "APDivisionNo": "01",
            "VendorNo": "acme",
            "InvoiceNo": "inv-7",
            "InvoiceDate": "2026-01-30",
            "InvoiceAmt": "250.00",
            "ExpenseAcctKey": "000000012",
        }
    )

    bus, lines = "AP_Invoice_bus", "AP_Invoice_bus.oLines"
    assert _writes(sage.calls) == [
        *_session("A/P", "AP_Invoice_ui"),
        ("oScript", "NewObject", bus, "oSS"),
        (bus, "nSetKeyValue", "APDivisionNo$", "01"),
        (bus, "nSetKeyValue", "VendorNo$", "ACME"),
        (bus, "nSetKeyValue", "InvoiceNo$", "INV-7"),
        (bus, "nSetKey"),
        (bus, "nSetValue", "InvoiceDate$", "20260130"),
        (bus, "nSetValue", "InvoiceAmt", 250.0),
        (lines, "nAddLine"),
        (lines, "nSetValue", "AccountKey$", "000000012"),
        (lines, "nSetValue", "DistributionAmt", 250.0),
        (lines, "nWrite"),
        (bus, "nWrite"),
        (bus, "DropObject"),
        *END,
    ]
    assert result.key == {
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "InvoiceNo": "INV-7",
    }


def test_a_bill_without_its_number_is_refused_before_sage_is_opened(boi, sage):
    with pytest.raises(BOIError) as caught:
        boi.create_ap_invoice({"APDivisionNo": "01", "VendorNo": "ACME"})
    assert caught.value.column == "InvoiceNo"
    assert sage.calls == []


def test_a_payment_is_a_manual_check_applied_to_the_invoice(boi, sage):
    result = boi.record_ap_payment(
        {
            "APDivisionNo": "01",
            "VendorNo": "acme",
            "InvoiceNo": "inv-7",
            "CheckNo": "PMT-1",
            "PaymentAmount": "100.00",
            "PaymentDate": "2026-01-31",
        }
    )

    bus, lines = "AP_ManualCheck_bus", "AP_ManualCheck_bus.oLines"
    assert _writes(sage.calls) == [
        *_session("A/P", "AP_ManualCheck_ui"),
        ("oScript", "NewObject", bus, "oSS"),
        (bus, "nSetKeyValue", "BankCode$", "A"),
        (bus, "nSetKeyValue", "CheckNo$", "PMT-1"),
        (bus, "nSetKey"),
        (bus, "nSetValue", "APDivisionNo$", "01"),  # the vendor first: defaults
        (bus, "nSetValue", "VendorNo$", "ACME"),
        (bus, "nSetValue", "CheckDate$", "20260131"),
        (bus, "nSetValue", "CheckAmt", 100.0),
        (lines, "nAddLine"),
        (lines, "nSetValue", "InvoiceNo$", "INV-7"),
        (lines, "nSetValue", "AmountPaid", 100.0),
        (lines, "nWrite"),
        (bus, "nWrite"),
        (bus, "DropObject"),
        *END,
    ]
    assert result.object == "AP_ManualCheck"
    assert result.key == {"BankCode": "A", "CheckNo": "PMT-1"}


def test_a_payment_without_a_bank_says_which_setting_is_missing(sage):
    boi = BOIBackend(HOME, "ABC", com=FakeCom(sage), today=lambda: DAY)
    with pytest.raises(BOIError, match="bank_code") as caught:
        boi.record_ap_payment({"CheckNo": "1", "InvoiceNo": "X", "PaymentAmount": 1})
    assert caught.value.column == "BankCode"


def test_a_refused_check_line_names_the_line(boi, sage):
    sage.script(
        "AP_ManualCheck_bus.oLines",
        "nSetValue",
        "AmountPaid",
        message="The amount is more than the invoice balance.",
    )
    with pytest.raises(BOIError) as caught:
        boi.record_ap_payment(
            {
                "APDivisionNo": "01",
                "VendorNo": "ACME",
                "InvoiceNo": "INV-7",
                "CheckNo": "PMT-2",
                "PaymentAmount": 999,
            }
        )
    assert caught.value.column == "lines[0].AmountPaid"
    assert "nWrite" not in sage.methods("AP_ManualCheck_bus")


def test_find_a_check_by_its_number_within_the_vendor(boi, sage):
    sage.tables["AP_ManualCheck"] = {
        ("A", "PMT-1"): {
            "BankCode": "A",
            "CheckNo": "PMT-1",
            "APDivisionNo": "01",
            "VendorNo": "OTHER",
        },
        ("A", "PMT-1B"): {
            "BankCode": "A",
            "CheckNo": "PMT-1",
            "APDivisionNo": "01",
            "VendorNo": "ACME",
        },
    }
    scope = (("APDivisionNo", "01"), ("VendorNo", "ACME"))
    found = boi.find("AP_ManualCheck", Reference("CheckNo", "PMT-1", scope))
    assert found.record["VendorNo"] == "ACME"
    assert ("oScript", "NewObject", "AP_ManualCheck_svc", "oSS") in sage.calls


def test_the_agent_replays_a_payment_written_through_the_boi_backend(tmp_path, boi):
    values = {
        "APDivisionNo": "01",
        "VendorNo": "ACME",
        "InvoiceNo": "INV-7",
        "CheckNo": "PMT-3",
        "PaymentAmount": "5",
    }
    with running_agent(agent_config(tmp_path, backend="boi"), boi) as agent:
        client = agent.client()
        first = client.record_ap_payment(values, idempotency_key="p-3")
        again = client.record_ap_payment(values, idempotency_key="p-3")
        with pytest.raises(errors.ValidationFailed) as caught:
            client.record_ap_payment(
                {**values, "PaymentAmount": None}, idempotency_key="p-4"
            )

    assert again == {**first, "replayed": True}
    assert caught.value.field == "PaymentAmount"
