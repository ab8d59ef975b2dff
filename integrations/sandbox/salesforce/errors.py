"""Errors the way the REST API reports them: a list of {message, errorCode, fields}."""

from __future__ import annotations


class ApiError(Exception):
    """One or more errors with the HTTP status the API answers them with."""

    def __init__(
        self,
        error_code: str,
        message: str,
        fields: list[str] | tuple[str, ...] = (),
        *,
        status: int = 400,
        with_fields: bool = True,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code, self.message = error_code, message
        self.fields, self.status = list(fields), status
        self.with_fields = with_fields

    def body(self) -> list[dict]:
        """REST's shape (single-record calls); session, resource and limit
        errors carry no ``fields``, record errors always do."""
        error = {"message": self.message, "errorCode": self.error_code}
        if self.with_fields:
            error["fields"] = self.fields
        return [error]

    def collection_error(self) -> dict:
        """sObject Collections' shape (``statusCode`` instead of ``errorCode``)."""
        return {
            "statusCode": self.error_code,
            "message": self.message,
            "fields": self.fields,
        }


def not_found() -> ApiError:
    return ApiError(
        "NOT_FOUND",
        "The requested resource does not exist",
        status=404,
        with_fields=False,
    )


def invalid_session() -> ApiError:
    return ApiError(
        "INVALID_SESSION_ID",
        "Session expired or invalid",
        status=401,
        with_fields=False,
    )
