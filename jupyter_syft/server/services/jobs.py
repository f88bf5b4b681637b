"""Jobs: code runs asked for with ``blocking=False``, queued and run in the background.

A job goes created -> processing -> completed | errored. Jobs live in the store: on start, a
Datasite queues again the jobs that never started and marks the ones cut off mid-run (their
process gone) as interrupted, so none is lost and none runs twice without anyone knowing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from ...roles import ServiceRole
from ...wire import models as wire
from ...wire.enums import JobStatus
from .. import models
from ..events import Change
from ..execution.fair_queue import FairQueue
from ..store import Store
from . import limits, liveness, paging
from .actor import Actor, visible_row
from .audit import AuditLog
from .code import CodeService, RunInterrupted
from .errors import BadRequest, Conflict, NotFound, ServiceError
from .paging import PageParams, preload
from .views import iso

log = logging.getLogger("jupyter_syft.server")
INTERRUPTED = "The Datasite stopped while this job was running; run it again."
# the jobs list's ``state`` filter: which statuses each word takes in
JOB_STATES = {
    "active": (JobStatus.CREATED.value, JobStatus.PROCESSING.value),
    "finished": (
        JobStatus.COMPLETED.value,
        JobStatus.ERRORED.value,
        JobStatus.INTERRUPTED.value,
    ),
}


class JobService:
    def __init__(
        self, store: Store, audit: AuditLog, code: CodeService, workers: int | None = None
    ):
        self.store = store
        self.audit = audit
        self.code = code
        # Turns are taken per scientist; blocking calls do not wait here (they run on the
        # HTTP layer's threads), so they are answered while every job thread is busy: the
        # runner keeps a warm worker for them that jobs cannot take, and runs jobs at a
        # lower CPU priority (RunSpec.background).
        self._queue: FairQueue[str] = FairQueue()
        self._killed: set[str] = set()  # running jobs whose owner asked to stop them
        self._stopping = False
        self._current: set[str] = set()  # jobs running in this process
        self._me = liveness.identity()  # written on the jobs this process runs
        self._threads = [
            threading.Thread(target=self._serve, name=f"datasite-job-{i}", daemon=True)
            for i in range(workers or os.cpu_count() or 2)
        ]
        for thread in self._threads:
            thread.start()

    def _serve(self) -> None:
        while (job_id := self._queue.get()) is not None:
            try:
                self._run(job_id)
            except Exception:  # keep the thread alive for the next job
                log.exception("job %s could not be run", job_id)

    def recover(self) -> None:
        """After a restart: re-queue jobs that never started, mark cut-off ones interrupted,
        and give back the runs they (and blocking calls cut off with them) had claimed. Only
        jobs whose process is gone are cut off: another process on the same database (the
        Jupyter extension beside ``jupyter-syft serve``) may be running its own."""
        self._mark_cut_off(dead_only=True)
        released = self.code.release_cut_off_runs()
        if released:
            log.info("Gave back %d run(s) cut off before they delivered a result", released)
        with self.store.session() as session:
            pending = session.exec(
                select(models.Job.user_id, models.Job.id).where(models.Job.status == "created")
            ).all()
        for user_id, job_id in pending:
            self._queue.put(user_id, job_id)

    def _mark_cut_off(self, only: set[str] | None = None, dead_only: bool = False) -> None:
        """Mark running jobs interrupted: those in ``only``, or (at start) those whose
        process is gone (a job from before owners were kept has none: it is gone too)."""
        with self.store.session() as session:
            query = select(models.Job).where(models.Job.status == "processing")
            if only is not None:
                query = query.where(col(models.Job.id).in_(only))
            jobs = session.exec(query).all()
            if dead_only:
                jobs = [job for job in jobs if not job.owner or not liveness.is_alive(job.owner)]
            for job in jobs:
                job.status, job.error, job.updated_at = "interrupted", INTERRUPTED, models.utcnow()
                session.add(job)
            session.commit()

    def submit(self, actor: Actor, code_id: str, inputs: dict[str, Any]) -> wire.Job:
        actor.require_user("run code")
        if not isinstance(inputs, dict):
            raise BadRequest("inputs must be an object.")
        # Visible to this caller (else NotFound) and runnable now: pending code without mock
        # permission, denied code, a disabled account are refused here, not by a failed job.
        self.code.admit(actor, code_id)
        job = models.Job(code_id=code_id, user_id=actor.user_id or "", inputs=inputs)
        with self.store.session() as session:
            session.add(job)
            session.commit()
        self.audit.record(actor, "job.create", "job", job.id, code=code_id)
        self._queue.put(job.user_id, job.id)
        return self.get(actor, job.id)

    def submit_by_name(self, actor: Actor, name: Any, inputs: dict[str, Any]) -> wire.Job:
        """A job of the version of ``name`` the Datasite picks (``code.version_to_run``)."""
        return self.submit(actor, self.code.version_to_run(actor, name), inputs)

    def _run(self, job_id: str) -> None:
        with self.store.session() as session:
            # Taken only if still queued (not killed meanwhile), in one statement.
            now = models.utcnow()
            taken = session.exec(
                update(models.Job)
                .where(col(models.Job.id) == job_id, col(models.Job.status) == "created")
                .values(status="processing", updated_at=now, started_at=now, owner=self._me)
            ).rowcount
            if taken != 1:
                session.rollback()
                return  # killed before it started
            job, user = session.exec(
                select(models.Job, models.User)
                .outerjoin(models.User, col(models.User.id) == col(models.Job.user_id))
                .where(col(models.Job.id) == job_id)
            ).one()
            session.commit()
        self._current.add(job_id)
        try:
            self._finish(job, user)
        finally:
            self._current.discard(job_id)

    def _finish(self, job: models.Job, user: models.User | None) -> None:
        job_id = job.id
        status, error, execution_id = "errored", "", None
        try:
            assert user is not None
            actor = Actor(user.id, user.email, user.name, ServiceRole(user.role))
            progress = JobProgress(self.store, job_id)
            outcome = self.code.run(actor, job.code_id, job.inputs, job_id, progress)
            execution_id = outcome.id
            status = "completed" if outcome.ok else "errored"
            error = outcome.error
        except RunInterrupted:  # cut off by close(): nothing came out, the run is given back
            status, error = "interrupted", INTERRUPTED
        except ServiceError as exc:
            error = exc.detail
        except Exception:  # the job must end in a state the user can see, whatever happened
            if self._stopping:  # e.g. the runner closed under it
                status, error = "interrupted", INTERRUPTED
            else:
                log.exception("job %s failed", job_id)
                error = "The Datasite hit an internal error running this job; its log has details."
        if job_id in self._killed:
            self._killed.discard(job_id)
            status, error = "interrupted", "Stopped with job.kill()."
        with self.store.session() as session:
            session.exec(
                update(models.Job)
                .where(col(models.Job.id) == job_id)
                .values(
                    status=status,
                    error=error,
                    execution_id=execution_id,
                    updated_at=models.utcnow(),
                )
            )
            session.commit()
        # Not audited (its run is): told to the change bus here, for the push channel and inboxes.
        self.audit.changes.publish(
            Change(
                "job.finish",
                "job",
                job_id,
                actor_id=job.user_id,
                detail={"status": status, "execution": execution_id or ""},
            )
        )

    def list(
        self, actor: Actor, page: PageParams | None = None, state: str | None = None
    ) -> wire.Page[wire.Job]:
        """One page of the jobs the caller may see (see ``paging``): owners see everyone's,
        others their own; ``state`` "active" (queued or running) or "finished"."""
        actor.require_user("list jobs")
        with self.store.session() as session:
            query = select(models.Job)
            if not actor.is_owner:
                query = query.where(models.Job.user_id == actor.user_id)
            if state not in (None, ""):
                if state not in JOB_STATES:
                    raise BadRequest(
                        f"state must be active (queued or running) or finished, not "
                        f"{limits.clip(str(state))}; leave it out for every job."
                    )
                query = query.where(col(models.Job.status).in_(JOB_STATES[state]))

            def views(rows: Sequence[models.Job]) -> list[wire.Job]:
                # their code and runs in two IN-queries: _view's session.get hits the identity map
                preload(session, models.UserCode, {j.code_id for j in rows})
                preload(session, models.Execution, {j.execution_id for j in rows})
                preload(session, models.User, {j.user_id for j in rows})
                return [self._view(session, actor, j) for j in rows]

            return paging.page(
                session,
                query,
                "jobs",
                col(models.Job.created_at),
                col(models.Job.id),
                page,
                views,
            )

    def get(self, actor: Actor, job_id: str) -> wire.Job:
        """One job (its owner's or, for owners, anyone's), read in one query: clients waiting
        for a job ask for it again and again."""
        actor.require_user("see jobs")
        with self.store.session() as session:
            found = session.exec(
                select(
                    models.Job,
                    col(models.UserCode.service_func_name),
                    models.User,
                    models.Execution,
                )
                .outerjoin(models.UserCode, col(models.UserCode.id) == col(models.Job.code_id))
                .outerjoin(models.User, col(models.User.id) == col(models.Job.user_id))
                .outerjoin(
                    models.Execution, col(models.Execution.id) == col(models.Job.execution_id)
                )
                .where(col(models.Job.id) == job_id)
            ).first()
            if found is None or (found[0].user_id != actor.user_id and not actor.is_owner):
                raise NotFound(f"No job with id {job_id}.")  # as visible_row says it
            job, func_name, user, execution = found
            requester = None if user is None else wire.Person(name=user.name, email=user.email)
            return self._wire(actor, job, func_name or "", requester, execution)

    def kill(self, actor: Actor, job_id: str) -> wire.Job:
        with self.store.session() as session:
            job = self._visible(session, actor, job_id)
            if job.status == "processing":
                self._killed.add(job_id)
                if not self.code.cancel_job_run(job_id):
                    self._killed.discard(job_id)
                    raise Conflict("This job is finishing right now and can no longer be stopped.")
            if job.status == "created":
                job.status, job.error = "interrupted", "Cancelled before it started."
                job.updated_at = models.utcnow()
                session.add(job)
                session.commit()
        self.audit.record(actor, "job.kill", "job", job_id)
        return self.get(actor, job_id)

    def _visible(self, session: Any, actor: Actor, job_id: str) -> models.Job:
        return visible_row(session, actor, models.Job, job_id, "job")

    def _view(self, session: Any, actor: Actor, job: models.Job) -> wire.Job:
        code = session.get(models.UserCode, job.code_id)
        execution = session.get(models.Execution, job.execution_id) if job.execution_id else None
        user = session.get(models.User, job.user_id)
        requester = wire.Person(name=user.name, email=user.email) if user else None
        return self._wire(actor, job, code.service_func_name if code else "", requester, execution)

    def _wire(
        self,
        actor: Actor,
        job: models.Job,
        func_name: str,
        requester: wire.Person | None,
        execution: models.Execution | None,
    ) -> wire.Job:
        return wire.Job(
            id=job.id,
            code_id=job.code_id,
            service_func_name=func_name,
            status=JobStatus(job.status),
            error=job.error,
            n_iters=job.n_iters,
            current_iter=job.current_iter,
            created_at=iso(job.created_at),
            updated_at=iso(job.updated_at),
            execution=self.code.execution_view(execution, actor) if execution else None,
            requester=requester,
            started_at=iso(job.started_at) if job.started_at else None,
        )

    def stop(self) -> None:
        """First step of a graceful stop: start no more jobs; runs cut off from now on end as
        interrupted and give their run back (the runner is closed next)."""
        self._stopping = True
        self.code.stopping = True
        self._queue.close()

    def close(self, timeout: float = 30.0) -> None:
        """Last step of a graceful stop: wait for the job threads, mark what is still running
        interrupted. Runs claimed by threads that did not end stay claimed until the next
        start gives them back (they might still deliver)."""
        self.stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._mark_cut_off(only=set(self._current))  # not another process's jobs
        if not any(thread.is_alive() for thread in self._threads):
            self.code.release_cut_off_runs(ours=True)


class JobProgress:
    """A job's progress bar (``n_iters``, ``current_iter``): the ``ProgressSink`` its run
    reports to, nested runs included."""

    def __init__(self, store: Store, job_id: str):
        self.store = store
        self.job_id = job_id

    def init_progress(self, n_iters: int) -> None:
        self._update(n_iters=n_iters, current_iter=0)

    def set_progress(self, n: int) -> None:
        self._update(current_iter=n)

    def increment_progress(self, n: int) -> None:
        self._update(step=n)

    def _update(
        self, n_iters: int | None = None, current_iter: int | None = None, step: int = 0
    ) -> None:
        with self.store.session() as session:
            job = session.get(models.Job, self.job_id)
            if job is None:
                return
            if n_iters is not None:
                job.n_iters = n_iters
            if current_iter is not None:
                job.current_iter = current_iter
            job.current_iter += step
            session.add(job)
            session.commit()
