"""In-process change bus: services say what changed; notifications and the push channel listen.

Every audited decision is published by ``AuditLog.record`` once its transaction has committed, so
a listener never sees a change that was rolled back. Changes that are not audited (a job that
finished) are published by the service that makes them. Listeners run on the publishing thread:
they must be quick (queue the work) and a listener that raises is logged and skipped, so a
failing notification never fails the request that caused it.

The bus is per process; where several processes share one PostgreSQL database, ``change_relay``
publishes the others' changes here too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    action: str  # "request.create", "job.finish"... (the audit action when audited)
    object_type: str = ""
    object_id: str = ""
    actor_id: str = ""
    actor_email: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None  # the audit event's seq, when the change was audited
    # What listeners would otherwise read back, from the values the change was made with
    # (never hashed nor stored): for a request, its scientist ("user_id"), "project_id" and
    # function name ("function").
    about: dict[str, str] = field(default_factory=dict)
    # Made by another process on the same database (``change_relay``): that process did what a
    # change sets off once (mail, inbox rows); here it is only told (push, held answers).
    relayed: bool = False


Listener = Callable[[Change], None]


class ChangeBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every change from now on; returns the function that stops it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, change: Change) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(change)
            except Exception:
                log.exception("a listener of %s failed; the change itself is kept", change.action)
