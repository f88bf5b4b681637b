"""Errors a service raises when a caller breaks a rule.

A service says what went wrong (the class) and why (``detail``); it knows nothing of HTTP. The
HTTP layer maps each class to a status (``server/http/base.py``, ``HTTP_STATUS``). ``code`` is
the error's name in the wire's ``{"error": code, "detail": message}`` answer.
"""

from __future__ import annotations


class ServiceError(Exception):
    code = "bad_request"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class BadRequest(ServiceError):
    pass


class Unauthorized(ServiceError):
    code = "unauthorized"


class Forbidden(ServiceError):
    code = "forbidden"


class Held(Forbidden):
    """A result held for the owners' output review: only they may read its value for now."""

    code = "held"


class Withheld(Held):
    """A result the Datasite's owners withheld after review: its requester reads why."""

    code = "withheld"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class PayloadTooLarge(ServiceError):
    code = "payload_too_large"


class Unprocessable(ServiceError):
    """Well-formed, but the stored value it names cannot be decoded."""

    code = "unprocessable"


class Unavailable(ServiceError):
    """The Datasite cannot do it now (e.g. it is stopping); the same call may work later."""

    code = "unavailable"


class TooManyRequests(ServiceError):
    code = "too_many_requests"

    def __init__(self, detail: str, retry_after: float):
        super().__init__(detail)
        self.retry_after = retry_after
