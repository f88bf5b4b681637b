"""CodeRunner: the services layer's one entry point for running approved code."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import keyword
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from . import default_lock, protocol
from .job import Job, WorkerGone
from .nested import NestedCalls
from .pool import EnvironmentPools, Worker, WorkerPool, WorkerStartError, start_worker
from .sandbox import Launcher, SandboxUnavailable
from .spec import INTERNAL, KILLED, USER_ERROR, RunResult, RunSpec

if TYPE_CHECKING:
    from ..environments.runtime import EnvironmentRuntime

log = logging.getLogger("jupyter_syft.server")

STALE_PARTIAL_SECONDS = 24 * 3600  # partial results older than this are a crash's leftovers
MAX_SOURCE_BYTES = 4 << 20  # the job frame must stay below protocol.MAX_FRAME
MAX_CANCELLED = 10_000  # cancelled labels remembered (a kill may come just after a run ended)
KILLED_ERROR = "The job was stopped with job.kill()."
TAKE_ATTEMPTS = 3  # workers tried for one run when they die before taking it


class CodeRunner:
    """Runs approved Syft functions in worker processes, one job per process.

    ``run`` blocks and is thread-safe; concurrent calls run in parallel, each in its own
    worker. User code never runs in this process.

    The job's calls (nested jobs, progress) are answered by ``NestedCalls`` from the spec's
    plan, unless the spec brings its own ``on_call``; the nested jobs launched are listed in
    the result. A run started from inside another one's ``on_call`` (a nested job: the same
    thread) joins the outer run's group: ``cancel(label)`` stops the whole group, nested runs
    included, and a nested run inherits ``background`` from the run that launched it.

    A spec naming an environment runs in a worker of that environment (its own warm pool, see
    ``pool.EnvironmentPools``; ``warm_environments``: how many environments keep warm workers);
    its nested runs run in the same environment. The result carries
    the environment's name and lock hash (``default_lock`` for the default one).
    """

    def __init__(
        self,
        work_dir: Path,
        hidden_paths: Sequence[Path] = (),
        warm_workers: int = 2,
        sandbox: str = "auto",
        reserved_workers: int = 1,
        warm_environments: int = 3,
    ):
        default_lock.start()  # off the runs' path
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._results = self.work_dir / "results"
        self._results.mkdir(mode=0o700, exist_ok=True)
        self._remove_stale_partials()
        # work_dir is hidden too: it holds other jobs' results.
        self._launcher = Launcher(sandbox, [*map(Path, hidden_paths), self.work_dir])
        self._lock = threading.Lock()
        self._active: set[Worker] = set()
        self._groups: dict[str, set[Worker]] = {}  # group label -> workers running in it
        # Labels cancelled while running or before they started (oldest first, bounded).
        self._cancelled: dict[str, None] = {}
        self._thread = threading.local()  # .group / .background of the run in this thread
        self._closed = False
        self._pool = WorkerPool(self._launcher, self.work_dir, warm_workers, reserved_workers)
        self._env_pools = EnvironmentPools(self._launcher, self.work_dir, warm_environments)
        log.info(
            "Code runner ready: sandbox %s, workers run as uid %s, %d warm worker(s) + %d "
            "reserved for blocking calls",
            self.sandbox,
            self._launcher.uid if self._launcher.uid is not None else os.getuid(),
            warm_workers,
            reserved_workers,
        )

    @property
    def sandbox(self) -> str:
        """What is actually used: "bwrap" or "none"."""
        return self._launcher.mode

    def run(self, spec: RunSpec) -> RunResult:
        _check(spec)
        if len(json.dumps(spec.source)) > MAX_SOURCE_BYTES:  # as it travels to the worker
            return self._failed(USER_ERROR, "The function's source is too large to run.")
        calls = None
        if spec.on_call is None:
            calls = NestedCalls(self, spec, self.work_dir)
            spec = dataclasses.replace(spec, on_call=calls)
        result = self._grouped(spec)
        if calls is not None:
            result.nested = list(calls.launched)
        env = spec.environment
        result.environment = "" if env is None else env.name
        result.lock_hash = default_lock.lock_hash() if env is None else env.lock_hash
        return result

    def _grouped(self, spec: RunSpec) -> RunResult:
        outer: str | None = getattr(self._thread, "group", None)
        if outer is not None:  # a nested run, answering a call of the run in this thread
            return self._run(spec, outer, spec.background or self._thread.background)
        group = spec.label or f"run {uuid.uuid4().hex}"
        self._thread.group, self._thread.background = group, spec.background
        try:
            return self._run(spec, group, spec.background)
        finally:
            self._thread.group = None
            with self._lock:
                self._cancelled.pop(group, None)

    def _run(self, spec: RunSpec, group: str, background: bool) -> RunResult:
        # Ready workers can all be gone at once (their template was killed): one for the
        # reserved shelf, one for the shared one, then a freshly started one.
        for attempt in range(TAKE_ATTEMPTS):
            if group in self._cancelled:  # killed before it could start
                return self._failed(KILLED, KILLED_ERROR)
            env = spec.environment
            try:
                if env is None:
                    worker = self._pool.acquire(background=background)
                else:
                    worker = self._env_pools.acquire(env, background=background)
            except SandboxUnavailable as exc:  # the environment cannot be used (says why)
                log.error("Job %s: %s", spec.label, exc)
                return self._failed(INTERNAL, str(exc))
            except WorkerStartError as exc:
                log.error("Job %s: %s", spec.label, exc)
                if env is not None:
                    return self._failed(
                        INTERNAL,
                        f"The server could not start a worker process in environment "
                        f"{env.name!r}: its packages may not work with the Datasite's Python "
                        f"or its numpy, pandas and pyarrow ({exc.reason}). Rebuild it with "
                        "versions that do (or without pinning those).",
                    )
                return self._failed(INTERNAL, "The server could not start a worker process.")
            with self._lock:
                if self._closed:
                    worker.discard()
                    raise RuntimeError("the code runner is closed")
                if group in self._cancelled:
                    worker.discard()
                    return self._failed(KILLED, KILLED_ERROR)
                self._active.add(worker)
                self._groups.setdefault(group, set()).add(worker)
            launcher = self._launcher if env is None else self._env_pools.launcher(env)
            try:
                result = Job(worker, spec, launcher, self._results / uuid.uuid4().hex).run()
            except WorkerGone as exc:
                # A warm worker died while waiting (killed from outside?): take another one.
                log.warning("Job %s: worker %d was gone (%s)", spec.label, worker.pid, exc)
                if attempt < TAKE_ATTEMPTS - 1:
                    continue
                return self._failed(INTERNAL, "The worker process died before the job started.")
            finally:
                with self._lock:
                    self._active.discard(worker)
                    members = self._groups.get(group)
                    if members is not None:
                        members.discard(worker)
                        if not members:
                            del self._groups[group]
            log.info(
                "Job %s %s: %s in %.3f s (sandbox %s, environment %s)",
                spec.label,
                spec.func_name,
                "ok" if result.ok else result.error_kind,
                result.duration_s,
                result.sandbox,
                "default" if env is None else env.name,
            )
            return result
        raise AssertionError("unreachable")

    def cancel(self, label: str) -> bool:
        """Stop the run labelled ``label`` (job.kill()) and the nested runs it launched: now
        if it has a worker, otherwise as soon as it gets one."""
        with self._lock:
            self._cancelled[label] = None
            while len(self._cancelled) > MAX_CANCELLED:
                del self._cancelled[next(iter(self._cancelled))]
            workers = list(self._groups.get(label, ()))
            for worker in workers:
                worker.cancelled = True
        for worker in workers:
            worker.stop()
        return True

    def check_environment(self, env: EnvironmentRuntime) -> str | None:
        """Whether a worker starts in ``env``, sandboxed as a run's would be (it imports the
        worker's numpy, pandas and pyarrow with the environment's packages first): None, or
        why not (for a builder's last step, so a broken build fails before any run)."""
        try:
            worker = start_worker(self._env_pools.launcher(env), self.work_dir)
        except SandboxUnavailable as exc:
            return str(exc)
        except WorkerStartError as exc:
            return exc.reason
        worker.discard()
        return None

    def warm_environments(self) -> list[str]:
        """The environments (other than the default) with warm workers, least recent first."""
        return self._env_pools.warm()

    def active_runs(self) -> int:
        """How many runs (nested ones included) have a worker right now."""
        with self._lock:
            return len(self._active)

    def _failed(self, kind: str, error: str) -> RunResult:
        return RunResult(False, None, error, kind, "", "", 0.0, self.sandbox)

    def close(self) -> None:
        """Kill all workers (a job still running ends with an error) and remove temp files."""
        with self._lock:
            self._closed = True
            active = list(self._active)
        for worker in active:
            worker.discard()
        self._env_pools.close()
        self._pool.close()  # also waits until every worker is reaped

    def __enter__(self) -> CodeRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _remove_stale_partials(self) -> None:
        cutoff = time.time() - STALE_PARTIAL_SECONDS
        for path in self._results.glob("*.partial"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


def _check(spec: RunSpec) -> None:
    """Reject malformed specs: these are bugs of the caller, not of the user code."""
    if not spec.func_name.isidentifier() or keyword.iskeyword(spec.func_name):
        raise ValueError(f"not a function name: {spec.func_name!r}")
    for name in spec.inputs:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"not a parameter name: {name!r}")
    if len(spec.inputs) > protocol.MAX_FDS:
        raise ValueError(f"at most {protocol.MAX_FDS} inputs")
    limits = spec.limits
    if min(limits.wall_seconds, limits.cpu_seconds) <= 0:
        raise ValueError("time limits must be positive")
    if min(limits.memory_mb, limits.max_processes, limits.max_result_bytes) <= 0:
        raise ValueError("memory, process and result limits must be positive")
