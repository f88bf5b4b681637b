"""Passwords (argon2), API tokens (random, stored hashed) and the login rate limiter."""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): ~20 ms here, where argon2-cffi's
# default (64 MiB, 3 passes, 4 lanes) takes ~150 ms on 2 cores and would dominate every login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    # Verified when the email is unknown, so a wrong email costs as much time as a wrong password.
    return _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        matched = _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; what matters is not storing them.
    return hashlib.sha256(token.encode()).hexdigest()


def random_password() -> str:
    return secrets.token_urlsafe(12)


class LoginRateLimiter:
    """At most ``max_failures`` failed logins per (email, address) and per address per window."""

    def __init__(self, max_failures: int = 5, per_address: int = 20, window_s: float = 60.0):
        self.max_failures = max_failures
        self.per_address = per_address
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, email: str, address: str) -> float:
        """Seconds to wait before another attempt is allowed (0 if allowed now)."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in (
                ((email, address), self.max_failures),
                (("", address), self.per_address),
            ):
                q = self._failures.get(key)
                if not q:
                    continue
                while q and now - q[0] > self.window_s:
                    q.popleft()
                if len(q) >= limit:
                    waits.append(self.window_s - (now - q[0]))
            return max(waits, default=0.0)

    def record_failure(self, email: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._failures[(email, address)].append(now)
            self._failures[("", address)].append(now)

    def record_success(self, email: str, address: str) -> None:
        with self._lock:
            self._failures.pop((email, address), None)
