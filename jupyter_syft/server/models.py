"""SQL tables of a Datasite (sqlmodel). Values themselves live in the blob store, never here."""

from __future__ import annotations

import inspect
import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig

from ..wire.models import DEFER_BUILD


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The policies of code submitted without one (PySyft's defaults: no inputs, one run).
def default_input_policy() -> dict[str, Any]:
    return {"type": "EmptyInputPolicy", "inputs": {}}


def default_output_policy() -> dict[str, Any]:
    return {"type": "OutputPolicyExecuteOnce", "limit": 1}


def empty_list() -> list[Any]:
    return []


def empty_dict() -> dict[str, Any]:
    return {}


# SQLModel fills in a new row's defaults through pydantic, which asks inspect.signature about
# every default_factory on every row (whether it takes the validated data): ~5 µs for a
# function, ~90 µs for ``list``. A function that carries its signature is answered at once.
ROW_DEFAULT_FACTORIES = (
    new_id,
    utcnow,
    empty_list,
    empty_dict,
    default_input_policy,
    default_output_policy,
)
for _factory in ROW_DEFAULT_FACTORIES:
    setattr(_factory, "__signature__", inspect.signature(_factory))  # noqa: B010


class Table(SQLModel):
    """Base of the tables. Their rows are made by the services and loaded by SQLAlchemy,
    never validated or dumped by pydantic: a table's pydantic validator is built only if it
    is ever used, not at import (~10 ms of every start; see ``wire.models.DEFER_BUILD``)."""

    model_config = SQLModelConfig(defer_build=DEFER_BUILD)


class User(Table, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True)
    email: str = Field(index=True, unique=True)
    name: str = ""
    role: int
    password_hash: str
    institution: str = ""
    website: str = ""
    mock_execution_permission: bool = False
    password_is_default: bool = False
    disabled: bool = False  # set by an owner: no login, every token refused; history stays
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(Table, table=True):
    __tablename__ = "api_tokens"

    token_hash: str = Field(
        primary_key=True
    )  # sha256 of the token; the token itself is never stored
    user_id: str = Field(index=True, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Setting(Table, table=True):
    __tablename__ = "settings"

    key: str = Field(primary_key=True)
    value: Any = Field(sa_column=Column(JSON, nullable=True))


class Blob(Table, table=True):
    """A complete, fsync'd value file; the row is written only after the file is in place."""

    __tablename__ = "blobs"

    id: str = Field(primary_key=True)  # sha256 of the content
    size: int
    summary: dict = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    created_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Dataset(Table, table=True):
    __tablename__ = "datasets"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(index=True, unique=True)
    summary: str = ""
    description: str = ""
    citation: str = ""
    url: str = ""
    contributors: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    uploader_id: str = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)


class Asset(Table, table=True):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    dataset_id: str = Field(index=True, foreign_key="datasets.id")
    position: int = 0
    name: str
    description: str = ""
    contributors: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    data_blob_id: str = Field(foreign_key="blobs.id")
    mock_blob_id: str | None = Field(default=None, foreign_key="blobs.id")
    mock_is_real: bool = False
    shape: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # names of the data subjects the asset is about (PySyft's ``asset.data_subjects``)
    data_subjects: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class DataSubject(Table, table=True):
    """Who or what a dataset is about (PySyft's data subject registry): a unique name, its
    aliases, and the names of its members (e.g. "Country" has "Canada")."""

    __tablename__ = "data_subjects"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(index=True, unique=True)
    description: str = ""
    aliases: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    members: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    created_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(Table, table=True):
    """Append-only, hash-chained record of who did what to which object."""

    __tablename__ = "audit_events"

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: str | None = None
    actor_email: str = ""
    action: str
    object_type: str = ""
    object_id: str = ""
    detail: dict = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = ""
    hash: str = ""
    # How ``hash`` was computed (``jupyter_syft.audit_chain``): 1 for events written before
    # seq was hashed (the default fills them in when the column is added), 2 for new ones.
    hash_version: int = 1


class UserCode(Table, table=True):
    """A submitted Syft function. Its policies are fixed at submission; only status changes."""

    __tablename__ = "user_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    user_id: str = Field(index=True, foreign_key="users.id")
    service_func_name: str = Field(index=True)
    raw_code: str  # as written, decorators included: what the reviewer reads
    code: str  # the bare function definition that runs
    code_hash: str
    parameters: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    input_policy: dict = Field(
        default_factory=default_input_policy, sa_column=Column(JSON, nullable=False)
    )
    output_policy: dict = Field(
        default_factory=default_output_policy, sa_column=Column(JSON, nullable=False)
    )
    findings: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    # Names this function launches with datasite.launch_job (its real calls, from the AST).
    nested_calls: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    # Fixed when an owner approves with approve_nested: name -> the UserCode id they were shown.
    # A private run may launch exactly these, at any depth, and nothing else.
    nested_plan: dict = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    status: str = "pending"  # pending | approved | rejected (wire.enums.Decision)
    share_results_with_owners: bool = False
    worker_pool_name: str = "default-pool"
    # The environment it runs in (an Environment's name); "" is the Datasite's default one.
    environment: str = ""
    runs_used: int = 0  # private-data runs counted atomically against the output policy
    submit_time: datetime = Field(default_factory=utcnow)


class Environment(Table, table=True):
    """A uv virtual environment owners defined for user code (server/environments/).

    ``status``: building | ready | failed (wire.enums.EnvironmentStatus). ``prefix`` is the
    folder of the last good build; a rebuild keeps it (and ``lock_hash``) until the new one is
    in place. ``lock`` is the resolved, pinned requirements with their hashes."""

    __tablename__ = "environments"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(index=True, unique=True)
    packages: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    python: str = ""  # the version asked for; "" is the Datasite's own interpreter
    allow_sdist: bool = False
    status: str = "building"
    progress: str = ""
    message: str = ""  # what went wrong and what to change (status failed)
    log: str = ""  # the last build's log, capped
    lock: str = ""
    lock_hash: str = ""
    prefix: str = ""
    python_path: str = ""
    site_packages: str = ""
    python_version: str = ""
    size_bytes: int = 0
    build_id: str = ""  # the build going on or last done: one at a time per environment
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    built_at: datetime | None = None


class EnvironmentRequest(Table, table=True):
    """A scientist's ask for a new environment or package; owners approve (which builds it)
    or deny it."""

    __tablename__ = "environment_requests"

    id: str = Field(default_factory=new_id, primary_key=True)
    user_id: str = Field(index=True)
    name: str = ""  # the environment it asks for (new, or one to add packages to)
    packages: list = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    reason: str = ""
    status: str = "pending"  # pending | approved | rejected (wire.enums.Decision)
    deny_reason: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Project(Table, table=True):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    user_id: str = Field(index=True, foreign_key="users.id")
    name: str
    description: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Request(Table, table=True):
    __tablename__ = "requests"

    id: str = Field(default_factory=new_id, primary_key=True)
    code_id: str = Field(index=True, foreign_key="user_codes.id")
    user_id: str = Field(index=True, foreign_key="users.id")
    project_id: str | None = Field(default=None, index=True, foreign_key="projects.id")
    reason: str = ""
    status: str = "pending"  # pending | approved | rejected (wire.enums.Decision)
    deny_reason: str = ""
    decided_by: str | None = None
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Execution(Table, table=True):
    """One run of a Syft function (or a result the owner deposited), and what came out."""

    __tablename__ = "executions"

    id: str = Field(default_factory=new_id, primary_key=True)
    code_id: str = Field(index=True, foreign_key="user_codes.id")
    user_id: str = Field(foreign_key="users.id")  # who asked for the run
    on_private_data: bool = False
    deposited: bool = False
    ok: bool = False
    result_blob_id: str | None = Field(default=None, foreign_key="blobs.id")
    error: str = ""
    error_kind: str = ""
    stdout: str = ""
    stderr: str = ""
    sandbox: str = ""
    duration_s: float = 0.0
    created_at: datetime = Field(default_factory=utcnow)
    # Output checking (issue 13): the disclosure report the worker made next to the data (None:
    # none ran, e.g. a deposit or a run from before), and whether the result may leave:
    # released | held | withheld (wire.enums.ReleaseState). Older rows were all released.
    report: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    release: str = "released"
    decided_by: str = ""  # the owner who released or withheld a held result (a user id)
    decision_note: str = ""  # their comment (release) or reason (withhold)
    decided_at: datetime | None = None
    # sha256 of the code, inputs, result and rule set, for the output's audit events
    digests: dict = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    # Released with suppression: result_blob_id is then the suppressed table everyone reads,
    # original_blob_id the value as computed (owners only), suppressed_cells how many cells.
    original_blob_id: str | None = Field(default=None, foreign_key="blobs.id")
    suppressed_cells: int = 0
    # The requester's justification of a held result (ACRO's exceptions), the latest one.
    justification: str = ""
    justified_at: datetime | None = None
    # A custom output policy's state after this run (JSON values, ``{"state": ...}``), as the
    # sandbox sent it back; the next run on private data starts from the latest one.
    policy_state: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    has_policy_state: bool = False
    # The environment it ran in ("" the default one) and the sha256 of that environment's lock
    # (the default one: of the Datasite's installed distributions); "" for deposits and rows
    # from before environments.
    environment: str = ""
    lock_hash: str = ""


class OutputVote(Table, table=True):
    """One owner's vote on a held output when two must agree (setting ``release_reviewers``);
    a new vote by the same reviewer replaces theirs."""

    __tablename__ = "output_votes"
    __table_args__ = (UniqueConstraint("execution_id", "reviewer_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    execution_id: str = Field(index=True, foreign_key="executions.id")
    reviewer_id: str = Field(foreign_key="users.id")
    decision: str  # release | withhold (wire.enums.Vote)
    suppress: bool = False
    note: str = ""
    at: datetime = Field(default_factory=utcnow)
    # Random, new with each vote: the vote's audit event carries only a hash of the vote with
    # it (owners read the audit log, and votes are hidden until decided); the decision's event
    # reveals both, so anyone can check the hashes.
    nonce: str = ""


class ProjectEvent(Table, table=True):
    __tablename__ = "project_events"

    seq: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(index=True, foreign_key="projects.id")
    kind: str  # created | code_request | approved | denied | result
    actor_email: str = ""
    detail: dict = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Job(Table, table=True):
    """A run asked for with blocking=False. Kept in the store, so a restart never loses one."""

    __tablename__ = "jobs"

    id: str = Field(default_factory=new_id, primary_key=True)
    code_id: str = Field(index=True, foreign_key="user_codes.id")
    user_id: str = Field(index=True, foreign_key="users.id")
    status: str = "created"  # created | ... | interrupted (wire.enums.JobStatus)
    inputs: dict = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    execution_id: str | None = Field(default=None, foreign_key="executions.id")
    error: str = ""
    n_iters: int = 0  # progress, reported by the code through datasite.init_progress(...)
    current_iter: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None  # when it left the queue (null: queued, or never ran)
    # The process running it (``liveness.identity()``): a start gives back only dead ones'.
    owner: str = ""


class RunClaim(Table, table=True):
    """A private-data run counted against its code's output policy that has not delivered its
    result yet. Written in the same transaction as the count; deleted with the run's Execution
    (or when the count is given back). One left at start is a run a crash cut off."""

    __tablename__ = "run_claims"

    id: str = Field(default_factory=new_id, primary_key=True)
    code_id: str = Field(index=True, foreign_key="user_codes.id")
    job_id: str | None = None
    owner: str = ""  # the Datasite process running it (services/liveness.py)
    created_at: datetime = Field(default_factory=utcnow)


class Notification(Table, table=True):
    """One entry of an account's inbox (services/notifications.py): what happened, in words
    its reader may see, and which object it is about. No foreign key on ``user_id``: an
    account's inbox goes with it (the ``user.delete`` change), and never blocks its deletion."""

    __tablename__ = "notifications"

    id: str = Field(default_factory=new_id, primary_key=True)
    user_id: str = Field(index=True)
    kind: str  # wire.enums.NotificationKind
    subject: str
    text: str = ""
    object_type: str = ""  # request | job | output | dataset | user | project
    object_id: str = ""
    project_id: str = ""
    read: bool = False
    mailed: bool = False  # sent by mail at once, or in a digest (never twice)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class NotificationPreference(Table, table=True):
    """How an account wants its notifications by mail (none stored: ``instant``)."""

    __tablename__ = "notification_preferences"

    user_id: str = Field(primary_key=True)
    email: str = "instant"  # instant | digest | off (wire.enums.MailChoice)
    updated_at: datetime = Field(default_factory=utcnow)
    digest_at: datetime | None = None  # when the last daily digest was made


class ViewGeneration(Table, table=True):
    """How often the rows behind a cached view changed (services/view_cache.py): every write
    that changes them bumps it, in its own transaction."""

    __tablename__ = "view_generations"

    name: str = Field(primary_key=True)
    value: int = 0
