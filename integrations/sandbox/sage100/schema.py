"""Sage 100's tables as the simulator keeps them (SAGE100-FACTS.md sections 1-2).

Names, keys and lengths are Sage's own. This module is plain data: the simulator
creates its database from it, the simulator's business objects validate against
it, and the contract tests compare it with the facts file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STRING, NUMBER, DATE, YES_NO = "string", "number", "date", "yes_no"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = STRING
    length: int = 30  # characters for strings; digits before the point for numbers
    scale: int = 2  # digits after the point (numbers only)
    choices: tuple[str, ...] = ()  # Sage's valid list, when it has one
    zero_fill: bool = False  # CHARNUM: digits, zero-filled to ``length``
    upper: bool = False  # keys Sage stores upper-case
    read_only: bool = False  # set by the business object, never by a caller

    @property
    def sql_type(self) -> str:
        if self.kind == NUMBER:
            return f"DECIMAL({self.length + self.scale},{self.scale})"
        if self.kind == DATE:
            return "DATE"
        return f"VARCHAR({1 if self.kind == YES_NO else self.length})"


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    stamped: bool = True  # carries the DateCreated/DateUpdated audit columns
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name.lower() == name.lower():
                return column
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _s(name, length=30, **kw) -> Column:
    return Column(name, STRING, length, **kw)


def _n(name, length=12, scale=2, **kw) -> Column:
    return Column(name, NUMBER, length, scale, **kw)


def _d(name, **kw) -> Column:
    return Column(name, DATE, 8, **kw)


def _yn(name) -> Column:
    return Column(name, YES_NO, 1, choices=("Y", "N"))


def division(name="ARDivisionNo") -> Column:
    return _s(name, 2, zero_fill=True)


def doc_no(name) -> Column:
    return _s(name, 7, zero_fill=True)


CUSTOMER_NO = _s("CustomerNo", 20, upper=True)
ITEM_CODE = _s("ItemCode", 30, upper=True)
WAREHOUSE = _s("WarehouseCode", 3, zero_fill=True)
TERMS = _s("TermsCode", 2, zero_fill=True)
VENDOR_NO = _s("VendorNo", 7, upper=True)
LINE_KEY = _s("LineKey", 6, zero_fill=True, read_only=True)
LINE_SEQ = _s("LineSeqNo", 14, zero_fill=True, read_only=True)


STAMPS = (
    _d("DateCreated", read_only=True),
    _s("TimeCreated", 8, read_only=True),
    _s("UserCreatedKey", 10, zero_fill=True, read_only=True),
    _d("DateUpdated", read_only=True),
    _s("TimeUpdated", 8, read_only=True),
    _s("UserUpdatedKey", 10, zero_fill=True, read_only=True),
)


def _table(name, key, columns, *, stamped=True, indexes=None) -> Table:
    columns = list(columns) + (list(STAMPS) if stamped else [])
    return Table(name, tuple(key), tuple(columns), stamped, indexes or {})


BILL_TO = [
    _s("BillToName"), _s("BillToAddress1"), _s("BillToAddress2"), _s("BillToAddress3"),
    _s("BillToCity", 20), _s("BillToState", 2), _s("BillToZipCode", 10),
    _s("BillToCountryCode", 3),
]  # fmt: skip
SHIP_TO = [
    _s("ShipToCode", 4), _s("ShipToName"), _s("ShipToAddress1"), _s("ShipToAddress2"),
    _s("ShipToAddress3"), _s("ShipToCity", 20), _s("ShipToState", 2),
    _s("ShipToZipCode", 10), _s("ShipToCountryCode", 3),
]  # fmt: skip
ADDRESS = [
    _s("AddressLine1"), _s("AddressLine2"), _s("AddressLine3"), _s("City", 20),
    _s("State", 2), _s("ZipCode", 10), _s("CountryCode", 3),
]  # fmt: skip

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        _table(
            "SY_Company",
            ["CompanyCode"],
            [_s("CompanyCode", 3, upper=True), _s("CompanyName", 50)],
        ),
        _table(
            "AR_Division",
            ["ARDivisionNo"],
            [division(), _s("DivisionDescription")],
        ),
        _table(
            "AR_TermsCode",
            ["TermsCode"],
            [
                TERMS,
                _s("TermsCodeDesc"),
                _n("DaysBeforeDue", 3, 0),
                _n("DiscountDays", 3, 0),
                _n("DiscountRate", 3, 3),
            ],
        ),
        _table(
            "AR_Customer",
            ["ARDivisionNo", "CustomerNo"],
            [
                division(),
                CUSTOMER_NO,
                _s("CustomerName"),
                *ADDRESS,
                _s("TelephoneNo", 17),
                _s("TelephoneExt", 5),
                _s("FaxNo", 17),
                _s("EmailAddress", 250),
                _s("URLAddress", 50),
                _s("ContactCode", 10),
                _s("ShipMethod", 15),
                _s("TaxSchedule", 9),
                _s("TaxExemptNo", 15),
                TERMS,
                division("SalespersonDivisionNo"),
                _s("SalespersonNo", 4),
                _s("Comment"),
                _s("SortField", 10, upper=True),
                Column("CustomerStatus", STRING, 1, choices=("A", "I", "T")),
                _s("CustomerType", 4),
                _s("PriceLevel", 1),
                _s("PrimaryShipToCode", 4),
                _n("CreditLimit"),
                _yn("CreditHold"),
                _n("CurrentBalance", read_only=True),
                _n("AgingCategory1", read_only=True),
                _n("AgingCategory2", read_only=True),
                _n("AgingCategory3", read_only=True),
                _n("AgingCategory4", read_only=True),
                _n("OpenOrderAmt", read_only=True),
                _d("DateLastPayment", read_only=True),
                _d("DateEstablished"),
            ],
            indexes={
                "KNAME": ("CustomerName",),
                "KSORT": ("SortField",),
                "KZIP": ("ZipCode",),
                "KPHONE": ("TelephoneNo",),
                "KCUSTOMERNO": ("CustomerNo",),
            },
        ),
        _table(
            "AR_CustomerShipAddress",
            ["ARDivisionNo", "CustomerNo", "ShipToCode"],
            [division(), CUSTOMER_NO, _s("ShipToCode", 4, upper=True), *SHIP_TO[1:]],
        ),
        _table(
            "AR_OpenInvoice",
            ["ARDivisionNo", "CustomerNo", "InvoiceNo", "InvoiceType"],
            [
                division(),
                CUSTOMER_NO,
                doc_no("InvoiceNo"),
                Column(
                    "InvoiceType",
                    STRING,
                    2,
                    choices=("IN", "CM", "DM", "AD", "FC", "CA", "PP"),
                ),
                _d("InvoiceDate"),
                _d("InvoiceDueDate"),
                _n("Balance"),
                _n("InvoiceAmt"),
                _s("CustomerPONo", 15),
            ],
        ),
        _table(
            "AR_InvoiceHistoryHeader",
            ["InvoiceNo", "HeaderSeqNo"],
            [
                doc_no("InvoiceNo"),
                _s("HeaderSeqNo", 6, zero_fill=True),
                Column(
                    "InvoiceType",
                    STRING,
                    2,
                    choices=("IN", "CM", "DM", "AD", "FC", "CA"),
                ),
                _d("InvoiceDate"),
                _d("InvoiceDueDate"),
                division(),
                CUSTOMER_NO,
                doc_no("SalesOrderNo"),
                _s("CustomerPONo", 15),
                *BILL_TO,
                TERMS,
                _n("TaxableSalesAmt"),
                _n("NonTaxableSalesAmt"),
                _n("SalesTaxAmt"),
                _n("FreightAmt"),
                _n("DiscountAmt"),
            ],
            indexes={"KSALESORDER": ("SalesOrderNo",)},
        ),
        _table(
            "AR_InvoiceHistoryDetail",
            ["InvoiceNo", "HeaderSeqNo", "DetailSeqNo"],
            [
                doc_no("InvoiceNo"),
                _s("HeaderSeqNo", 6, zero_fill=True),
                _s("DetailSeqNo", 6, zero_fill=True),
                ITEM_CODE,
                Column("ItemType", STRING, 1, choices=("1", "2", "3", "4", "5")),
                _s("ItemCodeDesc"),
                WAREHOUSE,
                _n("QuantityShipped", 12, 4),
                _n("UnitPrice", 12, 4),
                _n("ExtensionAmt"),
            ],
            stamped=False,
        ),
        _table(
            "SO_SalesOrderHeader",
            ["SalesOrderNo"],
            [
                doc_no("SalesOrderNo"),
                _d("OrderDate"),
                Column("OrderType", STRING, 1, choices=("S", "B", "Q", "M", "R", "P")),
                Column("OrderStatus", STRING, 1, choices=("N", "O", "C", "H")),
                _d("ShipExpireDate"),
                division(),
                CUSTOMER_NO,
                division("BillToDivisionNo"),
                _s("BillToCustomerNo", 20, upper=True),
                *BILL_TO,
                *SHIP_TO,
                _s("ShipVia", 15),
                _s("CustomerPONo", 15),
                _s("FOB", 15),
                WAREHOUSE,
                _s("ConfirmTo", 30),
                _s("Comment"),
                TERMS,
                _s("TaxSchedule", 9),
                division("SalespersonDivisionNo"),
                _s("SalespersonNo", 4),
                _n("TaxableAmt"),
                _n("NonTaxableAmt"),
                _n("SalesTaxAmt"),
                _n("FreightAmt"),
                _n("DiscountAmt"),
                _n("DepositAmt"),
            ],
            indexes={
                "KCUSTOMER": ("ARDivisionNo", "CustomerNo"),
                "KBILLNAME": ("BillToName",),
                "KCUSTOMERPO": ("CustomerPONo",),
                "KDUPLICATEPO": ("ARDivisionNo", "CustomerNo", "CustomerPONo"),
            },
        ),
        _table(
            "SO_SalesOrderDetail",
            ["SalesOrderNo", "LineKey"],
            [
                doc_no("SalesOrderNo"),
                LINE_KEY,
                LINE_SEQ,
                ITEM_CODE,
                Column("ItemType", STRING, 1, choices=("1", "2", "3", "4", "5")),
                _s("ItemCodeDesc"),
                WAREHOUSE,
                _n("QuantityOrdered", 12, 4),
                _n("QuantityShipped", 12, 4),
                _n("QuantityBackordered", 12, 4),
                _s("UnitOfMeasure", 4),
                _n("UnitPrice", 12, 4),
                _n("UnitCost", 12, 4),
                _n("ExtensionAmt"),
                _yn("Discount"),
                _n("LineDiscountPercent", 3, 3),
                _s("SalesAcctKey", 9),
                _s("TaxClass", 2),
                _d("PromiseDate"),
                _s("CommentText", 2048),
            ],
            stamped=False,
            indexes={
                "KSEQUENCE": ("SalesOrderNo", "LineSeqNo"),
                "KITEMWHSE": ("ItemCode", "WarehouseCode"),
            },
        ),
        _table(
            "SO_SalesOrderHistoryHeader",
            ["SalesOrderNo"],
            [
                doc_no("SalesOrderNo"),
                _d("OrderDate"),
                Column("OrderType", STRING, 1, choices=("S", "B", "Q", "M", "R", "P")),
                Column("OrderStatus", STRING, 1, choices=("A", "C", "X", "Q", "Z")),
                division(),
                CUSTOMER_NO,
                _s("CustomerPONo", 15),
                _s("BillToName"),
                _d("LastInvoiceDate"),
                doc_no("LastInvoiceNo"),
            ],
        ),
        _table(
            "SO_InvoiceHeader",
            ["InvoiceNo"],
            [
                doc_no("InvoiceNo"),
                _d("InvoiceDate"),
                doc_no("SalesOrderNo"),
                division(),
                CUSTOMER_NO,
                _s("CustomerPONo", 15),
                _n("TaxableAmt"),
                _n("NonTaxableAmt"),
                _n("SalesTaxAmt"),
                _n("FreightAmt"),
            ],
        ),
        _table(
            "SO_InvoiceDetail",
            ["InvoiceNo", "LineKey"],
            [
                doc_no("InvoiceNo"),
                LINE_KEY,
                ITEM_CODE,
                WAREHOUSE,
                _n("QuantityShipped", 12, 4),
                _n("UnitPrice", 12, 4),
                _n("ExtensionAmt"),
            ],
            stamped=False,
        ),
        _table(
            "CI_Item",
            ["ItemCode"],
            [
                ITEM_CODE,
                Column("ItemType", STRING, 1, choices=("1", "3", "4", "5")),
                _s("ItemCodeDesc"),
                _s("ProductLine", 4, upper=True),
                Column("ProductType", STRING, 1, choices=("F", "R", "D", "K")),
                Column("Valuation", STRING, 1, choices=("1", "2", "3", "4", "5", "6")),
                _s("StandardUnitOfMeasure", 4, upper=True),
                _s("SalesUnitOfMeasure", 4, upper=True),
                _s("PurchaseUnitOfMeasure", 4, upper=True),
                _n("StandardUnitCost", 12, 4),
                _n("StandardUnitPrice", 12, 4),
                _n("SuggestedRetailPrice", 12, 4),
                _n("AverageUnitCost", 12, 4, read_only=True),
                _s("TaxClass", 2),
                _s("DefaultWarehouseCode", 3, zero_fill=True),
                division("PrimaryAPDivisionNo"),
                _s("PrimaryVendorNo", 7, upper=True),
                _s("Category1", 10),
                _s("Category2", 10),
                _s("Category3", 10),
                _s("Category4", 10),
                _yn("InactiveItem"),
                _s("SalesAcctKey", 9),
                _s("CostOfGoodsSoldAcctKey", 9),
                _s("InventoryAcctKey", 9),
                _n("TotalQuantityOnHand", 12, 4, read_only=True),
                _d("LastSoldDate", read_only=True),
                _d("LastReceiptDate", read_only=True),
                _yn("UseInSO"),
                _yn("UseInPO"),
                _yn("AllowBackOrders"),
            ],
        ),
        _table(
            "IM_Warehouse",
            ["WarehouseCode"],
            [WAREHOUSE, _s("WarehouseDesc")],
        ),
        _table(
            "IM_ItemWarehouse",
            ["ItemCode", "WarehouseCode"],
            [
                ITEM_CODE,
                WAREHOUSE,
                _s("BinLocation", 10),
                *(
                    _n(q, 12, 4, read_only=True)
                    for q in (
                        "QuantityOnHand",
                        "QuantityOnSalesOrder",
                        "QuantityOnBackOrder",
                        "QuantityOnPurchaseOrder",
                        "QuantityOnWorkOrder",
                        "QuantityRequiredForWO",
                    )
                ),
                _n("ReorderPointQty", 12, 4),
                _n("EconomicOrderQty", 12, 4),
                _n("MinimumOrderQty", 12, 4),
                _n("MaximumOnHandQty", 12, 4),
                _n("AverageCost", 12, 4, read_only=True),
            ],
        ),
        # Price codes and customer price levels [INFERRED layout]: one row per
        # rule; the record type says whether it is a price code, an item's
        # price level, or a customer's special price for an item.
        _table(
            "IM_PriceCode",
            [
                "PriceCodeRecord",
                "PriceCode",
                "ItemCode",
                "CustomerPriceLevel",
                "ARDivisionNo",
                "CustomerNo",
            ],
            [
                Column("PriceCodeRecord", STRING, 1, choices=("0", "1", "2")),
                _s("PriceCode", 4, upper=True),
                ITEM_CODE,
                _s("CustomerPriceLevel", 1, upper=True),
                division(),
                CUSTOMER_NO,
                _s("PriceCodeDesc"),
                Column(
                    "PricingMethod", STRING, 1, choices=("", "O", "D", "M", "C", "P")
                ),
                *(_n(f"BreakQuantity{i}", 12, 4) for i in range(1, 6)),
                *(_n(f"DiscountMarkup{i}", 12, 4) for i in range(1, 6)),
            ],
        ),
        _table(
            "AP_Division",
            ["APDivisionNo"],
            [division("APDivisionNo"), _s("DivisionDescription")],
        ),
        _table(
            "AP_Vendor",
            ["APDivisionNo", "VendorNo"],
            [
                division("APDivisionNo"),
                VENDOR_NO,
                _s("VendorName"),
                *ADDRESS,
                _s("TelephoneNo", 17),
                _s("EmailAddress", 250),
                TERMS,
                _s("Reference", 15),
                _s("TaxpayerIDSSN", 9),
                _n("CurrentBalance", read_only=True),
            ],
        ),
        _table(
            "AP_OpenInvoice",
            ["APDivisionNo", "VendorNo", "InvoiceNo"],
            [
                division("APDivisionNo"),
                VENDOR_NO,
                _s("InvoiceNo", 10, upper=True),
                _d("InvoiceDate"),
                _d("InvoiceDueDate"),
                _n("InvoiceAmt"),
                _n("Balance"),
                # [INFERRED] The facts name no AP distribution table, so a bill
                # keeps one expense account (a GL_Account key, like the
                # SalesAcctKey family) and the PO it was billed against.
                _s("ExpenseAcctKey", 9),
                doc_no("PurchaseOrderNo"),
            ],
        ),
        _table(
            "PO_PurchaseOrderHeader",
            ["PurchaseOrderNo"],
            [
                doc_no("PurchaseOrderNo"),
                _d("PurchaseOrderDate"),
                Column(
                    "OrderStatus", STRING, 1, choices=("N", "O", "B", "R", "C", "X")
                ),
                division("APDivisionNo"),
                VENDOR_NO,
                _s("ShipToCode", 4),
                WAREHOUSE,
                TERMS,
                _d("RequiredExpireDate"),
                _s("Comment"),
                _n("TaxableAmt"),
                _n("NonTaxableAmt"),
                _n("FreightAmt"),
            ],
            indexes={"KVENDOR": ("APDivisionNo", "VendorNo")},
        ),
        _table(
            "PO_PurchaseOrderDetail",
            ["PurchaseOrderNo", "LineKey"],
            [
                doc_no("PurchaseOrderNo"),
                LINE_KEY,
                LINE_SEQ,
                ITEM_CODE,
                Column("ItemType", STRING, 1, choices=("1", "2", "3", "4", "5")),
                _s("ItemCodeDesc"),
                WAREHOUSE,
                _n("QuantityOrdered", 12, 4),
                _n("QuantityReceived", 12, 4),
                _s("UnitOfMeasure", 4),
                _n("UnitCost", 12, 4),
                _n("ExtensionAmt"),
                _d("RequiredDate"),
            ],
            stamped=False,
        ),
        _table(
            "GL_Account",
            ["AccountKey"],
            [
                _s("AccountKey", 9, zero_fill=True),
                _s("Account", 13),
                _s("AccountDesc"),
                Column("AccountType", STRING, 3),
                Column("Status", STRING, 1, choices=("A", "I")),
            ],
            indexes={"KACCOUNT": ("Account",)},
        ),
        # Module options hold the "next number" counters the business objects use.
        _table(
            "AR_Options",
            ["ModuleCode"],
            [_s("ModuleCode", 3), _s("NextCustomerNo", 20), _yn("AutoNumberCustomers")],
        ),
        _table(
            "SO_Options",
            ["ModuleCode"],
            [
                _s("ModuleCode", 3),
                doc_no("NextSalesOrderNo"),
                doc_no("NextInvoiceNo"),
                _yn("AllowDuplicatePONo"),
                _yn("AllowCreditOverride"),
            ],
        ),
        _table(
            "PO_Options",
            ["ModuleCode"],
            [_s("ModuleCode", 3), doc_no("NextPurchaseOrderNo")],
        ),
        # Vendor numbering, as AR_Options numbers customers [INFERRED: the
        # facts give no vendor counter; a company without the row or with
        # numbering off needs a VendorNo on every new vendor].
        _table(
            "AP_Options",
            ["ModuleCode"],
            [_s("ModuleCode", 3), _s("NextVendorNo", 7), _yn("AutoNumberVendors")],
        ),
        _table(
            "AR_CashReceiptsDeposit",
            ["DepositNo"],
            [doc_no("DepositNo"), _d("DepositDate"), _n("DepositAmt"), _s("Comment")],
        ),
        _table(
            "AR_CashReceiptsHeader",
            ["DepositNo", "ARDivisionNo", "CustomerNo", "CheckNo"],
            [
                doc_no("DepositNo"),
                division(),
                CUSTOMER_NO,
                _s("CheckNo", 10),
                _d("TransactionDate"),
                _n("PostingAmt"),
                _s("Comment"),
            ],
        ),
        _table(
            "AR_CashReceiptsDetail",
            ["DepositNo", "ARDivisionNo", "CustomerNo", "CheckNo", "InvoiceNo"],
            [
                doc_no("DepositNo"),
                division(),
                CUSTOMER_NO,
                _s("CheckNo", 10),
                doc_no("InvoiceNo"),
                _n("AmountPosted"),
            ],
            stamped=False,
        ),
    ]
}

UDF_PREFIX = "UDF_"
