"""Syft functions: submission, and running them under their input and output policies.

The rules, in order, for a call: approved code runs on private data only with exactly the
inputs its policy names, and at most as often as its output policy allows (counted atomically
in the store); once used up, the last result comes back. Pending code runs only on mocks, and
only for scientists the owner allowed to. Denied code does not run.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import functools
import hashlib
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ... import analysis, serde
from ...policies import INPUT_POLICIES, OUTPUT_POLICIES, USER_TYPES
from .. import models
from ..blobs import BlobStore
from ..store import Store
from . import liveness, paging
from .actor import Actor, visible_row
from .audit import AuditLog
from .errors import BadRequest, Conflict, Forbidden, NotFound, ServiceError
from .limits import CODE, NAME, check_text, clip
from .paging import PageParams, preload
from .settings import SettingsService
from .views import iso

log = logging.getLogger("jupyter_syft.server")
EXHAUSTED_NOTICE = (
    "Your result has been fetched from output_history, because your OutputPolicy is no longer "
    "valid."
)
DEPOSITED_NOTICE = "This result was deposited by the data owner."
MOCK_NOTICE = "Ran on mock data: this code is not approved for private data (yet)."
MAX_INLINE_BYTES = 64 << 20
INTERRUPTED = "The Datasite stopped while this code was running; run it again."


class RunInterrupted(ServiceError):
    """The Datasite stopped during the run: nothing came out, nothing was counted."""

    status = 503
    code = "interrupted"


class Runner(Protocol):
    sandbox: str

    def run(self, spec: Any) -> Any: ...

    def cancel(self, label: str) -> bool: ...


class CodeService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        audit: AuditLog,
        settings: SettingsService,
        runner: Any,
        work_dir: Path,
    ):
        self.store = store
        self.blobs = blobs
        self.audit = audit
        self.settings = settings
        self._runner = runner  # a callable giving the CodeRunner: started on first use
        self.work_dir = work_dir
        self.stopping = False  # set by the Datasite's close(): runs cut off now count nothing

    @property
    def runner(self) -> Runner:
        return self._runner()

    def cancel_job_run(self, job_id: str) -> bool:
        """Stop the run of a job that is processing; False if it is not running (any more)."""
        return bool(self.runner.cancel(f"job {job_id}"))

    def sandbox_kind(self) -> str:
        """How submitted code is isolated here: "bwrap", or "none" where bubblewrap is missing."""
        return self.runner.sandbox

    # --- submitting --------------------------------------------------------------------------
    def require_can_submit(self, actor: Actor) -> None:
        if actor.user_id is None:
            raise Forbidden("Log in (or start a guest session) to submit code.")
        if actor.is_guest and not self.settings.value("allow_guest_code_requests"):
            raise Forbidden(
                "Guests cannot submit code on this Datasite; register an account "
                "(client.register(...)) and log in."
            )

    def submit(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        self.require_can_submit(actor)
        with self.store.session() as session:
            code = self._new_code(session, actor, payload)
            session.add(code)
            try:
                session.commit()
            except IntegrityError:
                raise Conflict(_duplicate(code.service_func_name))
        self.audit.record(actor, "code.submit", "code", code.id, name=code.service_func_name)
        return self.view(code)

    def _new_code(self, session: Any, actor: Actor, payload: dict[str, Any]) -> models.UserCode:
        name = payload.get("name")
        raw = payload.get("raw_code")
        if not isinstance(name, str) or not name.isidentifier():
            raise BadRequest("A Syft function needs a valid Python name.")
        check_text(name, "The function's name", NAME)
        if not isinstance(raw, str) or not raw.strip():
            raise BadRequest("The function's source code is missing.")
        check_text(raw, "The function's source code", CODE)
        pool = payload.get("worker_pool_name")
        if pool is not None and not isinstance(pool, str):
            raise BadRequest("worker_pool_name must be text.")
        check_text(pool or "", "worker_pool_name", NAME)
        input_policy = self._check_input_policy(session, payload.get("input_policy"))
        output_policy = _check_output_policy(payload.get("output_policy"))
        # Other functions this scientist submitted may be launched as nested jobs by name.
        submitted = session.exec(
            select(models.UserCode.service_func_name).where(
                models.UserCode.user_id == actor.user_id
            )
        ).all()
        findings = analysis.analyze(
            raw, name, policy_keys=input_policy["inputs"], known_functions=submitted
        )
        fatal = [f for f in findings if f.kind in ("syntax_error", "not_a_function")]
        if fatal:
            raise BadRequest(fatal[0].message)
        code_hash = hashlib.sha256(f"{name}\0{raw}".encode()).hexdigest()
        if session.exec(
            select(models.UserCode).where(
                models.UserCode.user_id == actor.user_id, models.UserCode.code_hash == code_hash
            )
        ).first():
            raise Conflict(_duplicate(name))
        return models.UserCode(
            user_id=actor.user_id or "",
            service_func_name=name,
            raw_code=raw,
            code=analysis.strip_decorators(raw, name),
            code_hash=code_hash,
            parameters=analysis.function_parameters(raw, name),
            input_policy=input_policy,
            output_policy=output_policy,
            findings=[f.to_json() for f in findings],
            nested_calls=analysis.nested_calls(raw, name),
            share_results_with_owners=bool(payload.get("share_results_with_owners", False)),
            worker_pool_name=pool or "default-pool",
        )

    def find_submitted(
        self, session: Any, actor: Actor, payload: dict[str, Any]
    ) -> models.UserCode | None:
        name, raw = payload.get("name"), payload.get("raw_code")
        code_hash = hashlib.sha256(f"{name}\0{raw}".encode()).hexdigest()
        return session.exec(
            select(models.UserCode).where(
                models.UserCode.user_id == actor.user_id, models.UserCode.code_hash == code_hash
            )
        ).first()

    def _check_input_policy(self, session: Any, policy: Any) -> dict[str, Any]:
        policy = policy or {"type": "EmptyInputPolicy", "inputs": {}}
        if not isinstance(policy, dict) or not _known(policy.get("type"), INPUT_POLICIES):
            raise BadRequest(f"Unknown input policy; use one of {', '.join(INPUT_POLICIES)}.")
        inputs = policy.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise BadRequest("The input policy's inputs must be an object.")
        clean: dict[str, Any] = {}
        for param, spec in inputs.items():
            kind = spec.get("kind") if isinstance(spec, dict) else None
            if kind == "asset":
                asset_id = spec.get("id")
                asset = session.get(models.Asset, asset_id) if isinstance(asset_id, str) else None
                if asset is None:
                    raise NotFound(
                        f"Input {clip(param)} names an asset that is not on this Datasite."
                    )
                clean[param] = {"kind": "asset", "id": asset.id, "name": asset.name}
            elif kind == "type" and policy["type"] == "MixedInputPolicy":
                if spec.get("type") not in USER_TYPES:
                    raise BadRequest(
                        f"Input {clip(param)}: types allowed are {', '.join(USER_TYPES)}."
                    )
                clean[param] = {"kind": "type", "type": spec["type"]}
            elif kind == "constant" and policy["type"] == "MixedInputPolicy":
                value = _decode_inline(spec.get("data"), param)
                clean[param] = {
                    "kind": "constant",
                    "data": spec["data"],
                    "preview": _preview(value),
                }
            else:
                raise BadRequest(f"Input {clip(param)} of {policy['type']} is not valid.")
        return {"type": policy["type"], "inputs": clean}

    # --- reading -----------------------------------------------------------------------------
    def list(
        self, actor: Actor, page: PageParams | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """One page of the code the caller may see, by submit time (see ``paging``); ``name``:
        only the versions of that function."""
        actor.require_user("list code")
        with self.store.session() as session:
            query = select(models.UserCode)
            if not actor.is_owner:
                query = query.where(models.UserCode.user_id == actor.user_id)
            if name:
                query = query.where(models.UserCode.service_func_name == name)

            def views(rows: Sequence[models.UserCode]) -> builtins.list[dict[str, Any]]:
                preload(session, models.User, {c.user_id for c in rows})  # authors, one query
                return [self.view(c, session) for c in rows]

            return paging.page(
                session,
                query,
                "code",
                col(models.UserCode.submit_time),
                col(models.UserCode.id),
                page,
                views,
            )

    def get(self, actor: Actor, code_id: str) -> dict[str, Any]:
        with self.store.session() as session:
            return self.view(self._visible(session, actor, code_id), session)

    def _visible(self, session: Any, actor: Actor, code_id: str) -> models.UserCode:
        return visible_row(session, actor, models.UserCode, code_id, "code")

    def view(self, code: models.UserCode, session: Any = None) -> dict[str, Any]:
        author = session.get(models.User, code.user_id) if session is not None else None
        return {
            "id": code.id,
            "service_func_name": code.service_func_name,
            "raw_code": code.raw_code,
            "code": code.code,
            "parameters": code.parameters,
            "input_policy": code.input_policy,
            "output_policy": code.output_policy,
            "findings": code.findings,
            "status": code.status,
            "runs_used": code.runs_used,
            "share_results_with_owners": code.share_results_with_owners,
            "worker_pool_name": code.worker_pool_name,
            "submit_time": iso(code.submit_time),
            "user": {"name": author.name, "email": author.email} if author else None,
        }

    # --- running -----------------------------------------------------------------------------
    def run(
        self, actor: Actor, code_id: str, inputs: dict[str, Any], job_id: str | None = None
    ) -> dict[str, Any]:
        actor.require_user("run code")
        with self.store.session() as session:
            code = self._visible(session, actor, code_id)
            request = session.exec(
                select(models.Request)
                .where(models.Request.code_id == code.id)
                .order_by(col(models.Request.created_at).desc())
            ).first()
            user = session.get(models.User, actor.user_id)
        # [H1, issue 11 item 3] Cut-off accounts run nothing, queued jobs included: a disabled
        # account at all, and one demoted to GUEST nothing on private data (unless guests may
        # send code here, as guest sessions then do).
        if user is not None and user.disabled:
            raise Forbidden("This account is disabled; ask the Datasite's owner.")
        guests_may_run = self.settings.value("allow_guest_code_requests")
        if code.status == "approved" and actor.is_guest and not guests_may_run:
            raise Forbidden(
                "Guests cannot run code on this Datasite's private data; ask its owner for an "
                "account."
            )
        if code.status == "approved":
            return self._run_approved(actor, code, inputs, job_id)
        if code.status == "denied":
            reason = request.deny_reason if request else ""
            raise Forbidden(
                f"Your code cannot be run: it was denied. Reason: {reason or 'none given'}"
            )
        if actor.is_owner or (user is not None and user.mock_execution_permission):
            return self._execute(
                actor, code, self._bind(code, inputs, private=False), False, MOCK_NOTICE, job_id
            )
        name = self.settings.value("name")
        raise Forbidden(
            f"Your code is waiting for approval. Code status on server '{name}' is PENDING. "
            "Prototype on the mocks meanwhile (call the Syft function itself with the assets)."
        )

    def _run_approved(
        self, actor: Actor, code: models.UserCode, inputs: dict[str, Any], job_id: str | None
    ) -> dict[str, Any]:
        bound = self._bind(code, inputs, private=True)
        limit = code.output_policy.get("limit")
        claim = self._claim_run(code.id, limit, job_id)
        if claim is not None:
            try:
                outcome = self._execute(actor, code, bound, True, "", job_id, claim=claim)
            except BaseException:
                self._release_run(claim)  # it never delivered: do not leave the run claimed
                raise
            if outcome["error_kind"] == "internal":
                self._release_run_used(code.id)  # our failure, not the scientist's: give it back
            return outcome
        last = self._last_private_execution(code.id)
        if last is None:
            raise Conflict(
                "Your code is running on the private data right now under its output policy; "
                "call again when it has finished to get the result."
            )
        return self.execution_view(
            last, actor, DEPOSITED_NOTICE if last.deposited else EXHAUSTED_NOTICE
        )

    def _claim_run(self, code_id: str, limit: int | None, job_id: str | None) -> str | None:
        """Count one private-data run, atomically: concurrent callers can never exceed ``limit``.
        The claim is written with the count, so a run a crash cuts off gives it back at the
        next start (``release_cut_off_runs``). Its id, or None when the policy is used up."""
        statement = update(models.UserCode).where(col(models.UserCode.id) == code_id)
        if limit is not None:
            statement = statement.where(col(models.UserCode.runs_used) < limit)
        statement = statement.values(runs_used=col(models.UserCode.runs_used) + 1)
        with self.store.session() as session:
            result = session.exec(statement)
            if result.rowcount != 1:
                session.rollback()
                return None
            claim = models.RunClaim(code_id=code_id, job_id=job_id, owner=liveness.identity())
            session.add(claim)
            session.commit()
            return claim.id

    def _release_run(self, claim_id: str) -> None:
        """Give a claimed run back (once, however often this is called for the claim)."""
        with self.store.session() as session:
            claim = session.get(models.RunClaim, claim_id)
            if claim is None:
                return
            gone = session.exec(
                delete(models.RunClaim).where(col(models.RunClaim.id) == claim_id)
            ).rowcount
            if gone == 1:
                session.exec(_one_run_back(claim.code_id))
            session.commit()

    def _release_run_used(self, code_id: str) -> None:
        with self.store.session() as session:
            session.exec(_one_run_back(code_id))
            session.commit()

    def release_cut_off_runs(self, ours: bool = False) -> int:
        """Give back the runs claimed by processes that are gone (at start: cut off by a crash
        before they delivered), or (``ours``, after a stop) by this one. Claims of live
        processes sharing the database stay theirs. Returns how many."""
        me = liveness.identity()
        with self.store.session() as session:
            claims = session.exec(select(models.RunClaim.id, models.RunClaim.owner)).all()
        gone = [
            claim_id
            for claim_id, owner in claims
            if (owner == me if ours else owner != me and not liveness.is_alive(owner))
        ]
        for claim_id in gone:
            self._release_run(claim_id)
        return len(gone)

    def _last_private_execution(self, code_id: str) -> models.Execution | None:
        with self.store.session() as session:
            return session.exec(
                select(models.Execution)
                .where(models.Execution.code_id == code_id, col(models.Execution.on_private_data))
                .order_by(col(models.Execution.created_at).desc())
            ).first()

    def _bind(self, code: models.UserCode, inputs: dict[str, Any], private: bool) -> dict[str, Any]:
        """Check call arguments against the input policy; map each parameter to a value source.

        Returns parameter -> ("blob", blob_id) | ("inline", bytes).
        """
        if not isinstance(inputs, dict):
            raise BadRequest("inputs must be an object.")
        policy = code.input_policy["inputs"]
        params = set(code.parameters) - {"datasite"}
        unknown = set(inputs) - params
        if unknown:
            raise BadRequest(
                f"{code.service_func_name} has no parameter(s) {clip(', '.join(sorted(unknown)))}; "
                f"it takes {', '.join(sorted(params)) or 'none'}."
            )
        bound: dict[str, Any] = {}
        with self.store.session() as session:
            for param in sorted(params):
                rule = policy.get(param)
                given = inputs.get(param)
                if rule is not None and rule["kind"] == "constant":
                    bound[param] = ("inline", base64.b64decode(rule["data"]))
                    continue
                if given is None:
                    raise BadRequest(f"Missing argument {param!r} for {code.service_func_name}.")
                if not isinstance(given, dict):
                    raise BadRequest(
                        f"Argument {param!r} must be an object: an asset reference or a value "
                        "(send it with the client, e.g. client.code.<function>(**kwargs))."
                    )
                if rule is not None and rule["kind"] == "asset":
                    if given.get("kind") == "asset" and given.get("id") == rule["id"]:
                        asset = session.get(models.Asset, rule["id"])
                        if asset is None:
                            raise NotFound(
                                f"The asset for {param!r} is no longer on this Datasite."
                            )
                        bound[param] = ("blob", _asset_blob(asset, private))
                        continue
                    if private or given.get("kind") == "asset":
                        raise Forbidden(
                            f"Argument {param!r} must be the asset {rule.get('name')!r} the input "
                            "policy names; approved code runs only on its approved inputs."
                        )
                    # pending code on the scientist's own values (mock execution)
                    bound[param] = ("inline", _inline_bytes(given, param))
                    continue
                if private and rule is None:
                    raise Forbidden(f"Argument {param!r} is not covered by the input policy.")
                if given.get("kind") == "asset":
                    asset_id = given.get("id")
                    asset = (
                        session.get(models.Asset, asset_id) if isinstance(asset_id, str) else None
                    )
                    if asset is None:
                        raise NotFound(f"No asset {clip(asset_id)} on this Datasite.")
                    if private:
                        raise Forbidden(
                            f"Argument {param!r} may not be an asset under this policy."
                        )
                    bound[param] = ("blob", _asset_blob(asset, private=False))
                    continue
                data = _inline_bytes(given, param)
                if rule is not None and rule["kind"] == "type":
                    value = _loads(data, param)
                    if type(value).__name__ != rule["type"]:
                        raise Forbidden(f"Argument {param!r} must be a {rule['type']}.")
                bound[param] = ("inline", data)
        return bound

    def _limits(self) -> Any:
        from ..execution import Limits

        values = self.settings.values()
        return Limits(
            wall_seconds=float(values["exec_wall_seconds"]),
            cpu_seconds=float(values["exec_cpu_seconds"]),
            memory_mb=int(values["exec_memory_mb"]),
        )

    def _execute(
        self,
        actor: Actor,
        code: models.UserCode,
        bound: dict[str, Any],
        private: bool,
        notice: str,
        job_id: str | None = None,
        claim: str | None = None,
    ) -> dict[str, Any]:
        from ..execution import RunSpec

        limits = self._limits()
        launchable = self._launchable(code, private)
        with tempfile.TemporaryDirectory(dir=self.work_dir, prefix="args-") as tmp:
            paths: dict[str, Path] = {}
            for param, (kind, ref) in bound.items():
                if kind == "blob":
                    paths[param] = self.blobs.path(ref)
                else:
                    paths[param] = Path(tmp) / f"{param}.jsyf"
                    paths[param].write_bytes(ref)
                    paths[param].chmod(0o644)
            spec = RunSpec(
                source=code.code,
                func_name=code.service_func_name,
                inputs=paths,
                limits=limits,
                label=f"job {job_id}" if job_id else code.id,
                nested=tuple(self._names_of(code.user_id)),
                on_call=functools.partial(self._answer_call, actor, launchable, private, job_id),
                nested_code=_nested_sources(launchable),
                background=job_id is not None,  # blocking calls keep a warm worker to themselves
            )
            result = self.runner.run(spec)
        if self.stopping and not result.ok:  # its worker was stopped with the Datasite
            raise RunInterrupted(INTERRUPTED)
        blob_id = None
        if result.ok and result.result_file is not None:
            info = self.blobs.ingest(result.result_file)
            self._register_blob(info)
            self.blobs.settled(info.id)
            blob_id = info.id
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
        )
        with self.store.session() as session:
            session.add(execution)
            if claim is not None:  # delivered: the count stays, with this run to show for it
                session.exec(delete(models.RunClaim).where(col(models.RunClaim.id) == claim))
            session.commit()
        self.audit.record(
            actor,
            "code.run",
            "code",
            code.id,
            execution=execution.id,
            private=private,
            ok=execution.ok,
        )
        return self.execution_view(execution, actor, notice)

    def _register_blob(self, info: Any) -> None:
        with self.store.session() as session:
            if session.get(models.Blob, info.id) is not None:
                return
            session.add(models.Blob(id=info.id, size=info.size, summary=info.summary))
            try:
                session.commit()
            except IntegrityError:  # the same value, stored by a concurrent run just now
                session.rollback()

    # --- nested jobs and progress: calls from a running job -----------------------------------
    def _names_of(self, user_id: str) -> builtins.list[str]:
        with self.store.session() as session:
            names = session.exec(
                select(models.UserCode.service_func_name).where(models.UserCode.user_id == user_id)
            ).all()
        return sorted(set(names))

    def _launchable(self, code: models.UserCode, private: bool) -> dict[str, models.UserCode]:
        """The functions a run of ``code`` may launch as nested jobs, by name. On private data:
        exactly the plan its owner approved (``approve_nested``), at any depth, and nothing
        else. On mocks: the scientist's latest version of each of their functions."""
        with self.store.session() as session:
            if private:
                ids = list(code.nested_plan.values())
                rows = session.exec(
                    select(models.UserCode).where(col(models.UserCode.id).in_(ids))
                ).all()
                by_id = {r.id: r for r in rows}
                return {name: by_id[i] for name, i in code.nested_plan.items() if i in by_id}
            rows = session.exec(
                select(models.UserCode)
                .where(models.UserCode.user_id == code.user_id)
                .order_by(col(models.UserCode.submit_time))
            ).all()
        return {r.service_func_name: r for r in rows}  # later versions win

    def nested_closure(
        self, session: Any, code: models.UserCode
    ) -> builtins.list[tuple[str, models.UserCode | None]]:
        """What ``code`` launches, directly or through what it launches: each name its real
        calls use, resolved to the scientist's latest version (None: nothing submitted)."""
        found: builtins.list[tuple[str, models.UserCode | None]] = []
        queue, seen = list(code.nested_calls), {code.service_func_name}
        while queue:
            name = queue.pop(0)
            if name in seen:
                continue
            seen.add(name)
            row = session.exec(
                select(models.UserCode)
                .where(
                    models.UserCode.user_id == code.user_id,
                    models.UserCode.service_func_name == name,
                )
                .order_by(col(models.UserCode.submit_time).desc())
            ).first()
            found.append((name, row))
            if row is not None:
                queue.extend(row.nested_calls)
        return found

    def _answer_call(
        self,
        actor: Actor,
        launchable: dict[str, models.UserCode],
        private: bool,
        job_id: str | None,
        header: dict[str, Any],
        data: bytes,
    ) -> tuple[dict[str, Any], bytes]:
        """A running job asks for a nested job, or reports progress."""
        if header.get("call") == "progress":
            self._record_progress(job_id, str(header.get("op")), header.get("n"))
            return {"ok": True}, b""
        if header.get("call") != "launch_job":
            return {"ok": False, "error": "Unknown call."}, b""
        name = str(header.get("name"))
        nested = launchable.get(name)
        if nested is None and private:
            error = (
                f"The nested function {name!r} is not approved to run on private data: the "
                "data owner approves the functions a request launches, as shown to them, with "
                "request.approve(approve_nested=True)."
            )
            return {"ok": False, "error": error}, b""
        if nested is None:
            error = f"No submitted function named {name!r}: submit it first (client.code.submit)."
            return {"ok": False, "error": error}, b""
        try:
            kwargs = serde.loads(data)
        except serde.SerdeError as exc:
            return {"ok": False, "error": f"The arguments of {name!r} are not valid: {exc}"}, b""
        if not isinstance(kwargs, dict) or set(kwargs) - set(nested.parameters):
            return {"ok": False, "error": f"{name!r} takes {', '.join(nested.parameters)}."}, b""
        return self._run_nested(actor, nested, kwargs, private, job_id, launchable)

    def _run_nested(
        self,
        actor: Actor,
        nested: models.UserCode,
        kwargs: dict[str, Any],
        private: bool,
        job_id: str | None,
        launchable: dict[str, models.UserCode],
    ) -> tuple[dict[str, Any], bytes]:
        from ..execution import RunSpec

        with tempfile.TemporaryDirectory(dir=self.work_dir, prefix="nested-") as tmp:
            paths = {}
            for param, value in kwargs.items():
                paths[param] = Path(tmp) / f"{param}.jsyf"
                paths[param].write_bytes(serde.dumps(value))
            spec = RunSpec(
                source=nested.code,
                func_name=nested.service_func_name,
                inputs=paths,
                limits=self._limits(),
                label=f"{nested.id} (nested)",
                nested=tuple(self._names_of(nested.user_id)),
                on_call=functools.partial(self._answer_call, actor, launchable, private, job_id),
                nested_code=_nested_sources(launchable),
            )
            result = self.runner.run(spec)
        self.audit.record(
            actor, "code.run_nested", "code", nested.id, private=private, ok=bool(result.ok)
        )
        if not result.ok or result.result_file is None:
            error = f"Nested job {nested.service_func_name} failed: {result.error}"
            return {"ok": False, "error": error}, b""
        # The value goes back into the parent job only; nothing is stored for the scientist.
        path = Path(result.result_file)
        try:
            return {"ok": True}, path.read_bytes()
        finally:
            path.unlink(missing_ok=True)

    def _record_progress(self, job_id: str | None, op: str, n: Any) -> None:
        if job_id is None or not isinstance(n, int) or isinstance(n, bool):
            return
        with self.store.session() as session:
            job = session.get(models.Job, job_id)
            if job is None:
                return
            if op == "init":
                job.n_iters, job.current_iter = max(n, 0), 0
            elif op == "set":
                job.current_iter = max(n, 0)
            elif op == "increment":
                job.current_iter += max(n, 0)
            session.add(job)
            session.commit()

    # --- results -----------------------------------------------------------------------------
    def execution_view(
        self, execution: models.Execution, actor: Actor, notice: str = ""
    ) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": execution.id,
            "code_id": execution.code_id,
            "ok": execution.ok,
            "on_private_data": execution.on_private_data,
            "deposited": execution.deposited,
            "error": execution.error,
            "error_kind": execution.error_kind,
            "sandbox": execution.sandbox,
            "duration_s": execution.duration_s,
            "created_at": iso(execution.created_at),
            "has_result": execution.result_blob_id is not None,
            "notice": notice,
        }
        # Prints from code that saw private data could carry it: only owners read those.
        if actor.is_owner or not execution.on_private_data:
            view["stdout"], view["stderr"] = execution.stdout, execution.stderr
        return view

    def executions(
        self, actor: Actor, code_id: str, page: PageParams | None = None
    ) -> dict[str, Any]:
        """One page of the code's runs, oldest first (owners also see what it printed)."""
        with self.store.session() as session:
            self._visible(session, actor, code_id)
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
            blob = session.get(models.Blob, execution.result_blob_id)
            assert blob is not None
        return self.blobs.path(blob.id), blob.size


def _nested_sources(launchable: dict[str, models.UserCode]) -> dict[str, dict[str, Any]]:
    """What a remote executor (Dask) needs to answer launch_job itself."""
    return {n: {"source": c.code, "parameters": c.parameters} for n, c in launchable.items()}


def _asset_blob(asset: models.Asset, private: bool) -> str:
    if private:
        return asset.data_blob_id
    if asset.mock_blob_id is None:
        raise Forbidden(f"Asset {asset.name!r} has no mock to run on.")
    return asset.mock_blob_id


def _inline_bytes(given: Any, param: str) -> bytes:
    if not isinstance(given, dict) or given.get("kind") != "value":
        raise BadRequest(f"Argument {clip(param)} is not valid.")
    data = given.get("data")
    if not isinstance(data, str) or len(data) > MAX_INLINE_BYTES:
        raise BadRequest(f"Argument {clip(param)} is missing or too large to send inline.")
    raw = _b64(data, param)
    _check_value(raw, param)
    return raw


def _decode_inline(data: Any, param: str) -> Any:
    if not isinstance(data, str):
        raise BadRequest(f"Constant {clip(param)} has no value.")
    raw = _b64(data, param)
    _check_value(raw, param)
    return _loads(raw, param)


def _b64(data: str, param: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"Argument {clip(param)} is not valid base64; send it with the client.")


def _loads(raw: bytes, param: str) -> Any:
    try:
        return serde.loads(raw)
    except serde.SerdeError as exc:
        raise BadRequest(f"Argument {clip(param)} is not a valid value: {exc}")


def _known(kind: Any, names: Any) -> bool:
    return isinstance(kind, str) and kind in names  # an unhashable "type" is just unknown


def _check_value(raw: bytes, param: str) -> None:
    checker = serde.StreamChecker()
    try:
        checker.feed(raw)
        checker.finish()
    except serde.SerdeError as exc:
        raise BadRequest(f"Argument {clip(param)} is not a valid value: {exc}")


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _check_output_policy(policy: Any) -> dict[str, Any]:
    policy = policy or {"type": "OutputPolicyExecuteOnce", "limit": 1}
    if not isinstance(policy, dict) or not _known(policy.get("type"), OUTPUT_POLICIES):
        raise BadRequest(f"Unknown output policy; use one of {', '.join(OUTPUT_POLICIES)}.")
    limit = policy.get("limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise BadRequest("An output policy's limit must be a whole number of at least 1.")
    return {"type": policy["type"], "limit": limit}


def _duplicate(name: str) -> str:
    return (
        f"The code to be submitted (name and content) already exists: {name!r}. "
        "Change the code or give the function another name."
    )


def _one_run_back(code_id: str) -> Any:
    return (
        update(models.UserCode)
        .where(col(models.UserCode.id) == code_id, col(models.UserCode.runs_used) > 0)
        .values(runs_used=col(models.UserCode.runs_used) - 1)
    )
