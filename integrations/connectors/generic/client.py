"""A JSON-over-HTTPS target: POST documents, signed, with an Idempotency-Key.

For systems without a dedicated connector (an order desk, a warehouse app, a
partner's API). The receiver is expected to return the first answer again when
it sees an Idempotency-Key twice.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import dataclass

import requests

from integrations import signing
from integrations.connectors.base import CallLog, Throttle, no_log
from integrations.connectors.generic import errors


@dataclass(frozen=True)
class GenericSettings:
    url: str
    signing_secret: str = ""
    timeout: float = 15.0
    verify: bool | str = True  # a CA bundle path for a private CA

    @classmethod
    def from_connection(cls, settings: dict, credentials: dict) -> GenericSettings:
        if not settings.get("url"):
            from integrations.engine.errors import ValidationFailed

            raise ValidationFailed(
                "The target connection has no URL: set settings.url on it.",
                field="settings.url",
            )
        return cls(
            url=settings["url"],
            signing_secret=str(credentials.get("signing_secret", "")),
            timeout=float(settings.get("timeout", 15)),
            verify=settings.get("ca_bundle") or True,
        )


class GenericClient:
    system = "generic"

    def __init__(
        self,
        conf: GenericSettings,
        *,
        throttle: Throttle | None = None,
        log: CallLog = no_log,
        session: requests.Session | None = None,
    ) -> None:
        self.conf = conf
        self.throttle = throttle
        self.log = log
        self.session = session or requests.Session()

    def post_document(self, document: dict, *, idempotency_key: str) -> dict:
        """Create the document once; the same key returns the first result."""
        body = json.dumps(document, sort_keys=True, default=str).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
        }
        if self.conf.signing_secret:
            headers[signing.HEADER] = signing.sign(self.conf.signing_secret, body)
        started = time.monotonic()
        try:
            with self.throttle.call() if self.throttle else nullcontext():
                response = self.session.post(
                    self.conf.url,
                    data=body,
                    headers=headers,
                    timeout=self.conf.timeout,
                    verify=self.conf.verify,
                )
        except requests.RequestException as exc:
            self.log(self.system, "POST", self.conf.url, type(exc).__name__, started)
            raise errors.from_exception(exc) from exc
        self.log(self.system, "POST", self.conf.url, response.status_code, started)
        if response.status_code not in (200, 201):
            raise errors.from_response(response)
        try:
            return response.json()
        except ValueError as exc:
            raise errors.from_response(response) from exc
