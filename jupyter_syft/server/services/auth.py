"""Logging in and out, and turning a request's token into an Actor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from ...roles import ServiceRole
from .. import models
from ..models import new_id
from ..security import (
    LoginRateLimiter,
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)
from ..store import Store
from .actor import GUEST, Actor
from .audit import AuditLog
from .errors import Forbidden, TooManyRequests, Unauthorized
from .settings import SettingsService
from .views import iso, user_view

CHANGE_DEFAULT_CREDENTIALS_NOTICE = (
    "You are using a default password. Please change the password using "
    "`[your_client].account.set_password([new_password])`."
)

# Not an argon2 hash, so no password ever matches it: guest rows cannot be logged into.
UNUSABLE_PASSWORD_HASH = "!"  # noqa: S105


class AuthService:
    def __init__(self, store: Store, audit: AuditLog, settings: SettingsService):
        self.store = store
        self.audit = audit
        self.settings = settings
        self.limiter = LoginRateLimiter()

    def login(self, email: str, password: str, address: str = "") -> dict[str, Any]:
        email = (email or "").strip().lower()
        wait = self.limiter.retry_after(email, address)
        if wait > 0:
            raise TooManyRequests(
                f"Too many failed logins; wait {int(wait) + 1} seconds and try again.", wait
            )
        with self.store.session() as session:
            user = session.exec(select(models.User).where(models.User.email == email)).first()
        if not verify_password(user.password_hash if user else None, password or ""):
            self.limiter.record_failure(email, address)
            raise Unauthorized("Wrong email or password.")
        assert user is not None
        self.limiter.record_success(email, address)
        if needs_rehash(user.password_hash):  # hashed with older parameters: upgrade it
            with self.store.session() as session:
                user.password_hash = hash_password(password)
                session.add(user)
                session.commit()
        ttl = timedelta(hours=int(self.settings.value("token_ttl_hours")))
        token, expires_at = self.issue_token(user.id, ttl)
        self.audit.record(_actor(user), "auth.login", "user", user.id)
        warnings = [CHANGE_DEFAULT_CREDENTIALS_NOTICE] if user.password_is_default else []
        return {
            "token": token,
            "expires_at": iso(expires_at),
            "user": user_view(user),
            "warnings": warnings,
        }

    def issue_token(self, user_id: str, ttl: timedelta) -> tuple[str, Any]:
        """A new API token for a user: only its hash is stored."""
        token = new_token()
        row = models.ApiToken(
            token_hash=token_hash(token), user_id=user_id, expires_at=models.utcnow() + ttl
        )
        with self.store.session() as session:
            session.add(row)
            session.commit()
            expires_at = row.expires_at
        return token, expires_at

    def owner_actor(self) -> Actor:
        """The Datasite's first admin: who the person running JupyterLab acts as."""
        with self.store.session() as session:
            user = session.exec(
                select(models.User)
                .where(models.User.role == int(ServiceRole.ADMIN))
                .order_by(models.User.created_at)  # type: ignore[arg-type]
            ).first()
        if user is None:
            raise Unauthorized("This Datasite has no owner account yet.")
        return _actor(user)

    def guest_session(self) -> dict[str, Any]:
        """A session for a guest: lets the Datasite tell one guest's code from another's."""
        if not self.settings.value("allow_guest_sessions"):
            raise Forbidden("This Datasite does not allow guests; log in with an account.")
        guest_id = new_id()
        user = models.User(
            id=guest_id,
            email=f"guest-{guest_id[:12]}@guest.invalid",
            name="Guest",
            role=int(ServiceRole.GUEST),
            password_hash=UNUSABLE_PASSWORD_HASH,
        )
        token = new_token()
        with self.store.session() as session:
            session.add(user)
            session.flush()  # the token row refers to it
            session.add(
                models.ApiToken(
                    token_hash=token_hash(token),
                    user_id=user.id,
                    expires_at=models.utcnow() + timedelta(hours=24),
                )
            )
            session.commit()
        return {"token": token, "user": user_view(user)}

    def logout(self, token: str) -> None:
        with self.store.session() as session:
            row = session.get(models.ApiToken, token_hash(token))
            if row is not None:
                session.delete(row)
                session.commit()

    def actor_for(self, authorization: str | None) -> Actor:
        """The caller behind an ``Authorization: Bearer <token>`` header; a guest without one."""
        token = _bearer(authorization)
        if token is None:
            return GUEST
        with self.store.session() as session:
            row = session.get(models.ApiToken, token_hash(token))
            user = session.get(models.User, row.user_id) if row is not None else None
            if row is None or user is None:
                raise Unauthorized("Your login is not valid on this Datasite; log in again.")
            if row.expires_at <= models.utcnow():
                session.delete(row)
                session.commit()
                raise Unauthorized("Your login has expired; log in again.")
        return _actor(user)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not value.strip():
        raise Unauthorized("Send your token as 'Authorization: Bearer <token>'.")
    return value.strip()


def _actor(user: models.User) -> Actor:
    return Actor(user_id=user.id, email=user.email, name=user.name, role=ServiceRole(user.role))
