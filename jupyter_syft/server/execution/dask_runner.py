"""Scale-out: run jobs on a Dask distributed cluster instead of this machine's worker pool.

``DaskRunner`` has the same ``run(spec) -> RunResult`` as ``CodeRunner``. Each run becomes a
Dask task that, on the Dask worker's machine, runs the function through that machine's own
``CodeRunner`` — the same sandbox, uid and limits as on the Datasite. Inputs travel as encoded
bytes (the Dask workers never see the Datasite's folders); nested jobs are answered there from
the approved functions shipped with the spec, since a Dask worker cannot call the Datasite.

Dask moves our bytes and plain dicts between the Datasite and its own cluster (one trust
domain, run by the data owner). User code's output is only ever read as the value format,
never unpickled.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .spec import INTERNAL, TIMEOUT, Limits, RunResult, RunSpec

log = logging.getLogger("jupyter_syft.server")
_local: dict[str, Any] = {}
_local_lock = threading.Lock()


def run_remote(
    source: str,
    func_name: str,
    inputs: dict[str, bytes],
    limits: dict[str, Any],
    nested_code: dict[str, dict[str, Any]],
    label: str,
    nested_names: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The Dask task: run one job with this machine's sandboxed worker pool."""
    runner = _local_runner()
    names = tuple(nested_names) or tuple(nested_code)
    with tempfile.TemporaryDirectory(dir=runner.work_dir, prefix="dask-") as tmp:
        spec = _spec(
            Path(tmp), source, func_name, inputs, Limits(**limits), nested_code, label, names
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
    }


def _spec(
    folder: Path,
    source: str,
    func_name: str,
    inputs: dict[str, bytes],
    limits: Limits,
    nested_code: dict[str, dict[str, Any]],
    label: str,
    names: tuple[str, ...],
) -> RunSpec:
    paths = {}
    for name, data in inputs.items():
        paths[name] = folder / f"{name}.jsyf"
        paths[name].write_bytes(data)
    return RunSpec(
        source=source,
        func_name=func_name,
        inputs=paths,
        limits=limits,
        label=label,
        nested=names,
        on_call=lambda header, data: _answer_nested(
            header, data, limits, nested_code, label, names
        ),
    )


def _answer_nested(
    header: dict[str, Any],
    data: bytes,
    limits: Limits,
    nested_code: dict[str, dict[str, Any]],
    label: str,
    names: tuple[str, ...],
) -> tuple[dict[str, Any], bytes]:
    from ... import serde

    if header.get("call") == "progress":
        return {"ok": True}, b""  # progress is reported for jobs run on the Datasite itself
    name = header.get("name")
    nested = nested_code.get(str(name))
    if header.get("call") != "launch_job":
        return {"ok": False, "error": "Unknown call."}, b""
    if nested is None:
        error = (
            f"The nested function {name!r} is not approved to run on private data; the data "
            "owner approves it with request.approve(approve_nested=True)."
            if name in names
            else f"No submitted function named {name!r}: submit it first (client.code.submit)."
        )
        return {"ok": False, "error": error}, b""
    kwargs = serde.loads(data)
    if not isinstance(kwargs, dict) or set(kwargs) - set(nested["parameters"]):
        return {"ok": False, "error": f"{name!r} takes {', '.join(nested['parameters'])}."}, b""
    outcome = run_remote(
        nested["source"],
        str(name),
        {k: serde.dumps(v) for k, v in kwargs.items()},
        asdict(limits),
        nested_code,
        f"{label} > {name}",
        names,
    )
    if not outcome["ok"]:
        return {"ok": False, "error": f"Nested job {name} failed: {outcome['error']}"}, b""
    return {"ok": True}, outcome["data"]


def _local_runner() -> Any:
    """One CodeRunner per Dask worker process, made on its first task."""
    from .runner import CodeRunner

    with _local_lock:
        if "runner" not in _local:
            work_dir = Path(tempfile.mkdtemp(prefix="jupyter-syft-dask-"))
            _local["runner"] = CodeRunner(work_dir=work_dir, warm_workers=1)
        return _local["runner"]


class DaskRunner:
    """Sends each run to the Dask cluster at ``scheduler_address``."""

    def __init__(self, scheduler_address: str, work_dir: Path):
        from distributed import Client

        self.scheduler_address = scheduler_address
        self.client = Client(scheduler_address, timeout=30, set_as_default=False)
        self._results = Path(work_dir) / "results"
        self._results.mkdir(parents=True, exist_ok=True)
        self.sandbox = "dask"
        self._futures: dict[str, Any] = {}

    def run(self, spec: RunSpec) -> RunResult:
        started = time.monotonic()
        inputs = {name: Path(path).read_bytes() for name, path in spec.inputs.items()}
        future = self.client.submit(
            run_remote,
            spec.source,
            spec.func_name,
            inputs,
            asdict(spec.limits),
            dict(spec.nested_code),
            spec.label,
            tuple(spec.nested),
            pure=False,
            key=f"jupyter-syft-{uuid.uuid4().hex}",
        )
        if spec.label:
            self._futures[spec.label] = future
        try:
            # The Dask worker's runner enforces the wall limit; this only guards a lost cluster.
            out = future.result(timeout=spec.limits.wall_seconds + 120)
        except CancelledError:
            return self._failed("killed", "The job was stopped with job.kill().", started)
        except FutureTimeout:
            future.cancel()
            return self._failed(
                TIMEOUT, "The Dask cluster did not finish the job in time.", started
            )
        except Exception as exc:  # the cluster, not the user's code, failed
            log.error("Dask job %s failed: %s", spec.label, exc)
            return self._failed(INTERNAL, "The Dask cluster could not run the job.", started)
        finally:
            self._futures.pop(spec.label, None)
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
        )

    def cancel(self, label: str) -> bool:
        future = self._futures.get(label)
        if future is None:
            return False
        future.cancel()
        return True

    def _failed(self, kind: str, error: str, started: float) -> RunResult:
        return RunResult(False, None, error, kind, "", "", time.monotonic() - started, self.sandbox)

    def close(self) -> None:
        self.client.close()
