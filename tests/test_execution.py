"""The code runner: real worker processes, real bubblewrap, real attacks.

Every attack runs the way a Data Scientist's approved function would: as the source of one
``def``, on inputs stored in a 0700 "Datasite" folder like the real one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jupyter_syft import serde
from jupyter_syft.server.execution import CodeRunner, Limits, RunResult, RunSpec
from jupyter_syft.server.execution import sandbox as sandbox_mod
from jupyter_syft.server.execution.sandbox import SandboxUnavailable

HAS_BWRAP = shutil.which("bwrap") is not None
needs_bwrap = pytest.mark.skipif(not HAS_BWRAP, reason="bubblewrap is not installed")
AS_ROOT = os.geteuid() == 0
SECRET = "the-patients-names-are-here"
FAST = Limits(wall_seconds=20, cpu_seconds=10, memory_mb=1024, max_processes=16)

pytestmark = pytest.mark.timeout(120)


class Site:
    """A stand-in Datasite folder (mode 0700, like the real one) with a secret and inputs."""

    def __init__(self, root: Path):
        self.data_dir = root / "datasite"
        self.data_dir.mkdir(mode=0o700)
        self.secret = self.data_dir / "secret.txt"
        self.secret.write_text(SECRET)
        self.blobs = self.data_dir / "blobs"
        self.blobs.mkdir(mode=0o700)
        self.work_dir = self.data_dir / "work"
        # A hidden folder the worker's uid could read but for the sandbox (outside /tmp,
        # which the sandbox replaces anyway).
        self.open_dir = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="syft-test-"))
        self.open_dir.chmod(0o755)
        self.open_secret = self.open_dir / "secret.txt"
        self.open_secret.write_text(SECRET)
        self.open_secret.chmod(0o644)
        self._n = 0

    def put(self, value: object) -> Path:
        self._n += 1
        path = self.blobs / f"value-{self._n}.jsyf"
        with open(path, "wb") as f:
            serde.encode(value).write_to(f)
        path.chmod(0o600)
        return path

    def runner(self, sandbox: str, warm: int = 2, reserved: int = 0) -> CodeRunner:
        # No reserved workers by default: the fork-bomb tests count this uid's processes.
        return CodeRunner(
            self.work_dir,
            [self.data_dir, self.open_dir],
            warm_workers=warm,
            sandbox=sandbox,
            reserved_workers=reserved,
        )

    def cleanup(self) -> None:
        shutil.rmtree(self.open_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = Site(tmp_path_factory.mktemp("exec"))
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def bwrap_runner(site: Site) -> Iterator[CodeRunner]:
    if not HAS_BWRAP:
        pytest.skip("bubblewrap is not installed")
    with site.runner("bwrap") as runner:
        yield runner


@pytest.fixture(scope="module")
def none_runner(site: Site) -> Iterator[CodeRunner]:
    with site.runner("none") as runner:
        yield runner


@pytest.fixture(params=["bwrap", "none"])
def runner(request: pytest.FixtureRequest) -> CodeRunner:
    """Each test using it runs with and without the sandbox."""
    return request.getfixturevalue(f"{request.param}_runner")


def run(
    runner: CodeRunner, source: str, limits: Limits = FAST, name: str = "f", **inputs: Path
) -> RunResult:
    return runner.run(RunSpec(textwrap.dedent(source), name, inputs, limits, label="test"))


def value_of(result: RunResult) -> object:
    assert result.ok, (result.error_kind, result.error, result.stderr)
    assert result.result_file is not None
    try:
        return serde.decode_file(result.result_file)
    finally:
        result.result_file.unlink()


# --------------------------------------------------------------------------- normal jobs


def test_runs_a_function_on_a_dataframe(runner: CodeRunner, site: Site) -> None:
    df = site.put(pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": list("vwxyz")}))
    result = run(
        runner,
        """
        def f(df, k):
            import sys
            print("rows:", len(df))
            print("to stderr", file=sys.stderr)
            return {"sum": int(df["a"].sum()) * k, "frame": df.head(2)}
        """,
        df=df,
        k=site.put(10),
    )
    value = value_of(result)
    assert isinstance(value, dict)
    assert value["sum"] == 150
    assert list(value["frame"]["b"]) == ["v", "w"]
    assert result.stdout == "rows: 5\n"
    assert result.stderr == "to stderr\n"
    assert result.error is None and result.error_kind is None
    assert result.sandbox == runner.sandbox


def test_result_file_lives_next_to_work_dir(runner: CodeRunner, site: Site) -> None:
    result = run(runner, "def f():\n    return 42\n")
    assert result.result_file is not None
    assert result.result_file.parent.parent == site.work_dir
    assert result.result_file.stat().st_dev == site.work_dir.stat().st_dev
    assert value_of(result) == 42


def test_large_values_round_trip(runner: CodeRunner, site: Site) -> None:
    arr = np.arange(3_000_000, dtype=np.float64)  # 24 MB each way
    result = run(runner, "def f(x):\n    return x * 2\n", x=site.put(arr))
    np.testing.assert_array_equal(value_of(result), arr * 2)


def test_user_exception_shows_only_user_frames(runner: CodeRunner, site: Site) -> None:
    result = run(
        runner,
        """
        def f(df):
            def helper(n):
                return n / 0
            total = int(df["a"].sum())
            return helper(total)
        """,
        df=site.put(pd.DataFrame({"a": [1, 2]})),
    )
    assert not result.ok and result.error_kind == "user_error"
    assert result.error is not None
    assert result.error.splitlines()[0] == "ZeroDivisionError: division by zero"
    assert 'File "<syft function f>", line 6, in f' in result.error
    assert "return helper(total)" in result.error
    assert 'File "<syft function f>", line 4, in helper' in result.error
    assert "return n / 0" in result.error
    for leak in ("jupyter_syft", "worker.py", "site-packages", str(site.data_dir), '.py"'):
        assert leak not in result.error


def test_library_frames_are_left_out(runner: CodeRunner, site: Site) -> None:
    result = run(
        runner,
        "def f(df):\n    return df['missing']\n",
        df=site.put(pd.DataFrame({"a": [1]})),
    )
    assert result.error_kind == "user_error" and result.error is not None
    assert result.error.startswith("KeyError: 'missing'")
    assert "return df['missing']" in result.error
    assert "pandas" not in result.error.replace("KeyError", "")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def g():\n    return 1\n", "exactly one function definition, `def f(...):`"),
        ("def f():\n    return 1\nprint('x')\n", "exactly one function definition"),
        ("import os\ndef f():\n    return 1\n", "exactly one function definition"),
        ("@staticmethod\ndef f():\n    return 1\n", "without decorators"),
        ("async def f():\n    return 1\n", "exactly one function definition"),
        ("def f(:\n    return 1\n", "SyntaxError"),
    ],
)
def test_source_must_be_one_plain_def(none_runner: CodeRunner, source: str, message: str) -> None:
    result = run(none_runner, source)
    assert result.error_kind == "user_error" and result.error is not None
    assert message in result.error
    assert "jupyter_syft" not in result.error


def test_syntax_error_points_at_the_user_line(none_runner: CodeRunner) -> None:
    result = run(none_runner, "def f():\n    return (1 +\n")
    assert result.error is not None
    assert result.error.startswith("SyntaxError:")
    assert 'File "<syft function f>", line 2' in result.error


def test_missing_argument_is_a_user_error(none_runner: CodeRunner) -> None:
    result = run(none_runner, "def f(x):\n    return x\n")
    assert result.error_kind == "user_error" and result.error is not None
    assert "missing 1 required positional argument: 'x'" in result.error


def test_unsupported_result_is_bad_result(runner: CodeRunner) -> None:
    result = run(runner, "def f():\n    return object()\n")
    assert not result.ok and result.error_kind == "bad_result"
    assert result.error is not None and "cannot be sent back" in result.error
    assert "object" in result.error


def test_result_over_the_limit_is_refused(runner: CodeRunner) -> None:
    limits = Limits(wall_seconds=20, cpu_seconds=10, memory_mb=1024, max_result_bytes=10_000)
    result = run(runner, "def f():\n    return b'x' * 100_000\n", limits)
    assert result.error_kind == "bad_result" and result.error is not None
    assert "10,000 bytes" in result.error
    assert result.result_file is None


def test_output_is_capped(runner: CodeRunner) -> None:
    result = run(runner, "def f():\n    print('y' * (3 << 20))\n    return 1\n")
    assert value_of(result) == 1
    assert result.stdout.startswith("yyyy")
    assert len(result.stdout) < (1 << 20) + 200
    assert "output is limited to 1 MiB" in result.stdout


def test_worker_environment_is_minimal(runner: CodeRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYFT_ROOT_PASSWORD", "hunter2")
    result = run(
        runner,
        """
        def f():
            import os, tempfile
            with open(os.path.join(tempfile.gettempdir(), "scratch"), "w") as fh:
                fh.write("ok")
            return {"env": dict(os.environ), "uid": os.getuid(), "cwd": os.getcwd()}
        """,
    )
    value = value_of(result)
    assert isinstance(value, dict)
    env = value["env"]
    assert "SYFT_ROOT_PASSWORD" not in env
    assert set(env) <= {*sandbox_mod.BASE_ENV, "HOME", "TMPDIR", "PWD"}  # bwrap sets PWD
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    if AS_ROOT:
        assert value["uid"] == sandbox_mod.NOBODY


def test_libraries_import_under_the_memory_limit(runner: CodeRunner) -> None:
    limits = Limits(wall_seconds=60, cpu_seconds=30, memory_mb=1024)
    result = run(
        runner,
        """
        def f():
            import numpy as np
            from sklearn.linear_model import LinearRegression
            x = np.arange(20.0).reshape(-1, 1)
            model = LinearRegression().fit(x, 3 * x.ravel() + 1)
            return round(float(model.coef_[0]), 6)
        """,
        limits,
    )
    assert value_of(result) == 3.0


def test_exiting_the_process_is_reported(runner: CodeRunner) -> None:
    result = run(runner, "def f():\n    import os\n    os._exit(3)\n")
    assert result.error_kind == "user_error" and result.error is not None
    assert "exit status 3" in result.error


def test_invalid_specs_are_rejected(none_runner: CodeRunner) -> None:
    with pytest.raises(ValueError):
        none_runner.run(RunSpec("def f(): pass", "f f", {}))
    with pytest.raises(ValueError):
        none_runner.run(RunSpec("def f(): pass", "f", {"not a name": Path("/dev/null")}))


def test_missing_input_is_an_internal_error(none_runner: CodeRunner, site: Site) -> None:
    result = run(none_runner, "def f(x):\n    return x\n", x=site.blobs / "nope.jsyf")
    assert result.error_kind == "internal"


# --------------------------------------------------------------------------- attacks


@pytest.mark.parametrize("target", ["secret", "listing", "work"])
def test_cannot_read_the_datasite_folder(runner: CodeRunner, site: Site, target: str) -> None:
    paths = {"secret": site.secret, "listing": site.data_dir, "work": site.work_dir}
    source = f"""
    def f():
        import os
        path = {str(paths[target])!r}
        if os.path.isdir(path):
            return os.listdir(path)
        with open(path) as fh:
            return fh.read()
    """
    result = run(runner, source)
    if result.ok:  # an empty tmpfs in its place is fine
        assert value_of(result) == []
    else:
        assert result.error_kind == "user_error" and result.error is not None
        assert "PermissionError" in result.error or "FileNotFoundError" in result.error
    assert SECRET not in (result.error or "") + result.stdout + result.stderr


@needs_bwrap
def test_hidden_folder_is_hidden_even_when_readable(bwrap_runner: CodeRunner, site: Site) -> None:
    # open_dir is mode 0755 with a 0644 file: only the sandbox keeps it from the worker.
    source = f"""
    def f():
        import os
        return os.listdir({str(site.open_dir)!r})
    """
    assert value_of(run(bwrap_runner, source)) == []
    source = f"def f():\n    return open({str(site.open_secret)!r}).read()\n"
    result = run(bwrap_runner, source)
    assert result.error_kind == "user_error" and "FileNotFoundError" in (result.error or "")


@needs_bwrap
def test_no_network(bwrap_runner: CodeRunner) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    port = server.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        source = f"""
        def f():
            import socket
            with socket.create_connection(("127.0.0.1", {port}), timeout=3) as s:
                s.sendall(b"exfiltrated")
            return "connected"
        """
        result = run(bwrap_runner, source)
    finally:
        stop.set()
        thread.join()
        server.close()
    assert result.error_kind == "user_error", result
    assert "OSError" in (result.error or "") or "Error" in (result.error or "")
    assert accepted == []


def test_busy_loop_hits_the_cpu_limit(runner: CodeRunner) -> None:
    limits = Limits(wall_seconds=30, cpu_seconds=1, memory_mb=1024)
    started = time.monotonic()
    result = run(runner, "def f():\n    while True:\n        pass\n", limits)
    assert result.error_kind == "cpu_time", result
    assert result.error is not None and "CPU time limit of 1 s" in result.error
    assert time.monotonic() - started < 60  # catches a hang only


def test_sleeping_forever_hits_the_wall_limit(runner: CodeRunner) -> None:
    limits = Limits(wall_seconds=1, cpu_seconds=30, memory_mb=1024)
    started = time.monotonic()
    result = run(
        runner, "def f():\n    import time\n    print('started')\n    time.sleep(3600)\n", limits
    )
    assert result.error_kind == "timeout", result
    assert result.stdout == "started\n"  # what it printed before is kept
    assert time.monotonic() - started < 60  # catches a hang only


def _commands_of(uid: int) -> list[list[str]]:
    """argv of the live (not zombie) processes of ``uid``, bwrap itself left out."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode() for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if argv and not argv[0].endswith("bwrap"):
            found.append(argv)
    return found


def _bomb_is_gone(uid: int, seconds: float = 10) -> bool:
    """No bomb process is left: at most the module's warm workers (2 per runner, one more
    starting; under bwrap each is two processes, its sandbox's init and itself, forked from
    the runner's worker template, one more) run as ``uid``, and no ``sleep``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        commands = _commands_of(uid)
        if len(commands) <= 12 and not any("sleep" in argv[0] for argv in commands):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    "bomb",
    [
        "while True:\n        os.fork()",
        "while True:\n        subprocess.Popen(['sleep', '600'])",
        "while True:\n        try:\n            os.fork()\n        except OSError:\n            pass",
    ],
    ids=["fork", "subprocess", "stubborn-fork"],
)
def test_fork_bomb_is_contained(runner: CodeRunner, bomb: str) -> None:
    limits = Limits(wall_seconds=5, cpu_seconds=3, memory_mb=1024, max_processes=10)
    source = f"def f():\n    import os, subprocess\n    {bomb}\n"
    result = run(runner, source, limits)
    assert not result.ok
    assert result.error_kind in ("user_error", "cpu_time", "timeout", "killed"), result
    if AS_ROOT:  # otherwise the workers share the uid of everything the user runs
        assert _bomb_is_gone(sandbox_mod.NOBODY), _commands_of(sandbox_mod.NOBODY)
    subprocess.run(["true"], check=True)  # the host can still start processes


@pytest.mark.parametrize(
    "grab",
    [
        "bytearray(20 << 30)",
        "__import__('numpy').ones(20 << 27)",  # 20 GiB of float64
        "[bytearray(100 << 20) for _ in range(200)]",  # 20 GiB, 100 MB at a time
    ],
    ids=["bytearray", "numpy", "gradual"],
)
def test_allocating_20_gb_is_a_memory_error(runner: CodeRunner, grab: str) -> None:
    result = run(runner, f"def f():\n    x = {grab}\n    return len(x)\n")
    assert result.error_kind in ("memory", "killed"), result
    if result.error_kind == "memory":
        assert "MemoryError" in (result.error or "")
        assert "1024 MB" in (result.error or "")


def test_cannot_modify_the_inputs(runner: CodeRunner, site: Site) -> None:
    arr = np.arange(1000, dtype=np.int64)
    path = site.put({"arr": arr, "df": pd.DataFrame({"a": [1, 2, 3]})})
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source = f"""
    def f(x):
        import os
        tried = []
        x["arr"][:] = -1  # a private copy-on-write mapping: never reaches the file
        x["df"].iloc[0, 0] = 99
        for fd in os.listdir("/proc/self/fd"):
            try:
                with open(f"/proc/self/fd/{{fd}}", "r+b") as fh:
                    fh.write(b"JUNK")
                tried.append(("fd", fd, "WROTE"))
            except OSError as exc:
                tried.append(("fd", fd, type(exc).__name__))
        for attempt in ("open", "chmod", "unlink"):
            try:
                if attempt == "open":
                    with open({str(path)!r}, "r+b") as fh:
                        fh.write(b"JUNK")
                elif attempt == "chmod":
                    os.chmod({str(path)!r}, 0o666)
                else:
                    os.unlink({str(path)!r})
                tried.append((attempt, "", "WROTE"))
            except OSError as exc:
                tried.append((attempt, "", type(exc).__name__))
        return tried
    """
    result = run(runner, source, x=path)
    tried = value_of(result)
    assert isinstance(tried, list)
    assert ("open", "", "WROTE") not in tried and ("chmod", "", "WROTE") not in tried
    assert ("unlink", "", "WROTE") not in tried
    assert path.exists()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def test_leftover_thread_does_not_reach_the_next_job(runner: CodeRunner, site: Site) -> None:
    first = run(
        runner,
        """
        def f(x):
            import builtins, os, tempfile, threading, time
            builtins.stolen = []
            def spy():
                while True:
                    builtins.stolen.append(1)
                    with open(os.path.join(tempfile.gettempdir(), "spy.txt"), "a") as fh:
                        fh.write("spying\\n")
                    print("spy", flush=True)
                    time.sleep(0.01)
            threading.Thread(target=spy).start()  # not even a daemon
            return "left a thread"
        """,
        x=site.put(1),
    )
    assert value_of(first) == "left a thread"
    second = run(
        runner,
        """
        def f(x):
            import builtins, os, tempfile
            return [hasattr(builtins, "stolen"), "spy.txt" in os.listdir(tempfile.gettempdir()), x]
        """,
        x=site.put(2),
    )
    assert value_of(second) == [False, False, 2]
    assert "spy" not in second.stdout


def test_concurrent_runs(site: Site) -> None:
    sandbox = "bwrap" if HAS_BWRAP else "none"
    inputs = [site.put(pd.DataFrame({"a": np.arange(100) * i})) for i in range(20)]
    with site.runner(sandbox, warm=4) as runner, ThreadPoolExecutor(20) as pool:
        results = list(
            pool.map(
                lambda path: run(runner, "def f(df):\n    return int(df['a'].sum())\n", df=path),
                inputs,
            )
        )
    assert [value_of(r) for r in results] == [4950 * i for i in range(20)]


def _wait_for(condition: Callable[[], object], seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_jobs_leave_the_reserved_worker_to_blocking_calls(site: Site) -> None:
    """A background run (a job) never takes the worker reserved for blocking calls, and runs
    at a lower CPU priority; a blocking call takes the reserved one."""
    sandbox = "bwrap" if HAS_BWRAP else "none"
    source = "def f():\n    import os\n    return os.nice(0)\n"
    with site.runner(sandbox, warm=0, reserved=1) as runner:
        pool = runner._pool
        _wait_for(lambda: pool.ready_counts() == (0, 1))
        reserved = pool._reserved.ready[0]
        background = runner.run(RunSpec(source, "f", {}, FAST, label="job", background=True))
        assert value_of(background) == 10  # its own worker, started at low priority
        assert list(pool._reserved.ready) == [reserved]  # still waiting for a blocking call
        assert value_of(run(runner, source)) == 0
        assert reserved.exited() or reserved not in pool._reserved.ready


def test_a_worker_that_dies_before_taking_the_job_hands_it_on(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies after the job was sent but before it said TAKEN (its sandbox was
    killed from outside) ran none of the job's code: the job goes to another worker. One
    that dies after TAKEN is reported, never run twice (test_killing_the_template_mid_run)."""
    from jupyter_syft.server.execution import job as job_mod
    from jupyter_syft.server.execution import protocol

    real_send = job_mod.protocol.send_json
    doomed: list[int] = []

    def send_to_a_dying_worker(sock: socket.socket, kind: bytes, obj: object, fds=()) -> None:
        if kind == protocol.JOB and not doomed:
            pid = taken[-1]
            doomed.append(pid)
            os.kill(pid, signal.SIGSTOP)  # the job reaches its socket, but it never reads it
            real_send(sock, kind, obj, fds)
            os.kill(pid, signal.SIGKILL)
            return
        real_send(sock, kind, obj, fds)

    with site.runner("none", warm=1) as runner:
        taken: list[int] = []
        real_acquire = runner._pool.acquire

        def acquire(background: bool = False):  # type: ignore[no-untyped-def]
            worker = real_acquire(background)
            taken.append(worker.pid)
            return worker

        monkeypatch.setattr(runner._pool, "acquire", acquire)
        monkeypatch.setattr(job_mod.protocol, "send_json", send_to_a_dying_worker)
        result = run(runner, "def f():\n    import os\n    return os.getpid()\n")
        assert value_of(result) == taken[1] != taken[0] == doomed[0]


def test_cancel_stops_the_nested_runs_too(site: Site) -> None:
    """job.kill() on a job waiting for its nested job stops both, at once."""
    sandbox = "bwrap" if HAS_BWRAP else "none"
    nested: list[RunResult] = []
    with site.runner(sandbox, warm=1) as runner:

        def on_call(header: dict, data: bytes) -> tuple[dict, bytes]:
            sleepy = "def g():\n    import time\n    time.sleep(60)\n"
            nested.append(runner.run(RunSpec(sleepy, "g", {}, FAST, label="nested")))
            return {"ok": False, "error": "the nested job failed"}, b""

        parent = RunSpec(
            "def f(datasite):\n    return datasite.launch_job(g).result\n",
            "f",
            {},
            FAST,
            label="job 1",
            nested=("g",),
            on_call=on_call,
            background=True,
        )
        with ThreadPoolExecutor(1) as pool:
            outcome = pool.submit(runner.run, parent)
            _wait_for(lambda: runner.active_runs() == 2)
            time.sleep(0.3)  # the nested function is sleeping now
            started = time.monotonic()
            assert runner.cancel("job 1")
            result = outcome.result(timeout=30)
        assert time.monotonic() - started < 60  # catches a hang only
        assert result.error_kind == "killed" and "job.kill()" in (result.error or "")
        assert [r.error_kind for r in nested] == ["killed"]
        assert runner.active_runs() == 0
        # A label cancelled before its run starts is refused when it does, once.
        runner.cancel("job 2")
        again = RunSpec("def f():\n    return 1\n", "f", {}, FAST, label="job 2")
        assert runner.run(again).error_kind == "killed"
        assert value_of(runner.run(again)) == 1


def test_sandbox_none_is_reported(none_runner: CodeRunner) -> None:
    assert none_runner.sandbox == "none"
    result = run(none_runner, "def f():\n    return 1\n")
    assert result.sandbox == "none" and value_of(result) == 1


@needs_bwrap
def test_sandbox_bwrap_is_reported(bwrap_runner: CodeRunner) -> None:
    assert bwrap_runner.sandbox == "bwrap"


def test_without_bwrap(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sandbox_mod.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="bwrap is not installed"):
        CodeRunner(site.work_dir, sandbox="bwrap", warm_workers=0)
    monkeypatch.setattr(sandbox_mod, "_warned", False)
    with (
        caplog.at_level(logging.WARNING, logger="jupyter_syft.server"),
        CodeRunner(site.work_dir, [site.data_dir], warm_workers=0) as runner,
    ):
        assert runner.sandbox == "none"
        assert value_of(run(runner, "def f():\n    return 'cold'\n")) == "cold"
    assert "WITHOUT a sandbox" in caplog.text and "apt-get install bubblewrap" in caplog.text


def test_closed_runner_refuses_jobs(site: Site) -> None:
    runner = site.runner("none", warm=1)
    runner.close()
    with pytest.raises(RuntimeError, match="closed"):
        run(runner, "def f():\n    return 1\n")


def test_zz_normal_jobs_still_run_after_the_attacks(runner: CodeRunner, site: Site) -> None:
    df = site.put(pd.DataFrame({"a": [1, 2, 3, 4, 5]}))
    for _ in range(3):
        result = run(runner, "def f(df):\n    return int(df['a'].sum())\n", df=df)
        assert value_of(result) == 15
