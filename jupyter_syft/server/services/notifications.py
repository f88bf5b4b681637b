"""Notifications: an inbox per account, fed by the Datasite's changes, and mail.

The service listens on the change bus (``AuditLog.changes``, see ``server/events.py``): every
audited decision, and the changes services publish themselves (a job that ended). The listener
only queues the change; one background thread turns it into notifications for the accounts it
concerns, so a request never waits for its notifications and a failure here never fails it.

Who is told what:
- owners (admins and data owners, not the one who acted): a new code request, or a new version
  of a function the same scientist asked for before (a resubmission); a result held for output
  review; a sign-up; a new dataset.
- the scientist: the decision on their request (with the reason of a denial), a result of theirs
  held, released or withheld (with the reviewer's words), a result deposited for them, their job
  finished or failed (with the error's first line, as ``client.jobs`` shows it to them).

A notification holds words its reader may already see elsewhere (names, a function's name, a
reason an owner wrote) and which object it is about, never a value, a print or code. Mail (when
the Datasite's owners set it up, ``server/mail.py``) carries less still: a job's error never.

Each account reads only its own inbox (another's notification is "not found"), newest first and
paged, marks notifications read or unread, and chooses how mail comes: ``instant``, a daily
``digest`` of what is still unread, or ``off``. Notifications older than the setting
``notification_retention_days`` are pruned (with the digests, by the same thread, hourly).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, exists, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from ...roles import ServiceRole
from ...wire import models as wire
from ...wire import routes
from ...wire.enums import MailChoice, NotificationKind
from .. import models
from ..events import Change
from ..mail import Mail, Mailer, MailSettings
from ..store import Store
from . import paging
from .actor import Actor
from .audit import AuditLog
from .errors import BadRequest, NotFound
from .paging import PageParams
from .settings import SettingsService
from .views import iso

log = logging.getLogger("jupyter_syft.server")

QUEUE_SIZE = 10_000  # changes waiting to become notifications
BATCH = 200  # changes drafted and written together at most
# After a change wakes the thread, it waits this long for more: those are drafted and written
# with it (one transaction, one look at the settings, one wake-up for them all).
GATHER_S = 0.02
UPKEEP_EVERY_S = 3600.0  # pruning and daily digests
DIGEST_EVERY = timedelta(days=1)
SUBJECT_LIMIT = 200
TEXT_LIMIT = 600
QUOTE_LIMIT = 400  # a reason or comment an owner wrote, quoted
ERROR_LIMIT = 300  # a job's error line
DIGEST_ITEMS = 50  # listed in one digest; the rest are counted
ID_LIMIT = 64
_MAX_DAYS = 36_500
OWNER_ROLE = int(ServiceRole.DATA_OWNER)
NO_MAIL_TEXT = {
    # What a mail says instead of the text: an error comes from a run on private data.
    NotificationKind.JOB_FAILED.value: "It ended without a result; read why with client.jobs.",
}


@dataclass
class Draft:
    """A notification to write, for one or more accounts."""

    to: list[str]
    kind: NotificationKind
    subject: str
    text: str
    object_type: str = ""
    object_id: str = ""
    project_id: str = ""


# The tables the thread reads and writes on every request and decision: Core statements,
# rows as tuples (no ORM objects to build).
TABLE: Any = models.Notification.__table__  # type: ignore[attr-defined]
_REQUESTS: Any = models.Request.__table__  # type: ignore[attr-defined]
_CODES: Any = models.UserCode.__table__  # type: ignore[attr-defined]
_USERS: Any = models.User.__table__  # type: ignore[attr-defined]
_PROJECTS: Any = models.Project.__table__  # type: ignore[attr-defined]
DECISIONS = frozenset({"request.approved", "request.rejected", "request.revoked"})
REQUEST_CHANGES = DECISIONS | {"request.create", "request.deposit"}


class _NewRequest(NamedTuple):
    """What ``_new_request`` reads of a request, as the change of a function's first request
    brought it (``Change.about``; a later one is read: is it a resubmission?)."""

    id: str
    project_id: str
    service_func_name: str
    name: str
    email: str
    project_name: str | None
    earlier: int

    @classmethod
    def of(cls, change: Change) -> _NewRequest | None:
        about = change.about
        if "first" not in about:
            return None
        return cls(
            change.object_id,
            about["project_id"],
            about["function"],
            about["name"],
            about["email"],
            about.get("project_name"),
            0,
        )


class _RequestAbout(NamedTuple):
    """What ``_decision`` reads of a request, as the change brought it (``Change.about``)."""

    id: str
    user_id: str
    project_id: str
    service_func_name: str

    @classmethod
    def of(cls, change: Change) -> _RequestAbout:
        about = change.about
        return cls(change.object_id, about["user_id"], about["project_id"], about["function"])


def _is_owner(users: Any) -> Any:
    """An enabled owner (admin or data owner), in ``users`` (the users table or an alias)."""
    return and_(users.c.role >= OWNER_ROLE, users.c.disabled.is_(False))


@functools.cache
def _new_request_query() -> Any:
    """One query: a request, its function's name, its requester, its project's name, how
    many requests for a function of that name the requester sent before it (a resubmission
    when any), and the owners to tell (a row per enabled owner; one row, ``owner_id`` None,
    when there is none). Built once: building it (aliases, a correlated subquery) cost more
    than running it."""
    request, code, user, project, owner = _REQUESTS, _CODES, _USERS, _PROJECTS, _USERS.alias()
    earlier_request, earlier_code = _REQUESTS.alias(), _CODES.alias()
    earlier_count = (
        sa_select(func.count())
        .select_from(
            earlier_request.join(earlier_code, earlier_code.c.id == earlier_request.c.code_id)
        )
        .where(
            earlier_request.c.user_id == request.c.user_id,
            earlier_request.c.id != request.c.id,
            earlier_code.c.service_func_name == code.c.service_func_name,
            earlier_request.c.created_at <= request.c.created_at,
        )
        .scalar_subquery()
    )
    return (
        sa_select(
            request.c.id,
            request.c.project_id,
            code.c.service_func_name,
            user.c.name,
            user.c.email,
            project.c.name.label("project_name"),
            earlier_count.label("earlier"),
            owner.c.id.label("owner_id"),
        )
        .select_from(
            request.join(code, code.c.id == request.c.code_id)
            .outerjoin(user, user.c.id == request.c.user_id)
            .outerjoin(project, project.c.id == request.c.project_id)
            .outerjoin(owner, _is_owner(owner))
        )
        .where(request.c.id == bindparam("request_id"))
    )


_REQUEST_AND_CODE = (
    sa_select(
        _REQUESTS.c.id, _REQUESTS.c.user_id, _REQUESTS.c.project_id, _CODES.c.service_func_name
    )
    .select_from(_REQUESTS.join(_CODES, _CODES.c.id == _REQUESTS.c.code_id))
    .where(_REQUESTS.c.id == bindparam("request_id"))
)
_OWNERS = sa_select(_USERS.c.id).where(_is_owner(_USERS))


def about_request(
    to: list[str],
    kind: NotificationKind,
    subject: str,
    text: str,
    request_id: str,
    project_id: str | None,
) -> list[Draft]:
    """The one draft of a notification about a request (and its project, if any)."""
    return [Draft(to, kind, subject, text, "request", request_id, project_id or "")]


class NotificationService:
    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        settings: SettingsService,
        mailer: Mailer | None = None,
    ):
        self.store = store
        self.audit = audit
        self.settings = settings
        self.mailer = mailer or Mailer(self.mail_settings)
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_SIZE)
        self._closed = False
        self._next_upkeep = time.monotonic() + 60.0  # not while the Datasite is starting
        self._owner_ids: list[str] | None = None  # the owners, read once per batch
        self._reader: Any = None  # the batch's connection for reads (_reads)
        self._thread = threading.Thread(
            target=self._serve, name="datasite-notifications", daemon=True
        )
        self._thread.start()
        self._unsubscribe = audit.changes.subscribe(self.on_change)

    def mail_settings(self) -> MailSettings:
        return MailSettings.from_values(self.settings.values())

    # --- listening ---------------------------------------------------------------------------
    def on_change(self, change: Change) -> None:
        """The bus's listener: queue and return (never blocks, never raises)."""
        if change.action == "notification.create":
            return  # this thread's own "your inbox grew", for the push channel
        if change.relayed:
            return  # another process made it, and notified whom it concerns
        try:
            self._queue.put_nowait(change)
        except queue.Full:
            log.error("Notification queue full: the change %s notifies nobody", change.action)

    def flush(self, timeout: float = 30.0) -> bool:
        """Until every change queued so far became notifications (tests; a graceful stop)."""
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self) -> None:
        self._unsubscribe()
        self._closed = True
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=5)
        self._thread.join(10)
        self.mailer.close()

    def _serve(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=max(1.0, self._next_upkeep - time.monotonic()))
            except queue.Empty:
                item = "upkeep"
            if isinstance(item, Change):
                time.sleep(GATHER_S)
            batch: list[Change] = []
            while isinstance(item, Change) and len(batch) < BATCH:
                # what queued up meanwhile is drafted together and written in one transaction
                batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = "upkeep"
            if batch:
                self._run(self._handle, batch)
            if item is None:
                return
            self._run(self._after, item)  # (a Change here: the batch was full)

    def _run(self, step: Any, item: Any) -> None:
        try:
            step(item)
        except Exception:  # the thread lives on for the next change
            log.exception("Notifications for %s failed", getattr(item, "action", item))

    def _after(self, item: Any) -> None:
        if isinstance(item, threading.Event):
            item.set()
        elif isinstance(item, Change):
            self._handle([item])
        if time.monotonic() >= self._next_upkeep:
            self._next_upkeep = time.monotonic() + UPKEEP_EVERY_S
            self.prune()
            self.send_digests()

    # --- from a change to notifications ------------------------------------------------------
    def _handle(self, changes: Sequence[Change]) -> None:
        """Changes in the order they were made, their notifications written together (one
        transaction, one look at the mail settings); a change that fails to draft is logged
        and skipped, the others are written."""
        drafts: list[Draft] = []
        self._owner_ids = None  # read once per batch (see _owners)
        for change in changes:
            if change.action.startswith("user."):
                self._owner_ids = None  # roles may have changed
            if change.action in ("user.delete", "project.create"):
                # they change rows already written: what was drafted before them goes first
                self._write_batch(drafts)
                drafts = []
            if change.action == "user.delete":
                self._run(self._forget, change.object_id)
                continue
            try:
                drafts += self._drafts(change)
            except Exception:
                log.exception("Notifications for %s failed", change.action)
                self._end_reads()  # (a failed statement may have ended its transaction)
        self._write_batch(drafts)

    def _reads(self) -> Any:
        """The batch's connection for the requests' Core reads: one for the batch."""
        if self._reader is None:
            self._reader = self.store.engine.connect()
        return self._reader

    def _end_reads(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            reader.close()

    def _write_batch(self, drafts: list[Draft]) -> None:
        """One transaction for the batch; if it fails, each draft alone, so one bad row does
        not cost the others their notifications."""
        self._end_reads()  # no read transaction stays open while writing
        try:
            self._write(drafts)
        except Exception:
            if len(drafts) < 2:
                raise
            log.exception("Writing %d notifications together failed: one by one", len(drafts))
            for draft in drafts:
                self._run(self._write, [draft])

    def _drafts(self, change: Change) -> list[Draft]:
        action = change.action
        if action in REQUEST_CHANGES:  # every request and decision: Core reads only
            if action in DECISIONS and "function" in change.about:
                return self._decision(_RequestAbout.of(change), change)  # nothing to read
            if action == "request.create":
                return self._new_request(change)
            connection = self._reads()
            if action == "request.deposit":
                return self._deposit(connection, change)
            return self._decision(_request_and_code(connection, change.object_id), change)
        if action == "project.create":
            with self.store.session() as session:
                self._join_project(session, change.object_id)
            return []
        drafts: Callable[[Any, Change], list[Draft]] | None
        if action.startswith("environment.request"):
            drafts = self._environment_request
        elif action == "output.report":
            drafts = self._held if change.detail.get("release") == "held" else None
        else:
            drafts = {
                "output.release": self._output_decided,
                "output.withhold": self._output_decided,
                "job.finish": self._job,
                "user.create": self._signup,
                "dataset.create": self._dataset,
            }.get(action)
        if drafts is None:
            return []  # a change nobody is told of
        with self.store.session() as session:
            return drafts(session, change)

    def _environment_request(self, session: Any, change: Change) -> list[Draft]:
        """A scientist asked for an environment (owners hear of it), or an owner decided on
        their ask (they hear of it)."""
        row = session.get(models.EnvironmentRequest, change.object_id)
        if row is None:
            return []
        packages = _clip(", ".join(row.packages), QUOTE_LIMIT)
        if change.action == "environment.request":
            who = _who(session.get(models.User, row.user_id))
            text = f"{who} asks for an environment with {packages}: {_quote(row.reason)}"
            kind, subject = NotificationKind.ENVIRONMENT_REQUEST_NEW, "New environment request"
            to = self._owners(session, but=change.actor_id)
        elif change.action == "environment.request.approve":
            kind = NotificationKind.ENVIRONMENT_REQUEST_APPROVED
            subject = f"Approved: environment {row.name}"
            text = (
                f"Your request for {packages} was approved: the environment {row.name} is "
                f'being built; use it with @sy.syft_function(..., environment="{row.name}").'
            )
            to = [row.user_id]
        elif change.action == "environment.request.deny":
            kind = NotificationKind.ENVIRONMENT_REQUEST_DENIED
            subject = "Environment request denied"
            reason = _quote(row.deny_reason)
            text = f"Your request for {packages} was denied. Reason: {reason or 'none given.'}"
            to = [row.user_id]
        else:
            return []
        return [Draft(to, kind, subject, text, "environment_request", row.id)]

    def _join_project(self, session: Any, project_id: str) -> None:
        """Requests sent with a project were asked for before it existed: their notifications
        now name it (and link to it, as PySyft's "new request in the project" does)."""
        request_ids = select(models.Request.id).where(col(models.Request.project_id) == project_id)
        rows = session.exec(
            select(models.Notification).where(
                col(models.Notification.object_type) == "request",
                col(models.Notification.object_id).in_(request_ids),
                col(models.Notification.project_id) == "",
            )
        ).all()
        for row in rows:
            row.project_id = project_id
            session.add(row)
        session.commit()

    def _new_request(self, change: Change) -> list[Draft]:
        found: Any = _NewRequest.of(change)
        if found is None:  # the change does not say it all: read it
            query, values = _new_request_query(), {"request_id": change.object_id}
            rows = self._reads().execute(query, values).all()
            if not rows:
                return []
            found = rows[0]
            if self._owner_ids is None:  # this batch's owners came with the request
                self._owner_ids = [row.owner_id for row in rows if row.owner_id is not None]
        fn = found.service_func_name
        where = f" (project {found.project_name})" if found.project_name is not None else ""
        who = _who_is(found.name, found.email)
        if found.earlier:
            kind, subject = NotificationKind.REQUEST_RESUBMITTED, f"Resubmitted: {fn}"
            text = f"{who} sent a new version of {fn}{where}: it waits for your review."
        else:
            kind, subject = NotificationKind.REQUEST_NEW, f"New code request: {fn}"
            text = f"{who} asks to run {fn} on private data{where}."
        to = self._owners(self._reads(), but=change.actor_id)
        return about_request(to, kind, subject, text, found.id, found.project_id)

    def _decision(self, found: Any, change: Change) -> list[Draft]:
        """``found``: the request's id, user_id, project_id and service_func_name."""
        if found is None or found.user_id == change.actor_id:
            return []
        fn = found.service_func_name
        if change.action == "request.approved":
            kind, subject = NotificationKind.REQUEST_APPROVED, f"Approved: {fn}"
            text = f"Your request to run {fn} was approved: run it with client.code.{fn}(...)."
        elif change.action == "request.revoked":
            kind, subject = NotificationKind.REQUEST_DENIED, f"Approval revoked: {fn}"
            reason = _quote(change.detail.get("reason"))
            text = (
                f"The approval of your request to run {fn} was revoked: it may not run any "
                f"more. Reason: {reason or 'none given.'}"
            )
        else:
            kind, subject = NotificationKind.REQUEST_DENIED, f"Denied: {fn}"
            reason = _quote(change.detail.get("reason"))
            text = f"Your request to run {fn} was denied. Reason: {reason or 'none given.'}"
        return about_request([found.user_id], kind, subject, text, found.id, found.project_id)

    def _deposit(self, connection: Any, change: Change) -> list[Draft]:
        found = _request_and_code(connection, change.object_id)
        if found is None:
            return []
        fn = found.service_func_name
        text = f"A data owner deposited a result for {fn}: get it with client.code.{fn}(...)."
        kind, subject = NotificationKind.RESULT_READY, f"Result ready: {fn}"
        return about_request([found.user_id], kind, subject, text, found.id, found.project_id)

    def _held(self, session: Any, change: Change) -> list[Draft]:
        if not change.detail.get("private"):
            return []
        execution = session.get(models.Execution, change.object_id)
        code = session.get(models.UserCode, execution.code_id) if execution else None
        if execution is None or code is None:
            return []
        fn = code.service_func_name
        user = session.get(models.User, execution.user_id)
        request = _request_of(session, code)
        drafts = [
            Draft(
                self._owners(session, but=execution.user_id),
                NotificationKind.OUTPUT_HELD,
                f"Output held for review: {fn}",
                f"A result of {fn}, run by {_who(user)}, waits for output review "
                "(client.outputs.held).",
                "output",
                execution.id,
                request.project_id or "" if request else "",
            )
        ]
        if user is not None and not ServiceRole(user.role).is_owner:
            drafts.append(
                Draft(
                    [user.id],
                    NotificationKind.RESULT_HELD,
                    f"Result held for review: {fn}",
                    f"Your result of {fn} is held for the data owners' output review; you are "
                    "told when they decide.",
                    "output",
                    execution.id,
                    request.project_id or "" if request else "",
                )
            )
        return drafts

    def _output_decided(self, session: Any, change: Change) -> list[Draft]:
        execution = session.get(models.Execution, change.object_id)
        code = session.get(models.UserCode, execution.code_id) if execution else None
        if execution is None or code is None:
            return []
        fn = code.service_func_name
        note = _quote(change.detail.get("note"))
        request = _request_of(session, code)
        if change.action == "output.release":
            kind, subject = NotificationKind.RESULT_READY, f"Result released: {fn}"
            cells = change.detail.get("suppressed_cells")
            text = f"The data owners released your result of {fn}"
            if isinstance(cells, int) and cells:
                text += f", with {cells} cell{'s' if cells != 1 else ''} suppressed"
            text += f". Comment: {note}" if note else "."
        else:
            kind, subject = NotificationKind.RESULT_WITHHELD, f"Result withheld: {fn}"
            text = f"The data owners withheld your result of {fn}. Reason: {note or 'none given.'}"
        return [
            Draft(
                [execution.user_id],
                kind,
                subject,
                text,
                "output",
                execution.id,
                request.project_id or "" if request else "",
            )
        ]

    def _job(self, session: Any, change: Change) -> list[Draft]:
        job = session.get(models.Job, change.object_id)
        code = session.get(models.UserCode, job.code_id) if job else None
        if job is None or code is None:
            return []
        fn = code.service_func_name
        if job.status == "completed":
            execution = (
                session.get(models.Execution, job.execution_id) if job.execution_id else None
            )
            held = execution is not None and execution.release == "held"
            kind, subject = NotificationKind.JOB_FINISHED, f"Job finished: {fn}"
            text = f"Your job {fn} completed" + (
                "; its result is held for output review." if held else ": job.result.get()."
            )
        else:
            word = "interrupted" if job.status == "interrupted" else "failed"
            kind, subject = NotificationKind.JOB_FAILED, f"Job {word}: {fn}"
            text = f"Your job {fn} {word}: {_first_line(job.error, ERROR_LIMIT)}"
        return [Draft([job.user_id], kind, subject, text, "job", job.id)]

    def _signup(self, session: Any, change: Change) -> list[Draft]:
        actor = session.get(models.User, change.actor_id) if change.actor_id else None
        if actor is not None and ServiceRole(actor.role).is_owner:
            return []  # an owner created it: not a sign-up
        user = session.get(models.User, change.object_id)
        if user is None:
            return []
        where = f" ({_clip(user.institution, 100)})" if user.institution else ""
        return [
            Draft(
                self._owners(session),
                NotificationKind.SIGNUP,
                f"New account: {user.email}",
                f"{_who(user)}{where} signed up as a data scientist.",
                "user",
                user.id,
            )
        ]

    def _dataset(self, session: Any, change: Change) -> list[Draft]:
        dataset = session.get(models.Dataset, change.object_id)
        if dataset is None:
            return []
        uploader = session.get(models.User, dataset.uploader_id)
        assets = change.detail.get("assets")
        count = len(assets) if isinstance(assets, list) else 0
        return [
            Draft(
                self._owners(session, but=change.actor_id),
                NotificationKind.DATASET_NEW,
                f"New dataset: {dataset.name}",
                f"{_who(uploader)} uploaded {dataset.name} "
                f"({count} asset{'s' if count != 1 else ''}).",
                "dataset",
                dataset.id,
            )
        ]

    def _owners(self, session: Any, but: str = "") -> list[str]:
        """The enabled owners' ids (but ``but``), read once per batch of changes (``session``:
        a Session or a Connection)."""
        if self._owner_ids is None:
            self._owner_ids = list(session.execute(_OWNERS).scalars().all())
        return [r for r in self._owner_ids if r != but]

    def _write(self, drafts: Sequence[Draft]) -> None:
        rows = [_row(draft, user_id) for draft in drafts for user_id in dict.fromkeys(draft.to)]
        if not rows:
            return
        with self.store.engine.begin() as connection:
            connection.execute(insert(TABLE), rows)
        # "Your inbox grew" (the object is the reader's account), for the push channel; this
        # service's own listener ignores it.
        for user_id, count in Counter(r["user_id"] for r in rows).items():
            self.audit.changes.publish(
                Change(
                    "notification.create",
                    "user",
                    user_id,
                    actor_id=user_id,
                    detail={"count": count},
                )
            )
        self._mail_instant(rows)

    def _forget(self, user_id: str) -> None:
        """An account was deleted: its inbox and preference go with it."""
        with self.store.session() as session:
            session.exec(
                delete(models.Notification).where(col(models.Notification.user_id) == user_id)
            )
            session.exec(
                delete(models.NotificationPreference).where(
                    col(models.NotificationPreference.user_id) == user_id
                )
            )
            session.commit()

    # --- reading and marking -----------------------------------------------------------------
    def list(
        self, actor: Actor, status: str | None = None, page: PageParams | None = None
    ) -> wire.Page[wire.Notification]:
        """One page of your notifications, newest first unless ``order=oldest``."""
        actor.require_user("read your notifications")
        query = select(models.Notification).where(col(models.Notification.user_id) == actor.user_id)
        if status is not None:
            if status not in ("unread", "read"):
                raise BadRequest("status is unread or read (or leave it out for all).")
            query = query.where(col(models.Notification.read).is_(status == "read"))
        with self.store.session() as session:
            return paging.page(
                session,
                query,
                "notifications",
                col(models.Notification.created_at),
                col(models.Notification.id),
                page or PageParams(order="newest"),
                lambda rows: [_view(r) for r in rows],
            )

    def count(self, actor: Actor) -> wire.NotificationCount:
        actor.require_user("read your notifications")
        with self.store.session() as session:
            mine = col(models.Notification.user_id) == actor.user_id
            total = session.exec(
                select(func.count()).select_from(models.Notification).where(mine)
            ).one()
            unread = session.exec(
                select(func.count())
                .select_from(models.Notification)
                .where(mine, col(models.Notification.read).is_(False))
            ).one()
        return wire.NotificationCount(unread=int(unread), total=int(total))

    def get(self, actor: Actor, notification_id: str) -> wire.Notification:
        with self.store.session() as session:
            return _view(self._mine(session, actor, notification_id))

    def set_read(self, actor: Actor, notification_id: str, read: bool) -> wire.Notification:
        if not isinstance(read, bool):
            raise BadRequest("read is true or false.")
        with self.store.session() as session:
            row = self._mine(session, actor, notification_id)
            row.read = read
            session.add(row)
            session.commit()
            return _view(row)

    def mark(
        self, actor: Actor, read: bool, ids: Sequence[str] | None = None
    ) -> wire.NotificationsMarked:
        """Mark yours read or unread: those in ``ids`` (each one must be yours), or all."""
        actor.require_user("mark your notifications")
        if not isinstance(read, bool):
            raise BadRequest("read is true or false.")
        mine = col(models.Notification.user_id) == actor.user_id
        with self.store.session() as session:
            where = [mine, col(models.Notification.read).is_(not read)]
            if ids is not None:
                wanted = set(ids)
                for notification_id in wanted:
                    if not isinstance(notification_id, str) or len(notification_id) > ID_LIMIT:
                        raise BadRequest("ids are notification ids (32 hex digits).")
                found = set(
                    session.exec(
                        select(models.Notification.id).where(
                            mine, col(models.Notification.id).in_(wanted)
                        )
                    ).all()
                )
                missing = sorted(wanted - found)
                if missing:
                    raise NotFound(f"No notification with id {_clip(missing[0], ID_LIMIT)}.")
                where.append(col(models.Notification.id).in_(wanted))
            changed = session.exec(update(models.Notification).where(*where).values(read=read))
            session.commit()
        return wire.NotificationsMarked(
            changed=int(changed.rowcount or 0), unread=self.count(actor).unread
        )

    @staticmethod
    def _mine(session: Any, actor: Actor, notification_id: str) -> models.Notification:
        actor.require_user("read your notifications")
        row = session.get(models.Notification, notification_id)
        if row is None or row.user_id != actor.user_id:
            raise NotFound(f"No notification with id {notification_id} in your inbox.")
        assert isinstance(row, models.Notification)
        return row

    # --- mail preferences --------------------------------------------------------------------
    def preferences(self, actor: Actor) -> wire.NotificationPreferences:
        actor.require_user("read your notification settings")
        if actor.is_guest:
            raise BadRequest("Guests get no mail: register an account to choose how you do.")
        with self.store.session() as session:
            row = session.get(models.NotificationPreference, actor.user_id)
            user = session.get(models.User, actor.user_id)
        return wire.NotificationPreferences(
            email=MailChoice(row.email if row else MailChoice.INSTANT.value),
            address=user.email if user else actor.email,
            mail_enabled=self.mail_settings().ready,
        )

    def set_preferences(
        self, actor: Actor, body: wire.NotificationPreferencesUpdate
    ) -> wire.NotificationPreferences:
        actor.require_user("choose how you get notifications")
        if actor.is_guest:
            raise BadRequest("Guests get no mail: register an account to choose how you do.")
        choice = MailChoice(body.email).value
        with self.store.session() as session:
            row = session.get(models.NotificationPreference, actor.user_id)
            if row is None:
                row = models.NotificationPreference(user_id=actor.user_id or "")
            row.email, row.updated_at = choice, models.utcnow()
            session.add(row)
            session.commit()
        return self.preferences(actor)

    # --- mail --------------------------------------------------------------------------------
    def _mail_instant(self, rows: Sequence[dict[str, Any]]) -> None:
        values = self.settings.values()
        settings = MailSettings.from_values(values)
        if not settings.ready:
            return
        people = self._mail_choices({r["user_id"] for r in rows})
        site = str(values["name"])
        for row in rows:
            address, choice = people.get(row["user_id"], ("", "off"))
            if not address or choice != MailChoice.INSTANT.value:
                continue
            body = "\n\n".join(
                filter(
                    None,
                    [_mail_text(row["kind"], row["text"]), _where(settings), _footer(site)],
                )
            )
            self.mailer.send(
                Mail(
                    to=address,
                    subject=f"[{site}] {row['subject']}",
                    body=body,
                    on_sent=self._marker([row["id"]]),
                )
            )

    def send_digests(self, force: bool = False) -> int:
        """Mail each ``digest`` account its unread notifications not mailed yet, at most once
        a day (``force``: now, whenever the last one went). Returns how many mails went out."""
        settings = self.mail_settings()
        if not settings.ready:
            return 0
        now = models.utcnow()
        site = str(self.settings.value("name"))
        sent = 0
        with self.store.session() as session:
            prefs = session.exec(
                select(models.NotificationPreference).where(
                    col(models.NotificationPreference.email) == MailChoice.DIGEST.value
                )
            ).all()
        for pref in prefs:
            if not force and not _due(pref, now):
                continue
            with self.store.session() as session:
                user = session.get(models.User, pref.user_id)
                waiting = session.exec(
                    select(models.Notification)
                    .where(
                        col(models.Notification.user_id) == pref.user_id,
                        col(models.Notification.read).is_(False),
                        col(models.Notification.mailed).is_(False),
                    )
                    .order_by(col(models.Notification.created_at).desc())
                ).all()
                row = session.get(models.NotificationPreference, pref.user_id)
                if row is not None:
                    row.digest_at = now
                    session.add(row)
                    session.commit()
            if user is None or user.disabled or not waiting:
                continue
            lines = [f"- {r.subject}: {_mail_text(r.kind, r.text)}" for r in waiting[:DIGEST_ITEMS]]
            if len(waiting) > DIGEST_ITEMS:
                lines.append(f"... and {len(waiting) - DIGEST_ITEMS} more.")
            count = len(waiting)
            intro = f"You have {count} unread notification{'s' if count != 1 else ''}:"
            link = f"Open the Datasite: {settings.public_url}" if settings.public_url else ""
            body = "\n\n".join(
                filter(None, [intro, "\n".join(lines), link, _footer(site, digest=True)])
            )
            self.mailer.send(
                Mail(
                    to=user.email,
                    subject=f"[{site}] {count} unread notification{'s' if count != 1 else ''}",
                    body=body,
                    on_sent=self._marker([r.id for r in waiting]),
                )
            )
            sent += 1
        return sent

    def _marker(self, ids: Sequence[str]) -> Any:
        def mark_mailed() -> None:
            with self.store.session() as session:
                session.exec(
                    update(models.Notification)
                    .where(col(models.Notification.id).in_(list(ids)))
                    .values(mailed=True)
                )
                session.commit()

        return mark_mailed

    def _mail_choices(self, user_ids: set[str]) -> dict[str, tuple[str, str]]:
        """user id -> (address, choice) of the accounts mail may go to."""
        with self.store.session() as session:
            users = session.exec(
                select(models.User).where(
                    col(models.User.id).in_(user_ids),
                    col(models.User.disabled).is_(False),
                    col(models.User.role) > int(ServiceRole.GUEST),
                )
            ).all()
            prefs = {
                p.user_id: p.email
                for p in session.exec(
                    select(models.NotificationPreference).where(
                        col(models.NotificationPreference.user_id).in_(user_ids)
                    )
                ).all()
            }
        return {u.id: (u.email, prefs.get(u.id, MailChoice.INSTANT.value)) for u in users}

    # --- pruning -----------------------------------------------------------------------------
    def prune(self, days: int | None = None) -> int:
        """Delete notifications older than ``days`` (the setting notification_retention_days;
        0: keep them) and those of accounts that are gone. Returns how many went."""
        if days is None:
            days = int(self.settings.value("notification_retention_days"))
        removed = 0
        with self.store.session() as session:
            if 0 < days < _MAX_DAYS:
                cutoff = models.utcnow() - timedelta(days=days)
                result = session.exec(
                    delete(models.Notification).where(col(models.Notification.created_at) < cutoff)
                )
                removed += int(result.rowcount or 0)
            gone = session.exec(
                delete(models.Notification).where(
                    ~exists().where(col(models.User.id) == col(models.Notification.user_id))
                )
            )
            removed += int(gone.rowcount or 0)
            session.commit()
        return removed


def _due(pref: models.NotificationPreference, now: Any) -> bool:
    last = pref.digest_at
    if last is None:
        return True
    if last.tzinfo is None and now.tzinfo is not None:
        now = now.replace(tzinfo=None)
    return bool(now - last >= DIGEST_EVERY)


def _row(draft: Draft, user_id: str) -> dict[str, Any]:
    """``draft``'s notification for ``user_id``, as the Core INSERT takes it: every column,
    filled as the model's defaults would (building an ORM object per row cost more than
    writing it)."""
    return {
        "id": models.new_id(),
        "user_id": user_id,
        "kind": draft.kind.value,
        "subject": _clip(draft.subject, SUBJECT_LIMIT),
        "text": _clip(draft.text, TEXT_LIMIT),
        "object_type": draft.object_type,
        "object_id": draft.object_id,
        "project_id": draft.project_id,
        "read": False,
        "mailed": False,
        "created_at": models.utcnow(),
    }


def _request_and_code(connection: Any, request_id: str) -> Any:
    """A request's id, user, project and function name, in one query (None: no such
    request)."""
    return connection.execute(_REQUEST_AND_CODE, {"request_id": request_id}).first()


def _request_of(session: Any, code: models.UserCode) -> models.Request | None:
    return session.exec(
        select(models.Request).where(col(models.Request.code_id) == code.id).limit(1)
    ).first()


def _view(row: models.Notification) -> wire.Notification:
    return wire.Notification(
        id=row.id,
        kind=NotificationKind(row.kind),
        subject=row.subject,
        text=row.text,
        object_type=row.object_type,
        object_id=row.object_id,
        project_id=row.project_id or None,
        link=_link(row),
        created_at=iso(row.created_at),
        read=row.read,
    )


def _link(row: models.Notification) -> str:
    """The route of the object, as its reader opens it ("": none they can open)."""
    object_id = row.object_id
    if not object_id:
        return ""
    new_request = row.kind in (
        NotificationKind.REQUEST_NEW.value,
        NotificationKind.REQUEST_RESUBMITTED.value,
    )
    if row.object_type == "request" and new_request and row.project_id:
        # as PySyft links "a new request was added to the project": the project, whose
        # .requests lists it (object_type / object_id still name the request itself)
        return routes.path(routes.PROJECT, project=row.project_id)
    if row.object_type == "request":
        return routes.path(routes.REQUEST, request_id=object_id)
    if row.object_type == "job":
        return routes.path(routes.JOB, job_id=object_id)
    if row.object_type == "dataset":
        return routes.path(routes.DATASET, dataset=object_id)
    if row.object_type == "user":
        return routes.path(routes.USER, user_id=object_id)
    if row.object_type == "output" and row.kind == NotificationKind.OUTPUT_HELD.value:
        return routes.path(routes.OUTPUT, execution_id=object_id)  # owners review it
    if row.project_id:
        return routes.path(routes.PROJECT, project=row.project_id)
    return ""


def _who(user: models.User | None) -> str:
    return _who_is(None, None) if user is None else _who_is(user.name, user.email)


def _who_is(name: str | None, email: str | None) -> str:
    """An account in words (``email`` None: the account is gone)."""
    if email is None:
        return "A deleted account"
    return f"{_clip(name, 100)} <{email}>"


def _clip(text: Any, limit: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote(text: Any) -> str:
    return _clip(text, QUOTE_LIMIT) if isinstance(text, str) else ""


def _first_line(text: str, limit: int) -> str:
    line = next((ln for ln in (text or "").splitlines() if ln.strip()), "no error was given.")
    return _clip(line, limit)


def _mail_text(kind: str, text: str) -> str:
    return NO_MAIL_TEXT.get(kind, text)


def _where(settings: MailSettings) -> str:
    opened = "in JupyterLab's Syft sidebar, or in Python with client.notifications"
    if settings.public_url:
        return f"Open the Datasite at {settings.public_url} to see it ({opened})."
    return f"See it {opened}."


def _footer(site: str, digest: bool = False) -> str:
    what = "this daily digest" if digest else "this mail"
    return (
        f"-- \nYou get {what} from the Datasite {site}. Choose how you get notifications with "
        'client.notifications.set_email("instant" | "digest" | "off").'
    )
