"""The status words of the wire: one vocabulary, lowercase, shared by server and clients.

The Python client maps them onto PySyft's user-facing enums (``RequestStatus``,
``UserCodeStatus``); roles are not statuses and keep their names (``roles.ServiceRole``).
"""

from __future__ import annotations

from enum import Enum


class Decision(str, Enum):
    """Where a code request, and the code it asks to run, stands with the Datasite's owner."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class JobStatus(str, Enum):
    """A background run: created -> processing -> completed | errored, or interrupted."""

    CREATED = "created"
    PROCESSING = "processing"
    COMPLETED = "completed"
    ERRORED = "errored"
    INTERRUPTED = "interrupted"
