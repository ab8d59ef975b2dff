"""The error taxonomy (DESIGN.md section 2).

Connectors turn every vendor failure into one of these at their boundary; the
runner only ever sees these. Each carries the words finance staff will read.
"""

from __future__ import annotations

from integrations.models import ErrorCategory

INTERNAL_FAULT = (
    "LedgerBridge could not process this record because of a fault in its own "
    "software (not in your data or the other system). It will try again; if it "
    "keeps failing, tell your Integration admin."
)


class SyncError(Exception):
    category: str = ErrorCategory.UNAVAILABLE
    retryable: bool = False
    # True for our own bugs, classified as unavailable so they are retried.
    internal: bool = False

    def __init__(self, message: str, *, field: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message} (field: {self.field})" if self.field else self.message


class ValidationFailed(SyncError):
    category = ErrorCategory.VALIDATION


class ReferenceMissing(SyncError):
    category = ErrorCategory.REFERENTIAL


class DuplicateAmbiguous(SyncError):
    category = ErrorCategory.DUPLICATE

    def __init__(self, message: str, *, candidates=(), **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.candidates = list(candidates)


class ConflictDetected(SyncError):
    category = ErrorCategory.CONFLICT


class RateLimited(SyncError):
    category = ErrorCategory.RATE_LIMITED
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class Unavailable(SyncError):
    category = ErrorCategory.UNAVAILABLE
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class AuthRevoked(SyncError):
    """The connection must be re-authorised; its records wait for that."""

    category = ErrorCategory.AUTH
    retryable = True
    # Set by the Run's client wrapper: which Connection refused us.
    connection_id: int | None = None


def classify(exc: BaseException) -> SyncError:
    """Anything a flow raised that is not ours becomes ``unavailable``.

    An unclassified error is most likely a bug or a vendor surprise; retrying with
    backoff is the safe default, and the attempt keeps the traceback.
    """
    if isinstance(exc, SyncError):
        return exc
    # The attempt keeps the traceback; people read words they can act on.
    error = Unavailable(INTERNAL_FAULT)
    error.internal = True
    return error
