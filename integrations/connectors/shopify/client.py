"""A small Shopify Admin REST client for writing back to the shop.

REST is "legacy" but still callable by custom apps (API-FACTS §3); the three
calls the flows need are an order's note/tags, inventory levels, and a ping.
Every call goes through the shared throttle, is logged, and leaves only as one
of ``integrations.engine.errors``.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import requests

from integrations.connectors.base import CallLog, Throttle, no_log
from integrations.connectors.shopify import errors
from integrations.connectors.shopify.settings import ShopifySettings

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"


class ShopifyClient:
    system = "shopify"

    def __init__(
        self,
        conf: ShopifySettings,
        *,
        throttle: Throttle | None = None,
        log: CallLog = no_log,
        session: requests.Session | None = None,
    ) -> None:
        self.conf = conf
        self.throttle = throttle
        self.log = log
        self.session = session or requests.Session()
        # (calls in Shopify's bucket, bucket size) from the last answer.
        self.call_limit: tuple[int, int] | None = None

    def url(self, path: str) -> str:
        return f"{self.conf.shop_url}/admin/api/{self.conf.api_version}/{path}.json"

    def ping(self) -> dict:
        """The shop, proving the URL, certificate and token work."""
        return self._call("GET", "shop", field="shop")["shop"]

    def update_order(
        self,
        order_id: int,
        note: str | None = None,
        tags: list[str] | str | None = None,
    ) -> dict:
        """Set an order's note and/or tags (tags replace the order's tags)."""
        order: dict = {"id": int(order_id)}
        if note is not None:
            order["note"] = note
        if tags is not None:
            order["tags"] = tags if isinstance(tags, str) else ", ".join(tags)
        body = {"order": order}
        return self._call("PUT", f"orders/{int(order_id)}", body, "order_id")["order"]

    def set_inventory_level(
        self, inventory_item_id: int, location_id: int, available: int
    ) -> dict:
        body = {
            "inventory_item_id": int(inventory_item_id),
            "location_id": int(location_id),
            "available": int(available),
        }
        answer = self._call("POST", "inventory_levels/set", body, "inventory_item_id")
        return answer["inventory_level"]

    def _call(
        self, method: str, path: str, body: dict | None = None, field: str = ""
    ) -> dict:
        url = self.url(path)
        headers = {
            "X-Shopify-Access-Token": self.conf.access_token,
            "Accept": "application/json",
        }
        started = time.monotonic()
        try:
            with self.throttle.call() if self.throttle else nullcontext():
                response = self.session.request(
                    method,
                    url,
                    json=body,
                    headers=headers,
                    timeout=self.conf.timeout,
                    verify=self.conf.verify,
                )
        except requests.RequestException as exc:
            self.log(self.system, method, url, type(exc).__name__, started)
            raise errors.from_exception(exc) from exc
        self.log(self.system, method, url, response.status_code, started)
        self._note_call_limit(response.headers.get(CALL_LIMIT_HEADER, ""))
        if not 200 <= response.status_code < 300:
            raise errors.from_response(response, field=field)
        try:
            return response.json()
        except ValueError as exc:
            raise errors.from_response(response, field=field) from exc

    def _note_call_limit(self, value: str) -> None:
        used, _, size = value.partition("/")
        if used.isdigit() and size.isdigit():
            self.call_limit = (int(used), int(size))
