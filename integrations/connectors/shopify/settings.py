"""What a Shopify Connection holds, read once into plain values."""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.engine.errors import ValidationFailed

DEFAULT_API_VERSION = "2025-01"


@dataclass(frozen=True)
class ShopifySettings:
    shop_url: str  # https://<shop>.myshopify.com (a simulator's https URL here)
    api_version: str = DEFAULT_API_VERSION
    ca_bundle: str = ""
    timeout: float = 15.0
    # Seconds one patient call may spend waiting out Shopify's leaky bucket.
    rate_limit_wait: float = 10.0
    access_token: str = field(default="", repr=False)
    webhook_secret: str = field(default="", repr=False)

    @classmethod
    def from_connection(cls, settings: dict, credentials: dict) -> ShopifySettings:
        shop_url = str(settings.get("shop_url") or "").rstrip("/")
        if not shop_url.startswith("https://"):
            raise ValidationFailed(
                "The Shopify connection needs settings.shop_url starting with "
                "https://, e.g. https://your-shop.myshopify.com.",
                field="settings.shop_url",
            )
        token = str(credentials.get("access_token") or "")
        if not token:
            raise ValidationFailed(
                "The Shopify connection has no Admin API access token: set "
                "credentials.access_token (the custom app's token).",
                field="credentials.access_token",
            )
        return cls(
            shop_url=shop_url,
            api_version=str(settings.get("api_version") or DEFAULT_API_VERSION),
            ca_bundle=str(settings.get("ca_bundle") or ""),
            timeout=float(settings.get("timeout", 15)),
            rate_limit_wait=float(settings.get("rate_limit_wait", 10)),
            access_token=token,
            webhook_secret=str(credentials.get("webhook_secret") or ""),
        )

    @property
    def verify(self) -> bool | str:
        return self.ca_bundle or True
