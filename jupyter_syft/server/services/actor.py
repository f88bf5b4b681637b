"""Who is calling: every service method takes an Actor and decides what it may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from ...roles import ServiceRole
from .errors import Forbidden, NotFound


@dataclass(frozen=True)
class Actor:
    user_id: str | None
    email: str
    name: str
    role: ServiceRole
    # sha256 of the token this call came with (None without one): lets a password change end
    # the account's other sessions but keep the caller's own.
    token_hash: str | None = None

    @property
    def is_owner(self) -> bool:
        return self.role.is_owner

    @property
    def is_guest(self) -> bool:
        return self.role <= ServiceRole.GUEST

    @property
    def is_anonymous(self) -> bool:
        """No session at all (a guest session has a user row of role GUEST)."""
        return self.user_id is None

    def require_owner(self, doing: str) -> None:
        if not self.is_owner:
            raise Forbidden(
                f"Only data owners and admins can {doing}; you are "
                f"{'a guest' if self.is_guest else f'logged in as {self.role.name}'}."
            )

    def require_user(self, doing: str) -> None:
        if self.is_anonymous:
            raise Forbidden(f"Log in to {doing}.")


RowT = TypeVar("RowT")


def visible_row(session: Any, actor: Actor, model: type[RowT], row_id: str, what: str) -> RowT:
    """A row its creator or an owner may see. Anyone else is told it does not exist, so ids
    reveal nothing about other people's work."""
    actor.require_user(f"see {what}s")
    row = session.get(model, row_id)
    if row is None or (row.user_id != actor.user_id and not actor.is_owner):
        raise NotFound(f"No {what} with id {row_id}.")
    return row


GUEST = Actor(user_id=None, email="", name="Guest", role=ServiceRole.GUEST)
# The Datasite acting on its own behalf (start-up, bootstrap); never reachable over HTTP.
SYSTEM = Actor(user_id=None, email="system", name="Datasite", role=ServiceRole.ADMIN)
