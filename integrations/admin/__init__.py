"""The LedgerBridge admin, one module per model family.

Importing the modules registers their ModelAdmins on the portal's admin site.
"""

from integrations.admin import (
    alerts,
    changefeeds,
    connections,
    currency,
    flows,
    master_data,
    matching,
    records,
    xrefs,
)

__all__ = [
    "alerts",
    "changefeeds",
    "connections",
    "currency",
    "flows",
    "master_data",
    "matching",
    "records",
    "xrefs",
]
