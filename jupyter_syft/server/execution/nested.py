"""Answering a running job's calls: nested jobs (``datasite.launch_job``) and progress.

One answerer for every runner: ``CodeRunner`` puts a ``NestedCalls`` on each run it is given
without one, so a Datasite's own worker pool and a Dask worker (which runs its tasks through
its own ``CodeRunner``) answer the same way. A launch is answered from the run's plan alone
(``RunSpec.nested_code``, fixed before the run: on private data, what the owner approved), so
nothing here asks the Datasite anything. Progress goes to the run's ``ProgressSink``; the
nested jobs launched are listed on the run's result, for the audit log.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import threading
from pathlib import Path
from typing import Any

from ... import serde
from .seam import ProgressSink, Runner
from .spec import NestedRun, RunSpec

log = logging.getLogger("jupyter_syft.server")
PROGRESS_OPS = ("init", "set", "increment")

Reply = tuple[dict[str, Any], bytes]


def report_progress(sink: ProgressSink | None, op: Any, n: Any) -> None:
    """Hand one progress call (as the worker sent it: untrusted) to ``sink``."""
    if sink is None or op not in PROGRESS_OPS or not isinstance(n, int) or isinstance(n, bool):
        return
    n = max(n, 0)
    if op == "init":
        sink.init_progress(n)
    elif op == "set":
        sink.set_progress(n)
    else:
        sink.increment_progress(n)


def _refused(error: str) -> Reply:
    return {"ok": False, "error": error}, b""


class NestedCalls:
    """The answerer of one run and of the nested runs it launches (they share it)."""

    def __init__(self, runner: Runner, spec: RunSpec, work_dir: Path):
        self.runner = runner
        self.spec = spec  # the outer run: its plan, limits, progress and priority hold for all
        self.work_dir = Path(work_dir)
        self.launched: list[NestedRun] = []
        self._lock = threading.Lock()

    def __call__(self, header: dict[str, Any], data: bytes) -> Reply:
        call = header.get("call")
        if call == "progress":
            report_progress(self.spec.progress, header.get("op"), header.get("n"))
            return {"ok": True}, b""
        if call != "launch_job":
            return _refused("Unknown call.")
        return self._launch(str(header.get("name")), data)

    def _launch(self, name: str, data: bytes) -> Reply:
        nested = self.spec.nested_code.get(name)
        if nested is None and self.spec.private:
            return _refused(
                f"The nested function {name!r} is not approved to run on private data: the "
                "data owner approves the functions a request launches, as shown to them, with "
                "request.approve(approve_nested=True)."
            )
        if nested is None:
            return _refused(
                f"No submitted function named {name!r}: submit it first (client.code.submit)."
            )
        try:
            kwargs = serde.loads(data)
        except serde.SerdeError as exc:
            return _refused(f"The arguments of {name!r} are not valid: {exc}")
        if not isinstance(kwargs, dict) or set(kwargs) - set(nested.parameters):
            return _refused(f"{name!r} takes {', '.join(nested.parameters)}.")
        with tempfile.TemporaryDirectory(dir=self.work_dir, prefix="nested-") as tmp:
            paths: dict[str, Path] = {}
            for param, value in kwargs.items():
                paths[param] = Path(tmp) / f"{param}.jsyf"
                paths[param].write_bytes(serde.dumps(value))
            # Same thread as the parent's run: the runner makes it part of the parent's group
            # (stopped with it), with the parent's priority.
            spec = dataclasses.replace(
                self.spec,
                source=nested.source,
                func_name=name,
                inputs=paths,
                label=f"{self.spec.label} > {name}",
                on_call=self,
                rules=None,  # its value goes back into the parent run, which is checked
            )
            result = self.runner.run(spec)
        with self._lock:
            self.launched.append(NestedRun(name, nested.code_id, bool(result.ok)))
        if not result.ok or result.result_file is None:
            return _refused(f"Nested job {name} failed: {result.error}")
        # The value goes back into the parent job only; nothing is stored for the scientist.
        path = Path(result.result_file)
        try:
            return {"ok": True}, path.read_bytes()
        finally:
            path.unlink(missing_ok=True)
