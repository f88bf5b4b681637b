"""Workers forked from the warm template (execution/template.py): real bubblewrap, real
worker processes, and jobs that attack each other while both run.

Every job is the source of one ``def``, as a Data Scientist's approved function would be.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jupyter_syft import serde
from jupyter_syft.server.execution import CodeRunner, Limits, RunResult, RunSpec
from jupyter_syft.server.execution import pool as pool_mod

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed"),
]

LIMITS = Limits(wall_seconds=30, cpu_seconds=20, memory_mb=1024, max_processes=16)
SECRET = "job-a-secret-7f3c9"
TEMPLATE_MODULE = "jupyter_syft.server.execution.template"


class Site:
    """A stand-in Datasite folder (0700) with its inputs, and a runner over it."""

    def __init__(self, root: Path):
        self.data_dir = root / "datasite"
        self.data_dir.mkdir(mode=0o700)
        self.work_dir = self.data_dir / "work"
        self._n = 0

    def put(self, value: object) -> Path:
        self._n += 1
        path = self.data_dir / f"value-{self._n}.jsyf"
        with open(path, "wb") as f:
            serde.encode(value).write_to(f)
        path.chmod(0o600)
        return path

    def runner(self, warm: int = 2) -> CodeRunner:
        return CodeRunner(
            self.work_dir, [self.data_dir], warm_workers=warm, sandbox="bwrap", reserved_workers=0
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return Site(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def runner(site: Site) -> Iterator[CodeRunner]:
    with site.runner() as runner:
        template = runner._pool._template
        assert template is not None
        _wait(template.running)
        yield runner


def _wait(condition: Any, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def run(runner: CodeRunner, source: str, limits: Limits = LIMITS, **inputs: Path) -> RunResult:
    return runner.run(RunSpec(textwrap.dedent(source), "f", inputs, limits, label="test"))


def value_of(result: RunResult) -> Any:
    assert result.ok, (result.error_kind, result.error, result.stderr)
    assert result.result_file is not None
    try:
        return serde.decode_file(result.result_file)
    finally:
        result.result_file.unlink()


FORKED = """
def f():
    with open("/proc/1/cmdline", "rb") as fh:
        return fh.read().decode(errors="replace")
"""


def test_jobs_run_in_workers_forked_from_the_template(runner: CodeRunner) -> None:
    # pid 1 of the job's sandbox is its init, a fork of the template (not bwrap's own init)
    assert TEMPLATE_MODULE in value_of(run(runner, FORKED))


# A job that keeps its secret in /tmp, /dev/shm, its memory and its input while another runs.
VICTIM = f"""
def f(data):
    import os, time
    secret = "{SECRET}" + str(int(data["a"].sum()))
    for folder in ("/tmp", "/dev/shm"):
        with open(os.path.join(folder, "secret.txt"), "w") as fh:
            fh.write(secret)
    held = os.open("/tmp/secret.txt", os.O_RDONLY)  # an open descriptor, too
    time.sleep(6)
    with open("/tmp/secret.txt") as fh:
        back = fh.read()
    os.close(held)
    return {{"secret": back, "sum": int(data["a"].sum()), "pid": os.getpid()}}
"""

# Everything a job can try against a concurrent one without any privilege.
ATTACKER = f"""
def f():
    import ctypes, errno, os, signal
    found, signalled, traced = [], [], []
    libc = ctypes.CDLL(None, use_errno=True)

    def read(path, size=1 << 16):
        try:
            with open(path, "rb") as fh:
                data = fh.read(size)
        except OSError:
            return
        if b"{SECRET}" in data:
            found.append(path)

    visible = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    for folder in ("/tmp", "/dev/shm", "/proc/1/root/tmp", "/proc/1/root/dev/shm"):
        with __import__("contextlib").suppress(OSError):
            for name in os.listdir(folder):
                read(os.path.join(folder, name))
    for pid in visible:
        for name in ("environ", "cmdline", "mem", "maps"):
            read(f"/proc/{{pid}}/{{name}}")
        with __import__("contextlib").suppress(OSError):
            for fd in os.listdir(f"/proc/{{pid}}/fd"):
                read(f"/proc/{{pid}}/fd/{{fd}}")
        if pid != os.getpid():
            # PTRACE_ATTACH = 16
            if libc.ptrace(16, pid, None, None) == 0:
                traced.append(pid)
    # Kill everything this job can name: all it can see, every pid number, and -1.
    me = os.getpid()
    for pid in range(1, 1 << 15):
        if pid == me:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
        signalled.append(pid)
    try:
        os.kill(-1, signal.SIGKILL)  # "every process I may signal" (not me, not my init)
    except OSError:
        pass
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1):
        os.kill(1, sig)  # its own init ignores them all: it still reports this job's end
    userns = libc.unshare(0x10000000)  # CLONE_NEWUSER
    userns_errno = ctypes.get_errno()
    with open("/proc/self/status") as fh:
        caps = {{l.split(":")[0]: l.split()[1] for l in fh if l.startswith("Cap")}}
    return {{
        "visible": visible, "found": found, "signalled": signalled, "traced": traced,
        "userns": userns, "userns_errno": userns_errno, "caps": caps,
        "tmp": os.listdir("/tmp"), "shm": os.listdir("/dev/shm"),
    }}
"""


def test_a_job_cannot_reach_a_concurrent_one(runner: CodeRunner, site: Site) -> None:
    data = site.put(pd.DataFrame({"a": [1, 2, 3, 4]}))
    victim: dict[str, RunResult] = {}
    thread = threading.Thread(target=lambda: victim.update(r=run(runner, VICTIM, data=data)))
    thread.start()
    try:
        _wait(lambda: runner.active_runs() >= 1)
        time.sleep(1.5)  # the victim has written its secret and holds it
        attack = value_of(run(runner, ATTACKER))
    finally:
        thread.join()
    # The victim finished untouched, with its own result.
    assert value_of(victim["r"]) == {"secret": f"{SECRET}10", "sum": 10, "pid": 2}
    # The attacker saw only its own sandbox: its init (1) and itself (2).
    assert attack["visible"] == [1, 2], attack
    assert attack["found"] == [], attack
    assert attack["traced"] == [], attack
    # Only its own init can be named (and, as init, ignores the signal): nothing else exists.
    assert attack["signalled"] in ([], [1]), attack
    assert attack["userns"] == -1 and attack["userns_errno"] != 0, attack
    assert set(attack["caps"].values()) == {"0000000000000000"}, attack
    assert attack["tmp"] == [] and attack["shm"] == [], attack


def test_a_job_cannot_see_the_template(runner: CodeRunner) -> None:
    template = runner._pool._template
    assert template is not None and template._proc is not None
    value = value_of(
        run(
            runner,
            """
            def f():
                import os
                out = []
                for pid in (p for p in os.listdir("/proc") if p.isdigit()):
                    with open(f"/proc/{pid}/status") as fh:
                        out.append(fh.read().split("\\n")[0])
                return {"pids": sorted(os.listdir("/proc")), "names": out}
            """,
        )
    )
    pids = sorted(int(p) for p in value["pids"] if p.isdigit())
    assert pids == [1, 2], value


def test_nothing_is_left_from_an_earlier_job(runner: CodeRunner) -> None:
    first = """
    def f():
        import json, os, sys, numpy
        for folder in ("/tmp", "/dev/shm"):
            with open(os.path.join(folder, "left-behind"), "w") as fh:
                fh.write("x")
        json.LEFT_BEHIND = "x"  # module state
        sys.modules["left_behind"] = json
        os.environ["LEFT_BEHIND"] = "x"
        return float(numpy.random.random())
    """
    second = """
    def f():
        import json, os, sys, numpy
        return {
            "tmp": os.listdir("/tmp"), "shm": os.listdir("/dev/shm"),
            "module": hasattr(json, "LEFT_BEHIND"), "sys": "left_behind" in sys.modules,
            "env": "LEFT_BEHIND" in os.environ, "random": float(numpy.random.random()),
        }
    """
    a = value_of(run(runner, first))
    b = value_of(run(runner, second))
    assert b["tmp"] == [] and b["shm"] == [], b
    assert not b["module"] and not b["sys"] and not b["env"], b
    assert a != b["random"]  # each fork reseeds numpy: no two jobs share random numbers


def test_no_network_in_a_forked_worker(runner: CodeRunner) -> None:
    value = value_of(
        run(
            runner,
            """
            def f():
                import socket
                try:
                    socket.create_connection(("127.0.0.1", 22), timeout=2).close()
                    return "connected"
                except OSError as exc:
                    return type(exc).__name__
            """,
        )
    )
    assert value != "connected"


def test_limits_hold_in_a_forked_worker(runner: CodeRunner) -> None:
    memory = run(runner, "def f():\n    x = bytearray(4 << 30)\n    return len(x)\n")
    assert memory.error_kind in ("memory", "killed"), memory
    cpu = run(
        runner,
        "def f():\n    while True:\n        pass\n",
        Limits(wall_seconds=30, cpu_seconds=1, memory_mb=1024, max_processes=16),
    )
    assert cpu.error_kind == "cpu_time", cpu
    # Processes: threads until the limit refuses one (a bounded loop, not a fork bomb). The
    # job has its own user namespace, so only its own tasks count against it.
    threads = value_of(
        run(
            runner,
            """
            def f():
                import threading
                stop = threading.Event()
                started = []
                for _ in range(64):
                    t = threading.Thread(target=stop.wait)
                    try:
                        t.start()
                    except RuntimeError:
                        break
                    started.append(t)
                stop.set()
                for t in started:
                    t.join()
                return len(started)
            """,
            Limits(wall_seconds=30, cpu_seconds=20, memory_mb=1024, max_processes=8),
        )
    )
    assert 1 <= threads <= 8


def test_killing_the_template_mid_run(site: Site) -> None:
    data = site.put(pd.DataFrame({"a": [1, 2]}))
    with site.runner(warm=1) as runner:
        template = runner._pool._template
        assert template is not None
        _wait(template.running)
        _wait(lambda: runner._pool.ready_counts()[0] >= 1)
        results: dict[str, RunResult] = {}
        source = "def f(data):\n    import time\n    time.sleep(20)\n    return 1\n"
        thread = threading.Thread(target=lambda: results.update(r=run(runner, source, data=data)))
        thread.start()
        _wait(lambda: runner.active_runs() >= 1)
        time.sleep(0.5)
        proc = template._proc
        assert proc is not None
        os.killpg(proc.pid, signal.SIGKILL)  # the template's bwrap, and with it its sandbox
        thread.join(60)
        killed = results["r"]
        assert killed.error_kind == "killed", killed
        assert "stopped from outside" in (killed.error or ""), killed
        # The next job works (forked from a restarted template, or started the usual way).
        assert (
            value_of(run(runner, "def f(data):\n    return int(data['a'].sum())\n", data=data)) == 3
        )
        _wait(template.running)
        # Workers started during the outage were spawned; once they are used up, the
        # restarted template forks again.
        cmdlines = [value_of(run(runner, FORKED)) for _ in range(4)]
        assert any(TEMPLATE_MODULE in c for c in cmdlines), cmdlines


def test_without_the_template(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_SYFT_WORKER_TEMPLATE", "0")
    with site.runner(warm=1) as runner:
        assert runner._pool._template is None
        cmdline = value_of(run(runner, FORKED))
    assert TEMPLATE_MODULE not in cmdline and "bwrap" in cmdline


def test_a_broken_template_falls_back(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    # A template that cannot start (here: a module that does not exist) never fails a job.
    monkeypatch.setattr(pool_mod, "TEMPLATE_MODULE", "jupyter_syft.no_such_template")
    with site.runner(warm=0) as runner:
        cmdline = value_of(run(runner, FORKED))
        template = runner._pool._template
        assert template is not None and not template.running()
    assert "bwrap" in cmdline


def test_a_forked_worker_is_cleaned_up(site: Site) -> None:
    """The job's whole sandbox ends with it: its init reports, nothing stays."""
    with contextlib.ExitStack() as stack:
        launcher_site = stack.enter_context(site.runner(warm=0))
        template = launcher_site._pool._template
        assert template is not None
        _wait(template.running)
        worker = template.fork()
        assert isinstance(worker.proc, pool_mod.ForkedProcess)
        pid = worker.pid
        assert Path(f"/proc/{pid}").exists()
        worker.kill()
        assert worker.proc.returncode is not None
        _wait(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), 10)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
