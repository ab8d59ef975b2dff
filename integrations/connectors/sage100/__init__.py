"""Sage 100: read through ODBC, write through the on-premise agent."""
