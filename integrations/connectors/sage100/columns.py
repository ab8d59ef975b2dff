"""Sage 100's standard columns per table, for the mapping editor's pickers.

Plain data from SAGE100-FACTS.md sections 1-2 (names and lengths are Sage's own).
The live UDF columns come from the company itself (``Sage100Reader.udf_columns``);
these are the columns every company has.
"""

from __future__ import annotations

from dataclasses import dataclass

STRING, NUMBER, DATE, YES_NO = "string", "number", "date", "yes_no"


@dataclass(frozen=True)
class StandardColumn:
    name: str
    kind: str = STRING
    length: int = 30
    note: str = ""


def _s(name: str, length: int = 30, note: str = "") -> StandardColumn:
    return StandardColumn(name, STRING, length, note)


def _n(name: str, note: str = "") -> StandardColumn:
    return StandardColumn(name, NUMBER, 12, note)


def _d(name: str, note: str = "") -> StandardColumn:
    return StandardColumn(name, DATE, 8, note)


def _yn(name: str) -> StandardColumn:
    return StandardColumn(name, YES_NO, 1, "Y or N")


STAMPS = (
    _d("DateCreated", "set by Sage"),
    _s("TimeCreated", 8, "set by Sage"),
    _s("UserCreatedKey", 10, "set by Sage"),
    _d("DateUpdated", "set by Sage"),
    _s("TimeUpdated", 8, "set by Sage"),
    _s("UserUpdatedKey", 10, "set by Sage"),
)

ADDRESS = (
    _s("AddressLine1"), _s("AddressLine2"), _s("AddressLine3"), _s("City", 20),
    _s("State", 2), _s("ZipCode", 10), _s("CountryCode", 3),
)  # fmt: skip

BILL_TO = (
    _s("BillToName"), _s("BillToAddress1"), _s("BillToAddress2"),
    _s("BillToAddress3"), _s("BillToCity", 20), _s("BillToState", 2),
    _s("BillToZipCode", 10), _s("BillToCountryCode", 3),
)  # fmt: skip

SHIP_TO = (
    _s("ShipToCode", 4), _s("ShipToName"), _s("ShipToAddress1"),
    _s("ShipToAddress2"), _s("ShipToAddress3"), _s("ShipToCity", 20),
    _s("ShipToState", 2), _s("ShipToZipCode", 10), _s("ShipToCountryCode", 3),
)  # fmt: skip

TABLES: dict[str, tuple[StandardColumn, ...]] = {
    "AR_Customer": (
        _s("ARDivisionNo", 2, "2 digits, e.g. 01"),
        _s("CustomerNo", 20, "upper-case"),
        _s("CustomerName"),
        *ADDRESS,
        _s("TelephoneNo", 17), _s("TelephoneExt", 5), _s("FaxNo", 17),
        _s("EmailAddress", 250), _s("URLAddress", 50), _s("ContactCode", 10),
        _s("ShipMethod", 15), _s("TaxSchedule", 9), _s("TaxExemptNo", 15),
        _s("TermsCode", 2, "must exist in Sage"), _s("SalespersonDivisionNo", 2),
        _s("SalespersonNo", 4), _s("Comment"), _s("SortField", 10),
        _s("CustomerStatus", 1, "A active, I inactive, T temporary"),
        _s("CustomerType", 4), _s("PriceLevel", 1), _s("PrimaryShipToCode", 4),
        _n("CreditLimit"), _yn("CreditHold"),
        _n("CurrentBalance", "set by Sage"), _n("OpenOrderAmt", "set by Sage"),
        _d("DateEstablished"),
        *STAMPS,
    ),
    "SO_SalesOrderHeader": (
        _s("SalesOrderNo", 7, "7 digits, set by Sage"),
        _d("OrderDate", "required"),
        _s("OrderType", 1, "S standard, B back order, Q quote"),
        _s("OrderStatus", 1, "N new, O open, C closed, H hold"),
        _d("ShipExpireDate", "required"),
        _s("ARDivisionNo", 2), _s("CustomerNo", 20),
        _s("BillToDivisionNo", 2), _s("BillToCustomerNo", 20),
        *BILL_TO, *SHIP_TO,
        _s("ShipVia", 15), _s("CustomerPONo", 15), _s("FOB", 15),
        _s("WarehouseCode", 3, "3 digits, e.g. 000"), _s("ConfirmTo"), _s("Comment"),
        _s("TermsCode", 2), _s("TaxSchedule", 9), _s("SalespersonDivisionNo", 2),
        _s("SalespersonNo", 4), _n("TaxableAmt"), _n("NonTaxableAmt"),
        _n("SalesTaxAmt"), _n("FreightAmt"), _n("DiscountAmt"), _n("DepositAmt"),
        *STAMPS,
    ),
    "SO_SalesOrderDetail": (
        _s("SalesOrderNo", 7), _s("LineKey", 6, "set by Sage"),
        _s("LineSeqNo", 14, "set by Sage"), _s("ItemCode", 30, "upper-case"),
        _s("ItemType", 1, "1 regular, 2 special, 3 charge, 4 comment, 5 misc."),
        _s("ItemCodeDesc"), _s("WarehouseCode", 3), _n("QuantityOrdered"),
        _n("QuantityShipped"), _n("QuantityBackordered"), _s("UnitOfMeasure", 4),
        _n("UnitPrice"), _n("UnitCost"), _n("ExtensionAmt"), _yn("Discount"),
        _n("LineDiscountPercent"), _s("SalesAcctKey", 9), _s("TaxClass", 2),
        _d("PromiseDate"), _s("CommentText", 2048),
    ),
    "CI_Item": (
        _s("ItemCode", 30, "upper-case"),
        _s("ItemType", 1, "1 regular, 3 charge, 4 comment, 5 misc."),
        _s("ItemCodeDesc"), _s("ProductLine", 4), _s("ProductType", 1),
        _s("Valuation", 1), _s("StandardUnitOfMeasure", 4),
        _s("SalesUnitOfMeasure", 4), _s("PurchaseUnitOfMeasure", 4),
        _n("StandardUnitCost"), _n("StandardUnitPrice"), _n("SuggestedRetailPrice"),
        _n("AverageUnitCost"), _s("TaxClass", 2), _s("DefaultWarehouseCode", 3),
        _s("PrimaryAPDivisionNo", 2), _s("PrimaryVendorNo", 7),
        _s("Category1", 10), _s("Category2", 10), _s("Category3", 10),
        _s("Category4", 10), _yn("InactiveItem"), _n("TotalQuantityOnHand"),
        _d("LastSoldDate"), _d("LastReceiptDate"), _yn("UseInSO"), _yn("UseInPO"),
        _yn("AllowBackOrders"),
        *STAMPS,
    ),
    "IM_ItemWarehouse": (
        _s("ItemCode", 30), _s("WarehouseCode", 3), _n("QuantityOnHand"),
        _n("QuantityOnSalesOrder"), _n("QuantityOnBackOrder"),
        _n("QuantityOnPurchaseOrder"), _n("ReorderPointQty"),
        _n("EconomicOrderQty"), _n("MinimumOrderQty"), _n("MaximumOnHandQty"),
        _s("BinLocation", 10), _n("AverageCost"),
    ),
    "AP_Vendor": (
        _s("APDivisionNo", 2), _s("VendorNo", 7, "upper-case"), _s("VendorName"),
        *ADDRESS,
        _s("TelephoneNo", 17), _s("EmailAddress", 250),
        _s("TermsCode", 2), _s("Reference", 15), _s("TaxpayerIDSSN", 9),
        _n("CurrentBalance", "set by Sage"),
        *STAMPS,
    ),
    "AP_OpenInvoice": (
        _s("APDivisionNo", 2), _s("VendorNo", 7, "upper-case"),
        _s("InvoiceNo", 10, "the vendor's own number"), _d("InvoiceDate", "required"),
        _d("InvoiceDueDate", "from the vendor's terms when blank"),
        _n("InvoiceAmt"), _n("Balance", "set by Sage; payments lower it"),
        _s("ExpenseAcctKey", 9, "GL_Account key"),
        _s("PurchaseOrderNo", 7, "the PO it bills, if any"),
        *STAMPS,
    ),
    "PO_PurchaseOrderHeader": (
        _s("PurchaseOrderNo", 7, "7 digits, set by Sage"), _d("PurchaseOrderDate"),
        _s("OrderStatus", 1, "N new, O open, B back ordered, R received, "
           "C completed, X cancelled"),
        _s("APDivisionNo", 2), _s("VendorNo", 7), _s("ShipToCode", 4),
        _s("WarehouseCode", 3), _s("TermsCode", 2), _d("RequiredExpireDate"),
        _s("Comment"), _n("TaxableAmt", "set by Sage"),
        _n("NonTaxableAmt", "set by Sage"), _n("FreightAmt"),
        *STAMPS,
    ),
    "PO_PurchaseOrderDetail": (
        _s("PurchaseOrderNo", 7), _s("LineKey", 6, "set by Sage"),
        _s("LineSeqNo", 14, "set by Sage"), _s("ItemCode", 30, "upper-case"),
        _s("ItemType", 1), _s("ItemCodeDesc"), _s("WarehouseCode", 3),
        _n("QuantityOrdered"), _n("QuantityReceived"), _s("UnitOfMeasure", 4),
        _n("UnitCost"), _n("ExtensionAmt"), _d("RequiredDate"),
    ),
    "GL_Account": (
        _s("AccountKey", 9, "internal key"),
        _s("Account", 13, "printable number, e.g. 4000-00-00"),
        _s("AccountDesc"), _s("AccountType", 3), _s("Status", 1, "A or I"),
        *STAMPS,
    ),
}  # fmt: skip


def standard_columns(table: str) -> tuple[StandardColumn, ...]:
    """The table's standard columns; KeyError names a table we do not know."""
    try:
        return TABLES[table]
    except KeyError:
        raise KeyError(f"No standard column list for Sage 100 table {table}") from None
