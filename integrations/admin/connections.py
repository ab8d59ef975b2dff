"""Connections and the API keys external systems call us with.

Secrets go in and never come back out: each has a write-only box that
replaces it (admin/connection_secrets.py), and the page only names them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django_object_actions import DjangoObjectActions, action
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey
from simple_history.admin import SimpleHistoryAdmin

from integrations.admin import xero_connect
from integrations.admin.connection_secrets import (
    SECRET_FIELDS,
    SecretFields,
    SecretsAdminMixin,
)
from integrations.admin.display import (
    PrettyJSONField,
    badge,
    health_badge,
    relative_time,
    usage_text,
)
from integrations.models import (
    Connection,
    ConnectionAPIKey,
    ConnectionStatus,
    System,
)
from integrations.services import connection_checks, connections, health


class ConnectionForm(SecretFields, forms.ModelForm):
    settings = PrettyJSONField(
        rows=6, required=False, help_text="Non-secret settings: URLs, company code…"
    )

    class Meta:
        model = Connection
        # Not "credentials": secrets are only ever written, through SecretFields.
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


class ConnectionChangeList(ChangeList):
    """Reads every listed connection's health figures at once (one Redis call)."""

    def get_results(self, request) -> None:
        super().get_results(request)
        token = get_token(request)
        for figures in health.connection_health(list(self.result_list)):
            figures.connection.figures = figures
            figures.connection.csrf_token = token


@admin.register(Connection)
class ConnectionAdmin(DjangoObjectActions, SecretsAdminMixin, SimpleHistoryAdmin):
    form = ConnectionForm
    list_display = (
        "name",
        "system",
        "state",
        "last_worked",
        "calls_today",
        "token_expiry",
        "row_actions",
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
        "calls_today",
        "token_expiry",
        "authorisation",
        "created_at",
        "updated_at",
    )
    change_actions = ("test_connection", "reauthorise", "mark_reauthorised")
    fieldsets = [
        (None, {"fields": ["name", "slug", "system", "status", "status_message"]}),
        ("Settings", {"fields": ["settings"]}),
        ("Secrets", {"fields": ["secrets_set", *SECRET_FIELDS]}),
        (
            "API budget",
            {
                "fields": [
                    "calls_per_minute",
                    "calls_per_day",
                    "max_concurrent_calls",
                    "calls_today",
                ]
            },
        ),
        (
            "Health",
            {
                "fields": [
                    "health",
                    "last_check_message",
                    "last_checked_at",
                    "last_success_at",
                    "token_expiry",
                    "authorisation",
                ]
            },
        ),
        ("Activity", {"fields": ["created_at", "updated_at"]}),
    ]

    class Media:
        css = {"all": ["integrations/dashboard.css"]}

    def get_urls(self):
        return [*xero_connect.urls(self), *super().get_urls()]

    def get_changelist(self, request, **kwargs):
        return ConnectionChangeList

    @admin.display(description="status", ordering="status")
    def status_badge(self, connection: Connection) -> str:
        return badge(connection.status, connection.get_status_display())

    @admin.display(description="health", ordering="last_check_ok")
    def health(self, connection: Connection) -> str:
        return health_badge(connection)

    @admin.display(description="state", ordering="status")
    def state(self, connection: Connection) -> str:
        """Status and latest test in one word: what a person needs to know."""
        from integrations.admin.dashboard import STATE_LABELS

        value = _figures(connection).state
        return badge(value, STATE_LABELS[value])

    @admin.display(description="last worked", ordering="last_success_at")
    def last_worked(self, connection: Connection) -> str:
        return relative_time(connection.last_success_at)

    @admin.display(description="API calls today")
    def calls_today(self, connection: Connection) -> str:
        figures = _figures(connection)
        ours = usage_text(figures.calls_today)
        if figures.calls_today is None and not (
            connection.calls_per_minute or connection.calls_per_day
        ):
            ours = format_html(
                '<span class="lb-muted" title="{}">not counted</span>',
                "No API budget is set for this connection, so its calls are "
                "not counted.",
            )
        if figures.vendor_usage is None:
            return ours
        return format_html(
            '{}<br><span class="lb-muted">Salesforce says {} today</span>',
            ours,
            usage_text(figures.vendor_usage),
        )

    @admin.display(description="login expires")
    def token_expiry(self, connection: Connection) -> str:
        figures = _figures(connection)
        if figures.token_expires_at:
            return relative_time(figures.token_expires_at)
        if figures.logged_in_at:
            return format_html(
                '{}<br><span class="lb-muted">logged in {}; set settings.{} '
                "to know when it ends</span>",
                "—",
                relative_time(figures.logged_in_at),
                health.SESSION_TIMEOUT_SETTING,
            )
        return "—"

    @admin.display(description="actions")
    def row_actions(self, connection: Connection) -> str:
        """Test and (re-)authorise from the list, posting to the change actions."""
        token = getattr(connection, "csrf_token", "")
        figures = _figures(connection)
        buttons = [_row_button(connection, "test_connection", "Test connection", token)]
        if connection.system == System.XERO:
            buttons.append(xero_connect.row_button(connection, token))
        elif figures.reauthorise == "available":
            buttons.append(
                _row_button(connection, "reauthorise", "Re-authorise", token)
            )
        elif figures.reauthorise == "unavailable":
            buttons.append(_connect_unavailable(figures))
        return format_html(
            '<div class="lb-row-actions">{}</div>',
            format_html_join("", "{}", ((b,) for b in buttons)),
        )

    @admin.display(description="authorisation")
    def authorisation(self, connection: Connection) -> str:
        if connection.system == System.XERO:
            return xero_connect.authorisation(connection)
        figures = _figures(connection)
        if figures.reauthorise == "available":
            return f"Re-authorise (button above): {figures.reauthorise_note}"
        if figures.reauthorise == "unavailable":
            return _connect_unavailable(figures)
        return "Not needed: this system is not authorised in a browser."

    @admin.display(description="secrets set")
    def secrets_set(self, connection: Connection) -> str:
        names = sorted((connection.credentials or {}).keys())
        if not names:
            return format_html('<span class="lb-muted">{}</span>', "None")
        return ", ".join(names)

    def get_change_actions(self, request, object_id, form_url):
        connection = self.get_object(request, object_id)
        if connection is None or not self.has_change_permission(request, connection):
            return []
        shown = ["test_connection"]
        if connection.system == System.SALESFORCE:
            shown.append("reauthorise")
        elif connection.status == ConnectionStatus.NEEDS_REAUTH:
            shown.append("mark_reauthorised")
        return shown

    @action(
        label="Test connection",
        description="Reach the system now with the stored settings and secrets",
        methods=("POST",),
        button_type="form",
    )
    def test_connection(self, request, connection: Connection):
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
        return _back(request)

    @action(
        label="Re-authorise",
        description="Log in to Salesforce afresh with the stored secrets; when it "
        "works, make the connection active and wake its waiting records",
        methods=("POST",),
        button_type="form",
    )
    def reauthorise(self, request, connection: Connection):
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        if connection.system != System.SALESFORCE:
            messages.error(
                request, f"{connection.name} cannot be re-authorised from here."
            )
            return _back(request)
        result, woken = health.reauthorise_salesforce(connection)
        if result.ok:
            messages.success(
                request,
                f"{connection.name} is authorised and active; {woken} waiting "
                f"record(s) will run now. {result.message}",
            )
        else:
            messages.error(
                request,
                f"{connection.name} could not log in, so it stays "
                f"{connection.get_status_display().lower()}: {result.message}",
            )
        return _back(request)

    @action(
        label="Mark re-authorised",
        description="Secrets are fixed: make the connection active and wake its "
        "waiting records",
        methods=("POST",),
        button_type="form",
    )
    def mark_reauthorised(self, request, connection: Connection):
        if not self.has_change_permission(request, connection):
            raise PermissionDenied
        woken = connections.reauthorised(connection)
        messages.success(
            request,
            f"{connection.name} is active again; {woken} waiting record(s) "
            "will run now.",
        )
        return _back(request)


def _figures(connection: Connection) -> health.ConnectionHealth:
    figures = getattr(connection, "figures", None)
    if figures is None:
        figures = connection.figures = health.connection_health([connection])[0]
    return figures


def _connect_unavailable(figures: health.ConnectionHealth) -> str:
    return format_html(
        '<span class="lb-connect"><button type="button" class="button" disabled '
        'title="{}">Connect</button> <span class="lb-muted">{}</span></span>',
        figures.reauthorise_note,
        figures.reauthorise_note,
    )


def _row_button(connection: Connection, tool: str, label: str, token: str) -> str:
    url = reverse(
        "admin:integrations_connection_actions",
        kwargs={"pk": connection.pk, "tool": tool},
    )
    return format_html(
        '<form method="post" action="{}" class="lb-inline-form">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="back" value="list">'
        '<button type="submit" class="button">{}</button></form>',
        url,
        token,
        label,
    )


def _back(request) -> HttpResponseRedirect | None:
    """A button pressed in the list goes back to the list; None: the change page."""
    if request.POST.get("back") == "list":
        return HttpResponseRedirect(reverse("admin:integrations_connection_changelist"))
    return None


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
