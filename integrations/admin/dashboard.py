"""The admin index's dashboard: the selectors' numbers, each a link to its records."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from integrations import selectors
from integrations.admin.display import age_in_words, badge, health_badge
from integrations.flows import registry
from integrations.models import Connection, ConnectionStatus, RecordStatus

# The order a person reads them in: what needs them first.
STATUS_ORDER = (
    RecordStatus.NEEDS_ATTENTION,
    RecordStatus.RETRY_SCHEDULED,
    RecordStatus.RUNNING,
    RecordStatus.PENDING,
    RecordStatus.SUCCEEDED,
    RecordStatus.IGNORED,
)


def records_url(*, status: str = "", flow: str = "") -> str:
    """The sync record list, filtered with the list filters' own parameters.

    Using the same parameter names as the sidebar filters keeps them highlighted.
    """
    query = {"status__exact": status, "flow": flow}
    url = reverse("admin:integrations_syncrecord_changelist")
    query = {name: value for name, value in query.items() if value}
    return f"{url}?{urlencode(query)}" if query else url


def context() -> dict:
    """Template context for ``admin/index.html``."""
    now = timezone.now()
    counts = selectors.status_counts()
    statuses = [
        {
            "value": status.value,
            "label": status.label,
            "count": counts[status],
            "url": records_url(status=status.value),
        }
        for status in STATUS_ORDER
    ]
    titles = dict(registry.choices())
    flows = [
        {
            "name": flow,
            "title": titles.get(flow, flow),
            "url": records_url(flow=flow),
            "total": sum(by_status.values()),
            "cells": [
                {
                    "status": status.value,
                    "count": by_status[status],
                    "url": records_url(flow=flow, status=status.value),
                }
                for status in STATUS_ORDER
            ],
        }
        for flow, by_status in selectors.flow_status_counts().items()
    ]
    connections = [_connection(c, now) for c in Connection.objects.defer("credentials")]
    oldest = selectors.oldest_needing_attention()
    retries = selectors.retries_in_progress(now=now)
    return {
        "dashboard": {
            "statuses": statuses,
            "status_headers": [s.label for s in STATUS_ORDER],
            "flows": flows,
            "connections": connections,
            "oldest": oldest
            and {
                "record": oldest,
                "age": age_in_words(now - oldest.created_at),
                "url": reverse(
                    "admin:integrations_syncrecord_change", args=[oldest.pk]
                ),
                "list_url": records_url(status=RecordStatus.NEEDS_ATTENTION),
            },
            "retries": {
                "scheduled": retries.scheduled,
                "overdue": retries.overdue,
                "next_in": retries.next_at and age_in_words(retries.next_at - now),
                "url": records_url(status=RecordStatus.RETRY_SCHEDULED),
            },
        }
    }


def _connection(connection: Connection, now) -> dict:
    """One line of the connections panel: can we reach it, and when we last knew."""
    if connection.status != ConnectionStatus.ACTIVE:
        state = badge(connection.status, connection.get_status_display())
    else:
        state = health_badge(connection)
    return {
        "slug": connection.slug,
        "name": connection.name,
        "badge": state,
        "message": connection.status_message or connection.last_check_message,
        "checked": connection.last_checked_at
        and age_in_words(now - connection.last_checked_at),
        "url": reverse("admin:integrations_connection_change", args=[connection.pk]),
    }
