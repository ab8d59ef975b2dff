"""Flows and their field mappings: what admins change without code.

The flow's page carries the mapping editor (pickers, transform arguments,
"Try it"); beside it, the flow designer (the flow drawn as its steps, switched
on/off and rescheduled there) and the flow's versions (compare, roll back).
The views are thin: the work is in ``services.schemas``, ``mapping_preview``,
``flow_designer`` and ``flow_versions``.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from integrations.admin.display import PrettyJSONField
from integrations.flows import registry
from integrations.models import FieldMapping, FlowConfig, SyncRecord, Trigger
from integrations.services import (
    flow_designer,
    flow_versions,
    mapping_preview,
    schemas,
    transform_args,
)


def _flow_choices() -> list[tuple[str, str]]:
    # Called per form, so flows registered after start-up (tests, plugins) appear.
    return [("", "---------"), *registry.choices()]


class ScheduleRuleMixin:
    """A poll or schedule trigger needs a schedule: said on the field, in words
    (the database constraint would otherwise answer with its own name)."""

    def clean(self):
        cleaned = super().clean()
        trigger = cleaned.get("trigger", getattr(self.instance, "trigger", ""))
        schedule = cleaned.get("schedule", getattr(self.instance, "schedule", ""))
        if trigger in (Trigger.POLL, Trigger.SCHEDULE) and not schedule:
            self.add_error(
                "schedule",
                "A poll or schedule trigger needs a schedule, e.g. */5 * * * * "
                "(every five minutes).",
            )
        return cleaned


class FlowConfigForm(ScheduleRuleMixin, forms.ModelForm):
    flow = forms.ChoiceField(choices=_flow_choices, help_text="The installed flow.")
    options = PrettyJSONField(rows=6, required=False)

    class Meta:
        model = FlowConfig
        fields = [
            "name",
            "flow",
            "source_connection",
            "target_connection",
            "enabled",
            "trigger",
            "schedule",
            "max_attempts",
            "options",
            "watermark",
        ]

    def clean_options(self):
        return self.cleaned_data["options"] or {}


class FieldMappingForm(forms.ModelForm):
    """One mapping row; the transform's arguments are checked before saving."""

    class Meta:
        model = FieldMapping
        fields = list(flow_versions.MAPPING_FIELDS)

    def clean(self):
        cleaned = super().clean()
        transform = cleaned.get("transform") or ""
        problems = transform_args.problems(transform, cleaned.get("transform_args"))
        if problems:
            self.add_error("transform_args", " ".join(problems))
        return cleaned


class FieldMappingInline(admin.TabularInline):
    model = FieldMapping
    form = FieldMappingForm
    extra = 1
    ordering = ("position", "id")
    # Field paths and arguments ({"length": 10}) are short; one-line boxes keep
    # each mapping on one row of the page.
    formfield_overrides = {
        models.CharField: {"widget": forms.TextInput(attrs={"size": 18})},
        models.JSONField: {
            "widget": forms.TextInput(attrs={"size": 18, "class": "lb-args"})
        },
    }
    fields = flow_versions.MAPPING_FIELDS


class DesignerForm(ScheduleRuleMixin, forms.ModelForm):
    """What the designer changes; FlowConfig.clean checks it like any save."""

    options = PrettyJSONField(
        rows=8,
        required=False,
        help_text="Each step lists the options it uses; unknown names are ignored.",
    )
    reason = forms.CharField(
        max_length=90,
        required=False,
        label="Why (kept with the version)",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = FlowConfig
        fields = ["enabled", "trigger", "schedule", "max_attempts", "options"]
        labels = {"enabled": "Switched on"}

    def clean_options(self):
        return self.cleaned_data["options"] or {}


class RollbackForm(forms.Form):
    reason = forms.CharField(
        max_length=80,
        label="Why roll back",
        widget=forms.TextInput(attrs={"size": 50}),
    )


@admin.register(FlowConfig)
class FlowConfigAdmin(SimpleHistoryAdmin):
    form = FlowConfigForm
    inlines = [FieldMappingInline]
    change_form_template = "admin/integrations/flowconfig/change_form.html"
    list_display = (
        "name",
        "flow",
        "source_connection",
        "target_connection",
        "enabled",
        "trigger",
        "schedule",
        "next_run_at",
        "record_link",
        "designer_link",
    )
    list_filter = ("enabled", "trigger", "flow")
    search_fields = ("name", "flow")
    list_select_related = ("source_connection", "target_connection")
    readonly_fields = ("next_run_at", "last_run_at", "created_at", "updated_at")
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "flow",
                    ("source_connection", "target_connection"),
                    "enabled",
                ]
            },
        ),
        ("When it runs", {"fields": ["trigger", "schedule", "max_attempts"]}),
        ("Options", {"fields": ["options", "watermark"]}),
        (
            "Activity",
            {"fields": [("next_run_at", "last_run_at"), ("created_at", "updated_at")]},
        ),
    ]

    class Media:
        css = {"all": ["integrations/flow-designer.css"]}
        js = ["integrations/mapping-editor.js"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(record_count=Count("records"))

    @admin.display(description="records", ordering="record_count")
    def record_link(self, config: FlowConfig) -> str:
        url = reverse("admin:integrations_syncrecord_changelist")
        return format_html(
            '<a href="{}?flow_config__id__exact={}">{}</a>',
            url,
            config.pk,
            config.record_count,
        )

    @admin.display(description="designer")
    def designer_link(self, config: FlowConfig) -> str:
        url = reverse("admin:integrations_flowconfig_designer", args=[config.pk])
        return format_html('<a href="{}">Steps</a>', url)

    # -- extra pages ----------------------------------------------------------
    def get_urls(self):
        def view(func, name):
            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(func),
                name=f"integrations_flowconfig_{name.replace('/', '_')}",
            )

        return [
            view(self.fields_view, "fields"),
            view(self.preview_view, "preview"),
            view(self.designer_view, "designer"),
            view(self.versions_view, "versions"),
            view(self.compare_view, "versions/compare"),
            path(
                "<path:object_id>/versions/<int:number>/rollback/",
                self.admin_site.admin_view(self.rollback_view),
                name="integrations_flowconfig_rollback",
            ),
            *super().get_urls(),
        ]

    def _config(self, request, object_id, *, change: bool = False) -> FlowConfig:
        config = self.get_object(request, object_id)
        if config is None:
            raise Http404("No such flow.")
        allowed = (
            self.has_change_permission(request, config)
            if change
            else self.has_view_permission(request, config)
        )
        if not allowed:
            raise PermissionDenied
        return config

    def _may_roll_back(self, request, config: FlowConfig) -> bool:
        """A rollback rewrites the flow's mapping rows too (deletes, re-creates,
        changes them), so it takes the field-mapping permissions as well."""
        user = request.user
        return self.has_change_permission(request, config) and all(
            user.has_perm(f"integrations.{action}_fieldmapping")
            for action in ("add", "change", "delete")
        )

    def _context(self, request, config: FlowConfig, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": config,
            "title": title,
            "has_change_permission": self.has_change_permission(request, config),
            "change_url": reverse(
                "admin:integrations_flowconfig_change", args=[config.pk]
            ),
            "designer_url": reverse(
                "admin:integrations_flowconfig_designer", args=[config.pk]
            ),
            "versions_url": reverse(
                "admin:integrations_flowconfig_versions", args=[config.pk]
            ),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        config = self.get_object(request, object_id)
        if config is not None:
            extra_context.update(
                mapping_editor={
                    "fields_url": reverse(
                        "admin:integrations_flowconfig_fields", args=[config.pk]
                    ),
                    "preview_url": reverse(
                        "admin:integrations_flowconfig_preview", args=[config.pk]
                    ),
                    "transforms": transform_args.spec(),
                },
                recent_records=[
                    (record.pk, mapping_preview.record_label(record))
                    for record in mapping_preview.recent_records(config)
                ],
                designer_url=reverse(
                    "admin:integrations_flowconfig_designer", args=[config.pk]
                ),
                versions_url=reverse(
                    "admin:integrations_flowconfig_versions", args=[config.pk]
                ),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def fields_view(self, request, object_id):
        """The pickers' fields, per scope, as JSON for the editor."""
        config = self._config(request, object_id, change=True)
        return JsonResponse(schemas.pickers(config))

    def preview_view(self, request, object_id):
        """ "Try it": POSTed rows applied to one recent record; nothing is saved."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        config = self._config(request, object_id, change=True)
        try:
            body = json.loads(request.body or b"{}")
            record_id = int(body.get("record") or 0)
            data = body.get("rows")
        except (ValueError, TypeError, AttributeError):
            return JsonResponse({"error": "The request is not valid JSON."}, status=400)
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            return JsonResponse({"error": "rows must be a list of mappings."}, 400)
        record = SyncRecord.objects.filter(pk=record_id, flow_config=config).first()
        if record is None:
            return JsonResponse(
                {"error": "Choose one of this flow's records to try the mappings on."},
                status=400,
            )
        rows, problems = mapping_preview.rows_from_data(config, data)
        outcome = mapping_preview.preview(config, rows, record, row_problems=problems)
        return JsonResponse(outcome.as_dict(), json_dumps_params={"default": str})

    def designer_view(self, request, object_id):
        config = self._config(request, object_id)
        can_change = self.has_change_permission(request, config)
        form = DesignerForm(instance=config)
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            form = DesignerForm(request.POST, instance=config)
            if form.is_valid():
                changed = form.changed_data
                if changed == ["reason"] or not changed:
                    messages.info(request, "Nothing changed.")
                else:
                    flow = form.save(commit=False)
                    reason = form.cleaned_data["reason"]
                    flow._change_reason = reason or "Changed in the flow designer"
                    flow.save()
                    messages.success(
                        request, f"Saved {flow.name}: a new version was recorded."
                    )
                return redirect(request.path)
            config.refresh_from_db()
        context = self._context(request, config, f"Flow designer: {config.name}")
        context.update(
            steps=flow_designer.steps(config),
            mappings=list(config.mappings.all()),
            xref_kinds=flow_designer.xref_kinds(config),
            form=form,
            can_change=can_change,
            latest_versions=flow_versions.versions(config, limit=5),
        )
        return TemplateResponse(
            request, "admin/integrations/flowconfig/designer.html", context
        )

    def versions_view(self, request, object_id):
        config = self._config(request, object_id)
        context = self._context(request, config, f"Versions of {config.name}")
        context.update(
            versions=flow_versions.versions(config),
            compare_url=reverse(
                "admin:integrations_flowconfig_versions_compare", args=[config.pk]
            ),
            rollback_form=RollbackForm(),
            can_roll_back=self._may_roll_back(request, config),
        )
        return TemplateResponse(
            request, "admin/integrations/flowconfig/versions.html", context
        )

    def compare_view(self, request, object_id):
        config = self._config(request, object_id)
        try:
            older, newer = sorted(
                [int(request.GET["older"]), int(request.GET["newer"])]
            )
            changes = flow_versions.compare(config, older, newer)
        except (KeyError, ValueError):
            messages.error(request, "Choose two versions to compare.")
            return redirect(
                reverse("admin:integrations_flowconfig_versions", args=[config.pk])
            )
        except LookupError as exc:
            raise Http404(str(exc)) from None
        context = self._context(
            request, config, f"{config.name}: version {older} → version {newer}"
        )
        context.update(older=older, newer=newer, changes=changes)
        return TemplateResponse(
            request, "admin/integrations/flowconfig/compare.html", context
        )

    def rollback_view(self, request, object_id, number):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        config = self._config(request, object_id, change=True)
        if not self._may_roll_back(request, config):
            raise PermissionDenied
        versions_url = reverse(
            "admin:integrations_flowconfig_versions", args=[config.pk]
        )
        form = RollbackForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Say why you roll back: it is kept with it.")
            return redirect(versions_url)
        try:
            flow_versions.rollback(
                config, number, user=request.user, reason=form.cleaned_data["reason"]
            )
        except flow_versions.RollbackRefused as exc:
            messages.error(request, str(exc))
        except LookupError as exc:
            raise Http404(str(exc)) from None
        else:
            messages.success(
                request,
                f"Rolled back to version {number}; that is recorded as a new version.",
            )
        return redirect(versions_url)


@admin.register(FieldMapping)
class FieldMappingAdmin(SimpleHistoryAdmin):
    form = FieldMappingForm
    list_display = (
        "flow_config",
        "position",
        "source_field",
        "target_field",
        "transform",
        "required",
        "enabled",
    )
    list_filter = ("flow_config", "transform", "required", "enabled")
    search_fields = ("source_field", "target_field")
    list_select_related = ("flow_config",)
    ordering = ("flow_config", "position", "id")
