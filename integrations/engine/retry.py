"""When to try again: exponential backoff with full jitter, bounded."""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings


def backoff_delay(
    attempt: int, *, retry_after: float | None = None, rng: random.Random | None = None
) -> timedelta:
    """Delay before attempt ``attempt + 1``.

    A vendor's Retry-After wins when it is longer than our own backoff; jitter
    spreads the retries of many records so they don't stampede the vendor.
    """
    conf = settings.LEDGERBRIDGE
    base, cap = conf["RETRY_BASE_SECONDS"], conf["RETRY_MAX_SECONDS"]
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    delay = (rng or random).uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return timedelta(seconds=delay)


def attempts_exhausted(attempt: int, *, max_attempts: int | None) -> bool:
    limit = max_attempts or settings.LEDGERBRIDGE["MAX_ATTEMPTS"]
    return attempt >= limit
