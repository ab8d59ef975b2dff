"""The ``where``/``order`` parser: Xero's Dynamic-LINQ syntax and its refusals."""

from __future__ import annotations

import pytest

from integrations.sandbox.xero.books.where import (
    QueryError,
    compile_order,
    compile_where,
)

INVOICES = [
    {
        "InvoiceID": "0b0f8a4e-1111-4a4b-9d0c-000000000001",
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "InvoiceNumber": "INV-0001",
        "AmountDue": 120.5,
        "Date": "/Date(1796169600000+0000)/",  # 2026-12-02
        "Contact": {
            "ContactID": "aaaaaaaa-0000-4000-8000-000000000001",
            "Name": "Bayside Furniture",
        },
    },
    {
        "InvoiceID": "0b0f8a4e-1111-4a4b-9d0c-000000000002",
        "Type": "ACCPAY",
        "Status": "PAID",
        "InvoiceNumber": "BILL-9",
        "AmountDue": 0,
        "Date": "/Date(1795996800000+0000)/",  # 2026-11-30
        "Contact": {
            "ContactID": "aaaaaaaa-0000-4000-8000-000000000002",
            "Name": "HON Manufacturing",
        },
    },
]


def numbers(where: str) -> list[str]:
    test = compile_where(where, "Invoice")
    return [d["InvoiceNumber"] for d in INVOICES if test(d)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('Type=="ACCREC"', ["INV-0001"]),
        ('Status!="PAID"', ["INV-0001"]),
        ('Type=="ACCPAY" OR Status=="AUTHORISED"', ["INV-0001", "BILL-9"]),
        ('Type == "ACCREC" AND AmountDue > 100', ["INV-0001"]),
        ("AmountDue<=0", ["BILL-9"]),
        ("Date >= DateTime(2026, 12, 01)", ["INV-0001"]),
        ('Date < DateTime.Parse("2026-12-01T00:00:00")', ["BILL-9"]),
        (
            'Contact.ContactID==Guid("AAAAAAAA-0000-4000-8000-000000000002")',
            ["BILL-9"],
        ),
        ('Contact.Name.Contains("furn")', ["INV-0001"]),
        ('Contact.Name.StartsWith("HON")', ["BILL-9"]),
        ('InvoiceNumber.ToLower()=="inv-0001"', ["INV-0001"]),
        ('NOT (Type=="ACCREC") && Status=="PAID"', ["BILL-9"]),
        ("Reference==null", ["INV-0001", "BILL-9"]),
    ],
)
def test_where_selects_what_xero_would(where, expected):
    assert numbers(where) == expected


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ('Colour=="red"', "No property or field 'Colour' exists in type 'Invoice'"),
        (
            'Contact.ContactID=="aaaaaaaa-0000-4000-8000-000000000001"',
            "Operator '==' incompatible with operand types 'Guid' and 'String'",
        ),
        ('Type=="ACCREC" AND', "Expression expected"),
        ('(Type=="ACCREC"', "')' expected"),
        ("Type", "Expression of type 'Boolean' expected"),
        ('Type.Frobnicate("x")', "No applicable method 'Frobnicate'"),
        ("Name=='ab'", "Character literal must contain exactly one character"),
    ],
)
def test_bad_where_is_refused_with_a_clear_message(where, message):
    with pytest.raises(QueryError) as raised:
        compile_where(where, "Invoice")
    assert message in str(raised.value)


def test_boolean_compared_with_string_is_refused_as_xero_does():
    with pytest.raises(QueryError, match="'Boolean\\?' and 'String'"):
        compile_where('IsCustomer=="true"', "Contact")
    assert compile_where("IsCustomer==true", "Contact")({"IsCustomer": True})


def test_order_sorts_by_several_fields_missing_last():
    documents = [{"Name": "b", "ContactNumber": "2"}, {"Name": "a"}, {"Name": "b"}]
    documents[2]["ContactNumber"] = "1"
    ordered = compile_order("Name DESC, ContactNumber", "Contact")(documents)
    assert ordered == [
        {"Name": "b", "ContactNumber": "1"},
        {"Name": "b", "ContactNumber": "2"},
        {"Name": "a"},
    ]


def test_order_on_an_unknown_field_is_refused():
    with pytest.raises(QueryError, match="'Colour'"):
        compile_order("Colour ASC", "Contact")
