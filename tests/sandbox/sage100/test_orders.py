"""Sales orders, purchase orders and receipts keep Sage's numbers and totals in step."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.agent.backends.base import BOIError, Reference
from tests.sandbox.sage100.conftest import header

ITEM, OTHER = "1001-HON-H252", "1001-HON-H254"


def number(value) -> Decimal:
    return Decimal(str(value or 0))


@pytest.fixture
def price(table) -> Decimal:
    """ITEM's standard unit price in the seeded company."""
    return number(table("CI_Item", ItemCode=ITEM)[0]["StandardUnitPrice"])


def on_sales_order(table, item: str, warehouse: str = "000") -> Decimal:
    row = table("IM_ItemWarehouse", ItemCode=item, WarehouseCode=warehouse)[0]
    return number(row["QuantityOnSalesOrder"])


def open_order_amt(table, customer: dict) -> Decimal:
    rows = table(
        "AR_Customer",
        ARDivisionNo=customer["ARDivisionNo"],
        CustomerNo=customer["CustomerNo"],
    )
    return number(rows[0]["OpenOrderAmt"])


def options(faults, **values) -> None:
    faults.bulk_change("SO_Options", "S/O", values)


def test_order_numbers_come_from_the_counter_zero_filled(backend, table, new_customer):
    customer = new_customer()
    first = backend.create_sales_order(header(customer), [])
    second = backend.create_sales_order(header(customer), [])
    assert (first.key["SalesOrderNo"], second.key["SalesOrderNo"]) == (
        "0001041",
        "0001042",
    )
    assert table("SO_Options")[0]["NextSalesOrderNo"] == "0001043"


def test_the_counter_skips_numbers_already_used(backend, table, faults, new_customer):
    options(faults, NextSalesOrderNo="1040")  # 0001040 is a seeded open order
    order = backend.create_sales_order(header(new_customer()), [])
    assert order.key == {"SalesOrderNo": "0001041"}


def test_a_refused_order_does_not_use_up_a_number(backend, table, new_customer):
    with pytest.raises(BOIError):
        backend.create_sales_order(header(new_customer(), OrderDate=""), [])
    assert table("SO_Options")[0]["NextSalesOrderNo"] == "0001041"


def test_customer_numbers_come_from_the_counter_when_numbering_is_on(backend):
    first = backend.create_customer({"ARDivisionNo": "02", "CustomerName": "A"})
    second = backend.create_customer({"ARDivisionNo": "02", "CustomerName": "B"})
    assert [first.key["CustomerNo"], second.key["CustomerNo"]] == [
        "0000001",
        "0000002",
    ]


def test_without_numbering_a_customer_number_is_required(backend, faults):
    faults.bulk_change("AR_Options", "A/R", {"AutoNumberCustomers": "N"})
    with pytest.raises(BOIError, match=r"Required field CustomerNo is missing\."):
        backend.create_customer({"ARDivisionNo": "02", "CustomerName": "A"})


def test_the_header_takes_the_customers_defaults(backend, table):
    abf = table("AR_Customer", CustomerNo="ABF")[0]
    order = backend.create_sales_order(
        header({"ARDivisionNo": "01", "CustomerNo": "ABF"}), []
    )
    record = order.record
    assert record["BillToName"] == "American Business Futures"
    assert record["ShipToName"] == record["BillToName"]
    assert record["ShipToAddress1"] == record["BillToAddress1"] != ""
    assert (record["TermsCode"], record["SalespersonNo"]) == (
        abf["TermsCode"],
        abf["SalespersonNo"],
    )
    assert (record["OrderType"], record["OrderStatus"], record["WarehouseCode"]) == (
        "S",
        "N",
        "000",
    )


def test_a_ship_to_code_fills_the_ship_to_address(backend, table):
    address = table("AR_CustomerShipAddress", CustomerNo="ABF")[0]
    order = backend.create_sales_order(
        header({"ARDivisionNo": "01", "CustomerNo": "ABF"}, ShipToCode="WHSE"), []
    )
    assert order.record["ShipToCode"] == "WHSE"
    assert order.record["ShipToName"] == address["ShipToName"]
    assert order.record["ShipToCity"] == address["ShipToCity"]


def test_lines_take_the_items_description_price_and_unit(backend, new_customer, price):
    order = backend.create_sales_order(
        header(new_customer()),
        [
            {"ItemCode": ITEM, "QuantityOrdered": 2},
            {"ItemCode": "/C", "CommentText": "Hi"},
        ],
    )
    line, comment = order.lines
    assert line["ItemCodeDesc"] == "HON file cabinet H252"
    assert (line["UnitPrice"], line["UnitOfMeasure"], line["ExtensionAmt"]) == (
        f"{price:.4f}",
        "EACH",
        f"{2 * price:.2f}",
    )
    assert (comment["ItemType"], comment["LineKey"]) == ("4", "000002")
    assert order.record["TaxableAmt"] == f"{2 * price:.2f}"


def test_an_order_commits_its_amount_and_quantities(
    backend, table, new_customer, price
):
    customer = new_customer()
    before = on_sales_order(table, ITEM)
    order = backend.create_sales_order(
        header(customer, FreightAmt="10"),
        [
            {"ItemCode": ITEM, "QuantityOrdered": 2},
            {"ItemCode": ITEM, "QuantityOrdered": 3, "UnitPrice": "100"},
        ],
    )
    assert order.record["TaxableAmt"] == f"{2 * price + 300:.2f}"
    assert open_order_amt(table, customer) == 2 * price + 300 + 10
    assert on_sales_order(table, ITEM) == before + 5


def test_closing_an_order_moves_it_to_history_and_releases_it(
    backend, table, new_customer
):
    customer = new_customer()
    before = on_sales_order(table, OTHER)
    order = backend.create_sales_order(
        header(customer, CustomerPONo="PO-1"),
        [{"ItemCode": OTHER, "QuantityOrdered": 4}],
    )
    number_ = order.key["SalesOrderNo"]
    closed = backend.update_order_status(number_, "C")
    assert closed.record["OrderStatus"] == "C"
    assert closed.record["CustomerPONo"] == "PO-1"
    assert table("SO_SalesOrderHeader", SalesOrderNo=number_) == []
    assert table("SO_SalesOrderDetail", SalesOrderNo=number_) == []
    assert open_order_amt(table, customer) == 0
    assert on_sales_order(table, OTHER) == before


def test_closing_twice_finds_the_order_already_closed(backend, new_customer):
    number_ = backend.create_sales_order(header(new_customer()), []).key["SalesOrderNo"]
    backend.update_order_status(number_, "C")
    again = backend.update_order_status(number_, "C")
    assert again.created is False
    assert again.warnings == [f"Sales order {number_} is already closed."]


def test_a_status_change_is_stamped(backend, faults, new_customer):
    number_ = backend.create_sales_order(header(new_customer()), []).key["SalesOrderNo"]
    faults.clock_skew(3600)
    held = backend.update_order_status(number_, "h")
    assert held.record["OrderStatus"] == "H"
    assert held.record["TimeUpdated"] != held.record["TimeCreated"]


@pytest.mark.parametrize("status", ["X", "", "closed"])
def test_an_unknown_status_is_invalid(backend, status):
    with pytest.raises(BOIError, match=r"The OrderStatus is invalid\."):
        backend.update_order_status("0001001", status)


def test_an_order_over_the_credit_limit_is_held_with_a_warning(
    backend, table, new_customer, price
):
    customer = new_customer(CreditLimit=2 * price)
    order = backend.create_sales_order(
        header(customer), [{"ItemCode": ITEM, "QuantityOrdered": 3}]
    )
    assert order.record["OrderStatus"] == "H"
    assert order.warnings == [
        f"The order exceeds the customer's credit limit (available {2 * price:.2f}); "
        "the order is on hold."
    ]
    assert open_order_amt(table, customer) == 3 * price


def test_available_credit_counts_open_orders(backend, new_customer, price):
    customer = new_customer(CreditLimit=3 * price)
    first = backend.create_sales_order(
        header(customer), [{"ItemCode": ITEM, "QuantityOrdered": 2}]
    )
    second = backend.create_sales_order(
        header(customer), [{"ItemCode": ITEM, "QuantityOrdered": 2}]
    )
    assert (first.record["OrderStatus"], second.record["OrderStatus"]) == ("N", "H")


def test_a_customer_on_credit_hold_gets_held_orders(backend, new_customer):
    order = backend.create_sales_order(header(new_customer(CreditHold="Y")), [])
    assert order.record["OrderStatus"] == "H"
    assert order.warnings[0].endswith("is on credit hold; the order is on hold.")


def test_without_credit_override_the_order_is_refused(
    backend, table, faults, new_customer
):
    options(faults, AllowCreditOverride="N")
    customer = new_customer(CreditLimit="100")
    with pytest.raises(BOIError) as caught:
        backend.create_sales_order(
            header(customer), [{"ItemCode": ITEM, "QuantityOrdered": 1}]
        )
    assert caught.value.message == "The order exceeds the customer's credit limit."
    assert open_order_amt(table, customer) == 0
    held = new_customer(CreditHold="Y")
    with pytest.raises(BOIError, match=r"The customer is on credit hold\."):
        backend.create_sales_order(header(held), [])


def test_a_duplicate_customer_po_is_allowed_with_a_warning(backend, new_customer):
    customer = new_customer()
    first = backend.create_sales_order(header(customer, CustomerPONo="A-1"), [])
    second = backend.create_sales_order(header(customer, CustomerPONo="A-1"), [])
    assert second.warnings == [
        f"Customer PO A-1 is already on sales order {first.key['SalesOrderNo']}."
    ]


def test_a_duplicate_customer_po_is_refused_when_the_option_is_off(
    backend, faults, new_customer
):
    options(faults, AllowDuplicatePONo="N")
    customer = new_customer()
    backend.create_sales_order(header(customer, CustomerPONo="A-1"), [])
    with pytest.raises(BOIError, match=r"Customer PO A-1 is already on") as caught:
        backend.create_sales_order(header(customer, CustomerPONo="A-1"), [])
    assert caught.value.column == "CustomerPONo"


def test_the_same_po_for_another_customer_is_no_duplicate(backend, new_customer):
    backend.create_sales_order(header(new_customer(), CustomerPONo="A-1"), [])
    other = backend.create_sales_order(header(new_customer(), CustomerPONo="A-1"), [])
    assert other.warnings == []


def test_find_by_customer_po_returns_the_order_with_its_lines(backend, new_customer):
    order = backend.create_sales_order(
        header(new_customer(), CustomerPONo="SHOP-1001"),
        [{"ItemCode": ITEM, "QuantityOrdered": 1}],
    )
    found = backend.find("SO_SalesOrder", Reference("CustomerPONo", "SHOP-1001"))
    assert (found.key, found.created, len(found.lines)) == (order.key, False, 1)
    assert backend.find("SO_SalesOrder", Reference("CustomerPONo", "NOPE")) is None


def test_find_sees_a_closed_order_in_history(backend, new_customer):
    order = backend.create_sales_order(header(new_customer(), CustomerPONo="Z-9"), [])
    backend.update_order_status(order.key["SalesOrderNo"], "C")
    found = backend.find("SO_SalesOrder_bus", Reference("CustomerPONo", "Z-9"))
    assert found.record["OrderStatus"] == "C"
    assert "closed" in found.warnings[0]


def test_a_purchase_order_commits_quantity_on_order(backend, table):
    before = table("IM_ItemWarehouse", ItemCode=ITEM, WarehouseCode="000")[0]
    vendor = table("AP_Vendor", APDivisionNo="01")[0]
    order = backend.create_purchase_order(
        {
            "APDivisionNo": "01",
            "VendorNo": vendor["VendorNo"].lower(),
            "PurchaseOrderDate": "2026-03-02",
        },
        [{"ItemCode": ITEM, "QuantityOrdered": 12}],
    )
    assert order.key == {"PurchaseOrderNo": "0000011"}
    cost = table("CI_Item", ItemCode=ITEM)[0]["StandardUnitCost"]
    assert order.lines[0]["UnitCost"] == f"{number(cost):.4f}"
    after = table("IM_ItemWarehouse", ItemCode=ITEM, WarehouseCode="000")[0]
    assert (
        number(after["QuantityOnPurchaseOrder"])
        == number(before["QuantityOnPurchaseOrder"]) + 12
    )


def test_a_purchase_order_needs_a_vendor_on_file(backend):
    with pytest.raises(BOIError, match=r"Vendor 01-NOSUCH is not on file\.") as caught:
        backend.create_purchase_order(
            {
                "APDivisionNo": "1",
                "VendorNo": "nosuch",
                "PurchaseOrderDate": "20260302",
            },
            [],
        )
    assert caught.value.code == "not_on_file"


def test_a_cash_receipt_pays_down_the_invoice_and_the_balance(backend, table):
    invoice = table("AR_OpenInvoice", CustomerNo="ABF")[0]
    customer = table("AR_Customer", CustomerNo="ABF")[0]
    receipt = backend.record_cash_receipt(
        {
            "ARDivisionNo": "01",
            "CustomerNo": "ABF",
            "CheckNo": "1042",
            "InvoiceNo": invoice["InvoiceNo"],
            "PostingAmt": "100",
            "TransactionDate": "2026-03-02",
        }
    )
    assert receipt.key["DepositNo"] == "0000001"
    assert receipt.lines[0]["AmountPosted"] == "100.00"
    paid = table("AR_OpenInvoice", InvoiceNo=invoice["InvoiceNo"])[0]
    assert number(paid["Balance"]) == number(invoice["Balance"]) - 100
    after = table("AR_Customer", CustomerNo="ABF")[0]
    assert number(after["CurrentBalance"]) == number(customer["CurrentBalance"]) - 100
    assert after["DateLastPayment"] == "2026-03-02"


def test_a_cash_receipt_for_an_invoice_not_on_file_is_refused(backend):
    with pytest.raises(BOIError, match=r"Invoice 0009999 is not on file\.") as caught:
        backend.record_cash_receipt(
            {
                "ARDivisionNo": "01",
                "CustomerNo": "ABF",
                "CheckNo": "1",
                "InvoiceNo": "9999",
                "PostingAmt": "1",
            }
        )
    assert caught.value.code == "not_on_file"


def test_a_second_receipt_that_day_joins_the_same_deposit(backend, table):
    invoices = table("AR_OpenInvoice", CustomerNo="ABF")
    receipts = [
        backend.record_cash_receipt(
            {
                "ARDivisionNo": "01",
                "CustomerNo": "ABF",
                "CheckNo": check,
                "InvoiceNo": invoice["InvoiceNo"],
                "AmountPosted": "1.00",
                "TransactionDate": "2026-03-02",
            }
        )
        for check, invoice in (("1", invoices[0]), ("2", invoices[-1]))
    ]
    assert {r.key["DepositNo"] for r in receipts} == {"0000001"}
    deposit = table("AR_CashReceiptsDeposit", DepositNo="0000001")[0]
    assert money(deposit["DepositAmt"]) == Decimal("2.00")


def test_a_receipt_above_the_invoice_balance_is_refused(backend, table):
    invoice = table("AR_OpenInvoice", CustomerNo="ABF")[0]
    with pytest.raises(BOIError, match="more than the balance") as caught:
        backend.record_cash_receipt(
            {
                "ARDivisionNo": "01",
                "CustomerNo": "ABF",
                "CheckNo": "1",
                "InvoiceNo": invoice["InvoiceNo"],
                "PostingAmt": number(invoice["Balance"]) + 1,
            }
        )
    assert caught.value.column == "AmountPosted"


def test_a_new_item_is_stocked_in_its_default_warehouse(backend, table):
    item = backend.create_item(
        {
            "ItemCode": "7001-new-1",
            "ItemCodeDesc": "New widget",
            "StandardUnitPrice": "9.5",
            "DefaultWarehouseCode": "1",
        }
    )
    assert item.key == {"ItemCode": "7001-NEW-1"}
    assert (item.record["ItemType"], item.record["SalesUnitOfMeasure"]) == ("1", "EACH")
    assert table("IM_ItemWarehouse", ItemCode="7001-NEW-1")[0]["WarehouseCode"] == "001"
    found = backend.find("CI_ItemCode", Reference("ItemCodeDesc", "New widget"))
    assert found.key == item.key


def test_an_item_needs_its_primary_vendor_on_file(backend):
    with pytest.raises(BOIError, match=r"Vendor 01-NOSUCH is not on file\."):
        backend.create_item(
            {"ItemCode": "X1", "PrimaryAPDivisionNo": "01", "PrimaryVendorNo": "nosuch"}
        )


def test_a_locked_customer_takes_no_new_order_until_released(
    backend, faults, new_customer
):
    customer = new_customer()
    faults.lock_record(
        "AR_Customer", [customer["ARDivisionNo"], customer["CustomerNo"]]
    )
    with pytest.raises(BOIError) as caught:
        backend.create_sales_order(header(customer), [])
    assert caught.value.code == "locked"
    faults.unlock_record(
        "AR_Customer", [customer["ARDivisionNo"], customer["CustomerNo"]]
    )
    assert backend.create_sales_order(header(customer), []).created


def test_a_locked_order_keeps_its_status(backend, faults):
    faults.lock_record("SO_SalesOrderHeader", "1001")
    with pytest.raises(BOIError, match="in use by another user"):
        backend.update_order_status("1001", "H")


def test_find_knows_only_the_business_objects_it_has(backend):
    with pytest.raises(BOIError, match="no business object GL_Account"):
        backend.find("GL_Account", Reference("Account", "4000-00-00"))


def money(value) -> Decimal:
    return number(value).quantize(Decimal("0.01"))
