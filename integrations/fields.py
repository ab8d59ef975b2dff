"""Encrypted model fields.

A ~50-line field on ``MultiFernet`` instead of a library: the popular packages
return ciphertext silently when the key is wrong and stringify JSON. Here a
wrong key is a loud error, and JSON stays JSON.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt_json(value: Any) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> Any:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored credential cannot be decrypted with FIELD_ENCRYPTION_KEYS. "
            "Was a key removed before the data was re-encrypted?"
        ) from None


class EncryptedJSONField(models.TextField):
    """JSON stored as a Fernet token; readable only with FIELD_ENCRYPTION_KEYS."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        return decrypt_json(value)

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value

    def get_prep_value(self, value):
        if value is None:
            value = {}
        return encrypt_json(value)

    def value_to_string(self, obj):
        return "(encrypted)"

    def formfield(self, **kwargs):
        from django import forms

        return forms.JSONField(**{"required": False, **kwargs})
