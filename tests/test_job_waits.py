"""``GET jobs/{id}?wait=``: the Datasite holds the answer until the job has ended, so
``job.wait()`` asks once instead of polling."""

from __future__ import annotations

import time

import pytest

import jupyter_syft as sy
from jupyter_syft.server import job_waits
from jupyter_syft.wire import routes


@pytest.fixture
def sleepy(root, scientist, uploaded):
    """Approved functions that sleep (``short``: 1.5 s, ``long``: 20 s) and return the rows'
    count."""
    asset = scientist.datasets[0].assets[0]
    policy = {"input_policy": sy.ExactMatch(data=asset),
              "output_policy": sy.OutputPolicyExecuteCount(limit=20)}  # fmt: skip

    @sy.syft_function(**policy)
    def short(data):
        import time

        time.sleep(1.5)
        return len(data)

    @sy.syft_function(**policy)
    def long(data):
        import time

        time.sleep(20)
        return len(data)

    for fn in (short, long):
        scientist.code.request_code_execution(fn)
    for request in root.requests:
        request.approve()
    return asset


def _job_gets(scientist, monkeypatch) -> list[dict]:
    """The GETs of one job's route the client makes, with their parameters."""
    seen: list[dict] = []
    connection = scientist.session.api.connection
    real_get = connection.get

    def get(path, **params):
        if path.startswith("jobs/") and path.count("/") == 1:
            seen.append(params)
        return real_get(path, **params)

    monkeypatch.setattr(connection, "get", get)
    return seen


def test_the_answer_comes_when_the_job_ends(scientist, sleepy):
    job = scientist.code.short(data=sleepy, blocking=False)
    path = routes.path(routes.JOB, job_id=job.id)
    started = time.monotonic()
    answer = scientist.session.api.connection.get(path, wait="30")
    assert answer["status"] == "completed"  # held until the end, not answered at once
    assert time.monotonic() - started < 30  # woken by the end, not by the wait's end


def test_a_wait_that_ends_first_gives_the_job_as_it_is(scientist, sleepy):
    job = scientist.code.long(data=sleepy, blocking=False)
    path = routes.path(routes.JOB, job_id=job.id)
    answer = scientist.session.api.connection.get(path, wait="0.3")
    assert answer["status"] in ("created", "processing")
    job.kill()
    assert scientist.session.api.connection.get(path, wait="30")["status"] == "interrupted"


def test_job_wait_asks_once_instead_of_polling(scientist, sleepy, monkeypatch):
    gets = _job_gets(scientist, monkeypatch)
    job = scientist.code.short(data=sleepy, blocking=False)
    assert job.wait(timeout=120).get() == 50
    assert len(gets) == 1 and float(gets[0]["wait"]) > 1, gets


def test_job_wait_keeps_its_timeout(scientist, sleepy):
    job = scientist.code.long(data=sleepy, blocking=False)
    with pytest.raises(sy.SyftException, match="still"):
        job.wait(timeout=0.5)
    job.kill()


def test_a_full_house_answers_at_once_and_the_client_polls(scientist, sleepy, monkeypatch):
    monkeypatch.setattr(job_waits, "MAX_WAITERS", 0)
    gets = _job_gets(scientist, monkeypatch)
    job = scientist.code.short(data=sleepy, blocking=False)
    assert job.wait(timeout=120).get() == 50
    assert len(gets) > 1  # answered at once each time: the client paused and asked again


@pytest.mark.parametrize("wait", ["abc", "-1", "31", "nan", "inf", "1e999", "\u0661", "9" * 20])
def test_a_bad_wait_is_a_400_that_says_what_to_send(scientist, sleepy, wait):
    job = scientist.code.short(data=sleepy, blocking=False)
    path = routes.path(routes.JOB, job_id=job.id)
    with pytest.raises(sy.SyftException, match="wait is a number of seconds from 0 to 30"):
        scientist.session.api.connection.get(path, wait=wait)
    job.wait(timeout=120)


def test_someone_elses_job_is_not_found_at_once(node, root, scientist, sleepy):
    job = scientist.code.long(data=sleepy, blocking=False)
    root.users.create(sy.UserCreate(email="eve@example.org", name="Eve", password="pw-eve-1"))
    eve = sy.login(url=node.url, email="eve@example.org", password="pw-eve-1", verbose=False)
    path = routes.path(routes.JOB, job_id=job.id)
    started = time.monotonic()
    with pytest.raises(sy.SyftException, match="No job"):
        eve.session.api.connection.get(path, wait="30")
    assert time.monotonic() - started < 20  # refused, not held (a bound against a hang)
    job.kill()
