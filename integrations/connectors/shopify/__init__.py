"""Shopify: webhook secret and the Admin REST API client for write-back."""
