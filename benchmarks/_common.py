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
