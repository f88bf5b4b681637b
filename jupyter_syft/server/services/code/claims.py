"""Run claims: counting private-data runs against an output policy, atomically and durably.

A claim is the count of one run plus a row that says who is running it; the run deletes the
row once it delivered. A run a crash or a stop cut off leaves its row, and its count is
given back by ``release_cut_off``, never twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select

from ... import models
from ...store import Store
from .. import liveness


class RunClaims:
    def __init__(self, store: Store):
        self.store = store

    def claim(self, code_id: str, limit: int | None, job_id: str | None) -> str | None:
        """Count one private-data run, atomically: concurrent callers can never exceed
        ``limit``. The claim is written with the count, so a run a crash cuts off gives it
        back at the next start. Its id, or None when the policy is used up."""
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

    def release(self, claim_id: str) -> None:
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

    def give_back_one(self, code_id: str) -> None:
        """Uncount a delivered run (it failed through our fault, not the scientist's)."""
        with self.store.session() as session:
            session.exec(_one_run_back(code_id))
            session.commit()

    def release_cut_off(self, ours: bool = False) -> int:
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
            self.release(claim_id)
        return len(gone)

    @staticmethod
    def delivered(session: Any, claim_id: str) -> None:
        """In the session that stores the run's outcome: the count stays, the claim goes."""
        session.exec(delete(models.RunClaim).where(col(models.RunClaim.id) == claim_id))


def _one_run_back(code_id: str) -> Any:
    return (
        update(models.UserCode)
        .where(col(models.UserCode.id) == code_id, col(models.UserCode.runs_used) > 0)
        .values(runs_used=col(models.UserCode.runs_used) - 1)
    )
