"""Xero's JSON dates: the .NET ``/Date(ms+0000)/`` form, and what clients send.

Xero answers dates as ``/Date(1552348800000+0000)/`` (milliseconds since the
epoch, UTC) and accepts ISO dates (``2026-12-01``, ``2026-12-01T00:00:00``)
as well as its own form on input (API-FACTS §1.3).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime

_MSDATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class BadDate(ValueError):
    """A value that is not a date in any form Xero accepts."""


def msdate(moment: datetime | date) -> str:
    """``moment`` in Xero's ``/Date(ms+0000)/`` form (dates at UTC midnight)."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse(value: object) -> datetime:
    """A client's date or date-time, as an aware UTC datetime.

    Accepts ``/Date(ms[+hhmm])/``, ISO 8601 dates and date-times (a time with
    no zone is UTC, as Xero reads it) and HTTP dates (for If-Modified-Since).
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        raise BadDate(f"{value!r} is not a date")
    text = value.strip()
    found = _MSDATE.match(text)
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise BadDate(f"{value!r} is not a date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_day(value: object) -> date:
    """A document date (Invoice.Date, DueDate…): the calendar day only."""
    return parse(value).date()
