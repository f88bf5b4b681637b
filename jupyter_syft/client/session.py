"""Who is connected to which Datasite: the one object a client and all its views share.

Views (a request, a dataset, a job...) hold the session, not the ``DatasiteClient``: they call
the Datasite through ``session.api`` and read who they act for here, so the client module sits
on top of them and nothing imports it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..roles import ServiceRole
from .api import DatasiteAPI

if TYPE_CHECKING:
    from ..wire import models


class Session:
    def __init__(
        self,
        api: DatasiteAPI,
        metadata: models.Metadata,
        user: models.User | None,
        password: str | None = None,
    ):
        self.api = api
        self.metadata = metadata
        self.user = user
        # The password this session logged in with, kept only in memory: sent as
        # current_password when the account changes its own password (none: it is asked for).
        self.password = password

    @property
    def url(self) -> str:
        return self.api.connection.base_url

    @property
    def name(self) -> str:
        """The Datasite's name."""
        return self.metadata.name

    @property
    def role(self) -> ServiceRole:
        return ServiceRole.GUEST if self.user is None else ServiceRole.parse(self.user.role)

    @property
    def email(self) -> str | None:
        return None if self.user is None else self.user.email

    def is_me(self, user_id: str) -> bool:
        return self.user is not None and self.user.id == user_id

    def ensure_user(self) -> None:
        """Guests get a session on first need, so the Datasite can tell their code apart."""
        if self.user is None:
            answer = DatasiteAPI.at(self.url).guest_session()
            self.api.connection = self.api.connection.with_token(answer.token)
            self.user = answer.user

    def log_out(self) -> None:
        if self.user is not None:
            self.api.logout()
            self.user = None
            self.password = None
            self.api.connection = self.api.connection.with_token(None)
