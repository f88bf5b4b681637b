"""What the JupyterLab jobs view reads: who asked, when a job left the queue, its progress,
the active/finished filter, and that nobody reads more than their role allows."""

from __future__ import annotations

from typing import Any

import pytest

import jupyter_syft as sy
from tests.waiting import wait_for


def _approved(root, client, function, name: str) -> None:
    client.code.request_code_execution(function)
    next(r for r in root.requests if r.code.service_func_name == name).approve()


def test_a_running_job_shows_its_requester_start_and_progress(root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def long_loop(datasite, data):
        import time

        datasite.init_progress(4)
        datasite.set_progress(1)
        time.sleep(60)
        return 1

    _approved(root, scientist, long_loop, "long_loop")
    job = scientist.code.long_loop(data=asset, blocking=False)

    def running() -> dict[str, Any] | None:
        page = root.connection.get("jobs", state="active", order="newest")
        rows = [j for j in page["items"] if j["id"] == job.id and j["current_iter"] == 1]
        return rows[0] if rows else None

    row = wait_for(running, "the job's progress")
    assert row["status"] == "processing" and row["n_iters"] == 4
    assert row["requester"] == {"name": scientist.account.name, "email": scientist.account.email}
    assert row["started_at"] and row["started_at"] >= row["created_at"]
    assert row["execution"] is None  # no run record (so no prints) until it ends
    finished = root.connection.get("jobs", state="finished")
    assert job.id not in [j["id"] for j in finished["items"]]

    root.connection.post(f"jobs/{job.id}/kill")  # what the view's Kill button calls
    with pytest.raises(sy.SyftException, match=r"job\.kill"):
        job.wait(timeout=60)
    active = root.connection.get("jobs", state="active")
    assert job.id not in [j["id"] for j in active["items"]] and active["total"] == 0
    finished = root.connection.get("jobs", state="finished")
    row = next(j for j in finished["items"] if j["id"] == job.id)
    assert row["status"] == "interrupted" and "job.kill" in row["error"]
    kills = root.connection.get("audit/events", action="job.kill")["items"]
    assert [(e["object_id"], e["actor_email"]) for e in kills] == [(job.id, "info@openmined.org")]


def test_queued_job_has_no_start_yet(root, scientist, uploaded, node):
    """A job the queue has not reached says so: started_at is null (the view shows 'queued')."""
    from jupyter_syft.server import models

    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def noop(data):
        return 1

    _approved(root, scientist, noop, "noop")
    store = node.datasite.store
    with store.session() as session:  # a row as the queue holds it before a thread takes it
        queued = models.Job(
            code_id=scientist.code[0].id, user_id=scientist.account.id, status="created"
        )
        session.add(queued)
        session.commit()
    row = next(j for j in root.connection.get("jobs", state="active")["items"])
    assert row["id"] == queued.id and row["status"] == "created"
    assert row["started_at"] is None and row["requester"]["email"] == scientist.account.email


def test_scientists_see_only_their_own_jobs_and_no_private_prints(node, root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def chatty(data):
        print("rows:", len(data))
        raise ValueError("the scientist's own mistake")

    _approved(root, scientist, chatty, "chatty")
    job = scientist.code.chatty(data=asset, blocking=False)
    with pytest.raises(sy.SyftException):
        job.wait(timeout=60)

    # The requester: their job, why it failed, but not the prints of a run on private data.
    mine = scientist.connection.get("jobs", state="finished")["items"]
    assert [j["id"] for j in mine] == [job.id]
    assert mine[0]["status"] == "errored" and "the scientist's own mistake" in mine[0]["error"]
    assert "stdout" not in mine[0]["execution"] and "stderr" not in mine[0]["execution"]
    # The owner reads the prints.
    theirs = next(j for j in root.connection.get("jobs")["items"] if j["id"] == job.id)
    assert theirs["execution"]["stdout"] == "rows: 50\n"

    # Another scientist sees none of it, whatever the filter.
    root.users.create(sy.UserCreate(email="eve@example.org", name="Eve", password="pw"))
    eve = sy.login(url=node.url, email="eve@example.org", password="pw", verbose=False)
    for state in (None, "active", "finished"):
        page = eve.connection.get("jobs", **({"state": state} if state else {}))
        assert page["items"] == [] and page["total"] == 0
    with pytest.raises(sy.SyftException, match="No job"):
        eve.connection.get(f"jobs/{job.id}")
    with pytest.raises(sy.SyftException, match="No job"):
        eve.connection.post(f"jobs/{job.id}/kill")
    # ... nor the audit log, which is the owners'.
    with pytest.raises(sy.SyftException, match="owner"):
        eve.connection.get("audit/events")
    with pytest.raises(sy.SyftException, match="owner"):
        scientist.connection.get("audit/verify")


def test_a_bad_state_filter_says_what_to_send(root, uploaded):
    with pytest.raises(sy.SyftException, match=r"active \(queued or running\) or finished"):
        root.connection.get("jobs", state="running<script>")
