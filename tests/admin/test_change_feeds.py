"""Change feeds in the admin: what is watched, and the Poll now / Resync buttons."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from integrations.models import ChangeFeed, InboundEvent
from tests.admin.formdata import form_data
from tests.factories import ConnectionFactory
from tests.support.changefeeds import (
    company,  # noqa: F401 - fixture
    customer,
    feed_for,
    sage,  # noqa: F401 - fixture
    sage_time,
)

pytestmark = pytest.mark.django_db


def button(feed: ChangeFeed, tool: str) -> str:
    return reverse(
        "admin:integrations_changefeed_actions", kwargs={"pk": feed.pk, "tool": tool}
    )


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_list_shows_each_feed_with_its_rows_and_last_error(
    admin_client,
    company,  # noqa: F811
    sage,  # noqa: F811
):
    customer(company, "ABF", sage_time(-60))
    customer(company, "ZZZ", sage_time(-30))
    feed = feed_for(sage, "AR_Customer")
    admin_client.post(button(feed, "poll_now"))
    feed_for(sage, "CI_Item", last_error="Cannot reach Sage 100 over ODBC.")

    page = admin_client.get(reverse("admin:integrations_changefeed_changelist"))

    text = page.content.decode()
    assert page.status_code == 200
    assert "AR_Customer" in text and "CI_Item" in text
    assert "Cannot reach Sage 100 over ODBC." in text
    assert '<td class="field-rows_tracked">2</td>' in text


def test_poll_now_publishes_the_changes_and_says_how_many(
    admin_client,
    company,  # noqa: F811
    sage,  # noqa: F811
):
    customer(company, "ABF", sage_time(-60))
    feed = feed_for(sage, "AR_Customer")

    response = admin_client.post(button(feed, "poll_now"))

    assert response.status_code == 302
    assert InboundEvent.objects.count() == 1
    assert said(response) == [
        "Sage ABC AR_Customer: compared the whole table; sent 1 new row(s) to the "
        "subscribed flows."
    ]


def test_poll_now_when_sage_is_down_says_so_in_plain_words(admin_client, company, sage):  # noqa: F811
    company.path.unlink()
    feed = feed_for(sage, "AR_Customer")

    response = admin_client.post(button(feed, "poll_now"))

    (message,) = said(response)
    assert message.startswith("Sage ABC AR_Customer: Sage 100 was not read.")
    feed.refresh_from_db()
    assert feed.last_error


def test_resync_asks_the_next_poll_to_compare_the_whole_table(admin_client, sage):  # noqa: F811
    feed = feed_for(sage, "AR_Customer")

    response = admin_client.post(button(feed, "resync"))

    feed.refresh_from_db()
    assert feed.resync_requested
    assert "compares every row" in said(response)[0]


def test_changing_the_interval_keeps_the_pollers_watermark(admin_client, sage):  # noqa: F811
    feed = feed_for(sage, "AR_Customer", interval_seconds=300)
    url = reverse("admin:integrations_changefeed_change", args=[feed.pk])
    page = admin_client.get(url)
    # The poller moves on while the page is open.
    ChangeFeed.objects.filter(pk=feed.pk).update(
        watermark_date=sage_time(0).date(), watermark_seconds=36000, version=7
    )

    response = admin_client.post(url, form_data(page, interval_seconds=30))

    assert response.status_code == 302
    feed.refresh_from_db()
    assert (feed.interval_seconds, feed.version, feed.watermark) == (
        30,
        7,
        sage_time(0),
    )
    assert feed.next_poll_at is None  # polled on the next tick, then every 30 s


def test_an_existing_feeds_table_cannot_be_changed(admin_client, sage):  # noqa: F811
    """Its watermark and row hashes belong to its table: moving them would
    report every row of the old table as removed from the new one."""
    feed = feed_for(sage, "AR_Customer")
    url = reverse("admin:integrations_changefeed_change", args=[feed.pk])
    page = admin_client.get(url)

    admin_client.post(url, {**form_data(page), "table": "AP_Vendor"})

    feed.refresh_from_db()
    assert feed.table == "AR_Customer"


def test_a_feed_needs_a_sage_100_connection(admin_client):
    other = ConnectionFactory()  # a generic HTTP connection
    url = reverse("admin:integrations_changefeed_add")
    page = admin_client.get(url)

    response = admin_client.post(
        url, form_data(page, connection=other.pk, table="AR_Customer")
    )

    assert response.status_code == 200
    assert not ChangeFeed.objects.exists()
    errors = response.context["adminform"].form.errors
    assert "connection" in errors


def test_a_new_inventory_feed_hashes_rows_by_default(admin_client, sage):  # noqa: F811
    url = reverse("admin:integrations_changefeed_add")
    page = admin_client.get(url)

    response = admin_client.post(
        url, form_data(page, connection=sage.pk, table="IM_ItemWarehouse", mode="")
    )

    assert response.status_code == 302
    assert ChangeFeed.objects.get().mode == "hash"
