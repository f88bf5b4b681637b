"""Projects: a scientist's stated purpose, grouping their code requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ...wire import models as wire
from .. import models
from ..store import Store
from . import limits, paging
from .actor import Actor
from .audit import AuditLog
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .paging import PageParams, preload
from .views import iso, person


class ProjectService:
    def __init__(self, store: Store, audit: AuditLog):
        self.store = store
        self.audit = audit

    def create(self, actor: Actor, payload: wire.ProjectCreate) -> wire.Project:
        actor.require_user("create projects")
        name = payload.name
        if not name.strip():
            raise BadRequest("A project needs a name.")
        limits.check_text(name.strip(), "The project's name", limits.NAME)
        description = limits.check_text(payload.description or "", "description", limits.TEXT)
        email = payload.user_email_address
        if email and email.strip().lower() != actor.email and not actor.is_owner:
            raise Forbidden("You can only create projects for yourself.")
        owner_id = actor.user_id
        with self.store.session() as session:
            if email and actor.is_owner and email.strip().lower() != actor.email:
                user = session.exec(
                    select(models.User).where(models.User.email == email.strip().lower())
                ).first()
                if user is None:
                    raise NotFound(f"No user with email {limits.clip(email)}.")
                owner_id = user.id
            project = models.Project(
                user_id=owner_id or "", name=name.strip(), description=description
            )
            session.add(project)
            try:
                session.flush()
            except IntegrityError:
                raise Conflict(
                    f"You already have a project named {limits.clip(name.strip())}: project "
                    "names are unique per scientist. Open it with client.get_project(name=...) "
                    "or choose another name."
                )
            attached = self._attach(session, project, payload.request_ids or [])
            session.add(
                models.ProjectEvent(
                    project_id=project.id,
                    kind="created",
                    actor_email=actor.email,
                    detail={"name": project.name},
                )
            )
            for request, code_name in attached:
                session.add(
                    models.ProjectEvent(
                        project_id=project.id,
                        kind="code_request",
                        actor_email=actor.email,
                        detail={"request": request.id, "code": code_name},
                    )
                )
            try:
                session.commit()  # the project, its requests and its history: all or nothing
            except IntegrityError:
                raise Conflict(
                    f"You already have a project named {limits.clip(name.strip())}: project "
                    "names are unique per scientist. Open it with client.get_project(name=...) "
                    "or choose another name."
                )
        self.audit.record(actor, "project.create", "project", project.id, name=project.name)
        return self.get(actor, project.id)

    def _attach(
        self, session: Any, project: models.Project, request_ids: Sequence[Any]
    ) -> list[tuple[models.Request, str]]:
        """Put the project's user's own project-less requests into ``project`` (unflushed)."""
        attached: list[tuple[models.Request, str]] = []
        seen: set[str] = set()
        for request_id in request_ids:
            if not isinstance(request_id, str) or not request_id:
                raise BadRequest("request_ids lists request ids (text).")
            if request_id in seen:
                raise BadRequest(f"Request {limits.clip(request_id)} is listed twice.")
            seen.add(request_id)
            request = session.get(models.Request, request_id)
            if request is None or request.user_id != project.user_id:
                raise NotFound(
                    f"No request {limits.clip(request_id)} of the project's scientist: "
                    "make it with project.create_code_request(fn, client) first."
                )
            if request.project_id is not None:
                raise Conflict(
                    f"Request {limits.clip(request_id)} is already in a project: a request "
                    "belongs to one project."
                )
            request.project_id = project.id
            session.add(request)
            code = session.get(models.UserCode, request.code_id)
            attached.append((request, code.service_func_name if code else ""))
        return attached

    def list(self, actor: Actor, page: PageParams | None = None) -> wire.Page[wire.Project]:
        """One page of the projects the caller may see (see ``paging``)."""
        actor.require_user("list projects")
        with self.store.session() as session:
            query = select(models.Project)
            if not actor.is_owner:
                query = query.where(models.Project.user_id == actor.user_id)

            def views(rows: Sequence[models.Project]) -> list[wire.Project]:
                preload(session, models.User, {p.user_id for p in rows})
                request_ids: dict[str, list[str]] = {p.id: [] for p in rows}
                if rows:  # every page project's request ids in one query
                    for project_id, request_id in session.exec(
                        select(models.Request.project_id, models.Request.id)
                        .where(col(models.Request.project_id).in_(list(request_ids)))
                        .order_by(col(models.Request.created_at), col(models.Request.id))
                    ):
                        request_ids[str(project_id)].append(request_id)
                return [self._view(session, p, request_ids[p.id]) for p in rows]

            return paging.page(
                session,
                query,
                "projects",
                col(models.Project.created_at),
                col(models.Project.id),
                page,
                views,
            )

    def get(self, actor: Actor, key: str) -> wire.Project:
        with self.store.session() as session:
            return self._view(session, self.visible(session, actor, key))

    def events(
        self, actor: Actor, key: str, page: PageParams | None = None
    ) -> wire.Page[wire.ProjectEvent]:
        """One page of a project's history, oldest first (see ``paging``)."""
        with self.store.session() as session:
            project = self.visible(session, actor, key)
            return paging.page(
                session,
                select(models.ProjectEvent).where(models.ProjectEvent.project_id == project.id),
                "project events",
                col(models.ProjectEvent.seq),
                col(models.ProjectEvent.seq),
                page,
                lambda rows: [
                    wire.ProjectEvent(
                        kind=e.kind,
                        actor=e.actor_email,
                        detail=e.detail,
                        created_at=iso(e.created_at),
                    )
                    for e in rows
                ],
            )

    def visible(self, session: Any, actor: Actor, key: str) -> models.Project:
        """A project by id, or by name (the caller's own first)."""
        actor.require_user("see projects")
        if not isinstance(key, str) or not key:
            raise BadRequest("Give a project by its id or name (text).")
        project = session.get(models.Project, key)
        if project is None:
            candidates = session.exec(
                select(models.Project).where(models.Project.name == key)
            ).all()
            own = [p for p in candidates if p.user_id == actor.user_id]
            project = (own or (candidates if actor.is_owner else []) or [None])[0]
        if project is None or (project.user_id != actor.user_id and not actor.is_owner):
            raise NotFound(f"No project {limits.clip(key)}.")
        return project

    def add_event(self, project_id: str, kind: str, actor: Actor, **detail: Any) -> None:
        with self.store.session() as session:
            session.add(
                models.ProjectEvent(
                    project_id=project_id, kind=kind, actor_email=actor.email, detail=detail
                )
            )
            session.commit()

    def _view(
        self, session: Any, project: models.Project, request_ids: Sequence[str] | None = None
    ) -> wire.Project:
        user = session.get(models.User, project.user_id)
        if request_ids is None:
            request_ids = session.exec(
                select(models.Request.id)
                .where(models.Request.project_id == project.id)
                .order_by(col(models.Request.created_at), col(models.Request.id))
            ).all()
        # its history is paged on its own: GET projects/{id}/events
        return wire.Project(
            id=project.id,
            name=project.name,
            description=project.description,
            created_at=iso(project.created_at),
            user=person(user),
            request_ids=list(request_ids),
        )
