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


def _access_lines(out, path):
    return [line for line in out.splitlines() if "tornado.access" in line and path in line]


@pytest.mark.parametrize("level", [None, "debug"])
def test_serve_logs_refused_calls_and_successful_ones_only_at_debug(tmp_path, level):
    """Like Jupyter Server: a call that went well is a DEBUG line (most of the traffic, and
    what changed something is in the audit log); a refused one is a WARNING at any level."""
    extra = ("--log-level", level) if level else ()
    proc, port, _ = _serve(tmp_path, {"JUPYTER_SYFT_ROOT_PASSWORD": "pw"}, *extra)
    try:
        guest = sy.login_as_guest(port=port, verbose=False)
        assert guest.name == "cli-site"  # answered 200
        with pytest.raises(sy.SyftException):
            sy.login(port=port, email="nobody@example.org", password="wrong", verbose=False)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    refused = _access_lines(out, "/login")
    assert refused and all(" WARNING " in line and " 401 " in line for line in refused), out
    answered = _access_lines(out, "/metadata")
    if level == "debug":
        assert answered and all(" DEBUG " in line for line in answered), out
    else:
        assert answered == [], out


def test_serve_refuses_an_unknown_log_level(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_syft.cli", "serve", "--log-level", "loud"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "invalid choice: 'loud'" in done.stderr
