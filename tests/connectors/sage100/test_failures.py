"""How Sage 100 failing looks to a caller: the taxonomy, never a pyodbc error."""

import sqlite3

import pytest

from integrations.engine.errors import Unavailable, ValidationFailed


def test_the_driver_refuses_an_insert_as_read_only(reader):
    # The reader has no write method; its connection itself refuses writes too.
    with (
        pytest.raises(ValidationFailed, match="read only"),
        reader.odbc._cursor("writing AR_Customer") as cursor,
    ):
        cursor.execute(
            "INSERT INTO AR_Customer (ARDivisionNo, CustomerNo) VALUES ('01','X')"
        )
    assert reader.customer("01", "X") is None


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO AR_Customer (ARDivisionNo, CustomerNo) VALUES ('01','X')",
        "DELETE FROM AR_Customer",
        "  update AR_Customer SET CreditHold = 'N'",
    ],
)
def test_select_refuses_anything_but_a_select(odbc, sql):
    with pytest.raises(ValueError, match="only runs SELECT"):
        odbc.select("AR_Customer", sql)


def test_server_down_is_unavailable(reader, company):
    company.path.rename(company.path.with_suffix(".away"))

    with pytest.raises(Unavailable) as caught:
        reader.customer("01", "ABF")
    assert caught.value.retryable
    assert "Cannot reach Sage 100" in caught.value.message
    # Plain words for people; the driver's codes stay in the detail.
    assert "[HY000]" not in caught.value.message
    assert "[HY000]" in caught.value.detail


def test_a_file_locked_beyond_the_timeout_is_unavailable_and_retryable(reader, company):
    reader.customer("01", "ABF")  # columns cached: the next call is one SELECT
    holder = sqlite3.connect(company.path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # as a Sage user mid-update would
        with pytest.raises(Unavailable) as caught:
            reader.customer("01", "ABF")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert caught.value.retryable
    assert caught.value.retry_after == 5
    assert "locked" in caught.value.message
    assert reader.customer("01", "ABF") is not None  # released: readable again


def test_a_failure_is_logged_with_its_category(reader, company, calls):
    company.path.rename(company.path.with_suffix(".away"))

    with pytest.raises(Unavailable):
        reader.item("1001-HON-H252")
    assert calls[-1][:4] == ("sage100", "SELECT", "odbc:CI_Item", "Unavailable")


def test_a_query_on_a_column_sage_no_longer_has_is_a_validation_error(reader):
    with pytest.raises(ValidationFailed, match="could not run the query"):
        reader.select("AR_Customer", "SELECT UDF_GONE FROM AR_Customer")


def test_two_statements_in_one_query_are_refused_not_retried(reader):
    with pytest.raises(ValidationFailed, match="could not run the query"):
        reader.select("AR_Customer", "SELECT CustomerNo FROM AR_Customer; SELECT 1")


def test_a_refused_odbc_login_parks_the_connection_for_an_admin():
    import pyodbc

    from integrations.connectors.sage100.errors import from_odbc
    from integrations.engine.errors import AuthRevoked

    refused = pyodbc.Error(
        "28000", "[28000] [ProvideX][ODBC Driver]Invalid user ID or password"
    )

    error = from_odbc(refused, doing="connecting")

    assert isinstance(error, AuthRevoked)
    assert "Invalid user ID or password" in error.message
    assert "[28000]" not in error.message


def test_a_driver_that_is_not_installed_names_the_setting():
    from integrations.connectors.sage100.odbc import OdbcReader

    reader = OdbcReader("Driver={No Such Sage Driver};Database=x")

    with pytest.raises(ValidationFailed) as caught:
        reader.ping()
    assert caught.value.field == "settings.odbc"
