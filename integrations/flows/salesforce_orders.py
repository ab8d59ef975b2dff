"""Won opportunities and activated orders in Salesforce become Sage 100 sales orders.

The event (Pub/Sub, Outbound Message or callout, all normalised alike) only
says *which* record moved; the flow reads the record as it is now, with its
account, primary contact and lines, in one SOQL call. Everything Sage must
agree with (customer, items, warehouse, prices) is resolved and checked before
anything is written, so a bad line never leaves half an order behind. The
Sage order carries the Salesforce id in a UDF, which lets the agent find an
order written before a lost answer; the order number and its status then go
back to Salesforce in one sObject Collections call (with the Account's
``ExternalID__c`` when the customer was just bound or created).

Rules for addresses, matching, item codes, prices and currencies live in
``integrations.services`` and are explained in docs/salesforce-orders.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from integrations import mapping
from integrations.connectors.sage100 import keys
from integrations.connectors.salesforce import ids as salesforce_ids
from integrations.engine.errors import (
    ReferenceMissing,
    ValidationFailed,
)
from integrations.flows.base import Flow, RecordSpec, Run
from integrations.flows.registry import register
from integrations.models import System
from integrations.services import (
    addresses,
    currency,
    item_codes,
    pricing,
    sage_customers,
)

# Sage 100 OrderStatus → the Salesforce status picklist, when the admin has not
# said otherwise with status cross-references (Salesforce value → Sage code).
DEFAULT_STATUS = {"N": "Open", "O": "Open", "H": "Hold", "C": "Completed"}
SAGE_STATUS_WORDS = {"N": "new", "O": "open", "H": "on hold", "C": "closed"}

ACCOUNT_FIELDS = (
    "Id", "Name", "Phone", "BillingStreet", "BillingCity", "BillingState",
    "BillingPostalCode", "BillingCountry", "ShippingStreet", "ShippingCity",
    "ShippingState", "ShippingPostalCode", "ShippingCountry",
)  # fmt: skip


class SalesforceToSage100Order(Flow):
    """The steps Opportunity and Order share; subclasses name the objects."""

    source, target = System.SALESFORCE, System.SAGE100
    rereads_source = True
    sobject: ClassVar[str] = ""
    line_relationship: ClassVar[str] = ""
    # The state that makes a record an order for Sage, and its field.
    trigger_field: ClassVar[str] = ""
    trigger_value: ClassVar[str] = ""
    version: ClassVar[str] = ""  # the key part shared by every channel's event
    date_field: ClassVar[str] = ""

    # -- which events become records ----------------------------------------
    def records_from_event(self, body: Any, *, topic: str) -> list[RecordSpec]:
        if not isinstance(body, dict):
            raise ValidationFailed(
                "A Salesforce event must be an object.", field="body"
            )
        if str(body.get("sobject", "")).lower() != self.sobject.lower():
            return []
        ids = body.get("record_ids")
        if not isinstance(ids, list) or not ids:
            raise ValidationFailed(
                "A Salesforce event needs record_ids.", field="record_ids"
            )
        fields = body.get("fields") if isinstance(body.get("fields"), dict) else {}
        change = str(body.get("change_type") or "UPDATE").upper()
        if change in {"DELETE", "GAP_DELETE"}:
            return []
        # Change Data Capture sends only the changed fields: an update without
        # the trigger field says nothing new. Outbound Messages and callouts send
        # what the admin chose; without the field, the record is checked on read.
        checkable = body.get("channel") == "pubsub" or self.trigger_field in fields
        if checkable and fields.get(self.trigger_field) != self.trigger_value:
            return []
        return [
            RecordSpec(
                source_object_type=self.sobject,
                # 15- and 18-character ids of one record must make one key.
                source_id=salesforce_ids.to_18(str(record_id)),
                # Same key whichever channel delivered it: one order per record.
                source_version=self.version,
                payload=body,
            )
            for record_id in ids
        ]

    def poll(self, config, *, watermark: str) -> tuple[list[RecordSpec], str]:
        """The fallback when no event channel is set up: SystemModstamp watermarks."""
        from integrations.engine import clients

        client = clients.build(config.source_connection)
        since = watermark or "1970-01-01T00:00:00Z"
        soql = (
            f"SELECT Id, SystemModstamp FROM {self.sobject} "
            f"WHERE {self.trigger_field} = '{self.trigger_value}' "
            # ">=": rows sharing the last stamp beyond the limit are read again
            # next time rather than skipped; record keys absorb the repeats.
            f"AND SystemModstamp >= {since} ORDER BY SystemModstamp, Id LIMIT 200"
        )
        rows = client.query(soql)
        specs = [
            RecordSpec(
                source_object_type=self.sobject,
                source_id=row["Id"],
                source_version=self.version,
                payload={
                    "sobject": self.sobject,
                    "record_ids": [row["Id"]],
                    "channel": "poll",
                    "fields": {self.trigger_field: self.trigger_value},
                },
            )
            for row in rows
        ]
        new_mark = _soql_datetime(rows[-1]["SystemModstamp"]) if rows else watermark
        return specs, new_mark

    # -- extract --------------------------------------------------------------
    def soql(self, run: Run) -> str:
        # Only multi-currency orgs have CurrencyIsoCode; asking a single-currency
        # org for it is an error. Describe is cached per connection: no extra call.
        described = {f["name"] for f in run.source.describe(self.sobject)["fields"]}
        header = {
            "Id", "Name", "AccountId", self.trigger_field, self.date_field,
            run.option("order_number_field", "Sage_Order_No__c"),
            *(f"Account.{name}" for name in ACCOUNT_FIELDS),
            f"Account.{run.option('account_external_id_field', 'ExternalID__c')}",
            *self.extra_fields(run, described),
        }  # fmt: skip
        line_fields = {"Id", "Quantity", "UnitPrice", "Product2.ProductCode"}
        if "CurrencyIsoCode" in described:
            header.add("CurrencyIsoCode")
        for row in run.mappings:
            scope, _, _ = row.target_field.partition(".")
            paths = _source_paths(row)
            if scope == "header":
                header.update(paths)
            elif scope == "lines":
                line_fields.update(paths)
            elif scope == "customer":
                header.update(f"Account.{path}" for path in paths)
        lines = (
            f"(SELECT {', '.join(sorted(line_fields))} FROM {self.line_relationship})"
        )
        record_id = _soql_id(run.record.source_id)
        return (
            f"SELECT {', '.join(sorted(header))}, {lines} "
            f"FROM {self.sobject} WHERE Id = '{record_id}'"
        )

    def extra_fields(self, run: Run, described: set[str]) -> set[str]:
        return set()

    def extract(self, run: Run) -> dict:
        rows = run.source.query(self.soql(run))
        if not rows:
            raise ReferenceMissing(
                f"{self.sobject} {run.record.source_id} no longer exists in "
                "Salesforce (deleted, or not visible to the integration user).",
                field="record_ids",
            )
        return rows[0]

    def is_up_to_date(self, run: Run) -> bool:
        return False

    # -- transform: Salesforce's record → the neutral order -------------------
    def transform(self, run: Run, raw: Any) -> dict:
        if raw.get(self.trigger_field) != self.trigger_value:
            raise ValidationFailed(
                f"{self.sobject} {_label(raw)} is "
                f"{raw.get(self.trigger_field)!r} now, not {self.trigger_value!r}: "
                "only that becomes a Sage 100 order. Ignore this record if it was "
                "reopened on purpose.",
                field=self.trigger_field,
            )
        account = raw.get("Account") or {}
        if not account:
            raise ValidationFailed(
                f"{self.sobject} {_label(raw)} has no account: Sage 100 needs a "
                "customer for every order.",
                field="AccountId",
            )
        lines = self._all_lines(run, raw.get(self.line_relationship) or {})
        if not lines:
            raise ValidationFailed(
                f"{self.sobject} {_label(raw)} has no product lines.",
                field=self.line_relationship,
            )
        external_field = run.option("account_external_id_field", "ExternalID__c")
        bill_to = _address(account, "Billing")
        ship_to = (
            _address(account, "Shipping") if account.get("ShippingStreet") else bill_to
        )
        order_date = str(raw.get(self.date_field) or date.today().isoformat())[:10]
        number_field = run.option("order_number_field", "Sage_Order_No__c")
        default_currency = run.option("salesforce_currency", "USD")
        document = {
            "reference": raw["Id"],
            "source": {"type": self.sobject, "id": raw["Id"], "name": _label(raw)},
            "order_number": raw.get(number_field),
            "currency": raw.get("CurrencyIsoCode") or default_currency,
            "order_date": order_date,
            "account": {
                "id": account.get("Id") or raw.get("AccountId"),
                "name": account.get("Name") or "",
                "external_id": account.get(external_field) or "",
                "phone": account.get("Phone") or "",
                "email": _primary_email(raw),
            },
            "bill_to": bill_to.as_sage("BillTo") | {"BillToName": _name(account)},
            "ship_to": ship_to.as_sage("ShipTo") | {"ShipToName": _name(account)},
            "customer_address": bill_to.as_sage(""),
            "address_flags": [
                *(f"Billing address: {flag}" for flag in bill_to.flags),
                *(f"Shipping address: {flag}" for flag in ship_to.flags),
            ],
            "lines": [self._line(line, index) for index, line in enumerate(lines)],
        }  # fmt: skip
        self._apply_mappings(run, raw, lines, document)
        return document

    def _all_lines(self, run: Run, children: dict) -> list[dict]:
        """Every line, following the child query's pages: a partial order
        written to Sage would be worse than none."""
        lines = list(children.get("records") or [])
        while children and not children.get("done", True):
            children = run.source.query_more(children["nextRecordsUrl"])
            lines.extend(children.get("records") or [])
        return lines

    def _line(self, line: dict, index: int) -> dict:
        where = f"{self.line_relationship}.{index}"
        product = line.get("Product2") or {}
        code = product.get("ProductCode")
        if not code:
            raise ValidationFailed(
                f"Line {index + 1} has a product without a Product Code: Sage 100 "
                "needs one to find the item.",
                field=f"{where}.ProductCode",
            )
        return {
            "id": line["Id"],
            "product_code": code,
            "quantity": str(_decimal(line.get("Quantity"), f"{where}.Quantity")),
            "unit_price": str(_decimal(line.get("UnitPrice"), f"{where}.UnitPrice")),
        }

    def _apply_mappings(self, run: Run, raw: dict, lines: list, document: dict) -> None:
        """The admin's FieldMappings: ``header.*``, ``lines.*`` and ``customer.*``
        targets (Sage UDFs or columns), read from the record, each line, the account."""
        scoped: dict[str, list] = {"header": [], "lines": [], "customer": []}
        for row in run.mappings:
            scope, _, rest = row.target_field.partition(".")
            if scope in scoped and rest:
                scoped[scope].append(_retargeted(row, rest))
        if scoped["header"]:
            document["header_fields"] = mapping.apply(
                scoped["header"], raw, xref=run.xref
            )
        if scoped["customer"]:
            document["customer_fields"] = mapping.apply(
                scoped["customer"], raw.get("Account") or {}, xref=run.xref
            )
        if scoped["lines"]:
            for index, line in enumerate(lines):
                try:
                    document["lines"][index]["fields"] = mapping.apply(
                        scoped["lines"], line, xref=run.xref
                    )
                except ValidationFailed as exc:
                    exc.field = f"{self.line_relationship}.{index}.{exc.field}"
                    raise

    # -- validate: everything Sage must agree with, before any write ---------
    def validate(self, run: Run, document: dict) -> None:
        reader = run.target.reader
        resolved = {
            "customer": self._customer(run, reader, document),
            "lines": self._lines(run, reader, document),
        }
        run.state["resolved"] = resolved
        run.save_state(run.state)

    def _customer(self, run: Run, reader, document: dict) -> dict:
        account = document["account"]
        bound = run.xref("customer", account["id"]) or account["external_id"]
        if bound:
            found = reader.find_customer(bound)
            if found is None:
                raise ReferenceMissing(
                    f"Account {account['name']} points to Sage 100 customer {bound}, "
                    "which does not exist: correct the account's "
                    f"{run.option('account_external_id_field', 'ExternalID__c')} or "
                    "the customer cross-reference.",
                    field="account.external_id",
                )
            return _customer_ref(found, "bound", write_back=not account["external_id"])
        return self._matched_customer(run, reader, document) or {
            "action": "create",
            "write_back": True,
        }

    def _matched_customer(self, run: Run, reader, document: dict) -> dict | None:
        """The one Sage customer this account clearly is; None when there is none,
        and DuplicateAmbiguous when several could be (a person decides)."""
        account = document["account"]
        return sage_customers.match(
            reader,
            _wanted(run, document),
            thresholds=run.option("match", {}),
            how_to_fix=(
                "Say which one it is (or that it is none of them) under Match "
                "decisions, or add a customer cross-reference from account "
                f"{account['id']}, then resubmit."
            ),
            field="account",
        )

    def _lines(self, run: Run, reader, document: dict) -> list[dict]:
        rules = item_codes.ItemCodeRules.from_options(run.option(item_codes.OPTION, {}))
        resolutions = []
        for index, line in enumerate(document["lines"]):
            where = f"lines.{index}.product_code"
            try:
                resolutions.append(
                    item_codes.resolve(
                        line["product_code"],
                        xref=lambda value: run.xref("item", value),
                        rules=rules,
                        field_name=where,
                    )
                )
            except ValidationFailed as exc:
                exc.message = f"Line {index + 1}: {exc.message}"
                raise
        found = reader.items(r.code_out for r in resolutions)
        for index, resolution in enumerate(resolutions):
            item = found.get(resolution.code_out)
            where = f"lines.{index}.product_code"
            if item is None:
                raise ReferenceMissing(
                    f"Line {index + 1}: item {resolution.code_in} does not exist in "
                    f"Sage 100 (looked for {resolution.code_out}): add an item "
                    "cross-reference, or create the item in Sage 100.",
                    field=where,
                )
            if item.get("InactiveItem") == "Y":
                raise ValidationFailed(
                    f"Line {index + 1}: item {resolution.code_out} is inactive in "
                    "Sage 100.",
                    field=where,
                )
        warehouse = self._warehouse(run, reader)
        return self._priced(run, reader, document, resolutions, warehouse)

    def _warehouse(self, run: Run, reader) -> str:
        code = keys.warehouse_code(run.option("warehouse", "000"), "options.warehouse")
        rows = reader.select(
            "IM_Warehouse",
            "SELECT WarehouseCode FROM IM_Warehouse WHERE WarehouseCode = ?",
            [code],
        )
        if not rows:
            raise ReferenceMissing(
                f"Warehouse {code} does not exist in Sage 100: change the flow's "
                "warehouse option.",
                field="options.warehouse",
            )
        return code

    def _priced(self, run, reader, document, resolutions, warehouse) -> list[dict]:
        policy = pricing.PricingPolicy.from_options(run.option("pricing", {}))
        sage_prices = {}
        if policy.mode != "salesforce":
            sage_prices = pricing.sage_prices(
                reader,
                [r.code_out for r in resolutions],
                price_level=policy.price_level,
            )
        sage_currency = run.option("sage_currency", "USD")
        on = date.fromisoformat(document["order_date"])
        lines = []
        for index, (line, resolution) in enumerate(
            zip(document["lines"], resolutions, strict=True)
        ):
            converted = currency.convert(
                Decimal(line["unit_price"]), document["currency"], sage_currency, on
            )
            try:
                priced = pricing.price_line(
                    converted,
                    sage_prices.get(resolution.code_out),
                    policy,
                    line=index + 1,
                    item_code=resolution.code_out,
                )
            except ValidationFailed as exc:
                exc.field = f"lines.{index}.unit_price"
                raise
            lines.append(
                {
                    "item_code": resolution.code_out,
                    "item_via": resolution.via,
                    "warehouse": warehouse,
                    "quantity": line["quantity"],
                    "unit_price": str(priced.unit_price),
                    "price_source": priced.source,
                    "price_note": priced.note,
                }
            )
        return lines

    # -- load: customer (when new), then the order, each at most once --------
    def load(self, run: Run, document: dict) -> dict:
        resolved = run.state["resolved"]
        customer = resolved["customer"]
        if customer["action"] == "create":
            customer = run.once(
                "customer", lambda: self._create_customer(run, document)
            )
            resolved["customer"] = customer
        account = document["account"]
        run.bind("customer", account["id"], customer["display"])
        header = {
            "ARDivisionNo": customer["division"],
            "CustomerNo": customer["customer_no"],
            "OrderDate": document["order_date"],
            "ShipExpireDate": document["order_date"],
            "WarehouseCode": resolved["lines"][0]["warehouse"],
            **{k: v for k, v in document["bill_to"].items() if v},
            **{k: v for k, v in document["ship_to"].items() if v},
            **document.get("header_fields", {}),
        }
        column = run.option("reference_column", "UDF_SF_OPPORTUNITY_ID")
        header[column] = document["reference"]
        lines = []
        for line, source in zip(resolved["lines"], document["lines"], strict=True):
            lines.append(
                {
                    "ItemCode": line["item_code"],
                    "WarehouseCode": line["warehouse"],
                    "QuantityOrdered": line["quantity"],
                    "UnitPrice": line["unit_price"],
                    **source.get("fields", {}),
                }
            )
        result = run.target.agent.create_sales_order(
            header,
            lines,
            idempotency_key=run.record.idempotency_key,
            reference={"column": column, "value": document["reference"]},
        )
        record = result["record"]
        status = record.get("OrderStatus", "")
        run.bind("sales_order", document["reference"], record["SalesOrderNo"])
        warnings = list(result.get("warnings", [])) + document["address_flags"]
        if status == "H":
            warnings.append(
                "Sage 100 put the order on credit hold: customer "
                f"{customer['display']} is over its credit limit or on hold."
            )
        return {
            "sales_order_no": record["SalesOrderNo"],
            "order_status": status,
            "customer": customer["display"],
            "customer_action": customer["action"],
            "account_id": account["id"],
            # The Account learns its Sage customer number when we just found it.
            "account_write_back": bool(customer.get("write_back")),
            "credit_hold": status == "H",
            "warnings": warnings,
        }

    def _create_customer(self, run: Run, document: dict) -> dict:
        """One customer creation at a time per Sage company: two orders of the
        same new account (or two new accounts) must not both create, nor take
        the same next number. Under the lock, look again before creating."""
        return sage_customers.create_once(
            str(run.flow_config.target_connection_id),
            look_again=lambda: self._created_meanwhile(run, document),
            create=lambda: self._new_customer(run, document),
        )

    def _created_meanwhile(self, run: Run, document: dict) -> dict | None:
        reader = run.target.reader
        column = run.option("customer_reference_column", "")
        if column:
            row = reader.customer_by_udf(column, document["account"]["id"])
            if row is not None:
                return _customer_ref(row, "bound", write_back=True)
        return self._matched_customer(run, reader, document)

    def _new_customer(self, run: Run, document: dict) -> dict:
        return sage_customers.new_customer(
            run.target.reader,
            run.target.agent,
            _wanted(run, document),
            rule=run.option("customer_no_rule", {"mode": "sequence", "prefix": "SF"}),
            division=run.option("division", "01"),
            idempotency_key=f"{run.record.idempotency_key}:customer",
            defaults=run.option("customer_defaults", {}),
            extra=document.get("customer_fields", {}),
            reference_column=run.option("customer_reference_column", ""),
        )

    # -- confirm: Sage's number and status back to Salesforce, one call ------
    def confirm(self, run: Run, target_ids: dict) -> None:
        if not target_ids.get("sales_order_no"):
            return
        records = [
            {
                "attributes": {"type": self.sobject},
                "id": run.record.source_id,
                run.option("order_number_field", "Sage_Order_No__c"): target_ids[
                    "sales_order_no"
                ],
                run.option("status_field", "Sage_Order_Status__c"): salesforce_status(
                    run, target_ids.get("order_status", "")
                ),
            }
        ]
        if target_ids.get("account_write_back") and target_ids.get("account_id"):
            records.append(
                {
                    "attributes": {"type": "Account"},
                    "id": target_ids["account_id"],
                    run.option("account_external_id_field", "ExternalID__c"): (
                        target_ids["customer"]
                    ),
                }
            )
        results = run.source.collection_update(records, all_or_none=True)
        failed = [r for r in results if not r.get("success")]
        if failed:
            errors = failed[0].get("errors") or [{}]
            raise ValidationFailed(
                "Salesforce refused the Sage order number write-back: "
                f"{errors[0].get('message', 'no reason given')}",
                field=",".join(errors[0].get("fields") or []) or "write_back",
            )


def salesforce_status(run: Run, sage_status: str) -> str:
    """Sage's OrderStatus code as the Salesforce picklist value.

    Status cross-references run Salesforce value → Sage code (several values may
    share a code); the first admin row naming the code wins, else the default.
    """
    from integrations.models import CrossReference

    config = run.flow_config
    # The status flow's own table (Sage code → Salesforce value) first, so one
    # admin row serves both the first write-back and every later change.
    row = (
        CrossReference.objects.filter(
            kind="status",
            source_connection_id=config.target_connection_id,
            target_connection_id=config.source_connection_id,
            source_value=sage_status,
        )
        .values_list("target_value", flat=True)
        .first()
    ) or (
        CrossReference.objects.filter(
            kind="status",
            source_connection_id=config.source_connection_id,
            target_connection_id=config.target_connection_id,
            target_value=sage_status,
        )
        .order_by("id")
        .values_list("source_value", flat=True)
        .first()
    )
    return row or DEFAULT_STATUS.get(sage_status, "Open")


@register
class SalesforceOpportunityToSage100(SalesforceToSage100Order):
    name = "salesforce_opportunity_to_sage100"
    title = "Salesforce Closed Won opportunities → Sage 100 sales orders"
    topics = frozenset({"salesforce.opportunity"})
    sobject = "Opportunity"
    line_relationship = "OpportunityLineItems"
    trigger_field, trigger_value = "StageName", "Closed Won"
    version = "won"
    date_field = "CloseDate"

    def extra_fields(self, run: Run, described: set[str]) -> set[str]:
        # The primary contact's e-mail helps match and create the customer;
        # orgs (and API versions before 49.0) without ContactId simply skip it.
        return {"Contact.Email"} if "ContactId" in described else set()


@register
class SalesforceOrderToSage100(SalesforceToSage100Order):
    name = "salesforce_order_to_sage100"
    title = "Salesforce activated orders → Sage 100 sales orders"
    topics = frozenset({"salesforce.order"})
    sobject = "Order"
    line_relationship = "OrderItems"
    trigger_field, trigger_value = "Status", "Activated"
    version = "activated"
    date_field = "EffectiveDate"

    def extra_fields(self, run: Run, described: set[str]) -> set[str]:
        return {"OrderNumber"}


# -- small helpers ------------------------------------------------------------
def _verdicts(run: Run, account_id: str) -> dict[str, str]:
    """People's same/different verdicts on this account's candidate customers."""
    config = run.flow_config
    return sage_customers.verdicts(
        "customer",
        config.source_connection_id,
        config.target_connection_id,
        account_id,
    )


_customer_ref = sage_customers.reference


def _wanted(run: Run, document: dict) -> sage_customers.Wanted:
    """The account as the Sage customer matcher and creator take it."""
    account = document["account"]
    return sage_customers.Wanted(
        source_connection_id=run.flow_config.source_connection_id,
        target_connection_id=run.flow_config.target_connection_id,
        source_id=account["id"],
        name=account["name"],
        label=f"Account {account['name']}",
        email=account["email"],
        phone=account["phone"],
        address=document["customer_address"],
    )


def _address(account: dict, prefix: str) -> addresses.StandardAddress:
    return addresses.standardise(
        addresses.Address(
            street=account.get(f"{prefix}Street") or "",
            city=account.get(f"{prefix}City") or "",
            state=account.get(f"{prefix}State") or "",
            postal_code=account.get(f"{prefix}PostalCode") or "",
            country=account.get(f"{prefix}Country") or "",
        )
    )


def _label(raw: dict) -> str:
    """What a rep calls the record: its name, an order's number, else its id."""
    return raw.get("Name") or raw.get("OrderNumber") or raw["Id"]


def _name(account: dict) -> str:
    return (account.get("Name") or "")[:30]


def _primary_email(raw: dict) -> str:
    contact = raw.get("Contact") or {}
    return contact.get("Email") or ""


def _source_paths(row) -> set[str]:
    if row.transform == "concat":
        return set(row.transform_args.get("fields", []))
    return {row.source_field} if row.source_field else set()


def _retargeted(row, target: str):
    """The same mapping row, aimed at the field inside its scope."""
    from copy import copy

    clone = copy(row)
    clone.target_field = target
    return clone


def _decimal(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{value!r} is not a number.", field=where) from None
    if not number.is_finite():
        raise ValidationFailed(f"{value!r} is not a number.", field=where)
    return number


def _soql_id(value: str) -> str:
    """Salesforce ids are 15 or 18 letters and digits; anything else is refused
    rather than quoted, so an id can never change the query."""
    if not value.isalnum() or len(value) not in (15, 18):
        raise ValidationFailed(f"{value!r} is not a Salesforce id.", field="record_ids")
    return value


def _soql_datetime(stamp: str) -> str:
    """``2026-12-02T16:00:00.000+0000`` → SOQL's ``2026-12-02T16:00:00.000+00:00``."""
    if len(stamp) >= 5 and stamp[-5] in "+-" and stamp[-3] != ":":
        return f"{stamp[:-2]}:{stamp[-2:]}"
    return stamp
