"""Helpers the benchmarks share: fresh interpreters, a standalone Datasite, fresh Syft functions.

Only public client API and the ``jupyter-syft serve`` command line: the benchmarks run against
any checkout of jupyter_syft (its own venv's Python, run from its folder).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OWNER_EMAIL = "info@openmined.org"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # Measure what users get: bytecode cached (an installed package has it). Some shells set
    # PYTHONDONTWRITEBYTECODE, which would make every run recompile our modules.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("JUPYTER_SYFT_HOME", tempfile.mkdtemp(prefix="bench-"))
    return {**env, **(extra or {})}


def run_child(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object on its last line."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=child_env(env),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


class StandaloneDatasite:
    """``jupyter-syft serve`` in a process of its own on loopback, in a throwaway folder."""

    def __init__(
        self,
        password: str,
        db_url: str | None = None,
        extra_args: list[str] | None = None,
        name: str = "bench",
        env: dict[str, str] | None = None,
    ):
        self.folder = tempfile.TemporaryDirectory(prefix="bench-serve-")
        cmd = [sys.executable, "-m", "jupyter_syft.cli", "serve", "--name", name, "--port", "0"]
        cmd += ["--data-dir", self.folder.name]
        if db_url:
            cmd += ["--db-url", db_url]
        cmd += extra_args or []
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=child_env(
                {"JUPYTER_SYFT_ROOT_PASSWORD": password, "TQDM_DISABLE": "1", **(env or {})}
            ),
        )
        assert self.proc.stdout is not None
        seen = []
        for line in self.proc.stdout:
            seen.append(line)
            if "serving at" in line:
                self.port = int(line.split("serving at http://")[1].split()[0].rsplit(":", 1)[1])
                self.url = f"http://127.0.0.1:{self.port}"
                # keep reading, so that a chatty server never blocks on a full pipe
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                return
        self.close()
        raise RuntimeError("the Datasite did not start:\n" + "".join(seen))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.folder.cleanup()

    def __enter__(self) -> StandaloneDatasite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def syft_function(name: str, body: str, decorator: Any) -> Any:
    """A fresh Syft function ``name(data): return body`` under ``decorator`` (e.g.
    ``sy.syft_function_single_use(data=asset)``): its own name and source, so each one is a
    new request."""
    import linecache
    import types

    source = f"def {name}(data):\n    return {body}\n"
    filename = f"<bench {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    func = types.FunctionType(code.co_consts[0], {"__builtins__": __builtins__}, name)
    with contextlib.redirect_stdout(io.StringIO()):  # the decorator's "created" message
        return decorator(func)


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (0-100) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- CPU accounting (Linux /proc) ----------------------------------------------------------------
def process_cpu_s(pid: int) -> float:
    """CPU seconds process ``pid`` has used so far (user + system, all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (a ``serve --processes`` group's), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def group_cpu_s(pids: list[int]) -> float:
    """CPU seconds of these processes (those that have ended count nothing)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += process_cpu_s(pid)
    return total


def machine_busy_s() -> float:
    """CPU seconds all cores have spent busy so far (every process, the kernel included)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


class CpuSampler:
    """Samples the machine's busy CPU and one process's CPU every ``every`` seconds, on
    ``time.monotonic()`` (the same clock in every process), so a window that other processes
    timed can be read afterwards: ``between(start, end)``. ``group``: the process and the
    processes it started (``serve --processes``: its supervisor and the group)."""

    def __init__(self, pid: int, every: float = 0.25, group: bool = False):
        self.pid, self.every = pid, every
        self.pids = [pid, *children(pid)] if group else [pid]
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import time

        while True:
            with contextlib.suppress(OSError):  # (the process may have ended)
                self.samples.append((time.monotonic(), machine_busy_s(), group_cpu_s(self.pids)))
            if self._stop.wait(self.every):
                return

    def between(self, start: float, end: float) -> tuple[float, float, float]:
        """(machine busy CPU s, the process's CPU s, seconds) over the samples inside
        ``[start, end]`` (zeros when fewer than two fall in it)."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return 0.0, 0.0, 0.0
        (t0, busy0, cpu0), (t1, busy1, cpu1) = inside[0], inside[-1]
        return busy1 - busy0, cpu1 - cpu0, t1 - t0
