"""Every call the Python client makes to a Datasite: one method per route.

This is the only client module that names a route (as ``src/model.ts`` is for the sidebar):
views and collections call these methods, never ``connection.get("...")``. Paths come from
the route templates in ``wire/routes.py``, filled in with ``routes.path``; answers come back
parsed into the wire models (``wire/models.py``); ``Connection`` carries it all (HTTP,
paging, streamed values, progress bars). Importing this module imports pydantic: the client
modules that ``import jupyter_syft`` may load (builders, decorators) never import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from ..wire import models, routes
from .connection import Connection

if TYPE_CHECKING:
    from ..serde import Encoded

Json = dict[str, Any]
M = TypeVar("M", bound=BaseModel)


class DatasiteAPI:
    """The routes of one Datasite, called with one connection (a guest's has no token)."""

    def __init__(self, connection: Connection):
        self.connection = connection

    @classmethod
    def at(cls, base_url: str, token: str | None = None) -> DatasiteAPI:
        return cls(Connection(base_url, token))

    # --- the Datasite and sessions -----------------------------------------------------------
    def metadata(self) -> Json:
        """Raw, not parsed: whoever answers may not be a Datasite (the caller checks)."""
        return self.connection.get(routes.METADATA)

    def login(self, email: str, password: str) -> models.LoginAnswer:
        body = {"email": email, "password": password}
        return _parse(models.LoginAnswer, self.connection.post(routes.LOGIN, body))

    def logout(self) -> None:
        self.connection.post(routes.LOGOUT)

    def guest_session(self) -> models.GuestSession:
        """A session for a guest, so the Datasite can tell their code apart."""
        return _parse(models.GuestSession, self.connection.post(routes.GUEST))

    def register(
        self,
        name: str,
        email: str,
        password: str,
        password_verify: str | None = None,
        institution: str | None = None,
        website: str | None = None,
    ) -> models.User:
        body = {
            "name": name,
            "email": email,
            "password": password,
            "password_verify": password_verify,
            "institution": institution,
            "website": website,
        }
        return _parse(models.User, self.connection.post(routes.REGISTER, body))

    # --- users -------------------------------------------------------------------------------
    def users(self) -> Iterator[models.User]:
        return _pages(models.User, self.connection.get_pages(routes.USERS))

    def me(self) -> models.User:
        return _parse(models.User, self.connection.get(routes.ME))

    def create_user(self, user: Json) -> models.User:
        """``user``: the fields of a ``models.UserCreate``."""
        return _parse(models.User, self.connection.post(routes.USERS, user))

    def update_user(self, user_id: str, changes: Json) -> models.User:
        path = routes.path(routes.USER, user_id=user_id)
        return _parse(models.User, self.connection.patch(path, changes))

    def delete_user(self, user_id: str) -> None:
        self.connection.delete(routes.path(routes.USER, user_id=user_id))

    def set_password(
        self, user_id: str, new_password: str, current_password: str | None = None
    ) -> None:
        """Your own password needs ``current_password``; an owner setting another's does not."""
        body = {"new_password": new_password}
        if current_password is not None:
            body["current_password"] = current_password
        self.connection.post(routes.path(routes.USER_PASSWORD, user_id=user_id), body)

    # --- settings ----------------------------------------------------------------------------
    def settings(self) -> models.Settings:
        return _parse(models.Settings, self.connection.get(routes.SETTINGS))

    def update_settings(self, changes: Json) -> models.Settings:
        return _parse(models.Settings, self.connection.patch(routes.SETTINGS, changes))

    # --- datasets and assets -----------------------------------------------------------------
    def datasets(self) -> Iterator[models.Dataset]:
        return _pages(models.Dataset, self.connection.get_pages(routes.DATASETS))

    def preflight_dataset(self, name: str) -> None:
        """May this account upload a dataset of this name? Asked before any bytes are sent."""
        self.connection.post(routes.DATASET_PREFLIGHT, {"name": name})

    def upload_blob(self, encoded: Encoded, label: str = "") -> models.BlobInfo:
        """A value streamed to the Datasite, to name by ``blob_id`` in a dataset or deposit."""
        return _parse(models.BlobInfo, self.connection.upload(routes.BLOBS, encoded, label=label))

    def create_dataset(self, body: Json) -> models.Dataset:
        """``body``: a ``models.DatasetCreate``'s fields, its values uploaded first."""
        return _parse(models.Dataset, self.connection.post(routes.DATASETS, body))

    def delete_dataset(self, dataset: str) -> None:
        self.connection.delete(routes.path(routes.DATASET, dataset=dataset))

    def asset_value(self, asset_id: str, which: str, label: str = "") -> Any:
        """An asset's ``"mock"`` or private ``"data"``, decoded."""
        path = routes.path(routes.ASSET_VALUE, asset_id=asset_id, which=which)
        return self.connection.download(path, label=label)

    def asset_head(self, asset_id: str, which: str, rows: int) -> Any:
        """The first ``rows`` rows of an asset's value, decoded (for previews)."""
        path = routes.path(routes.ASSET_VALUE, asset_id=asset_id, which=which)
        return self.connection.download(path, rows=rows)

    # --- data subjects -----------------------------------------------------------------------
    def data_subjects(self) -> Iterator[models.DataSubject]:
        return _pages(models.DataSubject, self.connection.get_pages(routes.DATA_SUBJECTS))

    def add_data_subjects(self, subjects: list[Json]) -> models.DataSubjectAdded:
        """``subjects``: ``models.DataSubjectBody`` fields: the one added, then its members."""
        body = {"subjects": subjects}
        return _parse(models.DataSubjectAdded, self.connection.post(routes.DATA_SUBJECTS, body))

    # --- code --------------------------------------------------------------------------------
    def code(self) -> Iterator[models.Code]:
        return _pages(models.Code, self.connection.get_pages(routes.CODE))

    def submit_code(self, code: Json) -> models.Code:
        """``code``: a ``models.CodeSubmit``'s fields (``SyftFunction.to_json()``)."""
        return _parse(models.Code, self.connection.post(routes.CODE, code))

    def code_item(self, code_id: str) -> models.Code:
        path = routes.path(routes.CODE_ITEM, code_id=code_id)
        return _parse(models.Code, self.connection.get(path))

    def executions(self, code_id: str) -> Iterator[models.Execution]:
        path = routes.path(routes.CODE_EXECUTIONS, code_id=code_id)
        return _pages(models.Execution, self.connection.get_pages(path))

    def run_on_mocks(self, code_id: str) -> models.Execution:
        path = routes.path(routes.CODE_RUN_ON_MOCKS, code_id=code_id)
        return _parse(models.Execution, self.connection.post(path))

    def run_by_name(self, name: str, inputs: Json) -> models.Execution:
        """Run the version of ``name`` the Datasite picks (latest approved, else latest)."""
        path = routes.path(routes.CODE_BY_NAME_RUN, name=name)
        return _parse(models.Execution, self.connection.post(path, {"inputs": inputs}))

    def job_by_name(self, name: str, inputs: Json) -> models.Job:
        """The same, as a background job."""
        path = routes.path(routes.CODE_BY_NAME_JOBS, name=name)
        return _parse(models.Job, self.connection.post(path, {"inputs": inputs}))

    def execution_result(self, execution_id: str) -> Any:
        """A run's result value, decoded."""
        path = routes.path(routes.EXECUTION_RESULT, execution_id=execution_id)
        return self.connection.download(path, label="result")

    def execution(self, code_id: str, execution_id: str) -> models.Execution | None:
        """One run of ``code_id`` as it stands now (its release state may have changed)."""
        return next((e for e in self.executions(code_id) if e.id == execution_id), None)

    # --- outputs (owners' output review) -----------------------------------------------------
    def outputs(self, state: str | None = None) -> Iterator[models.Output]:
        """Results of runs on private data, oldest first; ``state``: held, released, withheld."""
        return _pages(models.Output, self.connection.get_pages(routes.OUTPUTS, state=state))

    def output(self, execution_id: str) -> models.Output:
        path = routes.path(routes.OUTPUT, execution_id=execution_id)
        return _parse(models.Output, self.connection.get(path))

    def release_output(
        self, execution_id: str, comment: str | None = None, suppress: bool = False
    ) -> models.Output:
        """Give a held result to its requester, with a comment they will read; ``suppress``:
        with the cells its failing checks name suppressed. With two reviewers: a vote."""
        path = routes.path(routes.OUTPUT_RELEASE, execution_id=execution_id)
        body = {"comment": comment, "suppress": suppress}
        return _parse(models.Output, self.connection.post(path, body))

    def output_original(self, execution_id: str) -> Any:
        """An output's value as computed, before suppression (owners), decoded."""
        path = routes.path(routes.OUTPUT_ORIGINAL, execution_id=execution_id)
        return self.connection.download(path, label="original")

    def justify_output(self, execution_id: str, text: str) -> models.Justification:
        """Say why a held result of yours should be released (its reviewers read it)."""
        path = routes.path(routes.OUTPUT_JUSTIFICATION, execution_id=execution_id)
        return _parse(models.Justification, self.connection.post(path, {"text": text}))

    def withhold_output(self, execution_id: str, reason: str) -> models.Output:
        """Refuse a held result: its requester reads ``reason``."""
        path = routes.path(routes.OUTPUT_WITHHOLD, execution_id=execution_id)
        return _parse(models.Output, self.connection.post(path, {"reason": reason}))

    # --- jobs --------------------------------------------------------------------------------
    def jobs(self) -> Iterator[models.Job]:
        return _pages(models.Job, self.connection.get_pages(routes.JOBS))

    def job(self, job_id: str, wait: float = 0) -> models.Job:
        """``wait``: seconds the Datasite may hold the answer until the job has ended."""
        path = routes.path(routes.JOB, job_id=job_id)
        params = {"wait": f"{wait:g}"} if wait > 0 else {}
        return _parse(models.Job, self.connection.get(path, **params))

    def kill_job(self, job_id: str) -> models.Job:
        path = routes.path(routes.JOB_KILL, job_id=job_id)
        return _parse(models.Job, self.connection.post(path))

    # --- requests ----------------------------------------------------------------------------
    def requests(
        self, project_id: str | None = None, q: str | None = None
    ) -> Iterator[models.Request]:
        pages = self.connection.get_pages(routes.REQUESTS, project_id=project_id, q=q)
        return _pages(models.Request, pages)

    def create_request(
        self, code: Json, reason: str = "", project_id: str | None = None
    ) -> models.Request:
        """Ask to run ``code`` (``SyftFunction.to_json()``), for a project or none."""
        body: Json = {"code": code, "reason": reason}
        if project_id is not None:
            body["project_id"] = project_id
        return _parse(models.Request, self.connection.post(routes.REQUESTS, body))

    def request(self, request_id: str) -> models.Request:
        path = routes.path(routes.REQUEST, request_id=request_id)
        return _parse(models.Request, self.connection.get(path))

    def approve_request(
        self,
        request_id: str,
        approve_nested: bool = False,
        nested_code_ids: list[str] | None = None,
    ) -> models.Request:
        """With ``approve_nested``, also the nested functions reviewed (``nested_code_ids``)."""
        body: Json = {"approve_nested": approve_nested}
        if nested_code_ids is not None:
            body["nested_code_ids"] = nested_code_ids
        path = routes.path(routes.REQUEST_APPROVE, request_id=request_id)
        return _parse(models.Request, self.connection.post(path, body))

    def request_timeline(self, request_id: str) -> Iterator[models.TimelineEntry]:
        path = routes.path(routes.REQUEST_TIMELINE, request_id=request_id)
        return _pages(models.TimelineEntry, self.connection.get_pages(path))

    def deny_request(self, request_id: str, reason: str) -> models.Request:
        path = routes.path(routes.REQUEST_DENY, request_id=request_id)
        return _parse(models.Request, self.connection.post(path, {"reason": reason}))

    def deposit_result(
        self, request_id: str, blob_id: str, stdout: str = "", stderr: str = ""
    ) -> models.Request:
        """Approve with the owner's own result, uploaded first (``upload_blob``)."""
        body = {"blob_id": blob_id, "stdout": stdout, "stderr": stderr}
        path = routes.path(routes.REQUEST_DEPOSIT, request_id=request_id)
        return _parse(models.Request, self.connection.post(path, body))

    # --- projects ----------------------------------------------------------------------------
    def projects(self) -> Iterator[models.Project]:
        return _pages(models.Project, self.connection.get_pages(routes.PROJECTS))

    def create_project(
        self,
        name: str,
        description: str = "",
        user_email_address: str | None = None,
        request_ids: list[str] | None = None,
    ) -> models.Project:
        """Owners may create one for a scientist (``user_email_address``); ``request_ids``
        (your project-less requests) join it in the same transaction."""
        body: Json = {
            "name": name,
            "description": description,
            "user_email_address": user_email_address,
        }
        if request_ids is not None:
            body["request_ids"] = request_ids
        return _parse(models.Project, self.connection.post(routes.PROJECTS, body))

    def project(self, project: str) -> models.Project:
        """A project by id or by name."""
        path = routes.path(routes.PROJECT, project=project)
        return _parse(models.Project, self.connection.get(path))

    def project_events(self, project_id: str) -> Iterator[models.ProjectEvent]:
        path = routes.path(routes.PROJECT_EVENTS, project=project_id)
        return _pages(models.ProjectEvent, self.connection.get_pages(path))

    # --- the audit log (owners) --------------------------------------------------------------
    def audit_page(self, **query: Any) -> models.Page[models.AuditEvent]:
        """One page of audit events; ``query``: AuditQuery's fields (None: not given)."""
        params = {k: v for k, v in query.items() if v is not None}
        answer = self.connection.get(routes.AUDIT_EVENTS, **params)
        return _parse(models.Page[models.AuditEvent], answer)

    def audit_events(self, page_size: int = 500, **query: Any) -> Iterator[models.AuditEvent]:
        """Every audit event matching ``query``, page after page."""
        pages = self.connection.get_pages(routes.AUDIT_EVENTS, limit=page_size, **query)
        return _pages(models.AuditEvent, pages)

    def audit_verify(
        self, since_seq: int | None = None, since_hash: str | None = None
    ) -> models.AuditVerification:
        params = {"since_seq": since_seq, "since_hash": since_hash}
        answer = self.connection.get(
            routes.AUDIT_VERIFY, **{k: v for k, v in params.items() if v is not None}
        )
        return _parse(models.AuditVerification, answer)

    def audit_checkpoint(self) -> models.AuditCheckpoint:
        return _parse(models.AuditCheckpoint, self.connection.get(routes.AUDIT_CHECKPOINT))

    # --- notifications (your inbox) ----------------------------------------------------------
    def notifications_page(self, **query: Any) -> models.Page[models.Notification]:
        """One page of your notifications; ``query``: NotificationQuery's fields."""
        params = {k: v for k, v in query.items() if v is not None}
        answer = self.connection.get(routes.NOTIFICATIONS, **params)
        return _parse(models.Page[models.Notification], answer)

    def notifications(
        self, status: str | None = None, page_size: int = 500
    ) -> Iterator[models.Notification]:
        """All your notifications (``status``: unread or read), newest first, page after page."""
        pages = self.connection.get_pages(
            routes.NOTIFICATIONS, limit=page_size, order="newest", status=status
        )
        return _pages(models.Notification, pages)

    def notification_count(self) -> models.NotificationCount:
        return _parse(models.NotificationCount, self.connection.get(routes.NOTIFICATIONS_COUNT))

    def notification(self, notification_id: str) -> models.Notification:
        path = routes.path(routes.NOTIFICATION, notification_id=notification_id)
        return _parse(models.Notification, self.connection.get(path))

    def mark_notification(self, notification_id: str, read: bool) -> models.Notification:
        path = routes.path(routes.NOTIFICATION, notification_id=notification_id)
        return _parse(models.Notification, self.connection.patch(path, {"read": read}))

    def mark_notifications(
        self, read: bool, ids: list[str] | None = None
    ) -> models.NotificationsMarked:
        """Mark those in ``ids`` (None: all of yours) read or unread."""
        body: Json = {"read": read}
        if ids is not None:
            body["ids"] = ids
        answer = self.connection.post(routes.NOTIFICATIONS_MARK, body)
        return _parse(models.NotificationsMarked, answer)

    def notification_preferences(self) -> models.NotificationPreferences:
        answer = self.connection.get(routes.NOTIFICATION_PREFERENCES)
        return _parse(models.NotificationPreferences, answer)

    def set_notification_preferences(self, email: str) -> models.NotificationPreferences:
        answer = self.connection.patch(routes.NOTIFICATION_PREFERENCES, {"email": email})
        return _parse(models.NotificationPreferences, answer)

    # --- environments ------------------------------------------------------------------------
    def environments(self) -> Iterator[models.Environment]:
        return _pages(models.Environment, self.connection.get_pages(routes.ENVIRONMENTS))

    def environments_page(self, **query: Any) -> models.Page[models.Environment]:
        answer = self.connection.get(routes.ENVIRONMENTS, **query)
        return models.Page[models.Environment].model_validate(answer)

    def environment(self, name: str) -> models.Environment:
        path = routes.path(routes.ENVIRONMENT, environment=name)
        return _parse(models.Environment, self.connection.get(path))

    def create_environment(self, body: Json) -> models.Environment:
        """``body``: a ``models.EnvironmentCreate``'s fields."""
        return _parse(models.Environment, self.connection.post(routes.ENVIRONMENTS, body))

    def rebuild_environment(self, name: str) -> models.Environment:
        path = routes.path(routes.ENVIRONMENT_REBUILD, environment=name)
        return _parse(models.Environment, self.connection.post(path))

    def delete_environment(self, name: str) -> None:
        self.connection.delete(routes.path(routes.ENVIRONMENT, environment=name))

    def environment_requests(
        self, status: str | None = None
    ) -> Iterator[models.EnvironmentRequest]:
        pages = self.connection.get_pages(routes.ENVIRONMENT_REQUESTS, status=status)
        return _pages(models.EnvironmentRequest, pages)

    def request_environment(self, body: Json) -> models.EnvironmentRequest:
        """``body``: a ``models.EnvironmentRequestCreate``'s fields."""
        answer = self.connection.post(routes.ENVIRONMENT_REQUESTS, body)
        return _parse(models.EnvironmentRequest, answer)

    def approve_environment_request(
        self, request_id: str, name: str | None = None
    ) -> models.EnvironmentRequest:
        path = routes.path(routes.ENVIRONMENT_REQUEST_APPROVE, environment_request_id=request_id)
        body: Json = {} if name is None else {"name": name}
        return _parse(models.EnvironmentRequest, self.connection.post(path, body))

    def deny_environment_request(self, request_id: str, reason: str) -> models.EnvironmentRequest:
        path = routes.path(routes.ENVIRONMENT_REQUEST_DENY, environment_request_id=request_id)
        return _parse(models.EnvironmentRequest, self.connection.post(path, {"reason": reason}))


def _parse(model: type[M], answer: Any) -> M:
    return model.model_validate(answer)


def _pages(model: type[M], items: Iterator[Any]) -> Iterator[M]:
    return (model.model_validate(item) for item in items)
