"""Fault injection: a standalone Datasite killed with SIGKILL mid-upload, mid-run and
mid-approval, then started again on the same data folder. What comes back must be whole:
nothing half-visible, no leftovers after collection, no worker of the old process alive, the
cut-off job interrupted and its single-use run available again."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import jupyter_syft as sy
from tests.waiting import HANG, wait_for

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="kills processes and reads /proc"
)
ROOT_EMAIL, ROOT_PASSWORD = "owner@example.org", "fault-pw-1"
DS_EMAIL, DS_PASSWORD = "ds@example.org", "pw-ds-123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_SYFT_ROOT_EMAIL": ROOT_EMAIL,
        "JUPYTER_SYFT_ROOT_PASSWORD": ROOT_PASSWORD,
        # What this test checks is a restart, not output review: results go out on approval
        # (a served Datasite's default, "checked", would hold the lone sum it fetches).
        "JUPYTER_SYFT_RELEASE": "on_approval",
    }
    env.pop("JUPYTER_SYFT_DB_URL", None)  # SQLite in the data folder: it survives the kill
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "jupyter_syft.cli", "serve", "--name", "faulty"),
            *("--port", str(port), "--data-dir", str(data_dir)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    deadline = time.monotonic() + HANG
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "serving at" in line:
            # Keep reading its output, so that it never blocks on a full pipe.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, port
    proc.kill()
    raise AssertionError("the Datasite did not start:\n" + "".join(lines))


def _ancestors(pid: int) -> set[int]:
    found = set()
    while pid > 1 and pid not in found:
        found.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return found


def _workers_of(data_dir: Path, outside: int | None = None) -> list[int]:
    """Live processes whose command line names this Datasite (its worker marker or its data
    folder), the ones descending from ``outside`` excepted."""
    names = {str(data_dir).encode()}  # under bwrap: its hidden folders, on bwrap's command line
    with contextlib.suppress(ImportError):
        from jupyter_syft.server.execution.pool import owner_marker

        names.add(owner_marker(data_dir / "work").encode())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z" or not any(any(n in a for n in names) for a in args):
            continue
        if b"jupyter_syft.cli" in args:  # a Datasite process itself, not a worker
            continue
        if outside is not None and outside in _ancestors(int(entry.name)):
            continue
        found.append(int(entry.name))
    return found


def _start_upload(port: int, token: str, total: int, sent: int) -> http.client.HTTPConnection:
    """Begin an upload of ``total`` bytes and send only the first ``sent``."""
    import numpy as np

    from jupyter_syft import serde

    body = serde.dumps(np.zeros(total // 8, dtype="float64"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG)
    conn.putrequest("POST", "/syft/api/v1/blobs")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", "application/vnd.jupyter-syft.value")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    conn.send(body[:sent])
    return conn


def test_kill_9_mid_upload_mid_run_mid_approval_and_restart(tmp_path, frames):
    data_dir = (tmp_path / "site").resolve()
    approver: threading.Thread | None = None
    upload: http.client.HTTPConnection | None = None
    proc, port = _serve(data_dir)
    try:
        root = sy.login(port=port, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        root.users.create(
            sy.UserCreate(
                email=DS_EMAIL,
                name="Dana",
                password=DS_PASSWORD,
                role=sy.ServiceRole.DATA_SCIENTIST,
            )
        )
        private, mock = frames
        dataset = sy.Dataset(
            name="Patients", asset_list=[sy.Asset(name="t", data=private, mock=mock)]
        )
        root.upload_dataset(dataset, progress=False)
        ds = sy.login(port=port, email=DS_EMAIL, password=DS_PASSWORD, verbose=False)
        asset = ds.datasets[0].assets[0]

        @sy.syft_function_single_use(data=asset)
        def slow_total(data):
            import time

            time.sleep(3)
            return int(data["age"].sum())

        @sy.syft_function_single_use(data=asset)
        def row_count(data):
            return len(data)

        ds.code.request_code_execution(slow_total)
        ds.code.request_code_execution(row_count)
        requests = {r.code.service_func_name: r for r in root.requests}
        requests["slow_total"].approve()

        # Mid-run: the single-use job is running on the private data.
        job = ds.code.slow_total(data=asset, blocking=False)
        wait_for(lambda: job.fetch().status == sy.JobStatus.PROCESSING, "the job to run")
        time.sleep(0.5)
        # Mid-upload: 8 MB of a 40 MB value sent.
        upload = _start_upload(port, root.connection.token, 40 << 20, 8 << 20)
        wait_for(lambda: list((data_dir / "blobs" / "tmp").glob("*.part")), "the upload")
        # Mid-approval: the kill lands while the owner's approval is on its way.
        approver = threading.Thread(target=_quietly, args=(requests["row_count"].approve,))
        approver.start()
        time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(HANG)
    if approver is not None:
        approver.join(HANG)
    if upload is not None:
        upload.close()

    proc, port = _serve(data_dir)
    try:
        # No worker of the killed Datasite is left (the new one has started none yet).
        assert _workers_of(data_dir, outside=proc.pid) == []
        root = sy.login(port=port, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        ds = sy.login(port=port, email=DS_EMAIL, password=DS_PASSWORD, verbose=False)

        # Nothing half-visible: the one dataset, whole; the cut-off upload left no value.
        assert [d.name for d in root.datasets] == ["Patients"]
        assert root.datasets[0].assets[0].data.equals(private)
        assert not list((data_dir / "blobs" / "tmp").iterdir())
        # The approval happened or did not, as a whole.
        request = {r.code.service_func_name: r for r in root.requests}["row_count"]
        code = {c.service_func_name: c for c in ds.code}["row_count"]
        states = (request.status.name.lower(), code.status.lower())
        assert states in (("pending", "pending"), ("approved", "approved")), states

        # The cut-off job is interrupted; its single-use run is available again.
        cut_off = {j.id: j for j in ds.jobs}[job.id]
        assert cut_off.status == sy.JobStatus.INTERRUPTED
        again = ds.code.slow_total(data=ds.datasets[0].assets[0])
        assert again.get() == int(private["age"].sum())

        # After the start's collection: no leftovers of what the kill cut off.
        work = data_dir / "work"
        wait_for(
            lambda: not list(work.glob("args-*")) and not list(work.glob("results/*.partial")),
            "the leftovers to be collected",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(HANG) == 0
    wait_for(lambda: not _workers_of(data_dir), "the workers to end")


def _quietly(call) -> None:
    with contextlib.suppress(Exception):  # the server died under it: that is the point
        call()
