"""Faults and lost work: crashes and stops give runs back, deletes and collection keep what is
still needed and drop what is not, and workers never outlive their Datasite."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

import jupyter_syft as sy
from tests.waiting import HANG, wait_for

ON_POSTGRES = os.environ.get("JUPYTER_SYFT_TEST_DB") == "postgresql"


def _approve_single_use(root, scientist, source_fn):
    scientist.code.request_code_execution(source_fn)
    root.requests[-1].approve()


def _dead_process() -> str:
    """The identity (services/liveness.py) of a process that has ended."""
    from jupyter_syft.server.services import liveness

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    identity = liveness.identity(child.pid)
    child.kill()
    child.wait()
    return identity


def _runs_used(node, code_id: str) -> int:
    from jupyter_syft.server import models

    with node.datasite.store.session() as session:
        return session.get(models.UserCode, code_id).runs_used


# --- item 10: a run cut off by a crash gives its claim back ------------------------------------
@pytest.mark.skipif(ON_POSTGRES, reason="snapshots the SQLite file a crash leaves behind")
@pytest.mark.parametrize("blocking", [False, True], ids=["job", "blocking-call"])
def test_a_run_cut_off_by_a_crash_is_given_back_at_the_next_start(
    node, root, scientist, uploaded, tmp_path, blocking
):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def slow_total(data):
        import time

        time.sleep(3)
        return int(data["age"].sum())

    _approve_single_use(root, scientist, slow_total)
    code_id = scientist.code[0].id
    if blocking:
        call = threading.Thread(target=scientist.code.slow_total, kwargs={"data": asset})
        call.start()
    else:
        job = scientist.code.slow_total(data=asset, blocking=False)
        wait_for(lambda: job.fetch().status == sy.JobStatus.PROCESSING, "the job to start")
    wait_for(lambda: _runs_used(node, code_id) == 1, "the run to be claimed")
    # What a kill -9 right now leaves on disk: the committed database and the values.
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    source = sqlite3.connect(node.data_dir / "datasite.db")
    target = sqlite3.connect(crashed / "datasite.db")
    source.backup(target)
    source.close()
    with contextlib.suppress(sqlite3.OperationalError):  # no such table before the fix
        # The process that claimed the run (and runs the job) is this one, alive; in a real
        # crash it is dead.
        target.execute("UPDATE run_claims SET owner = ?", (_dead_process(),))
        target.execute("UPDATE jobs SET owner = ? WHERE owner != ''", (_dead_process(),))
        target.commit()
    target.close()
    shutil.copytree(node.data_dir / "blobs", crashed / "blobs")
    if blocking:  # the original finishes: not needed any more
        call.join(HANG)
    else:
        job.wait(timeout=HANG)

    again = sy.orchestra.launch(name="after-crash", port="auto", data_dir=crashed, verbose=False)
    try:
        ds = sy.login(url=again.url, email="ds@example.org", password="pw-ds-123", verbose=False)
        if not blocking:
            cut_off = {j.id: j for j in ds.jobs}[job.id]
            assert cut_off.status == sy.JobStatus.INTERRUPTED
            assert "run it again" in cut_off.error
        assert _runs_used(again, code_id) == 0  # the claim was given back
        rerun = ds.code.slow_total(data=ds.datasets[0].assets[0])
        assert rerun.get() == int(uploaded[0]["age"].sum())
        assert _runs_used(again, code_id) == 1
        # Used up now: the result comes back, the code does not run again.
        assert ds.code.slow_total(data=ds.datasets[0].assets[0]).get() == rerun.get()
    finally:
        again.land()


def test_a_claim_is_given_back_once_however_often_it_is_released(node, root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def total(data):
        return int(data["age"].sum())

    _approve_single_use(root, scientist, total)
    code_id = scientist.code[0].id
    service = node.datasite.services.code
    claim = service._claim_run(code_id, 1, None)
    assert claim is not None and service._claim_run(code_id, 1, None) is None  # limit holds
    assert service.release_cut_off_runs() == 0  # this process is alive: the claim is its own
    assert service.release_cut_off_runs(ours=True) == 1  # as after a stop
    service._release_run(claim)  # released again: nothing more is given back
    assert _runs_used(node, code_id) == 0
    assert scientist.code.total(data=asset).get() == int(uploaded[0]["age"].sum())
    assert service.release_cut_off_runs(ours=True) == 0  # a delivered run leaves no claim
    assert _runs_used(node, code_id) == 1


def test_only_claims_of_processes_that_are_gone_are_given_back(node, root, scientist, uploaded):
    """Datasite processes may share a PostgreSQL database: a start gives back what a dead one
    claimed, never what a live one is running."""
    from jupyter_syft.server import models
    from jupyter_syft.server.services import liveness

    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def total(data):
        return int(data["age"].sum())

    _approve_single_use(root, scientist, total)
    code_id = scientist.code[0].id
    service = node.datasite.services.code
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        claim = service._claim_run(code_id, 1, None)
        alive = liveness.identity(other.pid)
        with node.datasite.store.session() as session:
            row = session.get(models.RunClaim, claim)
            row.owner = alive
            session.add(row)
            session.commit()
        assert liveness.is_alive(alive)
        assert service.release_cut_off_runs() == 0 and _runs_used(node, code_id) == 1
    finally:
        other.kill()
        other.wait()
    assert not liveness.is_alive(alive)
    assert service.release_cut_off_runs() == 1 and _runs_used(node, code_id) == 0


# --- item 11: deleting a dataset whose value is also a run's result -----------------------------
def test_a_dataset_can_be_deleted_when_a_result_equals_one_of_its_values(node, root, scientist):
    ds = sy.Dataset(name="Echo", asset_list=[sy.Asset(name="v", data=[1, 2, 3], mock=[0, 0, 0])])
    root.upload_dataset(ds, progress=False)
    asset = scientist.datasets["Echo"].assets[0]

    @sy.syft_function_single_use(data=asset)
    def echo(data):
        return data

    _approve_single_use(root, scientist, echo)
    result = scientist.code.echo(data=asset)
    assert result.get() == [1, 2, 3]
    files = {p.name for p in (node.data_dir / "blobs").rglob("*") if p.is_file()}
    assert len(files) == 2  # the result is the very same blob as the private value

    root.datasets.delete("Echo")  # a 500 before: the result still pointed at the blob

    assert len(root.datasets) == 0
    left = {p.name for p in (node.data_dir / "blobs").rglob("*") if p.is_file()}
    assert len(left) == 1  # the mock went; the value stays, as the run's result
    # The scientist can still fetch that result.
    fetched = type(result)(scientist.session, result._execution)  # a fresh pointer, no cache
    assert fetched.get() == [1, 2, 3]


# --- item 12: collecting orphans and old history ------------------------------------------------
def test_collector_removes_orphans_but_not_values_in_use_or_in_flight(node, root, uploaded):
    from jupyter_syft.server import models

    datasite = node.datasite
    in_use = {p.name for p in (datasite.blobs.root).rglob("*") if p.is_file()}
    owner = datasite.services.auth.owner_actor()
    # An upload whose dataset was never created, and a value file whose row never came.
    orphan = datasite.blobs.write_value(["never", "used"])
    datasite.services.datasets.register_blob(owner, orphan)
    rowless = datasite.blobs.write_value(["no", "row"])
    datasite.blobs.settled(rowless.id)  # as after a restart: nothing in flight
    (datasite.blobs.tmp_dir / "cut-off.part").write_bytes(b"half an upload")
    (datasite.work_dir / "args-leftover").mkdir()

    # Within the grace period an upload waits for its dataset; a file without a row that
    # no upload is writing is a crash's leftover.
    datasite.retention.collect()
    assert datasite.blobs.exists(orphan.id) and not datasite.blobs.exists(rowless.id)
    assert (datasite.blobs.tmp_dir / "cut-off.part").exists()  # an upload still going on
    in_flight = datasite.blobs.write_value(["being", "uploaded"])  # its row is on the way

    counts = datasite.retention.collect(grace=timedelta(0))
    assert counts["blobs"] == 1 and not datasite.blobs.exists(orphan.id)
    with datasite.store.session() as session:
        assert session.get(models.Blob, orphan.id) is None
    assert datasite.blobs.exists(in_flight.id)
    assert not (datasite.blobs.tmp_dir / "cut-off.part").exists()
    assert not (datasite.work_dir / "args-leftover").exists()
    datasite.services.datasets.register_blob(owner, in_flight)  # and no dataset took it
    assert datasite.retention.collect(grace=timedelta(0))["blobs"] == 1
    assert {p.name for p in datasite.blobs.root.rglob("*") if p.is_file()} == in_use
    assert root.datasets[0].assets[0].data is not None  # the dataset's values are whole


def test_collector_prunes_expired_tokens_and_history_but_never_the_audit_log(
    node, root, scientist, uploaded
):
    from sqlmodel import select

    from jupyter_syft.server import models

    asset = scientist.datasets[0].assets[0]

    @sy.syft_function(
        input_policy=sy.ExactMatch(data=asset), output_policy=sy.OutputPolicyExecuteCount(limit=5)
    )
    def count_rows(data):
        return len(data)

    _approve_single_use(root, scientist, count_rows)
    for _ in range(3):
        assert scientist.code.count_rows(data=asset).get() == 50
    job = scientist.code.count_rows(data=asset, blocking=False)
    job.wait(timeout=HANG)
    datasite = node.datasite
    store = datasite.store
    long_ago = models.utcnow() - timedelta(days=400)
    with store.session() as session:
        for i, row in enumerate(session.exec(select(models.Execution)).all()):
            row.created_at = long_ago + timedelta(seconds=i)
            session.add(row)
        for row in session.exec(select(models.Job)).all():
            row.updated_at = long_ago
            session.add(row)
        user_id = session.exec(select(models.User.id)).first()
        session.add(models.ApiToken(token_hash="x" * 64, user_id=user_id, expires_at=long_ago))
        session.commit()
        audit_before = len(session.exec(select(models.AuditEvent)).all())

    # By default runs stay for good and jobs 90 days.
    counts = datasite.retention.collect()
    assert counts["executions"] == 0 and counts["jobs"] == 1 and counts["tokens"] >= 1
    root.settings.update(retention_days_runs=30)
    counts = datasite.retention.collect()
    assert counts["executions"] == 3  # all but the latest private run, the result kept
    with store.session() as session:
        assert session.get(models.ApiToken, "x" * 64) is None
        assert len(session.exec(select(models.Execution)).all()) == 1
        assert len(session.exec(select(models.AuditEvent)).all()) > audit_before
    assert datasite.services.audit.verify()
    assert scientist.code.count_rows(data=asset).get() == 50  # still runs, one use left
    with pytest.raises(sy.SyftException, match="at least 0"):
        root.settings.update(retention_days_jobs=-1)
    root.settings.update(retention_days_jobs=0)  # 0: keep for good


def test_collection_runs_at_start(node, root, uploaded):
    datasite = node.datasite
    rowless = datasite.blobs.write_value(["left", "by", "a", "crash"])
    path = datasite.blobs.path(rowless.id)
    name = node.name
    node.land()
    again = sy.orchestra.launch(name=name, port="auto", verbose=False)
    try:
        wait_for(lambda: not path.exists(), "the start's collection")
        client = sy.login(
            url=again.url, email="info@openmined.org", password="changethis", verbose=False
        )
        assert client.datasets[0].assets[0].data is not None
    finally:
        again.land()


# --- item 13: a graceful stop interrupts running jobs and gives their runs back ------------------
def test_a_graceful_stop_marks_running_jobs_interrupted_and_gives_the_run_back(
    node, root, scientist, uploaded
):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def slow_sum(data):
        import time

        time.sleep(2)
        return int(data["age"].sum())

    _approve_single_use(root, scientist, slow_sum)
    job = scientist.code.slow_sum(data=asset, blocking=False)
    wait_for(lambda: job.fetch().status == sy.JobStatus.PROCESSING, "the job to start")
    time.sleep(0.5)  # its worker is running the function now
    name = node.name
    node.land()
    again = sy.orchestra.launch(name=name, port="auto", verbose=False)
    try:
        ds = sy.login(url=again.url, email="ds@example.org", password="pw-ds-123", verbose=False)
        stopped = {j.id: j for j in ds.jobs}[job.id]
        assert stopped.status == sy.JobStatus.INTERRUPTED
        assert "Datasite stopped" in stopped.error
        assert "internal error" not in stopped.error
        assert stopped.execution is None
        assert ds.code.slow_sum(data=ds.datasets[0].assets[0]).get() == int(
            uploaded[0]["age"].sum()
        )
    finally:
        again.land()


# --- item 14: workers never outlive their Datasite -------------------------------------------
def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in args and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_started_as_the_server_dies_does_not_outlive_it(tmp_path):
    """The server forks a worker and dies at once, before the worker could ask to die with
    it: the worker must not start (no --die-with-parent or prctl can help it any more)."""
    marker = f"syft-orphan-{uuid.uuid4().hex}"
    script = f"""
import os, sys
from pathlib import Path
from jupyter_syft.server.execution.sandbox import Launcher
launcher = Launcher("auto", [Path({str(tmp_path)!r})])
argv = [launcher.python, "-I", "-S", "-c", "import time; time.sleep(60)", {marker!r}]
import subprocess
subprocess.Popen(launcher.command(launcher.mode, argv), stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL, **launcher.popen_kwargs({{"PATH": "/usr/bin:/bin"}}, cwd="/"))
os._exit(0)  # the server dies right after forking its worker
"""
    done = subprocess.run([sys.executable, "-c", script], timeout=HANG, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    time.sleep(1.5)  # long enough for an orphan to have started its command
    left = _processes_with(marker)
    for pid in left:
        os.kill(pid, 9)
    assert not left, "a worker outlived the server that started it"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_start_kills_workers_a_crash_left_behind_and_only_those(tmp_path):
    from jupyter_syft.server.execution.pool import owner_marker

    data_dir = tmp_path / "site"
    (data_dir / "work").mkdir(parents=True)
    ours = owner_marker(data_dir / "work")
    other = owner_marker(tmp_path / "elsewhere" / "work")
    tag = uuid.uuid4().hex

    def orphan(marker: str) -> None:
        # Double fork: the leftover is nobody's child here, as after the server's death.
        code = (
            "import subprocess, sys; subprocess.Popen([sys.executable, '-c', "
            "'import time; time.sleep(60)', 'jupyter_syft.worker', sys.argv[1], sys.argv[2]], "
            "start_new_session=True)"
        )
        subprocess.run([sys.executable, "-c", code, marker, tag], check=True, timeout=HANG)

    orphan(ours)
    orphan(other)
    wait_for(lambda: len(_processes_with(tag)) == 2, "the leftovers to start")
    site = sy.orchestra.launch(name="swept", port="auto", data_dir=data_dir, verbose=False)
    try:
        # The leftovers carry the tag; the new Datasite's own workers (started at launch)
        # carry its marker too, and stay.
        assert set(_processes_with(tag)) & set(_processes_with(ours)) == set()
        survivors = _processes_with(other)
        assert len(survivors) == 1  # another Datasite's worker is not ours to kill
    finally:
        site.land()
        for pid in _processes_with(tag):
            os.kill(pid, 9)


def test_graceful_stop_leaves_no_worker_behind(node, root, scientist, uploaded):
    from jupyter_syft.server.execution.pool import owner_marker

    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def quick(data):
        return 1

    _approve_single_use(root, scientist, quick)
    assert scientist.code.quick(data=asset).get() == 1
    marker = owner_marker(node.datasite.work_dir)
    assert _processes_with(marker)  # warm workers, named as this Datasite's
    node.land()
    wait_for(lambda: not _processes_with(marker), "the workers to end")
