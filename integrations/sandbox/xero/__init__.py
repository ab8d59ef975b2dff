"""A local stand-in for Xero (so far: its webhooks)."""
