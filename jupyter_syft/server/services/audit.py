"""Append-only, hash-chained audit log: each event's hash covers the previous one."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from sqlmodel import col, select

from .. import models
from ..store import Store
from .actor import Actor
from .views import iso


class AuditLog:
    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()  # one writer at a time keeps the chain linear

    def record(
        self, actor: Actor, action: str, object_type: str = "", object_id: str = "", **detail: Any
    ) -> None:
        with self._lock, self.store.session() as session:
            self.store.lock(session, "audit")  # other processes sharing a PostgreSQL database
            last = session.exec(
                select(models.AuditEvent).order_by(col(models.AuditEvent.seq).desc()).limit(1)
            ).first()
            event = models.AuditEvent(
                actor_id=actor.user_id,
                actor_email=actor.email,
                action=action,
                object_type=object_type,
                object_id=object_id,
                detail=detail,
                prev_hash=last.hash if last else "",
            )
            event.hash = _event_hash(event)
            session.add(event)
            session.commit()

    def verify(self) -> bool:
        """True when no event was changed, removed or reordered."""
        with self.store.session() as session:
            prev = ""
            for event in session.exec(
                select(models.AuditEvent).order_by(col(models.AuditEvent.seq))
            ):
                if event.prev_hash != prev or event.hash != _event_hash(event):
                    return False
                prev = event.hash
        return True

    def events(self, limit: int = 100) -> list[dict[str, Any]]:
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


def _event_hash(event: models.AuditEvent) -> str:
    body = json.dumps(
        [
            event.prev_hash,
            event.at.isoformat(),
            event.actor_id,
            event.actor_email,
            event.action,
            event.object_type,
            event.object_id,
            event.detail,
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()
