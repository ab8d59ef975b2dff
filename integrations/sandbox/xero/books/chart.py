"""Chart of accounts, tax rates and currencies: what documents are checked against.

An account's Type fixes its Class; a tax rate says which classes it can be used
with (CanApplyToRevenue…), which is how Xero refuses a purchase tax on a sales
account ("The TaxType code 'INPUT' cannot be used with account code '200'").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integrations.sandbox.xero.books import rules
from integrations.sandbox.xero.books.rules import Invalid, Problems
from integrations.sandbox.xero.books.state import Books

CLASS_OF_TYPE = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}
_APPLIES = {
    "ASSET": "CanApplyToAssets",
    "EQUITY": "CanApplyToEquity",
    "EXPENSE": "CanApplyToExpenses",
    "LIABILITY": "CanApplyToLiabilities",
    "REVENUE": "CanApplyToRevenue",
}


def line_account(books: Books, code: str, problems: Problems) -> dict | None:
    """An account a document line may post to: active, not bank or control."""
    account = books.account_by_code(code)
    if account is None:
        problems.add(rules.account_not_valid(code))
        return None
    if account.get("Status") != "ACTIVE":
        problems.add(rules.account_archived(code))
        return None
    if account.get("Type") == "BANK" or account.get("SystemAccount") in (
        "DEBTORS",
        "CREDITORS",
    ):
        problems.add(rules.account_not_valid(code))
        return None
    return account


def tax_rate(
    books: Books, tax_type: str, account: dict | None, problems: Problems
) -> Decimal:
    """The rate (percent) of an active tax type allowed on the account's class."""
    rate = books.tax_rates.get(tax_type)
    if rate is None or rate.get("Status") != "ACTIVE":
        problems.add(rules.tax_type_unknown(tax_type))
        return Decimal(0)
    if account is not None:
        allowed = _APPLIES.get(account.get("Class", ""), "")
        if allowed and not rate.get(allowed, False):
            problems.add(rules.tax_type_not_for_account(tax_type, account["Code"]))
    return Decimal(str(rate["EffectiveRate"]))


def add_account(books: Books, data: dict, *, account_id: str | None = None) -> dict:
    """PUT /Accounts (create) and POST /Accounts/{id} (update)."""
    problems = Problems()
    existing = books.accounts.get(account_id.lower()) if account_id else None
    if account_id and existing is None:
        raise Invalid(rules.NOT_FOUND)
    code = rules.text(data.get("Code")) or (existing or {}).get("Code", "")
    name = rules.text(data.get("Name")) or (existing or {}).get("Name", "")
    kind = data.get("Type") or (existing or {}).get("Type")
    if not code:
        problems.add("Account Code must be specified.")
    elif (other := books.account_by_code(code)) and other is not existing:
        problems.add("Please enter a unique Code.")
    if not name:
        problems.add("Account Name must be specified.")
    elif any(
        a["Name"].lower() == name.lower() and a is not existing
        for a in books.accounts.values()
    ):
        problems.add("Please enter a unique Name.")
    if kind not in CLASS_OF_TYPE:
        problems.add(f"Account Type '{kind}' is not valid.")
    if data.get("TaxType") and data["TaxType"] not in books.tax_rates:
        problems.add(rules.tax_type_unknown(str(data["TaxType"])))
    status = data.get("Status")
    if status is not None and status not in ("ACTIVE", "ARCHIVED"):
        problems.add(f"Account Status '{status}' is not valid.")
    problems.check()
    record = existing or {"AccountID": books.new_id(), "Status": "ACTIVE"}
    record.update(
        {
            "Code": code,
            "Name": name,
            "Type": kind,
            "Class": CLASS_OF_TYPE[kind],
            "EnablePaymentsToAccount": bool(
                data.get(
                    "EnablePaymentsToAccount",
                    record.get("EnablePaymentsToAccount", False),
                )
            ),
            "ShowInExpenseClaims": bool(data.get("ShowInExpenseClaims", False)),
            "HasAttachments": False,
        }
    )
    for key in (
        "Description",
        "TaxType",
        "Status",
        "BankAccountNumber",
        "CurrencyCode",
    ):
        if data.get(key) is not None:
            record[key] = data[key]
    record.setdefault("TaxType", "NONE")
    if kind == "BANK":
        record.setdefault("BankAccountType", "BANK")
        record.setdefault("CurrencyCode", books.base_currency)
    books.accounts[record["AccountID"]] = record
    books.changed("accounts", "UPDATE" if existing else "CREATE", record)
    return record


def add_tax_rate(
    books: Books,
    tax_type: str,
    name: str,
    percent: str,
    *,
    revenue: bool,
    expenses: bool,
) -> dict:
    """A tax rate with one component; TaxType codes as in Xero (OUTPUT, TAX001…)."""
    rate = Decimal(percent)
    record = {
        "Name": name,
        "TaxType": tax_type,
        "Status": "ACTIVE",
        "ReportTaxType": "OUTPUT" if revenue and not expenses else "INPUT",
        "TaxComponents": [
            {"Name": name, "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}
        ],
        "CanApplyToAssets": expenses,
        "CanApplyToEquity": expenses,
        "CanApplyToExpenses": expenses,
        "CanApplyToLiabilities": expenses,
        "CanApplyToRevenue": revenue,
        "DisplayTaxRate": rate,
        "EffectiveRate": rate,
    }
    if tax_type == "NONE":
        record["ReportTaxType"] = "NONE"
    books.tax_rates[tax_type] = record
    return record


def add_currency(books: Books, data: Any, rate: str | None = None) -> dict:
    """PUT /Currencies: enable a currency for the organisation."""
    if not isinstance(data, dict) or not rules.text(data.get("Code")):
        raise Invalid("Currency Code must be specified.")
    code = rules.text(data["Code"]).upper()
    record = {"Code": code, "Description": data.get("Description") or code}
    books.currencies[code] = record
    if rate is not None:
        books.rates[code] = Decimal(rate)
    return record
