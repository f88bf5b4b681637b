"""Code requests: a scientist asks, an owner approves, denies, or deposits a result."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from .. import models
from ..store import Store
from .actor import SYSTEM, Actor, visible_row
from .audit import AuditLog
from .code import CodeService, _duplicate
from .errors import BadRequest, Conflict, NotFound
from .projects import ProjectService
from .settings import SettingsService
from .views import iso

# `datasite.launch_job(name, ...)`: the functions a Syft function runs as nested jobs.
NESTED_CALL = re.compile(r"\blaunch_job\(\s*([A-Za-z_]\w*)")
STATUS_NAMES = {"pending": "PENDING", "approved": "APPROVED", "rejected": "REJECTED"}


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

    def create(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        """Ask for ``payload["code"]`` to run on private data (submitting the code if needed)."""
        self.code.require_can_submit(actor)
        code_payload = payload.get("code")
        if not isinstance(code_payload, dict):
            raise BadRequest("A request needs the code to run.")
        reason = payload.get("reason") or ""
        if not isinstance(reason, str):
            raise BadRequest("reason must be text.")
        project_id = payload.get("project_id")
        with self.store.session() as session:
            if project_id is not None:
                project = self.projects.visible(session, actor, project_id)
                if project.user_id != actor.user_id:
                    raise BadRequest("You can only add requests to your own projects.")
            code = self.code.find_submitted(session, actor, code_payload)
            if code is None:
                code = self.code._new_code(session, actor, code_payload)
                session.add(code)
                try:
                    session.flush()  # the request row refers to it
                except IntegrityError:  # submitted by a concurrent call just now
                    raise Conflict(_duplicate(code.service_func_name))
            elif session.exec(
                select(models.Request).where(models.Request.code_id == code.id)
            ).first():
                raise Conflict(_duplicate(code.service_func_name))
            request = models.Request(
                code_id=code.id, user_id=actor.user_id or "", project_id=project_id, reason=reason
            )
            session.add(request)
            try:
                session.commit()
            except IntegrityError:
                raise Conflict(_duplicate(code.service_func_name))
        self.audit.record(actor, "request.create", "request", request.id, code=code.id)
        if project_id:
            self.projects.add_event(
                project_id, "code_request", actor, request=request.id, code=code.service_func_name
            )
        if self.settings.value("auto_approve"):
            return self._decide(SYSTEM, request.id, "approved")
        return self.get(actor, request.id)

    # --- reading -----------------------------------------------------------------------------
    def list(
        self, actor: Actor, status: str | None = None, project_id: str | None = None
    ) -> list[dict[str, Any]]:
        actor.require_user("list requests")
        with self.store.session() as session:
            query = select(models.Request).order_by(col(models.Request.created_at))
            if not actor.is_owner:
                query = query.where(models.Request.user_id == actor.user_id)
            if status:
                if status not in STATUS_NAMES:
                    raise BadRequest("status is one of pending, approved, rejected.")
                query = query.where(models.Request.status == status)
            if project_id:
                query = query.where(models.Request.project_id == project_id)
            return [self._view(session, r) for r in session.exec(query)]

    def get(self, actor: Actor, request_id: str) -> dict[str, Any]:
        with self.store.session() as session:
            return self._view(session, self._visible(session, actor, request_id))

    def _visible(self, session: Any, actor: Actor, request_id: str) -> models.Request:
        return visible_row(session, actor, models.Request, request_id, "request")

    def _view(self, session: Any, request: models.Request) -> dict[str, Any]:
        code = session.get(models.UserCode, request.code_id)
        user = session.get(models.User, request.user_id)
        project = session.get(models.Project, request.project_id) if request.project_id else None
        return {
            "id": request.id,
            "status": STATUS_NAMES[request.status],
            "reason": request.reason,
            "deny_reason": request.deny_reason,
            "created_at": iso(request.created_at),
            "updated_at": iso(request.updated_at),
            "requesting_user_name": user.name if user else "",
            "requesting_user_email": user.email if user else "",
            "requesting_user_institution": user.institution if user else "",
            "project": {"id": project.id, "name": project.name} if project else None,
            "code": self.code.view(code, session),
            "sandbox": self.code.sandbox_kind(),
        }

    # --- deciding ----------------------------------------------------------------------------
    def approve(
        self, actor: Actor, request_id: str, approve_nested: bool = False
    ) -> dict[str, Any]:
        actor.require_owner("approve requests")
        if approve_nested:
            self._approve_nested(actor, request_id)
        return self._decide(actor, request_id, "approved")

    def _approve_nested(self, actor: Actor, request_id: str) -> None:
        """Approve the functions the code launches as nested jobs (its own scientist's)."""
        with self.store.session() as session:
            request = self._visible(session, actor, request_id)
            code = session.get(models.UserCode, request.code_id)
            assert code is not None
            names = set(NESTED_CALL.findall(code.code))
            for nested in session.exec(
                select(models.UserCode).where(
                    models.UserCode.user_id == code.user_id,
                    col(models.UserCode.service_func_name).in_(names),
                )
            ):
                nested.status = "approved"
                session.add(nested)
            session.commit()
        self.audit.record(
            actor, "request.approve_nested", "request", request_id, names=sorted(names)
        )

    def deny(self, actor: Actor, request_id: str, reason: str) -> dict[str, Any]:
        actor.require_owner("deny requests")
        if not isinstance(reason, str) or not reason.strip():
            raise BadRequest(
                "Say why you deny it: request.deny(reason='...'). The scientist sees the reason."
            )
        return self._decide(actor, request_id, "rejected", reason.strip())

    def deposit(
        self, actor: Actor, request_id: str, blob_id: str, stdout: str = "", stderr: str = ""
    ) -> dict[str, Any]:
        """Approve, and store the owner's own result as the code's output."""
        actor.require_owner("deposit results")
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
        return self._decide(actor, request_id, "approved")

    def _decide(
        self, actor: Actor, request_id: str, status: str, reason: str = ""
    ) -> dict[str, Any]:
        with self.store.session() as session:
            request = session.get(models.Request, request_id)
            if request is None:
                raise NotFound(f"No request with id {request_id}.")
            code = session.get(models.UserCode, request.code_id)
            assert code is not None
            request.status = status
            request.deny_reason = reason
            request.decided_by = actor.user_id
            request.updated_at = models.utcnow()
            code.status = "approved" if status == "approved" else "denied"
            session.add(request)
            session.add(code)
            session.commit()
            project_id = request.project_id
        self.audit.record(actor, f"request.{status}", "request", request_id, reason=reason)
        if project_id:
            self.projects.add_event(
                project_id,
                "approved" if status == "approved" else "denied",
                actor,
                request=request_id,
                reason=reason,
            )
        with self.store.session() as session:
            decided = session.get(models.Request, request_id)
            assert decided is not None
            return self._view(session, decided)
