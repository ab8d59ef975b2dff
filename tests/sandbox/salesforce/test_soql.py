"""Answering SOQL against an org: results, shapes, date literals, types and errors.

The org here is a small in-memory stand-in with the same lookup interface as the
simulator's ``SalesforceOrg`` so these tests need neither a server nor a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from integrations.sandbox.salesforce.soql import CountResult, SoqlError, run_query

TODAY = date(2026, 12, 2)  # a Wednesday; the week runs Sun 29 Nov - Sat 5 Dec


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    length: int = 0
    picklist: tuple[str, ...] = ()


@dataclass(frozen=True)
class Child:
    child_sobject: str
    field: str
    relationship_name: str


@dataclass
class SObject:
    name: str
    fields: list[Field]
    children: list[Child] = field(default_factory=list)
    queryable: bool = True

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name.lower() == name.lower()), None)

    def child_relationship(self, name: str) -> tuple[str, str] | None:
        for child in self.children:
            if child.relationship_name.lower() == name.lower():
                return child.child_sobject, child.field
        return None

    def parent_relationship(self, name: str) -> Field | None:
        for meta in self.fields:
            if (meta.relationship_name or "").lower() == name.lower():
                return meta
        return None


def _ref(name: str, target: str, relationship: str) -> Field:
    return Field(name, "reference", (target,), relationship)


def _base(*fields: Field) -> list[Field]:
    return [Field("Id", "id"), Field("IsDeleted", "boolean"), *fields]


STAGES = ("Prospecting", "Negotiation/Review", "Closed Won", "Closed Lost")

SCHEMA = [
    SObject(
        "Account",
        _base(
            Field("Name", "string"),
            Field("Industry", "picklist"),
            Field("BillingCity", "string"),
            Field("AnnualRevenue", "currency"),
            Field("CreatedDate", "datetime"),
            Field("Description", "textarea", length=32000),
            Field("Regions__c", "multipicklist"),
            Field("ExternalID__c", "string"),
        ),
        [
            Child("Contact", "AccountId", "Contacts"),
            Child("Opportunity", "AccountId", "Opportunities"),
        ],
    ),
    SObject(
        "Contact",
        _base(
            Field("FirstName", "string"),
            Field("LastName", "string"),
            Field("Email", "email"),
            _ref("AccountId", "Account", "Account"),
        ),
    ),
    SObject(
        "Opportunity",
        _base(
            Field("Name", "string"),
            _ref("AccountId", "Account", "Account"),
            Field("StageName", "picklist", picklist=STAGES),
            Field("Amount", "currency"),
            Field("CloseDate", "date"),
            Field("IsWon", "boolean"),
        ),
        [Child("OpportunityLineItem", "OpportunityId", "OpportunityLineItems")],
    ),
    SObject(
        "OpportunityLineItem",
        _base(
            _ref("OpportunityId", "Opportunity", "Opportunity"),
            _ref("Product2Id", "Product2", "Product2"),
            Field("Quantity", "double"),
            Field("UnitPrice", "currency"),
        ),
    ),
    SObject(
        "Product2",
        _base(Field("Name", "string"), Field("ProductCode", "string")),
        [Child("Inventory_Level__c", "Product__c", "Inventory_Levels__r")],
    ),
    SObject(
        "Inventory_Level__c",
        _base(
            Field("Name", "string"),
            _ref("Product__c", "Product2", "Product__r"),
            Field("Quantity__c", "double"),
        ),
    ),
    SObject("AccountHistory", _base(), queryable=False),
]


def rid(prefix: str, n: int) -> str:
    return f"{prefix}{n:012d}AAA"


A1, A2, A3, A4 = (rid("001", n) for n in (1, 2, 3, 4))
O1, O2, O3, O4, O5 = (rid("006", n) for n in (1, 2, 3, 4, 5))
P1, P2 = rid("01t", 1), rid("01t", 2)

RECORDS = {
    "Account": [
        {
            "Id": A1,
            "Name": "Acme Corp",
            "Industry": "Manufacturing",
            "BillingCity": "Boston",
            "AnnualRevenue": 5000000.0,
            "CreatedDate": "2026-11-01T09:00:00.000+0000",
            "Regions__c": "EMEA;AMER",
            "ExternalID__c": "ACME-1",
        },
        {
            "Id": A2,
            "Name": "Globex",
            "Industry": None,
            "BillingCity": "Springfield",
            "AnnualRevenue": None,
            "CreatedDate": "2026-12-02T08:30:00.000+0000",
            "Regions__c": "AMER",
            "ExternalID__c": "GLX_2",
        },
        {
            "Id": A3,
            "Name": "O'Brien & Sons",
            "Industry": "Retail",
            "BillingCity": "Dublin",
            "AnnualRevenue": 250000.0,
            "CreatedDate": "2025-06-15T12:00:00.000+0000",
            "Regions__c": None,
            "ExternalID__c": "OBS-3",
        },
        {
            "Id": A4,
            "IsDeleted": True,
            "Name": "Defunct Ltd",
            "CreatedDate": "2024-01-01T00:00:00.000+0000",
        },
    ],
    "Contact": [
        {
            "Id": rid("003", 1),
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "AccountId": A1,
        },
        {
            "Id": rid("003", 2),
            "FirstName": "Grace",
            "LastName": "Hopper",
            "AccountId": A1,
        },
        {
            "Id": rid("003", 3),
            "FirstName": "Hank",
            "LastName": "Scorpio",
            "AccountId": A2,
        },
        {
            "Id": rid("003", 4),
            "FirstName": "Lost",
            "LastName": "Soul",
            "AccountId": A4,
        },
    ],
    "Opportunity": [
        {
            "Id": O1,
            "Name": "Acme - Widgets",
            "AccountId": A1,
            "StageName": "Closed Won",
            "Amount": 12000.5,
            "CloseDate": "2026-12-01",
            "IsWon": True,
        },
        {
            "Id": O2,
            "Name": "Acme - Gears",
            "AccountId": A1,
            "StageName": "Prospecting",
            "Amount": None,
            "CloseDate": "2026-12-20",
            "IsWon": False,
        },
        {
            "Id": O3,
            "Name": "Globex - Lasers",
            "AccountId": A2,
            "StageName": "Negotiation/Review",
            "Amount": 500000,
            "CloseDate": "2026-11-15",
            "IsWon": False,
        },
        {
            "Id": O4,
            "Name": "Orphan deal",
            "AccountId": None,
            "StageName": "Closed Lost",
            "Amount": 10,
            "CloseDate": "2025-12-31",
            "IsWon": False,
        },
        {
            "Id": O5,
            "IsDeleted": True,
            "Name": "Acme - Deleted",
            "AccountId": A3,
            "StageName": "Closed Won",
            "Amount": 1,
            "CloseDate": "2026-12-02",
            "IsWon": True,
        },
    ],
    "OpportunityLineItem": [
        {
            "Id": rid("00k", 1),
            "OpportunityId": O1,
            "Product2Id": P1,
            "Quantity": 10.0,
            "UnitPrice": 1000.0,
        },
        {
            "Id": rid("00k", 2),
            "OpportunityId": O1,
            "Product2Id": P2,
            "Quantity": 5.0,
            "UnitPrice": 400.1,
        },
        {
            "Id": rid("00k", 3),
            "OpportunityId": O3,
            "Product2Id": P1,
            "Quantity": 1.0,
            "UnitPrice": 500000.0,
        },
    ],
    "Product2": [
        {"Id": P1, "Name": "Widget", "ProductCode": "W-1"},
        {"Id": P2, "Name": "Gear", "ProductCode": "G-2"},
    ],
    "Inventory_Level__c": [
        {
            "Id": rid("a01", 1),
            "Name": "Boston warehouse",
            "Product__c": P1,
            "Quantity__c": 40.0,
        },
    ],
    "AccountHistory": [],
}


class FakeOrg:
    """Rows in insertion order; lookups ignore case like the simulated org's."""

    def __init__(self) -> None:
        self.objects = {meta.name.lower(): meta for meta in SCHEMA}
        self.records = {
            name: [
                {f.name: None for f in self.objects[name.lower()].fields}
                | {"IsDeleted": False}
                | row
                for row in rows
            ]
            for name, rows in RECORDS.items()
        }

    def sobject(self, name: str) -> SObject | None:
        return self.objects.get(name.lower())

    def rows(self, sobject_name: str, *, include_deleted: bool):
        name = self.objects[sobject_name.lower()].name
        return [r for r in self.records[name] if include_deleted or not r["IsDeleted"]]

    def get(self, sobject_name: str, record_id: str) -> dict | None:
        name = self.objects[sobject_name.lower()].name
        return next((r for r in self.records[name] if r["Id"] == record_id), None)

    def record_url(self, sobject_name: str, record_id: str, version: str) -> str:
        return f"/services/data/v{version}/sobjects/{sobject_name}/{record_id}"


@pytest.fixture
def org() -> FakeOrg:
    return FakeOrg()


@pytest.fixture
def query(org):
    def run(text: str, **options):
        options.setdefault("today", TODAY)
        return run_query(text, org, **options)

    return run


@pytest.fixture
def refused(query):
    def run(text: str, **options) -> SoqlError:
        with pytest.raises(SoqlError) as caught:
            query(text, **options)
        return caught.value

    return run


def names(records: list[dict]) -> list[str]:
    return [record["Name"] for record in records]


# ------------------------------------------------------------------ shapes


def test_records_carry_attributes_and_canonical_field_names_in_select_order(query):
    records = query("select name, ID, externalid__C from ACCOUNT where name = 'globex'")

    assert records == [
        {
            "attributes": {
                "type": "Account",
                "url": f"/services/data/v62.0/sobjects/Account/{A2}",
            },
            "Name": "Globex",
            "Id": A2,
            "ExternalID__c": "GLX_2",
        }
    ]
    assert list(records[0]) == ["attributes", "Name", "Id", "ExternalID__c"]


def test_parent_fields_nest_under_the_relationship_name(query):
    records = query(
        "SELECT Name, account.Name, Account.BillingCity FROM Opportunity "
        "WHERE Name LIKE 'Acme%' ORDER BY Name"
    )

    assert records[0]["Account"] == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v62.0/sobjects/Account/{A1}",
        },
        "Name": "Acme Corp",
        "BillingCity": "Boston",
    }
    assert list(records[0]) == ["attributes", "Name", "Account"]


def test_null_reference_gives_none_for_the_whole_parent(query):
    [record] = query(
        "SELECT Name, Account.Name FROM Opportunity WHERE Name = 'Orphan deal'"
    )

    assert record["Account"] is None


def test_two_level_parent_path_and_custom_relationship(query):
    lines = query(
        "SELECT Opportunity.Account.Name, Product2.Name FROM OpportunityLineItem "
        "ORDER BY UnitPrice DESC"
    )
    levels = query("SELECT Name, Product__r.ProductCode FROM Inventory_Level__c")

    assert lines[0]["Opportunity"]["Account"]["Name"] == "Globex"
    assert lines[0]["Opportunity"]["attributes"]["type"] == "Opportunity"
    assert lines[0]["Product2"]["Name"] == "Widget"
    assert levels[0]["Product__r"]["ProductCode"] == "W-1"


def test_child_subquery_shape_and_none_without_children(query):
    records = query(
        "SELECT Name, (SELECT LastName FROM contacts ORDER BY LastName) "
        "FROM Account ORDER BY Name"
    )

    by_name = {record["Name"]: record for record in records}
    acme = by_name["Acme Corp"]["Contacts"]
    assert acme["totalSize"] == 2
    assert acme["done"] is True
    assert [c["LastName"] for c in acme["records"]] == ["Hopper", "Lovelace"]
    assert acme["records"][0]["attributes"]["type"] == "Contact"
    assert by_name["O'Brien & Sons"]["Contacts"] is None


def test_child_subquery_filters_limits_and_reaches_parents(query):
    [won] = query(
        "SELECT Name, (SELECT Quantity, Product2.Name FROM OpportunityLineItems "
        "WHERE Quantity > 1 ORDER BY Quantity LIMIT 1) FROM Opportunity "
        "WHERE Name = 'Acme - Widgets'"
    )

    items = won["OpportunityLineItems"]
    assert items["totalSize"] == 1
    assert items["records"][0]["Quantity"] == 5.0
    assert items["records"][0]["Product2"]["Name"] == "Gear"


def test_custom_child_relationship(query):
    [widget] = query(
        "SELECT Name, (SELECT Quantity__c FROM Inventory_Levels__r) FROM Product2 "
        "WHERE ProductCode = 'W-1'"
    )
    assert widget["Inventory_Levels__r"]["records"][0]["Quantity__c"] == 40.0


def test_object_name_and_alias_prefixes_are_accepted(query):
    assert names(
        query("SELECT Account.Name FROM Account WHERE Account.Name = 'Globex'")
    )
    records = query("SELECT a.Name FROM Account a WHERE a.BillingCity = 'Dublin'")
    assert names(records) == ["O'Brien & Sons"]


def test_fields_function_expands_in_describe_order(query, refused):
    [record] = query("SELECT FIELDS(STANDARD) FROM Product2 WHERE Name = 'Gear'")
    custom = query("SELECT FIELDS(CUSTOM) FROM Account LIMIT 1")

    assert list(record)[1:] == ["Id", "IsDeleted", "Name", "ProductCode"]
    assert list(custom[0])[1:] == ["Regions__c", "ExternalID__c"]
    error = refused("SELECT FIELDS(ALL) FROM Account")
    assert error.error_code == "MALFORMED_QUERY"
    assert "must have a LIMIT of at most 200" in error.message


# ------------------------------------------------------------------ deleted rows


def test_deleted_rows_are_left_out_unless_query_all(query):
    assert "Defunct Ltd" not in names(query("SELECT Name FROM Account"))
    everything = query("SELECT Name, IsDeleted FROM Account", include_deleted=True)
    assert {"Name": "Defunct Ltd", "IsDeleted": True}.items() <= everything[-1].items()


def test_deleted_parent_still_resolves(query):
    [soul] = query("SELECT Account.Name FROM Contact WHERE LastName = 'Soul'")
    assert soul["Account"]["Name"] == "Defunct Ltd"


def test_rows_come_back_in_insertion_order_without_order_by(query):
    assert names(query("SELECT Name FROM Opportunity")) == [
        "Acme - Widgets",
        "Acme - Gears",
        "Globex - Lasers",
        "Orphan deal",
    ]


# ------------------------------------------------------------------ filters


def test_string_equality_ignores_case(query):
    assert names(query("SELECT Name FROM Account WHERE Name = 'ACME CORP'")) == [
        "Acme Corp"
    ]


def test_not_equal_matches_nulls_like_salesforce(query):
    found = names(query("SELECT Name FROM Account WHERE Industry != 'Retail'"))
    assert found == ["Acme Corp", "Globex"]


def test_null_comparisons(query, refused):
    assert names(query("SELECT Name FROM Account WHERE Industry = null")) == ["Globex"]
    assert len(query("SELECT Name FROM Account WHERE Industry != NULL")) == 2
    error = refused("SELECT Name FROM Opportunity WHERE Amount > null")
    assert error.error_code == "MALFORMED_QUERY"
    assert "field 'Amount'" in error.message


def test_like_wildcards_and_escaped_underscore(query):
    assert names(query("SELECT Name FROM Account WHERE Name LIKE '%corp'")) == [
        "Acme Corp"
    ]
    assert names(query("SELECT Name FROM Account WHERE Name LIKE 'gl_bex'")) == [
        "Globex"
    ]
    escaped = query(r"SELECT Name FROM Account WHERE ExternalID__c LIKE '%\_%'")
    assert names(escaped) == ["Globex"]


def test_quote_escape_in_filter_value(query):
    records = query(r"SELECT Name FROM Account WHERE Name = 'O\'Brien & Sons'")
    assert names(records) == ["O'Brien & Sons"]


def test_in_and_not_in_lists(query):
    found = query("SELECT Name FROM Account WHERE BillingCity IN ('boston', 'Dublin')")
    assert names(found) == ["Acme Corp", "O'Brien & Sons"]
    rest = query("SELECT Name FROM Account WHERE Industry NOT IN ('Retail', null)")
    assert names(rest) == ["Acme Corp"]


def test_and_or_not_with_parentheses(query):
    found = query(
        "SELECT Name FROM Opportunity WHERE (StageName = 'Closed Won' OR Amount > 1000)"
        " AND NOT (Name LIKE 'Globex%')"
    )
    assert names(found) == ["Acme - Widgets"]


def test_numbers_and_booleans(query):
    assert names(query("SELECT Name FROM Opportunity WHERE Amount >= 12000.5")) == [
        "Acme - Widgets",
        "Globex - Lasers",
    ]
    assert names(query("SELECT Name FROM Opportunity WHERE IsWon = TRUE")) == [
        "Acme - Widgets"
    ]


def test_filter_through_parent_relationship(query):
    found = query("SELECT Name FROM Opportunity WHERE Account.BillingCity = 'Boston'")
    assert names(found) == ["Acme - Widgets", "Acme - Gears"]


def test_id_comparison_accepts_fifteen_character_ids(query):
    assert names(query(f"SELECT Name FROM Account WHERE Id = '{A3[:15]}'")) == [
        "O'Brien & Sons"
    ]


def test_semi_join_and_anti_join(query):
    with_won = query(
        "SELECT Name FROM Account WHERE Id IN "
        "(SELECT AccountId FROM Opportunity WHERE IsWon = true)"
    )
    without = query(
        "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Opportunity)"
    )
    assert names(with_won) == ["Acme Corp"]  # the won deal on O'Brien is deleted
    assert names(without) == ["O'Brien & Sons"]


def test_includes_and_excludes_on_multi_select_picklist(query):
    both = query("SELECT Name FROM Account WHERE Regions__c INCLUDES ('amer;emea')")
    either = query(
        "SELECT Name FROM Account WHERE Regions__c INCLUDES ('EMEA', 'AMER')"
    )
    neither = query("SELECT Name FROM Account WHERE Regions__c EXCLUDES ('EMEA')")
    assert names(both) == ["Acme Corp"]
    assert names(either) == ["Acme Corp", "Globex"]
    assert names(neither) == ["Globex", "O'Brien & Sons"]


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CloseDate = THIS_MONTH", ["Acme - Widgets", "Acme - Gears"]),
        ("CloseDate = LAST_MONTH", ["Globex - Lasers"]),
        ("CloseDate > LAST_MONTH", ["Acme - Widgets", "Acme - Gears"]),
        ("CloseDate < THIS_MONTH", ["Globex - Lasers", "Orphan deal"]),
        ("CloseDate = YESTERDAY", ["Acme - Widgets"]),
        ("CloseDate = THIS_WEEK", ["Acme - Widgets"]),
        ("CloseDate = NEXT_N_DAYS:18", ["Acme - Gears"]),
        ("CloseDate = LAST_N_DAYS:17", ["Acme - Widgets", "Globex - Lasers"]),
        ("CloseDate = LAST_YEAR", ["Orphan deal"]),
        (
            "CloseDate = THIS_QUARTER",
            ["Acme - Widgets", "Acme - Gears", "Globex - Lasers"],
        ),
        ("CloseDate >= 2026-12-01", ["Acme - Widgets", "Acme - Gears"]),
    ],
)
def test_date_literals_relative_to_today(query, condition, expected):
    assert names(query(f"SELECT Name FROM Opportunity WHERE {condition}")) == expected


def test_datetime_against_date_range_and_instants_with_offsets(query):
    assert names(query("SELECT Name FROM Account WHERE CreatedDate = TODAY")) == [
        "Globex"
    ]
    # 09:00+01:00 is 08:00Z, before Globex's 08:30Z
    after = query(
        "SELECT Name FROM Account WHERE CreatedDate > 2026-12-02T09:00:00+01:00"
    )
    assert names(after) == ["Globex"]
    same = query("SELECT Name FROM Account WHERE CreatedDate = 2026-12-02T08:30:00Z")
    assert names(same) == ["Globex"]
    assert not query(
        "SELECT Name FROM Account WHERE CreatedDate > 2026-12-02T08:30:00.000+0000"
    )


# ------------------------------------------------------------------ type errors


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            "CloseDate = '2026-12-01'",
            "value of filter criterion for field 'CloseDate' must be of type date "
            "and should not be enclosed in quotes",
        ),
        (
            "CloseDate = 2026-12-01T00:00:00Z",
            "field 'CloseDate' must be of type date",
        ),
        (
            "Account.CreatedDate > 2026-12-01",
            "value of filter criterion for field 'CreatedDate' must be of type "
            "dateTime and should not be enclosed in quotes",
        ),
        (
            "Name = 5",
            "value of filter criterion for field 'Name' must be of type string and "
            "should be enclosed in quotes",
        ),
        ("Name = TODAY", "must be of type string"),
        ("Amount = '5'", "field 'Amount' must be of type currency"),
        ("IsWon = 'true'", "field 'IsWon' must be of type boolean"),
    ],
)
def test_filter_values_must_match_the_field_type(refused, condition, message):
    error = refused(f"SELECT Id FROM Opportunity WHERE {condition}")
    assert error.error_code == "INVALID_FIELD"
    assert message in error.message


def test_malformed_id_is_refused(refused):
    error = refused("SELECT Id FROM Account WHERE Id = 'nope'")
    assert error.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert error.message.endswith("invalid ID field: nope")


def test_like_on_a_number_is_refused(refused):
    error = refused("SELECT Id FROM Opportunity WHERE Amount LIKE '1%'")
    assert error.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert "'Amount'" in error.message


def test_long_text_area_can_not_be_filtered_or_sorted(refused):
    filtered = refused("SELECT Id FROM Account WHERE Description = 'x'")
    sorted_ = refused("SELECT Id FROM Account ORDER BY Description")
    assert filtered.error_code == sorted_.error_code == "INVALID_FIELD"
    assert "field 'Description' can not be filtered" in filtered.message
    assert "field 'Description' can not be sorted" in sorted_.message


# ------------------------------------------------------------------ name errors


def test_unknown_object(refused):
    error = refused("SELECT Id FROM Acount")
    assert error.error_code == "INVALID_TYPE"
    assert error.message.startswith(
        "\nSELECT Id FROM Acount\n               ^\nERROR at Row:1:Column:16\n"
    )
    assert "sObject type 'Acount' is not supported." in error.message


def test_object_that_can_not_be_queried(refused):
    error = refused("SELECT Id FROM AccountHistory")
    assert error.error_code == "INVALID_TYPE"
    assert "does not support query" in error.message


def test_unknown_field_names_field_and_entity(refused):
    error = refused("SELECT Id, Foo FROM Account")
    assert error.error_code == "INVALID_FIELD"
    assert "ERROR at Row:1:Column:12" in error.message
    assert (
        "No such column 'Foo' on entity 'Account'. If you are attempting to use a "
        "custom field, be sure to append the '__c' after the custom field name."
    ) in error.message


def test_unknown_field_on_parent_names_the_parent_entity(refused):
    error = refused("SELECT Account.Nmae FROM Contact")
    assert "No such column 'Nmae' on entity 'Account'" in error.message


def test_custom_relationship_without_r_suffix_is_not_understood(refused):
    error = refused("SELECT Product__c.Name FROM Inventory_Level__c")
    assert error.error_code == "INVALID_FIELD"
    assert "Didn't understand relationship 'Product__c' in field path" in error.message


def test_unknown_child_relationship(refused):
    error = refused("SELECT Id, (SELECT Id FROM Contact) FROM Account")
    assert error.error_code == "INVALID_TYPE"
    assert (
        "Didn't understand relationship 'Contact' in FROM part of query call"
        in error.message
    )


def test_unknown_field_in_where_and_order_by(refused):
    assert refused("SELECT Id FROM Account WHERE Nme = 'x'").error_code == (
        "INVALID_FIELD"
    )
    assert refused("SELECT Id FROM Account ORDER BY Nme").error_code == "INVALID_FIELD"


def test_duplicate_field_is_refused(refused):
    error = refused("SELECT Name, NAME FROM Account")
    assert error.error_code == "MALFORMED_QUERY"
    assert "duplicate field selected: Name" in error.message


# ------------------------------------------------------------------ order and paging


def test_ascending_puts_nulls_first_and_descending_puts_them_last(query):
    ascending = query("SELECT Name FROM Opportunity ORDER BY Amount")
    descending = query("SELECT Name FROM Opportunity ORDER BY Amount DESC")
    overridden = query("SELECT Name FROM Opportunity ORDER BY Amount ASC NULLS LAST")

    assert names(ascending)[0] == "Acme - Gears"
    assert names(descending)[-1] == "Acme - Gears"
    assert names(descending)[0] == "Globex - Lasers"
    assert names(overridden) == [
        "Orphan deal",
        "Acme - Widgets",
        "Globex - Lasers",
        "Acme - Gears",
    ]


def test_order_by_several_keys_and_parent_field(query):
    found = query(
        "SELECT Name FROM Opportunity ORDER BY Account.Name DESC NULLS LAST, Name"
    )
    assert names(found) == [
        "Globex - Lasers",
        "Acme - Gears",
        "Acme - Widgets",
        "Orphan deal",
    ]


def test_strings_sort_ignoring_case_and_picklists_in_value_order(query, org):
    org.records["Account"][1]["Name"] = "globex"
    assert names(query("SELECT Name FROM Account ORDER BY Name")) == [
        "Acme Corp",
        "globex",
        "O'Brien & Sons",
    ]
    by_stage = query("SELECT StageName FROM Opportunity ORDER BY StageName")
    assert [r["StageName"] for r in by_stage] == list(STAGES)


def test_limit_and_offset(query, refused):
    page = query("SELECT Name FROM Opportunity ORDER BY Name LIMIT 2 OFFSET 1")
    assert names(page) == ["Acme - Widgets", "Globex - Lasers"]
    assert query("SELECT Name FROM Opportunity LIMIT 0") == []
    error = refused("SELECT Name FROM Opportunity OFFSET 2001")
    assert error.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert error.message.endswith("Maximum SOQL offset allowed is 2000")


# ------------------------------------------------------------------ COUNT()


def test_count_returns_a_count_result(query):
    assert query("SELECT COUNT() FROM Opportunity") == CountResult(4)
    assert query("select count() from Opportunity where IsWon = false") == CountResult(
        3
    )
    assert query("SELECT COUNT() FROM Opportunity", include_deleted=True).count == 5


def test_count_must_stand_alone(refused):
    error = refused("SELECT Id, COUNT() FROM Opportunity")
    assert error.error_code == "MALFORMED_QUERY"


def test_empty_string_filters_like_null_on_text_but_not_on_dates(query, refused):
    assert names(query("SELECT Name FROM Account WHERE Industry = ''")) == ["Globex"]
    assert len(query("SELECT Name FROM Account WHERE Industry != ''")) == 2
    error = refused("SELECT Id FROM Opportunity WHERE CloseDate = ''")
    assert "field 'CloseDate' must be of type date" in error.message
