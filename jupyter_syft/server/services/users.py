"""Accounts: who may create, see and change which users."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import delete as sql_delete
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ...roles import ServiceRole
from ...wire import models as wire
from .. import models
from ..rows import loaded
from ..security import (
    MAX_EMAIL_CHARS,
    MAX_PASSWORD_CHARS,
    LoginRateLimiter,
    hash_password,
    verify_password,
)
from ..store import Store
from . import limits, paging
from .actor import Actor
from .audit import AuditLog
from .errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests
from .paging import PageParams
from .settings import SettingsService
from .view_cache import DATASETS, PlainRead, bump
from .views import user_view

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
DEFAULT_ROOT_PASSWORD = "changethis"  # noqa: S105 - PySyft's well-known default, flagged on login
PROFILE_LIMITS = {
    "name": limits.NAME,
    "institution": limits.SHORT_TEXT,
    "website": limits.SHORT_TEXT,
}
OWNER_FIELDS = {"role", "mock_execution_permission", "disabled"}


class UserService:
    def __init__(self, store: Store, audit: AuditLog, settings: SettingsService):
        self.store = store
        self.audit = audit
        self.settings = settings
        # Guesses at the current password through a stolen token are throttled like logins.
        self.current_password_limiter = LoginRateLimiter()
        self._own_row = PlainRead(store, _USER_BY_ID, "user_id")

    # --- creating accounts -------------------------------------------------------------------
    def create(self, actor: Actor, fields: wire.UserCreate) -> wire.User:
        actor.require_owner("create users")
        return self._create(actor, fields)

    def register(self, actor: Actor, fields: wire.UserCreate) -> wire.User:
        """Self-service sign-up (when enabled), or an owner registering someone."""
        if actor.is_owner:
            return self._create(actor, fields)
        if not self.settings.value("signup_enabled"):
            raise Forbidden(
                "This Datasite does not allow sign-up. Ask its owner to enable it with "
                "client.settings.allow_guest_signup(enable=True), or to create an account for you."
            )
        if fields.role not in (
            None,
            "",
            ServiceRole.DATA_SCIENTIST.name,
            int(ServiceRole.DATA_SCIENTIST),
        ):
            raise Forbidden(
                "Self-registered accounts are data scientists; an owner can change roles."
            )
        return self._create(actor, fields, self_signup=True)

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
        self, actor: Actor, fields: wire.UserCreate, self_signup: bool = False
    ) -> wire.User:
        """Self-registered accounts are data scientists without mock execution."""
        email = _normalize_email(_text(fields.email, "email", required=True))
        password = fields.password
        if not password:
            raise BadRequest("A password is required.")
        _check_password_length(password)
        verify = fields.password_verify
        if verify is not None and verify != password:
            raise BadRequest("The passwords do not match: password_verify must equal password.")
        role = (
            ServiceRole.DATA_SCIENTIST
            if self_signup
            else _role(fields.role, default=ServiceRole.DATA_SCIENTIST)
        )
        if role > actor.role and not self_signup:
            raise Forbidden(
                f"You cannot create an account with a higher role ({role.name}) than yours."
            )
        mock_exec = bool(fields.mock_execution_permission) and not self_signup
        user = models.User(
            email=email,
            name=_text(fields.name, "name") or email.split("@")[0],
            role=int(role),
            password_hash=hash_password(password),
            institution=_text(fields.institution, "institution"),
            website=_text(fields.website, "website"),
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
    def list(self, actor: Actor, page: PageParams | None = None) -> wire.Page[wire.User]:
        """One page of the accounts the caller may see (see ``paging``)."""
        actor.require_user("list users")
        with self.store.session() as session:
            query = select(models.User)
            if not actor.is_owner:
                query = query.where(models.User.id == actor.user_id)
            return paging.page(
                session,
                query,
                "users",
                col(models.User.created_at),
                col(models.User.id),
                page,
                lambda rows: [user_view(u) for u in rows],
            )

    def get(self, actor: Actor, user_id: str) -> wire.User:
        return user_view(self._visible(actor, user_id))

    def me(self, actor: Actor) -> wire.User | None:
        if actor.is_anonymous:
            return None
        actor.require_user("see accounts")
        # The most frequent call there is (every client and the sidebar start with it): one
        # plain read, without an ORM session.
        found = self._own_row.row(actor.user_id)
        if found is None:
            raise NotFound(f"No user with id {actor.user_id}.")
        return user_view(loaded(models.User, dict(zip(_USER_COLUMNS, found, strict=True))))

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
    def update(self, actor: Actor, user_id: str, body: wire.UserUpdate) -> wire.User:
        user = self._visible(actor, user_id)
        changes = body.given()  # only the fields sent change
        if set(changes) & OWNER_FIELDS:
            actor.require_owner("change roles, mock-execution permission or disable accounts")
            if user.id == actor.user_id and "role" in changes:
                raise Forbidden("You cannot change your own role.")
            if user.id == actor.user_id and "disabled" in changes:
                raise Forbidden("You cannot disable your own account.")
        _require_not_higher(actor, user, "change")
        password_hash = None
        if "password" in changes:
            password_hash = self._new_password_hash(actor, user, changes["password"])
        with self.store.session() as session:
            user = session.get(models.User, user_id)  # type: ignore[assignment]
            assert user is not None
            for key, value in changes.items():
                if key == "password":
                    assert password_hash is not None  # hashed above whenever one was sent
                    user.password_hash = password_hash
                    user.password_is_default = value == DEFAULT_ROOT_PASSWORD
                    _end_sessions(session, user_id)  # whoever was logged in must log in again
                elif key == "role":
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
                elif key == "disabled":
                    if not isinstance(value, bool):
                        raise BadRequest("disabled takes True or False.")
                    if user.disabled and not value:
                        # Refused while disabled (so a caller is told why); never revived.
                        _end_sessions(session, user_id)
                    user.disabled = value
                else:
                    if not isinstance(value, str):
                        raise BadRequest(f"{key} takes text.")
                    limits.check_text(value, key, PROFILE_LIMITS[key])
                    setattr(user, key, value)
            session.add(user)
            if {"name", "email"} & set(changes):  # shown as the uploader of their datasets
                bump(session, DATASETS)
            try:
                session.commit()
            except IntegrityError:
                raise Conflict(f"An account with the email {changes.get('email')} already exists.")
        self.audit.record(actor, "user.update", "user", user_id, changes=sorted(changes))
        return user_view(user)

    def _new_password_hash(self, actor: Actor, user: models.User, password: Any) -> str:
        """The hash of ``password`` set on someone else's account through ``update``: owners
        only, like ``set_password``; your own goes through ``set_password`` (current one)."""
        if user.id == actor.user_id:
            raise BadRequest(
                "Change your own password with "
                "client.account.set_password(new_password, current_password=...): "
                "it needs your current one."
            )
        actor.require_owner("change someone else's password")
        if not isinstance(password, str) or not password:
            raise BadRequest("The new password cannot be empty.")
        _check_password_length(password)
        return hash_password(password)

    def set_password(
        self, actor: Actor, user_id: str, new_password: Any, current_password: Any = None
    ) -> None:
        """Your own password (the current one required, whatever your role: a stolen token
        alone must not take the account over), or, for an owner, that of an account whose
        role is not higher than theirs. Every other session of the account ends."""
        user = self._visible(actor, user_id)
        if not isinstance(new_password, str) or not new_password:
            raise BadRequest("The new password cannot be empty.")
        _check_password_length(new_password)
        own = user.id == actor.user_id
        if own:
            self._check_current_password(user, current_password)
        else:
            actor.require_owner("change someone else's password")
            _require_not_higher(actor, user, "change the password of")
        with self.store.session() as session:
            row = session.get(models.User, user_id)
            assert row is not None
            row.password_hash = hash_password(new_password)
            row.password_is_default = new_password == DEFAULT_ROOT_PASSWORD
            session.add(row)
            # Whoever held another session (a stolen token) is out; the caller's own stays.
            _end_sessions(session, user_id, keep=actor.token_hash if own else None)
            session.commit()
        self.audit.record(actor, "user.set_password", "user", user_id)

    def _check_current_password(self, user: models.User, current_password: Any) -> None:
        if not isinstance(current_password, str) or not current_password:
            raise BadRequest(
                "Give your current password to change it: "
                "client.account.set_password(new_password, current_password=...)."
            )
        _check_password_length(current_password)
        attempt = self.current_password_limiter.begin(user.id, "set_password")
        if attempt.wait > 0:
            raise TooManyRequests(
                "Too many wrong current passwords; wait "
                f"{int(attempt.wait) + 1} seconds and try again.",
                attempt.wait,
            )
        ok: bool | None = None
        try:
            ok = verify_password(user.password_hash, current_password)
        finally:
            self.current_password_limiter.end(attempt, ok)
        if not ok:
            raise Forbidden("The current password is wrong; nothing was changed.")

    def delete(self, actor: Actor, user_id: str) -> None:
        actor.require_owner("delete users")
        if user_id == actor.user_id:
            raise Forbidden("You cannot delete your own account.")
        user = self._visible(actor, user_id)
        _require_not_higher(actor, user, "delete")
        with self.store.session() as session:
            _end_sessions(session, user_id)
            row = session.get(models.User, user_id)
            session.delete(row)
            try:
                session.commit()
            except IntegrityError:
                raise Conflict(
                    "This account has history on the Datasite (code, requests, projects, jobs "
                    "or datasets), which must stay. Disable it instead: "
                    "client.users[...].disable() ends its sessions and refuses its logins, and "
                    "keeps the history."
                )
        self.audit.record(actor, "user.delete", "user", user_id, email=user.email)


def _require_not_higher(actor: Actor, user: models.User, doing: str) -> None:
    """Nobody changes anything of an account whose role is higher than theirs."""
    if ServiceRole(user.role) > actor.role:
        raise Forbidden(
            f"You cannot {doing} an account with a higher role "
            f"({ServiceRole(user.role).name}) than yours ({actor.role.name})."
        )


def _end_sessions(session: Any, user_id: str, keep: str | None = None) -> None:
    """Delete the account's login tokens (but ``keep``, the caller's own, if given)."""
    statement = sql_delete(models.ApiToken).where(col(models.ApiToken.user_id) == user_id)
    if keep is not None:
        statement = statement.where(col(models.ApiToken.token_hash) != keep)
    session.execute(statement)


def _check_password_length(password: str) -> None:
    if len(password) > MAX_PASSWORD_CHARS:
        raise BadRequest(f"The password is too long: at most {MAX_PASSWORD_CHARS} characters.")


def _normalize_email(email: str) -> str:
    if len(email) > MAX_EMAIL_CHARS:
        raise BadRequest(f"The email is too long: at most {MAX_EMAIL_CHARS} characters.")
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise BadRequest(f"{email!r} is not an email address.")
    return email


def _text(value: str | None, key: str, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise BadRequest(f"{key} is required.")
        return ""
    if key in PROFILE_LIMITS:
        limits.check_text(value.strip(), key, PROFILE_LIMITS[key])
    return value.strip()


def _role(value: Any, default: ServiceRole | None = None) -> ServiceRole:
    if value is None and default is not None:
        return default
    try:
        role = ServiceRole.parse(value)
    except ValueError:
        names = ", ".join(r.name for r in ServiceRole if r is not ServiceRole.NONE)
        raise BadRequest(f"Unknown role {limits.clip(value)}: use one of {names}.")
    if role == ServiceRole.NONE:
        raise BadRequest("An account needs a role other than NONE.")
    return role


_USER_COLUMNS = tuple(models.User.__table__.columns.keys())  # type: ignore[attr-defined]
_USER_BY_ID = sa_select(models.User.__table__).where(  # type: ignore[attr-defined]
    models.User.__table__.c.id == bindparam("user_id")  # type: ignore[attr-defined]
)
