"""Accounts: who may create, see and change which users."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ...roles import ServiceRole
from .. import models
from ..security import hash_password, verify_password
from ..store import Store
from .actor import Actor
from .audit import AuditLog
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .settings import SettingsService
from .views import user_view

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
DEFAULT_ROOT_PASSWORD = "changethis"  # noqa: S105 - PySyft's well-known default, flagged on login
PROFILE_FIELDS = {"name", "institution", "website"}
OWNER_FIELDS = {"role", "mock_execution_permission"}


class UserService:
    def __init__(self, store: Store, audit: AuditLog, settings: SettingsService):
        self.store = store
        self.audit = audit
        self.settings = settings

    # --- creating accounts -------------------------------------------------------------------
    def create(self, actor: Actor, fields: dict[str, Any]) -> dict[str, Any]:
        actor.require_owner("create users")
        return self._create(actor, fields)

    def register(self, actor: Actor, fields: dict[str, Any]) -> dict[str, Any]:
        """Self-service sign-up (when enabled), or an owner registering someone."""
        if actor.is_owner:
            return self._create(actor, fields)
        if not self.settings.value("signup_enabled"):
            raise Forbidden(
                "This Datasite does not allow sign-up. Ask its owner to enable it with "
                "client.settings.allow_guest_signup(enable=True), or to create an account for you."
            )
        if fields.get("role") not in (
            None,
            "",
            ServiceRole.DATA_SCIENTIST.name,
            int(ServiceRole.DATA_SCIENTIST),
        ):
            raise Forbidden(
                "Self-registered accounts are data scientists; an owner can change roles."
            )
        return self._create(actor, {**fields, "role": ServiceRole.DATA_SCIENTIST}, self_signup=True)

    def ensure_root(self, email: str, password: str, name: str = "Root") -> bool:
        """Create the first admin when the Datasite has no users. True if it was created."""
        with self.store.session() as session:
            if session.exec(select(models.User).limit(1)).first() is not None:
                return False
            session.add(
                models.User(
                    email=_normalize_email(email),
                    name=name,
                    role=int(ServiceRole.ADMIN),
                    password_hash=hash_password(password),
                    password_is_default=password == DEFAULT_ROOT_PASSWORD,
                )
            )
            session.commit()
        return True

    def _create(
        self, actor: Actor, fields: dict[str, Any], self_signup: bool = False
    ) -> dict[str, Any]:
        unknown = set(fields) - {
            "email",
            "name",
            "password",
            "password_verify",
            "role",
            "institution",
            "website",
            "mock_execution_permission",
        }
        if unknown:
            raise BadRequest(f"Unknown user field(s): {', '.join(sorted(unknown))}.")
        email = _normalize_email(_text(fields, "email", required=True))
        password = fields.get("password")
        if not isinstance(password, str) or not password:
            raise BadRequest("A password is required.")
        verify = fields.get("password_verify")
        if verify is not None and verify != password:
            raise BadRequest("The passwords do not match: password_verify must equal password.")
        role = _role(fields.get("role"), default=ServiceRole.DATA_SCIENTIST)
        if role > actor.role and not self_signup:
            raise Forbidden(
                f"You cannot create an account with a higher role ({role.name}) than yours."
            )
        mock_exec = bool(fields.get("mock_execution_permission", False)) and not self_signup
        user = models.User(
            email=email,
            name=_text(fields, "name") or email.split("@")[0],
            role=int(role),
            password_hash=hash_password(password),
            institution=_text(fields, "institution"),
            website=_text(fields, "website"),
            mock_execution_permission=mock_exec,
        )
        with self.store.session() as session:
            session.add(user)
            try:
                session.commit()
            except IntegrityError:
                raise Conflict(f"An account with the email {email} already exists.")
        self.audit.record(actor, "user.create", "user", user.id, email=email, role=role.name)
        return user_view(user)

    # --- reading -----------------------------------------------------------------------------
    def list(self, actor: Actor) -> list[dict[str, Any]]:
        actor.require_user("list users")
        with self.store.session() as session:
            query = select(models.User).order_by(col(models.User.created_at))
            if not actor.is_owner:
                query = query.where(models.User.id == actor.user_id)
            return [user_view(u) for u in session.exec(query)]

    def get(self, actor: Actor, user_id: str) -> dict[str, Any]:
        return user_view(self._visible(actor, user_id))

    def me(self, actor: Actor) -> dict[str, Any] | None:
        return None if actor.is_anonymous else self.get(actor, actor.user_id or "")

    def _visible(self, actor: Actor, user_id: str) -> models.User:
        actor.require_user("see accounts")
        if not actor.is_owner and user_id != actor.user_id:
            raise NotFound("No such user.")  # a scientist learns nothing about other accounts
        with self.store.session() as session:
            user = session.get(models.User, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        return user

    # --- changing ----------------------------------------------------------------------------
    def update(self, actor: Actor, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        user = self._visible(actor, user_id)
        unknown = set(changes) - PROFILE_FIELDS - OWNER_FIELDS - {"email"}
        if unknown:
            raise BadRequest(
                f"Cannot change {', '.join(sorted(unknown))}; you can change: "
                f"{', '.join(sorted(PROFILE_FIELDS | OWNER_FIELDS | {'email'}))}."
            )
        if set(changes) & OWNER_FIELDS:
            actor.require_owner("change roles or mock-execution permission")
            if user.id == actor.user_id and "role" in changes:
                raise Forbidden("You cannot change your own role.")
            if ServiceRole(user.role) > actor.role:
                raise Forbidden("You cannot change an account with a higher role than yours.")
        with self.store.session() as session:
            user = session.get(models.User, user_id)  # type: ignore[assignment]
            assert user is not None
            for key, value in changes.items():
                if key == "role":
                    role = _role(value)
                    if role > actor.role:
                        raise Forbidden(f"You cannot grant a role ({role.name}) higher than yours.")
                    user.role = int(role)
                elif key == "email":
                    user.email = _normalize_email(str(value))
                elif key == "mock_execution_permission":
                    if not isinstance(value, bool):
                        raise BadRequest("mock_execution_permission takes True or False.")
                    user.mock_execution_permission = value
                else:
                    if not isinstance(value, str):
                        raise BadRequest(f"{key} takes text.")
                    setattr(user, key, value)
            session.add(user)
            try:
                session.commit()
            except IntegrityError:
                raise Conflict(f"An account with the email {changes.get('email')} already exists.")
        self.audit.record(actor, "user.update", "user", user_id, changes=sorted(changes))
        return user_view(user)

    def set_password(
        self, actor: Actor, user_id: str, new_password: str, current_password: str | None = None
    ) -> None:
        user = self._visible(actor, user_id)
        if not isinstance(new_password, str) or not new_password:
            raise BadRequest("The new password cannot be empty.")
        if user.id == actor.user_id and actor.role != ServiceRole.ADMIN:
            if current_password is not None and not verify_password(
                user.password_hash, current_password
            ):
                raise Forbidden("The current password is wrong.")
        elif user.id != actor.user_id:
            actor.require_owner("change someone else's password")
        with self.store.session() as session:
            row = session.get(models.User, user_id)
            assert row is not None
            row.password_hash = hash_password(new_password)
            row.password_is_default = new_password == DEFAULT_ROOT_PASSWORD
            session.add(row)
            session.commit()
        self.audit.record(actor, "user.set_password", "user", user_id)

    def delete(self, actor: Actor, user_id: str) -> None:
        actor.require_owner("delete users")
        if user_id == actor.user_id:
            raise Forbidden("You cannot delete your own account.")
        user = self._visible(actor, user_id)
        if ServiceRole(user.role) > actor.role:
            raise Forbidden("You cannot delete an account with a higher role than yours.")
        with self.store.session() as session:
            for token in session.exec(
                select(models.ApiToken).where(models.ApiToken.user_id == user_id)
            ):
                session.delete(token)
            row = session.get(models.User, user_id)
            session.delete(row)
            try:
                session.commit()
            except IntegrityError:
                raise Conflict(
                    "This user owns data on the Datasite (e.g. uploaded datasets); "
                    "delete those first or change the user's role instead."
                )
        self.audit.record(actor, "user.delete", "user", user_id, email=user.email)


def _normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise BadRequest(f"{email!r} is not an email address.")
    return email


def _text(fields: dict[str, Any], key: str, required: bool = False) -> str:
    value = fields.get(key)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{key} is required.")
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be text.")
    return value.strip()


def _role(value: Any, default: ServiceRole | None = None) -> ServiceRole:
    if value is None and default is not None:
        return default
    try:
        role = ServiceRole.parse(value)
    except ValueError as exc:
        raise BadRequest(str(exc))
    if role == ServiceRole.NONE:
        raise BadRequest("An account needs a role other than NONE.")
    return role
