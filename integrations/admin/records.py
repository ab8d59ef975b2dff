"""The record path in the admin: sync records, their attempts, inbound events.

Finance staff read the error in plain words, correct the payload and resubmit
or ignore. Every change goes through ``services.records`` so status moves stay
compare-and-set and each action lands in the audit trail with its actor.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django_object_actions import DjangoObjectActions
from simple_history.admin import SimpleHistoryAdmin

from integrations.admin import record_page
from integrations.admin.display import (
    JSONObjectField,
    ReadOnlyAdminMixin,
    admin_link,
    badge,
    body_text,
    pretty_json,
    relative_time,
)
from integrations.admin.record_actions import (
    RecordActionsMixin,
    count_records,
    plain_words,
)
from integrations.models import InboundEvent, RecordStatus, SyncAttempt, SyncRecord
from integrations.services import records, search
from integrations.services.records import ActionRefused

# A running record belongs to a worker and a succeeded one is history.
PAYLOAD_LOCKED = (RecordStatus.RUNNING, RecordStatus.SUCCEEDED)


class SyncRecordForm(forms.ModelForm):
    payload_override = JSONObjectField(
        required=False,
        label="Corrected payload",
        help_text="Starts as a copy of the original. Your edits are stored beside "
        "it and used on the next run; the original is never changed. Empty the box "
        "to go back to the original.",
    )
    # When the record was last changed as this page showed it: saving is refused
    # if it changed since (services.records.override_payload).
    seen_updated_at = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = SyncRecord
        fields = ["payload_override"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.payload_override is None:
            self.initial["payload_override"] = self.instance.payload
        if self.instance.pk and self.instance.updated_at:
            self.initial["seen_updated_at"] = self.instance.updated_at.isoformat()
        self.schema = (
            records.payload_schema(self.instance) if self.instance.pk else None
        )
        field = self.fields.get("payload_override")
        if field is not None:
            field.widget.attrs.update(
                {"id": "id_payload_override", "data-json-editor": "1"}
            )
            if self.schema:
                field.widget.attrs["data-schema"] = "lb-payload-schema"

    def clean_payload_override(self):
        """Inline, per-field errors; ``services.records`` checks again on save."""
        value = self.cleaned_data.get("payload_override")
        if value is not None:
            problems = records.schema_errors(self.schema, value)
            if problems:
                raise ValidationError(
                    [f"{path or 'The payload'}: {text}" for path, text in problems]
                )
        return value


class SyncAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The attempt timeline, oldest first; an auditor's replay of what happened."""

    model = SyncAttempt
    extra = 0
    can_delete = False
    ordering = ("number",)
    verbose_name_plural = "attempt timeline"
    fields = readonly_fields = (
        "number",
        "worker",
        "started_at",
        "duration",
        "outcome_badge",
        "steps",
        "error",
        "api_call_count",
        "technical_detail",
    )

    @admin.display(description="duration")
    def duration(self, attempt: SyncAttempt) -> str:
        if attempt.duration_ms is None:
            return "still running" if attempt.finished_at is None else "-"
        return f"{attempt.duration_ms / 1000:.1f} s"

    @admin.display(description="outcome")
    def outcome_badge(self, attempt: SyncAttempt) -> str:
        return badge(attempt.outcome, attempt.get_outcome_display())

    @admin.display(description="steps")
    def steps(self, attempt: SyncAttempt) -> str:
        return " → ".join(attempt.steps_run) or "-"

    @admin.display(description="error")
    def error(self, attempt: SyncAttempt) -> str:
        if not attempt.error_category:
            return "-"
        return format_html(
            "<strong>{}</strong>{}<br>{}",
            attempt.get_error_category_display(),
            f" (field {attempt.error_field})" if attempt.error_field else "",
            attempt.error_message,
        )

    @admin.display(description="API calls")
    def api_call_count(self, attempt: SyncAttempt) -> int:
        return len(attempt.api_calls or [])

    @admin.display(description="technical detail")
    def technical_detail(self, attempt: SyncAttempt) -> str:
        if not attempt.error_detail and not attempt.api_calls:
            return "-"
        return format_html(
            '<details class="lb-detail"><summary>Show</summary>{}<pre>{}</pre>'
            "</details>",
            pretty_json(attempt.api_calls) if attempt.api_calls else "",
            attempt.error_detail,
        )


@admin.register(SyncRecord)
class SyncRecordAdmin(RecordActionsMixin, DjangoObjectActions, SimpleHistoryAdmin):
    form = SyncRecordForm
    change_form_template = "admin/integrations/syncrecord/change_form.html"
    inlines = [SyncAttemptInline]
    list_display = (
        "id",
        "flow",
        "source",
        "status_badge",
        "error_category",
        "attempts",
        "next_attempt",
        "updated",
    )
    list_display_links = ("id", "source")
    list_filter = (
        "status",
        "flow",
        "flow_config__source_connection",
        "error_category",
        "created_at",
    )
    search_fields = ("source_id", "idempotency_key", "search_text")
    search_help_text = (
        "Any id you know: opportunity id, order name, invoice or sales order "
        "number, customer name."
    )
    actions = ["resubmit_selected", "ignore_selected", "assign_selected"]
    change_actions = ("resubmit", "ignore", "assign")
    list_per_page = 50
    readonly_fields = (
        "status_badge",
        "flow_config_link",
        "source",
        "source_version",
        "idempotency_key",
        "event_link",
        "attempts",
        "next_attempt_at",
        "claimed_by",
        "lease_expires_at",
        "ignored_reason",
        "created_at",
        "updated_at",
        "finished_at",
        "payload_pretty",
        "override_pretty",
        "target_ids_pretty",
        "step_state_pretty",
        "assigned_to",
    )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.status in PAYLOAD_LOCKED:
            return (*fields, "payload_override")
        return fields

    def get_fieldsets(self, request, obj=None):
        locked = obj is not None and obj.status in PAYLOAD_LOCKED
        return [
            (
                "Correct the payload",
                {
                    "classes": ["lb-payload-editor"],
                    "description": "The record's next run uses the corrected "
                    "payload; the document as received is kept unchanged above.",
                    "fields": (
                        ["override_pretty"]
                        if locked
                        else ["payload_override", "seen_updated_at"]
                    ),
                },
            ),
            (
                "Details",
                {
                    "fields": [
                        "status_badge",
                        "flow_config_link",
                        "source",
                        ("source_version", "idempotency_key"),
                        "event_link",
                        "assigned_to",
                        ("attempts", "next_attempt_at"),
                        ("claimed_by", "lease_expires_at"),
                        ("created_at", "updated_at", "finished_at"),
                        "ignored_reason",
                    ]
                },
            ),
            (
                "Engine state",
                {
                    "classes": ["collapse"],
                    "fields": ["target_ids_pretty", "step_state_pretty"],
                },
            ),
        ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def revert_disabled(self, request, obj=None) -> bool:
        # Reverting would rewrite status outside the services' compare-and-set.
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context.update(record_page.context(obj, request.user))
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        return search.search(queryset, search_term), False

    @property
    def media(self):
        return super().media + forms.Media(
            js=["integrations/json-editor.js"],
            css={"all": ["integrations/json-editor.css", "integrations/record.css"]},
        )

    # -- columns and read-only fields -----------------------------------------

    @admin.display(description="status", ordering="status")
    def status_badge(self, record: SyncRecord) -> str:
        return badge(record.status, record.get_status_display())

    @admin.display(description="source object", ordering="source_id")
    def source(self, record: SyncRecord) -> str:
        return f"{record.source_object_type} {record.source_id}"

    @admin.display(description="next attempt", ordering="next_attempt_at")
    def next_attempt(self, record: SyncRecord) -> str:
        return relative_time(record.next_attempt_at)

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, record: SyncRecord) -> str:
        return relative_time(record.updated_at)

    @admin.display(description="flow")
    def flow_config_link(self, record: SyncRecord) -> str:
        return admin_link(record.flow_config)

    @admin.display(description="inbound event")
    def event_link(self, record: SyncRecord) -> str:
        return admin_link(record.event) if record.event_id else "(not from an event)"

    @admin.display(description="original payload (as received)")
    def payload_pretty(self, record: SyncRecord) -> str:
        return pretty_json(record.payload)

    @admin.display(description="corrected payload")
    def override_pretty(self, record: SyncRecord) -> str:
        return pretty_json(record.payload_override)

    @admin.display(description="target ids")
    def target_ids_pretty(self, record: SyncRecord) -> str:
        return pretty_json(record.target_ids)

    @admin.display(description="results of steps already done")
    def step_state_pretty(self, record: SyncRecord) -> str:
        return pretty_json(record.step_state)

    # -- saving: only the payload override, and only through the service -------

    def save_model(self, request, obj, form, change) -> None:
        if "payload_override" not in form.changed_data:
            return
        try:
            records.override_payload(
                obj,
                actor=request.user,
                payload=form.cleaned_data["payload_override"],
                seen_updated_at=parse_datetime(
                    form.cleaned_data.get("seen_updated_at") or ""
                ),
            )
        except (ActionRefused, ValidationError) as exc:
            request._ledgerbridge_refused = plain_words(exc)

    def response_change(self, request, obj):
        refused = getattr(request, "_ledgerbridge_refused", None)
        if refused:
            self.message_user(request, refused, messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Raw bodies are evidence: nobody adds, edits or deletes them here."""

    list_display = (
        "id",
        "received_at",
        "connection",
        "topic",
        "provider_event_id",
        "signature_verified",
        "deliveries",
        "outcome",
    )
    list_filter = ("provider", "connection", "signature_verified", "received_at")
    search_fields = ("provider_event_id", "body_sha256", "topic")
    list_select_related = ("connection",)
    fields = readonly_fields = (
        "connection",
        "provider",
        "topic",
        "provider_event_id",
        "signature_verified",
        "remote_addr",
        "received_at",
        "deliveries",
        "error",
        "records_made",
        "body_pretty",
        "headers_pretty",
        "body_sha256",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(record_count=Count("records"))

    @admin.display(description="outcome")
    def outcome(self, event: InboundEvent) -> str:
        if event.error:
            return format_html('<span class="lb-error-text">{}</span>', event.error)
        return count_records(event.record_count)

    @admin.display(description="records made from it")
    def records_made(self, event: InboundEvent) -> str:
        made = event.records.order_by("pk")
        if not made:
            return "None"
        return format_html_join(
            "",
            '<div class="lb-line">{} {}</div>',
            ((badge(r.status, r.get_status_display()), admin_link(r)) for r in made),
        )

    @admin.display(description="body")
    def body_pretty(self, event: InboundEvent) -> str:
        text, is_json = body_text(event.body)
        css = "lb-json" if is_json else "lb-text"
        return format_html('<pre class="{}">{}</pre>', css, text)

    @admin.display(description="headers")
    def headers_pretty(self, event: InboundEvent) -> str:
        return pretty_json(event.headers)
