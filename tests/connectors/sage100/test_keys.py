import pytest

from integrations.connectors.sage100 import keys
from integrations.engine.errors import ValidationFailed


@pytest.mark.parametrize(
    ("normalise", "given", "stored"),
    [
        (keys.division, "1", "01"),
        (keys.division, " 02 ", "02"),
        (keys.customer_no, "abf", "ABF"),
        (keys.item_code, " 1001-hon-h252", "1001-HON-H252"),
        (keys.sales_order_no, "123", "0000123"),
        (keys.invoice_no, 501, "0000501"),
        (keys.purchase_order_no, "0000042", "0000042"),
        (keys.warehouse_code, "1", "001"),
        (keys.vendor_no, "acme", "ACME"),
    ],
)
def test_keys_are_written_the_way_sage_stores_them(normalise, given, stored):
    assert normalise(given) == stored


@pytest.mark.parametrize(
    ("normalise", "too_long", "field"),
    [
        (keys.division, "123", "ARDivisionNo"),
        (keys.customer_no, "X" * 21, "CustomerNo"),
        (keys.item_code, "I" * 31, "ItemCode"),
        (keys.sales_order_no, "12345678", "SalesOrderNo"),
        (keys.warehouse_code, "0001", "WarehouseCode"),
        (keys.vendor_no, "V" * 8, "VendorNo"),
        (keys.customer_po, "P" * 16, "CustomerPONo"),
    ],
)
def test_a_value_too_long_is_refused_naming_the_field_not_cut(
    normalise, too_long, field
):
    with pytest.raises(ValidationFailed) as caught:
        normalise(too_long)
    assert caught.value.field == field
    assert "longer than" in caught.value.message


def test_an_alphanumeric_document_number_is_kept_as_typed_in_upper_case():
    assert keys.sales_order_no("w12") == "W12"


@pytest.mark.parametrize("bad", ["", "  ", None])
def test_an_empty_key_is_required(bad):
    with pytest.raises(ValidationFailed, match="CustomerNo is required"):
        keys.customer_no(bad)


def test_a_division_must_be_digits():
    with pytest.raises(ValidationFailed, match="must be digits") as caught:
        keys.division("A1")
    assert caught.value.field == "ARDivisionNo"


def test_control_characters_are_not_a_customer_number():
    with pytest.raises(ValidationFailed, match="printable ASCII"):
        keys.customer_no("AB\x00F")


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("01-ABF", ("01", "ABF")),
        ("1-abf", ("01", "ABF")),
        ("ABF", (None, "ABF")),
        ("ABF-2", (None, "ABF-2")),
        ("12-345", ("12", "345")),
    ],
)
def test_a_customer_reference_in_sage_display_form_is_split(ref, parsed):
    assert keys.customer_ref(ref) == parsed
    assert keys.display("01", "ABF") == "01-ABF"
