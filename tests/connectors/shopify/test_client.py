"""The Shopify Admin client against the simulated shop over verified HTTPS."""

from __future__ import annotations

import pytest

from integrations.connectors.shopify.client import ShopifyClient
from integrations.connectors.shopify.settings import ShopifySettings
from integrations.engine import clients
from integrations.engine.errors import (
    AuthRevoked,
    RateLimited,
    ReferenceMissing,
    Unavailable,
    ValidationFailed,
)
from integrations.sandbox.tls import server_certificate
from tests.factories import ConnectionFactory
from tests.support.shopify import running_shopify


@pytest.fixture
def shopify(tmp_path):
    with running_shopify(tmp_path, webhook_url=None, secret="s") as running:
        yield running


def client_for(shopify, **overrides) -> ShopifyClient:
    settings, credentials = shopify.connection()
    settings.update(overrides.pop("settings", {}))
    credentials.update(overrides.pop("credentials", {}))
    return ShopifyClient(ShopifySettings.from_connection(settings, credentials))


def test_ping_over_tls_trusting_the_ca_bundle(shopify):
    calls = []
    client = client_for(shopify)
    client.log = lambda *args: calls.append(args)

    assert client.ping()["myshopify_domain"] == shopify.shop.domain
    assert calls[0][:2] == ("shopify", "GET") and calls[0][3] == 200
    assert client.call_limit == (1, 40)


def test_untrusted_certificate_is_unavailable(shopify, tmp_path):
    other = server_certificate(tmp_path / "another-ca", "elsewhere").ca

    with pytest.raises(Unavailable):
        client_for(shopify, settings={"ca_bundle": str(other)}).ping()


def test_update_order_sets_note_and_tags(shopify):
    order = shopify.shop.create_order([("STOVE-MINI", 1)])

    updated = client_for(shopify).update_order(
        order["id"], note="Xero INV-0042", tags=["xero-invoiced", "sage-SO-1001"]
    )

    assert updated["tags"] == "xero-invoiced, sage-SO-1001"
    assert shopify.shop.order(order["id"])["note"] == "Xero INV-0042"


def test_tag_too_long_is_a_validation_error_naming_tags(shopify):
    order = shopify.shop.create_order([("STOVE-MINI", 1)])

    with pytest.raises(ValidationFailed) as caught:
        client_for(shopify).update_order(order["id"], tags=["x" * 41])

    assert caught.value.field == "tags"


def test_unknown_order_is_a_missing_reference(shopify):
    with pytest.raises(ReferenceMissing) as caught:
        client_for(shopify).update_order(1, note="n")

    assert caught.value.field == "order_id"


def test_set_inventory_level(shopify):
    variant = shopify.shop.variants["TRAIL-TENT-2P"]

    level = client_for(shopify).set_inventory_level(
        variant.inventory_item_id, shopify.shop.location_id, 7
    )

    assert level["available"] == 7
    key = (variant.inventory_item_id, shopify.shop.location_id)
    assert shopify.shop.inventory[key] == 7


def test_unknown_location_names_the_field(shopify):
    variant = shopify.shop.variants["TRAIL-TENT-2P"]

    with pytest.raises(ValidationFailed) as caught:
        client_for(shopify).set_inventory_level(variant.inventory_item_id, 1, 7)

    assert caught.value.field == "location_id"


def test_wrong_token_means_the_connection_needs_reauthorising(shopify):
    with pytest.raises(AuthRevoked):
        client_for(shopify, credentials={"access_token": "shpat_revoked"}).ping()


def test_burst_over_the_bucket_is_rate_limited_with_retry_after(shopify):
    client = client_for(shopify)

    with pytest.raises(RateLimited) as caught:
        for _ in range(60):
            client.ping()

    assert 0 < caught.value.retry_after <= 1.0
    statuses = [status for _, _, status in shopify.server.api.calls]
    assert statuses.count(200) >= 40 and statuses[-1] == 429
    assert client.call_limit[1] == 40


@pytest.mark.parametrize(
    ("values", "secrets", "field"),
    [
        (
            {"shop_url": "http://shop.example"},
            {"access_token": "t"},
            "settings.shop_url",
        ),
        ({"shop_url": "https://shop.example"}, {}, "credentials.access_token"),
    ],
)
def test_settings_name_what_is_missing(values, secrets, field):
    with pytest.raises(ValidationFailed) as caught:
        ShopifySettings.from_connection(values, secrets)

    assert caught.value.field == field


@pytest.mark.django_db
def test_registered_as_the_shopify_connector(shopify):
    settings, credentials = shopify.connection()
    connection = ConnectionFactory(
        system="shopify", settings=settings, credentials=credentials
    )

    client = clients.build(connection)

    assert isinstance(client, ShopifyClient)
    assert client.conf.webhook_secret == "s"
    assert client.ping()["currency"] == "USD"
