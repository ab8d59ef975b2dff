"""The "Needs attention" page: the finance staff's morning list.

Records a person must look at, grouped by cause, each with the error in plain
words, the field at fault and the suggested fix; filters, search and bulk
actions (resubmit, ignore with a reason, assign). The view only reads the
services' answers and reports each record's outcome.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from integrations.admin.display import age_in_words
from integrations.flows import registry
from integrations.models import SyncRecord
from integrations.services import fixes, records, search, work_queue
from integrations.services.work_queue import Cause

PER_PAGE = 25
VIEW_PERMISSION = "integrations.view_syncrecord"
CHANGE_PERMISSION = "integrations.change_syncrecord"


def queue_url() -> str:
    return reverse("admin:queue")


class QueueFilters(forms.Form):
    """The GET parameters of the page; every one optional."""

    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(
            attrs={
                "placeholder": "Order, invoice, opportunity id, customer…",
                "type": "search",
            }
        ),
    )
    cause = forms.ChoiceField(
        required=False, choices=[("", "Every cause"), *Cause.choices()]
    )
    flow = forms.ChoiceField(required=False, label="Flow")
    who = forms.ChoiceField(
        required=False,
        label="Assigned",
        choices=[
            ("", "Anyone"),
            ("me", "Assigned to me"),
            ("unassigned", "Not assigned"),
        ],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["flow"].choices = [("", "Every flow"), *registry.choices()]

    def apply(self, queryset, user):
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("cause"):
            queryset = queryset.filter(cause=data["cause"])
        if data.get("flow"):
            queryset = queryset.filter(flow=data["flow"])
        if data.get("who") == "me":
            queryset = queryset.filter(assigned_to=user)
        elif data.get("who") == "unassigned":
            queryset = queryset.filter(assigned_to__isnull=True)
        if data.get("q"):
            queryset = search.search(queryset, data["q"])
        return queryset


class TickedRecords(forms.ModelMultipleChoiceField):
    """Ticked records posted as ``pk:attempts``: the record, and its attempts as
    the page showed them, so an action refuses a record that ran since. A bare
    ``pk`` (a hand-made post) is compared against the record as it is now.

    Cleans to ``[(record, attempts seen or None)]`` in id order.
    """

    def clean(self, value):
        pks, seen = [], {}
        for item in value or []:
            pk, colon, attempts = str(item).partition(":")
            if colon and not attempts.isdigit():
                raise ValidationError(
                    "A ticked record came without its attempts: reload the page.",
                    code="invalid_attempts",
                )
            pks.append(pk)
            if colon:
                seen[pk] = int(attempts)
        chosen = super().clean(pks)
        return [(record, seen.get(str(record.pk))) for record in chosen.order_by("pk")]


class BulkAction(forms.Form):
    """The checked records and what to do with them."""

    ACTIONS = [
        ("resubmit", "Resubmit"),
        ("ignore", "Ignore (say why)"),
        ("assign", "Assign to"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    records = TickedRecords(
        queryset=SyncRecord.objects.all(),
        error_messages={"required": "Tick at least one record first."},
    )
    reason = forms.CharField(required=False, max_length=500, label="Reason")
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True, is_staff=True),
        required=False,
        empty_label="Nobody (unassign)",
        label="Person",
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "ignore" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the records are ignored.")
        return data


def queue_view(request: HttpRequest, *, site) -> HttpResponse:
    """The page (GET) and its bulk actions (POST); ``site`` is the admin site."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    if request.method == "POST":
        return _bulk(request)
    filters = QueueFilters(request.GET or None)
    everything = work_queue.waiting_for_people()
    shown = filters.apply(everything, request.user)
    page = Paginator(shown, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [_row(record, request.user, now) for record in page.object_list]
    groups = _grouped(rows)
    base_query = {k: v for k, v in request.GET.items() if k not in ("page", "cause")}
    counts = [
        {
            "cause": cause,
            "label": label,
            "count": count,
            "url": "?" + urlencode({**base_query, "cause": cause}),
            "active": request.GET.get("cause") == cause,
        }
        for cause, label, count in work_queue.cause_counts(
            QueueFilters(base_query).apply(everything, request.user)
        )
    ]
    context = {
        **site.each_context(request),
        "title": "Needs attention",
        "filters": filters,
        "counts": counts,
        "all_count": sum(c["count"] for c in counts),
        "all_url": "?" + urlencode(base_query),
        "total": everything.count(),
        "groups": groups,
        "page": page,
        "page_query": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
        "bulk": BulkAction(),
        "can_change": request.user.has_perm(CHANGE_PERMISSION),
        "people": records.assignable_people(),
        "filtered": any(request.GET.get(k) for k in ("q", "cause", "flow", "who")),
    }
    return TemplateResponse(request, "admin/integrations/queue/queue.html", context)


def _row(record: SyncRecord, user, now) -> dict:
    try:
        flow_title = registry.get(record.flow).title or record.flow
    except KeyError:
        flow_title = record.flow
    return {
        "record": record,
        "flow_title": flow_title,
        "label": fixes.record_label(record),
        "fix": fixes.suggest(record, user=user),
        "age": age_in_words(now - record.created_at),
        "url": reverse("admin:integrations_syncrecord_change", args=[record.pk]),
    }


def _grouped(rows: list[dict]) -> list[dict]:
    """Rows of one page under their cause's heading, in the queue's order."""
    by_cause: dict[str, list] = {}
    for row in rows:
        by_cause.setdefault(row["fix"].cause, []).append(row)
    order = [*Cause.ORDER, *(c for c in by_cause if c not in Cause.ORDER)]
    return [
        {
            "cause": cause,
            "label": Cause.LABELS.get(cause, cause),
            "rows": by_cause[cause],
        }
        for cause in order
        if cause in by_cause
    ]


def _bulk(request: HttpRequest) -> HttpResponse:
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        back, {request.get_host()}, require_https=request.is_secure()
    ):
        back = queue_url()
    if not request.user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied
    form = BulkAction(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return HttpResponseRedirect(back)
    ticked = form.cleaned_data["records"]
    chosen = [record for record, _ in ticked]
    seen = {record.pk: attempts for record, attempts in ticked if attempts is not None}
    action = form.cleaned_data["action"]
    try:
        if action == "resubmit":
            outcomes = records.resubmit_many(chosen, actor=request.user, seen=seen)
            verb = "resubmitted"
        elif action == "ignore":
            outcomes = records.ignore_many(
                chosen,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                seen=seen,
            )
            verb = "ignored"
        else:
            assignee = form.cleaned_data["assignee"]
            outcomes = records.assign_many(
                chosen, actor=request.user, assignee=assignee, seen=seen
            )
            verb = f"assigned to {assignee}" if assignee else "unassigned"
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(back)
    report(request, outcomes, verb)
    return HttpResponseRedirect(back)


def report(request: HttpRequest, outcomes: list[records.Outcome], verb: str) -> None:
    """One success line, and one line per refused record naming it and why."""
    done = sum(1 for outcome in outcomes if outcome.done)
    if done:
        noun = "record" if done == 1 else "records"
        messages.success(request, f"{done} {noun} {verb}.")
    for outcome in outcomes:
        if not outcome.done:
            messages.error(
                request,
                f"Record #{outcome.record_id} ({outcome.label}) was not {verb}: "
                f"{outcome.message}",
            )
