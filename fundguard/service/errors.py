"""Errors raised by the supervision service; each is a ``FundGuardError`` (Chinese and English message).

``code`` is a stable machine name and ``http_status`` the status the REST layer should answer with.
"""

from __future__ import annotations

from fundguard.core.errors import FundGuardError, InputError


class ServiceError(FundGuardError):
    """Base of the service errors."""

    code = "error"
    http_status = 400


class NotAuthenticated(ServiceError):
    code = "not_authenticated"
    http_status = 401


class OtpRequired(NotAuthenticated):
    """The password was right but the one-time code (second factor) is missing or wrong (401)."""

    code = "otp_required"


class PermissionDenied(ServiceError):
    code = "forbidden"
    http_status = 403


class NotFound(ServiceError):
    code = "not_found"
    http_status = 404


class InvalidTransition(ServiceError):
    code = "invalid_transition"
    http_status = 409


class StaleVersion(ServiceError):
    code = "stale_version"
    http_status = 409


class AccountLocked(ServiceError):
    code = "account_locked"
    http_status = 423


class TooManyAttempts(ServiceError):
    """Login back-off: retry after ``retry_after`` seconds (429 with ``Retry-After``)."""

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, zh: str, en: str, retry_after: int) -> None:
        super().__init__(zh, en)
        self.retry_after = retry_after


class PasswordChangeRequired(ServiceError):
    """A first or reset password must be changed before anything else (403)."""

    code = "password_change_required"
    http_status = 403


class BadUpload(ServiceError):
    """An upload of a type we do not accept (415) or too large (``too_large``: 413)."""

    code = "bad_upload"
    http_status = 415

    def __init__(self, zh: str, en: str, *, too_large: bool = False) -> None:
        super().__init__(zh, en)
        if too_large:
            self.code = "upload_too_large"
            self.http_status = 413


class ValidationFailed(ServiceError, InputError):
    """A field of a request is missing or invalid (422)."""

    code = "validation"
    http_status = 422


class RowsRejected(ValidationFailed):
    """A file whose rows are refused as a whole (422): ``rows`` names each bad row and why (``row``,
    ``message_id``, ``reason_zh``), so the page can list them; nothing of the file was applied."""

    def __init__(self, zh: str, en: str, rows: list[dict]) -> None:
        super().__init__(zh, en)
        self.rows = rows


def not_found(what_zh: str, what_en: str, key: object) -> NotFound:
    return NotFound(f"{what_zh} {key} 不存在", f"{what_en} {key} not found")


def forbidden(zh: str = "无权执行此操作", en: str = "not allowed") -> PermissionDenied:
    return PermissionDenied(zh, en)


def from_workflow(exc: Exception) -> ServiceError:
    """A ``supervision.workflow`` refusal as a service error: a role not allowed is 403, the rest 409."""
    from fundguard.supervision.workflow import RoleNotAllowed

    zh, en = getattr(exc, "zh", str(exc)), getattr(exc, "en", str(exc))
    return PermissionDenied(zh, en) if isinstance(exc, RoleNotAllowed) else InvalidTransition(zh, en)
