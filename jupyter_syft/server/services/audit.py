"""Append-only, hash-chained audit log: each event's hash covers the previous one.

Every decision a Datasite takes on someone's behalf (accounts, datasets, code, requests,
runs, output reviews) is recorded here by the service that takes it. How events are hashed
and how a chain is checked is ``jupyter_syft.audit_chain`` (stdlib only: the offline checker
``jupyter-syft audit verify FILE`` uses the same function).

New events are hashed with version 3 (``hash_version`` column): ``seq`` is assigned here as
the last event's + 1 and is covered by the hash, so a renumbered event or a gap is seen. The
head is read in the writing transaction once it holds the database's write lock (SQLite) or
an advisory lock (PostgreSQL): threads and processes sharing the database append one at a
time. On PostgreSQL the append is one statement per event that reads the head and computes
the link itself (``_APPEND``), sent with the lock and the COMMIT in one round trip: the lock
is held for the database's own work only, never across a wait for this process's GIL (every
audited write queues on it). Events a database already held (``hash_version`` 1 and 2) keep
verifying the way they were hashed.

A decision and its event commit together (``commit``): a Datasite that stops between them
cannot keep a decision nobody can see in the log.

Owners read the log (``events``), check it on the server (``verification``: the whole chain
in pages of ``VERIFY_PAGE`` events, so memory stays bounded however long it is), and take a
``checkpoint`` (the head's seq and hash) to keep elsewhere; ``verification(since=...)`` later
proves the log still extends it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from ...audit_chain import (
    HASH_VERSION,
    ChainChecker,
    Verdict,
    at_text,
    content_digest,
    link_hash,
)
from ...wire import models as wire
from .. import models
from ..events import Change, ChangeBus
from ..rows import inserting
from ..store import Store
from . import limits, paging
from .actor import Actor
from .errors import BadRequest
from .paging import PageParams
from .views import iso

VERIFY_PAGE = 1000  # events read at once while verifying
FILTER_LIMIT = 320  # characters of a filter value (an email is at most 254)
HASH_LENGTH = 64


class AuditLog:
    def __init__(self, store: Store):
        self.store = store
        self.changes = ChangeBus()  # told of each event once it is committed

    # --- writing -----------------------------------------------------------------------------
    def record(
        self, actor: Actor, action: str, object_type: str = "", object_id: str = "", **detail: Any
    ) -> None:
        self.record_many(actor, [(action, object_type, object_id, detail)])

    def record_many(
        self, actor: Actor, events: Sequence[tuple[str, str, str, dict[str, Any]]]
    ) -> None:
        """Several events of one actor, ``(action, object_type, object_id, detail)`` each, in
        order, in one transaction (a run and its output report: one head read, one commit)."""
        with self.store.session() as session:
            self.commit(session, actor, events)

    def commit(
        self,
        session: Session,
        actor: Actor,
        events: Sequence[tuple[str, str, str, dict[str, Any]]],
        about: dict[str, str] | None = None,
        writes: Sequence[tuple[Any, dict[str, Any]]] = (),
    ) -> None:
        """Commit ``session``'s transaction with ``events`` (as ``record_many`` takes them)
        appended to the log in it: the change and its record are kept together or not at
        all. Call it last: from the head read to the commit, other writers wait. ``about``:
        the published changes' ``Change.about`` (not part of the events). ``writes``: the
        change's last statements, ``(statement, values)`` that need no answer, run first (on
        PostgreSQL in the commit's one round trip: ``Store.commit_under_lock``); a duplicate
        among them raises ``IntegrityError`` and nothing is kept."""
        # What is hashed must be exactly what the database gives back: JSON-safe detail, and
        # text without NUL (PostgreSQL stores U+FFFD for it, see store._without_nul).
        cleaned = [
            (action, object_type, object_id, _no_nul(json.loads(json.dumps(detail, default=str))))
            for action, object_type, object_id, detail in events
        ]
        at = models.utcnow()
        rows = []
        for action, object_type, object_id, clean_detail in cleaned:
            row = {
                "hash_version": HASH_VERSION,
                "at": at,
                "actor_id": _no_nul(actor.user_id),
                "actor_email": _no_nul(actor.email),
                "action": _no_nul(action),
                "object_type": _no_nul(object_type),
                "object_id": _no_nul(object_id),
                "detail": clean_detail,
            }
            row["content"] = content_digest(row)  # before the lock: nothing waits for it
            rows.append(row)
        if self.store.one_trip_locked_writes():
            # the driver's values: detail as its JSON text (the statement casts it)
            sent = [{**row, "detail": json.dumps(row["detail"])} for row in rows]
            appended = self.store.commit_under_lock(session, "audit", _APPEND, sent, writes)
            seqs = [found[0] for found in appended]
        else:
            for statement, values in writes:
                session.connection().execute(statement, values)
            seqs = self._link_and_commit(session, rows)
        for seq, row in zip(seqs, rows, strict=True):
            self.changes.publish(
                Change(
                    action=row["action"],
                    object_type=row["object_type"],
                    object_id=row["object_id"],
                    actor_id=row["actor_id"] or "",
                    actor_email=row["actor_email"] or "",
                    detail=row["detail"],
                    seq=seq,
                    about=about or {},
                )
            )

    def _link_and_commit(self, session: Session, rows: list[dict[str, Any]]) -> list[int]:
        """The append in Python (SQLite; PostgreSQL while a test watches every statement):
        the head read under the lock, each row linked to the one before, then the commit."""
        head = self.store.lock_writes_and_read(session, "audit", _head_query())
        last_seq, last_hash = head if head is not None else (0, "")
        linked = []
        for row in rows:
            seq = (last_seq or 0) + 1
            event = {k: v for k, v in row.items() if k != "content"}
            event.update(seq=seq, prev_hash=last_hash)
            event["hash"] = link_hash(last_hash, seq, row["content"])
            last_seq, last_hash = seq, event["hash"]
            linked.append(event)
        self.store.write_and_commit(session, inserting(models.AuditEvent), linked)
        return [event["seq"] for event in linked]

    # --- checking ----------------------------------------------------------------------------
    def verify(self) -> bool:
        """True when no event was changed, removed or reordered (in-process use)."""
        return self._check().ok

    def verification(
        self, actor: Actor, since_seq: str | None = None, since_hash: str | None = None
    ) -> wire.AuditVerification:
        """The whole chain checked (owners); with a checkpoint, that the log extends it."""
        actor.require_owner("verify the audit log")
        checkpoint = _checkpoint(since_seq, since_hash)
        verdict = self._check(*checkpoint) if checkpoint else self._check()
        return wire.AuditVerification(
            ok=verdict.ok,
            count=verdict.count,
            head_seq=verdict.head_seq,
            head_hash=verdict.head_hash or None,
            bad_seq=verdict.bad_seq,
            reason=verdict.reason,
            since_seq=checkpoint[0] if checkpoint else None,
        )

    def _check(self, since_seq: int | None = None, since_hash: str | None = None) -> Verdict:
        checker = ChainChecker(since_seq, since_hash)
        start = max(0, (since_seq or 0) - 1)
        for event in self._walk(start):
            if not checker.feed(event):
                break
        return checker.finish()

    def _walk(self, after: int) -> Iterator[dict[str, Any]]:
        """Every event with seq > ``after``, oldest first, read ``VERIFY_PAGE`` at a time."""
        while True:
            with self.store.session() as session:
                rows = session.exec(
                    select(models.AuditEvent)
                    .where(col(models.AuditEvent.seq) > after)
                    .order_by(col(models.AuditEvent.seq))
                    .limit(VERIFY_PAGE)
                ).all()
                events = [_fields(e) for e in rows]
            yield from events
            if len(events) < VERIFY_PAGE:
                return
            after = events[-1]["seq"]

    def checkpoint(self, actor: Actor) -> wire.AuditCheckpoint:
        """The head of the log (owners): keep it elsewhere, verify against it later."""
        actor.require_owner("take audit checkpoints")
        with self.store.session() as session:
            last = session.exec(
                select(models.AuditEvent).order_by(col(models.AuditEvent.seq).desc()).limit(1)
            ).first()
        if last is None:
            return wire.AuditCheckpoint(seq=0, hash="", at=None)
        at = at_text(last.at).replace("+00:00", "Z")
        return wire.AuditCheckpoint(seq=last.seq or 0, hash=last.hash, at=at)

    # --- reading -----------------------------------------------------------------------------
    def list_events(
        self,
        actor: Actor,
        user: str | None = None,
        object_id: str | None = None,
        object_type: str | None = None,
        action: str | None = None,
        since_seq: str | None = None,
        page: PageParams | None = None,
    ) -> wire.Page[wire.AuditEvent]:
        """One page of events (owners), newest first unless ``order=oldest``, filtered by who
        acted (``user``: an email or a user id), the object, the action (a prefix:
        ``output.`` matches every output decision) and ``since_seq`` (events after it)."""
        actor.require_owner("read the audit log")
        query = select(models.AuditEvent)
        E = models.AuditEvent
        if user:
            _check_filter(user, "user")
            query = query.where((col(E.actor_email) == user) | (col(E.actor_id) == user))
        if object_id:
            query = query.where(col(E.object_id) == _check_filter(object_id, "object_id"))
        if object_type:
            query = query.where(col(E.object_type) == _check_filter(object_type, "object_type"))
        if action:
            _check_filter(action, "action")
            query = query.where(col(E.action).startswith(action, autoescape=True))
        if since_seq not in (None, ""):
            query = query.where(col(E.seq) > _seq(since_seq, "since_seq"))
        with self.store.session() as session:
            return paging.page(session, query, "audit", col(E.seq), col(E.seq), page, _views)

    def events(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` events as dicts (in-process use: tests, the server's own)."""
        with self.store.session() as session:
            rows = session.exec(
                select(models.AuditEvent).order_by(col(models.AuditEvent.seq).desc()).limit(limit)
            ).all()
            return [
                {
                    "seq": e.seq,
                    "at": iso(e.at),
                    "actor": e.actor_email,
                    "action": e.action,
                    "object_type": e.object_type,
                    "object_id": e.object_id,
                    "detail": e.detail,
                }
                for e in rows
            ]


# PostgreSQL's append of one event (``commit``): the head read and the link computed by the
# database (audit_chain.link_hash: sha256 of "prev_hash:seq:content"), in the statement that
# writes the event. Sent after the lock in the same transaction: READ COMMITTED gives each
# statement its own snapshot, taken once the lock is granted, so the head is the last
# committed one; a second event of the same commit reads the first.
_APPEND = text(
    """
    INSERT INTO audit_events (seq, hash_version, at, actor_id, actor_email, action,
                              object_type, object_id, detail, prev_hash, hash)
    SELECT next.seq, :hash_version, :at, :actor_id, :actor_email, :action,
           :object_type, :object_id, CAST(:detail AS json), next.prev_hash,
           encode(sha256(convert_to(
               next.prev_hash || ':' || next.seq::text || ':' || :content, 'UTF8')), 'hex')
    FROM (
        SELECT COALESCE(head.seq, 0) + 1 AS seq, COALESCE(head.hash, '') AS prev_hash
        FROM (SELECT 1) AS one
        LEFT JOIN (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1) AS head
        ON true
    ) AS next
    RETURNING seq
    """
)


@functools.cache
def _head_query() -> Select[Any]:
    """The last event's seq and hash (built once: building a statement costs more than
    running this one)."""
    events = models.AuditEvent.__table__  # type: ignore[attr-defined]
    return sa_select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)


def _fields(event: models.AuditEvent) -> dict[str, Any]:
    """Every hashed field of ``event``, plus seq, hash and hash_version."""
    return {
        "seq": event.seq,
        "hash_version": event.hash_version,
        "at": at_text(event.at),
        "actor_id": event.actor_id,
        "actor_email": event.actor_email,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _views(rows: Sequence[models.AuditEvent]) -> list[wire.AuditEvent]:
    views = []
    for event in rows:
        fields = _fields(event)
        fields["at"] = fields["at"].replace("+00:00", "Z")  # the wire's way; same instant
        views.append(wire.AuditEvent(**fields))
    return views


def _no_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nul(v) for v in value]
    return value


def _check_filter(value: str, name: str) -> str:
    if len(value) > FILTER_LIMIT:
        raise BadRequest(
            f"{name} is too long: {len(value)} characters, {FILTER_LIMIT} at most. "
            "Filter by an email, a user id, an object id or an action prefix."
        )
    return value


def _seq(value: str, name: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise BadRequest(
            f"{name} must be a whole number (an event's seq), not {limits.clip(value)}."
        )
    return int(value)


def _checkpoint(seq: str | None, hash_: str | None) -> tuple[int, str] | None:
    """A checkpoint from query values: both or neither."""
    if seq in (None, "") and hash_ in (None, ""):
        return None
    if seq in (None, "") or hash_ is None:
        raise BadRequest(
            "Give both since_seq and since_hash (a checkpoint from client.audit.checkpoint()), "
            "or neither to verify the whole log."
        )
    number = _seq(seq, "since_seq")
    if number == 0:
        if hash_ != "":
            raise BadRequest("The checkpoint of an empty log (since_seq 0) has an empty hash.")
        return 0, ""
    hash_ = hash_.lower()
    if len(hash_) != HASH_LENGTH or any(c not in "0123456789abcdef" for c in hash_):
        raise BadRequest(
            "since_hash must be the checkpoint's hash: 64 hex digits, as client.audit."
            f"checkpoint() gave it, not {limits.clip(hash_)}."
        )
    return number, hash_
