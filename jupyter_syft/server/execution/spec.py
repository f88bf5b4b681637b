"""What the services layer asks the code runner for, and what it gets back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..environments.runtime import EnvironmentRuntime


class ProgressSink(Protocol):
    """The progress of one run (its nested runs included); counts are never negative."""

    def init_progress(self, n_iters: int) -> None: ...

    def set_progress(self, n: int) -> None: ...

    def increment_progress(self, n: int) -> None: ...


# RunResult.error_kind values (None when ok)
USER_ERROR = "user_error"  # the function raised, or its source is not a single plain def
TIMEOUT = "timeout"  # wall-clock limit: the runner killed the worker
CPU_TIME = "cpu_time"  # RLIMIT_CPU: the kernel stopped the worker
MEMORY = "memory"  # MemoryError under RLIMIT_AS
KILLED = "killed"  # the worker died by a signal nobody here sent (OOM killer, crash, ...)
BAD_RESULT = "bad_result"  # the return value cannot be encoded, or is too large
INTERNAL = "internal"  # a fault of the runner or the worker machinery, not of the user code
# A custom policy refused the run (is_valid), failed (raised, too slow) or left a state that
# is not JSON values: the message names the policy.
POLICY = "policy"

ERROR_KINDS = frozenset(
    {USER_ERROR, TIMEOUT, CPU_TIME, MEMORY, KILLED, BAD_RESULT, INTERNAL, POLICY}
)


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


@dataclass(frozen=True)
class NestedFunction:
    """A function a run may launch as a nested job (``datasite.launch_job``), as approved."""

    code_id: str
    source: str  # as RunSpec.source
    parameters: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Plain data, for a remote executor (Dask)."""
        return {"code_id": self.code_id, "source": self.source, "parameters": list(self.parameters)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NestedFunction:
        return cls(str(data["code_id"]), str(data["source"]), tuple(data["parameters"]))


@dataclass(frozen=True)
class NestedRun:
    """One nested job a run launched, for the audit log."""

    name: str
    code_id: str
    ok: bool


@dataclass
class RunSpec:
    """One approved function call: ``func_name(**decoded inputs)``."""

    source: str  # source of ONE top-level `def func_name(...)`, no decorators
    func_name: str
    inputs: dict[str, Path]  # parameter name -> value file (serde format); read-only to the job
    limits: Limits = field(default_factory=Limits)
    label: str = ""  # for logs, e.g. the request id
    # Names of other Syft functions the code may launch as nested jobs (bound as references).
    nested: tuple[str, ...] = ()
    # The plan, fixed before the run: the functions it may launch, by name, at any depth. The
    # runner answers launch_job from it (``nested.NestedCalls``), here or on a Dask worker.
    nested_code: dict[str, NestedFunction] = field(default_factory=dict)
    # On private data: a launch outside the plan is "not approved" rather than "not submitted".
    private: bool = False
    # Where progress calls go (the job's row); None: nowhere (a blocking call).
    progress: ProgressSink | None = None
    # Who answers the worker's calls instead of the plan: (header, value) -> reply. For tests
    # and for the nested runs of a run (they share their parent's answerer).
    on_call: Callable[[dict[str, Any], bytes], tuple[dict[str, Any], bytes]] | None = None
    # A job (blocking=False) rather than a call someone waits for: it never takes the warm
    # workers reserved for blocking calls, and runs at a lower CPU priority. Nested runs
    # inherit it from the run that launched them.
    background: bool = False
    # The disclosure rule set (``jupyter_syft.disclosure.RuleSet.to_json()``): the worker checks
    # the result with it, next to the data, before sending it. None: no check (nested runs,
    # whose values only go back into the run that launched them).
    rules: dict[str, Any] | None = None
    # Custom policies (plain data): ``{"input": {class_name, code, init_kwargs, inputs} | None,
    # "output": {class_name, code, init_kwargs} | None, "state": {"state": ...} | None,
    # "code_id": str}``. Their code runs in the worker's child, next to the function (only in
    # a checked job: ``rules`` must be set): is_valid before it, apply_to_output after it.
    policies: dict[str, Any] | None = None
    # The environment the code asked for (``Code.environment``); None: the Datasite's default
    # one (its own interpreter and packages). Its lock hash is recorded with the result.
    environment: EnvironmentRuntime | None = None


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
    nested: list[NestedRun] = field(default_factory=list)  # the nested jobs it launched
    # The disclosure report the worker made (``jupyter_syft.disclosure.check_result``), as it
    # sent it: untrusted JSON, checked by whoever stores it. None: no check was asked or made.
    report: dict[str, Any] | None = None
    # The custom output policy's state after the run, as the worker sent it (``{"state":
    # ...}``, JSON values, untrusted); None: no custom output policy, or it did not run.
    policy_state: dict[str, Any] | None = None
    # Which packages it ran with: the environment's name ("" the default one) and the sha256
    # of its lock (the default one: of the Datasite's installed distributions, ``locks``).
    environment: str = ""
    lock_hash: str = ""
