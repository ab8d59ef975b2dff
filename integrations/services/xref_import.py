"""Cross-references from a spreadsheet: read, check every row, preview, apply.

An admin adds fifty item codes from a CSV or XLSX file. Nothing is written
until every row is right: the preview names each bad row by its number (as the
spreadsheet shows it, the header being row 1) and column, in plain words, and
says which rows add, change or leave a cross-reference as it is. Applying plans
the file again inside one transaction, so a cross-reference changed in between
is seen, and writes all rows or none. Exports write a value that a spreadsheet
would run as a formula behind an apostrophe; imports drop it (``FORMULA_STARTS``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from django.db import transaction

from integrations.connectors.sage100 import keys
from integrations.connectors.salesforce import ids as salesforce_ids
from integrations.engine.errors import ValidationFailed
from integrations.models import Connection, CrossReference, System, XrefKind

COLUMNS = (
    "kind",
    "source_connection",
    "source_value",
    "target_connection",
    "target_value",
    "note",
)
REQUIRED = COLUMNS[:5]
COLUMN_WORDS = {
    "kind": "kind",
    "source_connection": "source connection",
    "source_value": "source value",
    "target_connection": "target connection",
    "target_value": "target value",
    "note": "note",
}
MAX_LENGTH = 255  # CrossReference.source_value / target_value / note
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
LOOKUP_CHUNK = 500  # source values per query when looking up existing rows

Action = Literal["add", "change", "unchanged"]

# A cell starting with one of these is a formula to Excel, LibreOffice and
# Google Sheets: an exported value such as ``=HYPERLINK(...)`` would run when
# the file is opened. Export writes such values behind an apostrophe, the
# spreadsheet convention for "this is text", and import takes one leading
# apostrophe off every cell, so ``'=SUM(A1)`` reads back as ``=SUM(A1)`` and an
# export reads back unchanged. A value that itself starts with an apostrophe is
# exported with a second one for the same reason.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


class ImportRefused(Exception):
    """The file as a whole cannot be read (format, columns, size); says why."""


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's row number; the header is row 1
    column: str  # one of COLUMNS, "" for the row as a whole
    message: str

    def __str__(self) -> str:
        where = f"Row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class PlannedRow:
    row: int
    action: Action
    kind: str
    source_connection: Connection
    target_connection: Connection
    source_value: str
    target_value: str
    note: str
    existing_id: int | None = None
    old_target_value: str = ""
    old_note: str = ""

    @property
    def kind_label(self) -> str:
        return dict(XrefKind.choices).get(self.kind, self.kind.replace("_", " "))


@dataclass
class Preview:
    """What importing the file would do, row by row."""

    filename: str
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def of(self, action: Action) -> list[PlannedRow]:
        return [row for row in self.rows if row.action == action]

    @property
    def added(self) -> list[PlannedRow]:
        return self.of("add")

    @property
    def changed(self) -> list[PlannedRow]:
        return self.of("change")

    @property
    def unchanged(self) -> list[PlannedRow]:
        return self.of("unchanged")

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({error.row for error in self.errors})


@dataclass(frozen=True)
class Applied:
    added: int
    changed: int
    unchanged: int


# -- reading files ---------------------------------------------------------------


def read_rows(filename: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """``(row number, {column: text})`` for every non-empty data row of a CSV
    or XLSX file; the header row names the columns (any order, any case)."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it."
        )
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _xlsx_rows(data)
    elif name.endswith((".csv", ".txt")):
        table = _csv_rows(data)
    else:
        raise ImportRefused(
            "Upload a .csv or .xlsx file (Excel: File, Save As, CSV or Excel Workbook)."
        )
    return _with_header(table)


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportRefused(
            "The file could not be read as an Excel workbook (.xlsx)."
        ) from exc
    try:
        sheet = book.worksheets[0]
        return [
            [_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        book.close()


def _cell(value: object) -> str:
    """A cell as the text a person sees: 1001, not 1001.0; dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else (value.isoformat(sep=" "))
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _unquoted(text: str) -> str:
    """A cell's text without the one leading apostrophe that marks it as text
    (see ``FORMULA_STARTS``)."""
    return text[1:] if text.startswith("'") else text


def _quoted(value: str) -> str:
    """A value as an export cell: a would-be formula behind an apostrophe."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _column_name(heading: str) -> str:
    return "_".join(heading.strip().lower().replace("-", " ").split())


def _with_header(table: list[list[str]]) -> list[tuple[int, dict[str, str]]]:
    header_at = next(
        (i for i, row in enumerate(table) if any(c.strip() for c in row)), None
    )
    if header_at is None:
        raise ImportRefused("The file is empty: it needs a header row and data rows.")
    names = [_column_name(heading) for heading in table[header_at]]
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        listed = ", ".join(missing)
        raise ImportRefused(
            f"The header row (row {header_at + 1}) lacks the column"
            f"{'s' if len(missing) > 1 else ''} {listed}. The columns are: "
            f"{', '.join(COLUMNS)} (note is optional). Download the template to start."
        )
    rows = []
    for index, raw in enumerate(table[header_at + 1 :], start=header_at + 2):
        if not any(cell.strip() for cell in raw):
            continue
        values = {
            name: (_unquoted(raw[i].strip()) if i < len(raw) else "")
            for i, name in enumerate(names)
            if name in COLUMNS
        }
        rows.append((index, values))
    if len(rows) > MAX_ROWS:
        raise ImportRefused(f"The file has more than {MAX_ROWS} rows: split it.")
    if not rows:
        raise ImportRefused("The file has a header row but no data rows.")
    return rows


# -- checking rows ---------------------------------------------------------------


def preview(filename: str, data: bytes) -> Preview:
    """Read ``data`` and plan every row against the cross-references there are."""
    return plan(read_rows(filename, data), filename=filename)


def plan(rows: list[tuple[int, dict[str, str]]], *, filename: str = "") -> Preview:
    result = Preview(filename=filename)
    connections = _Connections()
    kinds = _kinds()
    checked: list[tuple[int, dict]] = []
    first_seen: dict[tuple, int] = {}
    for number, values in rows:
        errors: list[RowError] = []
        kind = kinds.get(values.get("kind", "").strip().lower())
        if not values.get("kind", "").strip():
            errors.append(RowError(number, "kind", "is empty: say which kind."))
        elif kind is None:
            errors.append(
                RowError(
                    number,
                    "kind",
                    f"{values['kind']!r} is not a kind of cross-reference; use one "
                    f"of {', '.join(XrefKind.values)}.",
                )
            )
        sides = {}
        for column in ("source_connection", "target_connection"):
            text = values.get(column, "")
            found, problem = connections.find(text)
            if problem:
                errors.append(RowError(number, column, problem))
            sides[column] = found
        cleaned = {}
        for column in ("source_value", "target_value"):
            text = values.get(column, "")
            if not text:
                errors.append(RowError(number, column, "is empty."))
            elif len(text) > MAX_LENGTH:
                errors.append(
                    RowError(
                        number,
                        column,
                        f"is {len(text)} characters long; at most {MAX_LENGTH} fit.",
                    )
                )
            cleaned[column] = text
        note = values.get("note", "")
        if len(note) > MAX_LENGTH:
            errors.append(
                RowError(number, "note", f"is longer than {MAX_LENGTH} characters.")
            )
        if not errors and sides["source_connection"] == sides["target_connection"]:
            errors.append(
                RowError(
                    number,
                    "target_connection",
                    "is the same as the source connection: a cross-reference joins "
                    "two systems.",
                )
            )
        if not errors:
            for column, side in (
                ("source_value", "source_connection"),
                ("target_value", "target_connection"),
            ):
                value, problem = plausible(kind, sides[side], cleaned[column])
                if problem:
                    errors.append(RowError(number, column, problem))
                cleaned[column] = value
        if not errors:
            key = (
                kind,
                sides["source_connection"].pk,
                sides["target_connection"].pk,
                cleaned["source_value"],
            )
            if key in first_seen:
                errors.append(
                    RowError(
                        number,
                        "source_value",
                        f"{cleaned['source_value']} appears again (first on row "
                        f"{first_seen[key]}) for the same kind and connections: "
                        "keep one row.",
                    )
                )
            else:
                first_seen[key] = number
        if errors:
            result.errors.extend(errors)
            continue
        checked.append(
            (
                number,
                {
                    "kind": kind,
                    "source_connection": sides["source_connection"],
                    "target_connection": sides["target_connection"],
                    "source_value": cleaned["source_value"],
                    "target_value": cleaned["target_value"],
                    "note": note,
                },
            )
        )
    existing = _existing(values for _, values in checked)
    for number, values in checked:
        current = existing.get(
            (
                values["kind"],
                values["source_connection"].pk,
                values["target_connection"].pk,
                values["source_value"],
            )
        )
        result.rows.append(_planned(number, values, current))
    return result


def _planned(number: int, values: dict, current: CrossReference | None) -> PlannedRow:
    if current is None:
        return PlannedRow(row=number, action="add", **values)
    note = values["note"] or current.note  # a blank note keeps the one there is
    same = current.target_value == values["target_value"] and current.note == note
    return PlannedRow(
        row=number,
        action="unchanged" if same else "change",
        **{**values, "note": note},
        existing_id=current.pk,
        old_target_value=current.target_value,
        old_note=current.note,
    )


def _kinds() -> dict[str, str]:
    """A kind by its value (``gl_account``) or its label (``GL account``); also
    the kinds flows record themselves (``sales_order``), so an export of every
    cross-reference reads back."""
    found = {}
    used = CrossReference.objects.values_list("kind", flat=True).distinct()
    for value in used:
        found[value.lower()] = value
    for value, label in XrefKind.choices:
        found[value] = value
        found[str(label).lower()] = value
    return found


def known_kinds() -> set[str]:
    """The kinds a cross-reference may have: ``XrefKind`` and those the flows
    record themselves."""
    return set(_kinds().values())


class _Connections:
    """Connections by slug or by name, case-insensitively; read once."""

    def __init__(self) -> None:
        self.all = list(Connection.objects.all())

    def find(self, text: str) -> tuple[Connection | None, str]:
        wanted = text.strip().lower()
        if not wanted:
            return None, "is empty: give the connection's slug or name."
        by_slug = [c for c in self.all if c.slug.lower() == wanted]
        if by_slug:
            return by_slug[0], ""
        by_name = [c for c in self.all if c.name.strip().lower() == wanted]
        if len(by_name) == 1:
            return by_name[0], ""
        if len(by_name) > 1:
            return None, (
                f"{len(by_name)} connections are named {text!r}: use the slug "
                f"({', '.join(c.slug for c in by_name)})."
            )
        return None, (
            f"no connection has the slug or name {text!r}. Connections: "
            + ", ".join(c.slug for c in self.all)
            + "."
        )


def plausible(kind: str, connection: Connection, value: str) -> tuple[str, str]:
    """``(value as the system stores it, problem in words or "")``.

    Checks what can be checked without asking the system: Sage 100's key rules
    (length, printable ASCII, upper case; ``1-abf`` → ``01-ABF``) and the form
    of a Salesforce record id.
    """
    if connection.system == System.SAGE100:
        try:
            if kind == XrefKind.ITEM:
                return keys.item_code(value, "item code"), ""
            if kind == XrefKind.CUSTOMER:
                division, number = keys.customer_ref(value, "customer number")
                return (keys.display(division, number) if division else number), ""
            if kind == XrefKind.VENDOR:
                division, number = keys.customer_ref(value, "vendor number")
                vendor = keys.vendor_no(number, "vendor number")
                return (keys.display(division, vendor) if division else vendor), ""
            if kind == XrefKind.WAREHOUSE:
                return keys.warehouse_code(value, "warehouse code"), ""
        except ValidationFailed as exc:
            return value, _sentence(exc.message)
    if (
        connection.system == System.SALESFORCE
        and kind in (XrefKind.CUSTOMER, XrefKind.ORDER)
        and not salesforce_ids.is_id(value)
    ):
        return value, (
            f"{value!r} is not a Salesforce record id (15 or 18 letters and digits, "
            "e.g. 001… for an account)."
        )
    return value, ""


def _sentence(message: str) -> str:
    return message[0].lower() + message[1:] if message else message


def _existing(rows: Iterable[dict]) -> dict[tuple, CrossReference]:
    """The cross-references the rows name, read a chunk of source values at a
    time per kind and pair of connections: one OR per row makes SQLite refuse a
    file of a few thousand rows ("Expression tree is too large")."""
    wanted: dict[tuple[str, int, int], list[str]] = {}
    for values in rows:
        key = (
            values["kind"],
            values["source_connection"].pk,
            values["target_connection"].pk,
        )
        wanted.setdefault(key, []).append(values["source_value"])
    found = {}
    for (kind, source_id, target_id), source_values in wanted.items():
        for start in range(0, len(source_values), LOOKUP_CHUNK):
            for xref in CrossReference.objects.filter(
                kind=kind,
                source_connection_id=source_id,
                target_connection_id=target_id,
                source_value__in=source_values[start : start + LOOKUP_CHUNK],
            ):
                found[
                    (
                        xref.kind,
                        xref.source_connection_id,
                        xref.target_connection_id,
                        xref.source_value,
                    )
                ] = xref
    return found


# -- applying --------------------------------------------------------------------


def apply(filename: str, data: bytes, *, actor=None) -> Applied:
    """Write every row of the file, or none: refused when any row is wrong."""
    rows = read_rows(filename, data)
    with transaction.atomic():
        planned = plan(rows, filename=filename)
        if not planned.ok:
            raise ImportRefused(
                f"{len(planned.bad_rows)} row(s) are wrong, nothing was imported: "
                + "; ".join(str(e) for e in planned.errors[:5])
            )
        reason = f"Imported from {filename}" if filename else "Imported"
        locked = {
            x.pk: x
            for x in CrossReference.objects.select_for_update().filter(
                pk__in=[r.existing_id for r in planned.rows if r.existing_id]
            )
        }
        for row in planned.rows:
            if row.action == "unchanged":
                continue
            if row.action == "add":
                xref = CrossReference(
                    kind=row.kind,
                    source_connection=row.source_connection,
                    target_connection=row.target_connection,
                    source_value=row.source_value,
                )
            else:
                xref = locked[row.existing_id]
            xref.target_value = row.target_value
            xref.note = row.note
            xref._history_user = actor
            xref._change_reason = reason
            xref.save()
    return Applied(
        added=len(planned.added),
        changed=len(planned.changed),
        unchanged=len(planned.unchanged),
    )


# -- export and template -----------------------------------------------------------


def _export_rows(queryset) -> list[list[str]]:
    rows = queryset.select_related("source_connection", "target_connection")
    return [
        [
            _quoted(text)
            for text in (
                x.kind,
                x.source_connection.slug,
                x.source_value,
                x.target_connection.slug,
                x.target_value,
                x.note,
            )
        ]
        for x in rows.order_by("kind", "source_connection__slug", "source_value")
    ]


def to_csv(queryset) -> bytes:
    """The cross-references as a CSV the import reads back unchanged."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(_export_rows(queryset))
    return out.getvalue().encode("utf-8-sig")  # Excel reads UTF-8 with the BOM


def to_xlsx(queryset) -> bytes:
    """The cross-references as a workbook the import reads back unchanged."""
    return _workbook([list(COLUMNS), *_export_rows(queryset)], with_help=False)


def template_csv() -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(COLUMNS)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    """The header row, and a second sheet saying what goes in each column."""
    return _workbook([list(COLUMNS)], with_help=True)


def help_rows() -> list[list[str]]:
    connections = ", ".join(Connection.objects.values_list("slug", flat=True))
    return [
        ["Column", "What to write"],
        ["kind", "One of: " + ", ".join(XrefKind.values)],
        ["source_connection", f"The slug or name of a connection: {connections}"],
        ["source_value", "The code in the source system, e.g. WIDGET-9"],
        ["target_connection", "The slug or name of the other connection"],
        ["target_value", "The code in the target system, e.g. 1001-HON-H252"],
        ["note", "Optional; empty keeps the note a cross-reference has"],
        [
            "(any)",
            "One apostrophe at the start of a cell is dropped: '=A1 reads as =A1. "
            "Exports put one before values starting with = + - @ so they stay text.",
        ],
    ]


def _workbook(rows: list[list[str]], *, with_help: bool) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Cross-references"
    for row in rows:
        # Text cells: item code 0042 must stay 0042, not become the number 42.
        sheet.append([str(value) for value in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.iter_cols(min_row=1, max_row=sheet.max_row):
        for cell in column:
            cell.number_format = "@"
    for letter, width in zip("ABCDEF", (14, 22, 26, 22, 26, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    if with_help:
        notes = book.create_sheet("How to fill it in")
        for row in help_rows():
            notes.append(row)
        notes.column_dimensions["A"].width = 20
        notes.column_dimensions["B"].width = 80
        for cell in notes[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
