"""Order-to-cash wired to the shop and Sage 100 simulators, with Xero in memory.

A module that needs other wiring (the Xero simulator, its own options)
defines its own ``books``/``o2c``, which take precedence over these."""

from __future__ import annotations

import pytest

from tests.support.fake_xero import fake_xero
from tests.support.order_to_cash import OrderToCash, stock_sage_items, xero_items
from tests.support.sage100 import running_sage100
from tests.support.shopify import running_shopify


@pytest.fixture
def books(redis_conn):
    """The in-memory Xero (tests/support/fake_xero.py), with the shop's items."""
    with fake_xero() as books:
        books.items = xero_items()
        yield books


@pytest.fixture
def o2c(tmp_path, books):
    """The order-to-cash flow between a simulated shop and Sage 100 company."""
    with (
        running_sage100(tmp_path / "sage100") as sage,
        running_shopify(tmp_path / "shopify", webhook_url=None, secret="s") as shop,
    ):
        wired = OrderToCash.wire(
            shop, sage, xero_settings={"tenant_id": "t"}, xero_credentials={}
        )
        stock_sage_items(wired.config.target_connection)
        yield wired
