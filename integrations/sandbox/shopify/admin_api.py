"""The slice of Shopify's Admin REST API the flows write back through.

``AdminApi.handle(method, path, headers, body)`` answers like Shopify: the
``X-Shopify-Access-Token`` header authenticates, every answer carries
``X-Shopify-Shop-Api-Call-Limit: n/40``, a full leaky bucket (40 calls,
leaking 2 a second) answers 429 with ``Retry-After``, and errors are
``{"errors": ...}`` (a string, or field → messages).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from integrations.sandbox.shopify.shop import TAG_LIMIT, Shop

SUPPORTED_VERSIONS = ("2024-07", "2024-10", "2025-01", "2025-04", "2025-07")
BUCKET_SIZE, LEAK_PER_SECOND = 40, 2.0
INVALID_TOKEN = (
    "[API] Invalid API key or access token (unrecognized login or wrong password)"
)
THROTTLED = (
    "Exceeded 2 calls per second for api client. Reduce request rates to resume "
    "uninterrupted service."
)
ROUTE = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2})/(?P<rest>[a-z_/0-9]+)\.json$")
ORDER = re.compile(r"^orders/(?P<id>\d+)$")


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


class LeakyBucket:
    """Shopify's REST limit: each call adds one; the bucket leaks steadily."""

    def __init__(
        self,
        size: int = BUCKET_SIZE,
        leak: float = LEAK_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size, self.leak, self.clock = size, leak, clock
        self.level, self._at = 0.0, clock()
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, calls in the bucket, seconds until one more fits)."""
        with self._lock:
            now = self.clock()
            self.level = max(0.0, self.level - (now - self._at) * self.leak)
            self._at = now
            if self.level + 1 > self.size:
                wait = (self.level + 1 - self.size) / self.leak
                return False, math.ceil(self.level), wait
            self.level += 1
            return True, math.ceil(self.level), 0.0


class AdminApi:
    def __init__(self, shop: Shop, access_tokens: set[str]) -> None:
        self.shop = shop
        self.access_tokens = set(access_tokens)
        self.bucket = LeakyBucket()
        self.calls: list[tuple[str, str, int]] = []  # (method, path, status)

    def handle(self, method: str, path: str, headers: dict, body: bytes) -> Answer:
        answer = self._answer(method, path, headers, body)
        answer.headers.setdefault("X-Request-Id", str(uuid.uuid4()))
        self.calls.append((method, path, answer.status))
        return answer

    def _answer(self, method, path, headers, body) -> Answer:
        match = ROUTE.match(path)
        if not match or match["version"] not in SUPPORTED_VERSIONS:
            return Answer(404, {"errors": "Not Found"})
        version = {"X-Shopify-API-Version": match["version"]}
        token = headers.get("x-shopify-access-token", "")
        if token not in self.access_tokens:
            return Answer(401, {"errors": INVALID_TOKEN}, version)
        allowed, used, wait = self.bucket.take()
        limits = {**version, "X-Shopify-Shop-Api-Call-Limit": f"{used}/{BUCKET_SIZE}"}
        if not allowed:
            retry = {"Retry-After": f"{max(wait, 0.1):.1f}"}
            return Answer(429, {"errors": THROTTLED}, {**limits, **retry})
        try:
            payload = json.loads(body) if body else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            return Answer(400, {"errors": {"body": "is not valid JSON"}}, limits)
        answer = self._route(method, match["rest"], payload)
        answer.headers.update(limits)
        return answer

    def _route(self, method: str, rest: str, payload) -> Answer:
        if rest == "shop" and method == "GET":
            return Answer(200, {"shop": self._shop()})
        if rest == "inventory_levels/set" and method == "POST":
            return self._set_inventory(payload)
        order = ORDER.match(rest)
        if order and method == "GET":
            return self._with_order(int(order["id"]), self.shop.order)
        if order and method == "PUT":
            return self._update_order(int(order["id"]), payload)
        return Answer(404, {"errors": "Not Found"})

    def _shop(self) -> dict:
        return {
            "id": 548380009,
            "name": "LedgerBridge Demo Outfitters",
            "myshopify_domain": self.shop.domain,
            "domain": self.shop.domain,
            "currency": self.shop.currency,
            "iana_timezone": "America/New_York",
        }

    def _with_order(self, order_id: int, fetch) -> Answer:
        try:
            return Answer(200, {"order": fetch(order_id)})
        except LookupError:
            return Answer(404, {"errors": "Not Found"})

    def _update_order(self, order_id: int, payload) -> Answer:
        order = payload.get("order") if isinstance(payload, dict) else None
        if not isinstance(order, dict):
            return Answer(400, {"errors": {"order": "Required parameter missing"}})
        problems: dict[str, list[str]] = {}
        note, tags = order.get("note"), order.get("tags")
        if note is not None and not isinstance(note, str):
            problems["note"] = ["must be a string"]
        if isinstance(tags, list):
            tags = ", ".join(str(tag) for tag in tags)
        if tags is not None and not isinstance(tags, str):
            problems["tags"] = ["must be a comma-separated string"]
        elif tags and any(len(t.strip()) > TAG_LIMIT for t in tags.split(",")):
            problems["tags"] = [f"each tag is limited to {TAG_LIMIT} characters"]
        if problems:
            return Answer(422, {"errors": problems})
        return self._with_order(
            order_id,
            lambda pk: self.shop.update_order(pk, note=note, tags=tags),
        )

    def _set_inventory(self, payload) -> Answer:
        payload = payload if isinstance(payload, dict) else {}
        missing = [
            name
            for name in ("location_id", "inventory_item_id", "available")
            if name not in payload
        ]
        if missing:
            return Answer(
                400, {"errors": {missing[0]: "Required parameter missing or invalid"}}
            )
        for name in ("location_id", "inventory_item_id", "available"):
            value = payload[name]
            if not isinstance(value, int) or isinstance(value, bool):
                return Answer(422, {"errors": {name: ["must be an integer"]}})
        try:
            level = self.shop.set_inventory(
                payload["inventory_item_id"],
                payload["location_id"],
                payload["available"],
            )
        except LookupError as exc:
            return Answer(422, {"errors": {str(exc): ["was not found"]}})
        return Answer(200, {"inventory_level": level})
