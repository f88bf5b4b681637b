"""Output review: the owners' side of results held by the Datasite's ``release`` setting.

A result of a run on private data is released, held or withheld (``wire.enums.ReleaseState``;
``code.runs`` decides when it is made). Owners list the outputs, read each one's disclosure
report (its value: ``executions/{id}/result``, owners only) and decide a held one: release it
to its requester, or withhold it saying why. A decision is taken once: it is a conditional
UPDATE (``... WHERE release = 'held'``), so of two owners deciding at once, or a release racing
a withhold, exactly one wins, on SQLite and PostgreSQL alike, and only the winner's decision is
audited; the other gets a Conflict saying what happened. Nobody decides on the output of their
own request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from ...wire import models as wire
from ...wire.enums import ReleaseState
from .. import models
from ..store import Store
from . import limits, paging
from .actor import Actor
from .audit import AuditLog
from .code.runs import report_view
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .paging import PageParams, preload
from .views import iso, person

STATES = ("held", "released", "withheld")  # ReleaseState, in the order a reviewer reads them
COMMENT_LIMIT = limits.SHORT_TEXT  # what the requester reads: a comment or a reason


class OutputService:
    def __init__(self, store: Store, audit: AuditLog):
        self.store = store
        self.audit = audit

    # --- reading -----------------------------------------------------------------------------
    def list(
        self, actor: Actor, state: str | None = None, page: PageParams | None = None
    ) -> wire.Page[wire.Output]:
        """One page of the results of runs on private data (owners), by state."""
        actor.require_owner("review outputs")
        query = _outputs()
        if state:
            if state not in STATES:
                raise BadRequest(f"state is one of {', '.join(STATES)}.")
            query = query.where(models.Execution.release == state)
        with self.store.session() as session:

            def views(rows: Sequence[models.Execution]) -> list[wire.Output]:
                codes = preload(session, models.UserCode, {r.code_id for r in rows})
                users = {r.user_id for r in rows} | {r.decided_by for r in rows}
                preload(session, models.User, users | {c.user_id for c in codes.values()})
                requests = _latest_requests(session, set(codes))
                return [self._view(session, r, requests) for r in rows]

            return paging.page(
                session,
                query,
                "outputs",
                col(models.Execution.created_at),
                col(models.Execution.id),
                page,
                views,
            )

    def get(self, actor: Actor, execution_id: str) -> wire.Output:
        actor.require_owner("review outputs")
        with self.store.session() as session:
            return self._view(session, self._output(session, execution_id))

    # --- deciding ----------------------------------------------------------------------------
    def release(self, actor: Actor, execution_id: str, comment: str = "") -> wire.Output:
        """Release a held result to its requester (``comment``: what they read with it)."""
        actor.require_owner("release outputs")
        if not isinstance(comment, str):
            raise BadRequest("comment must be text.")
        limits.check_text(comment, "The comment", COMMENT_LIMIT)
        return self._decide(actor, execution_id, ReleaseState.RELEASED, comment.strip())

    def withhold(self, actor: Actor, execution_id: str, reason: str) -> wire.Output:
        """Withhold a held result: its requester reads ``reason`` (required) and may resubmit."""
        actor.require_owner("withhold outputs")
        if not isinstance(reason, str) or not reason.strip():
            raise BadRequest(
                "Say why you withhold it: output.withhold(reason='...'). The scientist reads "
                "the reason."
            )
        limits.check_text(reason, "The reason", COMMENT_LIMIT)
        return self._decide(actor, execution_id, ReleaseState.WITHHELD, reason.strip())

    def _decide(
        self, actor: Actor, execution_id: str, state: ReleaseState, note: str
    ) -> wire.Output:
        verb = "release" if state is ReleaseState.RELEASED else "withhold"
        with self.store.session() as session:
            execution = self._output(session, execution_id)
            code = session.get(models.UserCode, execution.code_id)
            if actor.user_id in {execution.user_id, code.user_id if code else None}:
                raise Forbidden(
                    f"You cannot {verb} the output of your own request: another owner of this "
                    "Datasite reviews it."
                )
            # One decision, whoever else decides at the same moment: the row changes only while
            # it is still held, and the database applies one such UPDATE at a time.
            won = session.exec(
                update(models.Execution)
                .where(
                    col(models.Execution.id) == execution_id,
                    col(models.Execution.release) == ReleaseState.HELD.value,
                )
                .values(
                    release=state.value,
                    decided_by=actor.user_id or "",
                    decision_note=note,
                    decided_at=models.utcnow(),
                )
            ).rowcount
            session.commit()
            session.expire_all()
            decided = session.get(models.Execution, execution_id)
            assert decided is not None
            if won != 1:
                raise Conflict(_not_held(session, decided, verb))
            digests = dict(decided.digests or {})
            outcome = (decided.report or {}).get("outcome", "")
            view = self._view(session, decided)
        self.audit.record(
            actor,
            f"output.{verb}",
            "execution",
            execution_id,
            note=note,
            outcome=outcome,
            **digests,
        )
        return view

    # --- rows and views ----------------------------------------------------------------------
    @staticmethod
    def _output(session: Any, execution_id: str) -> models.Execution:
        execution = session.exec(_outputs().where(models.Execution.id == execution_id)).first()
        if execution is None:
            raise NotFound(f"No output {execution_id}: no run on private data with a result.")
        return execution

    @staticmethod
    def _view(
        session: Any, execution: models.Execution, requests: dict[str, str] | None = None
    ) -> wire.Output:
        code = session.get(models.UserCode, execution.code_id)
        if requests is None:
            requests = _latest_requests(session, {execution.code_id})
        decider = session.get(models.User, execution.decided_by) if execution.decided_by else None
        return wire.Output(
            execution_id=execution.id,
            code_id=execution.code_id,
            request_id=requests.get(execution.code_id),
            service_func_name=code.service_func_name if code else "",
            user=person(session.get(models.User, execution.user_id)),
            state=ReleaseState(execution.release),
            report=report_view(execution.report),
            has_result=execution.result_blob_id is not None,
            ok=execution.ok,
            created_at=iso(execution.created_at),
            decided_by=person(decider),
            decided_at=iso(execution.decided_at),
            decision_note=execution.decision_note,
        )


def _outputs() -> Any:
    """Results that came out of runs on private data (deposits are the owners' own)."""
    return select(models.Execution).where(
        col(models.Execution.on_private_data),
        ~col(models.Execution.deposited),
        col(models.Execution.result_blob_id).is_not(None),
    )


def _latest_requests(session: Any, code_ids: set[str]) -> dict[str, str]:
    """The latest request of each code, by code id, in one query."""
    if not code_ids:
        return {}
    rows = session.exec(
        select(models.Request.code_id, models.Request.id)
        .where(col(models.Request.code_id).in_(code_ids))
        .order_by(col(models.Request.created_at))
    ).all()
    return {str(code_id): str(request_id) for code_id, request_id in rows}  # later ones win


def _not_held(session: Any, execution: models.Execution, verb: str) -> str:
    """Why a decision found nothing to decide: someone decided first, or it was never held."""
    if execution.decided_by:
        who = session.get(models.User, execution.decided_by)
        by = f" by {who.name or who.email}" if who else ""
        return (
            f"This output was already {execution.release}{by}; nothing is left to {verb}. Read "
            "it again to see the decision."
        )
    return (
        f"This output is {execution.release}, not held: only held outputs are released or withheld."
    )
