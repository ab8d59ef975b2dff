"""A small US company's books: chart of accounts, tax rates, currencies, items
(coded as in the Sage 100 demo, so the two catalogues line up) and contacts."""

from __future__ import annotations

from integrations.sandbox.sage100 import seed_data
from integrations.sandbox.xero.books import chart, contacts, items
from integrations.sandbox.xero.books.state import Books

# (Code, Name, Type, TaxType, extras)
ACCOUNTS = [
    (
        "090",
        "Business Bank Account",
        "BANK",
        "NONE",
        {"BankAccountNumber": "121000358"},
    ),
    (
        "091",
        "Business Savings Account",
        "BANK",
        "NONE",
        {"BankAccountNumber": "121000359"},
    ),
    ("610", "Accounts Receivable", "CURRENT", "NONE", {"SystemAccount": "DEBTORS"}),
    ("630", "Inventory", "INVENTORY", "NONE", {}),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", {"SystemAccount": "CREDITORS"}),
    ("820", "Sales Tax", "CURRLIAB", "NONE", {"SystemAccount": "GST"}),
    ("200", "Sales", "REVENUE", "TAX001", {}),
    ("260", "Other Revenue", "REVENUE", "TAX001", {}),
    ("270", "Interest Income", "REVENUE", "NONE", {}),
    ("300", "Purchases", "DIRECTCOSTS", "INPUT", {}),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT", {}),
    ("425", "Freight & Courier", "EXPENSE", "INPUT", {}),
    ("429", "General Expenses", "EXPENSE", "INPUT", {}),
    ("469", "Rent", "OVERHEADS", "NONE", {}),
    ("477", "Wages and Salaries", "EXPENSE", "NONE", {}),
]
# (TaxType, Name, percent, usable on revenue, usable on expenses/assets/…)
TAX_RATES = [
    ("TAX001", "Sales Tax on Sales (8.25%)", "8.25", True, False),
    ("TAX002", "Sales Tax on Sales (6%)", "6.00", True, False),
    ("OUTPUT", "Tax on Sales", "8.25", True, False),
    ("INPUT", "Tax on Purchases", "0.00", False, True),
    ("NONE", "Tax Exempt", "0.00", True, True),
]
# (Code, Description, units of the currency per USD)
CURRENCIES = [
    ("USD", "United States Dollar", "1"),
    ("EUR", "Euro", "0.92"),
    ("GBP", "British Pound", "0.79"),
    ("CAD", "Canadian Dollar", "1.36"),
]
CONTACTS = [
    {
        "Name": "American Office Supply",
        "ContactNumber": "01-AMERICAN",
        "EmailAddress": "orders@american-office.example",
        "Addresses": [
            {
                "AddressType": "STREET",
                "AddressLine1": "100 Main St",
                "City": "Irvine",
                "Region": "CA",
                "PostalCode": "92614",
                "Country": "USA",
            }
        ],
        "Phones": [
            {"PhoneType": "DEFAULT", "PhoneAreaCode": "949", "PhoneNumber": "555-0100"}
        ],
    },
    {
        "Name": "Bayside Furniture",
        "ContactNumber": "01-BAYSIDE",
        "EmailAddress": "ap@bayside-furniture.example",
    },
    {
        "Name": "HON Manufacturing",
        "ContactNumber": "01-HON",
        "EmailAddress": "billing@hon-mfg.example",
    },
]


def seed(books: Books) -> None:
    for code, description, rate in CURRENCIES:
        chart.add_currency(books, {"Code": code, "Description": description}, rate)
    for tax_type, name, percent, revenue, expenses in TAX_RATES:
        chart.add_tax_rate(
            books, tax_type, name, percent, revenue=revenue, expenses=expenses
        )
    for code, name, kind, tax_type, extras in ACCOUNTS:
        account = chart.add_account(
            books,
            {
                "Code": code,
                "Name": name,
                "Type": kind,
                "TaxType": tax_type,
                **{k: v for k, v in extras.items() if k != "SystemAccount"},
            },
        )
        if "SystemAccount" in extras:
            account["SystemAccount"] = extras["SystemAccount"]
    for data in CONTACTS:
        contacts.save(books, data, create_only=True)
    for data in demo_items():
        items.save(books, data, create_only=True, unitdp=2)


def demo_items() -> list[dict]:
    """Every model of the Sage product series, under the same item codes
    (``1001-HON-H252``…), priced at cost and a 40% markup."""
    found = []
    for series, _line, maker, models, stem, (low, high) in seed_data.ITEMS:
        for position, model in enumerate(models.split()):
            cost = low + (high - low) * position // 4
            code = f"{series}-{maker}-{model}"
            found.append(
                {
                    "Code": code,
                    "Name": f"{stem} {model}"[:50],
                    "Description": f"{stem} {model}",
                    "PurchaseDescription": f"{stem} {model}",
                    "SalesDetails": {
                        "UnitPrice": round(cost * 1.4, 2),
                        "AccountCode": "200",
                        "TaxType": "TAX001",
                    },
                    "PurchaseDetails": {
                        "UnitPrice": float(cost),
                        "AccountCode": "300",
                        "TaxType": "INPUT",
                    },
                }
            )
    return found
