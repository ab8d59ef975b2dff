"""How long a fresh record waits for batch companions: the flow option
``batch_wait_seconds``, else the flow's own default."""

import pytest

from integrations.engine import runner
from tests.factories import FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db

ORDER_TO_CASH = "shopify_order_to_xero_and_sage100"


def _wait(flow: str, options: dict) -> float:
    config = FlowConfigFactory(flow=flow, options=options)
    return runner.batch_wait(SyncRecordFactory(flow_config=config))


def test_order_to_cash_waits_three_seconds_unless_its_option_says_otherwise():
    assert _wait(ORDER_TO_CASH, {}) == 3
    assert _wait(ORDER_TO_CASH, {"batch_wait_seconds": ""}) == 3
    assert _wait(ORDER_TO_CASH, {"batch_wait_seconds": 0}) == 0
    assert _wait(ORDER_TO_CASH, {"batch_wait_seconds": "5"}) == 5


def test_a_flow_without_a_default_does_not_wait():
    assert _wait("test_batched", {}) == 0  # tests/support/flows.py
    assert _wait("test_batched", {"batch_wait_seconds": "soon"}) == 0
