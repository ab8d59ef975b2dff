"""Syntax of the simulator's SOQL: what parses to what, and what Salesforce refuses."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from integrations.sandbox.salesforce.soql_parser import (
    And,
    Comparison,
    CountCall,
    DateRange,
    FieldPath,
    FieldsCall,
    InList,
    Not,
    Or,
    SemiJoin,
    SoqlError,
    SubQuery,
    parse,
)


def _where_value(text: str):
    return parse(f"SELECT Id FROM Account WHERE Name = {text}").where.value


def test_select_list_keeps_fields_paths_subqueries_and_count_in_order():
    query = parse(
        "select Id, Account.Owner.Name, (SELECT Id FROM Contacts LIMIT 2), "
        "FIELDS(standard) from Opportunity"
    )

    id_field, path, subquery, fields = query.select
    assert isinstance(id_field, FieldPath) and id_field.parts == ("Id",)
    assert path.parts == ("Account", "Owner", "Name")
    assert isinstance(subquery, SubQuery)
    assert subquery.query.sobject == "Contacts"
    assert subquery.query.limit == 2
    assert isinstance(fields, FieldsCall) and fields.which == "STANDARD"
    assert query.sobject == "Opportunity"
    assert isinstance(parse("SELECT COUNT() FROM Account").select[0], CountCall)


def test_order_by_defaults_nulls_first_ascending_and_last_descending():
    query = parse(
        "SELECT Id FROM Account ORDER BY Name, Industry DESC, "
        "BillingCity ASC NULLS LAST LIMIT 10 OFFSET 5"
    )

    orders = [(o.path.parts[0], o.descending, o.nulls_last) for o in query.order_by]
    assert orders == [
        ("Name", False, False),
        ("Industry", True, True),
        ("BillingCity", False, True),
    ]
    assert (query.limit, query.offset) == (10, 5)


def test_where_builds_and_or_not_in_and_semi_join_nodes():
    query = parse(
        "SELECT Id FROM Account WHERE (Name LIKE 'A%' OR Industry IN ('Retail')) "
        "AND NOT BillingCity NOT IN ('Boston', null) "
        "AND Id IN (SELECT AccountId FROM Opportunity WHERE IsWon = true)"
    )

    assert isinstance(query.where, And)
    either, negated, semi = query.where.parts
    assert isinstance(either, Or)
    assert isinstance(either.parts[0], Comparison) and either.parts[0].op == "LIKE"
    assert isinstance(either.parts[1], InList) and either.parts[1].op == "IN"
    assert isinstance(negated, Not) and negated.part.op == "NOT IN"
    assert isinstance(semi, SemiJoin) and semi.query.sobject == "Opportunity"


def test_mixing_and_with_or_needs_parentheses():
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id FROM Contact WHERE Name = 'a' AND Email = 'b' OR Phone = 'c'")

    assert caught.value.error_code == "MALFORMED_QUERY"
    assert caught.value.message.endswith("unexpected token: 'OR'")


def test_not_equal_spelled_either_way_means_the_same():
    first = parse("SELECT Id FROM Account WHERE Name != 'x'").where
    second = parse("SELECT Id FROM Account WHERE Name <> 'x'").where
    assert first.op == second.op == "!="


def test_string_escapes_are_decoded():
    assert _where_value(r"'O\'Brien \\ \"Co\"\nline'").value == 'O\'Brien \\ "Co"\nline'
    assert _where_value(r"'TAB\Tend'").value == "TAB\tend"


@pytest.mark.parametrize("escape", [r"\q", r"\u00e9"])
def test_unknown_escape_is_refused(escape):
    with pytest.raises(SoqlError) as caught:
        parse(f"SELECT Id FROM Account WHERE Name = 'a{escape}b'")

    assert caught.value.error_code == "MALFORMED_QUERY"
    assert f"Illegal character sequence '{escape[:2]}'" in caught.value.message


def test_unterminated_string_is_refused():
    with pytest.raises(SoqlError, match="MALFORMED_QUERY"):
        parse("SELECT Id FROM Account WHERE Name = 'abc")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-02T10:00:00Z", datetime(2026, 12, 2, 10, tzinfo=UTC)),
        (
            "2026-12-02T10:00:00+01:00",
            datetime(2026, 12, 2, 10, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("2026-12-02T10:00:00.000+0000", datetime(2026, 12, 2, 10, tzinfo=UTC)),
        (
            "2026-12-02T10:00:00-08:00",
            datetime(2026, 12, 2, 18, tzinfo=UTC),
        ),
    ],
)
def test_datetime_literals_keep_their_offset(text, expected):
    value = _where_value(text)
    assert value.kind == "datetime"
    assert value.value == expected


def test_date_literal_and_relative_date_literals():
    assert _where_value("2026-12-02").value == date(2026, 12, 2)
    assert _where_value("this_month") == DateRange("THIS_MONTH", None, 36)
    relative = _where_value("LAST_N_DAYS:30")
    assert (relative.name, relative.n) == ("LAST_N_DAYS", 30)


def test_numbers_booleans_and_null_literals():
    assert _where_value("-12.5").value == -12.5
    assert _where_value("42").value == 42
    assert _where_value("TRUE").value is True
    assert _where_value("Null").kind == "null"


def test_error_points_at_the_row_and_column_of_the_bad_token():
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id\nFROM Account\nWHERE")

    assert caught.value.message == (
        "\nWHERE\n     ^\nERROR at Row:3:Column:6\nunexpected token: '<EOF>'"
    )


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM Account",
        "SELECT Id Account",
        "SELECT Id FROM Account WHERE",
        "SELECT Id FROM Account LIMIT -1",
        "SELECT Id FROM Account ORDER Name",
        "SELECT Id FROM Account WHERE Name = 'a' extra",
        "SELECT Id, (SELECT Id, (SELECT Id FROM Contacts) FROM Contacts) FROM Account",
        "SELECT Id FROM Account WHERE Name INCLUDES (SELECT Id FROM Account)",
        "SELECT Id FROM Account WHERE Name = 'a' ORDER BY Name NULLS",
        "SELECT Id FROM Account WHERE Name = @x",
        "SELECT Id FROM Account WHERE CreatedDate > 2026-12-02T10:00:00",
        "SELECT Id FROM Account USING SCOPE Mine",
    ],
)
def test_malformed_queries_are_refused(text):
    with pytest.raises(SoqlError) as caught:
        parse(text)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "unexpected token" in caught.value.message


def test_aggregate_functions_other_than_count_are_refused_in_plain_words():
    with pytest.raises(SoqlError) as caught:
        parse("SELECT COUNT(Id) FROM Account")
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "only COUNT() is answered" in caught.value.message


def test_alias_after_object_name_is_kept():
    query = parse("SELECT a.Name FROM Account a WHERE a.Name = 'x'")
    assert query.alias == "a"
    assert query.where.path.parts == ("a", "Name")
