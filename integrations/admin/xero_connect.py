"""The connections page's "Connect to Xero", organisation choice and "Disconnect".

Only people who may change connections (the Integration admin) get here;
every change is a POST with Django's CSRF token, and Xero's callback is
checked against the signed, session-bound ``state`` by
``services.xero_connect``. The views are thin: the service does the work.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from integrations.models import Connection, System
from integrations.services import xero_connect

TEMPLATES = "admin/integrations/xero/"


class TenantForm(forms.Form):
    tenant_id = forms.ChoiceField(
        label="Organisation",
        widget=forms.RadioSelect,
        help_text="The Xero organisation this connection reads and writes.",
    )

    def __init__(self, *args, tenants: list[xero_connect.Tenant], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant_id"].choices = [
            (t.tenant_id, f"{t.name} ({t.tenant_type.lower()})") for t in tenants
        ]


def urls(model_admin) -> list:
    """Added in front of the Connection admin's own URLs."""

    def view(function):
        def wrapped(request, *args, **kwargs):
            return function(request, *args, model_admin=model_admin, **kwargs)

        return model_admin.admin_site.admin_view(wrapped)

    return [
        path("<int:pk>/xero/connect/", view(connect_view), name="xero_connect"),
        path("xero/callback/", view(callback_view), name="xero_callback"),
        path("<int:pk>/xero/organisation/", view(tenant_view), name="xero_tenant"),
        path(
            "<int:pk>/xero/disconnect/", view(disconnect_view), name="xero_disconnect"
        ),
    ]


def _connection(model_admin, request: HttpRequest, pk: int) -> Connection:
    connection = get_object_or_404(Connection, pk=pk, system=System.XERO)
    if not model_admin.has_change_permission(request, connection):
        raise PermissionDenied
    return connection


def _change_page(connection: Connection) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("admin:integrations_connection_change", args=[connection.pk])
    )


def _context(model_admin, request, title: str, connection=None, **more) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": Connection._meta,
        "title": title,
        "connection": connection,
        **more,
    }


@require_http_methods(["GET", "POST"])
def connect_view(request: HttpRequest, pk: int, *, model_admin) -> HttpResponse:
    """GET: what will happen; POST: off to Xero's consent page."""
    connection = _connection(model_admin, request, pk)
    if request.method == "GET":
        return TemplateResponse(
            request,
            TEMPLATES + "connect.html",
            _context(
                model_admin, request, f"Connect {connection.name} to Xero", connection
            ),
        )
    try:
        url = xero_connect.start(
            request.session,
            connection,
            redirect_uri=request.build_absolute_uri(reverse("admin:xero_callback")),
        )
    except xero_connect.ConnectFailed as exc:
        messages.error(request, exc.message)
        return _change_page(connection)
    return HttpResponseRedirect(url)


@require_http_methods(["GET"])
def callback_view(request: HttpRequest, *, model_admin) -> HttpResponse:
    """Where Xero sends the browser back, with a code or an error."""
    try:
        connection, tenants = xero_connect.finish(
            request.session,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
            error_description=request.GET.get("error_description", ""),
        )
    except xero_connect.ConnectFailed as exc:
        return TemplateResponse(
            request,
            TEMPLATES + "failed.html",
            _context(model_admin, request, "Connect to Xero failed", problem=exc),
            status=400,
        )
    if not model_admin.has_change_permission(request, connection):
        raise PermissionDenied
    if len(tenants) == 1:
        return _use(request, connection, tenants[0].tenant_id)
    return _choose(model_admin, request, connection, tenants)


@require_http_methods(["GET", "POST"])
def tenant_view(request: HttpRequest, pk: int, *, model_admin) -> HttpResponse:
    connection = _connection(model_admin, request, pk)
    try:
        tenants = xero_connect.tenants(connection)
    except xero_connect.ConnectFailed as exc:
        messages.error(request, exc.message)
        return _change_page(connection)
    if request.method == "POST":
        form = TenantForm(request.POST, tenants=tenants)
        if form.is_valid():
            return _use(request, connection, form.cleaned_data["tenant_id"])
        return _choose(model_admin, request, connection, tenants, form=form)
    return _choose(model_admin, request, connection, tenants)


def _choose(model_admin, request, connection, tenants, *, form=None):
    current = (connection.settings or {}).get("tenant_id")
    form = form or TenantForm(
        tenants=tenants, initial={"tenant_id": current or tenants[0].tenant_id}
    )
    return TemplateResponse(
        request,
        TEMPLATES + "choose_tenant.html",
        _context(
            model_admin,
            request,
            f"Choose the Xero organisation for {connection.name}",
            connection,
            form=form,
            tenants=tenants,
        ),
    )


def _use(request, connection: Connection, tenant_id: str) -> HttpResponse:
    try:
        woken = xero_connect.choose_tenant(connection, tenant_id)
    except xero_connect.ConnectFailed as exc:
        messages.error(request, exc.message)
        return _change_page(connection)
    connection.refresh_from_db()
    name = connection.settings.get("tenant_name", tenant_id)
    messages.success(
        request,
        f"{connection.name} is connected to the Xero organisation {name} and "
        f"active; {woken} waiting record(s) will run now.",
    )
    return _change_page(connection)


@require_http_methods(["GET", "POST"])
def disconnect_view(request: HttpRequest, pk: int, *, model_admin) -> HttpResponse:
    connection = _connection(model_admin, request, pk)
    if request.method == "GET":
        return TemplateResponse(
            request,
            TEMPLATES + "disconnect.html",
            _context(
                model_admin,
                request,
                f"Disconnect {connection.name} from Xero",
                connection,
            ),
        )
    try:
        done = xero_connect.disconnect(connection)
    except xero_connect.ConnectFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{connection.name} is disconnected: {done}. Its records wait until "
            "it is connected again.",
        )
    return _change_page(connection)


def authorisation(connection: Connection) -> str:
    """The change page's "authorisation" line for a Xero connection (links:
    a form cannot sit inside the change form)."""
    settings = connection.settings or {}
    if str(settings.get("grant") or "") == "client_credentials":
        return (
            "Not needed: a custom connection logs in with its client id and "
            "secret; Test connection checks it."
        )
    connect = reverse("admin:xero_connect", args=[connection.pk])
    if not (connection.credentials or {}).get("token_set"):
        return format_html(
            '<a class="button" href="{}">Connect to Xero</a> '
            '<span class="lb-muted">{}</span>',
            connect,
            "Not connected yet: consent in Xero, then choose the organisation.",
        )
    return format_html(
        'Connected to <strong>{}</strong>. <a class="button" href="{}">Connect to '
        'Xero again</a> <a class="button" href="{}">Choose organisation</a> '
        '<a class="button" href="{}">Disconnect</a>',
        settings.get("tenant_name") or "no organisation chosen yet",
        connect,
        reverse("admin:xero_tenant", args=[connection.pk]),
        reverse("admin:xero_disconnect", args=[connection.pk]),
    )


def row_button(connection: Connection, token: str) -> str:
    """The list's "Connect to Xero" button: straight to Xero's consent page."""
    if str((connection.settings or {}).get("grant") or "") == "client_credentials":
        return ""
    return format_html(
        '<form method="post" action="{}" class="lb-inline-form">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<button type="submit" class="button">Connect to Xero</button></form>',
        reverse("admin:xero_connect", args=[connection.pk]),
        token,
    )
