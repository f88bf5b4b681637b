"""The runner seam: what the services layer needs of a runner, and what it hands one.

``Runner`` is what ``CodeRunner`` (this machine's worker pool) and ``DaskRunner`` (a Dask
cluster) both are; the services see nothing else of them. ``ProgressSink`` is where a run's
progress calls go (``datasite.init_progress / set_progress / increment_progress``): the job
service implements it for a job's row, so execution never calls back into the services.
"""

from __future__ import annotations

from typing import Protocol

# ProgressSink is declared with the RunSpec that carries it; the seam names it for the services.
from .spec import ProgressSink, RunResult, RunSpec

__all__ = ["ProgressSink", "Runner"]


class Runner(Protocol):
    """Runs specs, each in a sandboxed worker process; thread-safe."""

    @property
    def sandbox(self) -> str:
        """How user code is isolated: "bwrap", "none", or "dask" (then the workers' own)."""
        ...

    def run(self, spec: RunSpec) -> RunResult:
        """Run one function call, blocking; nested calls are answered from the spec's plan."""
        ...

    def cancel(self, label: str) -> bool:
        """Stop the run labelled ``label`` (and its nested runs), now or when it starts."""
        ...

    def active_runs(self) -> int:
        """How many runs are going on right now."""
        ...

    def close(self) -> None:
        """Stop every run and release the workers."""
        ...
