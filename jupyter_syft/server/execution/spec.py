"""What the services layer asks the code runner for, and what it gets back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# RunResult.error_kind values (None when ok)
USER_ERROR = "user_error"  # the function raised, or its source is not a single plain def
TIMEOUT = "timeout"  # wall-clock limit: the runner killed the worker
CPU_TIME = "cpu_time"  # RLIMIT_CPU: the kernel stopped the worker
MEMORY = "memory"  # MemoryError under RLIMIT_AS
KILLED = "killed"  # the worker died by a signal nobody here sent (OOM killer, crash, ...)
BAD_RESULT = "bad_result"  # the return value cannot be encoded, or is too large
INTERNAL = "internal"  # a fault of the runner or the worker machinery, not of the user code

ERROR_KINDS = frozenset({USER_ERROR, TIMEOUT, CPU_TIME, MEMORY, KILLED, BAD_RESULT, INTERNAL})


@dataclass(frozen=True)
class Limits:
    """Per-job limits. memory_mb caps the worker's whole address space (RLIMIT_AS); a warm
    worker with numpy, pandas and pyarrow loaded already uses about 400 MB of it.
    max_processes counts the processes *and threads* the job may start."""

    wall_seconds: float = 120.0
    cpu_seconds: float = 120.0
    memory_mb: int = 4096
    max_processes: int = 64
    max_result_bytes: int = 1 << 30


@dataclass
class RunSpec:
    """One approved function call: ``func_name(**decoded inputs)``."""

    source: str  # source of ONE top-level `def func_name(...)`, no decorators
    func_name: str
    inputs: dict[str, Path]  # parameter name -> value file (serde format); read-only to the job
    limits: Limits = field(default_factory=Limits)
    label: str = ""  # for logs, e.g. the request id
    # Names of other Syft functions the code may launch as nested jobs (bound as references),
    # and who answers the worker's calls (nested jobs, progress): (header, value) -> reply.
    nested: tuple[str, ...] = ()
    on_call: Callable[[dict[str, Any], bytes], tuple[dict[str, Any], bytes]] | None = None
    # The nested functions this run may launch: name -> {"source", "parameters"}. A remote
    # executor (Dask) answers launch_job from these, since it cannot call the Datasite.
    nested_code: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A job (blocking=False) rather than a call someone waits for: it never takes the warm
    # workers reserved for blocking calls, and runs at a lower CPU priority. Nested runs
    # inherit it from the run that launched them.
    background: bool = False


@dataclass
class RunResult:
    ok: bool
    result_file: Path | None  # encoded result, next to work_dir: the caller moves or deletes it
    error: str | None  # user-facing: "Type: message" then a traceback of the user's frames only
    error_kind: str | None  # None or one of ERROR_KINDS
    stdout: str  # the user code's prints, at most 1 MiB
    stderr: str
    duration_s: float  # from the job reaching its worker until its result was complete
    sandbox: str  # "bwrap" or "none"
