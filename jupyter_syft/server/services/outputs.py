"""Output review: the owners' side of results held by the Datasite's ``release`` setting.

A result of a run on private data is released, held or withheld (``wire.enums.ReleaseState``;
``code.runs`` decides when it is made). Owners list the outputs, read each one's disclosure
report (its value: ``executions/{id}/result``, owners only) and decide a held one: release it
to its requester, or withhold it saying why. A decision is taken once: it is a conditional
UPDATE (``... WHERE release = 'held'``), so of two owners deciding at once, or a release racing
a withhold, exactly one wins, on SQLite and PostgreSQL alike, and only the winner's decision is
audited; the other gets a Conflict saying what happened. Nobody decides on the output of their
own request.

Suppression (``release(suppress=True)``, ACRO's ``suppress``): the result as stored is decoded
(the value format: arrow and npy, never pickle), the cells its report's failing checks name are
suppressed (``disclosure.suppress``), and the suppressed table, stored as a value of its own,
becomes the run's result: every route that gives the result (the scientist's ``.get()``, the
previews, the jobs) gives that one. The value as computed stays stored for the owners
(``original_blob_id``, ``outputs/{id}/original``).

Two reviewers (setting ``release_reviewers`` = 2): a release or withhold is then a vote
(``OutputVote``, one per owner, a new one replacing theirs). The output is decided, by the same
conditional UPDATE, once two owners' votes agree (released with suppression if either asked
for it; withheld with both reasons). Until then each reviewer sees only their own vote and how
many were cast; when two votes disagree (``conflict``) all votes are shown and either reviewer
may change theirs. Every vote is audited (``output.vote``), as a hash only (owners read the
audit log too); the decision's event names both reviewers and reveals their votes and the
nonces they were hashed with, so the votes' events can be checked against them.

Justifications (ACRO's exception requests): the scientist who asked for a held output may say
why it should be released (``justify``); the latest one is on the output, every one in the
audit log (``output.justify``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ...wire import models as wire
from ...wire.enums import ReleaseState, Vote
from .. import models
from ..blobs import BlobStore
from ..store import Store
from . import limits, paging
from .actor import Actor
from .audit import AuditLog
from .code.runs import report_view
from .datasets import decode_stored
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .paging import PageParams, preload
from .previews import AnyPreview, preview
from .settings import SettingsService
from .views import iso, person

STATES = ("held", "released", "withheld")  # ReleaseState, in the order a reviewer reads them
COMMENT_LIMIT = limits.SHORT_TEXT  # what the requester reads: a comment or a reason
JUSTIFICATION_LIMIT = 4_000  # what the reviewers read: the requester's justification


class OutputService:
    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        blobs: BlobStore | None = None,
        settings: SettingsService | None = None,
    ):
        self.store = store
        self.audit = audit
        self.blobs = blobs
        self.settings = settings

    def reviewers(self) -> int:
        """How many owners' agreeing votes decide a held output (setting release_reviewers)."""
        value = self.settings.value("release_reviewers") if self.settings else 1
        return 2 if value == 2 else 1

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
        needed = self.reviewers()
        with self.store.session() as session:

            def views(rows: Sequence[models.Execution]) -> list[wire.Output]:
                codes = preload(session, models.UserCode, {r.code_id for r in rows})
                votes = _votes(session, {r.id for r in rows})
                users = {r.user_id for r in rows} | {r.decided_by for r in rows}
                users |= {v.reviewer_id for vs in votes.values() for v in vs}
                preload(session, models.User, users | {c.user_id for c in codes.values()})
                requests = _latest_requests(session, set(codes))
                return [
                    _view(session, r, actor, needed, votes.get(r.id, []), requests) for r in rows
                ]

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
            return self._view(session, _output(session, execution_id), actor)

    def open_original(self, actor: Actor, execution_id: str) -> tuple[Path, int]:
        """The output's value as computed (before any suppression), owners only."""
        actor.require_owner("read an output as computed")
        with self.store.session() as session:
            execution = _output(session, execution_id)
            blob_id = execution.original_blob_id or execution.result_blob_id
            blob = session.get(models.Blob, blob_id)
            if blob is None or self.blobs is None:
                raise NotFound(f"The value of output {execution_id} is no longer stored.")
        return self.blobs.path(blob.id), blob.size

    def original_preview(self, actor: Actor, execution_id: str, rows: int = 20) -> AnyPreview:
        path, _size = self.open_original(actor, execution_id)
        return preview(decode_stored(path), rows)

    # --- the requester's justification -------------------------------------------------------
    def justify(self, actor: Actor, execution_id: str, text: str) -> wire.Justification:
        """The requester of a held output says why it should be released (the reviewers read
        it); a later justification replaces it, and each one is in the audit log."""
        if not isinstance(text, str) or not text.strip():
            raise BadRequest(
                "Write why this output should be released, e.g. job.justify('The small cells "
                "are in the synthetic rows; the table is needed for ...'). The reviewers read it."
            )
        limits.check_text(text, "The justification", JUSTIFICATION_LIMIT)
        actor.require_user("justify an output")
        if actor.is_owner:
            raise Forbidden(
                "Owners review outputs; a justification is written by the scientist who asked "
                "for one. Use release(comment=...) or withhold(reason=...) to say what you think."
            )
        text = text.strip()
        at = models.utcnow()
        with self.store.session() as session:
            execution = session.exec(
                _outputs().where(col(models.Execution.id) == execution_id)
            ).first()
            code = session.get(models.UserCode, execution.code_id) if execution else None
            if (
                execution is None
                or actor.user_id is None
                or actor.user_id not in {execution.user_id, code.user_id if code else None}
            ):
                raise NotFound(f"No output {execution_id} of yours.")
            changed = session.exec(
                update(models.Execution)
                .where(
                    col(models.Execution.id) == execution_id,
                    col(models.Execution.release) == ReleaseState.HELD.value,
                )
                .values(justification=text, justified_at=at)
            ).rowcount
            session.commit()
            if changed != 1:
                session.expire_all()
                now = session.get(models.Execution, execution_id)
                state = now.release if now else "gone"
                raise Conflict(
                    f"This output is {state}, not held: a justification is for an output "
                    "waiting for review."
                )
        self.audit.record(
            actor,
            "output.justify",
            "execution",
            execution_id,
            justification=text,
            justification_sha256=hashlib.sha256(text.encode()).hexdigest(),
        )
        return wire.Justification(
            execution_id=execution_id, justification=text, justified_at=iso(at)
        )

    # --- deciding ----------------------------------------------------------------------------
    def release(
        self, actor: Actor, execution_id: str, comment: str = "", suppress: bool = False
    ) -> wire.Output:
        """Release a held result to its requester (``comment``: what they read with it);
        ``suppress``: with the cells its failing checks name suppressed (a table only). With
        two reviewers, a vote."""
        actor.require_owner("release outputs")
        if not isinstance(comment, str):
            raise BadRequest("comment must be text.")
        if not isinstance(suppress, bool):
            raise BadRequest("suppress must be true or false.")
        limits.check_text(comment, "The comment", COMMENT_LIMIT)
        if self.reviewers() == 2:
            return self._vote(actor, execution_id, Vote.RELEASE, comment.strip(), suppress)
        return self._decide(actor, execution_id, ReleaseState.RELEASED, comment.strip(), suppress)

    def withhold(self, actor: Actor, execution_id: str, reason: str) -> wire.Output:
        """Withhold a held result: its requester reads ``reason`` (required) and may resubmit.
        With two reviewers, a vote."""
        actor.require_owner("withhold outputs")
        if not isinstance(reason, str) or not reason.strip():
            raise BadRequest(
                "Say why you withhold it: output.withhold(reason='...'). The scientist reads "
                "the reason."
            )
        limits.check_text(reason, "The reason", COMMENT_LIMIT)
        if self.reviewers() == 2:
            return self._vote(actor, execution_id, Vote.WITHHOLD, reason.strip(), False)
        return self._decide(actor, execution_id, ReleaseState.WITHHELD, reason.strip(), False)

    def _decide(
        self,
        actor: Actor,
        execution_id: str,
        state: ReleaseState,
        note: str,
        suppress: bool,
        voters: Sequence[models.OutputVote] = (),
    ) -> wire.Output:
        """Decide a held output, once (the conditional UPDATE); ``voters``: the agreeing votes
        of two reviewers that decided it. The loser of a race gets a Conflict, unless it was a
        vote that agreed: then its answer is the decision."""
        verb = "release" if state is ReleaseState.RELEASED else "withhold"
        with self.store.session() as session:
            execution = _output(session, execution_id)
            self._not_own(session, actor, execution, verb)
            if execution.release != ReleaseState.HELD.value:
                if voters:
                    return self._view(session, execution, actor)
                raise Conflict(_not_held(session, execution, verb))
            original_id = execution.result_blob_id  # (the row object is refreshed below)
            suppressed = self._suppressed(execution) if suppress else None
            values: dict[str, Any] = {
                "release": state.value,
                "decided_by": actor.user_id or "",
                "decision_note": note,
                "decided_at": models.utcnow(),
            }
            if suppressed is not None:
                values.update(
                    result_blob_id=suppressed["blob_id"],
                    original_blob_id=original_id,
                    suppressed_cells=suppressed["cells"],
                )
            # One decision, whoever else decides at the same moment: the row changes only while
            # it is still held (and holds the result suppression started from), and the
            # database applies one such UPDATE at a time.
            won = session.exec(
                update(models.Execution)
                .where(
                    col(models.Execution.id) == execution_id,
                    col(models.Execution.release) == ReleaseState.HELD.value,
                    col(models.Execution.result_blob_id) == original_id,
                )
                .values(**values)
            ).rowcount
            session.commit()
            session.expire_all()
            decided = session.get(models.Execution, execution_id)
            assert decided is not None
            if won != 1:
                if voters:  # two agreeing votes decided it at once: one event, one answer
                    return self._view(session, decided, actor)
                raise Conflict(_not_held(session, decided, verb))
            digests = dict(decided.digests or {})
            outcome = (decided.report or {}).get("outcome", "")
            people = _emails(session, [v.reviewer_id for v in voters])
            view = self._view(session, decided, actor)
        detail: dict[str, Any] = {"note": note, "outcome": outcome, **digests}
        if suppressed is not None:
            detail.update(
                suppressed=True,
                suppressed_cells=suppressed["cells"],
                suppression=suppressed["summary"],
                original_sha256=original_id,
                suppressed_sha256=suppressed["blob_id"],
            )
        if voters:
            detail["reviewers"] = people
            detail["votes"] = [
                {**_opened(v), "reviewer": people[i], "vote_sha256": _commitment(v)}
                for i, v in enumerate(voters)
            ]
        self.audit.record(actor, f"output.{verb}", "execution", execution_id, **detail)
        return view

    def _suppressed(self, execution: models.Execution) -> dict[str, Any]:
        """Store the suppressed table of a held output (a value of its own): its blob id, how
        many cells were suppressed and the summary. A Conflict says why it cannot be."""
        from ...disclosure.suppress import CannotSuppress, suppress  # numpy and pandas: lazily

        if self.blobs is None or execution.result_blob_id is None:
            raise Conflict("This output's value is not stored here: it cannot be suppressed.")
        value = decode_stored(self.blobs.path(execution.result_blob_id))
        try:
            table, summary = suppress(value, execution.report)
        except CannotSuppress as exc:
            raise Conflict(str(exc)) from None
        info = self.blobs.write_value(table)
        with self.store.session() as session:
            if session.get(models.Blob, info.id) is None:
                session.add(models.Blob(id=info.id, size=info.size, summary=info.summary))
                try:
                    session.commit()
                except IntegrityError:  # the same table, stored by a concurrent release
                    session.rollback()
        self.blobs.settled(info.id)
        return {"blob_id": info.id, "cells": int(summary["cells"]), "summary": summary}

    def _vote(
        self, actor: Actor, execution_id: str, decision: Vote, note: str, suppress: bool
    ) -> wire.Output:
        """Record ``actor``'s vote (replacing theirs); decide once two owners' votes agree."""
        verb = decision.value
        with self.store.session() as session:
            execution = _output(session, execution_id)
            self._not_own(session, actor, execution, verb)
            if execution.release != ReleaseState.HELD.value:
                raise Conflict(_not_held(session, execution, verb))
        if suppress:  # refused now, not when the second vote comes
            self._check_suppressible(execution)
        with self.store.session() as session:
            mine = session.exec(
                select(models.OutputVote).where(
                    col(models.OutputVote.execution_id) == execution_id,
                    col(models.OutputVote.reviewer_id) == actor.user_id,
                )
            ).first()
            if mine is None:
                mine = models.OutputVote(
                    execution_id=execution_id,
                    reviewer_id=actor.user_id or "",
                    decision=decision.value,
                )
            mine.decision, mine.suppress, mine.note = decision.value, suppress, note
            mine.at, mine.nonce = models.utcnow(), secrets.token_hex(16)
            commitment = _commitment(mine)
            session.add(mine)
            try:
                session.commit()
            except IntegrityError:  # the same reviewer voting twice at the same moment
                raise Conflict(
                    "Your vote on this output was being recorded at the same moment; read the "
                    "output again to see which one counts."
                ) from None
        self.audit.record(
            actor,
            "output.vote",
            "execution",
            execution_id,
            # What the vote was stays hidden until the output is decided, here too: its hash
            # (the decision's event reveals the vote and the nonce it was hashed with).
            vote_sha256=commitment,
            **dict(execution.digests or {}),
        )
        # After the commit: of two votes cast at once, the later one to commit sees both.
        with self.store.session() as session:
            votes = _votes(session, {execution_id}).get(execution_id, [])
        agreeing = _agreeing(votes)
        if agreeing:
            final = agreeing[0].decision
            state = ReleaseState.RELEASED if final == Vote.RELEASE.value else ReleaseState.WITHHELD
            notes = [v.note for v in agreeing if v.note]
            return self._decide(
                actor,
                execution_id,
                state,
                " / ".join(dict.fromkeys(notes)),
                any(v.suppress for v in agreeing),
                voters=agreeing,
            )
        with self.store.session() as session:
            return self._view(session, _output(session, execution_id), actor)

    def _check_suppressible(self, execution: models.Execution) -> None:
        from ...disclosure.suppress import CannotSuppress, suppress

        if self.blobs is None or execution.result_blob_id is None:
            raise Conflict("This output's value is not stored here: it cannot be suppressed.")
        try:
            suppress(decode_stored(self.blobs.path(execution.result_blob_id)), execution.report)
        except CannotSuppress as exc:
            raise Conflict(str(exc)) from None

    @staticmethod
    def _not_own(session: Any, actor: Actor, execution: models.Execution, verb: str) -> None:
        code = session.get(models.UserCode, execution.code_id)
        if actor.user_id in {execution.user_id, code.user_id if code else None}:
            raise Forbidden(
                f"You cannot {verb} the output of your own request: another owner of this "
                "Datasite reviews it."
            )

    # --- rows and views ----------------------------------------------------------------------
    def _view(self, session: Any, execution: models.Execution, actor: Actor) -> wire.Output:
        votes = _votes(session, {execution.id}).get(execution.id, [])
        return _view(session, execution, actor, self.reviewers(), votes)


def _output(session: Any, execution_id: str) -> models.Execution:
    execution = session.exec(_outputs().where(models.Execution.id == execution_id)).first()
    if execution is None:
        raise NotFound(f"No output {execution_id}: no run on private data with a result.")
    return execution


def _view(
    session: Any,
    execution: models.Execution,
    actor: Actor,
    needed: int,
    votes: list[models.OutputVote],
    requests: dict[str, str] | None = None,
) -> wire.Output:
    code = session.get(models.UserCode, execution.code_id)
    if requests is None:
        requests = _latest_requests(session, {execution.code_id})
    decider = session.get(models.User, execution.decided_by) if execution.decided_by else None
    held = execution.release == ReleaseState.HELD.value
    conflict = held and len({v.decision for v in votes}) > 1
    mine = next((v for v in votes if v.reviewer_id == actor.user_id), None)
    shown = votes if (conflict or not held) else []
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
        suppressed=execution.original_blob_id is not None,
        suppressed_cells=execution.suppressed_cells,
        votes_needed=needed,
        votes_cast=len(votes),
        my_vote=_vote_view(session, mine) if mine else None,
        votes=[_vote_view(session, v) for v in shown],
        conflict=conflict,
        justification=execution.justification,
        justified_at=iso(execution.justified_at),
    )


def _vote_view(session: Any, vote: models.OutputVote) -> wire.OutputVote:
    return wire.OutputVote(
        reviewer=person(session.get(models.User, vote.reviewer_id)),
        decision=Vote(vote.decision),
        suppress=vote.suppress,
        note=vote.note,
        at=iso(vote.at),
    )


def _votes(session: Any, execution_ids: set[str]) -> dict[str, list[models.OutputVote]]:
    """The votes on each output, oldest first, in one query."""
    if not execution_ids:
        return {}
    rows = session.exec(
        select(models.OutputVote)
        .where(col(models.OutputVote.execution_id).in_(execution_ids))
        .order_by(col(models.OutputVote.at), col(models.OutputVote.id))
    ).all()
    out: dict[str, list[models.OutputVote]] = {}
    for vote in rows:
        out.setdefault(vote.execution_id, []).append(vote)
    return out


def _agreeing(votes: list[models.OutputVote]) -> list[models.OutputVote]:
    """The first two votes of distinct reviewers that agree (empty: no decision yet)."""
    by_decision: dict[str, list[models.OutputVote]] = {}
    for vote in votes:
        same = by_decision.setdefault(vote.decision, [])
        if vote.reviewer_id not in {v.reviewer_id for v in same}:
            same.append(vote)
    return next((v[:2] for v in by_decision.values() if len(v) >= 2), [])


def _opened(vote: models.OutputVote) -> dict[str, Any]:
    """A vote as its audit hash covers it."""
    return {
        "execution_id": vote.execution_id,
        "reviewer_id": vote.reviewer_id,
        "decision": vote.decision,
        "suppress": vote.suppress,
        "note": vote.note,
        "nonce": vote.nonce,
    }


def _commitment(vote: models.OutputVote) -> str:
    """sha256 of the vote (``_opened``, as sorted JSON): what its output.vote event carries."""
    text = json.dumps(_opened(vote), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _emails(session: Any, user_ids: list[str]) -> list[str]:
    users = [session.get(models.User, u) for u in user_ids]
    return [u.email if u else "" for u in users]


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
