"""Every API error is JSON that names the field, never an HTML page.

DRF views answer through ``exception_handler``; requests under ``/api/`` that
never reach a DRF view (no route, a crash, a refused upload) answer through the
``handler*`` functions, which ``portal/urls.py`` installs. Everything else, the
admin included, keeps Django's HTML pages.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_handler

API_PREFIX = "/api/"


class Conflict(APIException):
    """The record's state forbids the action right now (409), e.g. a finished record."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


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


def error_body(message: str, field: str | None = None, **extra) -> dict:
    """The one error shape: the first problem up front, all of them in ``errors``."""
    return {
        "error": message,
        "field": field or None,
        "errors": [{"field": field or None, "message": message}],
        **extra,
    }


def error_response(
    status_code: int, message: str, field: str | None = None, **extra
) -> Response:
    return Response(error_body(message, field, **extra), status=status_code)


def exception_handler(exc, context):
    # Services validate with Django's ValidationError; callers should see a 400
    # naming the field, not a 500.
    if isinstance(exc, DjangoValidationError):
        exc = DRFValidationError(detail=as_serializer_error(exc))
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


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    return JsonResponse(
        error_body("The request could not be read (malformed or too large)."),
        status=400,
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse(
        error_body(str(exception) or "You may not do this."), status=403
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    message = f"No API endpoint at {request.path}; see /api/docs/ for the list."
    return JsonResponse(error_body(message), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    # Django has already logged the traceback; the caller gets words, not a trace.
    message = "The server failed while handling this request; the error is logged."
    return JsonResponse(error_body(message), status=500)
