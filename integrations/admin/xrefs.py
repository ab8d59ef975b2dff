"""Cross-reference tables: edited in the list like a spreadsheet, imported from
and exported to CSV/XLSX, and filled from suggestions.

The views are thin: ``services.xref_import`` reads, checks and applies files;
``services.suggestions`` finds and accepts suggestions.
"""

from __future__ import annotations

import base64
import hashlib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from integrations.models import Connection, CrossReference, FlowConfig, SyncRecord
from integrations.services import suggestions, xref_import

SESSION_KEY = "xref_import_upload"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        help_text="A .csv or .xlsx file with the columns "
        + ", ".join(xref_import.COLUMNS)
        + " (note is optional). Nothing is saved before you confirm.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )


@admin.register(CrossReference)
class CrossReferenceAdmin(SimpleHistoryAdmin):
    list_display = (
        "kind",
        "source_connection",
        "source_value",
        "target_connection",
        "target_value",
        "note",
        "updated_at",
    )
    list_display_links = ("source_value",)
    list_editable = ("target_value", "note")
    list_filter = ("kind", "source_connection", "target_connection")
    search_fields = ("source_value", "target_value", "note")
    search_help_text = "Matches either side's value or the note."
    list_select_related = ("source_connection", "target_connection")
    readonly_fields = ("created_at", "updated_at")
    list_per_page = 100
    change_list_template = "admin/integrations/crossreference/change_list.html"

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("import/", view(self.import_view), name="crossreference_import"),
            path(
                "import/confirm/",
                view(self.import_confirm_view),
                name="crossreference_import_confirm",
            ),
            path(
                "export/<str:fmt>/",
                view(self.export_view),
                name="crossreference_export",
            ),
            path(
                "template.<str:fmt>",
                view(self.template_view),
                name="crossreference_template",
            ),
            path(
                "suggestions/",
                view(self.suggestions_view),
                name="crossreference_suggestions",
            ),
            path(
                "suggestions/accept-code/",
                view(self.accept_code_view),
                name="crossreference_accept_code",
            ),
            path(
                "suggestions/accepted/<int:pk>/",
                view(self.accepted_view),
                name="crossreference_accepted",
            ),
            path(
                "suggestions/accept-field/",
                view(self.accept_field_view),
                name="crossreference_accept_field",
            ),
            path(
                "suggestions/decide/",
                view(self.decide_view),
                name="crossreference_decide",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        query = request.GET.urlencode()
        extra = {
            "export_csv_url": _with_query(
                reverse("admin:crossreference_export", args=["csv"]), query
            ),
            "export_xlsx_url": _with_query(
                reverse("admin:crossreference_export", args=["xlsx"]), query
            ),
            "can_import": self._may_import(request),
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    # -- import ------------------------------------------------------------------

    def _may_import(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def _context(self, request: HttpRequest, title: str, **more) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **more,
        }

    def import_view(self, request: HttpRequest):
        """Upload → preview (nothing saved); the file waits in the session, and
        the page carries its fingerprint so Import applies exactly that file."""
        if not self._may_import(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        result = problem = digest = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            try:
                result = xref_import.preview(upload.name, data)
            except xref_import.ImportRefused as exc:
                problem = str(exc)
            else:
                digest = _fingerprint(data)
                request.session[SESSION_KEY] = {
                    "name": upload.name,
                    "data": base64.b64encode(data).decode(),
                }
        return TemplateResponse(
            request,
            "admin/integrations/crossreference/import.html",
            self._context(
                request,
                "Import cross-references",
                form=form,
                preview=result,
                problem=problem,
                digest=digest,
                template_csv=reverse("admin:crossreference_template", args=["csv"]),
                template_xlsx=reverse("admin:crossreference_template", args=["xlsx"]),
            ),
        )

    def import_confirm_view(self, request: HttpRequest):
        if not self._may_import(request) or request.method != "POST":
            raise PermissionDenied
        upload = request.session.get(SESSION_KEY)
        back = reverse("admin:crossreference_import")
        if not upload:
            messages.error(request, "Upload the file again: the preview has expired.")
            return HttpResponseRedirect(back)
        data = base64.b64decode(upload["data"])
        if request.POST.get("sha256") != _fingerprint(data):
            messages.error(
                request,
                "Nothing was imported: the file waiting to be imported is not the one "
                "this preview showed (another file was previewed since, perhaps in "
                "another tab). Upload the file again and check its preview.",
            )
            return HttpResponseRedirect(back)
        try:
            done = xref_import.apply(upload["name"], data, actor=request.user)
        except xref_import.ImportRefused as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(back)
        del request.session[SESSION_KEY]
        messages.success(
            request,
            f"Imported {upload['name']}: {done.added} added, {done.changed} changed, "
            f"{done.unchanged} already as in the file.",
        )
        return HttpResponseRedirect(
            reverse("admin:integrations_crossreference_changelist")
        )

    # -- export --------------------------------------------------------------------

    def export_view(self, request: HttpRequest, fmt: str):
        """The list as filtered on screen (kind, connections, search)."""
        if not self.has_view_permission(request) or fmt not in ("csv", "xlsx"):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        stamp = timezone.localtime().strftime("%Y-%m-%d")
        if fmt == "csv":
            body, kind = xref_import.to_csv(queryset), "text/csv; charset=utf-8"
        else:
            body, kind = xref_import.to_xlsx(queryset), XLSX
        return _download(body, kind, f"cross-references-{stamp}.{fmt}")

    def template_view(self, request: HttpRequest, fmt: str):
        if not self.has_view_permission(request) or fmt not in ("csv", "xlsx"):
            raise PermissionDenied
        if fmt == "csv":
            return _download(
                xref_import.template_csv(),
                "text/csv; charset=utf-8",
                "cross-references-template.csv",
            )
        return _download(
            xref_import.template_xlsx(), XLSX, "cross-references-template.xlsx"
        )

    # -- suggestions ---------------------------------------------------------------

    def suggestions_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        user = request.user
        return TemplateResponse(
            request,
            "admin/integrations/crossreference/suggestions.html",
            self._context(
                request,
                "Suggestions",
                codes=suggestions.unknown_codes(),
                fields=suggestions.unmapped_fields(),
                pairs=suggestions.duplicate_pairs(),
                can_add_xref=self.has_add_permission(request),
                can_add_mapping=user.has_perm("integrations.add_fieldmapping"),
                can_decide=user.has_perm("integrations.add_matchdecision")
                and user.has_perm("integrations.change_matchdecision"),
            ),
        )

    def _back(self, anchor: str = "") -> HttpResponseRedirect:
        url = reverse("admin:crossreference_suggestions")
        return HttpResponseRedirect(url + (f"#{anchor}" if anchor else ""))

    def accept_code_view(self, request: HttpRequest):
        if request.method != "POST" or not (
            self.has_add_permission(request) and self.has_change_permission(request)
        ):
            raise PermissionDenied
        data = request.POST
        try:
            xref = suggestions.accept_code(
                kind=data.get("kind", ""),
                source_connection=_connection(data, "source_connection"),
                target_connection=_connection(data, "target_connection"),
                source_value=data.get("source_value", ""),
                target_value=(data.get("target_value") or "").strip(),
                reasons=data.get("reasons", ""),
                actor=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return self._back("codes")
        messages.success(request, f"Added the cross-reference {xref}.")
        return HttpResponseRedirect(
            reverse("admin:crossreference_accepted", args=[xref.pk])
        )

    def accepted_view(self, request: HttpRequest, pk: int):
        """After accepting: the records that were waiting, and a Resubmit button."""
        xref = get_object_or_404(CrossReference, pk=pk)
        if not self.has_view_permission(request, xref):
            raise PermissionDenied
        may_resubmit = request.user.has_perm("integrations.change_syncrecord")
        if request.method == "POST":
            if not may_resubmit:
                raise PermissionDenied
            outcomes = suggestions.resubmit_waiting(xref, actor=request.user)
            done = [o for o in outcomes if o.done]
            if done:
                messages.success(
                    request,
                    f"Resubmitted {len(done)} record{'s' if len(done) != 1 else ''}.",
                )
            for outcome in outcomes:
                if not outcome.done:
                    messages.warning(request, f"{outcome.label}: {outcome.message}")
            return self._back("codes")
        waiting = suggestions.waiting_records(
            xref.kind,
            xref.source_connection_id,
            xref.target_connection_id,
            xref.source_value,
        )
        return TemplateResponse(
            request,
            "admin/integrations/crossreference/accepted.html",
            self._context(
                request,
                "Cross-reference added",
                xref=xref,
                waiting=waiting,
                may_resubmit=may_resubmit,
            ),
        )

    def accept_field_view(self, request: HttpRequest):
        if request.method != "POST" or not request.user.has_perm(
            "integrations.add_fieldmapping"
        ):
            raise PermissionDenied
        config = get_object_or_404(FlowConfig, pk=request.POST.get("flow_config"))
        try:
            mapping = suggestions.accept_field(
                config,
                request.POST.get("source_field", ""),
                (request.POST.get("target_field") or "").strip(),
                actor=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"{config.name} now maps {mapping.source_field} to "
                f"{mapping.target_field}. The next record carries it.",
            )
        return self._back("fields")

    def decide_view(self, request: HttpRequest):
        user = request.user
        if request.method != "POST" or not (
            user.has_perm("integrations.add_matchdecision")
            and user.has_perm("integrations.change_matchdecision")
        ):
            raise PermissionDenied
        data = request.POST
        verdict = data.get("verdict", "")
        if verdict == "same" and not self.has_add_permission(request):
            raise PermissionDenied
        try:
            score = float(data["score"]) if data.get("score") else None
        except ValueError:
            score = None
        try:
            decision = suggestions.decide(
                kind=data.get("kind", "customer"),
                source_connection=_connection(data, "source_connection"),
                target_connection=_connection(data, "target_connection"),
                source_value=data.get("source_value", ""),
                target_value=data.get("target_value", ""),
                verdict=verdict,
                score=score,
                reasons=data.get("reasons", ""),
                actor=user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return self._back("duplicates")
        label = data.get("source_label") or decision.source_value
        if verdict == "same":
            text = f"{label} is {decision.target_value}: merged."
        else:
            text = f"{label} and {decision.target_value} are kept apart."
        record = SyncRecord.objects.filter(pk=data.get("record") or 0).first()
        if record is not None:
            url = reverse("admin:integrations_syncrecord_change", args=[record.pk])
            messages.success(
                request,
                format_html(
                    '{} <a href="{}">Open the record</a> to resubmit it.', text, url
                ),
            )
        else:
            messages.success(request, text)
        return self._back("duplicates")


def _connection(data, name: str) -> Connection:
    found = Connection.objects.filter(pk=data.get(name) or 0).first()
    if found is None:
        raise ValidationError({name: f"The {name.replace('_', ' ')} is not known."})
    return found


def _fingerprint(data: bytes) -> str:
    """The SHA-256 of a file's bytes: which file a preview showed."""
    return hashlib.sha256(data).hexdigest()


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
