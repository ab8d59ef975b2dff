"""How the hub proves itself to the agent, and how the agent checks it.

The signed text is ``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256(body)``, MAC'd
with HMAC-SHA256 under the agent's secret. The timestamp bounds the replay
window; the nonce makes each request single-use inside it. Both sides import
this module, so the two can never disagree about the format.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

KEY_HEADER = "X-Agent-Key"
TIMESTAMP_HEADER = "X-Agent-Timestamp"
NONCE_HEADER = "X-Agent-Nonce"
SIGNATURE_HEADER = "X-Agent-Signature"
DEFAULT_WINDOW_SECONDS = 300


class AgentAuthError(Exception):
    """Why a request was refused; safe to tell the caller."""


def _signed_text(method: str, path: str, timestamp: str, nonce: str, body: bytes):
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode()


def signature(secret: str, method, path, timestamp, nonce, body: bytes) -> str:
    text = _signed_text(method, path, str(timestamp), nonce, body)
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def sign_request(
    key_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers a hub request carries."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_hex(16)
    return {
        KEY_HEADER: key_id,
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(secret, method, path, timestamp, nonce, body),
    }


class NonceCache:
    """Nonces seen inside the replay window; a second use is a replay."""

    def __init__(self, window: int = DEFAULT_WINDOW_SECONDS) -> None:
        self.window = window
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def use(self, nonce: str, now: float) -> bool:
        """Record ``nonce``; False when it was already used."""
        with self._lock:
            if len(self._seen) > 10_000:
                cutoff = now - 2 * self.window
                self._seen = {n: t for n, t in self._seen.items() if t > cutoff}
            if nonce in self._seen:
                return False
            self._seen[nonce] = now
            return True


def verify_request(
    keys: dict[str, str],
    method: str,
    path: str,
    body: bytes,
    headers,
    *,
    nonces: NonceCache,
    window: int = DEFAULT_WINDOW_SECONDS,
    now: float | None = None,
) -> str:
    """Return the caller's key id, or raise AgentAuthError naming the problem.

    ``keys`` maps key id to secret, so a secret can be rotated by adding the
    new key before removing the old one.
    """
    now = time.time() if now is None else now
    key_id = headers.get(KEY_HEADER) or ""
    timestamp = headers.get(TIMESTAMP_HEADER) or ""
    nonce = headers.get(NONCE_HEADER) or ""
    given = headers.get(SIGNATURE_HEADER) or ""
    if not (key_id and timestamp and nonce and given):
        raise AgentAuthError(
            "The request is not signed: "
            f"{KEY_HEADER}, {TIMESTAMP_HEADER}, {NONCE_HEADER} and "
            f"{SIGNATURE_HEADER} are required."
        )
    secret = keys.get(key_id)
    # Compute a MAC even for an unknown key so timing says nothing about ids.
    expected = signature(secret or "unknown", method, path, timestamp, nonce, body)
    if (
        not given.isascii()
        or not hmac.compare_digest(expected, given)
        or secret is None
    ):
        raise AgentAuthError("The signature does not match.")
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        raise AgentAuthError(f"{TIMESTAMP_HEADER} must be a Unix time.") from None
    if age > window:
        raise AgentAuthError("The request has expired (timestamp outside the window).")
    if not nonces.use(nonce, now):
        raise AgentAuthError("The request was already used (replay refused).")
    return key_id
