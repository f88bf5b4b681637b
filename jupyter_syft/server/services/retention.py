"""Collecting what nothing needs any more: at a Datasite's start, then every hour.

- values (blobs) that no asset, run result or deposit points at, once their row is older than
  ``orphan_grace_hours`` (an upload waits that long for the create of its dataset), and value
  files with no row at all (a crash between a file and its row);
- leftovers of uploads and runs a crash cut off: partial uploads, argument folders, results
  that were never taken over;
- expired login tokens and guest sessions;
- history older than the retention settings: finished jobs (``retention_days_jobs``, 90 days
  by default) and runs (``retention_days_runs``, kept for good by default: they say what left
  the Datasite). Each function's latest private result always stays: once its output policy is
  used up, that is what the scientist gets back.

The audit log is never pruned: it is append-only.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, func, update
from sqlmodel import col, select

from .. import models
from ..blobs import BlobStore
from ..store import Store
from .settings import SettingsService

log = logging.getLogger("jupyter_syft.server")
COLLECT_EVERY_SECONDS = 3600.0
FINISHED_JOBS = ("completed", "errored", "interrupted")
WORK_LEFTOVERS = ("args-*", "nested-*", "results/*.jsyf", "results/*.partial")
_CHUNK = 500  # ids per IN (...): well below every database's parameter limit
_MAX_DAYS = 36_500  # longer is "for good" too (and a timedelta cannot hold any number)


def referenced_blobs(session: Any, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` a row still points at: an asset's value or mock, or a run's result (a
    deposit is a run's result too)."""
    ids = list(ids)
    found: set[str] = set()
    columns = (
        col(models.Asset.data_blob_id),
        col(models.Asset.mock_blob_id),
        col(models.Execution.result_blob_id),
        col(models.Execution.original_blob_id),  # the value as computed, under a suppression
    )
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for column in columns:
            found.update(session.exec(select(column).where(column.in_(chunk))).all())
    return found


class RetentionService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        settings: SettingsService,
        work_dir: Path,
        auth: Any = None,
    ):
        self.store = store
        self.blobs = blobs
        self.settings = settings
        self.work_dir = Path(work_dir)
        self.auth = auth

    def collect(self, grace: timedelta | None = None) -> dict[str, int]:
        """One pass; returns how many of each kind went. ``grace``: the orphan grace period
        (default: the ``orphan_grace_hours`` setting)."""
        values = self.settings.values()
        if grace is None:
            grace = timedelta(hours=min(int(values["orphan_grace_hours"]), _MAX_DAYS * 24))
        counts = {
            "jobs": self._prune_jobs(int(values["retention_days_jobs"])),
            "executions": self._prune_executions(int(values["retention_days_runs"])),
            "tokens": self._prune_tokens(),
        }
        guests = getattr(self.auth, "prune_expired_guests", None)
        if callable(guests):  # guest sessions whose tokens expired (AuthService's rules)
            counts["guests"] = int(guests())
        counts["blobs"] = self._collect_blobs(grace)
        counts["files"] = self._collect_files(grace)
        if any(counts.values()):
            log.info("Collected: %s", ", ".join(f"{n} {k}" for k, n in counts.items() if n))
        return counts

    # --- history -----------------------------------------------------------------------------
    def _prune_jobs(self, days: int) -> int:
        if not 0 < days < _MAX_DAYS:
            return 0
        cutoff = models.utcnow() - timedelta(days=days)
        with self.store.session() as session:
            result = session.exec(
                delete(models.Job).where(
                    col(models.Job.status).in_(FINISHED_JOBS), col(models.Job.updated_at) < cutoff
                )
            )
            session.commit()
            return int(result.rowcount or 0)

    def _prune_executions(self, days: int) -> int:
        if not 0 < days < _MAX_DAYS:
            return 0
        cutoff = models.utcnow() - timedelta(days=days)
        execution = models.Execution
        with self.store.session() as session:
            # The latest private run of each function: what its used-up policy hands back.
            latest = (
                select(execution.code_id, func.max(execution.created_at).label("at"))
                .where(col(execution.on_private_data))
                .group_by(execution.code_id)
                .subquery()
            )
            keep = set(
                session.exec(
                    select(execution.id).join(
                        latest,
                        (col(execution.code_id) == latest.c.code_id)
                        & (col(execution.created_at) == latest.c.at),
                    )
                ).all()
            )
            # A held output waits for an owner's decision, however old: never pruned.
            old = session.exec(
                select(execution.id).where(
                    col(execution.created_at) < cutoff, col(execution.release) != "held"
                )
            )
            doomed = [e for e in old.all() if e not in keep]
            for start in range(0, len(doomed), _CHUNK):
                chunk = doomed[start : start + _CHUNK]
                session.exec(
                    update(models.Job)
                    .where(col(models.Job.execution_id).in_(chunk))
                    .values(execution_id=None)
                )
                session.exec(
                    delete(models.OutputVote).where(col(models.OutputVote.execution_id).in_(chunk))
                )
                session.exec(delete(execution).where(col(execution.id).in_(chunk)))
            session.commit()
        return len(doomed)

    def _prune_tokens(self) -> int:
        prune = getattr(self.auth, "prune_expired_tokens", None)
        if callable(prune):
            return int(prune())
        with self.store.session() as session:
            result = session.exec(
                delete(models.ApiToken).where(col(models.ApiToken.expires_at) <= models.utcnow())
            )
            session.commit()
            return int(result.rowcount or 0)

    # --- values and files ----------------------------------------------------------------------
    def _collect_blobs(self, grace: timedelta) -> int:
        cutoff = models.utcnow() - grace
        blob = models.Blob
        unreferenced = (
            col(blob.created_at) < cutoff,
            ~exists().where(col(models.Asset.data_blob_id) == col(blob.id)),
            ~exists().where(col(models.Asset.mock_blob_id) == col(blob.id)),
            ~exists().where(col(models.Execution.result_blob_id) == col(blob.id)),
            ~exists().where(col(models.Execution.original_blob_id) == col(blob.id)),
        )
        with self.store.session() as session:
            doomed = session.exec(select(blob.id).where(*unreferenced)).all()
            for start in range(0, len(doomed), _CHUNK):
                chunk = doomed[start : start + _CHUNK]
                # Checked again as it is deleted: a dataset may have taken one meanwhile.
                session.exec(delete(blob).where(col(blob.id).in_(chunk), *unreferenced))
            session.commit()
        return len(doomed)

    def _collect_files(self, grace: timedelta) -> int:
        """Value files without a row, and leftovers of cut-off uploads and runs."""
        removed = 0
        with self.store.session() as session:
            rows = set(session.exec(select(models.Blob.id)).all())
        for blob_id in list(self.blobs.ids_on_disk()):
            if blob_id not in rows and self.blobs.delete(
                blob_id, unless=functools.partial(self._has_row, blob_id)
            ):
                removed += 1
        return removed + self.clear_leftovers(grace)

    def clear_leftovers(self, grace: timedelta | None = None) -> int:
        """Partial uploads, argument folders and results left by uploads and runs that ended
        without cleaning up: those untouched for ``grace``, or all of them (None: at start,
        before anything runs)."""
        cutoff = None if grace is None else time.time() - grace.total_seconds()
        leftovers = [*self.blobs.tmp_dir.glob("*.part")]
        for pattern in WORK_LEFTOVERS:
            leftovers += self.work_dir.glob(pattern)
        removed = 0
        for path in leftovers:
            with contextlib.suppress(OSError):
                if cutoff is not None and path.lstat().st_mtime >= cutoff:
                    continue  # an upload or a run still going on
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed += 1
        return removed

    def _has_row(self, blob_id: str) -> bool:
        with self.store.session() as session:
            return session.get(models.Blob, blob_id) is not None
