"""``jupyter-syft serve --processes N`` (hosts/processes.py): one Datasite served by N real
processes on one PostgreSQL database or SQLite file, the kernel spreading connections over
them (SO_REUSEPORT). The forwarding between a front and its primary, call by call, is
tests/test_forwarding.py."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

import jupyter_syft as sy
from jupyter_syft.wire import routes
from tests.waiting import HANG, wait_for

pytest_plugins = ["tests.postgres"]

PASSWORD = "group-root-pw"
ROOT = "info@openmined.org"
SERVE = [sys.executable, "-m", "jupyter_syft.cli", "serve"]


class Group:
    """A running ``serve --processes``: its output, read as it comes, and its processes."""

    def __init__(self, proc: subprocess.Popen[str], port: int):
        self.proc, self.port = proc, port
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def children(self) -> list[int]:
        """The supervisor's processes, oldest (the primary) first."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if int(fields[1]) == self.proc.pid:
                    found.append((int(fields[19]), int(entry.name)))
        return [pid for _, pid in sorted(found)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path, *args: str, env_extra: dict[str, str] | None = None) -> Group:
    port = free_port()
    env = {**os.environ, "JUPYTER_SYFT_ROOT_PASSWORD": PASSWORD, **(env_extra or {})}
    proc = subprocess.Popen(
        [*SERVE, "--port", str(port), "--data-dir", str(tmp_path / "site"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    return Group(proc, port)


@pytest.fixture(params=["postgresql", "sqlite"])
def group(request, tmp_path):
    # SQLite: the default file in the data folder
    db = ["--db-url", request.getfixturevalue("postgres_url")] if request.param != "sqlite" else []
    group = _start(
        tmp_path,
        "--processes",
        "3",
        *db,
        "--log-level",
        "debug",
        env_extra={"JUPYTER_SYFT_RELEASE": "on_approval"},
    )
    try:
        wait_for(lambda: "serving at" in group.output() or group.proc.poll() is not None, "start")
        assert "from 3 processes" in group.output(), group.output()
        yield group
    finally:
        if group.proc.poll() is None:
            group.proc.kill()
            for pid in group.children():
                os.kill(pid, signal.SIGKILL)
            group.proc.wait(HANG)


def _gone(pids: list[int]) -> bool:
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_a_group_of_processes_serves_one_datasite_and_stops_whole(group):
    children = group.children()
    assert len(children) == 3
    root = sy.login(url=group.url, email=ROOT, password=PASSWORD, verbose=False)
    dataset = sy.Dataset(name="Group")
    dataset.add_asset(sy.Asset(name="values", data=[1, 2, 3, 4], mock=[0, 0, 0, 0]))
    root.upload_dataset(dataset, progress=False)
    root.users.create(sy.UserCreate(email="ds@group.example", name="DS", password="ds-pass-1"))
    scientist = sy.login(
        url=group.url, email="ds@group.example", password="ds-pass-1", verbose=False
    )
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(values=asset)
    def total(values):
        return sum(values)

    scientist.code.request_code_execution(total)
    root.requests[0].approve()
    assert scientist.code.total(values=asset).get() == 10
    assert scientist.code.total(values=asset, blocking=False).wait(timeout=HANG).get() == 10

    # new connections, spread by the kernel: each process answers some (its pid in the log)
    for _ in range(40):
        requests.get(group.url + "/" + routes.API_PREFIX + routes.METADATA, timeout=HANG)
    wait_for(lambda: len(_answered_by(group, routes.METADATA)) >= 40, "the access log lines")
    assert len(set(_answered_by(group, routes.METADATA))) >= 2, group.output()[-3000:]

    group.proc.send_signal(signal.SIGTERM)
    assert group.proc.wait(HANG) == 0, group.output()[-3000:]
    group._reader.join(HANG)
    assert "Traceback" not in group.output(), group.output()[-3000:]
    wait_for(lambda: _gone(children), "every process of the group stops")


def _answered_by(group: Group, route: str) -> list[int]:
    """The pid of the process that answered each call of ``route`` (debug access log)."""
    pattern = re.compile(r"\[(\d+)\]: 200 GET /\S*" + re.escape(route) + r"\b")
    return [int(m.group(1)) for line in group.lines if (m := pattern.search(line))]


def test_a_process_that_dies_stops_the_group(group):
    children = group.children()
    os.kill(children[-1], signal.SIGKILL)  # a front
    assert group.proc.wait(HANG) == 1
    assert "stopped unexpectedly" in group.output()
    wait_for(lambda: _gone(children), "the others stop too")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--db-url", "sqlite://"], "in-memory SQLite database is each process's own"),
        (["--db-url", "sqlite:///:memory:"], "in-memory SQLite database is each process's own"),
        (["--db-url", "mysql://u@localhost/db"], "on SQLite or PostgreSQL, not mysql"),
        (["--db-url", "not a url"], "is not a database URL"),
        (["--processes", "0"], "--processes takes 1 to"),
        (["--processes", "65"], "--processes takes 1 to 64"),
        (["--processes", "many"], "takes a whole number of processes or 'auto', not 'many'"),
    ],
)
def test_a_group_that_cannot_share_its_store_is_refused_with_why(tmp_path, args, said):
    group = _start(tmp_path, "--processes", "2", *args)
    assert group.proc.wait(HANG) == 2
    group._reader.join(HANG)
    assert said in group.output() and "Traceback" not in group.output(), group.output()
    assert "serving at" not in group.output()


def test_an_unreachable_database_is_refused_before_any_process_starts(tmp_path):
    port = free_port()  # nothing listens there: the database cannot be reached
    group = _start(tmp_path, "--processes", "2", "--db-url", f"postgresql://u@127.0.0.1:{port}/db")
    assert group.proc.wait(HANG) == 2
    group._reader.join(HANG)
    assert f"127.0.0.1:{port}" in group.output() and "serving at" not in group.output()
    assert "Traceback" not in group.output()


def test_a_primary_that_cannot_start_stops_the_group_with_its_reason(tmp_path):
    missing = tmp_path / "no such folder" / "datasite.db"
    group = _start(tmp_path, "--processes", "2", "--db-url", f"sqlite:///{missing}")
    assert group.proc.wait(HANG) == 2
    group._reader.join(HANG)
    assert "Cannot open the database" in group.output(), group.output()
    assert "serving at" not in group.output() and "Traceback" not in group.output()


def test_a_taken_port_is_a_clear_error(postgres_url, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = ["--db-url", postgres_url]
        proc = subprocess.run(
            [*SERVE, "--port", str(port), "--processes", "2", "--data-dir", str(tmp_path), *db],
            capture_output=True,
            text=True,
            timeout=HANG,
        )
    assert proc.returncode == 2 and f"Cannot listen on 127.0.0.1:{port}" in proc.stderr


def test_auto_serves_from_one_process_per_core_it_may_use(tmp_path):
    cores = len(os.sched_getaffinity(0))
    group = _start(tmp_path, "--processes", "auto")
    try:
        wait_for(lambda: "serving at" in group.output() or group.proc.poll() is not None, "start")
        said = f"from {cores} processes" if cores > 1 else "(data in"
        assert said in group.output(), group.output()
        if cores > 1:  # (the group's processes; a single serve's children are its workers)
            assert len(group.children()) == cores
        assert requests.get(group.url + "/" + routes.API_PREFIX + routes.METADATA, timeout=HANG).ok
    finally:
        group.proc.send_signal(signal.SIGTERM)
        assert group.proc.wait(HANG) == 0, group.output()[-3000:]


def _role_connections(postgres_cluster, role: str) -> int:
    with postgres_cluster._admin() as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,))
        return int(row.fetchone()[0])


def test_a_group_shares_what_postgresql_allows_and_stays_within_it(
    tmp_path, postgres_cluster, limited_database
):
    url = limited_database(40)  # two processes would hold up to 2 x 62 by default
    role = url.split("://", 1)[1].split(":", 1)[0]
    group = _start(tmp_path, "--processes", "2", "--db-url", url)
    try:
        wait_for(lambda: "serving at" in group.output() or group.proc.poll() is not None, "start")
        said = group.output()
        assert "from 2 processes" in said, said
        assert "room for 40 more connections (the role's CONNECTION LIMIT is 40" in said
        assert "each holding at most 20" in said
        held = "holds at most 20 PostgreSQL connections: 12 for sessions, 6 for plain reads"
        wait_for(lambda: group.output().count(held) == 2, "each process's pools")
        root = sy.login(url=group.url, email=ROOT, password=PASSWORD, verbose=False)
        headers = {"Authorization": f"Bearer {root.session.api.connection.token}"}
        api = group.url + "/" + routes.API_PREFIX
        failures: list[str] = []
        most = [0]
        done = threading.Event()

        def call() -> None:  # new connections, so both processes get calls
            for n in range(12):
                route = routes.ME if n % 2 else routes.DATASETS
                answer = requests.get(api + route, headers=headers, timeout=HANG)
                if not answer.ok:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")

        def watch() -> None:
            while not done.is_set():
                most[0] = max(most[0], _role_connections(postgres_cluster, role))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        callers = [threading.Thread(target=call) for _ in range(24)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(HANG)
        done.set()
        watcher.join(HANG)
        assert failures == []
        assert 0 < most[0] <= 40  # (the watcher's own connection is the admin's)
    finally:
        group.proc.send_signal(signal.SIGTERM)
        assert group.proc.wait(HANG) == 0, group.output()[-3000:]


def test_a_group_without_room_in_postgresql_is_refused_with_what_to_change(
    tmp_path, limited_database
):
    group = _start(tmp_path, "--processes", "2", "--db-url", limited_database(20))
    assert group.proc.wait(HANG) == 2
    group._reader.join(HANG)
    said = group.output()
    assert "--processes 2 needs at least 32 PostgreSQL connections (16 per process)" in said
    assert "the role's CONNECTION LIMIT is 20, 0 in use" in said
    assert "use --processes 1 or fewer, or raise the limit" in said
    assert "serving at" not in said and "Traceback" not in said


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="auto is one process here")
def test_auto_takes_the_processes_postgresql_has_room_for(tmp_path, limited_database):
    cores = len(os.sched_getaffinity(0))
    group = _start(tmp_path, "--processes", "auto", "--db-url", limited_database(20))
    try:
        wait_for(lambda: "serving at" in group.output() or group.proc.poll() is not None, "start")
        said = group.output()
        assert f"1 process instead of {cores}, each holding at most 20" in said, said
        assert "from 1 process " in said
        assert len(group.children()) == 1
        assert requests.get(group.url + "/" + routes.API_PREFIX + routes.METADATA, timeout=HANG).ok
    finally:
        group.proc.send_signal(signal.SIGTERM)
        assert group.proc.wait(HANG) == 0, group.output()[-3000:]
