"""A throwaway PostgreSQL cluster for the tests, and fixtures that hand out fresh databases.

The session starts its own cluster (initdb into a temp folder, a free loopback port, its
socket in that folder), so nothing depends on a system PostgreSQL being set up or running.
Without PostgreSQL installed the PostgreSQL tests are skipped here, but fail in CI (CI=true):
a broken install must not pass silently.

Use the fixtures by listing this module in ``pytest_plugins`` (of a test module or the root
conftest): ``postgres_cluster`` (session), ``postgres_url`` (a fresh database per test, dropped
afterwards) and ``postgres_everywhere`` (every Datasite the test launches without a ``db_url``
gets a PostgreSQL database instead of SQLite).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PG_USER = "syft"  # the cluster's superuser, with a random password (scram over TCP)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def find_bindir() -> Path | None:
    """The folder with initdb/pg_ctl: $PG_BINDIR, Debian's newest, or on PATH."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(
        (Path(p) for p in versions),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """initdb + pg_ctl in a temp folder; as the ``postgres`` user when run as root."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.password = secrets.token_urlsafe(16)
        self.port = 0
        self.base = Path(tempfile.mkdtemp(prefix="jupyter-syft-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.base, ignore_errors=True)
                raise RuntimeError("running as root, and there is no 'postgres' user") from None
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
            self._as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}

    def _run(self, *args: str | Path, timeout: float = 60) -> None:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
            **self._as,
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}\n{log}"
            )

    def start(self) -> None:
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as:
            os.chown(pwfile, self._as["user"], self._as["group"])
        self._run(
            self.bindir / "initdb",
            "-D",
            self.data,
            "-U",
            PG_USER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-instructions",
            "--no-sync",
        )
        pwfile.unlink()
        # Durability is not wanted from a cluster that lives for one test session: skip fsyncs.
        settings = (
            "-c listen_addresses=127.0.0.1 -c unix_socket_directories={sock} -p {port} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        for attempt in range(5):  # the free port may be taken between probing and binding
            self.port = free_port()
            options = settings.format(sock=self.base, port=self.port)
            try:
                self._run(
                    self.bindir / "pg_ctl",
                    "-D",
                    self.data,
                    "-l",
                    self.log,
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                    timeout=90,
                )
                return
            except RuntimeError:
                if attempt == 4:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of this test session (skipped locally without PostgreSQL)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("the psycopg driver is not installed (pip install 'psycopg[binary]')")
    bindir = find_bindir()
    if bindir is None:
        unavailable(
            "initdb/pg_ctl not found (apt-get install postgresql, or set PG_BINDIR to their folder)"
        )
    assert bindir is not None
    try:
        cluster = PostgresCluster(bindir)
    except RuntimeError as exc:
        unavailable(str(exc))
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        cluster.stop()
        # Installed but not startable is a real failure, locally too.
        pytest.fail(f"Cannot start a throwaway PostgreSQL cluster: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """``postgresql://user:password@127.0.0.1:port/t_<uuid>``: an empty database for one test."""
    name = postgres_cluster.create_database()
    yield postgres_cluster.url(name)
    postgres_cluster.drop_database(name)


@pytest.fixture
def limited_database(postgres_cluster: PostgresCluster) -> Iterator[Callable[[int], str]]:
    """``make(limit)``: the URL of a new database owned by a new role (not a superuser) that
    may hold ``limit`` connections at once (its CONNECTION LIMIT); both dropped after."""
    made: list[str] = []

    def make(limit: int) -> str:
        name = f"limited_{uuid.uuid4().hex[:12]}"
        with postgres_cluster._admin() as conn:
            conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw-{name}' CONNECTION LIMIT {limit}")
            conn.execute(f"CREATE DATABASE {name} OWNER {name}")
        made.append(name)
        return f"postgresql://{name}:pw-{name}@127.0.0.1:{postgres_cluster.port}/{name}"

    yield make
    with postgres_cluster._admin() as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.fixture
def postgres_everywhere(
    postgres_cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Make ``sy.orchestra.launch`` without ``db_url`` use PostgreSQL: one database per name,
    replaced by an empty one on ``reset=True`` (as the data folder is), dropped after the test.
    """
    import sys

    import jupyter_syft.orchestra  # noqa: F401  (the module, not the sy.orchestra attribute)

    orchestra = sys.modules["jupyter_syft.orchestra"]
    launch = orchestra.launch
    databases: dict[str, str] = {}

    def launch_on_postgres(name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("db_url") is None:
            key = name or "datasite"
            if kwargs.get("reset") or key not in databases:
                if key in databases:
                    running = orchestra._running.get(key)
                    if running is not None:
                        running.land()  # launch would land it anyway; free its connections
                    postgres_cluster.drop_database(databases.pop(key))
                databases[key] = postgres_cluster.create_database()
            kwargs["db_url"] = postgres_cluster.url(databases[key])
        return launch(name, *args, **kwargs)

    monkeypatch.setattr(orchestra, "launch", launch_on_postgres)
    monkeypatch.setattr(orchestra.orchestra, "launch", launch_on_postgres)
    yield
    monkeypatch.undo()
    for database in databases.values():
        postgres_cluster.drop_database(database)
