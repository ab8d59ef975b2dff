"""Order-to-cash reconciliation: orders, invoices and Sage orders that do not
agree (read-only; the service does the comparing)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from integrations.services import reconciliation

VIEW_PERMISSION = "integrations.view_syncrecord"


def reconciliation_url() -> str:
    return reverse("admin:reconciliation")


def reconciliation_view(request: HttpRequest, *, site) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    configs = reconciliation.configs()
    chosen = _chosen(configs, request.GET.get("flow", ""))
    only_problems = request.GET.get("all") != "1"
    report = None
    if chosen is not None:
        report = reconciliation.reconcile(chosen, page=_page(request.GET.get("page")))
    rows = []
    if report is not None:
        rows = report.disagreeing if only_problems else report.rows
    context = {
        **site.each_context(request),
        "title": "Order-to-cash reconciliation",
        "configs": configs,
        "chosen": chosen,
        "report": report,
        "rows": [
            {
                "row": row,
                "record_url": reverse(
                    "admin:integrations_syncrecord_change", args=[row.record_id]
                ),
            }
            for row in rows
        ],
        "only_problems": only_problems,
    }
    return TemplateResponse(
        request, "admin/integrations/reconciliation/reconciliation.html", context
    )


def _chosen(configs, wanted: str):
    for config in configs:
        if str(config.pk) == wanted:
            return config
    return configs[0] if configs else None


def _page(value) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1
