"""PySyft's status enums, as users compare them (``request.status == RequestStatus.REJECTED``),
each read from the wire's one lowercase vocabulary (``wire/enums.py``)."""

from __future__ import annotations

from enum import Enum, IntEnum


class RequestStatus(IntEnum):
    PENDING = 0
    REJECTED = 1
    APPROVED = 2

    def __str__(self) -> str:
        return f"RequestStatus.{self.name}"

    @classmethod
    def from_wire(cls, status: str) -> RequestStatus:
        """``pending | approved | rejected`` (a ``Decision``, or its value)."""
        return cls[_word(status).upper()]


class UserCodeStatus(IntEnum):
    PENDING = 0
    DENIED = 1
    APPROVED = 2

    @classmethod
    def from_wire(cls, status: str) -> UserCodeStatus:
        """The wire says ``rejected``; PySyft calls rejected code ``DENIED``."""
        word = _word(status)
        return cls.DENIED if word == "rejected" else cls[word.upper()]


class JobStatus(str, Enum):
    CREATED = "created"
    PROCESSING = "processing"
    COMPLETED = "completed"
    ERRORED = "errored"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return f"JobStatus.{self.name}"

    @classmethod
    def from_wire(cls, status: str) -> JobStatus:
        return cls(_word(status))


def _word(status: str) -> str:
    return str(getattr(status, "value", status))
