"""PySyft's status enums, as users compare them (``request.status == RequestStatus.REJECTED``),
each read from the wire's one lowercase vocabulary (``wire/enums.py``)."""

from __future__ import annotations

from enum import Enum, IntEnum


class RequestStatus(IntEnum):
    PENDING = 0
    REJECTED = 1
    APPROVED = 2

    def __str__(self) -> str:
        """The word (``pending``, ``approved``, ``rejected``), as the request's repr shows it."""
        return self.name.lower()

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

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


class CodeStatus(str):
    """A submitted function's status, as a word: ``approved``, ``pending`` or ``denied``.

    ``str()`` and the repr say the word; it compares equal to that word in any case (and to
    ``"rejected"`` for ``denied``) and to :class:`UserCodeStatus`, so ``code.status ==
    "approved"``, ``code.status == sy.UserCodeStatus.APPROVED`` and ``code.status.approved``
    all work."""

    _SYNONYMS = {"rejected": "denied"}

    def __new__(cls, status: str) -> CodeStatus:
        return super().__new__(cls, UserCodeStatus.from_wire(status).name.lower())

    @property
    def name(self) -> str:
        """``PENDING``, ``APPROVED`` or ``DENIED`` (PySyft's ``UserCodeStatus`` names)."""
        return self.upper()

    @property
    def enum(self) -> UserCodeStatus:
        return UserCodeStatus[self.name]

    @property
    def approved(self) -> bool:
        return str(self) == "approved"

    @property
    def pending(self) -> bool:
        return str(self) == "pending"

    @property
    def denied(self) -> bool:
        return str(self) == "denied"

    def get_status_message(self) -> str:
        return {
            "approved": "The code is approved: it may run on the private data.",
            "pending": "The code is waiting for the data owner's review.",
            "denied": "The data owner denied the code; the request says why.",
        }[str(self)]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UserCodeStatus):
            return self.name == other.name
        if isinstance(other, str):
            word = other.lower()
            return str(self) == self._SYNONYMS.get(word, word)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(str(self))

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return str.__str__(self)
