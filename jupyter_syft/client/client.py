"""``DatasiteClient``: one logged-in (or guest) session with a Datasite."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess
from ..roles import ServiceRole
from .connection import Connection

if TYPE_CHECKING:
    from .code import CodeAPI
    from .datasets import Dataset, DatasetCollection
    from .jobs import JobCollection
    from .projects import ProjectCollection, RemoteProject
    from .requests import RequestCollection
    from .settings import SettingsAPI
    from .users import UserCollection, UserView


class DatasiteClient:
    def __init__(
        self, connection: Connection, metadata: dict[str, Any], user: dict[str, Any] | None
    ):
        self.connection = connection
        self.metadata = metadata
        self.user = user
        # The password this client logged in with, kept only in this object's memory: sent as
        # current_password when the account changes its own password (none: it is asked for).
        self._password: str | None = None

    @classmethod
    def connect(cls, connection: Connection, user: dict[str, Any] | None) -> DatasiteClient:
        metadata = connection.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("server_type") != "datasite":
            raise SyftException(f"{connection.base_url} is not a Datasite.")
        return cls(connection, metadata, user)

    # --- who and where -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.metadata.get("name", "datasite"))

    @property
    def url(self) -> str:
        return self.connection.base_url

    @property
    def role(self) -> ServiceRole:
        return ServiceRole.GUEST if self.user is None else ServiceRole.parse(self.user["role"])

    @property
    def email(self) -> str | None:
        return None if self.user is None else self.user["email"]

    # --- services ----------------------------------------------------------------------------
    @property
    def datasets(self) -> DatasetCollection:
        from .datasets import DatasetCollection

        return DatasetCollection(self)

    @property
    def users(self) -> UserCollection:
        from .users import UserCollection

        return UserCollection(self)

    @property
    def settings(self) -> SettingsAPI:
        from .settings import SettingsAPI

        return SettingsAPI(self)

    @property
    def account(self) -> UserView:
        from .users import UserView

        if self.user is None:
            raise SyftException(
                "Guests have no account: log in with client.login(email=, password=)."
            )
        return UserView(self, self.connection.get("users/me"))

    @property
    def code(self) -> CodeAPI:
        from .code import CodeAPI

        return CodeAPI(self)

    @property
    def jobs(self) -> JobCollection:
        from .jobs import JobCollection

        return JobCollection(self)

    @property
    def requests(self) -> RequestCollection:
        from .requests import RequestCollection

        return RequestCollection(self)

    @property
    def projects(self) -> ProjectCollection:
        from .projects import ProjectCollection

        self._ensure_session()
        return ProjectCollection(self)

    def create_project(
        self, name: str, description: str = "", user_email_address: str | None = None
    ) -> RemoteProject:
        from .projects import RemoteProject

        self._ensure_session()
        body = {"name": name, "description": description, "user_email_address": user_email_address}
        return RemoteProject(self, self.connection.post("projects", body))

    def get_project(self, name: str | None = None, uid: str | None = None) -> RemoteProject:
        from .projects import RemoteProject

        key = uid or name
        if not key:
            raise SyftException("Give the project's name= or uid=.")
        return RemoteProject(self, self.connection.get(f"projects/{key}"))

    def _ensure_session(self) -> None:
        """Guests get a session on first need, so the Datasite can tell their code apart."""
        if self.user is None:
            answer = Connection(self.url).post("auth/guest")
            self.connection = self.connection.with_token(answer["token"])
            self.user = answer["user"]

    def upload_dataset(self, dataset: Dataset, progress: bool = True) -> SyftSuccess:
        from .datasets import upload_dataset

        return upload_dataset(self, dataset, progress=progress)

    # --- accounts ----------------------------------------------------------------------------
    def register(
        self,
        name: str,
        email: str,
        password: str,
        password_verify: str | None = None,
        institution: str | None = None,
        website: str | None = None,
    ) -> SyftSuccess:
        """Sign up (guests, when the Datasite allows it) or register someone (owners, always)."""
        user = self.connection.post(
            "auth/register",
            {
                "name": name,
                "email": email,
                "password": password,
                "password_verify": password_verify,
                "institution": institution,
                "website": website,
            },
        )
        return SyftSuccess(f"User '{user['name']}' successfully registered!", value=user)

    def login(self, email: str, password: str, verbose: bool = True) -> DatasiteClient:
        from .login import login

        return login(url=self.url, email=email, password=password, verbose=verbose)

    def login_as_guest(self) -> DatasiteClient:
        return DatasiteClient(Connection(self.url), self.metadata, None)

    def logout(self) -> None:
        if self.user is not None:
            self.connection.post("auth/logout")
            self.user = None
            self.connection = Connection(self.url)

    # --- display -----------------------------------------------------------------------------
    def __repr__(self) -> str:
        who = "GUEST" if self.user is None else f"{self.user['email']} ({self.role.name})"
        return f"<DatasiteClient {self.name!r} at {self.url} as {who}>"

    def _repr_html_(self) -> str:
        meta = self.metadata
        who = "guest" if self.user is None else f"{self.user['name']} <{self.user['email']}>"
        return display.card(
            self.name,
            [
                ("URL", self.url),
                ("Organization", meta.get("organization")),
                ("Description", meta.get("description")),
                ("Logged in as", who),
                ("Role", self.role.name),
                ("Sign-up", "open" if meta.get("signup_enabled") else "closed"),
            ],
            extra_html=(
                '<p class="muted">Browse <code>client.datasets</code>; owners review '
                "<code>client.requests</code>.</p>"
            ),
            kind="Datasite",
        )
