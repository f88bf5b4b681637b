"""``client.users`` and ``client.account``: accounts as PySyft users know them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess
from ..roles import ServiceRole

if TYPE_CHECKING:
    from .client import DatasiteClient


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


class UserView:
    """One account. Reads are attributes; changes go to the Datasite, which decides."""

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

    def __init__(self, client: DatasiteClient, data: dict[str, Any]):
        self._client = client
        self._data = data

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            value = self._data[key]
        except KeyError:
            raise AttributeError(f"A user has no field {key!r}.")
        return ServiceRole.parse(value) if key == "role" else value

    def update(self, **changes: Any) -> SyftSuccess:
        if "role" in changes and changes["role"] is not None:
            changes["role"] = ServiceRole.parse(changes["role"]).name
        self._data = self._client.connection.patch(f"users/{self.id}", changes)
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

        own = self._client.user is not None and self._client.user.get("id") == self.id
        if own and current_password is None:
            current_password = self._client._password
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
        body: dict[str, Any] = {"new_password": new_password}
        if own:
            body["current_password"] = current_password
        self._client.connection.post(f"users/{self.id}/password", body)
        if own:
            self._client._password = new_password
        return SyftSuccess(
            f"Successfully updated password for user '{self.name}' with email '{self.email}'."
        )

    def __repr__(self) -> str:
        return f"UserView(name={self.name!r}, email={self.email!r}, role={self.role.name})"

    def _repr_html_(self) -> str:
        return display.card(
            str(self.name),
            [
                (f, self.role.name if f == "role" else self._data.get(f))
                for f in self.FIELDS
                if f != "name"
            ],
            kind="User",
        )


class UserCollection:
    def __init__(self, client: DatasiteClient):
        self._client = client
        self._users = [UserView(client, u) for u in client.connection.get_pages("users")]

    def get_all(self) -> list[UserView]:
        return list(self._users)

    def __getitem__(self, key: int | str) -> UserView:
        if isinstance(key, int):
            return self._users[key]
        for user in self._users:
            if key in (user.id, user.email):
                return user
        raise KeyError(f"No user with id or email {key!r}.")

    def __len__(self) -> int:
        return len(self._users)

    def __iter__(self) -> Iterator[UserView]:
        return iter(self._users)

    def search(
        self, email: str | None = None, name: str | None = None, id: str | None = None
    ) -> list[UserView]:
        return [
            u
            for u in self._users
            if (email is None or email.lower() in u.email)
            and (name is None or name.lower() in u.name.lower())
            and (id is None or u.id == id)
        ]

    def get_current_user(self) -> UserView:
        return self._client.account

    def create(self, user_create: UserCreate | None = None, **fields: Any) -> UserView:
        if user_create is None:
            user_create = UserCreate(**fields)
        elif fields:
            raise SyftException("Pass either a UserCreate or keyword fields, not both.")
        return UserView(self._client, self._client.connection.post("users", user_create.to_json()))

    def delete(self, uid: str) -> SyftSuccess:
        self._client.connection.delete(f"users/{uid}")
        return SyftSuccess(f"User {uid} deleted.")

    def __repr__(self) -> str:
        return display.text_table(["Name", "Email", "Institution", "Role"], self._rows())

    def _rows(self) -> list[list[Any]]:
        return [[u.name, u.email, u.institution, u.role.name] for u in self._users]

    def _repr_html_(self) -> str:
        return display.listing("Users", ["Name", "Email", "Institution", "Role"], self._rows())
