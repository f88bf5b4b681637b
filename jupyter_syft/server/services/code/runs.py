"""Running Syft functions under their input and output policies, and reading the results.

The rules, in order, for a call: approved code runs on private data only with exactly the
inputs its policy names, and at most as often as its output policy allows (counted atomically
in the store, see ``claims``); once used up, the last result comes back. Pending code runs
only on mocks, and only for scientists the owner allowed to. Denied code does not run.

Everything a run may do is decided here, before it starts: its inputs (``binding``), its
limits, and the nested jobs it may launch (the plan fixed at approval). The runner gets it all
in the ``RunSpec`` and reports back only through the result and the job's ``ProgressSink``.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ....policies import MAX_POLICY_JSON
from ....wire import models as wire
from ....wire.enums import Decision, ReleaseMode, ReleaseState
from ... import models
from ...blobs import BlobStore
from ...environments import resolve as resolve_environment
from ...execution import Limits, NestedFunction, ProgressSink, Runner, RunResult, RunSpec
from ...store import Store
from .. import paging
from ..actor import Actor
from ..audit import AuditLog
from ..errors import Conflict, Forbidden, Held, NotFound, Unavailable, Withheld
from ..paging import PageParams
from ..settings import SettingsService, rule_set
from ..views import iso
from .binding import Bound, bind, mock_inputs
from .claims import RunClaims
from .submission import latest_policy_state_row, visible

log = logging.getLogger("jupyter_syft.server")
EXHAUSTED_NOTICE = (
    "Your code's output policy allows no more runs, so this is the result of its last run. "
    "To run it again, submit it in a new request."
)
DEPOSITED_NOTICE = "This result was deposited by the data owner."
MOCK_NOTICE = "Ran on mock data: this code is not approved for private data (yet)."
ON_MOCKS_NOTICE = "Ran on mock data, as asked: no run was counted."
INTERRUPTED = "The Datasite stopped while this code was running; run it again."
HELD_NOTICE = (
    "This result is held for output review: the Datasite's owners check it before it is "
    "released to you. Its disclosure report (execution.report) says which checks it did not "
    "pass; you get the value once an owner releases it, or read their reason if they withhold it."
)
WITHHELD_NOTICE = (
    "This result was withheld by the Datasite's owners after output review. Reason: {reason} "
    "You may change your code (e.g. return an aggregate) and submit it again."
)
# Wall-clock seconds each method call of a custom policy may take in the sandbox.
POLICY_SECONDS = 10.0
# Bounds of a report as stored (the worker's caps: jupyter_syft.disclosure.report); a report
# is untrusted input (it comes out of the process that ran the user's code).
MAX_CHECKS, MAX_CELLS, MAX_LABEL, MAX_REASON, MAX_NAME = 50, 50, 40, 300, 100


class RunInterrupted(Unavailable):
    """The Datasite stopped during the run: nothing came out, nothing was counted."""

    code = "interrupted"


class CodeRuns:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        audit: AuditLog,
        settings: SettingsService,
        runner: Callable[[], Runner],
        work_dir: Path,
    ):
        self.store = store
        self.blobs = blobs
        self.audit = audit
        self.settings = settings
        self._runner = runner  # gives the runner: started on first use
        self.work_dir = work_dir
        self.claims = RunClaims(store)
        self.stopping = False  # set by the Datasite's close(): runs cut off now count nothing
        # A front process has no runner: its primary's sandbox, told at start ("bwrap", "none").
        self.known_sandbox: str | None = None
        self._locks_guard = threading.Lock()
        self._policy_locks: dict[str, threading.Lock] = {}  # code id -> its policy runs' lock

    @property
    def runner(self) -> Runner:
        return self._runner()

    def cancel_job_run(self, job_id: str) -> bool:
        """Stop the run of a job that is processing; False if it is not running (any more)."""
        return bool(self.runner.cancel(f"job {job_id}"))

    def sandbox_kind(self) -> str:
        """How submitted code is isolated here: "bwrap", or "none" where bubblewrap is missing."""
        return self.known_sandbox or self.runner.sandbox

    # --- deciding ----------------------------------------------------------------------------
    def run(
        self,
        actor: Actor,
        code_id: str,
        inputs: dict[str, Any],
        job_id: str | None = None,
        progress: ProgressSink | None = None,
    ) -> wire.Execution:
        """Run ``code_id`` for ``actor``: on private data if approved, else on mocks if
        allowed. ``job_id`` and ``progress``: it runs as that job, reporting progress there."""
        code, private = self.admit(actor, code_id)
        run = _Run(actor, code, job_id, progress)
        if private:
            return self._run_approved(run, inputs)
        return self._execute(run, self._bind(code, inputs, private=False), False, MOCK_NOTICE)

    def admit(self, actor: Actor, code_id: str) -> tuple[models.UserCode, bool]:
        """Whether ``actor`` may run ``code_id`` now, and on what: ``(code, True)`` on the
        private data, ``(code, False)`` on the mocks; refused otherwise, with the reason. A job
        asks this before it is queued, so it is refused at once rather than failing later."""
        code, user = self._load(actor, code_id)
        if (
            code.status == Decision.APPROVED
            and actor.is_guest
            and not self.settings.value("allow_guest_code_requests")
        ):
            raise Forbidden(
                "Guests cannot run code on this Datasite's private data; ask its owner for an "
                "account."
            )
        if code.status == Decision.APPROVED:
            return code, True
        if code.status == Decision.REJECTED:
            raise self._denied(code)
        if _may_run_on_mocks(actor, user):
            return code, False
        name = self.settings.value("name")
        raise Forbidden(
            f"Your code is waiting for approval. Code status on server '{name}' is PENDING. "
            "Prototype on the mocks meanwhile (call the Syft function itself with the assets)."
        )

    def run_on_mocks(self, actor: Actor, code_id: str) -> wire.Execution:
        """Run ``code_id`` on the mocks of the assets its input policy names, whatever its
        status (denied code excepted): owners, and scientists allowed mock execution. It never
        reads private data and counts no run."""
        code, user = self._load(actor, code_id)
        if code.status == Decision.REJECTED:
            raise self._denied(code)
        if not _may_run_on_mocks(actor, user):
            raise Forbidden(
                "Only the Datasite's owners, and scientists it allows mock execution, run code "
                "on the mocks here; ask its owner."
            )
        bound = self._bind(code, mock_inputs(code), private=False)
        notice = MOCK_NOTICE if code.status == Decision.PENDING else ON_MOCKS_NOTICE
        return self._execute(_Run(actor, code, None, None), bound, False, notice)

    def _load(self, actor: Actor, code_id: str) -> tuple[models.UserCode, models.User | None]:
        """The code (if the caller may see it) and the caller's account, which must not be
        disabled."""
        actor.require_user("run code")
        with self.store.session() as session:
            code = visible(session, actor, code_id)
            user = session.get(models.User, actor.user_id)
        # [H1, issue 11 item 3] Cut-off accounts run nothing, queued jobs included: a disabled
        # account at all, and one demoted to GUEST nothing on private data (unless guests may
        # send code here, as guest sessions then do; checked by ``run``).
        if user is not None and user.disabled:
            raise Forbidden("This account is disabled; ask the Datasite's owner.")
        return code, user

    def _denied(self, code: models.UserCode) -> Forbidden:
        """Denied code's refusal, with the reason of its latest request (read only then)."""
        with self.store.session() as session:
            request = session.exec(
                select(models.Request)
                .where(models.Request.code_id == code.id)
                .order_by(col(models.Request.created_at).desc())
            ).first()
        return _denied_by(request)

    def _run_approved(self, run: _Run, inputs: dict[str, Any]) -> wire.Execution:
        code = run.code
        bound = self._bind(code, inputs, private=True)
        if not has_custom_policy(code):
            return self._claim_and_execute(run, bound)
        # A custom output policy decides from its state, which each run reads and writes:
        # the runs of one such code on private data go one at a time (in this process).
        with self._policy_lock(code.id):
            return self._claim_and_execute(run, bound)

    def _policy_lock(self, code_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._policy_locks.setdefault(code_id, threading.Lock())

    def _claim_and_execute(self, run: _Run, bound: dict[str, Bound]) -> wire.Execution:
        code = run.code
        claim = self.claims.claim(code.id, code.output_policy.get("limit"), run.job_id)
        if claim is not None:
            try:
                outcome = self._execute(run, bound, True, "", claim=claim)
            except BaseException:
                self.claims.release(claim)  # it never delivered: do not leave the run claimed
                raise
            if outcome.error_kind in ("internal", "policy"):
                # our failure, not the scientist's; or their policy refused: nothing ran
                self.claims.give_back_one(code.id)
            return outcome
        last = self._last_private_execution(code.id)
        if last is None:
            raise Conflict(
                "Your code is running on the private data right now under its output policy; "
                "call again when it has finished to get the result."
            )
        return self.execution_view(
            last, run.actor, DEPOSITED_NOTICE if last.deposited else EXHAUSTED_NOTICE
        )

    def _last_private_execution(self, code_id: str) -> models.Execution | None:
        with self.store.session() as session:
            return session.exec(
                select(models.Execution)
                .where(models.Execution.code_id == code_id, col(models.Execution.on_private_data))
                .order_by(col(models.Execution.created_at).desc())
            ).first()

    def _bind(self, code: models.UserCode, inputs: Any, private: bool) -> dict[str, Bound]:
        with self.store.session() as session:
            return bind(code, inputs, private, lambda asset_id: session.get(models.Asset, asset_id))

    @staticmethod
    def _limits(values: dict[str, Any]) -> Limits:
        return Limits(
            wall_seconds=float(values["exec_wall_seconds"]),
            cpu_seconds=float(values["exec_cpu_seconds"]),
            memory_mb=int(values["exec_memory_mb"]),
        )

    def _names_of(self, user_id: str) -> builtins.list[str]:
        with self.store.session() as session:
            names = session.exec(
                select(models.UserCode.service_func_name).where(models.UserCode.user_id == user_id)
            ).all()
        return sorted(set(names))

    def _nested_plan(self, code: models.UserCode, private: bool) -> dict[str, NestedFunction]:
        """The functions a run of ``code`` may launch as nested jobs, by name. On private data:
        exactly the plan its owner approved (``approve_nested``), at any depth, and nothing
        else. On mocks: the scientist's latest version of each of their functions."""
        with self.store.session() as session:
            if private:
                ids = list(code.nested_plan.values())
                if not ids:  # most code launches no nested job
                    return {}
                rows = session.exec(
                    select(models.UserCode).where(col(models.UserCode.id).in_(ids))
                ).all()
                by_id = {r.id: r for r in rows}
                chosen = {n: by_id[i] for n, i in code.nested_plan.items() if i in by_id}
            else:
                rows = session.exec(
                    select(models.UserCode)
                    .where(models.UserCode.user_id == code.user_id)
                    .order_by(col(models.UserCode.submit_time))
                ).all()
                chosen = {r.service_func_name: r for r in rows}  # later versions win
        return {
            name: NestedFunction(row.id, row.code, tuple(row.parameters))
            for name, row in chosen.items()
        }

    # --- running -----------------------------------------------------------------------------
    def _execute(
        self,
        run: _Run,
        bound: dict[str, Bound],
        private: bool,
        notice: str,
        claim: str | None = None,
    ) -> wire.Execution:
        code, actor = run.code, run.actor
        # The environment as it is now (a rebuild since submission runs the new build): its
        # lock hash is recorded with the run. NotFound / Unavailable say what to do.
        environment = resolve_environment(self.store, code.environment)
        with tempfile.TemporaryDirectory(dir=self.work_dir, prefix="args-") as tmp:
            paths: dict[str, Path] = {}
            for param, (kind, ref) in bound.items():
                if kind == "blob":
                    assert isinstance(ref, str)
                    paths[param] = self.blobs.path(ref)
                else:
                    assert isinstance(ref, bytes)
                    paths[param] = Path(tmp) / f"{param}.jsyf"
                    paths[param].write_bytes(ref)
                    paths[param].chmod(0o644)
            values = self.settings.values()  # read once for the whole run
            rules = rule_set(values["disclosure_rules"])
            policies = self._policies(code) if private and has_custom_policy(code) else None
            spec = RunSpec(
                source=code.code,
                func_name=code.service_func_name,
                inputs=paths,
                limits=self._limits(values),
                label=f"job {run.job_id}" if run.job_id else code.id,
                nested=tuple(self._names_of(code.user_id)),
                nested_code=self._nested_plan(code, private),
                private=private,
                progress=run.progress,
                background=run.job_id is not None,  # blocking calls keep a warm worker
                rules=rules.to_json(),  # on private data and on mocks alike
                policies=policies,
                environment=environment,
            )
            result = self.runner.run(spec)
        self._audit_nested(actor, result, private)
        if self.stopping and not result.ok:  # its worker was stopped with the Datasite
            raise RunInterrupted(INTERRUPTED)
        blob_id = None
        if result.ok and result.result_file is not None:
            info = self.blobs.ingest(result.result_file)
            self._register_blob(info)
            self.blobs.settled(info.id)
            blob_id = info.id
        report = clean_report(result.report, rules) if blob_id is not None else None
        release = self._release_state(private, report, values) if blob_id is not None else None
        # Mock runs too: a scientist's pre-submission report is part of the record.
        digests = self.digests(code, bound, blob_id, rules.digest())
        execution = models.Execution(
            code_id=code.id,
            user_id=actor.user_id or "",
            on_private_data=private,
            ok=bool(result.ok),
            result_blob_id=blob_id,
            error=result.error or "",
            error_kind=result.error_kind or "",
            stdout=result.stdout,
            stderr=result.stderr,
            sandbox=result.sandbox,
            duration_s=result.duration_s,
            report=report,
            release=(release or ReleaseState.RELEASED).value,
            digests=digests,
            environment=result.environment[:200],
            lock_hash=result.lock_hash[:128],
        )
        if policies is not None and policies["output"] and result.ok:
            execution.policy_state = clean_policy_state(result.policy_state)
            execution.has_policy_state = execution.policy_state is not None
        with self.store.session() as session:
            session.add(execution)
            if claim is not None:  # delivered: the count stays, with this run to show for it
                RunClaims.delivered(session, claim)
            session.commit()
        environment_name = execution.environment or "default"
        events: builtins.list[tuple[str, str, str, dict[str, Any]]] = [
            (
                "code.run",
                "code",
                code.id,
                {
                    "execution": execution.id,
                    "private": private,
                    "ok": execution.ok,
                    "environment": environment_name,
                    "lock_hash": execution.lock_hash,
                },
            )
        ]
        if report is not None:
            events.append(
                (
                    "output.report",
                    "execution",
                    execution.id,
                    {
                        "private": private,
                        "outcome": report["outcome"],
                        "release": execution.release,
                        "environment": environment_name,
                        "lock_hash": execution.lock_hash,
                        **digests,
                    },
                )
            )
        self.audit.record_many(actor, events)  # one transaction for the run and its report
        return self.execution_view(execution, actor, notice)

    def _release_state(
        self, private: bool, report: dict[str, Any] | None, values: dict[str, Any]
    ) -> ReleaseState:
        """Whether a new result may go to its requester now (the Datasite's ``release``)."""
        if not private:
            return ReleaseState.RELEASED  # mocks hold nothing private: their report is shown
        mode = values["release"]
        if mode == ReleaseMode.MANUAL.value:
            return ReleaseState.HELD
        if mode == ReleaseMode.CHECKED.value:
            passed = report is not None and report.get("outcome") == "pass"
            return ReleaseState.RELEASED if passed else ReleaseState.HELD
        return ReleaseState.RELEASED

    @staticmethod
    def digests(
        code: models.UserCode, bound: dict[str, Bound], blob_id: str | None, rules_digest: str
    ) -> dict[str, Any]:
        """The sha256 hashes an output's audit events carry: of the code that ran, of each
        input (a stored value's id is its sha256; a value sent inline is hashed here), of the
        result and of the rule set it was checked with."""
        inputs = {
            param: ref if kind == "blob" else hashlib.sha256(ref).hexdigest()  # type: ignore[arg-type]
            for param, (kind, ref) in bound.items()
        }
        return {
            "code_sha256": hashlib.sha256(code.code.encode()).hexdigest(),
            "inputs_sha256": inputs,
            "result_sha256": blob_id or "",
            "rules_digest": rules_digest,
        }

    def _audit_nested(self, actor: Actor, result: RunResult, private: bool) -> None:
        """The nested jobs the run launched (their values stayed inside it)."""
        for nested in result.nested:
            self.audit.record(
                actor, "code.run_nested", "code", nested.code_id, private=private, ok=nested.ok
            )

    def _register_blob(self, info: Any) -> None:
        with self.store.session() as session:
            if session.get(models.Blob, info.id) is not None:
                return
            session.add(models.Blob(id=info.id, size=info.size, summary=info.summary))
            try:
                session.commit()
            except IntegrityError:  # the same value, stored by a concurrent run just now
                session.rollback()

    # --- results -----------------------------------------------------------------------------
    def execution_view(
        self, execution: models.Execution, actor: Actor, notice: str = ""
    ) -> wire.Execution:
        # Prints from code that saw private data could carry it: only owners read those.
        prints = (
            {"stdout": execution.stdout, "stderr": execution.stderr}
            if actor.is_owner or not execution.on_private_data
            else {}
        )
        release = ReleaseState(execution.release or ReleaseState.RELEASED.value)
        if release is ReleaseState.HELD:
            notice = " ".join(filter(None, (HELD_NOTICE, notice)))
        elif release is ReleaseState.WITHHELD:
            reason = execution.decision_note or "none given."
            notice = " ".join(filter(None, (WITHHELD_NOTICE.format(reason=reason), notice)))
        elif execution.original_blob_id is not None:  # released with suppression (outputs.py)
            cells = execution.suppressed_cells
            suppressed = (
                f"Released after output review with {cells} cell{'s' if cells != 1 else ''} "
                "suppressed: they are missing (NaN) in the result, and its totals are the sums "
                "of the cells that remain."
            )
            notice = " ".join(filter(None, (suppressed, notice)))
        return wire.Execution(
            id=execution.id,
            code_id=execution.code_id,
            ok=execution.ok,
            on_private_data=execution.on_private_data,
            deposited=execution.deposited,
            error=execution.error,
            error_kind=execution.error_kind,
            sandbox=execution.sandbox,
            duration_s=execution.duration_s,
            created_at=iso(execution.created_at),
            has_result=execution.result_blob_id is not None,
            notice=notice,
            release=release,
            release_note=execution.decision_note,
            # While a private result is kept back, the cells' labels are the owners' to see:
            # labels of a private table (a group key, an identifier) can be data themselves.
            environment=execution.environment,
            lock_hash=execution.lock_hash,
            report=report_view(
                execution.report,
                hide_cells=execution.on_private_data
                and not actor.is_owner
                and release is not ReleaseState.RELEASED,
            ),
            **prints,
        )

    def executions(
        self, actor: Actor, code_id: str, page: PageParams | None = None
    ) -> wire.Page[wire.Execution]:
        """One page of the code's runs, oldest first (owners also see what it printed)."""
        with self.store.session() as session:
            visible(session, actor, code_id)
            return paging.page(
                session,
                select(models.Execution).where(models.Execution.code_id == code_id),
                "executions",
                col(models.Execution.created_at),
                col(models.Execution.id),
                page,
                lambda rows: [self.execution_view(e, actor) for e in rows],
            )

    def open_result(self, actor: Actor, execution_id: str) -> tuple[Path, int]:
        with self.store.session() as session:
            execution = session.get(models.Execution, execution_id)
            code = session.get(models.UserCode, execution.code_id) if execution else None
            if execution is None or code is None:
                raise NotFound(f"No result {execution_id}.")
            if not (actor.is_owner or actor.user_id in (code.user_id, execution.user_id)):
                raise NotFound(f"No result {execution_id}.")
            if execution.result_blob_id is None:
                raise NotFound("This run produced no result.")
            if not actor.is_owner:
                refuse_unreleased(execution)
            blob = session.get(models.Blob, execution.result_blob_id)
            assert blob is not None
        return self.blobs.path(blob.id), blob.size

    def _policies(self, code: models.UserCode) -> dict[str, Any]:
        """What the sandbox needs to run ``code``'s custom policies (``RunSpec.policies``):
        their source and arguments as submitted, and the output policy's stored state."""
        out = code.output_policy if code.output_policy.get("code") else None
        inp = code.input_policy if code.input_policy.get("code") else None
        state = None
        if out is not None:
            with self.store.session() as session:
                stored = latest_policy_state_row(session, code.id)
            state = stored if isinstance(stored, dict) else None
        return {
            "code_id": code.id,
            "seconds": POLICY_SECONDS,
            "input": _policy_part(inp, with_inputs=True) if inp else None,
            "output": _policy_part(out) if out else None,
            "state": state,
        }


def has_custom_policy(code: models.UserCode) -> bool:
    return bool(code.input_policy.get("code") or code.output_policy.get("code"))


def _policy_part(policy: dict[str, Any], with_inputs: bool = False) -> dict[str, Any]:
    part = {
        "class_name": policy["class_name"],
        "code": policy["code"],
        "init_kwargs": policy.get("init_kwargs") or {},
    }
    if with_inputs:
        part["inputs"] = policy.get("inputs") or {}
    return part


def clean_policy_state(state: Any) -> dict[str, Any] | None:
    """A policy state as the worker sent it, checked again (it is untrusted): ``{"state":
    <JSON values>}`` within the size cap, else None (nothing is stored)."""
    import json

    if not isinstance(state, dict) or set(state) != {"state"}:
        return None
    try:
        text = json.dumps(state, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None
    if len(text) > MAX_POLICY_JSON + 20:
        return None
    return dict(json.loads(text))


def refuse_unreleased(execution: models.Execution) -> None:
    """Raise ``Held`` or ``Withheld`` unless the result is released (for anyone but owners)."""
    if execution.release == ReleaseState.HELD.value:
        raise Held(
            "This result is held for output review: the Datasite's owners check it before it "
            "is released. Its disclosure report is on the run (execution.report); wait for an "
            "owner to release it (job.wait() / .get() again later), or ask them."
        )
    if execution.release == ReleaseState.WITHHELD.value:
        raise Withheld(
            "This result was withheld by the Datasite's owners after output review. Reason: "
            f"{execution.decision_note or 'none given.'} You may change your code (e.g. return "
            "an aggregate) and submit it again."
        )
    if execution.release != ReleaseState.RELEASED.value:  # a state this version does not know
        raise Held("This result is not released.")


def clean_report(report: Any, rules: Any) -> dict[str, Any]:
    """The worker's report, checked and bounded (it is untrusted: it comes out of the process
    that ran the user's code). Missing or malformed: a "review" report saying so, so that a
    result nobody could check never counts as passing."""

    def review(reason: str) -> dict[str, Any]:
        check = {"rule": "checker", "outcome": "review", "reason": reason, "cells": []}
        return {
            "outcome": "review",
            "rules": str(rules.name),
            "rules_digest": rules.digest(),
            "checks": [check],
        }

    if not isinstance(report, dict):
        return review("No disclosure report came back from the run.")
    try:
        raw_checks = report.get("checks")
        if not isinstance(raw_checks, list):
            raise ValueError
        checks: builtins.list[dict[str, Any]] = [
            {
                "rule": _text(c["rule"], MAX_NAME),
                "outcome": _outcome(c["outcome"]),
                "reason": _text(c["reason"], MAX_REASON),
                "cells": [
                    [_text(label, MAX_LABEL) for label in cell[:2]]
                    for cell in c.get("cells", [])[:MAX_CELLS]
                    if isinstance(cell, list)
                ],
            }
            for c in raw_checks[:MAX_CHECKS]
        ]
        cleaned: dict[str, Any] = {
            "outcome": _outcome(report["outcome"]),
            "rules": _text(report["rules"], MAX_NAME),
            "rules_digest": _text(report["rules_digest"], 64),
            "checks": checks,
        }
        wire.DisclosureReport.model_validate(cleaned)
    except (KeyError, TypeError, ValueError, AttributeError):
        return review("The run's disclosure report could not be read.")
    if cleaned["rules_digest"] != rules.digest():
        return review("The run's disclosure report was made with other rules than the Datasite's.")
    # The outcome is never better than its worst check, and nothing vouched for is no pass.
    rank = {"pass": 0, "review": 1, "fail": 2}
    outcomes: builtins.list[str] = [cleaned["outcome"], *(c["outcome"] for c in checks)]
    worst = max(outcomes, key=rank.__getitem__)
    if worst == "pass" and (not checks or len(raw_checks) > MAX_CHECKS):
        worst = "review"
    cleaned["outcome"] = worst
    return cleaned


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _outcome(value: Any) -> str:
    if value not in ("pass", "fail", "review"):
        raise ValueError
    return str(value)


def report_view(
    report: dict[str, Any] | None, hide_cells: bool = False
) -> wire.DisclosureReport | None:
    """A stored report as the wire shows it (None: no checks ran, e.g. a deposit).
    ``hide_cells``: each check says how many cells it concerns, not which."""
    if not report:
        return None
    view = wire.DisclosureReport.model_validate(report)
    if hide_cells:
        for check in view.checks:
            if check.cells:
                n = len(check.cells)
                count = f"{n} cell" if n == 1 else f"{n} cells"
                check.reason = f"{check.reason} ({count}; the owners see which)"
                check.cells = []
    return view


def _may_run_on_mocks(actor: Actor, user: models.User | None) -> bool:
    return actor.is_owner or (user is not None and user.mock_execution_permission)


def _denied_by(request: models.Request | None) -> Forbidden:
    reason = request.deny_reason if request else ""
    return Forbidden(f"Your code cannot be run: it was denied. Reason: {reason or 'none given'}")


@dataclass(frozen=True)
class _Run:
    """Who runs which code, as which job (if any), reporting progress where."""

    actor: Actor
    code: models.UserCode
    job_id: str | None
    progress: ProgressSink | None
