"""The BOI backend drives Sage's COM objects in the documented order.

Checked against a recorded fake of ProvideX.Script and the business objects
(``fake_boi``); the real thing needs Windows and a Sage 100 install.
"""

import sys
from datetime import date

import pytest

from integrations.agent.backends import backend_class
from integrations.agent.backends.base import BOIError, Reference
from integrations.agent.backends.boi import BOIBackend
from integrations.agent.backends.boi_com import BOIUnsupported, WriteOutcomeUnknown
from integrations.engine import errors
from tests.agent.conftest import agent_config, running_agent
from tests.agent.fake_boi import FakeCom, FakeComError, FakeSage

HOME = "\\\\SAGE\\Sage 100\\MAS90\\Home"
DAY = date(2026, 1, 31)
HEADER = {  # customer columns last: the backend must set them first
    "CustomerPONo": "SHOP-1001",
    "OrderDate": "2026-01-31",
    "ARDivisionNo": "01",
    "CustomerNo": "ABF",
}
LINES = [{"QuantityOrdered": 2, "ItemCode": "1001-HON-H252", "WarehouseCode": "000"}]


@pytest.fixture
def sage():
    return FakeSage()


@pytest.fixture
def boi(sage):
    return BOIBackend(
        HOME, "abc", "ledgerbridge", "pw", com=FakeCom(sage), today=lambda: DAY
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


END = [("oSS", "nCleanup"), ("oSS", "DropObject"), ("com", "CoUninitialize")]


def _without_reads(calls):
    """The calls that change something; reads are checked on their own."""
    return [c for c in calls if c[1] != "nGetValue"]


def test_sales_order_follows_the_documented_sequence(boi, sage):
    result = boi.create_sales_order(HEADER, LINES)

    bus, lines = "SO_SalesOrder_bus", "SO_SalesOrder_bus.oLines"
    assert _without_reads(sage.calls) == [
        *_session("S/O", "SO_SalesOrder_ui"),
        ("oScript", "NewObject", bus, "oSS"),
        (bus, "nGetNextSalesOrderNo", "&out"),
        (bus, "nSetKeyValue", "SalesOrderNo$", "0000124"),
        (bus, "nSetKey"),
        (bus, "nSetValue", "ARDivisionNo$", "01"),  # customer first: it fills defaults
        (bus, "nSetValue", "CustomerNo$", "ABF"),
        (bus, "nSetValue", "CustomerPONo$", "SHOP-1001"),
        (bus, "nSetValue", "OrderDate$", "20260131"),  # dates as YYYYMMDD strings
        (lines, "nAddLine"),
        (lines, "nSetValue", "ItemCode$", "1001-HON-H252"),  # item first
        (lines, "nSetValue", "QuantityOrdered", 2.0),  # numbers without "$"
        (lines, "nSetValue", "WarehouseCode$", "000"),
        (lines, "nWrite"),
        (bus, "nWrite"),
        (bus, "DropObject"),
        *END,
    ]
    assert result.object == "SO_SalesOrder"
    assert result.key == {"SalesOrderNo": "0000124"}
    assert result.record["CustomerPONo"] == "SHOP-1001"
    assert result.lines[0]["LineKey"] == "000001"
    assert result.created and result.warnings == []
    assert sage.tables["SO_SalesOrder"][("0000124",)]["CustomerNo"] == "ABF"


def test_values_are_read_back_before_the_write_not_after(boi, sage):
    boi.create_sales_order(HEADER, LINES)
    methods = sage.methods("SO_SalesOrder_bus")
    last_read = len(methods) - 1 - methods[::-1].index("nGetValue")
    assert last_read < methods.index("nWrite")


def test_customer_is_keyed_by_division_and_number(boi, sage):
    result = boi.create_customer(
        {"ARDivisionNo": "01", "CustomerNo": "abf", "CustomerName": "American"}
    )
    bus = "AR_Customer_bus"
    assert _without_reads(sage.calls) == [
        *_session("A/R", "AR_Customer_ui"),
        ("oScript", "NewObject", bus, "oSS"),
        (bus, "nSetKeyValue", "ARDivisionNo$", "01"),
        (bus, "nSetKeyValue", "CustomerNo$", "ABF"),
        (bus, "nSetKey"),
        (bus, "nSetValue", "CustomerName$", "American"),
        (bus, "nWrite"),
        (bus, "DropObject"),
        *END,
    ]
    assert result.key == {"ARDivisionNo": "01", "CustomerNo": "ABF"}


def test_customer_without_a_number_takes_the_next_one(boi, sage):
    result = boi.create_customer({"ARDivisionNo": "01", "CustomerName": "New"})
    assert ("AR_Customer_bus", "nGetNextCustomerNo", "&out") in sage.calls
    assert result.key["CustomerNo"] == "0000042"


def test_purchase_order_uses_its_module_task_and_counter(boi, sage):
    result = boi.create_purchase_order(
        {"APDivisionNo": "01", "VendorNo": "AIRWAY"},
        [{"ItemCode": "X", "UnitCost": "4.5"}],
    )
    assert sage.calls[6:10] == _session("P/O", "PO_PurchaseOrder_ui")[6:10]
    assert ("PO_PurchaseOrder_bus", "nGetNextPurchaseOrderNo", "&out") in sage.calls
    assert ("PO_PurchaseOrder_bus.oLines", "nSetValue", "UnitCost", 4.5) in sage.calls
    assert result.key == {"PurchaseOrderNo": "0000311"}


def test_refused_value_raises_with_sages_message_and_abandons_the_record(boi, sage):
    sage.script(
        "SO_SalesOrder_bus",
        "nSetValue",
        "CustomerNo$",
        message="The customer number is invalid.",
    )

    with pytest.raises(BOIError) as caught:
        boi.create_sales_order(HEADER, LINES)

    assert (caught.value.code, caught.value.column) == ("invalid", "CustomerNo")
    assert caught.value.message == "The customer number is invalid."
    methods = sage.methods("SO_SalesOrder_bus")
    assert "nWrite" not in methods
    assert methods[-2:] == ["nClear", "DropObject"]
    assert sage.calls[-3:] == END
    assert "SO_SalesOrder" not in sage.tables


def test_refused_line_names_the_line_and_column(boi, sage):
    sage.script(
        "SO_SalesOrder_bus.oLines",
        "nSetValue",
        "ItemCode$",
        message="The item code is invalid.",
    )
    with pytest.raises(BOIError) as caught:
        boi.create_sales_order(HEADER, LINES)
    assert caught.value.column == "lines[0].ItemCode"
    assert caught.value.message == "The item code is invalid."


@pytest.mark.parametrize(
    ("message", "code", "column"),
    [
        ("Required field ShipExpireDate is missing.", "invalid", "ShipExpireDate"),
        ("The record is in use by another user / task.", "locked", ""),
        ("The terms code is not on file.", "not_on_file", ""),
    ],
)
def test_refused_write_is_mapped_from_its_message(boi, sage, message, code, column):
    sage.script("SO_SalesOrder_bus", "nWrite", message=message)
    with pytest.raises(BOIError) as caught:
        boi.create_sales_order(HEADER, LINES)
    assert (caught.value.code, caught.value.column) == (code, column)
    assert caught.value.retryable is (code == "locked")


def test_write_with_a_warning_succeeds_and_keeps_the_warning(boi, sage):
    warning = "Customer is over the credit limit; the order is on hold."
    sage.script("SO_SalesOrder_bus", "nWrite", ret=-1, message=warning)
    result = boi.create_sales_order(HEADER, LINES)
    assert result.warnings == [warning]
    assert ("0000124",) in sage.tables["SO_SalesOrder"]


def test_record_locked_by_a_user_on_open_is_retryable(boi, sage):
    sage.script("AR_Customer_bus", "nSetKey", message="The record is in use by JOE.")
    with pytest.raises(BOIError) as caught:
        boi.update_customer("01", "ABF", {"CreditHold": "Y"})
    assert caught.value.code == "locked" and caught.value.retryable


def test_existing_customer_is_not_created_again(boi, sage):
    sage.tables["AR_Customer"] = {
        ("01", "ABF"): {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    }
    with pytest.raises(BOIError) as caught:
        boi.create_customer({"ARDivisionNo": "01", "CustomerNo": "ABF"})
    assert caught.value.message == "Customer 01-ABF is already on file."
    assert "nWrite" not in sage.methods("AR_Customer_bus")


def test_status_of_an_order_not_on_file_is_not_found(boi, sage):
    with pytest.raises(BOIError) as caught:
        boi.update_order_status("0000999", "H")
    assert caught.value.code == "not_found"
    assert sage.methods("SO_SalesOrder_bus")[-2:] == ["nClear", "DropObject"]


def test_update_sets_status_on_the_existing_order(boi, sage):
    sage.tables["SO_SalesOrder"] = {("0000124",): {"SalesOrderNo": "0000124"}}
    result = boi.update_order_status("0000124", "H")
    assert ("SO_SalesOrder_bus", "nSetValue", "OrderStatus$", "H") in sage.calls
    assert result.created is False
    assert sage.tables["SO_SalesOrder"][("0000124",)]["OrderStatus"] == "H"


def test_bad_login_stops_before_any_business_object(boi, sage):
    sage.script("oSS", "nSetUser", message="Invalid user or password.")
    with pytest.raises(BOIError) as caught:
        boi.create_customer({"ARDivisionNo": "01", "CustomerNo": "ABF"})
    assert (caught.value.code, caught.value.message) == (
        "login",
        "Invalid user or password.",
    )
    assert not any(c[0] == "AR_Customer_bus" for c in sage.calls)
    assert sage.calls[-3:] == END


def test_no_rights_to_the_task_is_a_login_error(boi, sage):
    sage.script("oSS", "nLookupTask", ret=0)
    with pytest.raises(BOIError) as caught:
        boi.create_item({"ItemCode": "X"})
    assert caught.value.code == "login"
    assert "CI_ItemCode_ui" in caught.value.message


def test_com_server_missing_is_unavailable(boi, sage):
    sage.script("oScript", "Init", error=FakeComError("Server execution failed"))
    with pytest.raises(BOIError) as caught:
        boi.ping()
    assert caught.value.code == "unavailable" and caught.value.retryable


def test_com_failure_during_the_write_is_an_unknown_outcome(boi, sage):
    sage.script(
        "SO_SalesOrder_bus", "nWrite", error=FakeComError("RPC server unavailable")
    )
    with pytest.raises(WriteOutcomeUnknown):
        boi.create_sales_order(HEADER, LINES)


def test_com_failure_reading_the_warning_after_a_write_is_an_unknown_outcome(
    boi, sage, monkeypatch
):
    """nWrite said -1 (written, with a warning); reading sLastErrorMsg then
    failed. The order may be on file, so this must not be reported as refused
    (a refusal lets the retry write a second order)."""
    from tests.agent.fake_boi import FakeBusiness

    def message_unreadable(obj):
        if obj.label == "SO_SalesOrder_bus" and obj.__dict__.get("_written"):
            raise FakeComError("RPC server unavailable")
        return obj.__dict__.get("_message", "")

    def remember(obj, value):
        obj.__dict__["_message"] = value

    real_call = FakeBusiness._call

    def call(obj, method, *args, **kwargs):
        result = real_call(obj, method, *args, **kwargs)
        if method == "nWrite":
            obj.__dict__["_written"] = True
        return result

    monkeypatch.setattr(
        FakeBusiness,
        "sLastErrorMsg",
        property(message_unreadable, remember),
        raising=False,
    )
    monkeypatch.setattr(FakeBusiness, "_call", call)
    sage.script("SO_SalesOrder_bus", "nWrite", ret=-1, message="On hold.")

    with pytest.raises(WriteOutcomeUnknown, match="after writing"):
        boi.create_sales_order(HEADER, LINES)


def test_find_uses_the_customer_po_index(boi, sage):
    sage.tables["SO_SalesOrder"] = {
        ("0000100",): {"SalesOrderNo": "0000100", "CustomerPONo": "SHOP-10"},
        ("0000101",): {"SalesOrderNo": "0000101", "CustomerPONo": "SHOP-1001"},
    }
    found = boi.find("SO_SalesOrder", Reference("CustomerPONo", "SHOP-1001"))

    svc = "SO_SalesOrder_svc"
    assert (svc, "nSetBrowseIndex", "KCUSTOMERPO", "") in sage.calls
    assert (svc, "nSetBrowseFilter", "SHOP-1001") in sage.calls
    assert found.key == {"SalesOrderNo": "0000101"}
    assert found.created is False


def test_find_by_a_udf_scans_and_may_find_nothing(boi, sage):
    sage.tables["AR_Customer"] = {
        ("01", "ABF"): {"ARDivisionNo": "01", "CustomerNo": "ABF", "UDF_SF_ID": "001A"}
    }
    assert boi.find("AR_Customer", Reference("UDF_SF_ID", "001B")) is None
    found = boi.find("AR_Customer", Reference("UDF_SF_ID", "001A"))
    assert found.key == {"ARDivisionNo": "01", "CustomerNo": "ABF"}
    assert ("AR_Customer_svc", "nSetBrowseIndex", "KCUSTOMERNO", "") not in sage.calls


def test_cash_receipt_opens_a_deposit_then_the_receipt(boi, sage):
    result = boi.record_cash_receipt(
        {
            "ARDivisionNo": "01",
            "CustomerNo": "ABF",
            "CheckNo": "1001",
            "TransactionDate": "2026-01-31",
            "PostingAmt": "150.00",
            "InvoiceNo": "0100044",
        }
    )

    dep, cr = "AR_CashReceiptsDeposit_bus", "AR_CashReceipts_bus"
    assert _without_reads(sage.calls) == [
        *_session("A/R", "AR_CashReceipts_ui"),
        ("oScript", "NewObject", dep, "oSS"),
        (dep, "nGetNextDepositNo", "&out"),
        (dep, "nSetKeyValue", "DepositNo$", "00007"),
        (dep, "nSetKey"),
        (dep, "nSetValue", "DepositDate$", "20260131"),
        (dep, "nSetValue", "DepositAmt", 150.0),
        (dep, "nWrite"),
        (dep, "DropObject"),
        ("oScript", "NewObject", cr, "oSS"),
        (cr, "nSetKeyValue", "DepositNo$", "00007"),
        (cr, "nSetKeyValue", "ARDivisionNo$", "01"),
        (cr, "nSetKeyValue", "CustomerNo$", "ABF"),
        (cr, "nSetKeyValue", "CheckNo$", "1001"),
        (cr, "nSetKey"),
        (cr, "nSetValue", "TransactionDate$", "20260131"),
        (cr, "nSetValue", "PostingAmt", 150.0),
        (f"{cr}.oLines", "nAddLine"),
        (f"{cr}.oLines", "nSetValue", "InvoiceNo$", "0100044"),
        (f"{cr}.oLines", "nSetValue", "AmountPosted", 150.0),
        (f"{cr}.oLines", "nWrite"),
        (cr, "nWrite"),
        (cr, "DropObject"),
        *END,
    ]
    assert result.key == {
        "DepositNo": "00007",
        "ARDivisionNo": "01",
        "CustomerNo": "ABF",
        "CheckNo": "1001",
    }


def test_refused_receipt_removes_its_empty_deposit(boi, sage):
    sage.script(
        "AR_CashReceipts_bus",
        "nSetValue",
        "PostingAmt",
        message="The posting amount is invalid.",
    )
    with pytest.raises(BOIError):
        boi.record_cash_receipt(
            {"ARDivisionNo": "01", "CustomerNo": "ABF", "CheckNo": "1", "PostingAmt": 5}
        )
    assert ("AR_CashReceiptsDeposit_bus", "nDelete") in sage.calls
    assert sage.tables["AR_CashReceiptsDeposit"] == {}


def test_agent_answers_422_with_sages_words_through_the_boi_backend(
    tmp_path, sage, boi
):
    sage.script(
        "SO_SalesOrder_bus",
        "nSetValue",
        "CustomerNo$",
        message="The customer number is invalid.",
    )
    with running_agent(agent_config(tmp_path, backend="boi"), boi) as agent:
        client = agent.client()
        with pytest.raises(errors.ValidationFailed) as caught:
            client.create_sales_order(HEADER, LINES, idempotency_key="k1")
        order = client.create_sales_order(HEADER, LINES, idempotency_key="k2")

    assert caught.value.message == "Sage 100 says: The customer number is invalid."
    assert caught.value.field == "CustomerNo"
    assert order["key"] == {"SalesOrderNo": "0000124"}


@pytest.mark.skipif(sys.platform == "win32", reason="pywin32 may be present")
def test_boi_backend_elsewhere_than_windows_says_why():
    with pytest.raises(BOIUnsupported, match="only on the Windows server"):
        backend_class("boi")(HOME, "ABC")


def test_receipt_into_a_given_deposit_leaves_that_deposit_alone(boi, sage):
    sage.script("AR_CashReceipts_bus", "nWrite", message="The check is a duplicate.")
    with pytest.raises(BOIError):
        boi.record_cash_receipt(
            {
                "DepositNo": "00003",
                "ARDivisionNo": "01",
                "CustomerNo": "ABF",
                "CheckNo": "1",
                "PostingAmt": 5,
            }
        )
    assert not any(c[0] == "AR_CashReceiptsDeposit_bus" for c in sage.calls)
    assert ("AR_CashReceipts_bus", "nSetKeyValue", "DepositNo$", "00003") in sage.calls
