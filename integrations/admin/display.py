"""Small formatting helpers shared by the admin screens.

Everything that turns a value into HTML goes through ``format_html`` so stored
payloads and provider bodies can never inject markup into the admin.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from integrations.models import ErrorCategory

# What a person can do about each kind of failure, in the words the admin shows.
NEXT_STEP = {
    ErrorCategory.VALIDATION: "Correct the payload below (or the field mapping), "
    "then resubmit.",
    ErrorCategory.REFERENTIAL: "Add the missing cross-reference, or create the "
    "missing item or customer in the target system, then resubmit.",
    ErrorCategory.DUPLICATE: "Decide which existing record this is, bind it with a "
    "cross-reference, then resubmit.",
    ErrorCategory.RATE_LIMITED: "Nothing to do: it is retried when the API budget "
    "allows.",
    ErrorCategory.UNAVAILABLE: "The other system did not answer. Resubmit once it "
    "is back.",
    ErrorCategory.AUTH: "Re-authorise the connection; waiting records continue on "
    "their own.",
    ErrorCategory.CONFLICT: "Both sides changed the same data. Correct the payload "
    "to the value that should win, then resubmit.",
}


def badge(value: str, label: str) -> str:
    """A coloured pill; the colour comes from admin.css by value."""
    return format_html('<span class="lb-badge lb-badge--{}">{}</span>', value, label)


def health_badge(connection) -> str:
    """Healthy / Failing / Not tested, from the connection's latest test."""
    if connection.last_check_ok is None:
        return badge("unknown", "Not tested")
    if connection.last_check_ok:
        return badge("healthy", "Healthy")
    return badge("failing", "Failing")


def usage_text(usage) -> str:
    """'120 of 5,000' API calls, '120 (no daily limit)', or '—' when unknown."""
    if usage is None:
        return "—"
    if usage.limit:
        return f"{usage.used:,} of {usage.limit:,}"
    return f"{usage.used:,} (no daily limit)"


def pretty_json(value: Any) -> str:
    """JSON as an indented, escaped block; an empty value says so."""
    if value in (None, {}, []):
        return format_html('<span class="lb-muted">{}</span>', "(empty)")
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    return format_html('<pre class="lb-json">{}</pre>', text)


def body_text(raw: bytes | memoryview | None) -> tuple[str, bool]:
    """A stored body as text, pretty-printed when it is JSON; and whether it was."""
    data = bytes(raw or b"")
    text = data.decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(data), indent=2, ensure_ascii=False), True
    except ValueError:
        return text, False


def admin_link(obj: Any, label: str | None = None) -> str:
    """A link to an object's admin change page."""
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


def age_in_words(age: timedelta) -> str:
    """'3 h 12 min', '2 d 4 h', '45 min' or 'under a minute'."""
    minutes = int(age.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return "under a minute"


def relative_time(moment: datetime | None) -> str:
    """'in 58 min' or '3 h 12 min ago', with the exact time on hover."""
    if moment is None:
        return "-"
    delta = moment - timezone.now()
    words = (
        f"in {age_in_words(delta)}"
        if delta > timedelta(0)
        else f"{age_in_words(-delta)} ago"
    )
    exact = date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    return format_html('<span title="{}">{}</span>', exact, words)


class PrettyJSONField(forms.JSONField):
    """A JSON textarea that shows indented JSON, so people can edit it by hand."""

    def __init__(self, *, rows: int = 18, **kwargs) -> None:
        attrs = {"class": "lb-json-input", "rows": rows, "cols": 90}
        kwargs.setdefault("widget", forms.Textarea(attrs=attrs))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class JSONObjectField(PrettyJSONField):
    """A JSON field that accepts only an object (or nothing)."""

    def clean(self, value):
        value = super().clean(value)
        if value is not None and not isinstance(value, dict):
            raise forms.ValidationError(
                'Enter a JSON object, e.g. {"qty": 2}. Lists and plain values are '
                "not accepted here."
            )
        return value


class ReadOnlyAdminMixin:
    """For rows only the engine writes (events, attempts, alerts): look, never touch."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
