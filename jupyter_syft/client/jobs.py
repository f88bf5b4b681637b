"""Jobs: runs asked for with ``blocking=False``. ``job.wait().get()`` gives the value."""

from __future__ import annotations

import time
from collections.abc import Iterator
from enum import Enum
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess

if TYPE_CHECKING:
    from .client import DatasiteClient
    from .code import ResultPointer


class JobStatus(str, Enum):
    CREATED = "created"
    PROCESSING = "processing"
    COMPLETED = "completed"
    ERRORED = "errored"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return f"JobStatus.{self.name}"


DONE = (JobStatus.COMPLETED, JobStatus.ERRORED, JobStatus.INTERRUPTED)


class Job:
    def __init__(self, client: DatasiteClient, data: dict[str, Any]):
        self._client = client
        self._data = data

    id = property(lambda self: self._data["id"])
    service_func_name = property(lambda self: self._data.get("service_func_name", ""))
    creation_time = property(lambda self: self._data.get("created_at"))

    @property
    def status(self) -> JobStatus:
        return JobStatus(self._data["status"])

    @property
    def progress(self) -> str:
        """What the code reported with datasite.init_progress / increment_progress."""
        n, current = self._data.get("n_iters", 0), self._data.get("current_iter", 0)
        return f"{current}/{n}" if n else ""

    @property
    def resolved(self) -> bool:
        return self.status in DONE

    def fetch(self) -> Job:
        self._data = self._client.connection.get(f"jobs/{self.id}")
        return self

    def wait(self, timeout: float | None = None, job_only: bool = False) -> ResultPointer:
        """Block until the job ends (polling, quickly at first), then give its result."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.02
        while not self.fetch().resolved:
            if deadline is not None and time.monotonic() >= deadline:
                raise SyftException(
                    f"Job {self.id} is still {self.status.value} after {timeout} s; "
                    "call job.wait() again, or job.kill() if it is still queued."
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        return self.result

    @property
    def result(self) -> ResultPointer:
        """The result of a completed job (a pointer; ``.get()`` gives the value)."""
        from .code import ResultPointer

        if self.status == JobStatus.COMPLETED and self._data.get("execution"):
            return ResultPointer(self._client, self._data["execution"])
        if self.status in (JobStatus.ERRORED, JobStatus.INTERRUPTED):
            raise SyftException(f"Job {self.id} {self.status.value}: {self._data.get('error', '')}")
        raise SyftException(f"Job {self.id} is still {self.status.value}: call job.wait() first.")

    def logs(self, stdout: bool = True, stderr: bool = True, _print: bool = True) -> str:
        execution = self.fetch()._data.get("execution") or {}
        if "stdout" not in execution:
            text = (
                "No output yet." if not execution
                else "This job ran on private data: only the data owner sees its prints."
            )  # fmt: skip
        else:
            text = (execution["stdout"] if stdout else "") + (execution["stderr"] if stderr else "")
        if _print:
            print(text)
        return text

    def kill(self) -> SyftSuccess:
        self._data = self._client.connection.post(f"jobs/{self.id}/kill")
        return SyftSuccess(f"Job {self.id} cancelled.")

    def __repr__(self) -> str:
        progress = f", progress={self.progress}" if self.progress else ""
        return f"Job({self.service_func_name}, id={self.id}, status={self.status.value}{progress})"

    def _repr_html_(self) -> str:
        return display.card(
            f"Job: {self.service_func_name}",
            [("Id", self.id), ("Status", self.status.value), ("Progress", self.progress),
             ("Created", self.creation_time), ("Error", self._data.get("error"))],
            kind="Job",
        )  # fmt: skip


class JobCollection:
    def __init__(self, client: DatasiteClient):
        self._jobs = [Job(client, j) for j in client.connection.get_pages("jobs")]

    def get_all(self) -> list[Job]:
        return display.TableList(self._jobs, "Jobs", JOB_HEADERS, _job_row)

    def __getitem__(self, index: int) -> Job:
        return self._jobs[index]

    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs)

    def _rows(self) -> list[list[Any]]:
        return [_job_row(j) for j in self._jobs]

    def __repr__(self) -> str:
        return display.text_table(JOB_HEADERS, self._rows())

    def _repr_html_(self) -> str:
        return display.listing("Jobs", JOB_HEADERS, self._rows())


JOB_HEADERS = ["Function", "Status", "Progress", "Created", "ID"]


def _job_row(j: Job) -> list[Any]:
    return [j.service_func_name, j.status.value, j.progress, j.creation_time, j.id]
