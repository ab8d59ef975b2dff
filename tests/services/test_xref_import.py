"""Cross-references from a spreadsheet: every row checked, all or nothing."""

from __future__ import annotations

import pytest

from integrations.models import CrossReference, System
from integrations.services import xref_import
from integrations.services.xref_import import ImportRefused
from tests.factories import ConnectionFactory, CrossReferenceFactory

pytestmark = pytest.mark.django_db

HEADER = "kind,source_connection,source_value,target_connection,target_value,note\n"


@pytest.fixture
def web():
    return ConnectionFactory(slug="web-orders", name="Web orders")


@pytest.fixture
def sage():
    return ConnectionFactory(
        slug="sage100-abc", name="ABC Distribution", system=System.SAGE100
    )


def csv_file(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def test_new_rows_are_previewed_as_added_then_applied(web, sage):
    data = csv_file(
        "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H252,from the shop",
        "Item,Web orders,GADGET-2,ABC Distribution,1001-hon-h254,",
    )

    preview = xref_import.preview("items.csv", data)

    assert preview.ok
    assert [(r.row, r.action) for r in preview.rows] == [(2, "add"), (3, "add")]
    assert CrossReference.objects.count() == 0  # a preview saves nothing

    applied = xref_import.apply("items.csv", data)

    assert (applied.added, applied.changed, applied.unchanged) == (2, 0, 0)
    assert dict(CrossReference.objects.values_list("source_value", "target_value")) == {
        "WIDGET-9": "1001-HON-H252",
        "GADGET-2": "1001-HON-H254",
    }


def test_one_bad_row_is_named_by_number_and_column_and_nothing_is_applied(web, sage):
    data = csv_file(
        "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H252,",
        "item,web-orders,GADGET-2,sage100-abc,,",
        "item,web-orders,BOLT-1,sage100-abc,1001-HON-H254,",
    )

    preview = xref_import.preview("items.csv", data)

    assert [str(e) for e in preview.errors] == ["Row 3, column target_value: is empty."]
    assert [r.row for r in preview.rows] == [2, 4]
    with pytest.raises(ImportRefused, match="Row 3, column target_value"):
        xref_import.apply("items.csv", data)
    assert CrossReference.objects.count() == 0


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("widgets,web-orders,A,sage100-abc,B,", "kind", "not a kind"),
        ("item,nowhere,A,sage100-abc,B,", "source_connection", "no connection"),
        ("item,web-orders,A,web-orders,B,", "target_connection", "the same as"),
        ("item,web-orders,A,sage100-abc,ÄÖ-1,", "target_value", "printable ASCII"),
        ("item,web-orders,A,sage100-abc," + "X" * 31 + ",", "target_value", "30"),
        ("warehouse,web-orders,A,sage100-abc,ABCD,", "target_value", "3 characters"),
        ("item,web-orders," + "S" * 256 + ",sage100-abc,B,", "source_value", "255"),
    ],
)
def test_each_kind_of_bad_value_is_blamed_on_its_column(web, sage, line, column, words):
    preview = xref_import.preview("x.csv", csv_file(line))

    assert len(preview.errors) == 1
    error = preview.errors[0]
    assert (error.row, error.column) == (2, column)
    assert words in error.message


def test_the_same_source_value_twice_in_the_file_is_an_error_on_the_second(web, sage):
    data = csv_file(
        "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H252,",
        "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H254,",
    )

    preview = xref_import.preview("x.csv", data)

    assert [(e.row, e.column) for e in preview.errors] == [(3, "source_value")]
    assert "first on row 2" in preview.errors[0].message


def test_an_existing_source_value_with_another_target_will_change(web, sage):
    existing = CrossReferenceFactory(
        kind="item",
        source_connection=web,
        target_connection=sage,
        source_value="WIDGET-9",
        target_value="1001-HON-H252",
        note="old",
    )
    data = csv_file(
        "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H254,",
        "item,web-orders,NEW-1,sage100-abc,1001-HON-H252,",
    )

    preview = xref_import.preview("x.csv", data)

    changed = preview.changed[0]
    assert (changed.row, changed.old_target_value, changed.target_value) == (
        2,
        "1001-HON-H252",
        "1001-HON-H254",
    )
    assert changed.note == "old"  # a blank note keeps the note there is
    applied = xref_import.apply("x.csv", data)
    existing.refresh_from_db()
    assert (applied.added, applied.changed) == (1, 1)
    assert existing.target_value == "1001-HON-H254"
    assert existing.history.first().history_change_reason == "Imported from x.csv"


def test_export_then_import_of_the_workbook_changes_nothing(web, sage):
    CrossReferenceFactory(
        kind="item",
        source_connection=web,
        target_connection=sage,
        source_value="0042",
        target_value="1001-HON-H252",
        note="leading zeros stay",
    )
    CrossReferenceFactory(
        kind="customer", source_connection=web, target_connection=sage,
        source_value="C-7", target_value="01-ABF",
    )  # fmt: skip
    workbook = xref_import.to_xlsx(CrossReference.objects.all())

    preview = xref_import.preview("export.xlsx", workbook)

    assert preview.ok
    assert [r.action for r in preview.rows] == ["unchanged", "unchanged"]
    assert {r.source_value for r in preview.rows} == {"0042", "C-7"}


def test_export_then_import_of_the_csv_changes_nothing(web, sage):
    CrossReferenceFactory(
        kind="status", source_connection=sage, target_connection=web,
        source_value="O", target_value="Open; still, quoted",
    )  # fmt: skip

    preview = xref_import.preview("x.csv", xref_import.to_csv(CrossReference.objects))

    assert [r.action for r in preview.rows] == ["unchanged"]


def test_kinds_the_flows_record_themselves_read_back_too(web, sage):
    CrossReferenceFactory(
        kind="sales_order", source_connection=web, target_connection=sage,
        source_value="WEB-2001", target_value="0000123",
    )  # fmt: skip

    preview = xref_import.preview("x.csv", xref_import.to_csv(CrossReference.objects))

    assert [(r.action, r.kind_label) for r in preview.rows] == [
        ("unchanged", "sales order")
    ]


def test_a_workbook_with_numbers_in_cells_reads_them_as_typed(web, sage):
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(list(xref_import.COLUMNS))
    book.active.append(["item", "web-orders", 1001, "sage100-abc", "1001-HON-H252"])
    out = BytesIO()
    book.save(out)

    preview = xref_import.preview("numbers.xlsx", out.getvalue())

    assert preview.rows[0].source_value == "1001"


def test_a_file_without_the_columns_is_refused_in_words(web, sage):
    with pytest.raises(ImportRefused, match="lacks the columns target_connection"):
        xref_import.preview("x.csv", b"kind,source_connection,source_value\n")


def test_semicolon_separated_csv_from_a_european_excel_is_read(web, sage):
    data = (
        "kind;source_connection;source_value;target_connection;target_value\n"
        "item;web-orders;WIDGET-9;sage100-abc;1001-HON-H252\n"
    ).encode("cp1252")

    preview = xref_import.preview("x.csv", data)

    assert [r.action for r in preview.rows] == ["add"]


def test_the_template_reads_as_a_file_with_no_rows():
    with pytest.raises(ImportRefused, match="no data rows"):
        xref_import.preview("t.xlsx", xref_import.template_xlsx())


def test_a_file_of_fifteen_hundred_rows_is_previewed_and_applied(web, sage):
    CrossReference.objects.bulk_create(
        CrossReference(
            kind="item",
            source_connection=web,
            target_connection=sage,
            source_value=f"ITEM-{n:04}",
            target_value="OLD",
        )
        for n in range(0, 1500, 2)
    )
    data = csv_file(
        *(f"item,web-orders,ITEM-{n:04},sage100-abc,NEW-{n:04}," for n in range(1500))
    )

    preview = xref_import.preview("big.csv", data)

    assert preview.ok
    assert (len(preview.added), len(preview.changed)) == (750, 750)
    applied = xref_import.apply("big.csv", data)
    assert (applied.added, applied.changed, applied.unchanged) == (750, 750, 0)
    assert CrossReference.objects.filter(target_value__startswith="NEW-").count() == (
        1500
    )


@pytest.mark.parametrize("value", ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "'quoted"])
def test_a_value_a_spreadsheet_would_run_is_exported_as_text_and_reads_back(
    web, sage, value
):
    CrossReferenceFactory(
        kind="status", source_connection=sage, target_connection=web,
        source_value="O", target_value=value, note=value,
    )  # fmt: skip

    exported = xref_import.to_csv(CrossReference.objects).decode("utf-8-sig")
    workbook = xref_import.to_xlsx(CrossReference.objects)

    assert f",'{value},'{value}" in exported.replace('"', "")
    assert xref_import.read_rows("x.xlsx", workbook)[0][1]["target_value"] == value
    for name, data in (("x.csv", exported.encode()), ("x.xlsx", workbook)):
        preview = xref_import.preview(name, data)
        assert [r.action for r in preview.rows] == ["unchanged"], name


def test_a_leading_apostrophe_typed_in_a_csv_is_dropped_on_import(web, sage):
    data = csv_file("item,web-orders,'0042,sage100-abc,1001-HON-H252,")

    preview = xref_import.preview("x.csv", data)

    assert preview.rows[0].source_value == "0042"
