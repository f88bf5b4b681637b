"""Projects: a scientist's stated purpose, with the code requests made for it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from .. import display
from ..errors import SyftException
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


class Project:
    """``sy.Project(name=, description=, members=[client, ...])``; ``send()`` creates it on each
    member's Datasite. Code requests added before ``send()`` are sent with it."""

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
        self._queued: list[tuple[SyftFunction, Member | None, str]] = []
        self.sent: list[RemoteProject] = []

    def create_code_request(
        self, obj: SyftFunction, client: Member | None = None, reason: str | None = None
    ) -> Any:
        if self.sent:
            return [p.create_code_request(obj, reason=reason) for p in self._targets(client)]
        self._queued.append((obj, client, reason or ""))
        return None

    def _targets(self, client: Member | None) -> list[RemoteProject]:
        if client is None:
            return self.sent
        return [p for p in self.sent if p._session is client.session] or self.sent[:1]

    def send(self) -> RemoteProject:
        for member in self.members:
            self.sent.append(member.create_project(name=self.name, description=self.description))
        for fn, client, reason in self._queued:
            for project in self._targets(client):
                project.create_code_request(fn, reason=reason)
        self._queued.clear()
        return self.sent[0]

    def start(self) -> RemoteProject:  # PySyft's deprecated name
        return self.send()

    def __repr__(self) -> str:
        members = [m.name for m in self.members]
        return f"Project(name={self.name!r}, members={members}, sent={bool(self.sent)})"

    def _repr_html_(self) -> str:
        return display.card(
            self.name,
            [
                ("Description", self.description),
                ("Members", ", ".join(m.name for m in self.members)),
                ("Queued code requests", len(self._queued)),
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
    def events(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self._session.api.project_events(self.id)]

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
