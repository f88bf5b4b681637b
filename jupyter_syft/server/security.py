"""Passwords (argon2), API tokens (random, stored hashed) and the login rate limiter."""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): ~20 ms here, where argon2-cffi's
# default (64 MiB, 3 passes, 4 lanes) takes ~150 ms on 2 cores and would dominate every login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Checked before any work (hashing, lookups, rate-limit keys): RFC 5321's longest address, and a
# password far longer than any passphrase but short enough that argon2 on it costs nothing extra.
MAX_EMAIL_CHARS = 254
MAX_PASSWORD_CHARS = 1024


@functools.cache
def _dummy_hash() -> str:
    # Verified when the email is unknown, so a wrong email costs as much time as a wrong password.
    return _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    with _ahead_lock:
        ahead = _ahead.pop(password, None)
    if ahead is not None:
        return ahead.result()
    return _hasher.hash(password)


# Hashes started ahead (hash_ahead), each used once by the next hash_password of its password.
_ahead: dict[str, Future[str]] = {}
_ahead_lock = threading.Lock()


def hash_ahead(password: str) -> None:
    """Start hashing ``password`` in a thread: argon2 runs without the GIL, so a new Datasite's
    start-up (which hashes its root password, ~20 ms, several times that on a busy machine)
    finds it done instead of computing it on its own path. Only for a password about to be
    hashed: it is kept until then."""
    future: Future[str] = Future()
    with _ahead_lock:
        if password in _ahead:
            return
        _ahead[password] = future

    def work() -> None:
        try:
            future.set_result(_hasher.hash(password))
        except BaseException as exc:  # hash_password raises it
            future.set_exception(exc)

    threading.Thread(target=work, name="syft-hash-ahead", daemon=True).start()


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


@dataclass(slots=True)
class _Failures:
    failures: int
    in_flight: int
    locked_until: float
    last_seen: float


@dataclass(frozen=True)
class LoginAttempt:
    """A reserved attempt (``wait == 0``), or a refusal saying how long to wait."""

    wait: float
    email: str = ""
    address: str = ""
    reserved: tuple[tuple[str, ...], ...] = ()


class LoginRateLimiter:
    """Throttles password guessing, atomically, in bounded memory, without letting a stranger
    lock a known account out for more than a minute at a time.

    Every failed login counts under three keys, each with some free failures and then an
    exponential backoff (``base_s * 2**k`` after the k-th failure past the free ones, capped at
    ``max_backoff_s``):

    * the pair (email, address), ``pair_free`` free failures: a typo-prone user at their own
      address is slowed down only by their own failures;
    * the account (email), from any address, ``account_free``: many addresses cannot make
      unlimited guesses at one account (after the burst, one guess per ``max_backoff_s``);
    * the address, for any email, ``address_free``: one address cannot spray guesses at many
      accounts.

    An address that has logged into an account (remembered for ``trust_s``) is trusted for it:
    only the pair limit applies there, not the account or address limits. So strangers failing
    at an account from elsewhere, or someone guessing made-up emails behind the same proxy, do
    not stop its owner from logging in from their usual address, while a guesser at a trusted
    address still gets only the pair's budget. A login from a new address can be delayed by the
    account or address lock, for at most ``max_backoff_s`` at a time.

    Atomic: :meth:`begin` reserves a slot under the lock *before* the password is verified, and
    an attempt in flight counts as a failure until :meth:`end`; so concurrent guesses can never
    get more than the free budget through to verification, and past it only one at a time.

    Bounded: counts are forgotten ``forget_s`` after a key's last failure; at most ``max_keys``
    keys and ``max_trusted`` trusted pairs are kept, the least recently used evicted first.
    Emails and addresses are length-capped by the caller before they get here.
    """

    def __init__(
        self,
        pair_free: int = 5,
        account_free: int = 10,
        address_free: int = 20,
        base_s: float = 2.0,
        max_backoff_s: float = 60.0,
        forget_s: float = 900.0,
        trust_s: float = 30 * 86400.0,
        max_keys: int = 20_000,
        max_trusted: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.free = {"pair": pair_free, "account": account_free, "address": address_free}
        self.base_s = base_s
        self.max_backoff_s = max_backoff_s
        self.forget_s = forget_s
        self.trust_s = trust_s
        self.max_keys = max_keys
        self.max_trusted = max_trusted
        self.clock = clock
        self.verifications = 0  # attempts let through to password verification, ever
        self._entries: OrderedDict[tuple[str, ...], _Failures] = OrderedDict()
        self._trusted: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys are tracked (failure counts plus trusted pairs)."""
        with self._lock:
            return len(self._entries) + len(self._trusted)

    def begin(self, email: str, address: str) -> LoginAttempt:
        """Reserve an attempt, or say how long to wait. A reserved attempt must be ended."""
        now = self.clock()
        with self._lock:
            self._prune(now)
            keys: list[tuple[str, ...]] = [("pair", email, address)]
            if not self._is_trusted(email, address, now):
                keys += [("account", email), ("address", address)]
            wait = 0.0
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None:
                    wait = max(wait, self._wait(entry, self.free[key[0]], now))
            if wait > 0:
                return LoginAttempt(wait=wait)
            for key in keys:
                entry = self._touch(key, now)
                entry.in_flight += 1
            self.verifications += 1
            return LoginAttempt(0.0, email, address, tuple(keys))

    def end(self, attempt: LoginAttempt, ok: bool | None) -> None:
        """Record how a reserved attempt went: True, False, or None (not decided: no count)."""
        if attempt.wait > 0:
            return
        now = self.clock()
        with self._lock:
            for key in attempt.reserved:
                entry = self._entries.get(key)
                if entry is not None and entry.in_flight > 0:
                    entry.in_flight -= 1
            pair = ("pair", attempt.email, attempt.address)
            if ok:
                self._entries.pop(pair, None)
                self._trusted[(attempt.email, attempt.address)] = now + self.trust_s
                self._trusted.move_to_end((attempt.email, attempt.address))
                while len(self._trusted) > self.max_trusted:
                    self._trusted.popitem(last=False)
            elif ok is False:
                for key in (pair, ("account", attempt.email), ("address", attempt.address)):
                    entry = self._touch(key, now)
                    entry.failures += 1
                    beyond = entry.failures - self.free[key[0]]
                    if beyond >= 0:
                        backoff = min(self.base_s * 2 ** min(beyond, 32), self.max_backoff_s)
                        entry.locked_until = now + backoff
            self._prune(now)

    # --- internals (call with the lock held) ---------------------------------------------------
    @staticmethod
    def _wait(entry: _Failures, free: int, now: float) -> float:
        if entry.locked_until > now:
            return entry.locked_until - now
        if entry.failures + entry.in_flight < free or entry.in_flight == 0:
            return 0.0  # within the free budget, or the backoff has passed: one try at a time
        return 1.0  # attempts in flight will decide whether this one may go ahead

    def _is_trusted(self, email: str, address: str, now: float) -> bool:
        until = self._trusted.get((email, address))
        return until is not None and until > now

    def _touch(self, key: tuple[str, ...], now: float) -> _Failures:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Failures(0, 0, 0.0, now)
        else:
            self._entries.move_to_end(key)
        entry.last_seen = now
        return entry

    def _prune(self, now: float) -> None:
        # Least recently used first: stop at the first entry still worth keeping.
        while self._entries:
            entry = next(iter(self._entries.values()))
            if now - entry.last_seen <= self.forget_s and len(self._entries) <= self.max_keys:
                break
            self._entries.popitem(last=False)
        while self._trusted:
            until = next(iter(self._trusted.values()))
            if until > now:
                break
            self._trusted.popitem(last=False)


class TokenBucket:
    """At most ``burst`` events at once per key, refilled at ``per_s`` a second; bounded memory.

    Used for guest sessions: per address, and with one shared key for the whole Datasite.
    """

    def __init__(
        self,
        burst: int,
        per_s: float,
        max_keys: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.burst = burst
        self.per_s = per_s
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)

    def take(self, key: str) -> float:
        """Take one token: 0 if allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.per_s)
            if tokens >= 1:
                tokens -= 1
                wait = 0.0
            else:
                wait = (1 - tokens) / self.per_s
            if tokens < self.burst:  # a full bucket is the default: no need to remember it
                self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)  # forgetting a key only refills it
            return wait
