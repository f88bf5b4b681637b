"""``DatasiteClient``: one logged-in (or guest) session with a Datasite, and the entry to every
collection on it (``client.datasets``, ``client.requests``...). It sits on top of the client:
the views it hands out call the Datasite through its ``Session``, never through it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess
from ..roles import ServiceRole
from ..wire import models
from . import eager, networks
from .api import DatasiteAPI
from .audit import AuditAPI
from .code import (
    CodeAPI,
    CodeHistoriesDict,
    UsersCodeHistoriesDict,
    code_histories,
    code_history,
)
from .data_subjects import DataSubjectRegistry
from .dataset_authoring import Dataset, upload_dataset
from .datasets import DatasetCollection
from .environments import EnvironmentAPI
from .jobs import JobCollection
from .notifications import NotificationCollection
from .outputs import OutputCollection
from .projects import ProjectCollection, RemoteProject
from .requests import RequestCollection
from .services import PySyftAPI, Services
from .session import Session
from .settings import SettingsAPI
from .users import UserCollection, UserView

if TYPE_CHECKING:
    from .connection import Connection


class DatasiteClient:
    def __init__(self, session: Session):
        self.session = session
        # PySyft's ``client.api.services.<service>`` namespace (also ``client.services``):
        # plain attributes, not properties, so that tab completion sees the live objects
        # (their ``dir()`` lists the services and methods).
        self.api = PySyftAPI(self)
        self.services: Services = self.api.services
        # ``client.code``: an attribute too, so ``client.code.<TAB>`` lists your functions
        # (it lists the Datasite's code on each use: nothing goes stale)
        self.code = CodeAPI(session)

    @classmethod
    def connect(
        cls, api: DatasiteAPI, user: models.User | None, password: str | None = None
    ) -> DatasiteClient:
        metadata = api.metadata()
        if not isinstance(metadata, dict) or metadata.get("server_type") != "datasite":
            raise SyftException(f"{api.connection.base_url} is not a Datasite.")
        return cls(Session(api, models.Metadata.model_validate(metadata), user, password))

    @classmethod
    def log_in(cls, url: str, email: str, password: str) -> tuple[DatasiteClient, list[str]]:
        """A client logged in with an account, and the Datasite's warnings for it."""
        api = DatasiteAPI.at(url)
        answer = api.login(email, password)
        api.connection = api.connection.with_token(answer.token)
        return cls.connect(api, answer.user, password), answer.warnings

    # --- who and where -----------------------------------------------------------------------
    @property
    def connection(self) -> Connection:
        return self.session.api.connection

    @property
    def metadata(self) -> models.Metadata:
        return self.session.metadata

    @property
    def user(self) -> models.User | None:
        return self.session.user

    @property
    def _password(self) -> str | None:
        return self.session.password

    @_password.setter
    def _password(self, password: str | None) -> None:
        self.session.password = password

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def url(self) -> str:
        return self.session.url

    @property
    def role(self) -> ServiceRole:
        return self.session.role

    @property
    def email(self) -> str | None:
        return self.session.email

    @property
    def credentials(self) -> str:
        """Whom this client acts as: the account's id, or ``"guest"`` (PySyft's signing key;
        here never the session's secret token)."""
        return "guest" if self.user is None else self.user.id

    # --- services ----------------------------------------------------------------------------
    @property
    def datasets(self) -> DatasetCollection:
        return DatasetCollection(self.session)

    @property
    def data_subject_registry(self) -> DataSubjectRegistry:
        """The Datasite's data subjects: ``get_all()``, ``add_data_subject(subject)`` (owners)."""
        return DataSubjectRegistry(self.session)

    @property
    def users(self) -> UserCollection:
        return UserCollection(self.session)

    @property
    def settings(self) -> SettingsAPI:
        return SettingsAPI(self.session)

    @property
    def account(self) -> UserView:
        if self.user is None:
            raise SyftException(
                "Guests have no account: log in with client.login(email=, password=)."
            )
        return UserView(self.session, self.session.api.me())

    @property
    def code_history(self) -> CodeHistoriesDict:
        """Your submitted functions by name, each with its versions (``.fn[0]`` is the first)."""
        return code_history(self.session, self.code)

    @property
    def code_histories(self) -> UsersCodeHistoriesDict:
        """Every user's code histories by email (data owners and admins)."""
        return code_histories(self.session, self.code)

    @property
    def environments(self) -> EnvironmentAPI:
        """The environments user code can run in: listed (name, status, packages, lock hash,
        size); owners ``create``, ``rebuild``, ``delete``; scientists ``request``."""
        return EnvironmentAPI(self.session)

    @property
    def jobs(self) -> JobCollection:
        return JobCollection(self.session)

    @property
    def requests(self) -> RequestCollection:
        return RequestCollection(self.session)

    @property
    def outputs(self) -> OutputCollection:
        """Results of runs on private data, held ones first (owners): ``.held``,
        ``.released``, ``.withheld``; each with its report, value, ``release``/``withhold``."""
        return OutputCollection(self.session)

    @property
    def notifications(self) -> NotificationCollection:
        """Your inbox, newest first: ``get_all()``, ``unread``, ``unread_count``,
        ``mark_read()``; each notification's ``.link`` opens what it is about."""
        return NotificationCollection(self.session)

    @property
    def audit(self) -> AuditAPI:
        """The Datasite's hash-chained audit log (owners): ``events(...)``, ``verify()``,
        ``checkpoint()``, ``export(path)``."""
        return AuditAPI(self.session)

    @property
    def projects(self) -> ProjectCollection:
        self.session.ensure_user()
        return ProjectCollection(self.session)

    def create_project(
        self, name: str, description: str = "", user_email_address: str | None = None
    ) -> RemoteProject:
        self.session.ensure_user()
        project = self.session.api.create_project(name, description, user_email_address)
        return RemoteProject(self.session, project)

    def get_project(self, name: str | None = None, uid: str | None = None) -> RemoteProject:
        key = uid or name
        if not key:
            raise SyftException("Give the project's name= or uid=.")
        return RemoteProject(self.session, self.session.api.project(key))

    def upload_dataset(self, dataset: Dataset, progress: bool = True) -> SyftSuccess:
        return upload_dataset(self.session, dataset, progress=progress)

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
        user = self.session.api.register(
            name, email, password, password_verify, institution=institution, website=website
        )
        return SyftSuccess(f"User '{user.name}' successfully registered!", value=user.to_json())

    def login(self, email: str, password: str, verbose: bool = True) -> DatasiteClient:
        client, warnings = DatasiteClient.log_in(self.url, email, password)
        if verbose:
            client._announce(warnings)
        return client

    def _announce(self, warnings: list[str], how: str = "") -> None:
        print(f"Logged into <{self.name}: High side Datasite> as <{self.email}>{how}")
        for warning in warnings:
            print(warning)

    def login_as_guest(self) -> DatasiteClient:
        return DatasiteClient(Session(DatasiteAPI.at(self.url), self.metadata, None))

    def logout(self) -> None:
        self.session.log_out()

    def refresh(self) -> None:
        """Read the Datasite's settings again (PySyft's ``client.refresh()``): its name,
        description, sign-up and welcome message as they are now. Collections such as
        ``client.users`` are read afresh on every use anyway."""
        metadata = self.session.api.metadata()
        if not isinstance(metadata, dict) or metadata.get("server_type") != "datasite":
            raise SyftException(f"{self.url} no longer answers as a Datasite.")
        self.session.metadata = models.Metadata.model_validate(metadata)

    def __getattr__(self, name: str) -> Any:
        if name in eager.CLIENT_NAMES:  # PySyft's client.numpy & co: say what to do instead
            eager.refuse(f"client.{name}")
        if name in networks.CLIENT_NAMES:  # PySyft's gateways: not here, say so
            networks.refuse(f"client.{name}")
        raise AttributeError(f"'DatasiteClient' object has no attribute {name!r}")

    # --- display -----------------------------------------------------------------------------
    def __repr__(self) -> str:
        who = "GUEST" if self.user is None else f"{self.user.email} ({self.role.name})"
        return f"<DatasiteClient {self.name!r} at {self.url} as {who}>"

    def _repr_html_(self) -> str:
        meta = self.metadata
        who = "guest" if self.user is None else f"{self.user.name} <{self.user.email}>"
        return display.card(
            self.name,
            [
                ("URL", self.url),
                ("Organization", meta.organization),
                ("Description", meta.description),
                ("Logged in as", who),
                ("Role", self.role.name),
                ("Sign-up", "open" if meta.signup_enabled else "closed"),
            ],
            extra_html=(
                # the owners' welcome message (client.settings.welcome_customize), if any
                display.markdown_html(meta.welcome_markdown)
                + '<p class="muted">Browse <code>client.datasets</code>; owners review '
                "<code>client.requests</code>.</p>"
            ),
            kind="Datasite",
        )
