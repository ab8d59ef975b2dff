"""Every API error is JSON that names the field, never an HTML 500 page."""

from __future__ import annotations

from rest_framework.views import exception_handler as drf_handler


def _flatten(detail, prefix: str = "") -> list[dict]:
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix
            errors.extend(_flatten(value, name))
        return errors
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [{"field": prefix or None, "message": str(item)} for item in detail]
        errors = []
        for index, item in enumerate(detail):
            errors.extend(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return errors
    return [{"field": prefix or None, "message": str(detail)}]


def exception_handler(exc, context):
    response = drf_handler(exc, context)
    if response is None:
        return None
    errors = _flatten(response.data)
    response.data = {
        "error": errors[0]["message"] if errors else "Request refused.",
        "field": errors[0]["field"] if errors else None,
        "errors": errors,
    }
    return response
