"""Login throttling with django-axes, in our words.

After ``AXES_FAILURE_LIMIT`` wrong passwords for one user name from one
address, signing in is paused for ``AXES_COOLOFF_TIME``; the page says so
plainly, and an Integration admin can lift it early (Access attempts, delete).
"""

from __future__ import annotations

from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' guard for every sign-in through a web page.

    ``authenticate()`` called without a request (a management command, the
    shell, a test) is not a sign-in from outside, so it is not counted; the
    stock backend refuses such calls outright.
    """

    def authenticate(self, request: HttpRequest | None, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address; behind our TLS proxy, the hop the proxy added."""
    if getattr(settings, "BEHIND_TLS_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")


def in_words(span: timedelta) -> str:
    """'15 minutes', '1 hour', '1 hour 30 minutes'."""
    minutes = max(1, round(span.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour" + ("s" if hours != 1 else ""))
    if minutes:
        parts.append(f"{minutes} minute" + ("s" if minutes != 1 else ""))
    return " ".join(parts)


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """The page a locked-out person sees instead of the login form."""
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    until = timezone.localtime(timezone.now() + cool_off)
    context = {
        **admin.site.each_context(request),
        "title": "Signing in is paused",
        "is_nav_sidebar_enabled": False,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "wait": in_words(cool_off),
        "until": until,
    }
    return TemplateResponse(
        request,
        "registration/locked_out.html",
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    ).render()
