"""Environments for user code (#17 items 1 and 2): owners define them, built for real with uv
from a local folder of wheels (no network); scientists pick one at submission or ask for one.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time

import pytest
import requests
from local_wheels import use_local_wheels, wheel_folder, write_wheel

import jupyter_syft as sy
from jupyter_syft.errors import SyftException
from jupyter_syft.server.environments import resolve
from jupyter_syft.server.services.errors import NotFound, Unavailable


@pytest.fixture
def wheels(tmp_path):
    return wheel_folder(tmp_path / "wheels")


@pytest.fixture
def owner(root, wheels):
    use_local_wheels(root, wheels)
    return root


def _store(node):
    return node.datasite.store


def _builder(node):
    return node.datasite.services.environments.builder


def test_build_locks_hashes_and_lists(node, owner):
    env = owner.environments.create(name="stats", packages=["tinya", "tinyb>=2"], progress=False)
    assert env.status == "ready", env.message
    # resolved and pinned, with hashes: tinyc came in as tinyb 2.0's dependency
    assert env.pinned == {"tinya": "1.0", "tinyb": "2.0", "tinyc": "1.0"}
    assert "--hash=sha256:" in env.lock
    assert env.lock_hash == hashlib.sha256(env.lock.encode()).hexdigest()
    assert env.size_bytes > 0
    assert env.python_version.startswith("3.")
    # listed with its packages, lock hash, size and status
    listed = owner.environments
    assert listed.names == ["stats"]
    assert listed["stats"].lock_hash == env.lock_hash
    text = repr(listed)
    assert "stats" in text and "ready" in text and env.lock_hash[:12] in text
    assert "tinyb>=2" in text
    # the runtime the execution layer gets: a real interpreter with those packages
    runtime = resolve(_store(node), "stats")
    assert runtime is not None and runtime.lock_hash == env.lock_hash
    assert ".building" not in str(runtime.prefix)
    assert (runtime.site_packages / "tinyc" / "__init__.py").is_file()
    out = subprocess.run(
        [str(runtime.python), "-c", "import tinya, tinyb, tinyc; print(tinyb.VERSION)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "2.0"
    # the default environment is none to resolve
    assert resolve(_store(node), "") is None
    assert resolve(_store(node), "default") is None
    # the build log, for owners
    assert "uv pip compile" in env.log and "tinyc" in env.log


def test_concurrent_builds_do_the_work_once(node, owner):
    builder = _builder(node)
    gate = threading.Event()
    real_build = builder.build

    def gated(spec):
        assert gate.wait(60)
        return real_build(spec)

    builder.build = gated
    body = {"name": "stats", "packages": ["tinya"]}
    answers: list = []

    def create():
        answers.append(owner.session.api.create_environment(body))

    threads = [threading.Thread(target=create) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 3 and {a.id for a in answers} == {answers[0].id}
    assert builder.builds_started == 1
    gate.set()
    env = owner.environments.get("stats").wait(timeout=120, progress=False)
    assert env.status == "ready"
    first_hash = env.lock_hash

    # two rebuilds at once: one build; runs keep the previous, complete build meanwhile
    gate.clear()
    rebuilt: list = []
    threads = [
        threading.Thread(
            target=lambda: rebuilt.append(owner.session.api.rebuild_environment("stats"))
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(rebuilt) == 2 and builder.builds_started == 2
    assert owner.environments.get("stats").status == "building"
    runtime = resolve(_store(node), "stats")
    assert runtime is not None and runtime.lock_hash == first_hash
    assert ".building" not in str(runtime.prefix) and runtime.python.exists()
    gate.set()
    env = owner.environments.get("stats").wait(timeout=120, progress=False)
    assert env.status == "ready" and env.lock_hash == first_hash  # same wheels, same lock
    assert builder.builds_started == 2
    # the new build is used; the previous one stays (runs started there finish) until the next
    second = resolve(_store(node), "stats")
    assert second is not None and second.prefix != runtime.prefix
    assert runtime.python.exists()
    owner.environments.rebuild("stats", progress=False)
    assert not runtime.prefix.exists() and second.prefix.exists()
    owner.environments.delete("stats")
    assert not second.prefix.exists()


def test_failure_gives_log_and_what_to_change(node, owner, wheels):
    with pytest.raises(SyftException) as missing:
        owner.environments.create(name="bad", packages=["nothere==1.0"], progress=False)
    text = str(missing.value)
    assert "failed to build" in text and "check the package names" in text
    assert "nothere" in text  # the end of the log comes with it
    bad = owner.environments.get("bad")
    assert bad.status == "failed" and "nothere" in bad.log
    # a failed build is never used
    with pytest.raises(Unavailable):
        resolve(_store(node), "bad")
    with pytest.raises(NotFound):
        resolve(_store(node), "never-made")
    # wheels only: an sdist's build code never runs, and the message says how to allow it
    with pytest.raises(SyftException, match="allow_sdist=True"):
        owner.environments.create(name="src", packages=["sdistonly"], progress=False)
    assert "must never run" not in owner.environments.get("src").log

    # a rebuild that fails keeps serving the previous good build
    good = owner.environments.create(name="good", packages=["tinya"], progress=False)
    empty = wheels.parent / "empty"
    empty.mkdir()
    owner.settings.update(environment_find_links=str(empty))
    with pytest.raises(SyftException, match="failed to build"):
        owner.environments.rebuild("good", progress=False)
    runtime = resolve(_store(node), "good")
    assert runtime is not None and runtime.lock_hash == good.lock_hash
    assert runtime.python.exists()
    # nothing half-built is left behind
    building = node.datasite.data_dir / "environments" / ".building"
    assert not any(building.iterdir())


def test_refusals_say_what_to_do(node, owner, scientist):
    api = owner.session.api
    for packages, says in [
        (["--index-url https://evil.example/simple"], "no pip options"),
        (["-e ."], "no pip options"),
        (["tinya @ https://evil.example/tinya.whl"], "no pip options"),
        (["./tinya"], "not a valid requirement"),
        (["tinya", "TinyA>=1"], "given twice"),
        ([], "list of requirements"),
        (["x" * 300], "too long"),
    ]:
        with pytest.raises(SyftException, match=says):
            api.create_environment({"name": "x", "packages": packages})
    for name in ["default", "../up", "a b", "", "-x", "x" * 65]:
        with pytest.raises(SyftException, match="environment"):
            api.create_environment({"name": name, "packages": ["tinya"]})
    with pytest.raises(SyftException, match="Python version"):
        api.create_environment({"name": "x", "packages": ["tinya"], "python": "python3; rm"})
    with pytest.raises(SyftException, match="takes an http"):
        owner.settings.update(environment_index_url="--extra-index-url=x")
    assert owner.environments.names == []

    owner.environments.create(name="stats", packages=["tinya"], progress=False)
    with pytest.raises(SyftException, match="already exists"):
        owner.environments.create(name="stats", packages=["tinyb"], wait=False)
    # scientists list (and see the lock) but cannot create, rebuild or delete, nor read logs
    assert scientist.environments.names == ["stats"]
    seen = scientist.environments.get("stats")
    assert seen.lock and seen._model.log is None
    with pytest.raises(SyftException, match="owners"):
        _ = seen.log
    for call in (
        lambda: scientist.environments.create(name="mine", packages=["tinya"], wait=False),
        lambda: scientist.environments.rebuild("stats", wait=False),
        lambda: scientist.environments.delete("stats"),
    ):
        with pytest.raises(SyftException, match="Only data owners"):
            call()
    base = f"{node.url}/syft/api/v1/"
    headers = {"Authorization": f"Bearer {scientist.connection.token}"}
    for method, path in [
        ("POST", "environments"),
        ("DELETE", "environments/stats"),
        ("POST", "environments/stats/rebuild"),
    ]:
        body = {"name": "mine", "packages": ["tinya"]}
        r = requests.request(method, base + path, headers=headers, json=body, timeout=10)
        assert r.status_code == 403, (method, path, r.status_code)
        assert "Only data owners" in r.json()["detail"]
    r = requests.get(base + "environments", timeout=10)  # no session
    assert r.status_code in (401, 403)
    assert owner.environments.get("stats").status == "ready"
    with pytest.raises(SyftException, match=r"No environment named .nope..*stats"):
        owner.environments.get("nope")


def test_submission_names_an_existing_environment(node, owner, scientist):
    owner.environments.create(name="stats", packages=["tinya"], progress=False)

    @sy.syft_function(environment="nope")
    def in_missing():
        return 1

    with pytest.raises(SyftException) as refused:
        scientist.code.request_code_execution(in_missing, reason="try")
    text = str(refused.value)
    assert "'nope' does not exist" in text and "stats" in text and "default" in text
    assert len(scientist.code) == 0  # nothing was stored

    @sy.syft_function(environment="stats")
    def in_stats():
        import tinya

        return tinya.VERSION

    request = scientist.code.request_code_execution(in_stats, reason="uses tinya")
    assert request.code.environment == "stats"
    assert owner.requests[0].code.environment == "stats"

    @sy.syft_function(environment="default")
    def in_default():
        return 2

    assert scientist.code.request_code_execution(in_default).code.environment == ""

    # delete is refused while pending or approved code names it, saying which
    with pytest.raises(SyftException, match=r"in use.*in_stats"):
        owner.environments.delete("stats")
    owner.requests[0].deny(reason="not now")
    assert owner.environments.delete("stats")
    assert owner.environments.names == []


def test_magic_environment_option(node, owner, scientist):
    from IPython.testing.globalipapp import start_ipython

    owner.environments.create(name="stats", packages=["tinya"], progress=False)
    ip = start_ipython()
    ip.run_line_magic("load_ext", "jupyter_syft")
    ip.user_ns["ds"] = scientist
    ip.run_cell_magic(
        "syft_function",
        '--environment stats --request --reason "tinya" --client ds',
        "def with_env():\n    return 1\n",
    )
    assert ip.user_ns["with_env"].environment == "stats"
    assert scientist.code[0].environment == "stats"
    with pytest.raises(Exception, match="does not exist"):
        ip.run_cell_magic(
            "syft_function",
            "--environment nope --request --client ds",
            "def without():\n    return 2\n",
        )


def test_environment_requests(node, owner, scientist, wheels):
    write_wheel(wheels, "tinyd", "3.1")
    asked = scientist.environments.request(
        packages=["tinyd>=3"], reason="survival curves", name="survival"
    )
    assert asked.status == "pending"
    other = scientist.environments.request(packages=["tinya"], reason="x", name="other")
    with pytest.raises(SyftException, match="Only data owners"):
        scientist.session.api.approve_environment_request(asked.id)
    with pytest.raises(SyftException, match="reason"):
        scientist.environments.request(packages=["tinya"], reason="  ")
    listed = owner.environments.requests
    assert len(listed) == 2 and "survival curves" in repr(listed)
    env = listed[0].approve(progress=False)
    assert env.name == "survival" and env.status == "ready"
    assert env.pinned == {"tinyd": "3.1"}
    assert owner.environments.requests[1].deny(reason="use stats")
    mine = scientist.environments.requests
    assert [r.status for r in mine] == ["approved", "rejected"]
    assert mine[1].deny_reason == "use stats"
    with pytest.raises(SyftException, match="already approved"):
        owner.session.api.approve_environment_request(asked.id)
    # approving a request naming an existing environment adds its packages
    more = scientist.environments.request(packages=["tinya"], reason="also", name="survival")
    owner.environments.requests[2].approve(progress=False)
    assert owner.environments.get("survival").pinned == {"tinyd": "3.1", "tinya": "1.0"}
    assert more.id and other.id
    # owners hear of each ask, the scientist of each decision, as with code requests
    assert node.datasite.services.notifications.flush(30)
    owners = [n for n in owner.notifications.get_all() if n.kind == "environment_request_new"]
    assert len(owners) == 3 and "survival curves" in " ".join(n.text for n in owners)
    kinds = [n.kind for n in scientist.notifications.get_all()]
    assert kinds.count("environment_request_approved") == 2
    assert kinds.count("environment_request_denied") == 1


def test_wait_false_returns_while_building(node, owner):
    builder = _builder(node)
    gate = threading.Event()
    real_build = builder.build
    builder.build = lambda spec: (gate.wait(60), real_build(spec))[1]
    started = time.monotonic()
    env = owner.environments.create(name="later", packages=["tinya"], wait=False)
    assert env.status == "building"
    with pytest.raises(Unavailable):
        resolve(_store(node), "later")
    gate.set()
    assert env.wait(timeout=120, progress=False).status == "ready"
    assert time.monotonic() >= started


def test_a_build_a_stop_cut_off_is_failed_then_rebuilt(node, owner):
    from jupyter_syft.server import models

    # as a Datasite finds it after a crash in the middle of a build
    with _store(node).session() as session:
        session.add(
            models.Environment(
                name="cut", packages=["tinya"], status="building", build_id=models.new_id()
            )
        )
        session.commit()
    node.datasite.services.environments.recover()
    cut = owner.environments.get("cut")
    assert cut.status == "failed" and "client.environments.rebuild('cut')" in cut.message
    with pytest.raises(Unavailable):
        resolve(_store(node), "cut")
    assert owner.environments.rebuild("cut", progress=False).status == "ready"
    assert resolve(_store(node), "cut") is not None


def test_build_logs_are_capped_and_hide_index_passwords():
    from jupyter_syft.server.environments import builder

    log = builder._Log()
    for i in range(5_000):
        log.add(f"line {i} " + "x" * 40 + "\n")
    text = log.text()
    assert len(text) <= builder.LOG_LIMIT + 100 and text.startswith("[… the log's start")
    assert text.rstrip().endswith("line 4999 " + "x" * 40)  # the end, where errors are
    said = "error: Failed to fetch https://alice:s3cret@mirror.example/simple/tinya/"
    assert "s3cret" not in builder._masked_text(said)
    spec = builder.BuildSpec(
        name="x", build_id="0" * 32, packages=("tinya",), index_url="https://a:s3cret@m.example"
    )
    advice = builder.advice("error: Failed to fetch: connection refused", spec)
    assert "s3cret" not in advice and "environment_index_url" in advice


def test_a_build_a_worker_cannot_start_in_fails_and_is_never_used(node, owner, wheels):
    """The builder's last step starts a run's worker in the new build: packages that shadow
    what the worker needs (here a "pyarrow" that cannot be imported, as a numpy older than
    the Datasite's pyarrow accepts would be) fail the build, with the reason; nothing of it
    is used or left, and other environments are untouched."""
    owner.environments.create(name="shadow", packages=["tinya"], progress=False)
    good = resolve(_store(node), "shadow")
    assert good is not None
    write_wheel(wheels, "pyarrow", "0.0.1", body="raise ImportError('not this pyarrow')\n")
    answer = owner.session.api.create_environment(
        {"name": "broken", "packages": ["pyarrow==0.0.1"]}
    )
    with pytest.raises(SyftException, match="worker could not start") as failed:
        owner.environments.get(answer.name).wait(timeout=120, progress=False)
    assert "not this pyarrow" in str(failed.value)
    env = owner.environments.get("broken")
    assert env.status == "failed"
    assert "worker could not start" in env.message and "not this pyarrow" in env.message
    assert "pin versions they accept" in env.message
    assert "not this pyarrow" in owner.environments.get("broken").log
    with pytest.raises(Unavailable):
        resolve(_store(node), "broken")
    builds = [p.name for p in _builder(node).root.iterdir() if p.name.startswith("broken-")]
    assert builds == []  # the failed build's folder is gone
    assert resolve(_store(node), "shadow") == good  # the other environment is untouched
