"""``sy.login_local()`` outside a kernel its JupyterLab started: it joins the only JupyterLab
Datasite running, refuses to guess among several, and joins the one named by ``url=``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import jupyter_syft as sy
from jupyter_syft import local_session


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv(local_session.ENV_VAR, raising=False)
    return tmp_path


@pytest.fixture
def other_process() -> Iterator[int]:
    """A live process that is not this one (a second 'JupyterLab')."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def _lab(runtime: Path, pid: int, url: str) -> Path:
    path = local_session.connection_file(runtime, pid)
    local_session.write(path, {"url": url, "token": "t", "pid": pid})
    return path


def test_the_only_running_datasite_is_joined_and_named(runtime: Path) -> None:
    _lab(runtime, os.getpid(), "http://127.0.0.1:8888/")
    _lab(runtime, 2**22 + 7, "http://127.0.0.1:9999/")  # its JupyterLab has stopped
    info = local_session.find()
    assert info["url"] == "http://127.0.0.1:8888/"
    assert "only JupyterLab Datasite running" in info["how"]


def test_several_running_are_refused_unless_one_is_named(runtime: Path, other_process: int) -> None:
    _lab(runtime, os.getpid(), "http://127.0.0.1:8888/")
    _lab(runtime, other_process, "http://127.0.0.1:8890/lab-b/")
    with pytest.raises(sy.SyftException) as info:
        local_session.find()
    message = str(info.value)
    assert "several JupyterLab Datasites" in message and "login_local(url=...)" in message
    assert "http://127.0.0.1:8888/" in message and "http://127.0.0.1:8890/lab-b/" in message
    chosen = local_session.find(url="http://127.0.0.1:8890/lab-b")  # trailing slash optional
    assert chosen["pid"] == other_process and chosen["how"] == "the URL you gave"
    with pytest.raises(sy.SyftException, match=r"No JupyterLab Datasite at http://x.*Running:"):
        local_session.find(url="http://x:1/")
    with pytest.raises(sy.SyftException, match="takes the URL"):
        local_session.find(url="")
    with pytest.raises(sy.SyftException, match="takes the URL"):
        local_session.find(url="h" * 5000)


def test_the_kernels_own_jupyterlab_wins(
    runtime: Path, other_process: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lab(runtime, other_process, "http://127.0.0.1:8890/")
    mine = _lab(runtime, os.getpid(), "http://127.0.0.1:8888/")
    monkeypatch.setenv(local_session.ENV_VAR, str(mine))
    info = local_session.find()
    assert info["url"] == "http://127.0.0.1:8888/" and "started this kernel" in info["how"]


def test_none_running_says_what_to_do(runtime: Path) -> None:
    with pytest.raises(sy.SyftException, match=r"sy\.login\(url=\.\.\."):
        sy.login_local()


def test_login_local_refuses_to_guess(runtime: Path, other_process: int) -> None:
    _lab(runtime, os.getpid(), "http://127.0.0.1:8888/")
    _lab(runtime, other_process, "http://127.0.0.1:8890/")
    with pytest.raises(sy.SyftException, match="Say which"):
        sy.login_local(verbose=False)
