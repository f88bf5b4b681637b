"""Answers held until a job ends (``GET jobs/{id}?wait=``), woken by the change bus.

A client waiting for a job asks once and is answered when the job has ended (or its wait is
over), instead of asking again and again: every poll cost the Datasite a request, a token
check and a read. A waiter is an asyncio future on the HTTP server's loop, woken from the
job's thread; it holds no thread and no database connection while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from .events import Change, ChangeBus

MAX_WAITERS = 10_000  # held answers in all; beyond, answers come at once (clients poll)


class JobWaits:
    def __init__(self, changes: ChangeBus):
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._unsubscribe = changes.subscribe(self._on_change)

    def watch(self, job_id: str) -> asyncio.Future[None] | None:
        """A future done at the next change of the job (None: too many waiters already).
        Made before the job is read, so a change between the read and the wait is not
        missed; ``forget`` it when done."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._count >= MAX_WAITERS:
                return None
            self._waiters.setdefault(job_id, set()).add(future)
            self._count += 1
        return future

    def forget(self, job_id: str, future: asyncio.Future[None]) -> None:
        with self._lock:
            waiting = self._waiters.get(job_id)
            if waiting is not None and future in waiting:
                waiting.discard(future)
                self._count -= 1
                if not waiting:
                    del self._waiters[job_id]

    def _on_change(self, change: Change) -> None:
        """On a job's thread (or a request's): wake that job's waiters on their loops."""
        if change.object_type != "job":
            return
        with self._lock:
            waiting = self._waiters.pop(change.object_id, set())
            self._count -= len(waiting)
        for future in waiting:
            with contextlib.suppress(RuntimeError):  # its loop has closed: nobody waits
                future.get_loop().call_soon_threadsafe(_wake, future)

    def close(self) -> None:
        self._unsubscribe()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
