"""A connection's secrets on its admin page: written, never read back.

Each stored secret gets its own empty box: leave it empty to keep the secret,
type to replace it. Secrets can also be removed, one added, or all replaced at
once from a JSON object. The page and its history only ever name the secrets;
Django's change log and the connection's history say which ones changed.
"""

from __future__ import annotations

import json
import re

from django import forms

from integrations.models import Connection

PREFIX = "secret__"
# Boxes that follow the stored ones, in page order.
SECRET_FIELDS = [
    "remove_secrets",
    "new_secret_name",
    "new_secret_value",
    "replace_secrets",
]
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
MULTILINE_HINTS = ("private_key", "pem", "certificate")


class WriteOnlyTextarea(forms.Textarea):
    """Never renders a value, not even the one just submitted with an error."""

    def format_value(self, value):
        return None


class WriteOnlyInput(forms.PasswordInput):
    """Typed characters are hidden and nothing is ever sent back to the page."""

    def __init__(self, attrs=None):
        super().__init__(
            attrs={"autocomplete": "new-password", "size": 60, **(attrs or {})},
            render_value=False,
        )


def _widget_for(name: str) -> forms.Widget:
    if any(hint in name.lower() for hint in MULTILINE_HINTS):
        return WriteOnlyTextarea(
            attrs={"rows": 3, "cols": 80, "autocomplete": "off", "spellcheck": "false"}
        )
    return WriteOnlyInput()


def field_name(secret: str) -> str:
    return PREFIX + secret


class SecretFields(forms.Form):
    """Mixed into the connection form; ``secret_keys`` are the stored names."""

    secret_keys: tuple[str, ...] = ()

    remove_secrets = forms.MultipleChoiceField(
        label="Remove secrets",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick a secret to delete it.",
    )
    new_secret_name = forms.CharField(
        label="Add a secret: name",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="For example client_secret or signing_secret.",
    )
    new_secret_value = forms.CharField(
        label="Add a secret: value",
        required=False,
        strip=False,
        widget=WriteOnlyInput(),
    )
    replace_secrets = forms.CharField(
        label="Replace all secrets (JSON)",
        required=False,
        strip=True,
        widget=WriteOnlyTextarea(
            attrs={"rows": 5, "cols": 80, "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="Write-only. Leave empty to keep the stored secrets; fill in a "
        'JSON object such as {"signing_secret": "…"} to replace all of them.',
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["remove_secrets"].choices = [(k, k) for k in self.secret_keys]

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

    def clean_new_secret_name(self) -> str:
        name = self.cleaned_data["new_secret_name"]
        if name and not NAME.match(name):
            raise forms.ValidationError(
                "A secret's name starts with a letter and has only letters, digits, "
                "dots, dashes and underscores."
            )
        if name in self.secret_keys:
            raise forms.ValidationError(
                f"{name} is already set: type its new value in its own box above."
            )
        return name

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("new_secret_name")
        value = self.cleaned_data.get("new_secret_value")
        if name and not value:
            self.add_error("new_secret_value", f"Type the value of {name}.")
        if value and not name and "new_secret_name" not in self.errors:
            self.add_error("new_secret_name", "Name the secret you are adding.")
        edits = self._per_key_values() or cleaned.get("remove_secrets") or name
        if cleaned.get("replace_secrets") is not None and edits:
            self.add_error(
                "replace_secrets",
                "Either replace all secrets here or change them one by one above, "
                "not both at once.",
            )
        return cleaned

    def _per_key_values(self) -> dict[str, str]:
        values = {}
        for key in self.secret_keys:
            value = self.cleaned_data.get(field_name(key))
            if value:
                values[key] = value
        return values

    def updated_secrets(self, stored: dict) -> tuple[dict, list[str]]:
        """The credentials to store, and the names of those that changed."""
        replaced = self.cleaned_data.get("replace_secrets")
        if replaced is not None:
            result = dict(replaced)
        else:
            result = dict(stored)
            result.update(self._per_key_values())
            for key in self.cleaned_data.get("remove_secrets") or ():
                result.pop(key, None)
            name = self.cleaned_data.get("new_secret_name")
            if name:
                result[name] = self.cleaned_data["new_secret_value"]
        changed = sorted(
            key
            for key in set(stored) | set(result)
            if stored.get(key, _MISSING) != result.get(key, _MISSING)
        )
        return result, changed


_MISSING = object()


def form_with_boxes(base: type[SecretFields], keys: list[str]) -> type[SecretFields]:
    """``base`` with one write-only box per stored secret."""
    attrs = {
        "secret_keys": tuple(keys),
        **{
            field_name(key): forms.CharField(
                label=key,
                required=False,
                strip=False,
                widget=_widget_for(key),
                help_text="Set. Leave empty to keep it; type a new value to "
                "replace it.",
            )
            for key in keys
        },
    }
    return type(base.__name__, (base,), attrs)


class SecretsAdminMixin:
    """For ConnectionAdmin (before ModelAdmin): boxes per secret, saved safely.

    The "Secrets" fieldset lists ``secrets_set`` and ``SECRET_FIELDS``; the stored
    secrets' boxes are inserted after ``secrets_set``. Without the right to
    change the connection, only the names of the secrets are shown.
    """

    def _stored_keys(self, obj) -> list[str]:
        return sorted((obj.credentials or {}).keys()) if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = form_with_boxes(self.form, self._stored_keys(obj))
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        writable = self.has_change_permission(request, obj) or (
            obj is None and self.has_add_permission(request)
        )
        boxes = [field_name(key) for key in self._stored_keys(obj)]
        fieldsets = []
        for title, options in super().get_fieldsets(request, obj):
            fields = list(options.get("fields", ()))
            if set(SECRET_FIELDS) & set(fields):
                fields = [f for f in fields if f not in SECRET_FIELDS]
                if writable:
                    at = (
                        fields.index("secrets_set") + 1
                        if "secrets_set" in fields
                        else 0
                    )
                    fields[at:at] = [*boxes, *SECRET_FIELDS]
            fieldsets.append((title, {**options, "fields": fields}))
        return fieldsets

    def save_model(self, request, obj, form, change) -> None:
        # Start from what is stored, whatever the form instance carried (a
        # history revert builds the instance from rows without credentials).
        stored = Connection.objects.get(pk=obj.pk).credentials if change else {}
        if isinstance(form, SecretFields):
            obj.credentials, changed = form.updated_secrets(stored)
        else:
            obj.credentials, changed = stored, []
        if changed:
            # The history row names the secrets, never their values.
            obj._change_reason = "Secrets changed: " + ", ".join(changed)
        super().save_model(request, obj, form, change)
