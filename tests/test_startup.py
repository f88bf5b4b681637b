"""Start-up work out of the users' requests (issue #18): the code runner (sandbox probe, warm
workers) starts in the background, from sy.orchestra.launch before it opens the store and from
the other hosts once they serve; bytecode is compiled for the workers (who run with -B)."""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import jupyter_syft as sy
from jupyter_syft.errors import SyftException
from jupyter_syft.server import bytecode
from jupyter_syft.server.datasite import Datasite, DatasiteConfig
from jupyter_syft.server.execution import runner as runner_module
from jupyter_syft.server.services.errors import Unavailable
from tests.conftest import ROOT_EMAIL, ROOT_PASSWORD

HANG = 120  # seconds: far beyond any start, only so that a hang fails instead of waiting


def _approved(node, root):
    """A scientist with a function on the uploaded asset, submitted and approved."""
    root.users.create(sy.UserCreate(email="sci@example.org", name="Sci", password="pw-sci-123"))
    scientist = sy.login(
        url=node.url, email="sci@example.org", password="pw-sci-123", verbose=False
    )
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def mean_age(data):
        return float(data["age"].mean())

    scientist.code.request_code_execution(mean_age)
    root.requests[-1].approve()
    return scientist, asset


def test_launch_returns_while_the_code_runner_starts_and_the_first_run_waits_for_that_start(
    monkeypatch, frames
):
    private, mock = frames
    release = threading.Event()
    started = []
    original = runner_module.CodeRunner.__init__

    def held_start(self, *args, **kwargs):
        started.append(threading.current_thread().name)
        assert release.wait(HANG), "the test never released the runner's start"
        original(self, *args, **kwargs)

    monkeypatch.setattr(runner_module.CodeRunner, "__init__", held_start)
    node = sy.orchestra.launch(name="held-start", port="auto", reset=True, verbose=False)
    try:
        # launch returned although the runner (probe, warm workers) has not started yet
        assert started == ["syft-runner-start"]
        assert node.datasite._runner is None
        root = node.login(email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        dataset = sy.Dataset(name="Patients")
        dataset.add_asset(sy.Asset(name="table", data=private, mock=mock))
        root.upload_dataset(dataset, progress=False)  # served while the runner is held

        threading.Timer(0.5, release.set).start()  # the submit below waits for this start
        scientist, asset = _approved(node, root)
        assert scientist.code.mean_age(data=asset).get() == pytest.approx(private["age"].mean())
        assert started == ["syft-runner-start"]  # one start, never a second one in a request
    finally:
        release.set()
        node.land()


def test_land_while_the_runner_still_starts_stops_it_too(monkeypatch):
    release = threading.Event()
    original = runner_module.CodeRunner.__init__
    made = []

    def held_start(self, *args, **kwargs):
        assert release.wait(HANG)
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(runner_module.CodeRunner, "__init__", held_start)
    node = sy.orchestra.launch(name="land-early", port="auto", reset=True, verbose=False)
    threading.Timer(0.3, release.set).start()
    node.land()  # waits for the start, then closes the runner it made
    assert len(made) == 1
    assert made[0]._closed


def test_a_failed_background_start_says_why_on_the_first_run(monkeypatch, tmp_path):
    # sandbox="bwrap" demanded where there is no bwrap: the start in the background fails;
    # the first call that needs the runner gets the reason, promptly (no hang).
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    datasite = Datasite(DatasiteConfig(name="no-bwrap", data_dir=tmp_path / "ds", sandbox="bwrap"))
    try:
        datasite.start_background()
        begun = time.monotonic()
        with pytest.raises(Unavailable, match="bwrap is not installed"):
            datasite.runner()
        with pytest.raises(Unavailable, match="bwrap is not installed"):  # and again
            datasite.runner()
        assert time.monotonic() - begun < HANG
    finally:
        datasite.close()


def test_a_run_on_a_datasite_that_cannot_start_workers_is_a_clear_error(
    monkeypatch, node, root, uploaded
):
    # The same through HTTP: the scientist's submit (which needs the runner) says why.
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    datasite = node.datasite
    with datasite._runner_lock:  # as if the Datasite had been opened with sandbox="bwrap"
        start, datasite._start = datasite._start, None
        runner, datasite._runner = datasite._runner, None
        datasite.config.sandbox = "bwrap"
    for item in (start.result() if start is not None else None, runner):
        if item is not None:
            item.close()
    root.users.create(sy.UserCreate(email="sci@example.org", name="Sci", password="pw-sci-123"))
    scientist = sy.login(
        url=node.url, email="sci@example.org", password="pw-sci-123", verbose=False
    )
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def count(data):
        return len(data)

    with pytest.raises(SyftException, match="bwrap is not installed"):  # at submit or run
        scientist.code.request_code_execution(count)
        root.requests[-1].approve()
        scientist.code.count(data=asset).get()


def test_a_host_without_early_start_starts_the_runner_once_in_the_background(tmp_path):
    datasite = Datasite(DatasiteConfig(name="served", data_dir=tmp_path / "ds"))
    try:
        assert datasite._start is None and datasite._runner is None  # nothing until served
        datasite.start_background()
        first = datasite._start
        datasite.start_background()  # idempotent
        assert datasite._start is first
        runner = datasite.runner()
        assert datasite.runner() is runner
        datasite.start_background()  # already started: nothing new
        assert datasite._start is None
    finally:
        datasite.close()


def _loaded_by(imports: str, watched: set[str]) -> list[str]:
    """Which of ``watched`` a fresh interpreter has loaded after running ``imports``."""
    code = f"import sys\n{imports}\nprint(sorted(set({sorted(watched)!r}) & set(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=HANG
    )
    return ast.literal_eval(done.stdout.strip())


def test_the_early_start_module_imports_nothing_heavy():
    # launch starts the runner before it imports the store and the server: that only helps
    # if importing the starter does not pull them in.
    heavy = {"sqlalchemy", "sqlmodel", "tornado", "pydantic", "pandas", "pyarrow", "numpy"}
    assert _loaded_by("import jupyter_syft.server.startup", heavy) == []


def test_the_server_imports_no_data_library_until_it_needs_one():
    # What a Datasite needs to answer its first request: the data libraries (~0.5 s) are
    # imported by the first upload, preview or run, not by the start of `jupyter-syft serve`,
    # of the extension, or of a script's launch before it imports pandas itself.
    imports = (
        "import jupyter_syft.server.datasite, jupyter_syft.hosts.standalone\n"
        "import jupyter_syft.hosts.orchestra, jupyter_syft.server.security"
    )
    later = {"pandas", "numpy", "pyarrow", "packaging", "jupyter_syft.disclosure"}
    assert _loaded_by(imports, later) == []


# --- bytecode ----------------------------------------------------------------------------------
def _package(tmp_path: Path) -> Path:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("X = 1\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "mod.py").write_text("def f():\n    return 2\n")
    return package


def test_stale_modules_are_compiled_in_the_background_readable_by_other_users(tmp_path):
    package = _package(tmp_path)
    assert len(bytecode.stale_modules(package)) == 3
    old_umask = os.umask(0o077)  # the server's umask must not make them private to it
    try:
        proc = bytecode.compile_stale(package)
    finally:
        os.umask(old_umask)
    assert proc is not None
    assert proc.wait(HANG) == 0
    assert bytecode.stale_modules(package) == []
    for pyc in package.rglob("*.pyc"):
        assert pyc.stat().st_mode & stat.S_IROTH, pyc
        assert pyc.parent.stat().st_mode & stat.S_IXOTH, pyc.parent
    assert bytecode.compile_stale(package) is None  # nothing stale: no process

    (package / "sub" / "mod.py").write_text("def f():\n    return 3  # edited\n")
    assert bytecode.stale_modules(package) == [package / "sub" / "mod.py"]


def test_a_package_folder_we_may_not_write_is_left_alone(tmp_path, monkeypatch):
    package = _package(tmp_path)
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    assert bytecode.compile_stale(package) is None
    assert list(package.rglob("*.pyc")) == []


def test_workers_load_jupyter_syft_from_its_compiled_files():
    # Workers run python -I -B (as uid 65534 when root): they must find the .pyc files the
    # package ships with (setup.sh compiles them) and be able to read them.
    proc = bytecode.compile_stale()
    if proc is not None:
        assert proc.wait(HANG) == 0
    assert bytecode.stale_modules() == []
    argv = [sys.executable, "-I", "-B", "-v", "-c", "import jupyter_syft.server.execution.worker"]
    if os.geteuid() == 0 and shutil.which("setpriv"):
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=HANG, cwd="/")
    assert done.returncode == 0, done.stderr[-2000:]
    ours = [line for line in done.stderr.splitlines() if "jupyter_syft" in line]
    from_source = [line for line in ours if "code object from" in line and ".pyc" not in line]
    from_pyc = [line for line in ours if "code object from" in line and ".pyc" in line]
    assert from_pyc, ours[:20]
    assert from_source == []


# --- the default environment's lock hash -----------------------------------------------------
def test_the_default_lock_reads_the_same_pins_as_the_full_metadata():
    # distributions_lock reads only the header lines; it must pin exactly what parsing each
    # distribution's whole metadata (dist.metadata, dist.version) gives.
    from importlib import metadata

    from jupyter_syft.env_lock import distributions_lock, normalize, pin_lines

    pins: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            pins.setdefault(normalize(name), dist.version)
    text, _ = distributions_lock()
    assert text == "".join(f"{line}\n" for line in pin_lines(pins))
    assert "jupyter-syft==" in text


def test_a_folded_or_missing_header_is_read_as_the_email_parser_reads_it(tmp_path):
    from importlib import metadata

    from jupyter_syft.env_lock import _name_and_version

    cases = {
        "plain": "Metadata-Version: 2.1\nName: plain-pkg\nVersion: 1.2.3\n\nbody\n",
        "folded": "Metadata-Version: 2.1\nName: folded\n  -pkg\nVersion: 2.0\n",
        "no-version": "Metadata-Version: 2.1\nName: no-version\n",
        "late": "Metadata-Version: 2.1\nSummary: x\n\nName: not-a-header\nVersion: 9\n",
    }
    for key, text in cases.items():
        info = tmp_path / f"{key}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(text)
        dist = metadata.PathDistribution(info)
        assert _name_and_version(dist) == (dist.metadata["Name"], dist.version), key


# --- the root password, hashed while launch imports --------------------------------------------
def test_a_password_hashed_ahead_is_used_once():
    from jupyter_syft.server import security

    security.hash_ahead("pw-ahead-1")
    security.hash_ahead("pw-ahead-1")  # already under way: nothing more
    first = security.hash_password("pw-ahead-1")
    second = security.hash_password("pw-ahead-1")  # computed now: another salt
    assert first != second
    assert security.verify_password(first, "pw-ahead-1")
    assert security.verify_password(second, "pw-ahead-1")
    assert not security.verify_password(first, "pw-ahead-2")
    assert "pw-ahead-1" not in security._ahead


# --- a new store from the schema cache ---------------------------------------------------------
def _schema(path: Path) -> list[tuple]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as connection:
        return sorted(connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))


def test_a_new_store_copied_from_the_schema_cache_is_the_one_create_statements_make(tmp_path):
    from jupyter_syft.server.store import SchemaCache, Store, sqlite_url

    cache = tmp_path / "cache"
    made = Store(sqlite_url(tmp_path / "made.db"), cache)  # no copy yet: created, then kept
    assert made.created
    made.close()
    assert SchemaCache(cache).path is not None and SchemaCache(cache).path.is_file()
    copied = Store(sqlite_url(tmp_path / "copied.db"), cache)
    assert copied.created  # a copy: nothing in it to recover
    with copied.session() as session:  # usable, in WAL mode, with foreign keys on, like any
        assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    copied.close()
    plain = Store(sqlite_url(tmp_path / "plain.db"))  # without a cache, as before
    plain.close()
    assert _schema(tmp_path / "copied.db") == _schema(tmp_path / "plain.db")
    assert _schema(tmp_path / "made.db") == _schema(tmp_path / "plain.db")
    reopened = Store(sqlite_url(tmp_path / "copied.db"), cache)  # an existing store: not new
    assert not reopened.created
    reopened.close()


def test_a_broken_schema_cache_file_is_not_copied(tmp_path):
    from jupyter_syft.server.store import SchemaCache, Store, sqlite_url

    cache = tmp_path / "cache"
    cache.mkdir()
    path = SchemaCache(cache).path
    assert path is not None
    path.write_bytes(b"not a database")
    store = Store(sqlite_url(tmp_path / "site.db"), cache)
    try:
        assert store.created
        assert _schema(tmp_path / "site.db")  # made by its CREATE statements
    finally:
        store.close()
    # a missing folder is still the clear error it was, not a folder made by the copy
    with pytest.raises(SyftException, match="exists and is writable"):
        Store(sqlite_url(tmp_path / "no such folder" / "site.db"), cache)
    assert not (tmp_path / "no such folder").exists()


@pytest.mark.skipif(
    os.environ.get("JUPYTER_SYFT_TEST_DB") == "postgresql",
    reason="the schema cache is for SQLite files; these launches would use PostgreSQL",
)
def test_launch_makes_new_datasites_from_the_schema_cache_and_reopens_them_as_they_are(
    tmp_path, monkeypatch
):
    home = tmp_path / "home"
    monkeypatch.setenv("JUPYTER_SYFT_HOME", str(home))
    first = sy.orchestra.launch(name="cache-a", port="auto", reset=True, verbose=False)
    first.land()
    assert list((home / ".schema-cache").glob("schema-*.db"))
    node = sy.orchestra.launch(name="cache-b", port="auto", reset=True, verbose=False)
    try:
        assert node.datasite.store.created
        root = node.login(email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        assert root.settings.get().name == "cache-b"
    finally:
        node.land()
    again = sy.orchestra.launch(name="cache-b", port="auto", verbose=False)
    try:
        assert not again.datasite.store.created
    finally:
        again.land()
