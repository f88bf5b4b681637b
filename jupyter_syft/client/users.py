"""``client.users`` and ``client.account``: accounts as PySyft users know them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess
from ..roles import ServiceRole
from .collection import Collection
from .view import Field, View

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session


@dataclass
class UserCreate:
    email: str
    name: str
    password: str
    password_verify: str | None = None
    role: ServiceRole | None = None
    institution: str = ""
    website: str = ""
    mock_execution_permission: bool = False

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["role"] = None if self.role is None else ServiceRole.parse(self.role).name
        return body


class UserView(View):
    """One account. Reads are attributes; changes go to the Datasite, which decides."""

    _model: models.User

    FIELDS = (
        "id",
        "name",
        "email",
        "role",
        "institution",
        "website",
        "mock_execution_permission",
        "disabled",
        "created_at",
    )
    id = Field()
    name = Field()
    email = Field()
    institution = Field()
    website = Field()
    mock_execution_permission = Field()
    disabled = Field()
    created_at = Field()

    @property
    def role(self) -> ServiceRole:
        return ServiceRole.parse(self._model.role)

    def update(self, **changes: Any) -> SyftSuccess:
        self._model = _update(self._session, self.id, changes)
        return SyftSuccess("User details successfully updated.", value=self)

    def allow_mock_execution(self, allow: bool = True) -> SyftSuccess:
        return self.update(mock_execution_permission=allow)

    def set_email(self, email: str) -> SyftSuccess:
        return self.update(email=email)

    def disable(self) -> SyftSuccess:
        """Cut the account off (owners): its sessions end now, its logins are refused, its
        history (code, requests, results) stays. ``enable()`` lets it log in again."""
        self.update(disabled=True)
        return SyftSuccess(f"User '{self.email}' is disabled; their sessions have ended.")

    def enable(self) -> SyftSuccess:
        self.update(disabled=False)
        return SyftSuccess(f"User '{self.email}' is enabled; they can log in again.")

    def set_password(
        self,
        new_password: str | None = None,
        confirm: bool = True,
        current_password: str | None = None,
    ) -> SyftSuccess:
        """Set a new password. Your own needs your current one: given, else the one this
        client logged in with, else asked for. An owner setting someone else's needs none.
        Every other session of the account ends."""
        import getpass

        own = self._session.is_me(self.id)
        if own and current_password is None:
            current_password = self._session.password
            if current_password is None:
                try:
                    current_password = getpass.getpass("Current password: ")
                except (EOFError, OSError):
                    raise SyftException(
                        "Changing your password needs your current one: "
                        "set_password(new_password=..., current_password=...)."
                    ) from None
        if new_password is None:
            try:
                new_password = getpass.getpass("New password: ")
                if confirm and getpass.getpass("Confirm new password: ") != new_password:
                    raise SyftException("The passwords do not match; nothing was changed.")
            except (EOFError, OSError):
                raise SyftException(
                    "Pass the new password: set_password(new_password=...)."
                ) from None
        self._session.api.set_password(self.id, new_password, current_password if own else None)
        if own:
            self._session.password = new_password
        return SyftSuccess(
            f"Successfully updated password for user '{self.name}' with email '{self.email}'."
        )

    def __repr__(self) -> str:
        return f"UserView(name={self.name!r}, email={self.email!r}, role={self.role.name})"

    def _repr_html_(self) -> str:
        return display.card(
            str(self.name),
            [
                (f, self.role.name if f == "role" else getattr(self._model, f))
                for f in self.FIELDS
                if f != "name"
            ],
            kind="User",
        )


class UserCollection(Collection[UserView]):
    """``client.users``: by position, by id or email, ``search(...)``, ``create(...)``."""

    title = "Users"
    headers = ("Name", "Email", "Institution", "Role")

    def _fetch(self) -> Iterable[UserView]:
        return (UserView(self._session, u) for u in self._session.api.users())

    def _row(self, user: UserView) -> list[Any]:
        return [user.name, user.email, user.institution, user.role.name]

    def _find(self, key: str) -> UserView:
        for user in self._items:
            if key in (user.id, user.email):
                return user
        raise KeyError(f"No user with id or email {key!r}.")

    def get_all(self) -> list[UserView]:
        return list(self._items)

    def search(
        self, email: str | None = None, name: str | None = None, id: str | None = None
    ) -> list[UserView]:
        return [
            u
            for u in self._items
            if (email is None or email.lower() in u.email)
            and (name is None or name.lower() in u.name.lower())
            and (id is None or u.id == id)
        ]

    def get_current_user(self) -> UserView:
        if self._session.user is None:
            raise SyftException(
                "Guests have no account: log in with client.login(email=, password=)."
            )
        return UserView(self._session, self._session.api.me())

    def create(self, user_create: UserCreate | None = None, **fields: Any) -> UserView:
        if user_create is None:
            user_create = UserCreate(**fields)
        elif fields:
            raise SyftException("Pass either a UserCreate or keyword fields, not both.")
        return UserView(self._session, self._session.api.create_user(user_create.to_json()))

    def update(self, uid: str | None = None, **changes: Any) -> SyftSuccess:
        """Change account ``uid`` (PySyft's ``client.users.update(uid=..., role=...)``)."""
        if not uid:
            raise SyftException("Say whose account to change: client.users.update(uid=..., ...).")
        if not changes:
            raise SyftException("Say what to change, e.g. client.users.update(uid=..., role=...).")
        user = UserView(self._session, _update(self._session, uid, changes))
        return SyftSuccess("User details successfully updated.", value=user)

    def delete(self, uid: str) -> SyftSuccess:
        self._session.api.delete_user(uid)
        return SyftSuccess(f"User {uid} deleted.")


def _update(session: Session, uid: str, changes: dict[str, Any]) -> models.User:
    if changes.get("role") is not None:
        changes["role"] = ServiceRole.parse(changes["role"]).name
    return session.api.update_user(uid, changes)
