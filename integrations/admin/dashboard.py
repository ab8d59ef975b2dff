"""The admin index's dashboard: the numbers, the charts and their JSON refresh.

``data`` is everything the page shows, as plain JSON; the page renders it once
and ``dashboard.js`` fetches it again every 30 seconds from ``data_view``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone

from integrations import selectors
from integrations.admin.display import age_in_words, usage_text
from integrations.flows import registry
from integrations.models import RecordStatus
from integrations.services import health

# The order a person reads them in: what needs them first.
STATUS_ORDER = (
    RecordStatus.NEEDS_ATTENTION,
    RecordStatus.RETRY_SCHEDULED,
    RecordStatus.RUNNING,
    RecordStatus.PENDING,
    RecordStatus.SUCCEEDED,
    RecordStatus.IGNORED,
)

STATE_LABELS = {
    "healthy": "Healthy",
    "failing": "Failing",
    "unknown": "Not tested",
    "needs_reauth": "Needs re-authorisation",
    "disabled": "Disabled",
}

REFRESH_SECONDS = 30


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
    return {
        "dashboard": {
            **data(),
            "status_headers": [s.label for s in STATUS_ORDER],
            "data_url": reverse("admin:dashboard-data"),
            "refresh_seconds": REFRESH_SECONDS,
        }
    }


def data_view(request: HttpRequest) -> JsonResponse:
    """The dashboard's figures as JSON, for the page's auto-refresh."""
    if not request.user.has_perm("integrations.view_syncrecord"):
        raise PermissionDenied
    return JsonResponse(data())


def data(*, now: datetime | None = None) -> dict:
    """Everything the dashboard shows, JSON-ready."""
    now = now or timezone.now()
    titles = dict(registry.choices())
    activity = health.activity(now=now)
    return {
        "generated_at": now.isoformat(),
        "statuses": _statuses(),
        "status_labels": {s.value: s.label for s in STATUS_ORDER},
        "status_order": [s.value for s in STATUS_ORDER],
        "flows": _flows(selectors.flow_status_counts(), titles),
        "flow_titles": titles,
        "oldest": _oldest(now),
        "retries": _retries(now),
        "connections": [_connection(h, now) for h in health.connection_health()],
        "activity": asdict(activity),
        "flows_24h": _flows(activity.flows_24h, titles),
        "flows_30d": _flows(activity.flows_30d, titles),
    }


def _statuses() -> list[dict]:
    counts = selectors.status_counts()
    return [
        {
            "value": status.value,
            "label": status.label,
            "count": counts[status],
            "url": records_url(status=status.value),
        }
        for status in STATUS_ORDER
    ]


def _flows(table: dict[str, dict[str, int]], titles: dict) -> list[dict]:
    return [
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
        for flow, by_status in table.items()
    ]


def _oldest(now: datetime) -> dict | None:
    oldest = selectors.oldest_needing_attention()
    if oldest is None:
        return None
    return {
        "label": str(oldest),
        "age": age_in_words(now - oldest.created_at),
        "url": reverse("admin:integrations_syncrecord_change", args=[oldest.pk]),
        "list_url": records_url(status=RecordStatus.NEEDS_ATTENTION),
    }


def _retries(now: datetime) -> dict:
    retries = selectors.retries_in_progress(now=now)
    return {
        "scheduled": retries.scheduled,
        "overdue": retries.overdue,
        "next_in": retries.next_at and age_in_words(retries.next_at - now),
        "url": records_url(status=RecordStatus.RETRY_SCHEDULED),
    }


def _connection(figures: health.ConnectionHealth, now: datetime) -> dict:
    """One line of the connections panel: can we reach it, and how busy it is."""
    connection = figures.connection
    return {
        "slug": connection.slug,
        "name": connection.name,
        "system": connection.get_system_display(),
        "state": figures.state,
        "state_label": STATE_LABELS[figures.state],
        "message": connection.status_message or connection.last_check_message,
        "checked": connection.last_checked_at
        and age_in_words(now - connection.last_checked_at),
        "last_success": connection.last_success_at
        and age_in_words(now - connection.last_success_at),
        "calls_today": usage_text(figures.calls_today),
        "vendor_usage": usage_text(figures.vendor_usage),
        "url": reverse("admin:integrations_connection_change", args=[connection.pk]),
    }
