"""The slice of Shopify's Admin REST API the flows write back through.

``AdminApi.handle(method, path, headers, body)`` answers like Shopify: the
``X-Shopify-Access-Token`` header authenticates, every answer carries
``X-Shopify-Shop-Api-Call-Limit: n/40``, a full leaky bucket (40 calls,
leaking 2 a second) answers 429 with ``Retry-After``, and errors are
``{"errors": ...}`` (a string, or field → messages).

Lists (``products.json``, ``inventory_levels.json``) page by cursor like
Shopify's REST API: ``limit`` (default 50, at most 250) and a ``Link:
<…?limit=n&page_info=…>; rel="next"`` header while more remain; a request
with ``page_info`` may add only ``limit`` and ``fields``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

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
DEFAULT_LIMIT, MAX_LIMIT = 50, 250
MAX_IDS = 50  # ids per inventory_item_ids / location_ids filter
PAGE_KEEPS = {"limit", "fields", "page_info"}


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

    def handle(
        self, method: str, path: str, headers: dict, body: bytes, query: str = ""
    ) -> Answer:
        # Per request, never on self: the server answers on many threads.
        listing = _Listing(
            parse_qs(query, keep_blank_values=True),
            f"https://{headers.get('host', self.shop.domain)}{path}",
        )
        answer = self._answer(method, path, headers, body, listing)
        answer.headers.setdefault("X-Request-Id", str(uuid.uuid4()))
        self.calls.append((method, path, answer.status))
        return answer

    def _answer(self, method, path, headers, body, listing=None) -> Answer:
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
        answer = self._route(method, match["rest"], payload, listing)
        answer.headers.update(limits)
        return answer

    def _route(self, method: str, rest: str, payload, listing=None) -> Answer:
        listing = listing or _Listing({}, "")
        if rest == "shop" and method == "GET":
            return Answer(200, {"shop": self._shop()})
        if rest == "inventory_levels/set" and method == "POST":
            return self._set_inventory(payload)
        if rest == "locations" and method == "GET":
            locations = sorted(self.shop.locations.values(), key=lambda x: x["id"])
            return Answer(200, {"locations": locations})
        if rest == "products" and method == "GET":
            return self._page(
                listing, "products", lambda _: self.shop.products(), _no_check
            )
        if rest == "inventory_levels" and method == "GET":
            return self._page(
                listing, "inventory_levels", self._levels, _check_levels, fields=False
            )
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

    # -- lists, paged by cursor ----------------------------------------------
    def _page(
        self, listing: _Listing, name: str, rows, check, *, fields: bool = True
    ) -> Answer:
        """One page of ``rows(filters)`` and the Link header to the next."""
        query = {k: (v or [""])[0] for k, v in listing.query.items()}
        raw_limit = query.get("limit") or str(DEFAULT_LIMIT)
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            return Answer(
                400, {"errors": {"limit": f"must be between 1 and {MAX_LIMIT}"}}
            )
        limit, offset = int(raw_limit), 0
        if "page_info" in query:
            extra = sorted(set(query) - PAGE_KEEPS)
            if extra:
                return Answer(
                    400,
                    {
                        "errors": {
                            "page_info": "a request with page_info may only add "
                            f"limit and fields, not {', '.join(extra)}"
                        }
                    },
                )
            cursor = _read_cursor(query["page_info"])
            if cursor is None:
                return Answer(400, {"errors": {"page_info": "Invalid value."}})
            offset = cursor["after"]
            filters = cursor["filters"]
            if "fields" in query:
                filters["fields"] = query["fields"]
        else:
            filters = {k: v for k, v in query.items() if k not in PAGE_KEEPS}
            if query.get("fields"):
                filters["fields"] = query["fields"]
        problem = check(filters)
        if problem is not None:
            return problem
        found = rows(filters)
        chunk = found[offset : offset + limit]
        wanted = [f.strip() for f in filters.get("fields", "").split(",") if f.strip()]
        if fields and wanted:
            chunk = [{k: v for k, v in row.items() if k in wanted} for row in chunk]
        headers = {}
        if offset + limit < len(found):
            cursor = _cursor({"after": offset + limit, "filters": filters})
            link = f"{listing.base}?{urlencode({'limit': limit, 'page_info': cursor})}"
            headers["Link"] = f'<{link}>; rel="next"'
        return Answer(200, {name: chunk}, headers)

    def _levels(self, filters: dict) -> list[dict]:
        items = _ids(filters, "inventory_item_ids") or None
        locations = _ids(filters, "location_ids") or None
        return self.shop.inventory_levels(items, locations)


@dataclass(frozen=True)
class _Listing:
    query: dict[str, list[str]]
    base: str  # this request's URL without the query, for Link headers


def _no_check(filters: dict) -> Answer | None:
    return None


def _check_levels(filters: dict) -> Answer | None:
    items = _ids(filters, "inventory_item_ids")
    locations = _ids(filters, "location_ids")
    for name, ids in (("inventory_item_ids", items), ("location_ids", locations)):
        if ids is False:
            return Answer(
                422, {"errors": {name: ["must be a comma-separated list of ids"]}}
            )
        if ids and len(ids) > MAX_IDS:
            return Answer(422, {"errors": {name: [f"can name at most {MAX_IDS} ids"]}})
    if not items and not locations:
        return Answer(
            422,
            {
                "errors": "inventory_item_ids or location_ids must be present "
                "in the query"
            },
        )
    return None


def _ids(filters: dict, name: str) -> set[int] | bool:
    """The ids of a comma-separated filter; False when one is not a number."""
    text = str(filters.get(name) or "").strip()
    if not text:
        return set()
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() for part in parts):
        return False
    return {int(part) for part in parts}


def _cursor(state: dict) -> str:
    raw = json.dumps(state, sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(text: str) -> dict | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        state = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if (
        not isinstance(state, dict)
        or not isinstance(state.get("after"), int)
        or not isinstance(state.get("filters"), dict)
    ):
        return None
    return state
