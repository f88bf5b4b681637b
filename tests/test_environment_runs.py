"""Runs use their environment (#17 items 3 and 4): real uv environments, real workers, real
bubblewrap where it is installed.

Execution layer: a run in an environment imports what only it has, cannot write into it, and
records its lock hash; its packages come before the Datasite's; the warm pools are kept per
environment, bounded. Datasite: the execution and its audit events carry the lock hash; the
review shows the environment's packages and flags the new ones; the mock run warns when this
kernel's versions differ from the lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_wheels import use_local_wheels, write_wheel

import jupyter_syft as sy
from jupyter_syft import serde
from jupyter_syft.client.environment_display import environment_html, mismatch_message
from jupyter_syft.env_lock import added, distributions_lock, parse_pins
from jupyter_syft.server.environments.builder import find_uv
from jupyter_syft.server.environments.runtime import EnvironmentRuntime
from jupyter_syft.server.execution import CodeRunner, Limits, RunSpec, default_lock
from jupyter_syft.server.execution.spec import INTERNAL, USER_ERROR

pytestmark = pytest.mark.timeout(300)
HAS_BWRAP = shutil.which("bwrap") is not None
AS_ROOT = os.geteuid() == 0
FAST = Limits(wall_seconds=60, cpu_seconds=30, memory_mb=2048, max_processes=32)
SECRET = "the-patients-names-are-here"


# --- environments built for real, as the builder lays them out ----------------------------------
def build_env(
    where: Path, name: str, wheels: list[Path], lock_hash: str | None = None
) -> EnvironmentRuntime:
    """A uv virtual environment at ``where`` with ``wheels`` installed (offline)."""
    uv = find_uv()
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(where)], check=True)
    python = where / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "-q", "--offline", "--no-index", "--python", str(python)]
        + [str(w) for w in wheels],
        check=True,
    )
    site = next((where / "lib").glob("python*/site-packages"))
    for dirpath, _dirs, files in os.walk(where):  # as the builder leaves it: readable by all
        os.chmod(dirpath, 0o755)
        for f in files:
            path = Path(dirpath) / f
            if not path.is_symlink():
                os.chmod(path, 0o644)
    # uv's own .lock is left world-writable (0666): the sandbox must not let a run write it
    (where / ".lock").touch()
    (where / ".lock").chmod(0o666)
    digest = lock_hash or hashlib.sha256(name.encode()).hexdigest()
    return EnvironmentRuntime(name, where, python, site, digest)


class Site:
    """A stand-in Datasite folder (0700, like the real one) with environments inside it."""

    def __init__(self, root: Path):
        self.data_dir = root / "datasite"
        self.data_dir.mkdir(mode=0o700)
        (self.data_dir / "secret.txt").write_text(SECRET)
        self.work_dir = self.data_dir / "work"
        self.envs = self.data_dir / "environments"
        self.envs.mkdir()
        self.envs.chmod(0o755)
        self.wheels = root / "wheels"

    def env(self, name: str, packages: dict[str, str], body: str = "") -> EnvironmentRuntime:
        wheels = [write_wheel(self.wheels / name, p, v, body=body) for p, v in packages.items()]
        return build_env(self.envs / name, name, wheels)

    def runner(self, sandbox: str, warm_environments: int = 3) -> CodeRunner:
        return CodeRunner(
            self.work_dir,
            [self.data_dir],
            warm_workers=1,
            reserved_workers=1,
            sandbox=sandbox,
            warm_environments=warm_environments,
        )


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    # Outside /tmp (the sandbox replaces /tmp): the environment must be bound back from inside
    # the hidden Datasite folder itself.
    root = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="syft-envruns-"))
    yield Site(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def stats(site: Site) -> EnvironmentRuntime:
    # envonlypkg exists only here; tabulate also exists in the Datasite (another version)
    return site.env("stats", {"envonlypkg": "1.2.3", "tabulate": "99.0.0"})


SANDBOXES = ["bwrap", "none"] if HAS_BWRAP else ["none"]


@pytest.fixture(scope="module", params=SANDBOXES)
def runner(request: pytest.FixtureRequest, site: Site) -> Iterator[CodeRunner]:
    with site.runner(request.param) as r:
        yield r


def run(r: CodeRunner, source: str, env: EnvironmentRuntime | None, name: str = "f"):
    result = r.run(RunSpec(source, name, {}, FAST, label="test", environment=env))
    value = None
    if result.ok:
        assert result.result_file is not None
        value = serde.decode(Path(result.result_file).read_bytes())
    return result, value


IMPORTS = """
def f():
    import importlib.metadata, envonlypkg, tabulate, pandas
    return {
        "value": envonlypkg.VERSION,
        "tabulate": importlib.metadata.version("tabulate"),
        "tabulate_file": tabulate.__file__,
        "pandas": pandas.__file__,
    }
"""


def test_run_imports_what_only_its_environment_has(runner, stats):
    result, value = run(runner, IMPORTS, stats)
    assert result.ok, result.error
    assert value["value"] == "1.2.3"
    # the environment's packages come first: its pin wins over the Datasite's tabulate
    assert value["tabulate"] == "99.0.0"
    assert value["tabulate_file"].startswith(str(stats.site_packages))
    # what the environment lacks (pandas, which the worker itself needs) is the Datasite's
    assert not value["pandas"].startswith(str(stats.prefix))
    # the default environment cannot import it
    result, _ = run(runner, IMPORTS, None)
    assert not result.ok and result.error_kind == USER_ERROR
    assert "No module named 'envonlypkg'" in (result.error or "")


WRITES = """
def f():
    import os, envonlypkg
    site = os.path.dirname(os.path.dirname(envonlypkg.__file__))
    prefix = site.split("/lib/")[0]
    out = {}
    for target in (os.path.join(prefix, ".lock"), envonlypkg.__file__,
                   os.path.join(site, "planted.py"), os.path.join(prefix, "bin", "planted")):
        try:
            with open(target, "a") as fh:
                fh.write("planted")
            out[target] = "written"
        except OSError as exc:
            out[target] = exc.errno
    datasite = os.path.dirname(os.path.dirname(prefix))
    try:
        out["datasite"] = sorted(os.listdir(datasite))
    except OSError as exc:
        out["datasite"] = exc.errno
    try:
        out["secret"] = open(os.path.join(datasite, "secret.txt")).read()
    except OSError as exc:
        out["secret"] = exc.errno
    return out
"""


def test_run_cannot_write_into_its_environment(runner, stats, site):
    if not AS_ROOT and runner.sandbox == "none":
        pytest.skip("without bwrap a non-root worker has the server's uid (development only)")
    lock_before = (stats.prefix / ".lock").read_bytes()
    result, value = run(runner, WRITES, stats)
    assert result.ok, result.error
    writes = {k: v for k, v in value.items() if k not in ("datasite", "secret")}
    assert len(writes) == 4
    assert all(v != "written" for v in writes.values()), writes
    # even the world-writable .lock: the environment is mounted read-only (EROFS)
    assert value[str(stats.prefix / ".lock")] == 30
    assert (stats.prefix / ".lock").read_bytes() == lock_before
    assert not (stats.site_packages / "planted.py").exists()
    # the Datasite's folder around it stays hidden: only the path to the environment shows
    assert value["datasite"] in (["environments"], 13)
    assert value["secret"] != SECRET


def test_execution_records_the_lock_hash(runner, stats):
    result, _ = run(runner, "def f():\n    return 1\n", stats)
    assert result.ok and result.environment == "stats" and result.lock_hash == stats.lock_hash
    result, _ = run(runner, "def f():\n    return 1\n", None)
    assert result.ok and result.environment == ""
    # the default environment's: the hash of the Datasite's installed distributions
    text, digest = distributions_lock()
    assert result.lock_hash == digest == default_lock.lock_hash()
    assert "pandas==" in text and f"tabulate=={_version('tabulate')}" in text


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def test_warm_pools_per_environment_bounded(site, stats):
    other = site.env("other", {"envonlypkg": "2.0"})
    with site.runner("auto", warm_environments=1) as r:
        assert r.warm_environments() == []
        result, value = run(
            r, "def f():\n    import envonlypkg\n    return envonlypkg.VERSION\n", other
        )
        assert result.ok and value == "2.0"
        assert r.warm_environments() == ["other"]
        result, value = run(r, IMPORTS, stats)  # one more: the least recently used is dropped
        assert result.ok and value["value"] == "1.2.3"
        assert r.warm_environments() == ["stats"]
        # its pool warms up: the next run takes a worker that is already started
        deadline = time.monotonic() + 120
        while sum(r._env_pools.ready_counts(stats)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert r._env_pools.ready_counts(stats) == (1, 1)
        # the default environment keeps its own pool, whatever the others do
        assert sum(r._pool.ready_counts()) >= 1
        result, _ = run(r, IMPORTS, None)
        assert not result.ok  # and its workers never see an environment's packages
        # a rebuild (new lock hash) gets a new pool: no worker keeps the old build's packages
        rebuilt = EnvironmentRuntime(
            stats.name, stats.prefix, stats.python, stats.site_packages, "rebuilt"
        )
        result, _ = run(r, IMPORTS, rebuilt)
        assert result.ok and result.lock_hash == "rebuilt"
        assert r.warm_environments() == ["stats"]
    with site.runner("auto", warm_environments=0) as r:  # no warm workers for environments
        assert r.check_environment(stats) is None
        result, value = run(r, IMPORTS, stats)
        assert result.ok and value["value"] == "1.2.3"
        assert r.warm_environments() == []


def test_an_environment_that_breaks_the_worker_says_so(site):
    # Its packages come first: one shadowing what the worker needs (here pyarrow, as a numpy
    # older than the Datasite's pyarrow accepts would) stops the worker from starting; the run
    # says which environment, why, and what to do; no pool keeps retrying it.
    broken = site.env("broken", {"pyarrow": "0.0.1"}, body="raise ImportError('not this one')\n")
    with site.runner("auto", warm_environments=2) as r:
        for _ in range(2):
            result, _ = run(r, "def f():\n    return 1\n", broken)
            assert not result.ok and result.error_kind == INTERNAL
            error = result.error or ""
            assert "'broken'" in error and "Rebuild it" in error
            assert "ImportError: not this one" in error
            assert r.warm_environments() == []
        result, _ = run(r, "def f():\n    return 1\n", None)  # the default one is unharmed
        assert result.ok
        # what a builder may ask before it says "ready"
        assert r.check_environment(broken) == "ImportError: not this one"


def test_an_environment_for_another_python_is_refused(site, stats):
    other = site.envs / "py399"
    shutil.copytree(stats.prefix, other, symlinks=True)
    cfg = other / "pyvenv.cfg"
    cfg.write_text(
        "\n".join(
            "version_info = 3.99.0" if line.startswith("version_info") else line
            for line in cfg.read_text().splitlines()
        )
    )
    env = EnvironmentRuntime("py399", other, other / "bin" / "python", other / "lib", "x")
    with site.runner("auto", warm_environments=1) as r:
        result, _ = run(r, "def f():\n    return 1\n", env)
    assert not result.ok and result.error_kind == INTERNAL
    assert "built for Python 3.99" in (result.error or "")
    assert "python=None" in (result.error or "")


# --- locks: parsing, comparing, warning ---------------------------------------------------------
LOCK = """numpy==1.26.4 \\
    --hash=sha256:aaaa
    # via stats
Scikit_Learn==1.5.0 ; python_version >= "3.9" \\
    --hash=sha256:bbbb
tinya==1.0
"""


def test_lock_pins_and_what_was_added():
    pins = parse_pins(LOCK)
    assert pins == {"numpy": "1.26.4", "scikit-learn": "1.5.0", "tinya": "1.0"}
    assert added({"numpy": "1.26.4", "tinya": "0.9"}, pins) == [
        "scikit-learn==1.5.0",
        "tinya==1.0 (was 0.9)",
    ]


def test_version_mismatch_message_names_package_local_and_locked():
    local = {"numpy": "2.1.0", "scikit-learn": None, "tinya": "1.0"}
    message = mismatch_message("stats", LOCK, local)
    assert message is not None
    assert "numpy 2.1.0 here, 1.26.4 in the environment" in message
    assert "scikit-learn not installed here, 1.5.0 in the environment" in message
    assert "tinya" not in message.split("pip install")[0]  # same version: not named
    assert "'stats'" in message and "pip install numpy==1.26.4 scikit-learn==1.5.0" in message
    same = {"numpy": "1.26.4", "scikit-learn": "1.5.0", "tinya": "1.0"}
    assert mismatch_message("stats", LOCK, same) is None


# --- on a Datasite ------------------------------------------------------------------------------
@pytest.fixture
def wheels(tmp_path):
    folder = tmp_path / "wheels"
    write_wheel(folder, "tinya", "1.0")
    write_wheel(folder, "tinyb", "2.0", requires=["tinya>=1"])
    return folder


@pytest.fixture
def stats_env(node, root, wheels, uploaded):
    use_local_wheels(root, wheels)
    env = root.environments.create(name="stats", packages=["tinyb"], progress=False)
    assert env.status == "ready", env.message
    return env


def study_in_stats(table):
    import tinyb

    return float(table["age"].mean()) + float(tinyb.VERSION)


def study_in_default(table):
    return float(table["age"].mean())


def study_using_both(table):
    import tinya
    import tinyb

    return float(table["age"].mean()) + float(tinyb.VERSION) + float(tinya.VERSION)


def _submit(scientist, environment: str | None, func=study_in_stats):
    asset = scientist.datasets[0].assets[0]
    fn = sy.syft_function(
        input_policy=sy.ExactMatch(table=asset),
        output_policy=sy.SingleExecutionExactOutput(),
        name="study",
        environment=environment,
    )(func)
    return fn, asset


def test_execution_and_audit_carry_the_lock_hash(node, root, scientist, stats_env):
    fn, _asset = _submit(scientist, "stats")
    scientist.code.request_code_execution(fn)
    request = root.requests[0]
    request.approve()
    value = scientist.code.study(table=scientist.datasets[0].assets[0]).get()
    assert isinstance(value, float)
    # the execution row, the wire and the audit log all say which packages it ran with
    code_id = request.code.id
    rows = _executions(node, code_id)
    assert [(r.environment, r.lock_hash) for r in rows] == [("stats", stats_env.lock_hash)]
    runs = list(root.session.api.executions(code_id))
    assert [(e.environment, e.lock_hash) for e in runs] == [("stats", stats_env.lock_hash)]
    events = [e for e in _audit(root) if e.action in ("code.run", "output.report")]
    assert events and all(e.detail.get("lock_hash") == stats_env.lock_hash for e in events)
    assert all(e.detail.get("environment") == "stats" for e in events)


def _executions(node, code_id):
    from sqlmodel import select

    from jupyter_syft.server import models

    with node.datasite.store.session() as session:
        return list(
            session.exec(select(models.Execution).where(models.Execution.code_id == code_id))
        )


def _audit(root):
    events = []
    page = root.audit.events(order="oldest", page_size=500)
    while page is not None:
        events += list(page)
        page = page.next_page()
    return events


def test_review_shows_packages_and_flags_new_ones(node, root, scientist, stats_env):
    from jupyter_syft.notebook.review import RequestReview

    first, _ = _submit(scientist, None, study_in_default)
    scientist.code.request_code_execution(first)
    second, _ = _submit(scientist, "stats")
    scientist.code.request_code_execution(second)
    requests = sorted(root.requests, key=lambda r: r.code.submit_time)
    old, new = requests[0].code, requests[1].code
    # the default environment: no packages listed, its lock hash shown
    assert old.environment == "" and old._model.environment_packages == []
    assert old._model.environment_lock_hash == default_lock.lock_hash()
    model = new._model
    assert model.environment == "stats"
    assert model.environment_lock_hash == stats_env.lock_hash
    assert model.environment_packages == ["tinya==1.0", "tinyb==2.0"]
    # tinyb and tinya are not in the Datasite's own Python: both flagged as new
    assert model.environment_added == ["tinya==1.0", "tinyb==2.0"]
    assert model.environment_previous == "default"
    html = environment_html(model)
    assert "tinyb==2.0" in html and "new" in html and stats_env.lock_hash[:16] in html
    assert "New since the previous request" in html
    # in the client's displays and the review widget
    assert "tinyb==2.0" in requests[1]._repr_html_()
    assert "NEW since the previous request" in repr(new)
    widget = RequestReview(requests[1])
    assert "tinyb==2.0" in widget.code_view.value
    assert stats_env.lock_hash[:16] in widget.code_view.value
    # a third version in the same environment adds nothing
    third, _ = _submit(scientist, "stats", study_using_both)
    scientist.code.request_code_execution(third)
    everything = sorted(root.requests, key=lambda r: r.code.submit_time)
    assert len(everything) == 3
    latest = everything[-1].code._model
    assert latest.service_func_name == "study" and latest.environment == "stats"
    assert latest.environment_added == [] and latest.environment_previous == "stats"


def test_mock_run_warns_when_local_versions_differ(node, root, scientist, stats_env):
    fn, asset = _submit(scientist, "stats", study_in_default)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fn(table=asset)
    text = out.getvalue()
    assert "tinyb not installed here, 2.0 in the environment" in text
    assert "tinya not installed here, 1.0 in the environment" in text
    # a function in the default environment: no such warning
    plain, asset = _submit(scientist, None, study_in_default)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        plain(table=asset)
    assert "in the environment" not in out.getvalue()


# --- Dask: the workers use the environment at the same path -------------------------------------
def test_dask_workers_run_in_the_same_environment(site, stats, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    from jupyter_syft.server.execution.dask_runner import DaskRunner

    # An earlier test in this process (an IPython shell) may leave a __main__ without
    # __spec__, which multiprocessing's spawn (the Dask nanny's worker) cannot read.
    main = sys.modules["__main__"]
    if not hasattr(main, "__spec__"):
        monkeypatch.setattr(main, "__spec__", None, raising=False)

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        runner = DaskRunner(cluster.scheduler_address, tmp_path)
        try:
            result = runner.run(RunSpec(IMPORTS, "f", {}, FAST, label="dask", environment=stats))
            assert result.ok, result.error
            assert result.sandbox.startswith("dask:")
            assert (result.environment, result.lock_hash) == ("stats", stats.lock_hash)
            value = serde.decode(Path(result.result_file).read_bytes())
            assert value["value"] == "1.2.3" and value["tabulate"] == "99.0.0"
            # not mounted there: the run fails saying so, never runs in the default one
            missing = EnvironmentRuntime(
                "gone",
                tmp_path / "nowhere",
                tmp_path / "nowhere/bin/python",
                tmp_path / "nowhere/lib/python3.11/site-packages",
                "x",
            )
            result = runner.run(RunSpec(IMPORTS, "f", {}, FAST, label="dask2", environment=missing))
            assert not result.ok and result.error_kind == INTERNAL
            assert "is not on this Dask worker" in (result.error or "")
            assert "same path" in (result.error or "")
        finally:
            runner.close()
