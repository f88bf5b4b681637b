"""Login limits (issue 11, items 5 and 6): per-account and per-address, atomic, with a capped
exponential backoff, in bounded memory. Unit tests drive the limiter with a fake clock (no
sleeping, no timing asserts); the HTTP tests use a real server."""

from __future__ import annotations

import threading

import pytest
import requests

from jupyter_syft.server.security import MAX_EMAIL_CHARS, LoginRateLimiter
from tests.conftest import ROOT_EMAIL, ROOT_PASSWORD


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(limiter: LoginRateLimiter, email: str, address: str) -> float:
    """One failed attempt; returns the wait if it was refused instead (0 if it went ahead)."""
    attempt = limiter.begin(email, address)
    if attempt.wait == 0:
        limiter.end(attempt, ok=False)
    return attempt.wait


def succeed(limiter: LoginRateLimiter, email: str, address: str) -> float:
    attempt = limiter.begin(email, address)
    if attempt.wait == 0:
        limiter.end(attempt, ok=True)
    return attempt.wait


# --- the limiter, unit by unit ---------------------------------------------------------------
def test_free_failures_then_exponential_backoff_capped_at_a_minute():
    clock = Clock()
    lim = LoginRateLimiter(clock=clock)
    for _ in range(5):
        assert fail(lim, "a@x.org", "1.1.1.1") == 0
    waits = []
    for _ in range(8):
        wait = lim.begin("a@x.org", "1.1.1.1").wait
        assert wait > 0
        waits.append(wait)
        clock.now += wait  # wait it out, then fail again
        assert fail(lim, "a@x.org", "1.1.1.1") == 0
    assert waits[:5] == [2, 4, 8, 16, 32]
    assert max(waits) == 60  # a stranger can delay a login, never lock it out for long


def test_many_addresses_cannot_make_unlimited_guesses_at_one_account():
    clock = Clock()
    lim = LoginRateLimiter(clock=clock)
    let_through = sum(fail(lim, "victim@x.org", f"10.0.0.{i}") == 0 for i in range(200))
    assert let_through == 10  # the account's budget, whatever the number of addresses


def test_made_up_emails_from_one_address_do_not_lock_out_a_known_account():
    clock = Clock()
    lim = LoginRateLimiter(clock=clock)
    proxy = "192.168.0.1"  # behind a proxy, everyone has this address
    assert succeed(lim, "admin@x.org", proxy) == 0  # the admin has logged in from here before
    for i in range(100):
        fail(lim, f"made-up-{i}@x.org", proxy)
    assert lim.begin("another@x.org", proxy).wait > 0  # the sprayer is stopped...
    assert succeed(lim, "admin@x.org", proxy) == 0  # ...the admin is not


def test_failures_elsewhere_do_not_lock_out_the_owner_at_their_usual_address():
    clock = Clock()
    lim = LoginRateLimiter(clock=clock)
    assert succeed(lim, "ds@x.org", "home") == 0
    for i in range(50):
        fail(lim, "ds@x.org", f"attacker-{i}")
    assert lim.begin("ds@x.org", "attacker-new").wait > 0
    assert succeed(lim, "ds@x.org", "home") == 0


def test_a_new_address_waits_at_most_the_backoff_cap():
    clock = Clock()
    lim = LoginRateLimiter(clock=clock)
    for i in range(100):
        fail(lim, "ds@x.org", f"attacker-{i}")
        clock.now += 0.5
    wait = lim.begin("ds@x.org", "new-laptop").wait
    assert 0 < wait <= 60
    clock.now += wait
    assert succeed(lim, "ds@x.org", "new-laptop") == 0


def test_concurrent_attempts_are_reserved_before_verification():
    lim = LoginRateLimiter()
    started = [lim.begin("a@x.org", "1.1.1.1") for _ in range(60)]  # none ended yet
    assert sum(a.wait == 0 for a in started) == 5
    for attempt in started:
        lim.end(attempt, ok=False)
    assert lim.verifications == 5


def test_an_undecided_attempt_is_not_counted():
    lim = LoginRateLimiter()
    for _ in range(20):
        attempt = lim.begin("a@x.org", "1.1.1.1")
        assert attempt.wait == 0
        lim.end(attempt, ok=None)  # e.g. the database was down: not the caller's failure


def test_100k_distinct_failed_emails_leave_the_limiter_bounded():
    lim = LoginRateLimiter()
    for i in range(100_000):
        fail(lim, f"user-{i}@example.org", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
    assert len(lim) <= lim.max_keys + lim.max_trusted
    assert len(lim) <= 20_000


def test_entries_are_forgotten_after_a_quiet_period():
    clock = Clock()
    lim = LoginRateLimiter(clock=clock)
    for i in range(1000):
        fail(lim, f"user-{i}@x.org", f"10.0.{i >> 8}.{i & 255}")
    assert len(lim) == 3000
    clock.now += lim.forget_s + 1
    fail(lim, "late@x.org", "5.6.7.8")
    assert len(lim) == 3  # only the late attempt's own keys


# --- against a real server -------------------------------------------------------------------
def _login(node, email, password):
    return requests.post(
        f"{node.url}/syft/api/v1/auth/login",
        json={"email": email, "password": password},
        timeout=60,
    )


def test_60_concurrent_wrong_guesses_get_at_most_the_limit_verified(node):
    limiter = node.datasite.services.auth.limiter
    before = limiter.verifications
    barrier = threading.Barrier(60)
    statuses: list[int] = []

    def guess():
        barrier.wait()
        statuses.append(_login(node, ROOT_EMAIL, "wrong-guess").status_code)

    threads = [threading.Thread(target=guess) for _ in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(statuses) == 60
    assert statuses.count(401) <= 5 and statuses.count(401) + statuses.count(429) == 60
    assert limiter.verifications - before <= 5


def test_too_many_requests_keeps_its_retry_after_header(node):
    for _ in range(5):
        assert _login(node, ROOT_EMAIL, "nope").status_code == 401
    r = _login(node, ROOT_EMAIL, ROOT_PASSWORD)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"] == "too_many_requests" and "wait" in r.json()["detail"]


def test_made_up_emails_do_not_lock_the_admin_out_over_http(node):
    assert _login(node, ROOT_EMAIL, ROOT_PASSWORD).status_code == 200
    for i in range(25):
        _login(node, f"nobody-{i}@example.org", "guess")
    assert _login(node, "nobody-else@example.org", "guess").status_code == 429
    assert _login(node, ROOT_EMAIL, ROOT_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "field, value",
    # Over the caps, under the anonymous body limit (a bigger body never gets this far).
    [("email", "a" * 300 + "@example.org"), ("password", "p" * 5_000)],
)
def test_overlong_credentials_are_refused_before_any_work(node, field, value):
    limiter = node.datasite.services.auth.limiter
    body = {"email": ROOT_EMAIL, "password": "x", field: value}
    r = requests.post(f"{node.url}/syft/api/v1/auth/login", json=body, timeout=60)
    assert r.status_code == 400 and "too long" in r.json()["detail"]
    assert value not in r.text
    assert limiter.verifications == 0 and len(limiter) == 0


def test_email_cap_is_the_longest_valid_address():
    assert MAX_EMAIL_CHARS == 254
