"""A simulated Shopify shop: orders, signed webhooks and the Admin REST API."""
