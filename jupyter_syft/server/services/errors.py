"""Errors a service raises when a caller breaks a rule; the HTTP layer maps them to 4xx JSON."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class BadRequest(ServiceError):
    pass


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class Unprocessable(ServiceError):
    """Well-formed, but the stored value it names cannot be decoded."""

    status = 422
    code = "unprocessable"


class TooManyRequests(ServiceError):
    status = 429
    code = "too_many_requests"

    def __init__(self, detail: str, retry_after: float):
        super().__init__(detail)
        self.retry_after = retry_after
