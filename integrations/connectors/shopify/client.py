"""A small Shopify Admin REST client for writing back to the shop.

REST is "legacy" but still callable by custom apps (API-FACTS §3); the calls
the flows need are an order's note/tags, inventory levels (read and set), the
catalogue's variants (SKU → inventory item), the shop's locations, and a ping.
Every call goes through the shared throttle, is logged, and leaves only as one
of ``integrations.engine.errors``.

Shopify's leaky bucket (40 calls, leaking 2 a second) answers a burst with 429
and ``Retry-After``. Calls made with ``patient=True`` (the list reads, and the
stock writes a batch makes one after another) wait that long and try again,
up to ``conf.rate_limit_wait`` seconds in all, before giving up with
``RateLimited``; other calls raise ``RateLimited`` at once for the engine to
reschedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext

import requests

from integrations.connectors.base import CallLog, Throttle, no_log
from integrations.connectors.shopify import errors
from integrations.connectors.shopify.settings import ShopifySettings
from integrations.engine.errors import RateLimited

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
PAGE_LIMIT = 250  # the most a REST list returns per page
IDS_PER_CALL = 50  # inventory_item_ids per inventory_levels.json call


class ShopifyClient:
    system = "shopify"

    def __init__(
        self,
        conf: ShopifySettings,
        *,
        throttle: Throttle | None = None,
        log: CallLog = no_log,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conf = conf
        self.throttle = throttle
        self.log = log
        self.session = session or requests.Session()
        self.sleep = sleep
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
        self,
        inventory_item_id: int,
        location_id: int,
        available: int,
        *,
        patient: bool = False,
    ) -> dict:
        body = {
            "inventory_item_id": int(inventory_item_id),
            "location_id": int(location_id),
            "available": int(available),
        }
        answer = self._call(
            "POST",
            "inventory_levels/set",
            body,
            "inventory_item_id",
            patient=patient,
        )
        return answer["inventory_level"]

    def locations(self) -> list[dict]:
        """The shop's locations (``id``, ``name``, ``active``, ...)."""
        return self._call("GET", "locations", field="locations", patient=True)[
            "locations"
        ]

    def products(self, fields: str = "") -> Iterator[dict]:
        """Every product, page by page (250 a call) following the Link header."""
        query = {"limit": str(PAGE_LIMIT)}
        if fields:
            query["fields"] = fields
        yield from self._pages("products", query, "products")

    def variants(self) -> list[dict]:
        """Every variant in the catalogue (``sku``, ``inventory_item_id``, ...),
        read through ``products.json`` with only ids, titles and variants."""
        found = []
        for product in self.products(fields="id,title,variants"):
            for variant in product.get("variants") or []:
                found.append({**variant, "product_title": product.get("title", "")})
        return found

    def inventory_levels(
        self, inventory_item_ids: Iterable[int], location_ids: Iterable[int]
    ) -> list[dict]:
        """The levels of these items at these locations (50 items a call)."""
        items = sorted({int(i) for i in inventory_item_ids})
        locations = ",".join(str(int(i)) for i in sorted(set(location_ids)))
        found: list[dict] = []
        for start in range(0, len(items), IDS_PER_CALL):
            chunk = ",".join(str(i) for i in items[start : start + IDS_PER_CALL])
            query = {"limit": str(PAGE_LIMIT), "inventory_item_ids": chunk}
            if locations:
                query["location_ids"] = locations
            found.extend(self._pages("inventory_levels", query, "inventory_levels"))
        return found

    def _pages(self, path: str, query: dict, key: str) -> Iterator[dict]:
        url: str | None = self.url(path)
        params: dict | None = query
        while url:
            response = self._send("GET", url, None, key, params=params, patient=True)
            yield from self._json(response, key)[key]
            url = (response.links.get("next") or {}).get("url")
            params = None  # the next link carries page_info and limit

    def _call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        field: str = "",
        *,
        patient: bool = False,
    ) -> dict:
        response = self._send(method, self.url(path), body, field, patient=patient)
        return self._json(response, field)

    def _json(self, response: requests.Response, field: str) -> dict:
        try:
            return response.json()
        except ValueError as exc:
            raise errors.from_response(response, field=field) from exc

    def _send(
        self,
        method: str,
        url: str,
        body: dict | None,
        field: str,
        *,
        params: dict | None = None,
        patient: bool = False,
    ) -> requests.Response:
        """One call; a patient one waits out the bucket's Retry-After."""
        waited = 0.0
        while True:
            try:
                return self._once(method, url, body, field, params)
            except RateLimited as exc:
                wait = exc.retry_after or 1.0
                if not patient or waited + wait > self.conf.rate_limit_wait:
                    raise
                self.sleep(wait)
                waited += wait

    def _once(
        self, method: str, url: str, body: dict | None, field: str, params
    ) -> requests.Response:
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
                    params=params,
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
        return response

    def _note_call_limit(self, value: str) -> None:
        used, _, size = value.partition("/")
        if used.isdigit() and size.isdigit():
            self.call_limit = (int(used), int(size))
