"""Resubmit, Ignore and Assign, as buttons on a record's page and as list actions.

Each is a thin call to ``services.records``; refusals come back as admin
messages in the services' own plain words.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django_object_actions import action

from integrations.models import SyncRecord
from integrations.services import records
from integrations.services.records import ActionRefused


class IgnoreForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Kept with the record and shown in its history.",
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True, is_staff=True),
        required=False,
        empty_label="Nobody (unassign)",
        label="Person",
        help_text="Who looks after these records; kept in their history.",
    )


class RecordActionsMixin:
    """For SyncRecordAdmin; needs DjangoObjectActions and ModelAdmin after it."""

    def get_change_actions(self, request, object_id, form_url):
        record = self.get_object(request, object_id)
        if record is None or not self.has_change_permission(request, record):
            return []
        shown = []
        if record.status in records.RESUBMITTABLE:
            shown.append("resubmit")
        if record.status in records.IGNORABLE:
            shown.append("ignore")
        shown.append("assign")
        return shown

    @action(
        label="Resubmit",
        description="Run this record again now",
        methods=("POST",),
        button_type="form",
    )
    def resubmit(self, request: HttpRequest, record: SyncRecord) -> None:
        self._require_change(request, record)
        try:
            records.resubmit(record, actor=request.user)
        except ActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Resubmitted. A worker will pick it up shortly.")

    @action(
        label="Ignore…",
        description="Stop trying this record, saying why",
        methods=("GET", "POST"),
        button_type="a",
    )
    def ignore(self, request: HttpRequest, record: SyncRecord):
        self._require_change(request, record)
        form = IgnoreForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                records.ignore(
                    record, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except (ActionRefused, ValidationError) as exc:
                messages.error(request, plain_words(exc))
            else:
                messages.success(request, "Ignored. It will not be tried again.")
            return None
        return self._ignore_page(request, [record], form, bulk=False)

    @action(
        label="Assign…",
        description="Say who looks after this record",
        methods=("GET", "POST"),
        button_type="a",
    )
    def assign(self, request: HttpRequest, record: SyncRecord):
        self._require_change(request, record)
        initial = {"assignee": record.assigned_to_id or request.user.pk}
        form = AssignForm(request.POST if request.method == "POST" else None)
        if not form.is_bound:
            form = AssignForm(initial=initial)
        if form.is_bound and form.is_valid():
            assignee = form.cleaned_data["assignee"]
            try:
                records.assign(record, actor=request.user, assignee=assignee)
            except ValidationError as exc:
                messages.error(request, plain_words(exc))
            else:
                who = assignee or "nobody"
                messages.success(request, f"Assigned to {who}.")
            return None
        return self._choice_page(
            request, [record], form, bulk=False, verb="Assign", name="assign"
        )

    # -- list actions ----------------------------------------------------------

    @admin.action(description="Assign selected records…", permissions=["change"])
    def assign_selected(self, request, queryset):
        form = AssignForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            assignee = form.cleaned_data["assignee"]
            self._bulk(
                request,
                queryset,
                f"assigned to {assignee}" if assignee else "unassigned",
                lambda r: records.assign(r, actor=request.user, assignee=assignee),
            )
            return None
        return self._choice_page(
            request,
            list(queryset),
            AssignForm(initial={"assignee": request.user.pk})
            if not form.is_bound
            else form,
            bulk=True,
            verb="Assign",
            name="assign_selected",
        )

    @admin.action(description="Resubmit selected records", permissions=["change"])
    def resubmit_selected(self, request, queryset) -> None:
        self._bulk(
            request,
            queryset,
            "resubmitted",
            lambda r: records.resubmit(r, actor=request.user),
        )

    @admin.action(description="Ignore selected records…", permissions=["change"])
    def ignore_selected(self, request, queryset):
        form = IgnoreForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._bulk(
                request,
                queryset,
                "ignored",
                lambda r: records.ignore(r, actor=request.user, reason=reason),
            )
            return None
        return self._ignore_page(request, list(queryset), form, bulk=True)

    # -- helpers ---------------------------------------------------------------

    def _require_change(self, request, record: SyncRecord) -> None:
        # django-object-actions only checks that the user is staff.
        if not self.has_change_permission(request, record):
            raise PermissionDenied

    def _bulk(
        self, request, queryset, verb: str, do: Callable[[SyncRecord], object]
    ) -> None:
        """Run one service call per record; report successes and refusals."""
        done, refused = 0, []
        for record in queryset.order_by("pk"):
            try:
                do(record)
            except (ActionRefused, ValidationError) as exc:
                refused.append(f"#{record.pk}: {plain_words(exc)}")
            else:
                done += 1
        text = f"{count_records(done)} {verb}."
        if refused:
            text += f" {count_records(len(refused))} refused. " + " ".join(refused[:5])
            if len(refused) > 5:
                text += " …"
        level = messages.WARNING if refused else messages.SUCCESS
        self.message_user(request, text, level)

    def _ignore_page(self, request, chosen, form, *, bulk: bool) -> TemplateResponse:
        return self._choice_page(
            request, chosen, form, bulk=bulk, verb="Ignore", name="ignore_selected"
        )

    def _choice_page(
        self, request, chosen, form, *, bulk: bool, verb: str, name: str
    ) -> TemplateResponse:
        """The page asking for a reason (Ignore) or a person (Assign) first."""
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb} records" if bulk else f"{verb} {chosen[0]}",
            "verb": verb,
            "opts": self.model._meta,
            "records": chosen,
            "form": form,
            "bulk": bulk,
            "action_name": name if bulk else "",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        template = "ignore.html" if verb == "Ignore" else "assign.html"
        return TemplateResponse(
            request, f"admin/integrations/syncrecord/{template}", context
        )


def plain_words(exc: Exception) -> str:
    """Services speak in plain sentences; show them without Python's wrapping."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def count_records(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"
