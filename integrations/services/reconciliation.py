"""Do the shop, Xero and Sage 100 agree about each order?

Per Shopify order the order-to-cash flow handled: the shop's total and
financial status (from the events we received), the Xero invoice's total,
status and amount due, and the Sage 100 order's total and status. Refunds:
what Shopify's refunds gave back against what our Xero credit notes for the
order come to (the invoice keeps its total; the credit note carries the
refund). A row that does not agree says why, in words. One page of orders
costs one Xero call (the invoices by ``IDs``), one more when it has credit
notes, and two Sage 100 queries (open and history headers), never a call per
order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from integrations.engine import clients
from integrations.engine.errors import SyncError
from integrations.models import FlowConfig, RecordStatus, SyncRecord, System
from integrations.services import cross_references, shopify_refunds

FLOW = "shopify_order_to_xero_and_sage100"
PER_PAGE = 50
CREDIT_NOTES_PER_CALL = 25  # CreditNoteID==Guid("…") clauses per GET /CreditNotes
PAID = {"paid", "partially_refunded", "refunded"}
CANCELLED = {"voided"}
SAGE_AMOUNTS = ("TaxableAmt", "NonTaxableAmt", "SalesTaxAmt", "FreightAmt")


@dataclass
class Row:
    record_id: int
    order_id: str
    order_name: str
    currency: str = ""
    shopify_total: Decimal | None = None
    shopify_status: str = ""
    record_status: str = ""
    invoice_id: str = ""
    invoice_number: str = ""
    xero_total: Decimal | None = None
    xero_status: str = ""
    xero_due: Decimal | None = None
    sales_order_no: str = ""
    sage_total: Decimal | None = None
    sage_status: str = ""
    taxes_included: bool = False
    shopify_refunded: Decimal | None = None  # None: no refund of the order
    xero_credited: Decimal | None = None
    refund_keys: list[str] = field(default_factory=list)  # "<order id>:<refund id>"
    refund_problems: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems


@dataclass
class Report:
    config: FlowConfig
    rows: list[Row]
    page: int
    pages: int
    total: int
    errors: list[str] = field(default_factory=list)  # a system that could not be read

    @property
    def disagreeing(self) -> list[Row]:
        return [row for row in self.rows if row.problems]


def configs() -> list[FlowConfig]:
    return list(
        FlowConfig.objects.filter(flow=FLOW).select_related(
            "source_connection", "target_connection"
        )
    )


def reconcile(config: FlowConfig, *, page: int = 1, per_page: int = PER_PAGE) -> Report:
    """One page of the flow's orders (newest first), each compared."""
    orders = SyncRecord.objects.filter(
        flow_config=config, source_object_type="order"
    ).order_by("-created_at", "-pk")
    total = orders.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    records = list(orders[(page - 1) * per_page : page * per_page])
    rows = [_row(record) for record in records]
    _apply_events(config, rows)
    _apply_refunds(config, rows)
    report = Report(config, rows, page, pages, total)
    xero_connection = _xero_connection(config, report)
    if xero_connection is not None:
        _fill_links(config, xero_connection, rows)
        _read_xero(xero_connection, rows, report)
        _read_credit_notes(config, xero_connection, rows, report)
    _read_sage(config, rows, report)
    for row in rows:
        row.problems = _problems(config, xero_connection, row)
    return report


# -- gathering ------------------------------------------------------------------
def _row(record: SyncRecord) -> Row:
    payload = record.effective_payload or {}
    target = record.target_ids or {}
    return Row(
        record_id=record.pk,
        order_id=record.source_id,
        order_name=str(payload.get("name") or record.source_id),
        currency=str(payload.get("currency") or ""),
        shopify_total=_decimal(payload.get("total_price")),
        shopify_status=str(payload.get("financial_status") or ""),
        taxes_included=bool(payload.get("taxes_included")),
        record_status=record.status,
        invoice_id=str(target.get("invoice_id") or ""),
        invoice_number=str(target.get("invoice_number") or ""),
        sales_order_no=str(target.get("sales_order_no") or ""),
    )


def _apply_events(config: FlowConfig, rows: list[Row]) -> None:
    """The newest financial status from the paid and cancelled events."""
    by_id = {row.order_id: row for row in rows}
    later = SyncRecord.objects.filter(
        flow_config=config,
        source_object_type__in=("payment", "cancellation"),
        source_id__in=list(by_id),
    ).order_by("created_at", "pk")
    for record in later:
        payload = record.effective_payload or {}
        status = payload.get("financial_status")
        if status:
            by_id[record.source_id].shopify_status = str(status)


def _apply_refunds(config: FlowConfig, rows: list[Row]) -> None:
    """What the order's refunds gave back, by Shopify's figures."""
    by_id = {row.order_id: row for row in rows}
    refunds = SyncRecord.objects.filter(
        flow_config=config, source_object_type="refund", source_id__in=list(by_id)
    ).order_by("created_at", "pk")
    for record in refunds:
        row = by_id[record.source_id]
        label = f"Refund {record.source_version or record.pk}"
        done = record.status == RecordStatus.SUCCEEDED
        if not done:
            status = record.status.replace("_", " ")
            row.refund_problems.append(f"{label}'s record is {status}.")
        try:
            refund = shopify_refunds.parse(record.effective_payload or {})
        except SyncError as exc:  # its record says so too
            if done:
                row.refund_problems.append(f"{label} cannot be read: {exc.message}")
            continue
        given = shopify_refunds.value(refund, taxes_included=row.taxes_included)
        row.shopify_refunded = (row.shopify_refunded or Decimal(0)) + given
        row.refund_keys.append(f"{refund['order_id']}:{refund['refund_id']}")


def _xero_connection(config: FlowConfig, report: Report):
    from integrations.models import Connection

    wanted = str((config.options or {}).get("xero_connection") or "").strip()
    found = list(Connection.objects.filter(slug=wanted, system=System.XERO)) or list(
        Connection.objects.filter(name=wanted, system=System.XERO)
    )
    if len(found) != 1:
        report.errors.append(
            f"The flow's xero_connection option ({wanted or 'empty'}) names no single "
            "Xero connection, so Xero could not be compared."
        )
        return None
    return found[0]


def _fill_links(config: FlowConfig, xero_connection, rows: list[Row]) -> None:
    """Orders whose record has not finished may still have written: the
    cross-references written at each step say what exists."""
    ids = [row.order_id for row in rows]
    invoices = cross_references.many(
        "invoice", config.source_connection_id, xero_connection.pk, ids
    )
    orders = cross_references.many(
        "order", config.source_connection_id, config.target_connection_id, ids
    )
    for row in rows:
        row.invoice_id = row.invoice_id or invoices.get(row.order_id, "")
        row.sales_order_no = row.sales_order_no or orders.get(row.order_id, "")


def _read_xero(xero_connection, rows: list[Row], report: Report) -> None:
    ids = [row.invoice_id for row in rows if row.invoice_id]
    if not ids:
        return
    try:
        invoices = clients.build(xero_connection).get_invoices(ids=ids)
    except SyncError as exc:
        report.errors.append(f"Xero could not be read: {exc.message}")
        return
    found = {str(invoice.get("InvoiceID")): invoice for invoice in invoices}
    for row in rows:
        invoice = found.get(row.invoice_id)
        if invoice is None:
            continue
        row.invoice_number = str(invoice.get("InvoiceNumber") or row.invoice_number)
        row.xero_total = _decimal(invoice.get("Total"))
        row.xero_status = str(invoice.get("Status") or "")
        row.xero_due = _decimal(invoice.get("AmountDue"))


def _read_credit_notes(
    config: FlowConfig, xero_connection, rows: list[Row], report: Report
) -> None:
    """Our credit notes for the page's refunds (cross-referenced when made),
    read by id in as few calls as the ``where`` clause allows."""
    refunded = [row for row in rows if row.shopify_refunded is not None]
    if not refunded:
        return
    links = cross_references.many(
        "credit_note",
        config.source_connection_id,
        xero_connection.pk,
        [key for row in refunded for key in row.refund_keys],
    )
    ids = sorted(set(links.values()))
    found: dict[str, dict] = {}
    try:
        client = clients.build(xero_connection)
        for start in range(0, len(ids), CREDIT_NOTES_PER_CALL):
            chunk = ids[start : start + CREDIT_NOTES_PER_CALL]
            where = " OR ".join(f'CreditNoteID==Guid("{i}")' for i in chunk)
            for note in client.get_credit_notes(where=where):
                found[str(note.get("CreditNoteID"))] = note
    except SyncError as exc:
        report.errors.append(f"Xero's credit notes could not be read: {exc.message}")
        return
    for row in refunded:
        row.xero_credited = Decimal(0)
        for key in row.refund_keys:
            note = found.get(links.get(key, ""))
            if note is not None and note.get("Status") not in ("VOIDED", "DELETED"):
                row.xero_credited += _decimal(note.get("Total")) or Decimal(0)


def _read_sage(config: FlowConfig, rows: list[Row], report: Report) -> None:
    numbers = sorted({row.sales_order_no for row in rows if row.sales_order_no})
    if not numbers or config.target_connection is None:
        return
    marks = ", ".join("?" for _ in numbers)
    # History headers keep no amounts: a closed order's total is not compared.
    tables = {
        "SO_SalesOrderHistoryHeader": ("SalesOrderNo", "OrderStatus"),
        "SO_SalesOrderHeader": ("SalesOrderNo", "OrderStatus", "DiscountAmt",
                                *SAGE_AMOUNTS),
    }  # fmt: skip
    found: dict[str, dict] = {}
    try:
        reader = clients.build(config.target_connection).reader
        for table, columns in tables.items():
            for row in reader.select(
                table,
                f"SELECT {', '.join(columns)} FROM {table} "
                f"WHERE SalesOrderNo IN ({marks})",
                numbers,
            ):
                found[str(row["SalesOrderNo"])] = row  # open wins over history
    except SyncError as exc:
        report.errors.append(f"Sage 100 could not be read: {exc.message}")
        return
    for row in rows:
        header = found.get(row.sales_order_no)
        if header is None:
            continue
        row.sage_status = str(header.get("OrderStatus") or "")
        if "TaxableAmt" not in header:
            continue
        amount = sum(
            (_decimal(header.get(n)) or Decimal(0) for n in SAGE_AMOUNTS), Decimal(0)
        )
        row.sage_total = amount - (_decimal(header.get("DiscountAmt")) or Decimal(0))


# -- judging ----------------------------------------------------------------------
def _problems(config: FlowConfig, xero_connection, row: Row) -> list[str]:
    from integrations.flows.shopify_orders import sage_status

    problems = []
    if row.record_status != RecordStatus.SUCCEEDED:
        problems.append(f"The order's record is {row.record_status.replace('_', ' ')}.")
    if xero_connection is not None:
        if not row.invoice_id:
            problems.append("No Xero invoice.")
        elif row.xero_status == "":
            problems.append(f"Xero has no invoice {row.invoice_id} any more.")
        else:
            problems.extend(_xero_problems(row))
        if row.xero_credited is not None and row.xero_credited != row.shopify_refunded:
            problems.append(
                f"Shopify refunded {row.shopify_refunded}, but Xero's credit notes "
                f"for the order come to {row.xero_credited}."
            )
    problems.extend(row.refund_problems)
    if not row.sales_order_no:
        problems.append("No Sage 100 order.")
    elif row.sage_status == "":
        problems.append(f"Sage 100 has no order {row.sales_order_no}.")
    else:
        sage_currency = str((config.options or {}).get("sage_currency") or "USD")
        if (
            row.currency == sage_currency
            and row.sage_total is not None
            and row.shopify_total is not None
            and row.sage_total != row.shopify_total
        ):
            problems.append(
                f"Sage 100 order total {row.sage_total} is not the Shopify total "
                f"{row.shopify_total}."
            )
        if xero_connection is not None and row.xero_status:
            wanted = sage_status(
                xero_connection.pk, config.target_connection_id, row.xero_status
            )
            if wanted and wanted != row.sage_status:
                problems.append(
                    f"Xero says {row.xero_status}, so the Sage 100 order should be "
                    f"{wanted}, but it is {row.sage_status}."
                )
    return problems


def _xero_problems(row: Row) -> list[str]:
    problems = []
    if row.xero_status in ("VOIDED", "DELETED"):
        if row.shopify_status not in CANCELLED:
            problems.append(
                f"The Xero invoice is {row.xero_status} but Shopify says "
                f"{row.shopify_status or 'nothing'}."
            )
        return problems
    if (
        row.xero_total is not None
        and row.shopify_total is not None
        and row.xero_total != row.shopify_total
    ):
        problems.append(
            f"Xero invoice total {row.xero_total} is not the Shopify total "
            f"{row.shopify_total}."
        )
    if row.shopify_status in PAID and (row.xero_due or 0) > 0:
        problems.append(f"Paid in Shopify, but Xero still shows {row.xero_due} due.")
    if row.xero_status == "PAID" and row.shopify_status not in PAID:
        problems.append(
            f"Xero says paid, but Shopify says {row.shopify_status or 'not paid'}."
        )
    if row.shopify_status in CANCELLED:
        problems.append(
            f"Cancelled in Shopify, but the Xero invoice is {row.xero_status}."
        )
    return problems


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
