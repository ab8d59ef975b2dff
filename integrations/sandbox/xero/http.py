"""The simulator's plain request/response values, so the books never see HTTP.

The server parses the wire request into an ``AccountingRequest`` and writes an
``AccountingResponse`` back; ``Organisation.handle`` works on these alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AccountingRequest:
    """One Accounting API call.

    ``path`` is relative to ``/api.xro/2.0`` (``/Invoices/<id>``), ``query``
    keys as sent (``where``, ``page``, ``summarizeErrors``), ``headers``
    lower-cased, ``body`` the parsed JSON or None.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class AccountingResponse:
    """What the books answer: a status and a JSON-able body."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
