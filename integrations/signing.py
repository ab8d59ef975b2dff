"""LedgerBridge's own request signature, for the generic inbound endpoint and the
generic HTTP connector: ``X-LedgerBridge-Signature: t=<unix time>,v1=<hex>``
where ``v1 = HMAC-SHA256(secret, "<t>.<raw body>")``. The timestamp inside the
signed text bounds replays; the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-LedgerBridge-Signature"


class SignatureInvalid(Exception):
    pass


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    tolerance: int,
    now: float | None = None,
) -> None:
    """Raise SignatureInvalid with a reason a caller's developer can act on."""
    if not secret:
        raise SignatureInvalid("The connection has no signing secret configured.")
    if not header:
        raise SignatureInvalid(f"The {HEADER} header is missing.")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise SignatureInvalid(
            f"The {HEADER} header must look like t=<unix>,v1=<hex>."
        ) from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureInvalid("The signature timestamp is outside the allowed window.")
    expected = sign(secret, body, timestamp=timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise SignatureInvalid("The signature does not match the body.")
