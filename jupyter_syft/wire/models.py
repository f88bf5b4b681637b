"""The Datasite's JSON, as pydantic models: every answer, every body, every query.

The server's services build the answers (``Answer`` models) and the HTTP layer writes them;
handlers validate bodies with the ``Body`` models; ``openapi.py`` documents all of them, and the
sidebar's TypeScript types are generated from that. Times are ISO-8601 UTC text ending in
``Z`` (``2025-01-31T12:00:00Z``); ids are 32 hex digits.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

import pydantic.main
from pydantic import BaseModel, ConfigDict, Field

from .enums import (
    Decision,
    EnvironmentStatus,
    JobStatus,
    MailChoice,
    NotificationKind,
    ReleaseMode,
    ReleaseState,
    SmtpSecurity,
    Vote,
)

T = TypeVar("T")
# Each model's validator and serializer are built on its first use, not at import: a process
# uses few of the ~100 (a Datasite's start saves ~20 ms, a client's import too). Only where
# pydantic rebuilds under a lock (2.14): two threads of the server's pool may use a model
# first at once, and older versions could then validate with the parent's validator.
DEFER_BUILD = hasattr(pydantic.main, "_rebuild_lock")
# A JSON-safe cell of a preview: numbers beyond 2**53, NaN and the like come as text.
Cell = bool | int | float | str | None


class Answer(BaseModel):
    """Base of what the Datasite answers.

    A field with a default is left out of the JSON unless the view set it (the answer is
    dumped with ``exclude_unset``): that is how owner-only fields (an asset's
    ``data_summary``, a private run's ``stdout``) stay absent for everyone else, rather than
    null. Every other field has no default, so a view cannot forget one.
    """

    model_config = ConfigDict(extra="forbid", defer_build=DEFER_BUILD)

    def to_json(self) -> dict[str, Any]:
        """The JSON object sent on the wire."""
        return self.model_dump(mode="json", exclude_unset=True)


class Body(BaseModel):
    """Base of what callers send. Types are strict (no "1" for 1, no 1 for True), as the
    services always were. Unknown fields are ignored (older and newer clients keep working),
    except where a typo would silently change nothing: accounts and settings refuse them."""

    model_config = ConfigDict(strict=True, extra="ignore", defer_build=DEFER_BUILD)
    # How a refusal of an unknown field calls it ("Unknown setting 'colour'").
    unknown_field: ClassVar[str] = "field"

    def given(self) -> dict[str, Any]:
        """The fields the caller sent, as sent (``None`` included)."""
        return self.model_dump(exclude_unset=True)


class Query(BaseModel):
    """Base of a route's query parameters (each field one parameter)."""

    model_config = ConfigDict(extra="ignore", defer_build=DEFER_BUILD)


# --- common answers -------------------------------------------------------------------------------
class Ok(Answer):
    """Done: the route has nothing else to say."""

    ok: Literal[True]


class Error(Answer):
    """Every refusal and failure: a short code and a message in plain words."""

    error: str
    detail: str


class Page(Answer, Generic[T]):
    """One page of a list, oldest first unless ``order=newest``; pass ``next_cursor`` back as
    ``cursor`` for the next one (null: there is none). ``total`` counts every row you may see."""

    items: list[T]
    next_cursor: str | None
    total: int


class Person(Answer):
    """Who made something: an uploader, an author, a project's scientist."""

    name: str
    email: str


# --- the Datasite, its settings and accounts ------------------------------------------------------
class PublicSettings(Answer):
    """The settings anyone may read."""

    name: str
    organization: str
    description: str
    admin_email: str
    signup_enabled: bool
    allow_guest_sessions: bool
    allow_guest_code_requests: bool
    auto_approve: bool
    release: ReleaseMode
    welcome_markdown: str = ""


class Settings(PublicSettings):
    """The Datasite's settings: owners get them all, others only the public ones."""

    exec_wall_seconds: int = 0
    exec_cpu_seconds: int = 0
    exec_memory_mb: int = 0
    token_ttl_hours: int = 0
    max_upload_bytes: int = 0
    retention_days_runs: int = 0
    retention_days_jobs: int = 0
    orphan_grace_hours: int = 0
    disclosure_rules: dict[str, Any] | str | None = None
    release_reviewers: int = 0
    notification_retention_days: int = 0
    mail_enabled: bool = False
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_security: SmtpSecurity | None = None
    smtp_user: str = ""
    smtp_password_env: str = ""
    mail_from: str = ""
    public_url: str = ""
    push_connections_per_user: int = 0
    environment_index_url: str = ""
    environment_find_links: str = ""
    environment_no_index: bool = False
    environment_allow_sdist: bool = False


class Metadata(PublicSettings):
    """What a Datasite is, before logging in: its public settings and versions."""

    server_type: Literal["datasite"]
    version: str
    api_version: int
    format_version: int


class User(Answer):
    """An account; ``role`` is a role's name (``ADMIN``, ``DATA_OWNER``, ``DATA_SCIENTIST``,
    ``GUEST``)."""

    id: str
    email: str
    name: str
    role: str
    institution: str
    website: str
    mock_execution_permission: bool
    disabled: bool
    created_at: str | None


class LoginAnswer(Answer):
    """A new session: send ``token`` as ``Authorization: Bearer <token>``."""

    token: str
    expires_at: str | None
    user: User
    warnings: list[str]


class GuestSession(Answer):
    """A guest's session: send ``token`` as ``Authorization: Bearer <token>``."""

    token: str
    user: User


# --- datasets -------------------------------------------------------------------------------------
class Contributor(Answer):
    """Someone credited for a dataset or an asset; only the fields given are present."""

    name: str
    email: str = ""
    role: str = ""
    phone: str = ""
    note: str = ""


class Asset(Answer):
    """One asset of a dataset: its mock anyone may read, its private value only its owners.
    ``data_summary`` and ``data_size`` are present for owners only."""

    id: str
    dataset_id: str
    name: str
    description: str
    contributors: list[Contributor]
    shape: list[int] | None
    mock_is_real: bool
    has_mock: bool
    mock_summary: dict[str, Any] | None
    mock_size: int
    data_type: str | None
    can_read_data: bool
    created_at: str | None
    data_subjects: list[str]
    data_summary: dict[str, Any] = Field(default_factory=dict)
    data_size: int = 0


class DataSubject(Answer):
    """A data subject of the Datasite's registry: who or what its data is about."""

    id: str
    name: str
    description: str
    aliases: list[str]
    members: list[str]
    created_at: str | None


class DataSubjectAdded(Answer):
    """A data subject registered with its members: the names newly added (a member already
    registered is linked, not added again)."""

    subject: DataSubject
    added: list[str]


class Dataset(Answer):
    """A dataset and its assets."""

    id: str
    name: str
    summary: str
    description: str
    citation: str
    url: str
    contributors: list[Contributor]
    uploader: Person | None
    created_at: str | None
    mb_size: float
    assets: list[Asset]


class BlobInfo(Answer):
    """An uploaded value: name it by ``blob_id`` in a dataset's assets or a deposit."""

    blob_id: str
    size: int
    summary: dict[str, Any]


# --- code and its runs ----------------------------------------------------------------------------
class AssetInput(Answer):
    """A policy input bound to an asset of this Datasite."""

    kind: Literal["asset"]
    id: str
    name: str


class TypeInput(Answer):
    """A policy input that takes any value of a type (MixedInputPolicy)."""

    kind: Literal["type"]
    type: str


class ConstantInput(Answer):
    """A policy input fixed to a value (MixedInputPolicy): ``data`` is the encoded value in
    base64, ``preview`` its repr (cut to 200 characters)."""

    kind: Literal["constant"]
    data: str
    preview: str


PolicyInput = Annotated[AssetInput | TypeInput | ConstantInput, Field(discriminator="kind")]


class InputPolicy(Answer):
    """Which inputs the code may run on: parameter name -> what it is bound to. A custom
    policy (``CustomInputPolicy``) also has its class's name and source and its other
    arguments (JSON values): it runs in the sandbox, before the code."""

    type: str
    inputs: dict[str, PolicyInput]
    class_name: str = ""
    code: str = ""
    init_kwargs: dict[str, Any] = Field(default_factory=dict)


class OutputPolicy(Answer):
    """How many times the code may run on private data (``limit``); a custom policy
    (``CustomOutputPolicy``, no limit) has its class's name, source and arguments instead,
    and, for owners, its ``state`` after the latest run (JSON values)."""

    type: str
    limit: int = 0
    class_name: str = ""
    code: str = ""
    init_kwargs: dict[str, Any] = Field(default_factory=dict)
    state: Any = None


class Finding(Answer):
    """A problem the Datasite found in submitted source (``severity``: error or warning)."""

    kind: str
    severity: str
    line: int
    name: str
    message: str


class Code(Answer):
    """A submitted Syft function (one version of it) and where it stands."""

    id: str
    service_func_name: str
    raw_code: str
    code: str
    parameters: list[str]
    input_policy: InputPolicy
    output_policy: OutputPolicy
    findings: list[Finding]
    status: Decision
    runs_used: int
    share_results_with_owners: bool
    worker_pool_name: str
    # The environment it runs in (an environment's name); "" is the Datasite's default.
    environment: str
    submit_time: str | None
    user: Person | None
    # For the review: the environment's locked packages (``name==version``; none listed for
    # the default environment), its lock hash, and what the scientist's previous version of
    # this function did not have (``environment_added``: ``name==version``, or ``name==new
    # (was old)``) in its environment (``environment_previous``; "" when there is none).
    environment_lock_hash: str = ""
    environment_packages: list[str] = Field(default_factory=list)
    environment_added: list[str] = Field(default_factory=list)
    environment_previous: str = ""


class Environment(Answer):
    """An environment for user code: a uv virtual environment on the Datasite, built from
    ``packages`` (PEP 508 requirements), its resolved versions pinned in ``lock`` and hashed
    (``lock_hash``, the sha256 of ``lock``). ``status``: building, ready or failed (then
    ``message`` says what to change). ``log`` (the build's output) is for owners, and only in
    the answer for one environment."""

    id: str
    name: str
    packages: list[str]
    python: str
    python_version: str
    allow_sdist: bool
    status: EnvironmentStatus
    progress: str
    message: str
    lock: str
    lock_hash: str
    size_bytes: int
    created_at: str | None
    built_at: str | None
    log: str | None = None


class EnvironmentRequest(Answer):
    """A scientist's ask for a new environment (or packages added to one), which owners
    approve (building it) or deny."""

    id: str
    name: str
    packages: list[str]
    reason: str
    status: Decision
    deny_reason: str
    user: Person | None
    created_at: str | None
    decided_at: str | None


DisclosureOutcome = Literal["pass", "fail", "review"]


class DisclosureCheck(Answer):
    """One disclosure rule applied to a result: ``cells`` are ``[row, column]`` labels of the
    table cells it concerns (never a value of the data)."""

    rule: str
    outcome: DisclosureOutcome
    reason: str
    cells: list[list[str]]


class DisclosureReport(Answer):
    """The automatic disclosure checks of one result, run next to the data: the worst
    check's ``outcome`` (fail > review > pass), the rule set's name and digest, each check.
    It carries no value of the data, so a scientist may read it even when the result is held."""

    outcome: DisclosureOutcome
    rules: str
    rules_digest: str
    checks: list[DisclosureCheck]


class Execution(Answer):
    """One run of a function, or a result its owner deposited. ``stdout`` and ``stderr`` are
    present unless the run saw private data and the caller is not an owner. ``release``:
    whether the result may be read (held or withheld: only owners may, ``release_note`` says
    why it was withheld); ``report``: the disclosure checks (null: none ran, e.g. a deposit);
    ``environment`` and ``lock_hash``: the packages it ran with."""

    id: str
    code_id: str
    ok: bool
    on_private_data: bool
    deposited: bool
    error: str
    error_kind: str
    sandbox: str
    duration_s: float
    created_at: str | None
    has_result: bool
    notice: str
    release: ReleaseState
    release_note: str
    report: DisclosureReport | None
    stdout: str = ""
    stderr: str = ""
    # The environment it ran in ("" the default one) and the sha256 of its lock (the
    # default one's: of the Datasite's installed distributions); "" for a deposit.
    environment: str = ""
    lock_hash: str = ""


class Job(Answer):
    """A background run (``blocking=False``) and its progress: who asked (``requester``),
    when it was queued (``created_at``) and left the queue (``started_at``, null while
    queued). ``error`` says why it failed or stopped; its prints are its ``execution``'s
    (owners only, once it ran on private data)."""

    id: str
    code_id: str
    service_func_name: str
    status: JobStatus
    error: str
    n_iters: int
    current_iter: int
    created_at: str | None
    updated_at: str | None
    execution: Execution | None
    requester: Person | None
    started_at: str | None


class OutputVote(Answer):
    """One owner's vote on a held output (setting ``release_reviewers`` = 2): ``decision``
    release or withhold, ``suppress``: release it with the failing cells suppressed, ``note``:
    their comment or reason, ``at``: when they voted (a new vote replaces their earlier one)."""

    reviewer: Person | None
    decision: Vote
    suppress: bool
    note: str
    at: str | None


class Output(Answer):
    """A result of a run on private data, for the owners' output review: where it stands
    (``state``), its disclosure report, the code and request it came from, and who decided
    (``decided_by`` null: nobody yet; ``decision_note``: the release comment or the reason it
    was withheld). The value itself: ``executions/{execution_id}/result`` (owners): once it was
    released with suppression (``suppressed``), that is the suppressed table its requester
    reads, and the value as computed is ``outputs/{execution_id}/original``.

    Review by two owners (``votes_needed`` 2): ``votes_cast`` counts the votes, ``my_vote`` is
    yours; ``votes`` lists everyone's only once they are visible (decided, or ``conflict``:
    the votes disagree and either reviewer may change theirs), else it is empty.
    ``justification``: what the requester wrote to ask for its release (empty: nothing)."""

    execution_id: str
    code_id: str
    request_id: str | None
    service_func_name: str
    user: Person | None
    state: ReleaseState
    report: DisclosureReport | None
    has_result: bool
    ok: bool
    created_at: str | None
    decided_by: Person | None
    decided_at: str | None
    decision_note: str
    suppressed: bool
    suppressed_cells: int
    votes_needed: int
    votes_cast: int
    my_vote: OutputVote | None
    votes: list[OutputVote]
    conflict: bool
    justification: str
    justified_at: str | None


class Justification(Answer):
    """A scientist's justification of a held output of theirs (what the reviewers read)."""

    execution_id: str
    justification: str
    justified_at: str | None


# --- requests and projects ------------------------------------------------------------------------
class ProjectRef(Answer):
    """The project a request belongs to."""

    id: str
    name: str


class NestedFunction(Answer):
    """A function a request launches as a nested job: once approved, the one approved;
    before, what its call resolves to now (``code_id`` null: not submitted)."""

    name: str
    code_id: str | None
    raw_code: str
    submit_time: str | None
    approved_as_nested: bool


class Request(Answer):
    """A code request: a scientist asks to run ``code`` on private data. ``decided_by`` /
    ``decided_at``: who took the current decision and when (null while pending)."""

    id: str
    status: Decision
    reason: str
    deny_reason: str
    decided_by: Person | None
    decided_at: str | None
    created_at: str | None
    updated_at: str | None
    requesting_user_name: str
    requesting_user_email: str
    requesting_user_institution: str
    project: ProjectRef | None
    code: Code
    nested: list[NestedFunction]
    sandbox: str


class TimelineEntry(Answer):
    """One step of a request's history, from the audit log: submitted, decided, revoked, runs,
    jobs, output reviews. ``summary`` says it in words. Scientists read their own requests'
    timelines with ``detail`` cut to the reason (votes and owners' notes stay with owners)."""

    seq: int
    at: str | None
    action: str
    actor_email: str
    object_type: str
    object_id: str
    summary: str
    detail: dict[str, Any]


class Project(Answer):
    """A scientist's project: its purpose and its requests (history: ``.../events``)."""

    id: str
    name: str
    description: str
    created_at: str | None
    user: Person | None
    request_ids: list[str]


class ProjectEvent(Answer):
    """One entry of a project's history (``kind``: created, code_request, approved, denied)."""

    kind: str
    actor: str
    detail: dict[str, Any]
    created_at: str | None


# --- the audit log --------------------------------------------------------------------------------
class AuditEvent(Answer):
    """One event of the Datasite's hash-chained audit log (owners): who (``actor_email``,
    ``actor_id``) did what (``action``, e.g. ``output.release``) to which object, when
    (``at``, to the microsecond: the hashed time), with ``detail``. ``hash`` covers every other
    field and ``prev_hash`` (the event before's hash); ``hash_version`` says how it was
    computed (``jupyter_syft.audit_chain``)."""

    seq: int
    hash_version: int
    at: str
    actor_id: str | None
    actor_email: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditVerification(Answer):
    """The audit log checked on the server: ``ok``, how many events (``count``; with a
    checkpoint, from it to the head) and the head; or the first bad event (``bad_seq``) and
    why (``reason``: edited, deleted, reordered, or no longer extending the checkpoint
    ``since_seq``)."""

    ok: bool
    count: int
    head_seq: int | None
    head_hash: str | None
    bad_seq: int | None
    reason: str
    since_seq: int | None


class AuditCheckpoint(Answer):
    """The head of the audit log, to keep elsewhere and verify against later (``seq`` 0 and
    an empty hash: the log is empty)."""

    seq: int
    hash: str
    at: str | None


# --- notifications --------------------------------------------------------------------------------
class Notification(Answer):
    """One entry of your inbox: what happened (``subject``, ``text``: only what you may see),
    which object it is about (``object_type``, ``object_id``; ``link``: its route, relative to
    the API, "" for none) and whether you read it."""

    id: str
    kind: NotificationKind
    subject: str
    text: str
    object_type: str
    object_id: str
    project_id: str | None
    link: str
    created_at: str | None
    read: bool


class NotificationCount(Answer):
    """How many notifications you have, and how many of them you have not read."""

    unread: int
    total: int


class NotificationsMarked(Answer):
    """Notifications marked read or unread: how many changed, how many are unread now."""

    changed: int
    unread: int


class NotificationPreferences(Answer):
    """How you get notifications by mail (``email``), at which address, and whether this
    Datasite sends mail at all (``mail_enabled``: its owners set it up)."""

    email: MailChoice
    address: str
    mail_enabled: bool


# --- previews -------------------------------------------------------------------------------------
class DataFramePreview(Answer):
    """The first rows of a table (at most 50 columns). ``index``: the rows' labels, written as
    the disclosure checks name them (a report's ``cells`` are ``[row, column]`` labels)."""

    kind: Literal["dataframe"]
    shape: list[int]
    columns: list[str]
    rows: list[list[Cell]]
    index: list[str] = []


class ArrayPreview(Answer):
    """The first rows of a 1- or 2-dimensional array (at most 50 columns)."""

    kind: Literal["array"]
    shape: list[int]
    dtype: str
    columns: list[str]
    rows: list[list[Cell]]


class TextPreview(Answer):
    """Any other value, as its repr (cut to 4,000 characters)."""

    kind: Literal["text"]
    type: str
    shape: list[int] | None
    text: str


Preview = Annotated[DataFramePreview | ArrayPreview | TextPreview, Field(discriminator="kind")]


# --- bodies ---------------------------------------------------------------------------------------
class LoginBody(Body):
    """Log in with an account's email and password."""

    email: str
    password: str


class UserCreate(Body):
    """A new account (sign-up, or an owner creating one); ``role`` a role's name or value."""

    model_config = ConfigDict(extra="forbid")
    unknown_field: ClassVar[str] = "user field"

    email: str
    password: str
    password_verify: str | None = None
    name: str | None = None
    role: str | int | None = None
    institution: str | None = None
    website: str | None = None
    mock_execution_permission: bool | None = None


class UserUpdate(Body):
    """Changes to an account: only the fields given change (role, permission and disabled:
    owners only)."""

    model_config = ConfigDict(extra="forbid")
    unknown_field: ClassVar[str] = "user field"

    email: str | None = None
    name: str | None = None
    institution: str | None = None
    website: str | None = None
    role: str | int | None = None
    mock_execution_permission: bool | None = None
    disabled: bool | None = None
    # Someone else's new password (owners; PySyft's ``users.update(uid=, password=)``). Your
    # own is changed with PasswordChange, which needs the current one.
    password: str | None = None


class PasswordChange(Body):
    """A new password; your own needs the current one too."""

    new_password: str
    current_password: str | None = None


class SettingsUpdate(Body):
    """Changes to the Datasite's settings (owners): only the fields given change."""

    model_config = ConfigDict(extra="forbid")
    unknown_field: ClassVar[str] = "setting"

    name: str | None = None
    organization: str | None = None
    description: str | None = None
    admin_email: str | None = None
    signup_enabled: bool | None = None
    allow_guest_sessions: bool | None = None
    allow_guest_code_requests: bool | None = None
    auto_approve: bool | None = None
    welcome_markdown: str | None = None
    exec_wall_seconds: int | None = None
    exec_cpu_seconds: int | None = None
    exec_memory_mb: int | None = None
    token_ttl_hours: int | None = None
    max_upload_bytes: int | None = None
    retention_days_runs: int | None = None
    retention_days_jobs: int | None = None
    orphan_grace_hours: int | None = None
    release: ReleaseMode | None = Field(default=None, strict=False)  # its value, as text
    disclosure_rules: dict[str, Any] | str | None = None
    release_reviewers: int | None = None
    notification_retention_days: int | None = None
    mail_enabled: bool | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: SmtpSecurity | None = Field(default=None, strict=False)  # its value, as text
    smtp_user: str | None = None
    smtp_password_env: str | None = None
    mail_from: str | None = None
    public_url: str | None = None
    push_connections_per_user: int | None = None
    environment_index_url: str | None = None
    environment_find_links: str | None = None
    environment_no_index: bool | None = None
    environment_allow_sdist: bool | None = None


class DatasetPreflight(Body):
    """Ask, before uploading any value, whether a dataset of this name could be created."""

    name: str


class ContributorBody(Body):
    """Someone to credit: a name, and optionally how to reach them."""

    name: str
    email: str | None = None
    role: str | None = None
    phone: str | None = None
    note: str | None = None


class AssetCreate(Body):
    """An asset of a new dataset: ``data`` and ``mock`` are the ``blob_id`` s of uploaded
    values (``mock`` null: no mock)."""

    name: str
    description: str | None = None
    contributors: list[ContributorBody] | None = None
    shape: list[int] | None = None
    data: str
    mock: str | None = None
    mock_is_real: bool = False
    data_subjects: list[str] | None = None


class DataSubjectBody(Body):
    """One data subject: its name, aliases and the names of its members."""

    name: str
    description: str | None = None
    aliases: list[str] | None = None
    members: list[str] | None = None


class DataSubjectCreate(Body):
    """A data subject and its members, flattened: ``subjects[0]`` is the one added (its name
    must be new); the rest are its members, each added unless already registered."""

    subjects: list[DataSubjectBody]


class DatasetCreate(Body):
    """A new dataset, its values uploaded first (``POST blobs``)."""

    name: str
    summary: str | None = None
    description: str | None = None
    citation: str | None = None
    url: str | None = None
    contributors: list[ContributorBody] | None = None
    assets: list[AssetCreate]


class PolicyInputBody(Body):
    """An input of an input policy: ``{"kind": "asset", "id": ...}``, ``{"kind": "type",
    "type": "int"}`` or ``{"kind": "constant", "data": <base64 of an encoded value>}``."""

    kind: str
    id: str | None = None
    type: str | None = None
    data: str | None = None


class InputPolicyBody(Body):
    """Which inputs the code may run on: its type and parameter name -> input. A
    ``CustomInputPolicy`` also sends its class's name, source and other arguments (JSON)."""

    type: str
    inputs: dict[str, PolicyInputBody] | None = None
    class_name: str | None = None
    code: str | None = None
    init_kwargs: dict[str, Any] | None = None


class OutputPolicyBody(Body):
    """How many times the code may run on private data (``limit``), or, for a
    ``CustomOutputPolicy``, its class's name, source and arguments (JSON values)."""

    type: str
    limit: int | None = None
    class_name: str | None = None
    code: str | None = None
    init_kwargs: dict[str, Any] | None = None


class CodeSubmit(Body):
    """A Syft function to submit: its name, its source and its policies."""

    name: str
    raw_code: str
    input_policy: InputPolicyBody | None = None
    output_policy: OutputPolicyBody | None = None
    share_results_with_owners: bool = False
    worker_pool_name: str | None = None
    # An environment's name (client.environments); None, "" or "default": the default one.
    environment: str | None = None


class EnvironmentCreate(Body):
    """An environment to build (owners): its name, PEP 508 requirements, and optionally a
    Python version (None: the Datasite's own) and whether source distributions may be built."""

    name: str
    packages: list[str]
    python: str | None = None
    allow_sdist: bool = False


class EnvironmentRequestCreate(Body):
    """Ask the owners for an environment (``name``: a new one, or one to add packages to)."""

    packages: list[str]
    reason: str
    name: str | None = None


class EnvironmentApproveBody(Body):
    """Approve an environment request; ``name`` overrides the environment it builds."""

    name: str | None = None


class RunInputs(Body):
    """A run's arguments: parameter name -> an asset (``{"asset": id}``) or a value sent
    inline (see the Python client's ``client/inputs``)."""

    inputs: dict[str, Any] | None = None


class RequestCreate(Body):
    """Ask to run code on private data (the code is submitted with it if it is new)."""

    code: CodeSubmit
    reason: str | None = None
    project_id: str | None = None


class ApproveBody(Body):
    """Approve a request; with ``approve_nested``, also the nested functions you reviewed
    (``nested_code_ids``: the ids listed under the request's ``nested``)."""

    approve_nested: bool = False
    nested_code_ids: list[str] | None = None


class DenyBody(Body):
    """Deny a request; the scientist sees the reason."""

    reason: str


class DepositBody(Body):
    """Approve a request with the owner's own result (an uploaded value's ``blob_id``)."""

    blob_id: str
    stdout: str | None = None
    stderr: str | None = None


class ReleaseBody(Body):
    """Release a held result to its requester, optionally with a comment they will read;
    ``suppress``: release it with the cells its disclosure checks failed suppressed (a table
    only). With two reviewers (setting ``release_reviewers``) this is your vote."""

    comment: str | None = None
    suppress: bool = False


class WithholdBody(Body):
    """Withhold a held result: its requester reads the reason (and may resubmit). With two
    reviewers (setting ``release_reviewers``) this is your vote."""

    reason: str


class JustificationBody(Body):
    """Why a held output of yours should be released (its reviewers read it)."""

    text: str


class ProjectCreate(Body):
    """A new project; owners may create one for a scientist (``user_email_address``)."""

    name: str
    description: str | None = None
    user_email_address: str | None = None
    request_ids: list[str] | None = Field(default=None, max_length=500)
    """Your own requests not yet in a project (made by ``ProjectSubmit.create_code_request``):
    they join the project in the same transaction, so it is created with all of them or not."""


class NotificationUpdate(Body):
    """Mark one notification read (``read: true``) or unread."""

    read: bool


class NotificationsMark(Body):
    """Mark notifications read or unread: those in ``ids`` (at most 500), or all of yours."""

    read: bool
    ids: list[str] | None = Field(default=None, max_length=500)


class NotificationPreferencesUpdate(Body):
    """How you want notifications by mail: ``instant``, ``digest`` (once a day) or ``off``."""

    model_config = ConfigDict(extra="forbid")
    unknown_field: ClassVar[str] = "preference"

    email: MailChoice = Field(strict=False)  # its value, as text


# --- queries --------------------------------------------------------------------------------------
class PageQuery(Query):
    """Which page of a list: at most ``limit`` rows after ``cursor``, in ``order``."""

    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = None
    order: Literal["oldest", "newest"] = "oldest"


class RequestListQuery(PageQuery):
    """Which requests: by status and project, and ``q``: every word of it found in the
    function's name, the requester's name or email, or the project's name (case-insensitive,
    at most 200 characters and 8 words); paged."""

    status: Decision | None = None
    project_id: str | None = None
    q: str | None = Field(default=None, max_length=200)


class JobQuery(PageQuery):
    """Which jobs: ``state`` active (queued or running) or finished, or all; paged."""

    state: Literal["active", "finished"] | None = None


class OutputQuery(PageQuery):
    """Which outputs: by state (held, released, withheld), paged."""

    state: ReleaseState | None = None


class EnvironmentRequestQuery(PageQuery):
    """Which environment requests: by status, paged."""

    status: Decision | None = None


class CodeListQuery(PageQuery):
    """Which code: the versions of one function (``name``), paged."""

    name: str | None = None


class JobWaitQuery(Query):
    """``wait``: hold the answer up to this many seconds (0 to 30) until the job has ended
    (completed, errored or interrupted); 0, the default: answer at once."""

    wait: float = Field(default=0, ge=0, le=30)


class RowsQuery(Query):
    """How many rows of a value to preview (taken as 1 to 100)."""

    rows: int = Field(default=5, ge=0)


class ValueQuery(Query):
    """``rows``: only the value's first rows (taken as 1 to 100), still in the value format;
    absent: all of it."""

    rows: int | None = Field(default=None, ge=0)


class AuditQuery(PageQuery):
    """Which audit events: by who acted (``user``: an email or a user id), the object, the
    action (a prefix: ``output.`` matches them all) and ``since_seq`` (events after it);
    newest first unless ``order=oldest``, paged."""

    order: Literal["oldest", "newest"] = "newest"
    user: str | None = None
    object_id: str | None = None
    object_type: str | None = None
    action: str | None = None
    since_seq: int | None = Field(default=None, ge=0)


class EventsQuery(Query):
    """Where to resume: ``last_event_id`` (or the ``Last-Event-ID`` header, which wins), the
    ``id`` of the last event read; absent: from now. ``limit``: events at most (JSON answer)."""

    last_event_id: str | None = None
    limit: int = Field(default=500, ge=1, le=1000)


class AuditVerifyQuery(Query):
    """A checkpoint to check the log extends (both or neither): ``since_seq``, ``since_hash``
    as ``audit/checkpoint`` gave them."""

    since_seq: int | None = Field(default=None, ge=0)
    since_hash: str | None = None


# --- the push channel (server/push.py) ----------------------------------------------------------
PushTopic = Literal["datasets", "requests", "projects", "outputs", "jobs", "users"]


class PushEvent(Answer):
    """One change on the push channel: which list (``topic``) and which object changed, and a
    word for how (``created``, ``approved``, ``denied``, ``held``, ``released``, ...); never a
    value, a name or code. Reload the object to see it. ``id`` resumes the stream
    (``Last-Event-ID``). ``request_id``: the request a request, run, output or job event
    belongs to ("" if none), so a notification can open its view. A job's change is its final
    status: ``completed``, ``errored`` or ``interrupted``."""

    id: str
    topic: PushTopic
    object_id: str
    change: str
    request_id: str = ""


class PushEvents(Answer):
    """The events after the one asked for, oldest first. ``reset``: that id is unknown here (the
    Datasite restarted, or it is too old): reload everything. Pass ``last_event_id`` back next
    time."""

    last_event_id: str
    reset: bool
    events: list[PushEvent]


class NotificationQuery(PageQuery):
    """Which notifications: all, or only ``unread`` / ``read`` ones; newest first unless
    ``order=oldest``, paged."""

    order: Literal["oldest", "newest"] = "newest"
    status: Literal["unread", "read"] | None = None
