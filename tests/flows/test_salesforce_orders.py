"""Closed Won opportunities become Sage 100 sales orders, once, over real HTTPS.

The simulated org and the simulated Sage 100 company (with its agent) both run
on loopback ports; the flow reaches them through the real connectors.
"""

import json
import sqlite3
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.connectors.salesforce import client as salesforce_client
from integrations.engine import runner
from integrations.models import (
    CrossReference,
    CurrencyRate,
    ErrorCategory,
    FieldMapping,
    MatchDecision,
    RecordStatus,
    System,
)
from integrations.sandbox.salesforce.seed import PRODUCTS
from integrations.services import inbox, records
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.sage100 import running_sage100
from tests.support.salesforce import running_salesforce

pytestmark = pytest.mark.django_db

UDFS = [
    ("AR_Customer", "UDF_SF_ACCOUNT_ID", 18),
    ("AR_Customer", "UDF_SF_TYPE", 20),
    ("SO_SalesOrderHeader", "UDF_SF_OPPORTUNITY_ID", 18),
    ("SO_SalesOrderHeader", "UDF_PRIORITY", 1),
    ("SO_SalesOrderHeader", "UDF_SHIP_BY", 10),
    ("SO_SalesOrderDetail", "UDF_SF_LINE_ID", 18),
]


@pytest.fixture
def sage(tmp_path):
    with running_sage100(tmp_path / "sage100") as company:
        for table, name, length in UDFS:
            company.db.add_udf(table, name, length=length)
        yield company


@pytest.fixture
def salesforce(tmp_path):
    salesforce_client.forget_tokens()
    with running_salesforce(tmp_path / "salesforce") as org:
        yield org


@pytest.fixture
def config(sage, salesforce):
    settings, credentials = salesforce.connection()
    source = ConnectionFactory(
        system=System.SALESFORCE, settings=settings, credentials=credentials
    )
    target = ConnectionFactory(
        system=System.SAGE100,
        settings=sage.connection_settings(),
        credentials=sage.credentials,
    )
    return FlowConfigFactory(
        flow="salesforce_opportunity_to_sage100",
        source_connection=source,
        target_connection=target,
        options={
            "customer_reference_column": "UDF_SF_ACCOUNT_ID",
            "item_codes": {"remove_prefixes": ["SF-"], "replace": {" ": "-"}},
        },
    )


def _win(salesforce, key: str) -> str:
    opportunity = salesforce.access.ids[f"opportunity:{key}"]
    salesforce.org.update("Opportunity", opportunity, {"StageName": "Closed Won"})
    return opportunity


def _event(opportunity: str, channel: str = "callout") -> dict:
    return {
        "sobject": "Opportunity",
        "change_type": "UPDATE",
        "record_ids": [opportunity],
        "fields": {"StageName": "Closed Won"},
        "channel": channel,
    }


def _deliver(config, opportunity: str, event_id: str, channel: str = "callout"):
    body = _event(opportunity, channel)
    return inbox.accept(
        config.source_connection,
        body=json.dumps(body).encode(),
        headers={},
        provider_event_id=event_id,
        topic="salesforce.opportunity",
        signature_verified=True,
        parsed=body,
    )


def _run(record):
    runner.run_record(record.pk)
    record.refresh_from_db()
    return record


def _due_now(record) -> None:
    """Skip the backoff wait: the retry is due now."""
    type(record).objects.filter(pk=record.pk).update(next_attempt_at=timezone.now())


def _orders(sage, opportunity: str) -> list[dict]:
    with sqlite3.connect(sage.db.path) as db:
        db.row_factory = sqlite3.Row
        headers = db.execute(
            "SELECT * FROM SO_SalesOrderHeader WHERE UDF_SF_OPPORTUNITY_ID = ?",
            (opportunity,),
        ).fetchall()
        return [
            dict(header)
            | {
                "lines": [
                    dict(line)
                    for line in db.execute(
                        "SELECT * FROM SO_SalesOrderDetail WHERE SalesOrderNo = ? "
                        "ORDER BY LineSeqNo",
                        (header["SalesOrderNo"],),
                    )
                ]
            }
            for header in headers
        ]


def test_closed_won_becomes_one_sage_order_with_lines_and_write_back(
    config, sage, salesforce, redis_conn
):
    opportunity = _win(salesforce, "abf")
    (record,) = _deliver(config, opportunity, "e1").records

    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (order,) = _orders(sage, opportunity)
    assert (order["ARDivisionNo"], order["CustomerNo"]) == ("01", "ABF")
    assert order["BillToName"] == "American Business Futures"
    assert order["BillToAddress1"] == "4912 OAK AVE"
    assert [(line["ItemCode"], line["QuantityOrdered"]) for line in order["lines"]] == [
        ("1001-HON-H252", 4),
        ("1001-HON-H254", 2),
    ]
    # The rep's negotiated price on line 2 is kept (the "salesforce" policy).
    assert Decimal(str(order["lines"][1]["UnitPrice"])) == Decimal("450")
    written = salesforce.org.get("Opportunity", opportunity)
    assert written["Sage_Order_No__c"] == order["SalesOrderNo"]
    assert written["Sage_Order_Status__c"] == "Open"
    assert record.target_ids["customer_action"] == "bound"


def test_the_same_event_five_times_by_three_channels_makes_one_order(
    config, sage, salesforce, redis_conn
):
    opportunity = _win(salesforce, "abf")
    made = []
    for n, channel in enumerate(
        ["pubsub", "outbound_message", "callout", "pubsub", "callout"]
    ):
        made.extend(_deliver(config, opportunity, f"{channel}:{n}", channel).records)

    assert len({record.pk for record in made}) == 1
    for record in made:
        _run(record)

    assert len(_orders(sage, opportunity)) == 1


def test_strong_fuzzy_match_binds_the_existing_customer_and_writes_it_back(
    config, sage, salesforce, redis_conn
):
    opportunity = _win(salesforce, "valley")  # "Valley Business Systems, Inc."
    (record,) = _deliver(config, opportunity, "e1").records

    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (order,) = _orders(sage, opportunity)
    assert order["CustomerNo"] == "VALLBUS"
    account = salesforce.org.get("Account", salesforce.access.ids["account:valley"])
    assert account["ExternalID__c"] == "01-VALLBUS"
    assert CrossReference.objects.get(
        kind="customer", source_value=account["Id"]
    ).target_value == ("01-VALLBUS")


def test_unknown_product_needs_attention_then_an_xref_and_resubmit_make_one_order(
    config, sage, salesforce, redis_conn
):
    opportunity = _win(salesforce, "northwind")  # sells SF-FOOT-9000
    (record,) = _deliver(config, opportunity, "e1").records

    record = _run(record)

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.REFERENTIAL
    assert "SF-FOOT-9000" in record.error_message
    assert record.error_field == "lines.1.product_code"
    assert _orders(sage, opportunity) == []
    # No customer was created for a order that could not be written either.
    with sqlite3.connect(sage.db.path) as db:
        assert db.execute(
            "SELECT COUNT(*) FROM AR_Customer WHERE CustomerName LIKE 'Northwind%'"
        ).fetchone() == (0,)

    CrossReference.objects.create(
        kind="item",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value="SF-FOOT-9000",
        target_value="4001-AVR-L5160",
    )
    records.resubmit(record, actor=None)
    record = _run(record)
    record = _run(record) if record.status != RecordStatus.SUCCEEDED else record

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (order,) = _orders(sage, opportunity)
    assert order["lines"][1]["ItemCode"] == "4001-AVR-L5160"
    # A new customer, numbered by the rule, linked both ways, with the primary
    # contact's e-mail.
    assert order["CustomerNo"].startswith("SF")
    with sqlite3.connect(sage.db.path) as db:
        (email,) = db.execute(
            "SELECT EmailAddress FROM AR_Customer WHERE CustomerNo = ?",
            (order["CustomerNo"],),
        ).fetchone()
    assert email == "nora.kade@northwind-robotics.example"
    account = salesforce.org.get("Account", salesforce.access.ids["account:northwind"])
    assert account["ExternalID__c"] == f"01-{order['CustomerNo']}"


def test_product_code_variations_resolve_by_the_flows_rules(
    config, sage, salesforce, redis_conn
):
    opportunity = _win(salesforce, "delta")  # "3001-GLB-C10 " and "3001 GLB C12"
    (record,) = _deliver(config, opportunity, "e1").records

    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (order,) = _orders(sage, opportunity)
    assert [line["ItemCode"] for line in order["lines"]] == [
        "3001-GLB-C10",
        "3001-GLB-C12",
    ]


def test_price_outside_the_tolerance_is_refused_before_any_write(
    config, sage, salesforce, redis_conn
):
    config.options["pricing"] = {"mode": "sage_with_tolerance", "tolerance_percent": 2}
    config.save()
    opportunity = _win(salesforce, "abf")  # line 2 at 450.00, Sage says 476.58
    (record,) = _deliver(config, opportunity, "e1").records

    record = _run(record)

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.VALIDATION
    assert record.error_field == "lines.1.unit_price"
    assert "Line 2" in record.error_message and "476.58" in record.error_message
    assert _orders(sage, opportunity) == []


def test_opportunity_currency_is_converted_with_the_rate_table(
    tmp_path, sage, redis_conn
):
    salesforce_client.forget_tokens()
    with running_salesforce(tmp_path / "mc", multi_currency=True) as salesforce:
        settings, credentials = salesforce.connection()
        config = FlowConfigFactory(
            flow="salesforce_opportunity_to_sage100",
            source_connection=ConnectionFactory(
                system=System.SALESFORCE, settings=settings, credentials=credentials
            ),
            target_connection=ConnectionFactory(
                system=System.SAGE100,
                settings=sage.connection_settings(),
                credentials=sage.credentials,
            ),
        )
        org, ids = salesforce.org, salesforce.access.ids
        product = ids["product:1001-HON-H252"]
        entry = org.create(
            "PricebookEntry",
            {
                "Pricebook2Id": ids["pricebook:standard"],
                "Product2Id": product,
                "UnitPrice": 200,
                "CurrencyIsoCode": "EUR",
                "IsActive": True,
            },
        )
        opportunity = org.create(
            "Opportunity",
            {
                "AccountId": ids["account:abf"],
                "Name": "ABF - euro deal",
                "StageName": "Negotiation/Review",
                "CloseDate": "2026-12-01",
                "CurrencyIsoCode": "EUR",
                "Pricebook2Id": ids["pricebook:standard"],
            },
        )
        org.create(
            "OpportunityLineItem",
            {
                "OpportunityId": opportunity,
                "PricebookEntryId": entry,
                "Quantity": 3,
                "UnitPrice": 450,
            },
        )
        CurrencyRate.objects.create(
            from_currency="EUR", to_currency="USD", rate="1.10", valid_from="2020-01-01"
        )
        org.update("Opportunity", opportunity, {"StageName": "Closed Won"})
        (record,) = _deliver(config, opportunity, "e1").records

        record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (order,) = _orders(sage, opportunity)
    assert Decimal(str(order["lines"][0]["UnitPrice"])) == Decimal("495")  # 450 at 1.10


def test_salesforce_budget_exhausted_waits_and_then_completes(
    config, sage, salesforce, redis_conn
):
    opportunity = _win(salesforce, "abf")
    limits = salesforce.org.limits()["DailyApiRequests"]
    salesforce.org.set_budget(used=limits["Max"])
    (record,) = _deliver(config, opportunity, "e1").records

    record = _run(record)

    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.error_category == ErrorCategory.RATE_LIMITED
    assert _orders(sage, opportunity) == []

    salesforce.org.set_budget(used=0)
    salesforce_client.forget_tokens()
    _due_now(record)
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(_orders(sage, opportunity)) == 1


def test_sage_down_retries_and_the_order_arrives_once_after_recovery(
    config, sage, salesforce, redis_conn
):
    opportunity = _win(salesforce, "abf")
    (record,) = _deliver(config, opportunity, "e1").records
    sage.faults.down()

    record = _run(record)

    assert record.status == RecordStatus.RETRY_SCHEDULED
    assert record.error_category == ErrorCategory.UNAVAILABLE

    sage.faults.up()
    _due_now(record)
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    assert len(_orders(sage, opportunity)) == 1


def test_an_update_that_does_not_win_makes_no_record(config, salesforce):
    body = _event("006000000000001AAA", "pubsub") | {"fields": {"Amount": 10}}
    accepted = inbox.accept(
        config.source_connection,
        body=json.dumps(body).encode(),
        headers={},
        provider_event_id="e1",
        topic="salesforce.opportunity",
        signature_verified=True,
        parsed=body,
    )

    assert accepted.records == []


def test_products_the_seed_leaves_out_of_sage_are_what_the_tests_expect():
    # The northwind test relies on exactly one product with no Sage item.
    assert [code for code, item, *_ in PRODUCTS if item is None] == ["SF-FOOT-9000"]


def test_a_15_character_id_from_a_callout_joins_the_18_character_record(
    config, salesforce
):
    opportunity = _win(salesforce, "abf")
    first = _deliver(config, opportunity, "pubsub:1", "pubsub").records
    second = _deliver(config, opportunity[:15], "callout:1").records

    assert [r.pk for r in first] == [r.pk for r in second]
    assert first[0].source_id == opportunity


def test_an_outbound_message_without_the_stage_is_checked_on_read(config, salesforce):
    body = _event("006000000000001AAA", "outbound_message") | {"fields": {"Name": "X"}}
    accepted = inbox.accept(
        config.source_connection,
        body=json.dumps(body).encode(),
        headers={},
        provider_event_id="om:1",
        topic="salesforce.opportunity",
        signature_verified=True,
        parsed=body,
    )

    assert len(accepted.records) == 1


def test_a_new_event_after_the_rep_fixes_the_deal_runs_the_record_again(
    config, sage, salesforce, redis_conn
):
    org, ids = salesforce.org, salesforce.access.ids
    opportunity = org.create(
        "Opportunity",
        {
            "AccountId": ids["account:abf"],
            "Name": "ABF - forgot the products",
            "StageName": "Closed Won",
            "CloseDate": "2026-12-01",
            "Pricebook2Id": ids["pricebook:standard"],
        },
    )
    (record,) = _deliver(config, opportunity, "e1").records
    record = _run(record)
    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_field == "OpportunityLineItems"

    org.create(
        "OpportunityLineItem",
        {
            "OpportunityId": opportunity,
            "PricebookEntryId": ids["entry:1001-HON-H252"],
            "Quantity": 1,
            "UnitPrice": 217.39,
        },
    )
    (again,) = _deliver(config, opportunity, "e2", "outbound_message").records

    assert again.pk == record.pk
    again.refresh_from_db()
    assert again.status == RecordStatus.PENDING
    again = _run(again)
    assert again.status == RecordStatus.SUCCEEDED, again.error_message
    assert len(_orders(sage, opportunity)) == 1


def test_a_repeat_delivery_of_the_same_event_does_not_rerun_it(config, salesforce):
    opportunity = _win(salesforce, "northwind")
    (record,) = _deliver(config, opportunity, "e1").records
    SyncRecord = type(record)
    SyncRecord.objects.filter(pk=record.pk).update(
        status=RecordStatus.NEEDS_ATTENTION,
        attempts=1,
        finished_at=timezone.now(),
        error_category=ErrorCategory.REFERENTIAL,
        error_message="Item SF-FOOT-9000 does not exist.",
    )

    _deliver(config, opportunity, "e1")

    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION


def _new_account_deal(salesforce, name: str) -> str:
    org, ids = salesforce.org, salesforce.access.ids
    account = ids.get(f"account:{name}") or org.create(
        "Account",
        {
            "Name": "Contoso Labs",
            "Phone": "(206) 555-0199",
            "BillingStreet": "1 Microsoft Way",
            "BillingCity": "Redmond",
            "BillingState": "WA",
            "BillingPostalCode": "98052",
            "BillingCountry": "USA",
        },
    )
    ids[f"account:{name}"] = account
    opportunity = org.create(
        "Opportunity",
        {
            "AccountId": account,
            "Name": f"Contoso {len(ids)}",
            "StageName": "Closed Won",
            "CloseDate": "2026-12-01",
            "Pricebook2Id": ids["pricebook:standard"],
        },
    )
    org.create(
        "OpportunityLineItem",
        {
            "OpportunityId": opportunity,
            "PricebookEntryId": ids["entry:1001-HON-H252"],
            "Quantity": 1,
            "UnitPrice": 217.39,
        },
    )
    return opportunity


def test_two_deals_of_one_new_account_racing_create_one_customer(
    config, sage, salesforce, redis_conn
):
    from integrations.flows import registry
    from integrations.flows.base import Run
    from integrations.models import SyncAttempt

    # Without a reference UDF the agent cannot spot the repeat; the flow must.
    del config.options["customer_reference_column"]
    config.save()
    first = _new_account_deal(salesforce, "contoso")
    second = _new_account_deal(salesforce, "contoso")
    (late,) = _deliver(config, second, "e2").records
    # The second deal is read and checked first: no customer exists yet...
    flow = registry.get(late.flow)
    run = Run(
        record=late,
        flow_config=late.flow_config,
        attempt=SyncAttempt.objects.create(
            record=late, number=1, started_at=timezone.now()
        ),
        state={},
        save_state=lambda state: None,
    )
    document = flow.transform(run, flow.extract(run))
    flow.validate(run, document)
    assert run.state["resolved"]["customer"]["action"] == "create"
    # ...then the first deal creates the customer and succeeds.
    (early,) = _deliver(config, first, "e1").records
    assert _run(early).status == RecordStatus.SUCCEEDED

    flow.load(run, document)

    with sqlite3.connect(sage.db.path) as db:
        customers = db.execute(
            "SELECT CustomerNo FROM AR_Customer WHERE CustomerName = 'Contoso Labs'"
        ).fetchall()
    assert len(customers) == 1
    assert len(_orders(sage, first)) == len(_orders(sage, second)) == 1


def test_admin_field_mappings_copy_custom_fields_to_sage_udfs(
    config, sage, salesforce, redis_conn
):
    mappings = [
        ("Order_Priority__c", "header.UDF_PRIORITY", "value_map",
         {"map": {"High": "H", "Normal": "N", "Low": "L"}}),
        ("Requested_Ship_Date__c", "header.UDF_SHIP_BY", "date_format",
         {"format": "%m/%d/%Y"}),
        ("Id", "lines.UDF_SF_LINE_ID", "", {}),
        ("Type", "customer.UDF_SF_TYPE", "upper", {}),
    ]  # fmt: skip
    for position, (source, target, transform, args) in enumerate(mappings):
        FieldMapping.objects.create(
            flow_config=config,
            position=position,
            source_field=source,
            target_field=target,
            transform=transform,
            transform_args=args,
        )
    org, ids = salesforce.org, salesforce.access.ids
    org.update(
        "Opportunity",
        ids["opportunity:beacon"],
        {"Requested_Ship_Date__c": "2026-12-24"},
    )
    beacon = _win(salesforce, "beacon")  # Order_Priority__c: Normal
    (record,) = _deliver(config, beacon, "e1").records

    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (order,) = _orders(sage, beacon)
    assert (order["UDF_PRIORITY"], order["UDF_SHIP_BY"]) == ("N", "12/24/2026")
    line_ids = {row["Id"] for row in org.rows("OpportunityLineItem")}
    assert {line["UDF_SF_LINE_ID"] for line in order["lines"]} <= line_ids
    assert all(line["UDF_SF_LINE_ID"] for line in order["lines"])


def test_an_unmapped_picklist_value_is_a_validation_error_naming_the_field(
    config, sage, salesforce, redis_conn
):
    FieldMapping.objects.create(
        flow_config=config,
        source_field="Order_Priority__c",
        target_field="header.UDF_PRIORITY",
        transform="value_map",
        transform_args={"map": {"Normal": "N"}},
    )
    opportunity = _win(salesforce, "abf")  # Order_Priority__c: High
    (record,) = _deliver(config, opportunity, "e1").records

    record = _run(record)

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.VALIDATION
    assert record.error_field == "Order_Priority__c"
    assert "'High'" in record.error_message
    assert _orders(sage, opportunity) == []


def test_an_activated_order_becomes_one_sage_order_with_write_back(
    sage, salesforce, redis_conn
):
    settings, credentials = salesforce.connection("jwt")
    config = FlowConfigFactory(
        flow="salesforce_order_to_sage100",
        source_connection=ConnectionFactory(
            system=System.SALESFORCE, settings=settings, credentials=credentials
        ),
        target_connection=ConnectionFactory(
            system=System.SAGE100,
            settings=sage.connection_settings(),
            credentials=sage.credentials,
        ),
    )
    org, ids = salesforce.org, salesforce.access.ids
    order = org.create(
        "Order",
        {
            "AccountId": ids["account:delta"],
            "EffectiveDate": "2026-12-02",
            "Pricebook2Id": ids["pricebook:standard"],
        },
    )
    org.create(
        "OrderItem",
        {
            "OrderId": order,
            "PricebookEntryId": ids["entry:2001-STL-D150"],
            "Quantity": 2,
            "UnitPrice": 1250,
        },
    )
    org.update("Order", order, {"Status": "Activated"})
    body = {
        "sobject": "Order",
        "change_type": "UPDATE",
        "record_ids": [order],
        "fields": {"Status": "Activated"},
        "channel": "pubsub",
    }
    (record,) = inbox.accept(
        config.source_connection,
        body=json.dumps(body).encode(),
        headers={},
        provider_event_id="pubsub:order:1",
        topic="salesforce.order",
        signature_verified=True,
        parsed=body,
    ).records

    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (sage_order,) = _orders(sage, order)
    assert sage_order["CustomerNo"] == "DELTSCH"
    assert [
        (line["ItemCode"], line["QuantityOrdered"]) for line in sage_order["lines"]
    ] == [("2001-STL-D150", 2)]
    written = org.get("Order", order)
    assert written["Sage_Order_No__c"] == sage_order["SalesOrderNo"]
    assert written["Sage_Order_Status__c"] == "Open"


def _summit_deal(salesforce) -> str:
    org, ids = salesforce.org, salesforce.access.ids
    opportunity = org.create(
        "Opportunity",
        {
            "AccountId": ids["account:summit"],
            "Name": "Summit - desks",
            "StageName": "Closed Won",
            "CloseDate": "2026-12-01",
            "Pricebook2Id": ids["pricebook:standard"],
        },
    )
    org.create(
        "OpportunityLineItem",
        {
            "OpportunityId": opportunity,
            "PricebookEntryId": ids["entry:2001-STL-D150"],
            "Quantity": 1,
            "UnitPrice": 1299.02,
        },
    )
    return opportunity


@pytest.mark.parametrize(
    ("verdict", "customer"), [("same", "SUMMOFF"), ("different", "SF00001")]
)
def test_an_undecided_customer_waits_and_a_persons_verdict_settles_it(
    config, sage, salesforce, redis_conn, verdict, customer
):
    opportunity = _summit_deal(salesforce)  # same name, other city and phone
    (record,) = _deliver(config, opportunity, "e1").records

    record = _run(record)

    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert record.error_category == ErrorCategory.DUPLICATE
    assert "01-SUMMOFF" in record.error_message
    assert record.step_state["candidates"] == ["01-SUMMOFF"]

    MatchDecision.objects.create(
        kind="customer",
        source_connection=config.source_connection,
        target_connection=config.target_connection,
        source_value=salesforce.access.ids["account:summit"],
        target_value="01-SUMMOFF",
        verdict=verdict,
    )
    records.resubmit(record, actor=None)
    record = _run(record)

    assert record.status == RecordStatus.SUCCEEDED, record.error_message
    (order,) = _orders(sage, opportunity)
    assert order["CustomerNo"] == customer
