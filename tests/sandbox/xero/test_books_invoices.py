"""Invoices: totals and tax, Xero's refusals, status transitions, PUT vs POST,
summarizeErrors both ways, and the webhook events they raise."""

from __future__ import annotations

import pytest

from tests.sandbox.xero.books_client import BooksClient


@pytest.fixture
def books() -> BooksClient:
    return BooksClient()


def put_invoices(books, *invoices, summarize=None):
    query = {} if summarize is None else {"summarizeErrors": summarize}
    return books.call("PUT", "/Invoices", {"Invoices": list(invoices)}, query)


def line(**fields):
    return {"Description": "Widget", "Quantity": 1, "UnitAmount": 100, **fields}


def sale(**fields):
    return {
        "Type": "ACCREC",
        "Contact": {"Name": "American Office Supply"},
        "LineItems": [line(AccountCode="200")],
        **fields,
    }


def test_exclusive_invoice_totals_tax_per_line(books):
    saved = books.invoice(
        Status="AUTHORISED",
        LineItems=[
            line(Quantity=3, UnitAmount=19.99, AccountCode="200"),  # 59.97, tax 4.95
            line(UnitAmount=10, AccountCode="260", DiscountRate=10),  # 9.00, tax 0.74
        ],
    )
    assert [x["LineAmount"] for x in saved["LineItems"]] == [59.97, 9.0]
    assert [x["TaxAmount"] for x in saved["LineItems"]] == [4.95, 0.74]
    assert (saved["SubTotal"], saved["TotalTax"], saved["Total"]) == (
        68.97,
        5.69,
        74.66,
    )
    assert saved["AmountDue"] == 74.66 and saved["AmountPaid"] == 0
    assert saved["TotalDiscount"] == 1.0
    assert saved["InvoiceNumber"] == "INV-0001"


def test_inclusive_and_no_tax_amounts(books):
    inclusive = books.invoice(
        LineAmountTypes="Inclusive",
        LineItems=[line(UnitAmount=108.25, AccountCode="200")],
    )
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (
        100.0,
        8.25,
        108.25,
    )
    no_tax = books.invoice(LineAmountTypes="NoTax", LineItems=[line(AccountCode="200")])
    assert no_tax["TotalTax"] == 0 and no_tax["LineItems"][0]["TaxType"] == "NONE"


def test_item_code_fills_price_account_and_tax(books):
    saved = books.invoice(LineItems=[{"ItemCode": "1001-HON-H252", "Quantity": 2}])
    first = saved["LineItems"][0]
    item = books.get("/Items", where='Code=="1001-HON-H252"').body["Items"][0]
    assert first["UnitAmount"] == item["SalesDetails"]["UnitPrice"]
    assert (first["AccountCode"], first["TaxType"]) == ("200", "TAX001")
    assert first["Description"] == item["Description"]


def test_unitdp_4_keeps_four_decimal_places(books):
    response = books.call(
        "PUT",
        "/Invoices",
        {"Invoices": [sale(LineItems=[line(UnitAmount=1.23456, AccountCode="200")])]},
        {"unitdp": "4", "summarizeErrors": "false"},
    )
    assert response.body["Invoices"][0]["LineItems"][0]["UnitAmount"] == 1.2346
    invoice_id = response.body["Invoices"][0]["InvoiceID"]
    assert (
        books.get(f"/Invoices/{invoice_id}").body["Invoices"][0]["LineItems"][0][
            "UnitAmount"
        ]
        == 1.23
    )


@pytest.mark.parametrize(
    ("invoice", "message"),
    [
        (sale(Contact={}), "at least 1 of the following elements to identify"),
        (sale(LineItems=[{"ItemCode": "NOPE-1", "Quantity": 1}]), "Item code 'NOPE-1'"),
        (
            sale(LineItems=[line(AccountCode="999")]),
            "Account code '999' is not a valid",
        ),
        (
            sale(LineItems=[line(AccountCode="090")]),
            "Account code '090' is not a valid",
        ),
        (
            sale(LineItems=[line(AccountCode="200", TaxType="INPUT")]),
            "The TaxType code 'INPUT' cannot be used with account code '200'.",
        ),
        (
            sale(LineItems=[line(AccountCode="200", TaxType="GST99")]),
            "'GST99' does not",
        ),
        (
            sale(LineItems=[{"Quantity": 1, "UnitAmount": 5}]),
            "Description or an ItemCode",
        ),
        (
            sale(LineItems=[line(AccountCode="200", Quantity=-2)]),
            "The quantity value '-2.0000' is invalid. Quantity must not be less "
            "than zero.",
        ),
        (
            sale(LineItems=[line(AccountCode="200", UnitAmount=-5)]),
            "must not be negative; raise a credit note",
        ),
        (sale(CurrencyCode="JPY"), "Organisation is not subscribed to currency JPY"),
        (sale(Status="PAID"), "'PAID' is not allowed"),
        (
            sale(Status="AUTHORISED", LineItems=[line()]),
            "Account code must be specified",
        ),
    ],
)
def test_xero_refuses_bad_invoices(books, invoice, message):
    response = put_invoices(books, invoice, summarize="false")
    [errors] = books.errors_of(response, "Invoices")
    assert any(message in error for error in errors), errors
    assert books.get("/Invoices").body["Invoices"] == []


def test_negative_line_is_allowed_when_the_total_is_not(books):
    saved = books.invoice(
        LineItems=[line(AccountCode="200"), line(UnitAmount=-30, AccountCode="200")]
    )
    assert saved["SubTotal"] == 70.0


def test_archived_account_is_refused(books):
    account = books.get("/Accounts", where='Code=="260"').body["Accounts"][0]
    books.call(
        "POST",
        f"/Accounts/{account['AccountID']}",
        {"Accounts": [{"Code": "260", "Status": "ARCHIVED"}]},
    )
    response = put_invoices(books, sale(LineItems=[line(AccountCode="260")]))
    assert "has been archived" in books.errors_of(response, "Invoices")[0][0]


def test_summarised_errors_answer_400_but_save_the_valid_elements(books):
    response = put_invoices(books, sale(Reference="good"), sale(Contact={}))
    assert response.status == 400
    assert response.body["ErrorNumber"] == 10
    assert response.body["Type"] == "ValidationException"
    assert response.body["Message"] == "A validation exception occurred"
    assert len(response.body["Elements"]) == 1
    saved = books.get("/Invoices").body["Invoices"]
    assert [i["Reference"] for i in saved] == ["good"]


def test_summarize_errors_false_answers_each_element(books):
    response = put_invoices(books, sale(), sale(Contact={}), summarize="False")
    assert response.status == 200
    good, bad = response.body["Invoices"]
    assert good["StatusAttributeString"] == "OK"
    assert bad["StatusAttributeString"] == "ERROR" and bad["HasErrors"] is True
    assert bad["ValidationErrors"][0]["Message"].startswith("The Contact must contain")


def test_put_only_creates(books):
    saved = books.invoice()
    response = put_invoices(
        books, sale(InvoiceID=saved["InvoiceID"]), summarize="false"
    )
    assert "already exists" in books.errors_of(response, "Invoices")[0][0]
    response = put_invoices(
        books, sale(InvoiceNumber=saved["InvoiceNumber"]), summarize="false"
    )
    assert books.errors_of(response, "Invoices") == [["Invoice # must be unique."]]


def test_post_updates_by_id_or_number_and_creates_otherwise(books):
    saved = books.invoice(Reference="first")
    books.call(
        "POST",
        "/Invoices",
        {
            "Invoices": [
                {
                    "InvoiceNumber": saved["InvoiceNumber"],
                    "Type": "ACCREC",
                    "Reference": "by number",
                }
            ]
        },
    )
    books.call(
        "POST",
        f"/Invoices/{saved['InvoiceID']}",
        {
            "Invoices": [
                {"Status": "AUTHORISED", "LineItems": [line(AccountCode="200")]}
            ]
        },
    )
    response = books.call("POST", "/Invoices", {"Invoices": [sale(Reference="new")]})
    listed = books.get("/Invoices", order="InvoiceNumber").body["Invoices"]
    assert [(i["InvoiceNumber"], i["Reference"], i["Status"]) for i in listed] == [
        ("INV-0001", "by number", "AUTHORISED"),
        ("INV-0002", "new", "DRAFT"),
    ]
    assert response.body["Invoices"][0]["InvoiceNumber"] == "INV-0002"


def test_unknown_invoice_id_is_404(books):
    response = books.get("/Invoices/2b1f0c1e-0000-4000-8000-000000000000")
    assert response.status == 404


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        ("DRAFT", "SUBMITTED", True),
        ("DRAFT", "DELETED", True),
        ("SUBMITTED", "AUTHORISED", True),
        ("SUBMITTED", "DELETED", True),
        ("AUTHORISED", "VOIDED", True),
        ("AUTHORISED", "DELETED", False),
        ("DRAFT", "VOIDED", False),
        ("AUTHORISED", "DRAFT", False),
    ],
)
def test_status_transitions(books, start, to, allowed):
    saved = books.invoice(Status=start, LineItems=[line(AccountCode="200")])
    response = books.call(
        "POST",
        f"/Invoices/{saved['InvoiceID']}",
        {"Invoices": [{"Status": to}]},
    )
    assert (response.status == 200) is allowed
    if not allowed:
        assert books.errors_of(response, "Invoices") == [
            ["Invoice not of valid status for modification"]
        ]


def test_contact_created_on_the_fly_and_marked_customer(books):
    books.invoice(Contact={"Name": "Brand New Shop", "EmailAddress": "a@b.example"})
    contact = books.get("/Contacts", where='Name=="Brand New Shop"').body["Contacts"]
    assert contact[0]["IsCustomer"] is True and contact[0]["IsSupplier"] is False
    assert ("CONTACT", "CREATE", contact[0]["ContactID"]) in books.events


def test_changes_raise_webhook_events(books):
    saved = books.invoice()
    books.call(
        "POST", f"/Invoices/{saved['InvoiceID']}", {"Invoices": [{"Reference": "x"}]}
    )
    invoice_events = [e for e in books.events if e[0] == "INVOICE"]
    assert invoice_events == [
        ("INVOICE", "CREATE", saved["InvoiceID"]),
        ("INVOICE", "UPDATE", saved["InvoiceID"]),
    ]


def test_bill_numbers_may_repeat_and_use_purchase_details(books):
    bill = {
        "Type": "ACCPAY",
        "Contact": {"Name": "HON Manufacturing"},
        "InvoiceNumber": "H-100",
        "LineItems": [{"ItemCode": "1001-HON-H252", "Quantity": 1}],
    }
    response = put_invoices(books, bill, bill, summarize="false")
    first, second = response.body["Invoices"]
    assert first["StatusAttributeString"] == second["StatusAttributeString"] == "OK"
    assert (first["LineItems"][0]["AccountCode"], first["LineItems"][0]["TaxType"]) == (
        "300",
        "INPUT",
    )
    supplier = books.get("/Contacts", where='Name=="HON Manufacturing"').body
    assert supplier["Contacts"][0]["IsSupplier"] is True


def test_parallel_writers_never_share_an_invoice_number(books):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        saved = list(pool.map(lambda _: books.invoice(), range(40)))
    numbers = [invoice["InvoiceNumber"] for invoice in saved]
    assert len(set(numbers)) == 40
    assert len(books.get("/Invoices").body["Invoices"]) == 40
