"""Syft functions: submitting them (``submission``), running them under their policies
(``runs``, with ``binding`` for the inputs and ``claims`` for the run counts).

``CodeService`` is the one face the rest of the Datasite uses; the parts behind it are
``submissions`` and ``runs``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session

from ....wire import models as wire
from ... import models
from ...blobs import BlobStore
from ...execution import ProgressSink, Runner
from ...store import Store
from ..actor import Actor
from ..audit import AuditLog
from ..paging import PageParams
from ..settings import SettingsService
from .runs import CodeRuns, RunInterrupted
from .submission import READ, CodeSubmissions, NewCode

__all__ = ["CodeService", "RunInterrupted"]


class CodeService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        audit: AuditLog,
        settings: SettingsService,
        runner: Callable[[], Runner],
        work_dir: Path,
    ):
        self.submissions = CodeSubmissions(store, audit, settings)
        self.runs = CodeRuns(store, blobs, audit, settings, runner, work_dir)

    # --- submitting and reading: ``submission`` ----------------------------------------------
    def require_can_submit(self, actor: Actor) -> None:
        self.submissions.require_can_submit(actor)

    def submit(self, actor: Actor, payload: wire.CodeSubmit) -> wire.Code:
        return self.submissions.submit(actor, payload)

    def new_code(self, session: Any, actor: Actor, payload: wire.CodeSubmit) -> NewCode:
        return self.submissions.new_code(session, actor, payload)

    def add_code(self, session: Session, row: dict[str, Any]) -> models.UserCode:
        return self.submissions.add_code(session, row)

    def author_and_submitted(
        self, session: Any, actor: Actor, payload: wire.CodeSubmit
    ) -> tuple[models.User | None, models.UserCode | None]:
        return self.submissions.author_and_submitted(session, actor, payload)

    def list(
        self, actor: Actor, page: PageParams | None = None, name: str | None = None
    ) -> wire.Page[wire.Code]:
        return self.submissions.list(actor, page, name)

    def get(self, actor: Actor, code_id: str) -> wire.Code:
        return self.submissions.get(actor, code_id)

    def version_to_run(self, actor: Actor, name: Any) -> str:
        return self.submissions.version_to_run(actor, name)

    def view(
        self,
        code: models.UserCode,
        session: Any = None,
        actor: Actor | None = None,
        author: models.User | object | None = READ,
    ) -> wire.Code:
        return self.submissions.view(code, session, actor, author)

    def nested_closure(
        self, session: Any, code: models.UserCode
    ) -> builtins.list[tuple[str, models.UserCode | None]]:
        return self.submissions.nested_closure(session, code)

    # --- running and results: ``runs`` -------------------------------------------------------
    def run(
        self,
        actor: Actor,
        code_id: str,
        inputs: dict[str, Any],
        job_id: str | None = None,
        progress: ProgressSink | None = None,
    ) -> wire.Execution:
        return self.runs.run(actor, code_id, inputs, job_id, progress)

    def admit(self, actor: Actor, code_id: str) -> None:
        """Refuses, with the reason, a run ``actor`` may not start now (see ``runs.admit``)."""
        self.runs.admit(actor, code_id)

    def run_by_name(self, actor: Actor, name: Any, inputs: dict[str, Any]) -> wire.Execution:
        """Run the version of ``name`` the Datasite picks (``version_to_run``)."""
        return self.runs.run(actor, self.version_to_run(actor, name), inputs)

    def run_on_mocks(self, actor: Actor, code_id: str) -> wire.Execution:
        return self.runs.run_on_mocks(actor, code_id)

    def execution_view(
        self, execution: models.Execution, actor: Actor, notice: str = ""
    ) -> wire.Execution:
        return self.runs.execution_view(execution, actor, notice)

    def executions(
        self, actor: Actor, code_id: str, page: PageParams | None = None
    ) -> wire.Page[wire.Execution]:
        return self.runs.executions(actor, code_id, page)

    def open_result(self, actor: Actor, execution_id: str) -> tuple[Path, int]:
        return self.runs.open_result(actor, execution_id)

    def cancel_job_run(self, job_id: str) -> bool:
        return self.runs.cancel_job_run(job_id)

    def sandbox_kind(self) -> str:
        return self.runs.sandbox_kind()

    @property
    def stopping(self) -> bool:
        """Set by the Datasite's close(): runs cut off from now on count nothing."""
        return self.runs.stopping

    @stopping.setter
    def stopping(self, value: bool) -> None:
        self.runs.stopping = value

    # --- run claims: ``claims`` --------------------------------------------------------------
    def release_cut_off_runs(self, ours: bool = False) -> int:
        return self.runs.claims.release_cut_off(ours)

    # for the fault tests: a claim as a run takes it, and its release
    def _claim_run(self, code_id: str, limit: int | None, job_id: str | None) -> str | None:
        return self.runs.claims.claim(code_id, limit, job_id)

    def _release_run(self, claim_id: str) -> None:
        self.runs.claims.release(claim_id)
