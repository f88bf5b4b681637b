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


class ReleaseState(str, Enum):
    """Whether a run's result may leave the Datasite: released (its requester may read it),
    held (for an owner's output review) or withheld (an owner refused it, saying why)."""

    RELEASED = "released"
    HELD = "held"
    WITHHELD = "withheld"


class Vote(str, Enum):
    """A reviewer's vote on a held output when the Datasite asks two owners to agree
    (setting ``release_reviewers`` = 2): release it or withhold it."""

    RELEASE = "release"
    WITHHOLD = "withhold"


class ReleaseMode(str, Enum):
    """The Datasite setting ``release``: when a result of a run on private data is released.
    ``on_approval``: at once (the checks' report travels with it); ``checked``: at once if
    every disclosure check passes, else held; ``manual``: always held for an owner."""

    ON_APPROVAL = "on_approval"
    CHECKED = "checked"
    MANUAL = "manual"


class NotificationKind(str, Enum):
    """What a notification is about. Owners: a new (or resubmitted) request, a held output, a
    sign-up, a new dataset. Scientists: a decision on their request, their result released,
    held or withheld, their job finished or failed."""

    REQUEST_NEW = "request_new"
    REQUEST_RESUBMITTED = "request_resubmitted"
    OUTPUT_HELD = "output_held"
    SIGNUP = "signup"
    DATASET_NEW = "dataset_new"
    REQUEST_APPROVED = "request_approved"
    REQUEST_DENIED = "request_denied"
    RESULT_READY = "result_ready"
    RESULT_HELD = "result_held"
    RESULT_WITHHELD = "result_withheld"
    JOB_FINISHED = "job_finished"
    JOB_FAILED = "job_failed"
    # environments (#17): owners hear of a scientist's ask; the scientist of the decision
    ENVIRONMENT_REQUEST_NEW = "environment_request_new"
    ENVIRONMENT_REQUEST_APPROVED = "environment_request_approved"
    ENVIRONMENT_REQUEST_DENIED = "environment_request_denied"


class MailChoice(str, Enum):
    """How an account gets its notifications by mail (when the Datasite sends mail):
    ``instant`` (each one, as it happens), ``digest`` (the unread ones, once a day), ``off``."""

    INSTANT = "instant"
    DIGEST = "digest"
    OFF = "off"


class SmtpSecurity(str, Enum):
    """How the Datasite talks to its mail server: ``starttls`` (port 587, upgraded to TLS),
    ``tls`` (TLS from the start, port 465) or ``none`` (plain: a relay on this machine only)."""

    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class EnvironmentStatus(str, Enum):
    """An environment for user code: building (its first build, or a rebuild with no good
    build before it), ready (runs may use it) or failed (its log says why)."""

    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
