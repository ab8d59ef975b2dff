"""Order-to-cash: a Shopify order becomes a Xero invoice and a Sage 100 order.

One flow takes the shop's order events; each event kind is its own record,
keyed by the order (so redeliveries and new event ids of the same order make
no second record):

* ``orders/create`` → record ``order``: the customer found (cross-reference,
  e-mail, fuzzy name and address) or created in Xero and in Sage 100, an
  AUTHORISED ACCREC invoice in Xero, then the Sage 100 sales order, then the
  numbers back to the order's tags in Shopify;
* ``orders/paid`` → record ``payment``: a Xero Payment against that invoice,
  and the Sage order's status by the status cross-reference (PAID → closed);
* ``orders/cancelled`` → record ``cancellation``: the unpaid invoice voided
  and the Sage order closed;
* ``refunds/create`` → record ``refund``, one per refund: a Xero credit note
  allocated to the invoice or refunded in cash (``shopify_refunds.py``).

Everything both systems must accept is checked before the first write (items
in Xero and in Sage, accounts, tax types, currency, quantities), so a bad
line leaves nothing behind. Each write happens at most once (``run.once``)
and is found again after a lost answer (Xero: an Idempotency-Key, and a
read by Reference before sending again; Sage: the order id in CustomerPONo),
so when Xero took the invoice and Sage 100 was down, the retry writes only
the order. New orders go to Xero in batches of up to 50, one invoice call for
the batch (``shopify_order_batches``); payments too, one invoice read and one
payments call for the batch (``shopify_payment_batches``).

A second flow, ``xero_invoice_status_to_sage100``, takes Xero's invoice
webhooks: an invoice of ours paid or voided in Xero moves the Sage order's
status the same way. Rules and assumptions: docs/order-to-cash.md.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from integrations.connectors.sage100 import keys
from integrations.engine.errors import (
    AuthRevoked,
    ReferenceMissing,
    Unavailable,
    ValidationFailed,
)
from integrations.flows import (
    shopify_order_batches,
    shopify_payment_batches,
    shopify_refunds,
)
from integrations.flows.base import Flow, RecordSpec, Run
from integrations.flows.registry import register
from integrations.models import (
    ConnectionStatus,
    CrossReference,
    RecordStatus,
    SyncRecord,
    System,
)
from integrations.services import (
    cross_references,
    currency,
    item_codes,
    sage_customers,
    shopify_orders,
    xero_documents,
    xero_reference,
)

# Shopify topic → (record kind, key version).
EVENTS = {
    "shopify.orders/create": ("order", "create"),
    "shopify.orders/paid": ("payment", "paid"),
    "shopify.orders/cancelled": ("cancellation", "cancelled"),
    "shopify.refunds/create": (shopify_refunds.KIND, "refund id"),  # keyed per refund
}
# Xero invoice status (or our word CANCELLED) → Sage 100 OrderStatus, unless
# status cross-references (Xero connection → Sage connection) say otherwise.
DEFAULT_SAGE_STATUS = {"AUTHORISED": "O", "PAID": "C", "VOIDED": "C", "CANCELLED": "C"}
SAGE_STATUS_WORDS = {"N": "new", "O": "open", "H": "on hold", "C": "closed"}
REFERENCE_COLUMN = "CustomerPONo"


class XeroSide:
    """The Xero connection an option names, and its client for this attempt."""

    def __init__(self, run: Run) -> None:
        self.connection = run.connection_option("xero_connection", System.XERO)
        if self.connection.status != ConnectionStatus.ACTIVE:
            error = AuthRevoked(
                f"The Xero connection {self.connection.name} is "
                f"{self.connection.get_status_display().lower()}: its records wait "
                "until it is connected again."
            )
            error.connection_id = self.connection.pk
            raise error
        self.client = run.client_for(self.connection)


def xero(run: Run) -> XeroSide:
    side = run.__dict__.get("_xero_side")
    if side is None:
        side = run.__dict__["_xero_side"] = XeroSide(run)
    return side


def sage_status(xero_connection_id: int, sage_connection_id: int, word: str) -> str:
    """The Sage OrderStatus for a Xero status word, by the status table."""
    found = cross_references.lookup(
        "status", xero_connection_id, sage_connection_id, word
    )
    return (found or DEFAULT_SAGE_STATUS.get(word, "")).strip().upper()[:1]


@register
class ShopifyOrderToXeroAndSage100(Flow):
    name = "shopify_order_to_xero_and_sage100"
    title = "Shopify orders → Xero invoices and Sage 100 sales orders (order-to-cash)"
    source, target = System.SHOPIFY, System.SAGE100
    topics = frozenset(EVENTS)
    # New orders reach Xero 50 to a call (shopify_order_batches), payments
    # 50 to a call (shopify_payment_batches).
    batch_size = 50
    # A fresh record waits up to 3 s for companions (the option
    # batch_wait_seconds overrides): orders still land in seconds, and a
    # burst of webhooks fills batches instead of going one call each.
    batch_wait_seconds = 3

    # -- which events become records ----------------------------------------
    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        kind, version = EVENTS[topic]
        if kind == shopify_refunds.KIND:
            return shopify_refunds.records(body)
        return [
            RecordSpec(
                source_object_type=kind,
                source_id=shopify_orders.order_id(body),
                source_version=version,
                payload=body,
            )
        ]

    # -- transform ------------------------------------------------------------
    def transform(self, run: Run, raw: Any) -> dict:
        if run.record.source_object_type == shopify_refunds.KIND:
            return shopify_refunds.transform(run, raw)
        order = shopify_orders.parse(raw)
        if run.record.source_object_type != "order":
            return order
        cancelled = SyncRecord.objects.filter(
            flow_config=run.flow_config,
            source_object_type="cancellation",
            source_id=order["order_id"],
        ).exists()
        if cancelled or order["cancelled"]:
            raise ValidationFailed(
                f"Order {order['name']} was cancelled in Shopify: it is not sent "
                "to Xero or Sage 100. Ignore this record.",
                field="cancelled_at",
            )
        return order

    # -- validate: everything Xero and Sage must accept, before any write ----
    def validate(self, run: Run, document: dict) -> None:
        kind = run.record.source_object_type
        if kind == shopify_refunds.KIND:
            return shopify_refunds.validate(run, document)
        if kind == "order":
            resolved = self._resolve_order(run, document)
        else:
            resolved = {"invoice": self._our_invoice(run, document)}
        run.state["resolved"] = resolved
        run.save_state(run.state)

    def _resolve_order(self, run: Run, order: dict) -> dict:
        side = xero(run)
        reader = run.target.reader
        self._check_currency(run, side, order)
        sage_lines = self._sage_lines(run, reader, order)
        xero_lines, extra = self._xero_lines(run, side, reader, order, sage_lines)
        due = date.fromisoformat(order["order_date"]) + timedelta(
            days=int(run.option("due_days", 0))
        )
        # The Xero contact is found for the whole batch at load
        # (shopify_order_batches): one look at Xero for many shoppers.
        return {
            "customer": self._customer(run, reader, order),
            "lines": xero_lines,
            "extra_lines": extra,
            "sage_lines": sage_lines,
            "sage_amounts": self._sage_amounts(run, order),
            "due_date": due.isoformat(),
        }

    def _check_currency(self, run: Run, side: XeroSide, order: dict) -> None:
        code = order["currency"]
        enabled = {
            str(row.get("Code"))
            for row in xero_reference.read(side.connection, side.client, "currencies")
        }
        if code not in enabled:
            enabled = {
                str(row.get("Code"))
                for row in xero_reference.read(
                    side.connection, side.client, "currencies", fresh=True
                )
            }
        if code not in enabled:
            raise ReferenceMissing(
                f"Order {order['name']} is in {code}, which is not a currency of the "
                f"Xero organisation (it has {', '.join(sorted(enabled)) or 'none'}): "
                "add it under Settings > Currencies in Xero, then resubmit.",
                field="currency",
            )

    # Customer ----------------------------------------------------------------
    def _wanted(self, run: Run, order: dict) -> sage_customers.Wanted:
        customer = order["customer"]
        bill = order["bill_to"]
        return sage_customers.Wanted(
            source_connection_id=run.flow_config.source_connection_id,
            target_connection_id=run.flow_config.target_connection_id,
            source_id=customer["id"] or customer["email"],
            name=customer["name"],
            label=f"Shopify customer {customer['name']} <{customer['email']}>",
            email=customer["email"],
            phone=customer["phone"],
            address={
                **{f"AddressLine{n}": text for n, text in enumerate(bill["lines"], 1)},
                "City": bill["city"],
                "State": bill["state"],
                "ZipCode": bill["zip_code"],
                "CountryCode": bill["country_code"],
            },
        )

    def _customer(self, run: Run, reader, order: dict) -> dict:
        wanted = self._wanted(run, order)
        bound = run.xref("customer", wanted.source_id)
        if bound:
            found = reader.find_customer(bound)
            if found is None:
                raise ReferenceMissing(
                    f"{wanted.label} points to Sage 100 customer {bound}, which does "
                    "not exist: correct the customer cross-reference.",
                    field="customer",
                )
            return sage_customers.reference(found, "bound")
        return sage_customers.match(
            reader, wanted, thresholds=run.option("match", {})
        ) or {"action": "create"}

    # Lines ---------------------------------------------------------------------
    def _sage_lines(self, run: Run, reader, order: dict) -> list[dict]:
        rules = item_codes.ItemCodeRules.from_options(run.option(item_codes.OPTION, {}))
        resolutions = []
        for line in order["lines"]:
            where = f"line_items[{line['index']}].sku"
            resolutions.append(
                item_codes.resolve(
                    line["sku"],
                    xref=lambda value: run.xref("item", value),
                    rules=rules,
                    field_name=where,
                )
            )
        found = reader.items(r.code_out for r in resolutions)
        warehouse = keys.warehouse_code(
            run.option("warehouse", "000"), "options.warehouse"
        )
        on = date.fromisoformat(order["order_date"])
        sage_currency = run.option("sage_currency", "USD")
        lines = []
        for line, resolution in zip(order["lines"], resolutions, strict=True):
            where = f"line_items[{line['index']}].sku"
            item = found.get(resolution.code_out)
            if item is None:
                raise ReferenceMissing(
                    f"Order {order['name']}, line {line['index'] + 1}: SKU "
                    f"{line['sku']} is not an item in Sage 100 (looked for "
                    f"{resolution.code_out}). Add an item cross-reference from the "
                    "SKU, or create the item in Sage 100, then resubmit. Nothing "
                    "was written to Xero or Sage 100.",
                    field=where,
                )
            if item.get("InactiveItem") == "Y":
                raise ValidationFailed(
                    f"Order {order['name']}, line {line['index'] + 1}: item "
                    f"{resolution.code_out} is inactive in Sage 100.",
                    field=where,
                )
            price = currency.convert(
                Decimal(line["unit_price"]), order["currency"], sage_currency, on
            )
            lines.append(
                {
                    "item_code": resolution.code_out,
                    "item_via": resolution.via,
                    "sales_account_key": str(item.get("SalesAcctKey") or ""),
                    "warehouse": warehouse,
                    "quantity": line["quantity"],
                    "unit_price": str(price),
                }
            )
        return lines

    def _xero_lines(self, run, side: XeroSide, reader, order, sage_lines):
        """Per item line: the Xero item code, account code, tax type and tax;
        then the discount and shipping lines."""
        items = self._xero_items(run, side, order, sage_lines)
        accounts = self._accounts(run, side, reader, sage_lines)
        money = xero_documents.money_lines(order)
        taxes = xero_documents.split_tax(order, money)
        tax_types = self._tax_types(run, side, order, money)
        sales = accounts["default"]
        lines, extra = [], []
        for index, (entry, tax, tax_type) in enumerate(
            zip(money, taxes, tax_types, strict=True)
        ):
            if entry["kind"] == "line":
                lines.append(
                    {
                        "item_code": items[index],
                        "account_code": accounts["lines"][index],
                        "tax_type": tax_type,
                        "tax": str(tax),
                    }
                )
                continue
            if entry["kind"] == "discount":
                codes = order["discount"]["codes"]
                description = f"Discount {codes}".strip()
                account = run.option("discount_account_code", sales)
            else:
                description = entry["title"]
                account = run.option("shipping_account_code", sales)
            self._require_account(run, side, account, "options")
            extra.append(
                {
                    "kind": entry["kind"],
                    "description": description,
                    "amount": str(entry["amount"]),
                    "account_code": account,
                    "tax_type": tax_type,
                    "tax": str(tax),
                }
            )
        return lines, extra

    def _xero_items(self, run, side: XeroSide, order, sage_lines) -> list[str]:
        """Shopify SKU ⇄ Xero Item Code: the SKU's item cross-reference to
        the Xero connection, else the Sage ItemCode (items kept alike)."""
        wanted = []
        for line, sage_line in zip(order["lines"], sage_lines, strict=True):
            code = cross_references.lookup(
                "item",
                run.flow_config.source_connection_id,
                side.connection.pk,
                line["sku"],
            )
            wanted.append(code or sage_line["item_code"])
        if run.option("xero_items", "required") == "none":
            return ["" for _ in wanted]
        known = {str(i.get("Code")) for i in self._read(side, "items")}
        if not set(wanted) <= known:
            known = {str(i.get("Code")) for i in self._read(side, "items", fresh=True)}
        for line, code in zip(order["lines"], wanted, strict=True):
            if code not in known:
                raise ReferenceMissing(
                    f"Order {order['name']}, line {line['index'] + 1}: SKU "
                    f"{line['sku']} has no item in Xero (looked for Item Code "
                    f"{code}). Create the item in Xero, or add an item "
                    "cross-reference from the SKU to the Xero connection, then "
                    "resubmit. Nothing was written to Xero or Sage 100.",
                    field=f"line_items[{line['index']}].sku",
                )
        return wanted

    def _accounts(self, run, side: XeroSide, reader, sage_lines) -> dict:
        """Each line's Xero sales account: the Sage item's sales GL account
        through the GL account cross-reference, else ``sales_account_code``."""
        default = str(run.option("sales_account_code", "200"))
        account_keys = sorted({s["sales_account_key"] for s in sage_lines} - {""})
        numbers: dict[str, str] = {}
        if account_keys:
            marks = ", ".join("?" for _ in account_keys)
            rows = reader.select(
                "GL_Account",
                "SELECT AccountKey, Account FROM GL_Account "
                f"WHERE AccountKey IN ({marks})",
                account_keys,
            )
            numbers = {row["AccountKey"]: row["Account"] for row in rows}
        sage_id = run.flow_config.target_connection_id
        codes = []
        for line in sage_lines:
            number = numbers.get(line["sales_account_key"], "")
            mapped = cross_references.either_way(
                "gl_account", sage_id, side.connection.pk, number
            )
            codes.append(mapped or default)
        for code in {*codes, default}:
            self._require_account(run, side, code, "options.sales_account_code")
        return {"lines": codes, "default": default}

    def _require_account(self, run, side: XeroSide, code: str, where: str) -> None:
        found = self._find(side, "accounts", lambda a: str(a.get("Code")) == code)
        if found is None or found.get("Status") not in (None, "ACTIVE"):
            raise ReferenceMissing(
                f"Xero has no active account with code {code}: add a GL account "
                "cross-reference (Sage account → Xero account code) or correct "
                f"the flow's {where.removeprefix('options.')} option.",
                field=where,
            )

    def _tax_types(self, run, side: XeroSide, order, money) -> list[str]:
        """Each money line's Xero TaxType: untaxed lines ``no_tax_type``; taxed
        ones by the tax cross-reference from Shopify's tax title(s), else the
        ``tax_type`` option, else Xero's one active rate of Shopify's rate."""
        untaxed = str(run.option("no_tax_type", "NONE"))
        titles = " + ".join(t["title"] for t in order["tax_lines"]) or "tax"
        rate = sum((Decimal(t["rate"]) for t in order["tax_lines"]), Decimal(0))
        needs_tax = any(entry["taxed"] for entry in money)
        taxed = ""
        if needs_tax:
            taxed = self._taxed_type(run, side, titles, rate)
        self._require_tax_type(side, untaxed, "options.no_tax_type")
        return [taxed if entry["taxed"] else untaxed for entry in money]

    def _taxed_type(self, run, side: XeroSide, titles: str, rate: Decimal) -> str:
        chosen = cross_references.lookup(
            "tax", run.flow_config.source_connection_id, side.connection.pk, titles
        ) or run.option("tax_type", "")
        percent = (rate * 100).quantize(Decimal("0.0001"))
        if chosen:
            found = self._require_tax_type(side, chosen, "tax_lines")
            effective = found.get("EffectiveRate")
            if effective is not None and Decimal(str(effective)) != percent:
                raise ValidationFailed(
                    f"Shopify charged {titles} at {percent.normalize()}%, but Xero's "
                    f"tax rate {chosen} is {Decimal(str(effective)).normalize()}%: "
                    "map the Shopify tax to a Xero tax rate of the same percentage "
                    "(tax cross-reference), then resubmit.",
                    field="tax_lines",
                )
            return chosen
        same = [
            t
            for t in self._read(side, "tax_rates")
            if t.get("Status") in (None, "ACTIVE")
            and t.get("CanApplyToRevenue") is not False
            and t.get("EffectiveRate") is not None
            and Decimal(str(t["EffectiveRate"])) == percent
        ]
        if len(same) == 1:
            return str(same[0]["TaxType"])
        seen = ", ".join(str(t.get("TaxType")) for t in same) or "none"
        raise ReferenceMissing(
            f"Which Xero tax rate is Shopify's {titles} ({percent.normalize()}%)? "
            f"Xero has {len(same)} active sales rates of that percentage ({seen}). "
            f"Add a tax cross-reference from {titles!r} to the Xero TaxType (or set "
            "the flow's tax_type option), then resubmit.",
            field="tax_lines",
        )

    def _require_tax_type(self, side: XeroSide, tax_type: str, where: str) -> dict:
        found = self._find(side, "tax_rates", lambda t: t.get("TaxType") == tax_type)
        if found is None:
            raise ReferenceMissing(
                f"Xero has no tax rate with TaxType {tax_type}: correct the tax "
                "cross-reference or the flow's option.",
                field=where,
            )
        return found

    def _sage_amounts(self, run: Run, order: dict) -> dict:
        """Header amounts in the Sage company's currency (2 decimals)."""
        on = date.fromisoformat(order["order_date"])
        sage_currency = run.option("sage_currency", "USD")

        def converted(value: str) -> str:
            return str(
                currency.convert(
                    Decimal(value), order["currency"], sage_currency, on, places=2
                )
            )

        freight = sum((Decimal(s["price"]) for s in order["shipping"]), Decimal(0))
        return {
            "SalesTaxAmt": converted(order["totals"]["tax"]),
            "FreightAmt": converted(str(freight)),
            "DiscountAmt": converted(order["discount"]["amount"]),
        }

    def _read(self, side: XeroSide, what: str, *, fresh: bool = False) -> list[dict]:
        return xero_reference.read(side.connection, side.client, what, fresh=fresh)

    def _find(self, side: XeroSide, what: str, match) -> dict | None:
        return xero_reference.find(side.connection, side.client, what, match)

    # -- load -------------------------------------------------------------------
    def load(self, run: Run, document: dict) -> dict:
        kind = run.record.source_object_type
        if kind == shopify_refunds.KIND:
            return shopify_refunds.load(run, document)
        if kind == "payment":
            return self._load_payment(run, document)
        if kind == "cancellation":
            return self._load_cancellation(run, document)
        return self._load_order(run, document)

    def _load_order(self, run: Run, order: dict) -> dict:
        """One order alone: a batch of one (the engine loads them in batches)."""
        (result,) = shopify_order_batches.load_orders(self, [run], [order])
        if isinstance(result, BaseException):
            raise result
        return result

    def load_batch(self, runs: list[Run], documents: list) -> list:
        """New orders together (one PUT /Invoices for up to 50, one contact
        look-up and one contact create); payments together (one invoice read,
        one PUT /Payments); cancellations and refunds one by one, each its own
        result."""
        results: list[Any] = [None] * len(runs)
        together = (
            ("order", shopify_order_batches.load_orders),
            ("payment", shopify_payment_batches.load_payments),
        )
        for kind, load in together:
            chosen = [
                i for i, run in enumerate(runs) if run.record.source_object_type == kind
            ]
            if not chosen:
                continue
            loaded = load(
                self, [runs[i] for i in chosen], [documents[i] for i in chosen]
            )
            for i, result in zip(chosen, loaded, strict=True):
                results[i] = result
        for i, run in enumerate(runs):
            if results[i] is not None:
                continue
            try:
                results[i] = self.load(run, documents[i])
            except Exception as exc:  # noqa: BLE001 - this record's failure alone
                results[i] = exc
        return results

    def _create_customer(self, run: Run, order: dict) -> dict:
        wanted = self._wanted(run, order)
        reader, agent = run.target.reader, run.target.agent
        column = run.option("customer_reference_column", "")

        def look_again() -> dict | None:
            if column:
                row = reader.customer_by_udf(column, wanted.source_id)
                if row is not None:
                    return sage_customers.reference(row, "bound")
            return sage_customers.match(
                reader, wanted, thresholds=run.option("match", {})
            )

        def create() -> dict:
            return sage_customers.new_customer(
                reader,
                agent,
                wanted,
                rule=run.option(
                    "customer_no_rule", {"mode": "sequence", "prefix": "SH"}
                ),
                division=run.option("division", "01"),
                idempotency_key=f"{run.record.idempotency_key}:customer",
                defaults=run.option("customer_defaults", {}),
                reference_column=column,
            )

        return sage_customers.create_once(
            str(run.flow_config.target_connection_id),
            look_again=look_again,
            create=create,
        )

    def _create_sales_order(self, run: Run, order: dict, customer: dict) -> dict:
        resolved = run.state["resolved"]
        reader = run.target.reader
        po = order["order_id"]
        existing = reader.orders_by_customer_po(po, include_history=True)
        if existing:  # written before an answer was lost
            row = existing[0]
            return {
                "sales_order_no": row["SalesOrderNo"],
                "order_status": row.get("OrderStatus", ""),
                "warnings": [],
            }
        header = {
            "ARDivisionNo": customer["division"],
            "CustomerNo": customer["customer_no"],
            "OrderDate": order["order_date"],
            "ShipExpireDate": order["order_date"],
            "WarehouseCode": resolved["sage_lines"][0]["warehouse"],
            "Comment": f"Shopify order {order['name']}"[:30],
            **{k: v for k, v in resolved["sage_amounts"].items() if Decimal(v)},
            **_sage_address("BillTo", order["bill_to"], order["customer"]["name"]),
            **_sage_address("ShipTo", order["ship_to"], order["customer"]["name"]),
        }
        # The invoice is AUTHORISED: the order starts in the status the status
        # table gives that (Open by default); Sage may still put it on hold.
        opening = sage_status(
            xero(run).connection.pk, run.flow_config.target_connection_id, "AUTHORISED"
        )
        if opening in ("N", "O"):
            header["OrderStatus"] = opening
        column = run.option("reference_column", REFERENCE_COLUMN)
        header[column] = po
        lines = [
            {
                "ItemCode": line["item_code"],
                "WarehouseCode": line["warehouse"],
                "QuantityOrdered": line["quantity"],
                "UnitPrice": line["unit_price"],
            }
            for line in resolved["sage_lines"]
        ]
        result = run.target.agent.create_sales_order(
            header,
            lines,
            idempotency_key=run.record.idempotency_key,
            reference={"column": column, "value": po},
        )
        record = result["record"]
        warnings = list(result.get("warnings", []))
        if record.get("OrderStatus") == "H":
            warnings.append(
                "Sage 100 put the order on credit hold: customer "
                f"{customer['display']} is over its credit limit or on hold."
            )
        return {
            "sales_order_no": record["SalesOrderNo"],
            "order_status": record.get("OrderStatus", ""),
            "warnings": warnings,
        }

    # -- payments and cancellations ---------------------------------------------
    def _our_invoice(self, run: Run, order: dict) -> dict:
        """The order's Xero invoice and Sage order, once the order went through."""
        side = xero(run)
        shopify_id = run.flow_config.source_connection_id
        invoice_id = cross_references.lookup(
            "invoice", shopify_id, side.connection.pk, order["order_id"]
        )
        sales_order_no = run.xref("order", order["order_id"]) or ""
        if invoice_id:
            return {"invoice_id": invoice_id, "sales_order_no": sales_order_no}
        placed = (
            SyncRecord.objects.filter(
                flow_config=run.flow_config,
                source_object_type="order",
                source_id=order["order_id"],
            )
            .values_list("status", flat=True)
            .first()
        )
        if placed == RecordStatus.NEEDS_ATTENTION:
            raise ReferenceMissing(
                f"Order {order['name']} itself needs attention, so it has no Xero "
                "invoice yet: fix the order's record first; this one runs again "
                "when the order goes through.",
                field="order",
            )
        if placed in (
            RecordStatus.PENDING,
            RecordStatus.RUNNING,
            RecordStatus.RETRY_SCHEDULED,
        ):
            raise Unavailable(
                f"Order {order['name']} is still on its way to Xero; the "
                f"{run.record.source_object_type} follows it.",
                retry_after=15,
            )
        found = xero_documents.find_invoice(side.client, order["name"])
        if found is None:
            raise ReferenceMissing(
                f"Xero has no invoice for Shopify order {order['name']} (it never "
                "came through this flow): send the order first, then resubmit.",
                field="order",
            )
        return {"invoice_id": found["InvoiceID"], "sales_order_no": sales_order_no}

    def _load_payment(self, run: Run, order: dict) -> dict:
        """One payment alone: a batch of one (the engine loads them in batches)."""
        (result,) = shopify_payment_batches.load_payments(self, [run], [order])
        if isinstance(result, BaseException):
            raise result
        return result

    def _load_cancellation(self, run: Run, order: dict) -> dict:
        side = xero(run)
        ours = run.state["resolved"]["invoice"]
        invoice = xero_documents.invoice_now(side.client, ours["invoice_id"])
        status = str(invoice.get("Status") or "")
        paid = Decimal(str(invoice.get("AmountPaid") or 0))
        result = {
            "invoice_id": ours["invoice_id"],
            "invoice_number": str(invoice.get("InvoiceNumber") or ""),
            "invoice_status": status,
        }
        if status in ("AUTHORISED", "SUBMITTED", "DRAFT") and paid == 0:
            run.once("void", lambda: self._void(run, side, ours["invoice_id"]))
            result["invoice_status"] = "VOIDED"
        elif status not in ("VOIDED", "DELETED"):
            result["warnings"] = [
                f"Xero invoice {invoice.get('InvoiceNumber')} is {status} with "
                f"{paid} paid, so it was not voided: the refund's credit note "
                "settles it."
            ]
        result.update(
            self._sage_follows(run, side, ours["sales_order_no"], "CANCELLED")
        )
        return result

    def _void(self, run: Run, side: XeroSide, invoice_id: str) -> str:
        voided = side.client.update_invoice(
            invoice_id,
            {"Status": "VOIDED"},
            idempotency_key=xero_documents.key(run.record.idempotency_key, "void"),
        )
        return str(voided.get("Status") or "VOIDED")

    def _sage_follows(
        self, run: Run, side: XeroSide, sales_order_no: str, word: str
    ) -> dict:
        """The Sage order's status by the status table, when it differs."""
        return follow_status(
            run,
            side.connection.pk,
            sales_order_no,
            word,
            key=f"{run.record.idempotency_key}:status",
        )

    # -- confirm: the numbers back on the Shopify order ---------------------------
    def confirm(self, run: Run, target_ids: dict) -> None:
        if not target_ids or run.record.source_object_type == shopify_refunds.KIND:
            return  # a refund's body is not the order: no tags to write from it
        if run.option("write_back_tags", True):
            self._tag(run, target_ids)
        if run.record.source_object_type == "order":
            wake_followers(run)

    def _tag(self, run: Run, target_ids: dict) -> None:
        order = run.payload
        tags = [t.strip() for t in str(order.get("tags") or "").split(",") if t.strip()]
        ours = {
            "xero": target_ids.get("invoice_number") or target_ids.get("invoice_id"),
            "sage": target_ids.get("sales_order_no"),
            "xero-status": (target_ids.get("invoice_status") or "").lower(),
        }
        kept = [t for t in tags if t.split(":", 1)[0] not in ours]
        added = [f"{name}:{value}"[:40] for name, value in ours.items() if value]
        note_lines = [
            f"Xero invoice {ours['xero']}" if ours["xero"] else "",
            f"Sage 100 order {ours['sage']}" if ours["sage"] else "",
        ]
        run.source.update_order(
            int(run.record.source_id),
            tags=kept + added,
            note=_note(order.get("note"), [line for line in note_lines if line]),
        )


def follow_status(
    run: Run, xero_connection_id: int, sales_order_no: str, word: str, *, key: str
) -> dict:
    """Move the Sage order to the status the table gives ``word``; nothing
    when there is no order, no mapping, or it is there already (closed orders
    are in history: already done)."""
    if not sales_order_no:
        return {}
    wanted = sage_status(xero_connection_id, run.flow_config.target_connection_id, word)
    if not wanted:
        return {}
    current = run.target.reader.sales_order_headers([sales_order_no]).get(
        sales_order_no
    )
    if current is None:  # closed orders leave the open file
        return {"sage_status": "C", "sales_order_no": sales_order_no}
    if current.get("OrderStatus") == wanted:
        return {"sage_status": wanted, "sales_order_no": sales_order_no}
    run.target.agent.update_order_status(
        sales_order_no, wanted, idempotency_key=f"{key}:{wanted}"
    )
    return {"sage_status": wanted, "sales_order_no": sales_order_no}


def wake_followers(run: Run) -> None:
    """Payments and cancellations of this order that waited for it run now."""
    from integrations.services import records

    waiting = SyncRecord.objects.filter(
        flow_config=run.flow_config,
        source_id=run.record.source_id,
        source_object_type__in=("payment", "cancellation", shopify_refunds.KIND),
        status=RecordStatus.NEEDS_ATTENTION,
        error_field="order",
    )
    for record in waiting:
        records.rerun_on_new_event(record)


@register
class XeroInvoiceStatusToSage100(Flow):
    """An order-to-cash invoice paid or voided in Xero moves its Sage order."""

    name = "xero_invoice_status_to_sage100"
    title = "Xero invoice status → Sage 100 sales order status (order-to-cash)"
    source, target = System.XERO, System.SAGE100
    topics = frozenset({"xero.invoice.update"})

    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        if not isinstance(body, dict) or not body.get("resourceId"):
            raise ValidationFailed(
                "A Xero event needs a resourceId.", field="resourceId"
            )
        return [
            RecordSpec(
                source_object_type="invoice",
                source_id=str(body["resourceId"]),
                # Each update is news: the status may have moved again.
                source_version=str(body.get("eventDateUtc") or ""),
                payload=body,
            )
        ]

    def load(self, run: Run, document: Any) -> dict:
        invoice_id = run.record.source_id
        link = (
            CrossReference.objects.filter(
                kind="invoice",
                target_connection_id=run.flow_config.source_connection_id,
                target_value=invoice_id,
            )
            .values_list("source_connection_id", "source_value")
            .first()
        )
        if link is None:
            return {"skipped": "not an order-to-cash invoice"}
        shopify_id, order_id = link
        sales_order_no = cross_references.lookup(
            "order", shopify_id, run.flow_config.target_connection_id, order_id
        )
        found = run.source.get_invoices(ids=[invoice_id])
        if not found:
            raise ReferenceMissing(
                f"Xero invoice {invoice_id} is gone.", field="resourceId"
            )
        status = str(found[0].get("Status") or "")
        result = {"invoice_id": invoice_id, "invoice_status": status}
        result.update(
            follow_status(
                run,
                run.flow_config.source_connection_id,
                sales_order_no or "",
                status,
                key=f"{run.record.idempotency_key}:status",
            )
        )
        return result


def _sage_address(prefix: str, address: dict, name: str) -> dict:
    lines = [*(address.get("lines") or []), "", "", ""][:3]
    values = {
        f"{prefix}Name": name[:30],
        f"{prefix}Address1": lines[0],
        f"{prefix}Address2": lines[1],
        f"{prefix}Address3": lines[2],
        f"{prefix}City": address.get("city", ""),
        f"{prefix}State": address.get("state", ""),
        f"{prefix}ZipCode": address.get("zip_code", ""),
        f"{prefix}CountryCode": address.get("country_code", ""),
    }
    return {k: v for k, v in values.items() if v}


def _note(existing: Any, lines: list[str]) -> str:
    """The order's note with our lines set (kept once, whatever ran before)."""
    kept = [
        line
        for line in str(existing or "").splitlines()
        if not line.startswith(("Xero invoice ", "Sage 100 order "))
    ]
    return "\n".join([*kept, *lines]).strip()
