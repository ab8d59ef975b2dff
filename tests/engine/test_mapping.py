import pytest

from integrations import mapping
from integrations.engine.errors import ReferenceMissing, ValidationFailed
from integrations.models import FieldMapping


def _map(document, *rows, xref=lambda kind, value: None):
    mappings = [
        FieldMapping(
            source_field=row.get("source", ""),
            target_field=row["target"],
            transform=row.get("transform", ""),
            transform_args=row.get("args", {}),
            default=row.get("default", ""),
            required=row.get("required", False),
        )
        for row in rows
    ]
    return mapping.apply(mappings, document, xref=xref)


def test_nested_source_and_target_paths():
    result = _map(
        {"customer": {"email": "A@B.C"}, "lines": [{"sku": "w-1"}]},
        {"source": "customer.email", "target": "bill_to.email", "transform": "lower"},
        {"source": "lines.0.sku", "target": "item", "transform": "upper"},
    )
    assert result == {"bill_to": {"email": "a@b.c"}, "item": "W-1"}


def test_required_empty_field_is_named():
    with pytest.raises(ValidationFailed) as caught:
        _map(
            {"customer": {}},
            {"source": "customer.email", "target": "e", "required": True},
        )
    assert caught.value.field == "customer.email"


def test_default_fills_an_empty_value():
    assert _map({}, {"source": "currency", "target": "c", "default": "USD"}) == {
        "c": "USD"
    }


@pytest.mark.parametrize(
    ("transform", "args", "value", "expected"),
    [
        ("trim", {}, "  ABF ", "ABF"),
        ("truncate", {"length": 5}, "American", "Ameri"),
        ("zero_pad", {"length": 7}, "123", "0000123"),
        ("decimal", {"quantum": "0.01"}, "12.345", "12.35"),
        ("date_format", {"format": "%Y%m%d"}, "2026-01-31T10:00:00Z", "20260131"),
        ("value_map", {"map": {"Closed Won": "O"}}, "Closed Won", "O"),
        ("split", {"separator": " ", "index": -1}, "Ada Lovelace", "Lovelace"),
    ],
)
def test_transforms(transform, args, value, expected):
    row = {"source": "v", "target": "out", "transform": transform, "args": args}
    assert _map({"v": value}, row) == {"out": expected}


def test_concatenate_skips_empty_parts():
    row = {"target": "name", "transform": "concat", "args": {"fields": ["a", "b", "c"]}}
    assert _map({"a": "Ada", "b": "", "c": "Lovelace"}, row) == {"name": "Ada Lovelace"}


def test_bad_number_and_date_are_validation_errors():
    with pytest.raises(ValidationFailed, match="not a number"):
        _map({"v": "ten"}, {"source": "v", "target": "o", "transform": "decimal"})
    with pytest.raises(ValidationFailed, match="not a date"):
        _map(
            {"v": "31/31/2026"},
            {"source": "v", "target": "o", "transform": "date_format"},
        )


def test_unmapped_value_without_default_is_refused():
    row = {"source": "v", "target": "o", "transform": "value_map", "args": {"map": {}}}
    with pytest.raises(ValidationFailed, match="no entry"):
        _map({"v": "X"}, row)


def test_xref_lookup_and_missing_reference():
    row = {
        "source": "c",
        "target": "o",
        "transform": "xref",
        "args": {"kind": "customer"},
    }
    found = _map(
        {"c": "SF1"}, row, xref=lambda kind, v: "01-ABF" if v == "SF1" else None
    )
    assert found == {"o": "01-ABF"}
    with pytest.raises(ReferenceMissing, match="No customer cross-reference"):
        _map({"c": "SF2"}, row)


@pytest.mark.django_db
def test_currency_transform_converts_at_the_rate_table():
    from integrations.models import CurrencyRate

    CurrencyRate.objects.create(
        from_currency="EUR", to_currency="USD", rate="1.10", valid_from="2020-01-01"
    )
    rows = [
        FieldMapping(
            source_field="total",
            target_field="amount",
            transform="currency",
            transform_args={"from": "EUR", "to": "USD"},
        )
    ]

    assert mapping.apply(rows, {"total": "100.005"}, xref=lambda *a: None) == {
        "amount": "110.01"
    }


def test_address_transform_gives_sage_columns_for_a_whole_address():
    rows = [
        FieldMapping(
            source_field="shipping",
            target_field="ship_to",
            transform="address",
            transform_args={"prefix": "ShipTo"},
        )
    ]
    document = {
        "shipping": {
            "street": "123 north main street suite 400",
            "city": "Springfield",
            "state": "Illinois",
            "postal_code": "62704",
            "country": "United States",
        }
    }

    result = mapping.apply(rows, document, xref=lambda *a: None)["ship_to"]

    assert (result["ShipToAddress1"], result["ShipToAddress2"]) == (
        "123 N MAIN ST",
        "STE 400",
    )
    assert (result["ShipToState"], result["ShipToCountryCode"]) == ("IL", "USA")
