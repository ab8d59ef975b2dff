"""Sage 100 changes published to an HTTP endpoint: one POST per change, per
subscriber, narrowed by the admin's topics."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from integrations.engine import runner
from integrations.models import RecordStatus, SyncRecord, System
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.changefeeds import (
    company,
    customer,
    feed_for,
    poll,
    sage,
    sage_time,
    write,
)
from tests.support.sink import running_sink

__all__ = ["company", "sage"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def sink():
    with running_sink(signing_secret="wh", required_fields=("reference",)) as pair:
        yield pair


def _subscriber(sage, url: str, topics: list[str] | None = None):
    target = ConnectionFactory(
        system=System.GENERIC,
        settings={"url": f"{url}/documents"},
        credentials={"signing_secret": "wh"},
    )
    return FlowConfigFactory(
        flow="sage100_changes_to_http",
        source_connection=sage,
        target_connection=target,
        options={"topics": topics} if topics else {},
    )


def _inventory(company, quantity: str, at_seconds: float) -> None:
    write(
        company,
        "IM_ItemWarehouse",
        sage_time(at_seconds),
        ItemCode="1001-HON-H252",
        WarehouseCode="000",
        QuantityOnHand=quantity,
    )


def test_an_inventory_change_is_posted_once_to_each_subscriber(
    company, sage, sink, redis_conn
):
    url, state = sink
    inventory_only = _subscriber(sage, url, ["sage100.inventory"])
    everything = _subscriber(sage, url)
    customers_only = _subscriber(sage, url, ["sage100.customer"])
    _inventory(company, "10", -60)
    feed = feed_for(sage, "IM_ItemWarehouse")

    assert poll(feed).emitted == 1
    assert poll(feed).emitted == 0  # nothing changed: nothing published again

    records = list(SyncRecord.objects.order_by("flow_config_id"))
    assert [r.flow_config_id for r in records] == [inventory_only.pk, everything.pk]
    assert not SyncRecord.objects.filter(flow_config=customers_only).exists()
    for record in records:
        runner.run_record(record.pk)
        record.refresh_from_db()
        assert record.status == RecordStatus.SUCCEEDED, record.error_message
    documents = list(state.documents.values())
    assert len(documents) == 2
    assert documents[0]["reference"] == "IM_ItemWarehouse:1001-HON-H252|000"
    assert documents[0]["topic"] == "sage100.inventory"
    assert documents[0]["row"]["QuantityOnHand"] == "10"


def test_a_customer_change_reaches_only_customer_subscribers(
    company, sage, sink, redis_conn
):
    url, _ = sink
    inventory_only = _subscriber(sage, url, ["sage100.inventory"])
    customers_only = _subscriber(sage, url, ["sage100.customer"])
    customer(company, "ABF", sage_time(-30))

    poll(feed_for(sage, "AR_Customer"))

    (record,) = SyncRecord.objects.all()
    assert record.flow_config_id == customers_only.pk
    assert record.source_id == "01|ABF"
    assert not SyncRecord.objects.filter(flow_config=inventory_only).exists()


def test_topics_option_must_be_a_list_of_topics(sage):
    config = FlowConfigFactory.build(
        flow="sage100_changes_to_http",
        source_connection=sage,
        target_connection=sage,
        options={"topics": "sage100.inventory"},
    )
    with pytest.raises(ValidationError, match="topics must be a list"):
        config.clean()
