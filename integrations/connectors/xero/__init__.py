"""Xero connector: Accounting API and OAuth 2.0 through xero-python."""
