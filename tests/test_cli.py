"""`jupyter-syft serve`: a standalone Datasite process, root account from env or generated."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

import jupyter_syft as sy


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path, env_extra, *extra):
    port = _free_port()
    env = {**os.environ, **env_extra}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_syft.cli",
            "serve",
            "--name",
            "cli-site",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "site"),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "serving at" in line:
            return proc, port, "".join(lines)
    proc.kill()
    raise AssertionError("server did not start:\n" + "".join(lines))


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_serve_with_root_from_env(tmp_path):
    env = {
        "JUPYTER_SYFT_ROOT_EMAIL": "owner@example.org",
        "JUPYTER_SYFT_ROOT_PASSWORD": "s3cret-pw",
    }
    proc, port, out = _serve(tmp_path, env)
    try:
        assert "s3cret-pw" not in out
        client = sy.login(port=port, email="owner@example.org", password="s3cret-pw", verbose=False)
        assert client.role == sy.ServiceRole.ADMIN and client.name == "cli-site"
        with pytest.raises(sy.SyftException):
            sy.login(port=port, email="info@openmined.org", password="changethis", verbose=False)
    finally:
        _stop(proc)


def test_serve_generates_a_password_and_prints_it_once(tmp_path):
    env = {"JUPYTER_SYFT_ROOT_PASSWORD": "", "JUPYTER_SYFT_ROOT_EMAIL": ""}
    proc, port, out = _serve(tmp_path, env)
    try:
        match = re.search(r"root account info@openmined.org with password (\S+)", out)
        assert match, out
        sy.login(port=port, email="info@openmined.org", password=match.group(1), verbose=False)
    finally:
        _stop(proc)
    proc, port, out = _serve(tmp_path, env)  # same data folder: no new password
    try:
        assert "with password" not in out
    finally:
        _stop(proc)


def test_serve_seeds_demo_data(tmp_path):
    proc, port, _ = _serve(tmp_path, {"JUPYTER_SYFT_ROOT_PASSWORD": "pw"}, "--seed-demo")
    try:
        guest = sy.login_as_guest(port=port, verbose=False)
        assert [d.name for d in guest.datasets] == ["Breast Cancer Wisconsin"]
    finally:
        _stop(proc)
