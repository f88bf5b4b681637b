"""Logging in and out, and turning a request's token into an Actor."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from ...roles import ServiceRole
from ...wire import models as wire
from .. import models
from ..models import new_id
from ..security import (
    MAX_EMAIL_CHARS,
    MAX_PASSWORD_CHARS,
    LoginRateLimiter,
    TokenBucket,
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)
from ..store import Store
from .actor import GUEST, Actor
from .audit import AuditLog
from .errors import BadRequest, Forbidden, TooManyRequests, Unauthorized
from .settings import SettingsService
from .view_cache import PlainRead
from .views import iso, user_view

CHANGE_DEFAULT_CREDENTIALS_NOTICE = (
    "You are using a default password. Please change the password using "
    "`[your_client].account.set_password([new_password])`."
)

# Not an argon2 hash, so no password ever matches it: guest rows cannot be logged into.
UNUSABLE_PASSWORD_HASH = "!"  # noqa: S105
DISABLED_ACCOUNT = "This account is disabled; ask the Datasite's owner."
# Guest sessions: how long one lasts (its user row goes with it, unless it left history), and
# how fast they may be started, per address and for the whole Datasite.
GUEST_SESSION_TTL = timedelta(hours=24)
GUEST_BURST_PER_ADDRESS, GUEST_RATE_PER_ADDRESS = 30, 0.5  # then one every 2 s
GUEST_BURST_TOTAL, GUEST_RATE_TOTAL = 300, 5.0
PRUNE_EVERY_S = 60.0
MAX_ADDRESS_CHARS = 64  # an IPv6 address with a zone fits; the key never grows beyond it


class AuthService:
    def __init__(self, store: Store, audit: AuditLog, settings: SettingsService):
        self.store = store
        self.audit = audit
        self.settings = settings
        self.limiter = LoginRateLimiter()
        self.guest_limiter = TokenBucket(GUEST_BURST_PER_ADDRESS, GUEST_RATE_PER_ADDRESS)
        self.guest_total_limiter = TokenBucket(GUEST_BURST_TOTAL, GUEST_RATE_TOTAL)
        self._last_prune = 0.0
        self._prune_lock = threading.Lock()
        self._actor_query = PlainRead(store, _ACTOR_QUERY, "token_hash")

    def login(self, email: str, password: str, address: str = "") -> wire.LoginAnswer:
        email, password = _checked_credentials(email, password)
        # The slot is reserved before the password is verified: concurrent guesses cannot
        # slip past the limit between a check and a record.
        attempt = self.limiter.begin(email, address[:MAX_ADDRESS_CHARS])
        if attempt.wait > 0:
            raise TooManyRequests(
                f"Too many failed logins; wait {int(attempt.wait) + 1} seconds and try again.",
                attempt.wait,
            )
        ok: bool | None = None  # None: we failed (not the caller), so the attempt is not counted
        try:
            with self.store.session() as session:
                user = session.exec(select(models.User).where(models.User.email == email)).first()
            ok = verify_password(user.password_hash if user else None, password)
        finally:
            self.limiter.end(attempt, ok)
        if not ok:
            raise Unauthorized("Wrong email or password.")
        assert user is not None
        if user.disabled:
            raise Forbidden(DISABLED_ACCOUNT)
        if needs_rehash(user.password_hash):  # hashed with older parameters: upgrade it
            with self.store.session() as session:
                user.password_hash = hash_password(password)
                session.add(user)
                session.commit()
        ttl = timedelta(hours=int(self.settings.value("token_ttl_hours")))
        token, expires_at = self.issue_token(user.id, ttl)
        self.audit.record(_actor(user), "auth.login", "user", user.id)
        warnings = [CHANGE_DEFAULT_CREDENTIALS_NOTICE] if user.password_is_default else []
        return wire.LoginAnswer(
            token=token, expires_at=iso(expires_at), user=user_view(user), warnings=warnings
        )

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

    def guest_session(self, address: str = "") -> wire.GuestSession:
        """A session for a guest: lets the Datasite tell one guest's code from another's.

        Rate-limited per address and for the whole Datasite; it expires after
        ``GUEST_SESSION_TTL``, and expired guests are pruned (here, at most once a minute)."""
        if not self.settings.value("allow_guest_sessions"):
            raise Forbidden("This Datasite does not allow guests; log in with an account.")
        wait = self.guest_limiter.take(address[:MAX_ADDRESS_CHARS])
        wait = wait or self.guest_total_limiter.take("")  # one shared key: the whole Datasite
        if wait > 0:
            raise TooManyRequests(
                "Too many guest sessions were started; wait "
                f"{int(wait) + 1} seconds and try again, or reuse your guest session.",
                wait,
            )
        self._maybe_prune()
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
                    expires_at=models.utcnow() + GUEST_SESSION_TTL,
                )
            )
            session.commit()
        return wire.GuestSession(token=token, user=user_view(user))

    # --- forgetting expired sessions -----------------------------------------------------------
    def prune_expired_tokens(self) -> int:
        """Delete every expired login token, and the expired guest sessions' users with them
        (see :meth:`prune_expired_guests`); returns how many tokens went. Safe at any time."""
        return self.prune_expired_sessions()[0]

    def prune_expired_guests(self) -> int:
        """The same pruning as :meth:`prune_expired_tokens`; returns how many guest users went."""
        return self.prune_expired_sessions()[1]

    def prune_expired_sessions(self) -> tuple[int, int]:
        """Delete expired tokens, then guest users older than the guest TTL with no token left
        and no history (a guest who submitted code or created a project keeps their row, so
        that history stays whole). Returns (tokens, guest users) deleted."""
        with self.store.session() as session:
            tokens = session.exec(
                delete(models.ApiToken).where(col(models.ApiToken.expires_at) <= models.utcnow())
            )
            session.commit()
        user_id = col(models.User.id)
        no_history = [
            ~exists().where(column == user_id) for column in _columns_referring_to_users()
        ]
        statement = delete(models.User).where(
            col(models.User.role) == int(ServiceRole.GUEST),
            col(models.User.password_hash) == UNUSABLE_PASSWORD_HASH,
            col(models.User.created_at) <= models.utcnow() - GUEST_SESSION_TTL,
            *no_history,
        )
        with self.store.session() as session:
            guests = session.exec(statement)
            session.commit()
        return int(tokens.rowcount or 0), int(guests.rowcount or 0)

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY_S or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._last_prune = now
            self.prune_expired_sessions()
        finally:
            self._prune_lock.release()

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
        hashed = token_hash(token)
        # This runs before every call: the token and its user in one query, read on every
        # call so a role change, a disabled account or a logout applies at once.
        found = self._actor_query.row(hashed)
        if found is None:
            raise Unauthorized("Your login is not valid on this Datasite; log in again.")
        expires_at, user_id, email, name, role, disabled = found
        if expires_at <= models.utcnow():
            with self.store.session() as session:
                session.execute(
                    delete(models.ApiToken).where(col(models.ApiToken.token_hash) == hashed)
                )
                session.commit()
            raise Unauthorized("Your login has expired; log in again.")
        if disabled:  # its tokens die at once; enabling it again deletes them
            raise Unauthorized(DISABLED_ACCOUNT)
        return Actor(
            user_id=user_id, email=email, name=name, role=ServiceRole(role), token_hash=hashed
        )


_TOKENS, _USERS = models.ApiToken.__table__, models.User.__table__  # type: ignore[attr-defined]
_ACTOR_QUERY = (
    sa_select(
        _TOKENS.c.expires_at,
        _USERS.c.id,
        _USERS.c.email,
        _USERS.c.name,
        _USERS.c.role,
        _USERS.c.disabled,
    )
    .select_from(_TOKENS.join(_USERS, _USERS.c.id == _TOKENS.c.user_id))
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not value.strip():
        raise Unauthorized("Send your token as 'Authorization: Bearer <token>'.")
    return value.strip()


def _actor(user: models.User, token_hash: str | None = None) -> Actor:
    return Actor(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=ServiceRole(user.role),
        token_hash=token_hash,
    )


def _checked_credentials(email: Any, password: Any) -> tuple[str, str]:
    """Lengths are checked before any work: nothing unbounded reaches the limiter or argon2."""
    if not isinstance(email, str) or not isinstance(password, str):
        raise BadRequest("email and password must be text.")
    if len(email) > MAX_EMAIL_CHARS:
        raise BadRequest(f"The email is too long: at most {MAX_EMAIL_CHARS} characters.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise BadRequest(f"The password is too long: at most {MAX_PASSWORD_CHARS} characters.")
    email = email.strip().lower()
    if not email or not password:
        raise BadRequest("Give both an email and a password.")
    return email, password


def _columns_referring_to_users() -> list[Any]:
    """Every column with a foreign key to users.id, from the table definitions themselves."""
    return [
        column
        for table in models.SQLModel.metadata.sorted_tables
        for column in table.columns
        if any(fk.target_fullname == "users.id" for fk in column.foreign_keys)
    ]
