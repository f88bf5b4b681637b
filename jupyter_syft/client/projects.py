"""Projects: a scientist's stated purpose, with the code requests made for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException

if TYPE_CHECKING:
    from .client import DatasiteClient
    from .code import SyftFunction
    from .requests import RequestView


class Project:
    """``sy.Project(name=, description=, members=[client, ...])``; ``send()`` creates it on each
    member's Datasite. Code requests added before ``send()`` are sent with it."""

    def __init__(
        self, name: str, description: str | None = None, members: list[DatasiteClient] | None = None
    ):
        if not isinstance(name, str) or not name.strip():
            raise SyftException("A project needs a name: sy.Project(name='...', members=[client]).")
        self.name = name
        self.description = description or ""
        self.members = list(members or [])
        if not self.members:
            raise SyftException("A project needs members: sy.Project(..., members=[client]).")
        self._queued: list[tuple[SyftFunction, DatasiteClient | None, str]] = []
        self.sent: list[RemoteProject] = []

    def create_code_request(
        self, obj: SyftFunction, client: DatasiteClient | None = None, reason: str | None = None
    ) -> Any:
        if self.sent:
            return [p.create_code_request(obj, reason=reason) for p in self._targets(client)]
        self._queued.append((obj, client, reason or ""))
        return None

    def _targets(self, client: DatasiteClient | None) -> list[RemoteProject]:
        if client is None:
            return self.sent
        return [p for p in self.sent if p._client is client] or self.sent[:1]

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


class RemoteProject:
    def __init__(self, client: DatasiteClient, data: dict[str, Any]):
        self._client = client
        self._data = data

    id = property(lambda self: self._data["id"])
    name = property(lambda self: self._data["name"])
    description = property(lambda self: self._data.get("description", ""))
    created_at = property(lambda self: self._data.get("created_at"))

    @property
    def requests(self) -> list[RequestView]:
        from .requests import RequestCollection

        return RequestCollection(self._client, project_id=self.id).get_all()

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self._client.connection.get_pages(f"projects/{self.id}/events"))

    def create_code_request(
        self, obj: SyftFunction, client: DatasiteClient | None = None, reason: str | None = None
    ) -> RequestView:
        from .code import _require_function
        from .requests import RequestView

        _require_function(obj)
        target = client or self._client
        view = target.connection.post(
            "requests", {"code": obj.to_json(), "reason": reason or "", "project_id": self.id}
        )
        return RequestView(target, view)

    def __repr__(self) -> str:
        return f"Project(name={self.name!r}, requests={len(self._data.get('request_ids', []))})"

    def _repr_html_(self) -> str:
        from .requests import RequestCollection

        user = self._data.get("user") or {}
        rows = RequestCollection(self._client, project_id=self.id)._rows()
        return display.card(
            self.name,
            [
                ("Description", self.description),
                ("Created by", f"{user.get('name', '')} <{user.get('email', '')}>"),
                ("Created", self.created_at),
            ],
            extra_html="<h4>Requests</h4>"
            + display.table(["Function", "Status", "Requested by", "Project", "Time", "ID"], rows),
            kind="Project",
        )


class ProjectCollection:
    def __init__(self, client: DatasiteClient):
        self._client = client
        self._projects = [RemoteProject(client, p) for p in client.connection.get_pages("projects")]

    def get_all(self) -> list[RemoteProject]:
        return display.TableList(self._projects, "Projects", PROJECT_HEADERS, _project_row)

    def get_by_name(self, name: str) -> RemoteProject:
        for project in self._projects:
            if project.name == name:
                return project
        raise SyftException(f"No project named {name!r}.")

    def __getitem__(self, index: int) -> RemoteProject:
        return self._projects[index]

    def __len__(self) -> int:
        return len(self._projects)

    def __iter__(self) -> Iterator[RemoteProject]:
        return iter(self._projects)

    def _rows(self) -> list[list[Any]]:
        return [_project_row(p) for p in self._projects]

    def __repr__(self) -> str:
        return display.text_table(PROJECT_HEADERS, self._rows())

    def _repr_html_(self) -> str:
        return display.listing("Projects", PROJECT_HEADERS, self._rows())


PROJECT_HEADERS = ["Name", "Description", "Requests", "Created", "ID"]


def _project_row(p: RemoteProject) -> list[Any]:
    return [p.name, p.description, len(p._data.get("request_ids", [])), p.created_at, p.id]
