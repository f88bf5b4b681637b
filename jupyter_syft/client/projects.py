"""Projects: a scientist's stated purpose, with the code requests made for it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from .. import display
from ..errors import SyftException, SyftSuccess
from .collection import Collection
from .requests import RequestCollection, RequestView
from .syft_function import SyftFunction, require_function
from .view import Field, View

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session


class Member(Protocol):
    """A member of a project: a client of the Datasite it is sent to (``DatasiteClient``)."""

    name: str
    session: Session

    def create_project(self, name: str, description: str = "") -> RemoteProject: ...


class ProjectRequest:
    """A code request in a project's history (PySyft's ``ProjectRequest``): ``.request`` is
    the request as it is now on its Datasite (its ``.status``, ``.code``, ``.approve()``)."""

    def __init__(self, session: Session, request_id: str, code_name: str = ""):
        self._session = session
        self.id = request_id
        self.code_name = code_name

    @property
    def request(self) -> RequestView:
        if not self.id:
            raise SyftException("This project event names no request.")
        return RequestView(self._session, self._session.api.request(self.id))

    def approve(self, **kwargs: Any) -> SyftSuccess:
        return self.request.approve(**kwargs)

    def __repr__(self) -> str:
        return f"ProjectRequest(request={self.id!r}, code={self.code_name!r})"


class Project:
    """``sy.Project(name=, description=, members=[client, ...])`` (PySyft's ``ProjectSubmit``).
    ``create_code_request(fn, client)`` submits the request at once (a duplicate is refused
    at once); ``send()`` creates the project on each member's Datasite together with its
    requests, in one transaction per Datasite, and may be called again after a failure."""

    def __init__(
        self, name: str, description: str | None = None, members: list[Member] | None = None
    ):
        if not isinstance(name, str) or not name.strip():
            raise SyftException("A project needs a name: sy.Project(name='...', members=[client]).")
        self.name = name
        self.description = description or ""
        self.members = list(members or [])
        if not self.members:
            raise SyftException("A project needs members: sy.Project(..., members=[client]).")
        for member in self.members:
            if not hasattr(member, "session"):
                raise SyftException(
                    "Project members are logged-in clients: sy.Project(..., members=[client])."
                )
        # per member (by position): the requests made for it, and the project once sent
        self._requests: list[list[ProjectRequest]] = [[] for _ in self.members]
        self._sent: list[RemoteProject | None] = [None for _ in self.members]

    @property
    def sent(self) -> list[RemoteProject]:
        return [p for p in self._sent if p is not None]

    @property
    def events(self) -> list[ProjectRequest]:
        """The code requests made so far, as PySyft counts a project's events."""
        return [r for requests in self._requests for r in requests]

    def _member_index(self, client: Member | None) -> int:
        if client is None:
            if len(self.members) == 1:
                return 0
            raise SyftException(
                "This project has several members: say whose Datasite the request is for, "
                "project.create_code_request(fn, client)."
            )
        for i, member in enumerate(self.members):
            if member is client or getattr(member, "session", None) is client.session:
                return i
        raise SyftException(
            "That client is not a member of this project: add it to "
            "sy.Project(..., members=[...]) first."
        )

    def create_code_request(
        self, obj: SyftFunction, client: Member | None = None, reason: str | None = None
    ) -> SyftSuccess:
        """Submit ``obj`` for review on ``client``'s Datasite now; ``send()`` puts it in the
        project. The same function twice is refused here, before anything is sent."""
        require_function(obj)
        index = self._member_index(client)
        member = self.members[index]
        project = self._sent[index]
        if project is not None:  # already sent: straight into the project
            project.create_code_request(obj, reason=reason)
            return SyftSuccess(
                f"Code request for {obj.func_name!r} added to project {self.name!r}."
            )
        model = member.session.api.create_request(obj.to_json(), reason or "")
        self._requests[index].append(ProjectRequest(member.session, model.id, obj.func_name))
        return SyftSuccess(
            f"Code request for {obj.func_name!r} submitted; project.send() adds it to the project."
        )

    def send(self) -> RemoteProject:
        """Create the project, with its requests, on each member's Datasite not done yet."""
        for index, member in enumerate(self.members):
            if self._sent[index] is None:
                self._sent[index] = self._send_to(member, self._requests[index])
        first = self._sent[0]
        assert first is not None
        return first

    def _send_to(self, member: Member, requests: list[ProjectRequest]) -> RemoteProject:
        api = member.session.api
        ids = [r.id for r in requests]
        try:
            model = api.create_project(self.name, self.description, request_ids=ids)
        except SyftException:
            # sent before, its answer lost? Then the Datasite has this very project: adopt it
            try:
                existing = api.project(self.name)
            except SyftException:
                existing = None
            if (
                existing is None
                or existing.description != self.description
                or set(ids) != set(existing.request_ids)
                or not ids
            ):
                raise
            model = existing
        return RemoteProject(member.session, model)

    def start(self) -> RemoteProject:  # PySyft's deprecated name
        return self.send()

    def __repr__(self) -> str:
        members = [m.name for m in self.members]
        return (
            f"Project(name={self.name!r}, members={members}, requests={len(self.events)}, "
            f"sent={all(p is not None for p in self._sent)})"
        )

    def _repr_html_(self) -> str:
        return display.card(
            self.name,
            [
                ("Description", self.description),
                ("Members", ", ".join(m.name for m in self.members)),
                ("Code requests", ", ".join(r.code_name for r in self.events) or "none yet"),
            ],
            kind="Project (not sent)",
        )


class RemoteProject(View):
    _model: models.Project

    id = Field()
    name = Field()
    description = Field()
    created_at = Field()
    request_ids = Field()

    @property
    def creator(self) -> dict[str, Any] | None:
        """``{"name", "email"}`` of whoever the project is for."""
        user = self._model.user
        return None if user is None else user.to_json()

    @property
    def requests(self) -> list[RequestView]:
        return RequestCollection(self._session, project_id=self.id).get_all()

    @property
    def history(self) -> list[dict[str, Any]]:
        """Everything that happened to it, oldest first: ``{"kind": "created" |
        "code_request" | "approved" | "denied", "actor", "detail", "created_at"}``."""
        return [e.to_json() for e in self._session.api.project_events(self.id)]

    @property
    def events(self) -> list[ProjectRequest]:
        """Its code requests as PySyft counts a project's events: one ``ProjectRequest``
        each (``event.request.status``); decisions show in the request's status, and the
        whole history is ``project.history``."""
        return [
            ProjectRequest(
                self._session, str(e.detail.get("request") or ""), e.detail.get("code") or ""
            )
            for e in self._session.api.project_events(self.id)
            if e.kind == "code_request"
        ]

    def create_code_request(
        self, obj: SyftFunction, client: Member | None = None, reason: str | None = None
    ) -> RequestView:
        """Ask to run ``obj`` for this project (on ``client``'s Datasite: this one by default)."""
        require_function(obj)
        session = self._session if client is None else client.session
        request = session.api.create_request(obj.to_json(), reason or "", project_id=self.id)
        return RequestView(session, request)

    def __repr__(self) -> str:
        return f"Project(name={self.name!r}, requests={len(self.request_ids)})"

    def _repr_html_(self) -> str:
        creator = self.creator or {}
        requests = RequestCollection(self._session, project_id=self.id)
        return display.card(
            self.name,
            [
                ("Description", self.description),
                ("Created by", f"{creator.get('name', '')} <{creator.get('email', '')}>"),
                ("Created", self.created_at),
            ],
            extra_html="<h4>Requests</h4>" + display.table(requests.headers, requests._rows()),
            kind="Project",
        )


class ProjectCollection(Collection[RemoteProject]):
    """``client.projects``: by position, or ``get_by_name(name)``."""

    title = "Projects"
    headers = ("Name", "Description", "Requests", "Created", "ID")

    def _fetch(self) -> Iterable[RemoteProject]:
        return (RemoteProject(self._session, p) for p in self._session.api.projects())

    def _row(self, p: RemoteProject) -> list[Any]:
        return [p.name, p.description, len(p.request_ids), p.created_at, p.id]

    def get_by_name(self, name: str) -> RemoteProject:
        for project in self._items:
            if project.name == name:
                return project
        raise SyftException(f"No project named {name!r}.")
