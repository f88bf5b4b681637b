"""Jobs: blocking=False runs, their states, logs, cancellation, and restarts."""

import pytest

import jupyter_syft as sy


@pytest.fixture
def approved(root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function(
        input_policy=sy.ExactMatch(data=asset), output_policy=sy.OutputPolicyExecuteCount(limit=10)
    )
    def total_age(data):
        print("summing", len(data), "rows")
        return int(data["age"].sum())

    scientist.code.request_code_execution(total_age)
    root.requests[0].approve()
    return asset, int(uploaded[0]["age"].sum())


def test_non_blocking_call_returns_a_job_that_completes(scientist, approved):
    asset, expected = approved
    job = scientist.code.total_age(data=asset, blocking=False)
    assert isinstance(job, sy.Job) and job.status in (
        sy.JobStatus.CREATED,
        sy.JobStatus.PROCESSING,
        sy.JobStatus.COMPLETED,
    )
    assert job.wait(timeout=60).get() == expected
    assert job.status == sy.JobStatus.COMPLETED and job.result.get() == expected
    assert [j.id for j in scientist.jobs] == [job.id]
    assert "completed" in repr(job) and "total_age" in job._repr_html_()
    assert "only the data owner" in job.logs(_print=False)


def test_owner_sees_all_jobs_and_their_logs(root, scientist, approved):
    asset, _ = approved
    job = scientist.code.total_age(data=asset, blocking=False)
    job.wait(timeout=60)
    owner_job = root.jobs[0]
    assert owner_job.id == job.id
    assert owner_job.logs(_print=False) == "summing 50 rows\n"


def test_failed_job_reports_why(root, scientist, approved, node):
    other = sy.Dataset(name="Other", asset_list=[sy.Asset(name="o", data=[1], mock=[2])])
    root.upload_dataset(other, progress=False)
    job = scientist.code.total_age(data=scientist.datasets["Other"].assets[0], blocking=False)
    with pytest.raises(sy.SyftException, match="must be the asset"):
        job.wait(timeout=60)
    assert job.status == sy.JobStatus.ERRORED
    with pytest.raises(sy.SyftException, match="errored"):
        job.result


def test_a_job_of_pending_code_is_refused_at_once_with_the_reason(root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def waiting(data):
        return 1

    scientist.code.request_code_execution(waiting)
    with pytest.raises(sy.SyftException, match="waiting for approval"):
        scientist.code.waiting(data=asset, blocking=False)
    assert len(scientist.jobs) == 0 and len(root.jobs) == 0
    root.requests[0].deny("Not with these inputs")
    with pytest.raises(sy.SyftException, match="Not with these inputs"):
        scientist.code.waiting(data=asset, blocking=False)


def test_other_scientists_cannot_see_a_job(node, root, scientist, approved):
    asset, _ = approved
    job = scientist.code.total_age(data=asset, blocking=False)
    root.users.create(sy.UserCreate(email="eve@example.org", name="Eve", password="pw"))
    eve = sy.login(url=node.url, email="eve@example.org", password="pw", verbose=False)
    assert len(eve.jobs) == 0
    with pytest.raises(sy.SyftException, match="No job"):
        eve.connection.get(f"jobs/{job.id}")


def test_a_job_is_audited_with_its_report_and_the_chain_holds(node, root, scientist, approved):
    # The run and its disclosure report are written in one transaction: consecutive events
    # of the scientist, in that order, and the hash chain still verifies.
    asset, expected = approved
    job = scientist.code.total_age(data=asset, blocking=False)
    assert job.wait(timeout=60).get() == expected
    execution = job.fetch()._model.execution
    assert execution is not None
    events = list(root.audit.events(page_size=50))
    run = next(
        e for e in events if e.action == "code.run" and e.detail["execution"] == execution.id
    )
    report = next(e for e in events if e.action == "output.report" and e.object_id == execution.id)
    assert report.seq == run.seq + 1 and report.prev_hash == run.hash
    assert run.actor_email == report.actor_email == "ds@example.org"
    assert report.detail["outcome"] in ("pass", "review", "fail")
    assert "intact" in repr(root.audit.verify())
    # the job as its owner reads it (one query), and as a stranger cannot
    seen = root.connection.get(f"jobs/{job.id}")
    assert seen["status"] == "completed" and seen["service_func_name"] == "total_age"
    assert seen["execution"]["id"] == execution.id and seen["requester"]["name"]


def test_restart_requeues_queued_jobs_and_marks_cut_off_ones(node, root, scientist, approved):
    """Jobs live in the store: one that never started runs after a restart; one cut off mid-run
    is shown as interrupted, never silently run twice; one that another live process on the
    same database is running is left to it."""
    import subprocess
    import sys

    from jupyter_syft.server import models
    from jupyter_syft.server.services import liveness

    asset, expected = approved
    code_id = scientist.code[0].id
    user_id = scientist.account.id
    store = node.datasite.store
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    gone = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    gone_owner = liveness.identity(gone.pid)
    gone.kill()
    gone.wait()
    try:
        with store.session() as session:
            queued = models.Job(
                code_id=code_id, user_id=user_id, inputs={"data": {"kind": "asset", "id": asset.id}}
            )
            # from before owners were kept, from a process that died, from one still running
            running = models.Job(code_id=code_id, user_id=user_id, status="processing", inputs={})
            dead = models.Job(
                code_id=code_id, user_id=user_id, status="processing", inputs={}, owner=gone_owner
            )
            elsewhere = models.Job(
                code_id=code_id,
                user_id=user_id,
                status="processing",
                inputs={},
                owner=liveness.identity(other.pid),
            )
            session.add_all([queued, running, dead, elsewhere])
            session.commit()
        assert liveness.is_alive(elsewhere.owner) and not liveness.is_alive(dead.owner)
        name = node.name
        node.land()
        again = sy.orchestra.launch(name=name, port="auto", verbose=False)
        try:
            ds = sy.login(
                url=again.url, email="ds@example.org", password="pw-ds-123", verbose=False
            )
            jobs = {j.id: j for j in ds.jobs}
            assert jobs[running.id].status == sy.JobStatus.INTERRUPTED
            assert jobs[dead.id].status == sy.JobStatus.INTERRUPTED
            assert jobs[elsewhere.id].status == sy.JobStatus.PROCESSING  # its process's to end
            done = jobs[queued.id].wait(timeout=60)
            assert done.get() == expected
            with again.datasite.store.session() as session:  # ran here, and says so
                assert session.get(models.Job, queued.id).owner == liveness.identity()
        finally:
            again.land()
    finally:
        other.kill()
        other.wait()


def test_queue_takes_turns_and_blocking_calls_are_answered_meanwhile(node, root, uploaded):
    """Alice queues six slow jobs; Bob's single job runs before most of hers, and Bob's
    blocking call is answered while all job threads are busy."""
    import time

    clients = {}
    for name in ("alice", "bob"):
        root.users.create(sy.UserCreate(email=f"{name}@example.org", name=name, password="pw"))
        clients[name] = sy.login(
            url=node.url, email=f"{name}@example.org", password="pw", verbose=False
        )
    alice, bob = clients["alice"], clients["bob"]

    def approved(client, name, body):
        asset = client.datasets[0].assets[0]
        source = f"def {name}(data):\n    {body}\n"
        import linecache
        import types

        filename = f"<test {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        func = types.FunctionType(compile(source, filename, "exec").co_consts[0], {}, name)
        fn = sy.syft_function(
            input_policy=sy.ExactMatch(data=asset),
            output_policy=sy.OutputPolicyExecuteCount(limit=20),
        )(func)
        client.code.request_code_execution(fn)
        root.requests[-1].approve()
        return asset

    asset_a = approved(alice, "slow", "import time\n    time.sleep(1.0)\n    return time.time()")
    asset_b = approved(bob, "quick", "import time\n    return time.time()")
    alice_jobs = [alice.code.slow(data=asset_a, blocking=False) for _ in range(6)]
    time.sleep(0.2)
    bob_job = bob.code.quick(data=asset_b, blocking=False)
    blocking = bob.code.quick(data=asset_b).get()
    bob_done = bob_job.wait(timeout=60).get()
    alice_done = sorted(job.wait(timeout=60).get() for job in alice_jobs)
    assert bob_done < alice_done[3], "Bob's job waited for most of Alice's queue"
    # not behind Alice's queue: answered before most of her jobs ended (an order, not a time)
    assert blocking < alice_done[-2]


def test_kill_stops_a_running_job(root, scientist, uploaded):
    import time

    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def sleepy(data):
        import time

        time.sleep(60)
        return 1

    scientist.code.request_code_execution(sleepy)
    root.requests[0].approve()
    job = scientist.code.sleepy(data=asset, blocking=False)
    deadline = time.monotonic() + 30
    while job.fetch().status != sy.JobStatus.PROCESSING and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # inside the function's sleep now
    started = time.monotonic()
    job.kill()
    with pytest.raises(sy.SyftException, match=r"job\.kill"):
        job.wait(timeout=30)
    assert time.monotonic() - started < 60  # catches a hang only
    assert job.status == sy.JobStatus.INTERRUPTED
    job.kill()  # already over: harmless
    assert job.fetch().status == sy.JobStatus.INTERRUPTED
