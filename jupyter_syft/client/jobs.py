"""Jobs: runs asked for with ``blocking=False``. ``job.wait().get()`` gives the value."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess
from .collection import Collection
from .results import DisclosureReportView, ResultPointer, report_of, state_word
from .statuses import JobStatus
from .view import Field, View

if TYPE_CHECKING:
    from ..wire import models

DONE = (JobStatus.COMPLETED, JobStatus.ERRORED, JobStatus.INTERRUPTED)
LONG_POLL = 25.0  # seconds a wait lets the Datasite hold one answer (it allows up to 30)


class Job(View):
    _model: models.Job

    id = Field()
    service_func_name = Field()
    creation_time = Field("created_at")
    error = Field()  # why it errored or was interrupted ("" otherwise)

    @property
    def status(self) -> JobStatus:
        return JobStatus.from_wire(self._model.status)

    @property
    def execution(self) -> dict[str, Any] | None:
        """The run it made, once it ran (as on the wire); None before."""
        execution = self._model.execution
        return None if execution is None else execution.to_json()

    @property
    def progress(self) -> str:
        """What the code reported with datasite.init_progress / increment_progress."""
        n, current = self._model.n_iters, self._model.current_iter
        return f"{current}/{n}" if n else ""

    @property
    def release(self) -> str:
        """Its result's release state (released, held for output review, withheld); "" before
        it ran."""
        execution = self._model.execution
        return "" if execution is None else state_word(execution.release)

    @property
    def report(self) -> DisclosureReportView | None:
        """Its result's disclosure report, once it ran (None: no checks ran)."""
        return report_of(self._model.execution)

    @property
    def resolved(self) -> bool:
        return self.status in DONE

    def fetch(self, wait: float = 0) -> Job:
        """Read it again; ``wait``: let the Datasite hold the answer up to that many seconds
        until the job has ended."""
        self._model = self._session.api.job(self.id, wait=wait)
        return self

    def wait(self, timeout: float | None = None, job_only: bool = False) -> ResultPointer:
        """Block until the job ends, then give its result. The Datasite holds each answer
        until the job has ended (up to ``LONG_POLL`` seconds at a time), so waiting costs a
        request per ``LONG_POLL`` seconds, not one every few milliseconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.02
        while True:
            step = LONG_POLL if deadline is None else max(0.0, deadline - time.monotonic())
            asked = time.monotonic()
            if self.fetch(wait=min(step, LONG_POLL)).resolved:
                return self.result
            if deadline is not None and time.monotonic() >= deadline:
                raise SyftException(
                    f"Job {self.id} is still {self.status.value} after {timeout} s; "
                    "call job.wait() again, or job.kill() if it is still queued."
                )
            if time.monotonic() - asked < min(step, LONG_POLL) / 2:
                # Answered early though it has not ended (a Datasite that does not hold
                # answers, or too many held already): ask again after a pause, as before.
                time.sleep(delay)
                delay = min(delay * 1.5, 0.5)

    @property
    def result(self) -> ResultPointer:
        """The result of a completed job (a pointer; ``.get()`` gives the value)."""
        execution = self._model.execution
        if self.status == JobStatus.COMPLETED and execution is not None:
            # Held for output review: the pointer says so, and its get() raises with the report.
            return ResultPointer(self._session, execution, name=self.service_func_name)
        if self.status in (JobStatus.ERRORED, JobStatus.INTERRUPTED):
            raise SyftException(f"Job {self.id} {self.status.value}: {self.error}")
        raise SyftException(f"Job {self.id} is still {self.status.value}: call job.wait() first.")

    def justify(self, text: str) -> SyftSuccess:
        """Tell the owners reviewing this job's held result why it should be released (see
        ``ResultPointer.justify``): only once it ran and while its result is held."""
        execution = self.fetch()._model.execution
        if execution is None:
            raise SyftException(
                f"Job {self.id} has no result yet: call job.wait(), then job.justify('...') "
                "if its result is held."
            )
        result: SyftSuccess = self.result.justify(text)
        return result

    def logs(self, stdout: bool = True, stderr: bool = True, _print: bool = True) -> str:
        execution = self.fetch().execution or {}
        if "stdout" not in execution:
            text = (
                "No output yet." if not execution
                else "This job ran on private data: only the data owner sees its prints."
            )  # fmt: skip
        else:
            text = (execution["stdout"] if stdout else "") + (execution["stderr"] if stderr else "")
        if _print:
            print(text)
        return str(text)

    def kill(self) -> SyftSuccess:
        self._model = self._session.api.kill_job(self.id)
        return SyftSuccess(f"Job {self.id} cancelled.")

    def __repr__(self) -> str:
        progress = f", progress={self.progress}" if self.progress else ""
        held = f", output={self.release}" if self.release not in ("", "released") else ""
        return (
            f"Job({self.service_func_name}, id={self.id}, status={self.status.value}"
            f"{progress}{held})"
        )

    def _repr_html_(self) -> str:
        return display.card(
            f"Job: {self.service_func_name}",
            [("Id", self.id), ("Status", self.status.value), ("Progress", self.progress),
             ("Created", self.creation_time), ("Error", self.error),
             ("Output", _output_words(self.release))],
            extra_html="" if self.report is None else self.report.html(),
            kind="Job",
        )  # fmt: skip


class JobCollection(Collection[Job]):
    """``client.jobs``: this account's jobs (every job, for owners)."""

    title = "Jobs"
    headers = ("Function", "Status", "Output", "Progress", "Created", "ID")

    def _fetch(self) -> Iterable[Job]:
        return (Job(self._session, j) for j in self._session.api.jobs())

    def _row(self, j: Job) -> list[Any]:
        return [
            j.service_func_name, j.status.value, _output_words(j.release), j.progress,
            j.creation_time, j.id,
        ]  # fmt: skip

    def _find(self, key: str) -> Job:
        for job in self._items:
            if job.id == key:
                return job
        raise SyftException(f"No job {key!r} here; client.jobs lists those you may see.")

    def get_by_id(self, uid: str) -> Job:
        return self._find(uid)


def _output_words(release: str) -> str:
    """A result's release state in words ("" when released or not run yet)."""
    return {"held": "held for output review", "withheld": "withheld"}.get(release, "")
