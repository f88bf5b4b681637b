"""Code requests: a scientist asks, an owner approves, denies, or deposits a result."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select, Update
from sqlmodel import col, or_, select

from ...wire import models as wire
from ...wire.enums import Decision
from .. import models
from ..rows import inserting, loaded, new_row, set_values
from ..store import Store
from . import limits, paging
from .actor import SYSTEM, Actor, visible_row
from .audit import AuditLog
from .code import CodeService
from .code.submission import duplicate
from .errors import BadRequest, Conflict, NotFound
from .paging import PageParams, preload
from .projects import ProjectService
from .settings import SettingsService
from .views import iso, person

STATUSES = [d.value for d in Decision]


class RequestService:
    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        settings: SettingsService,
        code: CodeService,
        projects: ProjectService,
    ):
        self.store = store
        self.audit = audit
        self.settings = settings
        self.code = code
        self.projects = projects

    def create(self, actor: Actor, payload: wire.RequestCreate) -> wire.Request:
        """Ask for ``payload.code`` to run on private data (submitting the code if needed)."""
        self.code.require_can_submit(actor)
        code_payload = payload.code
        reason = limits.check_text(payload.reason or "", "reason", limits.TEXT)
        project_id = payload.project_id
        with self.store.session() as session:
            project = None
            if project_id is not None:
                project = self.projects.visible(session, actor, project_id)
                if project.user_id != actor.user_id:
                    raise BadRequest("You can only add requests to your own projects.")
                project_id = project.id  # it may have been given by name
            requester, code = self.code.author_and_submitted(session, actor, code_payload)
            new_name = False  # (unknown for code submitted before)
            # The new rows go in with the audit event (one round trip on PostgreSQL), the
            # code's first: a duplicate (the same code, maybe submitted by a concurrent call
            # just now) is refused by the tables' unique keys.
            writes = []
            if code is None:
                new = self.code.new_code(session, actor, code_payload)
                writes.append((inserting(models.UserCode), new.row))
                code, new_name = loaded(models.UserCode, new.row), new.new_name
            elif session.connection().execute(_request_of_code(), {"code_id": code.id}).first():
                raise Conflict(duplicate(code.service_func_name))
            row = new_row(
                models.Request,
                code_id=code.id,
                user_id=actor.user_id or "",
                project_id=project_id,
                reason=reason,
            )
            writes.append((inserting(models.Request), row))
            request = loaded(models.Request, row)
            event = ("request.create", "request", request.id, {"code": code.id})
            about = _about(request, code)
            if new_name and requester is not None:
                # all the owners' notification says: the first request of its name
                about.update(first="1", name=requester.name, email=requester.email)
                if project is not None:
                    about["project_name"] = project.name
            try:
                self.audit.commit(session, actor, [event], about, writes=writes)
            except IntegrityError:
                raise Conflict(duplicate(code.service_func_name)) from None
            # The answer from the values in hand.
            view = self._answer(session, request, code, requester, None, project)
        if project_id:
            self.projects.add_event(
                project_id, "code_request", actor, request=request.id, code=code.service_func_name
            )
        if self.settings.value("auto_approve"):
            return self._decide(SYSTEM, request.id, Decision.APPROVED)
        return view

    # --- reading -----------------------------------------------------------------------------
    def list(
        self,
        actor: Actor,
        status: str | None = None,
        project_id: str | None = None,
        page: PageParams | None = None,
        q: str | None = None,
    ) -> wire.Page[wire.Request]:
        """One page of the requests the caller may see (see ``paging``); with ``q``, those
        whose function name, requester's name or email, or project name contain every word."""
        actor.require_user("list requests")
        terms = search_terms(q)
        with self.store.session() as session:
            query = select(models.Request)
            if not actor.is_owner:
                query = query.where(models.Request.user_id == actor.user_id)
            if status:
                if status not in STATUSES:
                    raise BadRequest(f"status is one of {', '.join(STATUSES)}.")
                query = query.where(models.Request.status == status)
            if project_id:
                query = query.where(models.Request.project_id == project_id)
            if terms:
                query = _matching(query, terms)

            def views(rows: Sequence[models.Request]) -> list[wire.Request]:
                # what the views refer to, in three IN-queries; _view's session.get then hits
                # the identity map instead of asking the store once per row
                codes = preload(session, models.UserCode, {r.code_id for r in rows})
                users = {r.user_id for r in rows} | {c.user_id for c in codes.values()}
                preload(session, models.User, users)
                preload(session, models.Project, {r.project_id for r in rows})
                return [self._view(session, r) for r in rows]

            return paging.page(
                session,
                query,
                "requests",
                col(models.Request.created_at),
                col(models.Request.id),
                page,
                views,
            )

    def get(self, actor: Actor, request_id: str) -> wire.Request:
        actor.require_user("see requests")
        with self.store.read_session() as session:
            found = _read(session, request_id)
            # as visible_row: someone else's request does not exist for the caller
            if found is None or (found.request.user_id != actor.user_id and not actor.is_owner):
                raise NotFound(f"No request with id {request_id}.")
            request, project = found.request, _project(session, found.request)
            return self._answer(
                session, request, found.code, found.requester, found.decider, project
            )

    def _visible(self, session: Any, actor: Actor, request_id: str) -> models.Request:
        return visible_row(session, actor, models.Request, request_id, "request")

    def _view(self, session: Any, request: models.Request) -> wire.Request:
        """The answer for ``request``, what it refers to read through ``session`` (``list``
        preloads it)."""
        code = session.get(models.UserCode, request.code_id)
        user = session.get(models.User, request.user_id)
        decider = session.get(models.User, request.decided_by) if request.decided_by else None
        project = _project(session, request)
        return self._answer(session, request, code, user, person(decider), project)

    def _answer(
        self,
        session: Any,
        request: models.Request,
        code: models.UserCode,
        requester: models.User | None,
        decided_by: wire.Person | None,
        project: models.Project | None,
    ) -> wire.Request:
        """The answer for ``request``, given what it refers to (``requester`` is also the
        code's author; None: the account is gone)."""
        return wire.Request(
            id=request.id,
            status=Decision(request.status),
            reason=request.reason,
            deny_reason=request.deny_reason,
            decided_by=decided_by,
            decided_at=iso(request.decided_at),
            created_at=iso(request.created_at),
            updated_at=iso(request.updated_at),
            requesting_user_name=requester.name if requester else "",
            requesting_user_email=requester.email if requester else "",
            requesting_user_institution=requester.institution if requester else "",
            project=wire.ProjectRef(id=project.id, name=project.name) if project else None,
            code=self.code.view(code, session, author=requester),
            nested=self._nested_view(session, request, code),
            sandbox=self.code.sandbox_kind(),
        )

    def _nested_view(
        self, session: Any, request: models.Request, code: models.UserCode
    ) -> builtins.list[wire.NestedFunction]:
        """The functions this request launches as nested jobs, with their code: once approved,
        the plan its owner approved; before, what its real calls resolve to now."""
        if code.nested_plan and request.status == Decision.APPROVED:
            rows = [(name, session.get(models.UserCode, i)) for name, i in code.nested_plan.items()]
            approved = True
        elif code.nested_calls:
            rows, approved = self.code.nested_closure(session, code), False
        else:
            return []
        return [
            wire.NestedFunction(
                name=name,
                code_id=row.id if row else None,
                raw_code=row.raw_code if row else "",
                submit_time=iso(row.submit_time) if row else None,
                approved_as_nested=approved and row is not None,
            )
            for name, row in rows
        ]

    # --- deciding ----------------------------------------------------------------------------
    def approve(
        self,
        actor: Actor,
        request_id: str,
        approve_nested: bool = False,
        nested_code_ids: builtins.list[str] | None = None,
    ) -> wire.Request:
        actor.require_owner("approve requests")
        if approve_nested:  # refused before the nested plan is fixed, not after
            self._refuse_same_decision(request_id, Decision.APPROVED)
            self._approve_nested(actor, request_id, nested_code_ids)
        return self._decide(actor, request_id, Decision.APPROVED, refuse_same=True)

    # --- history ------------------------------------------------------------------------------
    def timeline(
        self, actor: Actor, request_id: str, page: PageParams | None = None
    ) -> wire.Page[wire.TimelineEntry]:
        """What happened to a request, oldest first, read from the audit log: the request's own
        events, its code's (submission, runs), its jobs' and its results' (reviews). Owners
        see every event with its detail; the requester sees the steps that concern them, with
        the detail cut to the reason (votes, owners' notes and other accounts' runs stay out)."""
        E = models.AuditEvent
        with self.store.session() as session:
            request = self._visible(session, actor, request_id)
            code_id = request.code_id
            executions = select(models.Execution.id).where(col(models.Execution.code_id) == code_id)
            jobs = select(models.Job.id).where(col(models.Job.code_id) == code_id)
            query = select(E).where(
                ((col(E.object_type) == "request") & (col(E.object_id) == request_id))
                | ((col(E.object_type) == "code") & (col(E.object_id) == code_id))
                | ((col(E.object_type) == "execution") & col(E.object_id).in_(executions))
                | ((col(E.object_type) == "job") & col(E.object_id).in_(jobs))
            )
            owner = actor.is_owner
            if not owner:
                query = query.where(
                    col(E.action).in_(_REQUESTER_ACTIONS)
                    & (
                        col(E.action).in_(_DECISION_ACTIONS)
                        | (col(E.actor_id) == (actor.user_id or ""))
                    )
                )
            return paging.page(
                session,
                query,
                "timeline",
                col(E.seq),
                col(E.seq),
                page,
                lambda rows: [_timeline_entry(e, owner) for e in rows],
            )

    def _refuse_same_decision(self, request_id: str, decision: Decision) -> None:
        """A second approve (or deny) would record a decision nobody took: say who took it."""
        with self.store.session() as session:
            request = session.get(models.Request, request_id)
            if request is not None:
                _refuse_same(session, request, decision)

    def _approve_nested(
        self, actor: Actor, request_id: str, shown: builtins.list[str] | None
    ) -> None:
        """Fix the nested jobs the request may launch on private data: exactly the functions
        its real calls name, as the reviewer was shown them (``shown``: their code ids). The
        nested functions themselves stay unapproved: they run only inside this request."""
        if not isinstance(shown, list) or not all(isinstance(i, str) for i in shown):
            raise BadRequest(
                "Say which nested functions you reviewed: nested_code_ids, the code ids listed "
                "under the request's 'nested' (the Python client and the sidebar send them)."
            )
        with self.store.session() as session:
            request = self._visible(session, actor, request_id)
            code = session.get(models.UserCode, request.code_id)
            assert code is not None
            closure = self.code.nested_closure(session, code)
            missing = [name for name, row in closure if row is None]
            if missing:
                raise Conflict(
                    f"This code launches {', '.join(missing)}, which its author has not "
                    "submitted: nothing can be approved for it. Ask them to submit it "
                    "(client.code.submit), or approve without approve_nested."
                )
            plan = {name: row.id for name, row in closure if row is not None}
            if sorted(plan.values()) != sorted(set(shown)):
                raise Conflict(
                    "The nested functions of this request are not the ones you reviewed (the "
                    "scientist submitted a new version since, or you were shown another list). "
                    "Load the request again, review its nested functions, and approve again."
                )
            code.nested_plan = plan
            session.add(code)
            session.commit()
        self.audit.record(actor, "request.approve_nested", "request", request_id, nested=plan)

    def deny(self, actor: Actor, request_id: str, reason: str) -> wire.Request:
        actor.require_owner("deny requests")
        if not isinstance(reason, str) or not reason.strip():
            raise BadRequest(
                "Say why you deny it: request.deny(reason='...'). The scientist sees the reason."
            )
        limits.check_text(reason, "The reason", limits.TEXT)
        return self._decide(actor, request_id, Decision.REJECTED, reason.strip(), refuse_same=True)

    def deposit(
        self, actor: Actor, request_id: str, blob_id: str, stdout: str = "", stderr: str = ""
    ) -> wire.Request:
        """Approve, and store the owner's own result as the code's output."""
        actor.require_owner("deposit results")
        stdout, stderr = str(stdout or ""), str(stderr or "")
        limits.check_text(stdout, "stdout", limits.OUTPUT)
        limits.check_text(stderr, "stderr", limits.OUTPUT)
        with self.store.session() as session:
            request = self._visible(session, actor, request_id)
            if session.get(models.Blob, blob_id) is None:
                raise BadRequest("The result was not uploaded; upload it again.")
            session.add(
                models.Execution(
                    code_id=request.code_id,
                    user_id=actor.user_id or "",
                    on_private_data=True,
                    deposited=True,
                    ok=True,
                    result_blob_id=blob_id,
                    stdout=str(stdout or ""),
                    stderr=str(stderr or ""),
                    sandbox="deposited",
                )
            )
            code = session.get(models.UserCode, request.code_id)
            assert code is not None
            code.runs_used += 1  # the deposit is one use of the output policy
            session.add(code)
            session.commit()
        self.audit.record(actor, "request.deposit", "request", request_id, blob=blob_id)
        return self._decide(actor, request_id, Decision.APPROVED)

    def _decide(
        self,
        actor: Actor,
        request_id: str,
        decision: Decision,
        reason: str = "",
        refuse_same: bool = False,
    ) -> wire.Request:
        """The request and its code take the same decision (one vocabulary: ``Decision``);
        ``refuse_same``: a Conflict if the request has that decision already."""
        with self.store.session() as session:
            for _ in range(DECIDE_TRIES):
                # the decider's row comes with it: the answer names them
                found = _read(session, request_id, decider=actor.user_id)
                if found is None:
                    raise NotFound(f"No request with id {request_id}.")
                request, code = found.request, found.code
                if refuse_same:
                    _refuse_same(session, request, decision)
                # denying an approved request revokes it: its code may not run any more
                revoked = decision is Decision.REJECTED and request.status == Decision.APPROVED
                now = models.utcnow()
                # Only if no other decision came since the read (else it is read again): two
                # owners approving at once record one approval, and the second is told so.
                connection = session.connection()  # (this try's transaction)
                decided = connection.execute(
                    _decide_request(),
                    {
                        "request_id": request_id,
                        "seen": request.status,
                        "new_status": decision.value,
                        "new_reason": reason,
                        "decider": actor.user_id,
                        "now": now,
                    },
                )
                if decided.rowcount == 1:
                    break
                session.rollback()
            else:
                raise Conflict(
                    "Other decisions on this request were being taken at the same time; "
                    "load it again and decide again."
                )
            action = "request.revoked" if revoked else f"request.{decision.value}"
            event = (action, "request", request_id, {"reason": reason})
            code_decided = (_decide_code(), {"code_id": code.id, "new_status": decision.value})
            self.audit.commit(session, actor, [event], _about(request, code), [code_decided])
            set_values(
                request,
                status=decision.value,
                deny_reason=reason,
                decided_by=actor.user_id,
                decided_at=now,
                updated_at=now,
            )
            set_values(code, status=decision.value)
            project_id = request.project_id
            # The answer from the values in hand.
            decided_by = found.decider if actor.user_id else None
            view = self._answer(
                session, request, code, found.requester, decided_by, _project(session, request)
            )
        if project_id:
            self.projects.add_event(
                project_id,
                "revoked" if revoked else "approved" if decision is Decision.APPROVED else "denied",
                actor,
                request=request_id,
                reason=reason,
            )
        return view


DECIDE_TRIES = 3  # reads of a request another decision changed meanwhile


class _Found(NamedTuple):
    """A request and what its answer refers to, read in one query (``_read``)."""

    request: models.Request
    code: models.UserCode
    requester: models.User | None  # name, email and institution only; None: account gone
    decider: wire.Person | None


def _read(session: Any, request_id: str, decider: str | None = None) -> _Found | None:
    """The request ``request_id`` with its code, its requester, and a decider as a person:
    the user ``decider`` (the one deciding now) or else whoever decided it; None if there is
    no such request."""
    found = (
        session.connection()
        .execute(_request_query(), {"id": request_id, "decider": decider})
        .first()
    )
    if found is None:
        return None
    values = tuple(found)
    request_columns, code_columns = _columns(models.Request), _columns(models.UserCode)
    split = len(request_columns)
    end = split + len(code_columns)
    request = loaded(models.Request, dict(zip(request_columns, values[:split], strict=True)))
    code = loaded(models.UserCode, dict(zip(code_columns, values[split:end], strict=True)))
    name, email, institution, decider_name, decider_email = values[end:]
    requester = (
        loaded(
            models.User,
            {"id": request.user_id, "name": name, "email": email, "institution": institution},
        )
        if email is not None
        else None
    )
    decided_by = (
        None if decider_email is None else wire.Person(name=decider_name, email=decider_email)
    )
    return _Found(request, code, requester, decided_by)


def _about(request: models.Request, code: models.UserCode) -> dict[str, str]:
    """What the notifications and push threads would read back of a request (its scientist,
    project and function), from the values in hand: ``Change.about``."""
    return {
        "user_id": request.user_id,
        "project_id": request.project_id or "",
        "function": code.service_func_name,
    }


def _project(session: Any, request: models.Request) -> models.Project | None:
    return session.get(models.Project, request.project_id) if request.project_id else None


# Statements built once (building one costs more than running it on SQLite).
_REQUESTS = models.Request.__table__  # type: ignore[attr-defined]
_CODES = models.UserCode.__table__  # type: ignore[attr-defined]
_USERS = models.User.__table__  # type: ignore[attr-defined]


@functools.cache
def _columns(model: type[models.Table]) -> tuple[str, ...]:
    return tuple(model.__table__.c.keys())  # type: ignore[attr-defined]


@functools.cache
def _request_query() -> Select[Any]:
    requester, decider = _USERS.alias("requester"), _USERS.alias("decider")
    return (
        sa_select(
            *_REQUESTS.c,
            *_CODES.c,
            requester.c.name,
            requester.c.email,
            requester.c.institution,
            decider.c.name,
            decider.c.email,
        )
        .select_from(
            _REQUESTS.join(_CODES, _CODES.c.id == _REQUESTS.c.code_id)
            .outerjoin(requester, requester.c.id == _REQUESTS.c.user_id)
            .outerjoin(
                decider,
                decider.c.id
                == func.coalesce(bindparam("decider", type_=String), _REQUESTS.c.decided_by),
            )
        )
        .where(_REQUESTS.c.id == bindparam("id"))
    )


@functools.cache
def _request_of_code() -> Select[Any]:
    return sa_select(_REQUESTS.c.id).where(_REQUESTS.c.code_id == bindparam("code_id")).limit(1)


@functools.cache
def _decide_request() -> Update:
    return (
        update(_REQUESTS)
        .where(_REQUESTS.c.id == bindparam("request_id"), _REQUESTS.c.status == bindparam("seen"))
        .values(
            status=bindparam("new_status"),
            deny_reason=bindparam("new_reason"),
            decided_by=bindparam("decider"),
            decided_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
    )


@functools.cache
def _decide_code() -> Update:
    return (
        update(_CODES)
        .where(_CODES.c.id == bindparam("code_id"))
        .values(status=bindparam("new_status"))
    )


def _refuse_same(session: Any, request: models.Request, decision: Decision) -> None:
    """Conflict when ``request`` already has ``decision``, saying who took it and when: a
    second approve (or deny) would record a decision nobody took."""
    if request.status != decision.value:
        return
    decider = session.get(models.User, request.decided_by) if request.decided_by else None
    by = f" by {decider.email}" if decider else ""
    at = f" at {iso(request.decided_at)}" if request.decided_at else ""
    if decision is Decision.APPROVED:
        raise Conflict(
            f"This request is already approved{by}{at}; approving it again changes "
            "nothing. To stop its code from running, deny it with a reason (that revokes "
            "the approval)."
        )
    raise Conflict(
        f"This request is already denied{by}{at}. To change the reason the scientist "
        "reads, approve it or ask them to resubmit."
    )


# What a requester reads in their request's timeline: decisions (anyone's), and their own steps.
_DECISION_ACTIONS = (
    "request.approved",
    "request.rejected",
    "request.revoked",
    "request.deposit",
    "output.release",
    "output.withhold",
)
_REQUESTER_ACTIONS = (
    *_DECISION_ACTIONS,
    "code.submit",
    "request.create",
    "code.run",
    "output.report",
    "job.create",
    "job.kill",
    "output.justify",
)
_SUMMARIES = {
    "code.submit": "submitted the code",
    "request.create": "asked to run it on private data",
    "request.approved": "approved the request",
    "request.rejected": "denied the request",
    "request.revoked": "revoked the approval",
    "request.deposit": "deposited a result",
    "request.approve_nested": "approved its nested functions",
    "job.create": "started a job",
    "job.kill": "stopped a job",
    "output.report": "checked the result",
    "output.vote": "voted on the result",
    "output.release": "released the result",
    "output.withhold": "withheld the result",
    "output.justify": "justified the result",
}


def _timeline_entry(event: models.AuditEvent, owner: bool) -> wire.TimelineEntry:
    detail = dict(event.detail or {})
    summary = _SUMMARIES.get(event.action, event.action)
    if event.action == "code.run":
        where = "private data" if detail.get("private") else "the mocks"
        summary = f"ran it on {where}" + ("" if detail.get("ok", True) else " (it failed)")
    reason = detail.get("reason")
    if reason and event.action in ("request.rejected", "request.revoked", "output.withhold"):
        summary += f": {str(reason)[:200]}"
    if not owner:
        detail = {"reason": reason} if reason else {}
    return wire.TimelineEntry(
        seq=event.seq or 0,
        at=iso(event.at),
        action=event.action,
        actor_email=event.actor_email or "",
        object_type=event.object_type,
        object_id=event.object_id,
        summary=summary,
        detail=detail,
    )


SEARCH_WORDS = 8  # words of a search that count; more only slow the query down


def search_terms(q: str | None) -> list[str]:
    """A search's words, lower-cased; 400 when it is longer than a name may be."""
    if not q or not q.strip():
        return []
    if len(q) > limits.NAME:
        raise BadRequest(
            f"A search is at most {limits.NAME} characters (this one has {len(q)}): "
            "search by a function's name, a scientist's name or email, or a project's name."
        )
    words = q.lower().split()
    if len(words) > SEARCH_WORDS:
        raise BadRequest(
            f"A search has at most {SEARCH_WORDS} words (this one has {len(words)}); "
            "fewer, longer words find the same requests."
        )
    return words


def _matching(query: Any, terms: list[str]) -> Any:
    """``query`` narrowed to requests in which every term is found in one of the fields
    searched (case-insensitive; ``%`` and ``_`` in a term match themselves)."""
    query = (
        query.join(models.UserCode, col(models.UserCode.id) == col(models.Request.code_id))
        .join(models.User, col(models.User.id) == col(models.Request.user_id), isouter=True)
        .join(
            models.Project,
            col(models.Project.id) == col(models.Request.project_id),
            isouter=True,
        )
    )
    fields = (
        col(models.UserCode.service_func_name),
        col(models.User.name),
        col(models.User.email),
        col(models.Project.name),
    )
    for term in terms:
        query = query.where(or_(*(field.icontains(term, autoescape=True) for field in fields)))
    return query
