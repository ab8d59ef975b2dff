"""Connections and the API keys external systems call us with.

Secrets go in and never come back out: the form has a write-only box that
replaces them, and the page only names which secrets are set.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html
from django_object_actions import DjangoObjectActions, action
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey
from simple_history.admin import SimpleHistoryAdmin

from integrations.admin.display import PrettyJSONField, badge, health_badge
from integrations.models import Connection, ConnectionAPIKey, ConnectionStatus
from integrations.services import connection_checks, connections


class WriteOnlyTextarea(forms.Textarea):
    """Never renders a value, not even the one just submitted with an error."""

    def format_value(self, value):
        return None


class ConnectionForm(forms.ModelForm):
    settings = PrettyJSONField(
        rows=6, required=False, help_text="Non-secret settings: URLs, company code…"
    )
    replace_secrets = forms.CharField(
        label="Replace secrets (JSON)",
        required=False,
        strip=True,
        widget=WriteOnlyTextarea(
            attrs={"rows": 5, "cols": 80, "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="Write-only. Leave empty to keep the stored secrets; fill in a "
        'JSON object such as {"signing_secret": "…"} to replace all of them.',
    )

    class Meta:
        model = Connection
        # Not "credentials": secrets are only ever written, through replace_secrets.
        fields = [
            "name",
            "slug",
            "system",
            "status",
            "status_message",
            "settings",
            "calls_per_minute",
            "calls_per_day",
            "max_concurrent_calls",
        ]

    def clean_settings(self):
        return self.cleaned_data["settings"] or {}

    def clean_replace_secrets(self) -> dict | None:
        text = self.cleaned_data["replace_secrets"]
        if not text:
            return None
        try:
            secrets = json.loads(text)
        except ValueError:
            # Never echo the input back: it is a secret.
            raise forms.ValidationError("This is not valid JSON.") from None
        if not isinstance(secrets, dict):
            raise forms.ValidationError('Enter a JSON object, e.g. {"token": "…"}.')
        return secrets


@admin.register(Connection)
class ConnectionAdmin(DjangoObjectActions, SimpleHistoryAdmin):
    form = ConnectionForm
    list_display = (
        "name",
        "system",
        "status_badge",
        "health",
        "status_message",
        "last_success_at",
        "updated_at",
    )
    list_filter = ("system", "status")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = (
        "secrets_set",
        "health",
        "last_check_message",
        "last_checked_at",
        "last_success_at",
        "created_at",
        "updated_at",
    )
    change_actions = ("test_connection", "mark_reauthorised")
    fieldsets = [
        (None, {"fields": ["name", "slug", "system", "status", "status_message"]}),
        ("Settings", {"fields": ["settings"]}),
        ("Secrets", {"fields": ["secrets_set", "replace_secrets"]}),
        (
            "API budget",
            {"fields": ["calls_per_minute", "calls_per_day", "max_concurrent_calls"]},
        ),
        (
            "Health",
            {
                "fields": [
                    "health",
                    "last_check_message",
                    "last_checked_at",
                    "last_success_at",
                ]
            },
        ),
        ("Activity", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="status", ordering="status")
    def status_badge(self, connection: Connection) -> str:
        return badge(connection.status, connection.get_status_display())

    @admin.display(description="health", ordering="last_check_ok")
    def health(self, connection: Connection) -> str:
        return health_badge(connection)

    @admin.display(description="secrets set")
    def secrets_set(self, connection: Connection) -> str:
        names = sorted((connection.credentials or {}).keys())
        if not names:
            return format_html('<span class="lb-muted">{}</span>', "None")
        return ", ".join(names)

    def save_model(self, request, obj, form, change) -> None:
        secrets = form.cleaned_data.get("replace_secrets")
        if secrets is not None:
            obj.credentials = secrets
        elif change:
            # Keep what is stored, whatever the form instance carried (a history
            # revert builds the instance from rows that exclude credentials).
            obj.credentials = Connection.objects.get(pk=obj.pk).credentials
        super().save_model(request, obj, form, change)

    def get_change_actions(self, request, object_id, form_url):
        connection = self.get_object(request, object_id)
        if connection is None or not self.has_change_permission(request, connection):
            return []
        if connection.status == ConnectionStatus.NEEDS_REAUTH:
            return ["test_connection", "mark_reauthorised"]
        return ["test_connection"]

    @action(
        label="Test connection",
        description="Reach the system now with the stored settings and secrets",
        methods=("POST",),
        button_type="form",
    )
    def test_connection(self, request, connection: Connection) -> None:
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        result = connection_checks.check(connection)
        if result.ok:
            messages.success(request, f"{connection.name}: {result.message}")
        elif result.ok is None:
            messages.warning(request, f"{connection.name}: {result.message}")
        else:
            messages.error(
                request, f"{connection.name} cannot be reached: {result.message}"
            )

    @action(
        label="Mark re-authorised",
        description="Secrets are fixed: make the connection active and wake its "
        "waiting records",
        methods=("POST",),
        button_type="form",
    )
    def mark_reauthorised(self, request, connection: Connection) -> None:
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        woken = connections.reauthorised(connection)
        messages.success(
            request,
            f"{connection.name} is active again; {woken} waiting record(s) "
            "will run now.",
        )


class ConnectionAPIKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ConnectionAPIKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="What calls made with this key may do.",
    )

    class Meta:
        model = ConnectionAPIKey
        fields = ["name", "connection", "scopes", "expiry_date", "revoked"]


# The library registers its own APIKey model; callers here use ConnectionAPIKey
# only, and two "API keys" entries in the menu would send people to the wrong one.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(ConnectionAPIKey)
class ConnectionAPIKeyAdmin(APIKeyModelAdmin):
    """The key is shown once, in a message, when it is created; only its hash stays."""

    form = ConnectionAPIKeyForm
    list_display = (
        "prefix",
        "name",
        "connection",
        "scope_list",
        "created",
        "expiry_date",
        "_has_expired",
        "revoked",
    )
    list_filter = ("connection", "revoked", "created")
    list_select_related = ("connection",)

    @admin.display(description="scopes")
    def scope_list(self, key: ConnectionAPIKey) -> str:
        labels = dict(ConnectionAPIKey.Scope.choices)
        return ", ".join(labels.get(s, s) for s in key.scopes) or "-"
