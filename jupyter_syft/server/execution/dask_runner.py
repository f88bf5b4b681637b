"""Scale-out: run jobs on a Dask distributed cluster instead of this machine's worker pool.

``DaskRunner`` has the same ``run(spec) -> RunResult`` as ``CodeRunner``. Each run becomes a
Dask task that, on the Dask worker's machine, runs the function through that machine's own
``CodeRunner`` — the same sandbox, uid and limits as on the Datasite. Inputs travel as encoded
bytes (the Dask workers never see the Datasite's folders); nested jobs are answered there, by
that runner's ``NestedCalls``, from the plan shipped with the spec (as on the Datasite).

Two things still reach back to the Datasite while a run is on the cluster:

- progress (``datasite.init_progress / set_progress / increment_progress``): the task logs
  each call as a Dask event (``PROGRESS_TOPIC``, numbered per run); the DaskRunner subscribes
  to that topic and hands each event, in the running job's own thread, to the spec's
  ``progress`` sink as the local runner would. The task's result repeats the list, so an
  event the cluster dropped is applied when the run ends.
- environments: a run in one ships the environment's name, folders and lock hash; the Dask
  worker runs it in that environment at THE SAME PATH, so the Datasite's environments folder
  must be on storage shared with the Dask workers' machines, mounted at the same path
  (read-only is enough), or the environments built there the same way. A Dask worker that
  does not find it, or finds another build (a different lock hash), fails the run with a
  message saying so; it never runs it in its default environment instead.
- ``job.kill()``: cancelling the Dask future cannot stop a task that is running, so
  ``cancel`` also asks every Dask worker (``Client.run``) to stop the run by its id; the
  worker's CodeRunner kills the sandboxed process (and the nested runs it launched) at once.

Dask moves our bytes and plain dicts between the Datasite and its own cluster (one trust
domain, run by the data owner). User code's output is only ever read as the value format,
never unpickled.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
import uuid
from concurrent.futures import CancelledError
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..environments.runtime import EnvironmentRuntime
from .nested import report_progress
from .runner import CodeRunner
from .seam import Runner
from .spec import (
    INTERNAL,
    KILLED,
    TIMEOUT,
    Limits,
    NestedFunction,
    NestedRun,
    RunResult,
    RunSpec,
)

log = logging.getLogger("jupyter_syft.server")
PROGRESS_TOPIC = "jupyter-syft-progress"
MAX_PROGRESS_EVENTS = 100_000  # per run; progress calls beyond this are not reported
LOCK_FILE = "syft-lock.txt"  # an environment's lock in its prefix, if the builder puts it there
LOST_CLUSTER_GRACE = 120.0  # seconds past a run's wall limit before the cluster counts as lost
_DONE: dict[str, Any] = {}  # put in a run's event queue when its future is done
_local: dict[str, Any] = {}
_local_lock = threading.Lock()


class _Progress:
    """The progress sink of one run on a Dask worker (its nested runs included): each call
    becomes a numbered Dask event, and is kept for the task's result."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.events: list[list[Any]] = []
        self._lock = threading.Lock()
        try:
            from distributed import get_worker

            self._worker: Any = get_worker()
        except (ImportError, ValueError):  # not inside a Dask task (e.g. called directly)
            self._worker = None

    def init_progress(self, n_iters: int) -> None:
        self._add("init", n_iters)

    def set_progress(self, n: int) -> None:
        self._add("set", n)

    def increment_progress(self, n: int) -> None:
        self._add("increment", n)

    def _add(self, op: str, n: int) -> None:
        with self._lock:
            if len(self.events) >= MAX_PROGRESS_EVENTS:
                return
            seq = len(self.events)
            self.events.append([op, int(n)])
        if self._worker is not None and self.run_id:
            try:
                msg = {"run": self.run_id, "seq": seq, "op": op, "n": int(n)}
                self._worker.log_event(PROGRESS_TOPIC, msg)
            except Exception as exc:  # the result carries the event anyway
                log.warning("Run %s: could not report progress: %s", self.run_id, exc)


def run_remote(
    source: str,
    func_name: str,
    inputs: dict[str, bytes],
    limits: dict[str, Any],
    nested_code: dict[str, dict[str, Any]],
    label: str,
    nested_names: tuple[str, ...] = (),
    run_id: str = "",
    background: bool = False,
    private: bool = False,
    rules: dict[str, Any] | None = None,
    policies: dict[str, Any] | None = None,
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Dask task: run one job with this machine's sandboxed worker pool, which answers
    its nested jobs from ``nested_code`` (plain data: name -> ``NestedFunction.to_json()``).
    ``run_id`` names it for ``cancel_remote`` and for its progress events."""
    runner = _local_runner()
    progress = _Progress(run_id)
    env = None
    if environment is not None:
        env, problem = _local_environment(environment)
        if problem is not None:
            return _refused(INTERNAL, problem)
    with tempfile.TemporaryDirectory(dir=runner.work_dir, prefix="dask-") as tmp:
        paths = {}
        for name, value in inputs.items():
            paths[name] = Path(tmp) / f"{name}.jsyf"
            paths[name].write_bytes(value)
        spec = RunSpec(
            source=source,
            func_name=func_name,
            inputs=paths,
            limits=Limits(**limits),
            label=run_id or label,  # what cancel_remote stops
            nested=tuple(nested_names) or tuple(nested_code),
            nested_code={n: NestedFunction.from_json(f) for n, f in nested_code.items()},
            private=private,
            progress=progress,
            background=background,
            rules=rules,
            policies=policies,
            environment=env,
        )
        result = runner.run(spec)
    data = None
    if result.ok and result.result_file is not None:
        path = Path(result.result_file)
        data = path.read_bytes()
        path.unlink(missing_ok=True)
    return {
        "ok": result.ok,
        "data": data,
        "error": result.error,
        "error_kind": result.error_kind,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "duration_s": result.duration_s,
        "sandbox": result.sandbox,
        "progress": list(progress.events),
        "nested": [[r.name, r.code_id, r.ok] for r in result.nested],
        "report": result.report,
        "policy_state": result.policy_state,
        "environment": result.environment,
        "lock_hash": result.lock_hash,
    }


def _refused(kind: str, error: str) -> dict[str, Any]:
    return {
        "ok": False,
        "data": None,
        "error": error,
        "error_kind": kind,
        "stdout": "",
        "stderr": "",
        "duration_s": 0.0,
        "sandbox": "none",
        "progress": [],
        "nested": [],
    }


def _environment_json(env: EnvironmentRuntime) -> dict[str, str]:
    return {
        "name": env.name,
        "prefix": str(env.prefix),
        "python": str(env.python),
        "site_packages": str(env.site_packages),
        "lock_hash": env.lock_hash,
    }


def _local_environment(data: dict[str, str]) -> tuple[EnvironmentRuntime | None, str | None]:
    """The environment a run asks for, as found on this Dask worker's machine (the same
    path as on the Datasite): None and why not, if it is not there or is another build."""
    try:
        env = EnvironmentRuntime(
            name=str(data["name"]),
            prefix=Path(data["prefix"]),
            python=Path(data["python"]),
            site_packages=Path(data["site_packages"]),
            lock_hash=str(data["lock_hash"]),
        )
    except (KeyError, TypeError):
        return None, "The Datasite sent a malformed environment."
    if not env.site_packages.is_dir():
        return None, (
            f"Environment {env.name!r} is not on this Dask worker ({env.prefix} is missing): "
            "mount the Datasite's environments folder at the same path on every Dask worker."
        )
    lock_file = env.prefix / LOCK_FILE
    if lock_file.is_file():
        import hashlib

        found = hashlib.sha256(lock_file.read_bytes()).hexdigest()
        if found != env.lock_hash:
            return None, (
                f"Environment {env.name!r} on this Dask worker is another build (lock hash "
                f"{found[:12]}, the Datasite's is {env.lock_hash[:12]}): mount the Datasite's "
                "environments folder instead of a copy, or rebuild it."
            )
    return env, None


def cancel_remote(run_id: str) -> bool:
    """Run on every Dask worker by ``DaskRunner.cancel``: stop the run ``run_id`` if it runs
    here (or refuse it if it starts here later)."""
    with _local_lock:
        runner = _local.get("runner")
    if runner is None or not run_id:
        return False
    return bool(runner.cancel(run_id))


def warm_up() -> None:
    """Run on every Dask worker when a DaskRunner connects: start this machine's runner."""
    _local_runner()


def active_runs() -> int:
    """Runs with a live sandboxed process on this Dask worker (for tests and monitoring)."""
    with _local_lock:
        runner = _local.get("runner")
    return 0 if runner is None else int(runner.active_runs())


def _local_runner() -> CodeRunner:
    """One CodeRunner per Dask worker process, made on its first task."""
    with _local_lock:
        if "runner" not in _local:
            work_dir = Path(tempfile.mkdtemp(prefix="jupyter-syft-dask-"))
            _local["runner"] = CodeRunner(work_dir=work_dir, warm_workers=1, reserved_workers=1)
        runner: CodeRunner = _local["runner"]
        return runner


class DaskRunner:
    """Sends each run to the Dask cluster at ``scheduler_address``."""

    def __init__(self, scheduler_address: str, work_dir: Path):
        from distributed import Client

        self.scheduler_address = scheduler_address
        self.client = Client(scheduler_address, timeout=30, set_as_default=False)
        self._results = Path(work_dir) / "results"
        self._results.mkdir(parents=True, exist_ok=True)
        self.sandbox = "dask"
        self._lock = threading.Lock()
        self._futures: dict[str, tuple[Any, str]] = {}  # label -> (future, run id)
        self._cancel_on_start: dict[str, None] = {}  # killed before they were submitted
        self._events: dict[str, queue.SimpleQueue[dict[str, Any]]] = {}  # run id -> progress
        self._running = 0
        self.client.subscribe_topic(PROGRESS_TOPIC, self._on_event)
        try:  # every Dask worker starts its runner (and warm workers) now, not on a first run
            self.client.run(warm_up, on_error="ignore")
        except Exception as exc:
            log.warning("Could not warm the Dask workers up: %s", exc)

    def _on_event(self, event: Any) -> None:
        """On the Dask client's event loop: hand a progress event to its run's thread."""
        try:
            _, msg = event
            events = self._events.get(msg["run"])
        except (TypeError, ValueError, KeyError):
            return
        if events is not None:
            events.put(msg)

    def run(self, spec: RunSpec) -> RunResult:
        with self._lock:
            self._running += 1
        try:
            return self._send(spec)
        finally:
            with self._lock:
                self._running -= 1

    def _send(self, spec: RunSpec) -> RunResult:
        started = time.monotonic()
        with self._lock:
            if spec.label and spec.label in self._cancel_on_start:
                del self._cancel_on_start[spec.label]
                return self._failed(KILLED, "The job was stopped with job.kill().", started)
        inputs = {name: Path(path).read_bytes() for name, path in spec.inputs.items()}
        run_id = f"jupyter-syft-{uuid.uuid4().hex}"
        events: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._events[run_id] = events
        try:
            future = self.client.submit(
                run_remote,
                spec.source,
                spec.func_name,
                inputs,
                asdict(spec.limits),
                {name: f.to_json() for name, f in spec.nested_code.items()},
                spec.label,
                tuple(spec.nested),
                run_id,
                spec.background,
                spec.private,
                spec.rules,
                spec.policies,
                None if spec.environment is None else _environment_json(spec.environment),
                pure=False,
                key=run_id,
                priority=0 if spec.background else 10,  # blocking calls first
            )
            with self._lock:
                killed = spec.label in self._cancel_on_start  # killed while being sent
                self._cancel_on_start.pop(spec.label, None)
                if spec.label:
                    self._futures[spec.label] = (future, run_id)
            if killed:
                self.cancel_run(future, run_id)
            try:
                out = self._wait(spec, future, events)
            finally:
                with self._lock:
                    if self._futures.get(spec.label, (None,))[0] is future:
                        del self._futures[spec.label]
        except CancelledError:
            return self._failed(KILLED, "The job was stopped with job.kill().", started)
        except TimeoutError:
            self.cancel_run(future, run_id)
            return self._failed(
                TIMEOUT, "The Dask cluster did not finish the job in time.", started
            )
        except Exception as exc:  # the cluster, not the user's code, failed
            log.error("Dask job %s failed: %s", spec.label, exc)
            return self._failed(INTERNAL, "The Dask cluster could not run the job.", started)
        finally:
            self._events.pop(run_id, None)
        result_file = None
        if out["ok"] and out["data"] is not None:
            result_file = self._results / f"{uuid.uuid4().hex}.jsyf"
            result_file.write_bytes(out["data"])
        return RunResult(
            ok=bool(out["ok"]) and result_file is not None,
            result_file=result_file,
            error=out["error"],
            error_kind=out["error_kind"],
            stdout=out["stdout"],
            stderr=out["stderr"],
            duration_s=time.monotonic() - started,
            sandbox=f"dask:{out['sandbox']}",
            nested=_nested_runs(out.get("nested")),
            report=out.get("report") if isinstance(out.get("report"), dict) else None,
            policy_state=(
                out.get("policy_state") if isinstance(out.get("policy_state"), dict) else None
            ),
            environment=str(out.get("environment") or ""),
            lock_hash=str(out.get("lock_hash") or ""),
        )

    def _wait(
        self, spec: RunSpec, future: Any, events: queue.SimpleQueue[dict[str, Any]]
    ) -> dict[str, Any]:
        """The task's outcome; meanwhile its progress events go to ``spec.progress``, in
        order, from this thread (the job's), as the local runner does."""
        # The Dask worker's runner enforces the wall limit; this only guards a lost cluster.
        deadline = time.monotonic() + spec.limits.wall_seconds + LOST_CLUSTER_GRACE
        future.add_done_callback(lambda _: events.put(_DONE))  # wakes the loop below at once
        applied = 0
        while not future.done():
            try:
                msg = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError from None
            if msg is _DONE:
                break
            if msg.get("seq") == applied:
                self._progress(spec, msg.get("op"), msg.get("n"))
                applied += 1
        out: dict[str, Any] = future.result(timeout=LOST_CLUSTER_GRACE)
        # Events still on their way, and any the cluster dropped, are in the result.
        reported = out.get("progress")
        if isinstance(reported, list):
            for event in reported[applied:]:
                if isinstance(event, list | tuple) and len(event) == 2:
                    self._progress(spec, *event)
        return out

    @staticmethod
    def _progress(spec: RunSpec, op: Any, n: Any) -> None:
        try:
            report_progress(spec.progress, op, n)
        except Exception:
            log.exception("Dask job %s: could not record its progress", spec.label)

    def cancel(self, label: str) -> bool:
        """Stop the run labelled ``label`` (job.kill()): on the cluster if it was sent there,
        otherwise as soon as it is about to be."""
        with self._lock:
            entry = self._futures.get(label)
            if entry is None:
                self._cancel_on_start[label] = None
                while len(self._cancel_on_start) > 10_000:
                    del self._cancel_on_start[next(iter(self._cancel_on_start))]
                return True
        self.cancel_run(*entry)
        return True

    def cancel_run(self, future: Any, run_id: str) -> None:
        """Stop a run on the cluster: the sandboxed process on whichever worker runs it
        (cancelling the future alone lets a running task go on to its time limit)."""
        try:
            self.client.run(cancel_remote, run_id, on_error="ignore")
        except Exception as exc:
            log.error("Could not ask the Dask workers to stop %s: %s", run_id, exc)
        future.cancel()

    def active_runs(self) -> int:
        """Runs sent to the cluster and not finished yet (their nested runs not counted)."""
        with self._lock:
            return self._running

    def _failed(self, kind: str, error: str, started: float) -> RunResult:
        return RunResult(False, None, error, kind, "", "", time.monotonic() - started, self.sandbox)

    def close(self) -> None:
        self.client.close()


def _nested_runs(reported: Any) -> list[NestedRun]:
    """The nested jobs a task reports having launched (plain lists, from the cluster)."""
    runs = []
    for entry in reported if isinstance(reported, list) else ():
        if isinstance(entry, list | tuple) and len(entry) == 3:
            runs.append(NestedRun(str(entry[0]), str(entry[1]), bool(entry[2])))
    return runs


if TYPE_CHECKING:  # both runners fill the seam (checked by mypy)
    _seam: type[Runner] = DaskRunner
    _local_seam: type[Runner] = CodeRunner
