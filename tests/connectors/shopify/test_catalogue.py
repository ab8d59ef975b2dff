"""Reading the shop's variants, locations and inventory levels, paged and
within Shopify's leaky bucket, against the simulated Admin API over HTTPS."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from integrations.connectors.shopify.client import ShopifyClient
from integrations.connectors.shopify.settings import ShopifySettings
from integrations.engine.errors import RateLimited
from integrations.sandbox.shopify.admin_api import LeakyBucket
from tests.support.shopify import running_shopify


@pytest.fixture
def shopify(tmp_path):
    with running_shopify(tmp_path, webhook_url=None, secret="s") as running:
        yield running


def client_for(shopify, sleep=None, **settings) -> ShopifyClient:
    values, credentials = shopify.connection()
    conf = ShopifySettings.from_connection({**values, **settings}, credentials)
    return ShopifyClient(conf, **({"sleep": sleep} if sleep else {}))


def get(shopify, path: str, **params) -> requests.Response:
    return requests.get(
        f"{shopify.url}/admin/api/2025-01/{path}.json",
        params=params,
        headers={"X-Shopify-Access-Token": shopify.access_token},
        verify=shopify.ca_bundle,
        timeout=10,
    )


class FrozenClock:
    """The bucket's clock; only the client's sleeps move it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _paths(shopify, part: str) -> int:
    return sum(1 for _, path, _ in shopify.server.api.calls if part in path)


def test_variants_follow_the_link_header_through_every_page(shopify):
    for n in range(300):
        shopify.shop.add_variant(f"SKU-{n:03}", f"Product {n}", "Blue", Decimal("5"))

    variants = client_for(shopify).variants()

    assert len(variants) == 305  # with the five of the default catalogue
    assert _paths(shopify, "products.json") == 2  # 250 a page
    by_sku = {v["sku"]: v for v in variants}
    made = shopify.shop.variants["SKU-299"]
    assert by_sku["SKU-299"]["inventory_item_id"] == made.inventory_item_id
    assert by_sku["SKU-299"]["product_title"] == "Product 299"


def test_products_page_shape_and_link(shopify):
    first = get(shopify, "products", limit=2, fields="id,variants")

    assert first.status_code == 200
    products = first.json()["products"]
    assert [set(p) for p in products] == [{"id", "variants"}] * 2
    variant = products[0]["variants"][0]
    assert {"id", "product_id", "sku", "inventory_item_id", "price"} <= set(variant)
    assert first.links["next"]["url"].startswith(shopify.url)

    following = requests.get(
        first.links["next"]["url"],
        headers={"X-Shopify-Access-Token": shopify.access_token},
        verify=shopify.ca_bundle,
        timeout=10,
    )
    assert [set(p) for p in following.json()["products"]] == [{"id", "variants"}] * 2
    assert following.json()["products"][0]["id"] not in {p["id"] for p in products}


def test_page_info_may_only_come_with_limit_and_fields(shopify):
    first = get(shopify, "products", limit=1)
    page_info = first.links["next"]["url"].split("page_info=")[1]

    refused = get(shopify, "products", page_info=page_info, vendor="x")
    garbled = get(shopify, "products", page_info="not-a-cursor")
    too_many = get(shopify, "products", limit=251)

    assert refused.status_code == 400 and "page_info" in refused.json()["errors"]
    assert garbled.status_code == 400 and "page_info" in garbled.json()["errors"]
    assert too_many.status_code == 400 and "limit" in too_many.json()["errors"]


def test_locations_list_the_shops_places(shopify):
    outlet = shopify.shop.add_location("Outlet")

    locations = client_for(shopify).locations()

    assert [(x["id"], x["name"], x["active"]) for x in locations] == sorted(
        [
            (shopify.shop.location_id, "Main Warehouse", True),
            (outlet["id"], "Outlet", True),
        ]
    )


def test_inventory_levels_are_read_fifty_items_a_call(shopify):
    made = [
        shopify.shop.add_variant(f"S-{n}", f"P{n}", "Red", Decimal("1"), available=n)
        for n in range(120)
    ]
    outlet = shopify.shop.add_location("Outlet")
    client = client_for(shopify)
    client.set_inventory_level(made[0].inventory_item_id, outlet["id"], 77)

    levels = client.inventory_levels(
        [v.inventory_item_id for v in made], [shopify.shop.location_id]
    )

    assert _paths(shopify, "inventory_levels.json") == 3
    assert len(levels) == 120
    assert {lv["location_id"] for lv in levels} == {shopify.shop.location_id}
    by_item = {lv["inventory_item_id"]: lv["available"] for lv in levels}
    assert by_item[made[7].inventory_item_id] == 7


def test_inventory_levels_need_ids_and_at_most_fifty(shopify):
    bare = get(shopify, "inventory_levels")
    many = get(
        shopify, "inventory_levels", inventory_item_ids=",".join(map(str, range(51)))
    )

    assert bare.status_code == 422
    assert many.status_code == 422 and "inventory_item_ids" in many.json()["errors"]


def test_a_patient_call_waits_out_the_bucket(shopify):
    clock = FrozenClock()
    shopify.server.api.bucket = LeakyBucket(clock=clock)
    client = client_for(shopify, sleep=clock.sleep)
    variant = shopify.shop.variants["STOVE-MINI"]
    for _ in range(40):
        client.ping()

    level = client.set_inventory_level(
        variant.inventory_item_id, shopify.shop.location_id, 3, patient=True
    )

    assert level["available"] == 3
    assert clock.slept == [0.5]  # Retry-After: one call leaks in half a second
    statuses = [status for _, _, status in shopify.server.api.calls]
    assert statuses[-2:] == [429, 200]


def test_patience_has_a_limit_then_the_call_is_rate_limited(shopify):
    clock = FrozenClock()
    shopify.server.api.bucket = LeakyBucket(size=1, leak=0.01, clock=clock)
    client = client_for(shopify, sleep=clock.sleep, rate_limit_wait=5)
    client.ping()

    with pytest.raises(RateLimited):
        client.locations()

    assert clock.slept == []  # Retry-After (100 s) is over the 5 s allowed


def test_an_impatient_call_is_rate_limited_at_once(shopify):
    clock = FrozenClock()
    shopify.server.api.bucket = LeakyBucket(size=1, clock=clock)
    client = client_for(shopify, sleep=clock.sleep)
    client.ping()

    with pytest.raises(RateLimited):
        client.ping()

    assert clock.slept == []
