"""Reading lists as Xero does: If-Modified-Since, IDs and other list filters,
``where``, ``order``, ``searchTerm`` and ``page``/``pageSize``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from integrations.sandbox.xero.books import dates
from integrations.sandbox.xero.books.where import (
    QueryError,
    compile_order,
    compile_where,
)

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def truthy(value: str | None) -> bool:
    """Query booleans arrive as text; xero-python sends ``True``/``False``."""
    return str(value).strip().lower() in ("true", "1")


def csv(value: str | None) -> list[str]:
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


@dataclass
class Page:
    documents: list[dict]
    pagination: dict | None


def modified_since(documents: Iterable[dict], header: str | None) -> list[dict]:
    """Records changed at or after the header's second (Xero compares to the
    second; ``>=`` so a record stamped in the same second is not missed)."""
    if not header:
        return list(documents)
    try:
        since = dates.parse(header).replace(microsecond=0)
    except dates.BadDate:
        raise QueryError(f"If-Modified-Since '{header}' is not a valid date") from None
    return [
        document
        for document in documents
        if dates.parse(document["UpdatedDateUTC"]).replace(microsecond=0) >= since
    ]


def select(
    documents: list[dict],
    query: dict[str, str],
    object_name: str,
    *,
    filters: dict[str, Callable[[dict, set[str]], bool]] | None = None,
    search_fields: tuple[str, ...] = (),
) -> list[dict]:
    """Apply list filters (``IDs`` and the like: name → test(document, wanted)),
    ``searchTerm``, ``where`` and ``order``, in that order."""
    for name, test in (filters or {}).items():
        wanted = query.get(name)
        if wanted:
            values = {value.lower() for value in csv(wanted)}
            documents = [d for d in documents if test(d, values)]
    term = (query.get("searchTerm") or "").strip().lower()
    if term and search_fields:
        documents = [
            d
            for d in documents
            if any(term in str(d.get(field) or "").lower() for field in search_fields)
        ]
    where = query.get("where")
    if where:
        predicate = compile_where(where, object_name)
        documents = [d for d in documents if predicate(d)]
    order = query.get("order")
    if order:
        documents = compile_order(order, object_name)(documents)
    return documents


def paginate(documents: list[dict], query: dict[str, str]) -> Page:
    """``page`` is 1-based; ``pageSize`` up to 1000 (default 100). Without
    ``page`` everything comes back and there is no ``pagination``."""
    if not query.get("page"):
        return Page(documents, None)
    try:
        page = max(int(query["page"]), 1)
        size = int(query.get("pageSize") or PAGE_SIZE)
    except ValueError:
        raise QueryError("page and pageSize must be whole numbers") from None
    size = min(max(size, 1), MAX_PAGE_SIZE)
    count = len(documents)
    start = (page - 1) * size
    return Page(
        documents[start : start + size],
        {
            "page": page,
            "pageSize": size,
            "pageCount": (count + size - 1) // size,
            "itemCount": count,
        },
    )
