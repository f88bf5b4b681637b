"""The push channel: which list changed, told to each reader who may see it, as it happens.

``PushHub`` listens to the change bus (``server/events.py``), turns each change into a
``PushEvent`` (a topic, the object's id and a one-word change: never a value, a name or code),
and hands it to the open streams of the readers allowed to know of it: owners hear of
everything; a scientist of their own requests, runs, jobs and projects, of their own account,
and of datasets (which anyone who may browse sees). The listener only queues the change; the
hub's thread looks up whose object it is, so a request is never slowed by the push channel.

Ids are ``<epoch>-<n>``: ``n`` counts this process's events, ``epoch`` is new at every start,
so a client resuming with an id of an earlier process (or of events that fell out of the
ring of the last ``RING`` events) is told to ``reset``, i.e. to reload everything.
Tornado-free: the HTTP endpoint (``server/http/handlers.py::EventsHandler``) streams what a
``Subscription`` collects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import re
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select

from ..wire import models as wire
from . import models
from .events import Change
from .services import limits
from .services.actor import Actor
from .services.errors import BadRequest, Forbidden, TooManyRequests
from .store import Store

log = logging.getLogger("jupyter_syft.server")

RING = 1000  # events kept for resuming (all readers together)
REQUEST_CACHE = 10_000  # codes whose request id the push thread remembers
PENDING = 500  # events a stream may fall behind by before it is told to reset
KEEPALIVE_SECONDS = 15.0  # a comment line this often: proxies keep the stream, dead ones show
MAX_AGE_SECONDS = 600.0  # a stream ends after this; the client resumes from its last id
MAX_LIMIT = RING
_ID = re.compile(r"([0-9a-f]{8})-([0-9]{1,18})")

# audit action -> (topic, change); the object is the event's object id unless said otherwise.
ACTIONS: dict[str, tuple[str, str]] = {
    "dataset.create": ("datasets", "created"),
    "dataset.delete": ("datasets", "deleted"),
    "request.create": ("requests", "created"),
    "request.approved": ("requests", "approved"),
    "request.rejected": ("requests", "denied"),
    "request.revoked": ("requests", "revoked"),
    "request.approve_nested": ("requests", "approved"),
    "request.deposit": ("requests", "deposited"),
    "project.create": ("projects", "created"),
    "code.run": ("outputs", "ran"),  # the run is detail["execution"]
    "output.report": ("outputs", "checked"),  # "held" or "released" from detail["release"]
    "output.release": ("outputs", "released"),
    "output.withhold": ("outputs", "withheld"),
    "output.justify": ("outputs", "justified"),
    "output.vote": ("outputs", "voted"),
    "job.create": ("jobs", "created"),
    "job.kill": ("jobs", "killed"),
    "job.finish": ("jobs", "finished"),  # (not audited) the change is the job's final status
    "user.create": ("users", "created"),
    "user.update": ("users", "updated"),
    "user.delete": ("users", "deleted"),
}
# Changes only owners hear of, whoever's object it is (a vote stays the reviewers' business).
OWNERS_ONLY = {"output.vote"}
EVERYONE: None = None  # an audience: whoever may browse the Datasite
JOB_ENDS = {"completed", "errored", "interrupted"}
# (topic, object id, change, who besides owners hears of it: user ids, or EVERYONE, and the
# request a run or job belongs to: its notification opens that request's view)
Audience = tuple[str, str, str, "frozenset[str] | None", str]

# Whose object it is, read by primary key with Core (no ORM object per event): a request's
# scientist and project; a project's, run's or job's scientist, and a run's or job's code.
_REQUESTS: Any = models.Request.__table__  # type: ignore[attr-defined]
_PROJECTS: Any = models.Project.__table__  # type: ignore[attr-defined]
_EXECUTIONS: Any = models.Execution.__table__  # type: ignore[attr-defined]
_JOBS: Any = models.Job.__table__  # type: ignore[attr-defined]
_REQUEST_OWNER = select(_REQUESTS.c.user_id, _REQUESTS.c.project_id).where(
    _REQUESTS.c.id == bindparam("id")
)
_REQUEST_OF_CODE = select(_REQUESTS.c.id).where(_REQUESTS.c.code_id == bindparam("code_id"))
_OWNER_OF = {
    "projects": select(_PROJECTS.c.user_id).where(_PROJECTS.c.id == bindparam("id")),
    "outputs": select(_EXECUTIONS.c.user_id, _EXECUTIONS.c.code_id).where(
        _EXECUTIONS.c.id == bindparam("id")
    ),
    "jobs": select(_JOBS.c.user_id, _JOBS.c.code_id).where(_JOBS.c.id == bindparam("id")),
}


@dataclass(frozen=True)
class Event:
    seq: int
    topic: str
    object_id: str
    change: str
    # Who besides owners may hear of it: user ids, or EVERYONE.
    audience: frozenset[str] | None
    request_id: str = ""

    def visible_to(self, actor: Actor) -> bool:
        if actor.is_owner:
            return True
        if self.audience is EVERYONE:
            return True
        return actor.user_id is not None and actor.user_id in self.audience


@dataclass(eq=False)  # each one is itself (kept in a set)
class Subscription:
    """One open stream: the events its reader may see, queued for the stream's event loop."""

    actor: Actor
    loop: asyncio.AbstractEventLoop
    pending: deque[Event] = field(default_factory=deque)
    reset: bool = False  # fell too far behind: the reader must reload everything
    closed: bool = False
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    # on the stream's loop only
    def _deliver(self, event: Event) -> None:
        if self.closed:
            return
        if len(self.pending) >= PENDING:
            self.pending.clear()
            self.reset = True
        else:
            self.pending.append(event)
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def wait(self, timeout: float) -> list[Event]:
        """The events queued, after waiting up to ``timeout`` s for one ([] on timeout)."""
        if not self.pending and not self.closed and not self.reset:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()
        events = list(self.pending)
        self.pending.clear()
        return events

    def call(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run ``fn`` on the stream's loop (from any thread); False if that loop is gone."""
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is closed
            return False
        return True


@dataclass(frozen=True)
class Catchup:
    """Where a reader starts: the events they missed, or ``reset`` (reload everything)."""

    events: list[Event]
    reset: bool
    last_id: str  # the newest id there is (when nothing was missed)


class PushHub:
    def __init__(self, store: Store, changes: Any):
        self.store = store
        self.epoch = secrets.token_hex(4)
        self.keepalive = KEEPALIVE_SECONDS
        self.max_age = MAX_AGE_SECONDS
        self._seq = 0
        self._ring: deque[Event] = deque(maxlen=RING)
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._queue: queue.SimpleQueue[Change | None] = queue.SimpleQueue()
        # changes queued and not yet published: while there are some, every change queues
        # behind them (events keep the order of their changes)
        self._queued = 0
        self._order = threading.Lock()
        # code id -> its request's id (a code's request never changes): read once, not for
        # each of a job's events (only the push thread uses it)
        self._request_of: OrderedDict[str, str] = OrderedDict()
        self._thread = threading.Thread(target=self._serve, name="datasite-push", daemon=True)
        self._thread.start()
        self._unsubscribe = changes.subscribe(self._listen)

    # --- ids -----------------------------------------------------------------------------------
    def event_id(self, seq: int) -> str:
        return f"{self.epoch}-{seq}"

    def last_id(self) -> str:
        with self._lock:
            return self.event_id(self._seq)

    def parse_id(self, text: str) -> int | None:
        """``text``'s n; None for an id of another process (reset); 400 if it is no id."""
        match = _ID.fullmatch(text.strip())
        if match is None:
            raise BadRequest(
                f"Last-Event-ID {limits.clip(text)} is not an id this Datasite sent (they look "
                f"like {self.event_id(7)!r}); leave it out to start from now."
            )
        return int(match.group(2)) if match.group(1) == self.epoch else None

    # --- readers -------------------------------------------------------------------------------
    def catch_up(self, actor: Actor, last_event_id: str | None, limit: int = MAX_LIMIT) -> Catchup:
        """What ``actor`` missed after ``last_event_id`` (at most ``limit`` events)."""
        self._require_reader(actor)
        with self._lock:
            return self._catch_up(actor, last_event_id, limit)

    def subscribe(
        self, actor: Actor, last_event_id: str | None, loop: asyncio.AbstractEventLoop, cap: int
    ) -> tuple[Subscription, Catchup]:
        """Open a stream for ``actor``: what they missed, then every event from now on.

        Both under one lock, so no event falls between the catch-up and the stream. 429 when
        the reader has ``cap`` streams open already (setting ``push_connections_per_user``)."""
        self._require_reader(actor)
        with self._lock:
            if self._closed:
                raise Forbidden("The Datasite is stopping; connect again once it is back.")
            mine = sum(1 for s in self._subscriptions if s.actor.user_id == actor.user_id)
            if mine >= cap:
                raise TooManyRequests(
                    f"You have {mine} live-update streams open on this Datasite, the most "
                    f"allowed ({cap}); close another JupyterLab tab, or ask an owner to raise "
                    "the setting push_connections_per_user.",
                    retry_after=self.keepalive,
                )
            catchup = self._catch_up(actor, last_event_id, MAX_LIMIT)
            subscription = Subscription(actor, loop)
            self._subscriptions.add(subscription)
        return subscription, catchup

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.closed = True
        with self._lock:
            self._subscriptions.discard(subscription)

    def connections(self, user_id: str | None = None) -> int:
        with self._lock:
            return sum(
                1 for s in self._subscriptions if user_id is None or s.actor.user_id == user_id
            )

    def close(self) -> None:
        """Stop: every open stream ends (its client resumes once the Datasite is back)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            subscriptions = list(self._subscriptions)
            self._subscriptions.clear()
        self._unsubscribe()
        self._queue.put(None)
        for subscription in subscriptions:
            subscription.call(subscription.close)
        self._thread.join(10)

    def view(self, event: Event) -> wire.PushEvent:
        return wire.PushEvent(
            id=self.event_id(event.seq),
            topic=event.topic,  # type: ignore[arg-type]
            object_id=event.object_id,
            change=event.change,
            request_id=event.request_id,
        )

    @staticmethod
    def _require_reader(actor: Actor) -> None:
        actor.require_user("receive live updates")

    def _catch_up(self, actor: Actor, last_event_id: str | None, limit: int) -> Catchup:
        last = self.event_id(self._seq)
        if last_event_id is None or not last_event_id.strip():
            return Catchup([], False, last)
        seq = self.parse_id(last_event_id)
        oldest = self._ring[0].seq if self._ring else self._seq + 1
        if seq is None or seq > self._seq or seq < oldest - 1:
            return Catchup([], True, last)  # another process's, or fell out of the ring
        missed = [e for e in self._ring if e.seq > seq and e.visible_to(actor)]
        if len(missed) > limit:
            return Catchup(missed[:limit], False, self.event_id(missed[limit - 1].seq))
        return Catchup(missed, False, last)

    # --- the hub's thread ----------------------------------------------------------------------
    def _listen(self, change: Change) -> None:
        """The bus's listener: a change whose readers are known without reading the database
        (``Change.about`` says whose request it is) is published here, when nothing is queued
        before it; the thread reads the others' (the rest never wakes it)."""
        if change.action not in ACTIONS:
            return
        events = self._events(change, None)
        with self._order:
            if events is not None and not self._queued:
                for event in events:
                    self._publish(*event)
                return
            self._queued += 1
        self._queue.put(change)

    def _serve(self) -> None:
        while (change := self._queue.get()) is not None:
            try:
                events = self._events(change, None)
                if events is None:
                    with self.store.engine.connect() as connection:
                        events = self._events(change, connection) or []
                for topic, object_id, what, audience, request_id in events:
                    self._publish(topic, object_id, what, audience, request_id)
            except Exception:  # a push is a hint; the lists stay right when reloaded
                log.exception("could not push %s", change.action)
            finally:
                with self._order:
                    self._queued -= 1

    def _publish(
        self,
        topic: str,
        object_id: str,
        change: str,
        audience: frozenset[str] | None,
        request_id: str = "",
    ) -> None:
        with self._lock:
            self._seq += 1
            event = Event(self._seq, topic, object_id, change, audience, request_id)
            self._ring.append(event)
            readers = [s for s in self._subscriptions if event.visible_to(s.actor)]
        for subscription in readers:
            if not subscription.call(subscription._deliver, event):
                self.unsubscribe(subscription)

    def _events(self, change: Change, connection: Any) -> list[Audience] | None:
        """(topic, object id, change, audience) of each event ``change`` makes; None when that
        takes a read and ``connection`` is None."""
        known = ACTIONS.get(change.action)
        if known is None:
            return []
        topic, what = known
        detail = change.detail or {}
        object_id = change.object_id
        if change.action == "code.run":
            object_id = str(detail.get("execution") or "")
            if not object_id:
                return []
        if change.action == "output.report":
            what = "held" if detail.get("release") == "held" else "released"
        if change.action == "job.finish" and detail.get("status") in JOB_ENDS:
            what = str(detail["status"])
        if change.action in OWNERS_ONLY:
            return [(topic, object_id, what, frozenset(), "")]
        if topic == "datasets":
            return [(topic, object_id, what, EVERYONE, "")]
        if topic == "users":
            return [(topic, object_id, what, frozenset({object_id}), "")]
        if topic == "requests":
            about = change.about
            if "user_id" in about:
                user_id, project_id = about["user_id"], about.get("project_id", "")
            elif connection is None:
                return None
            else:
                request = connection.execute(_REQUEST_OWNER, {"id": object_id}).first()
                if request is None:
                    return []
                user_id, project_id = request.user_id, request.project_id
            audience = frozenset({user_id})
            events: list[Audience] = [(topic, object_id, what, audience, object_id)]
            if project_id:  # the project's history grew too
                events.append(("projects", project_id, what, audience, object_id))
            return events
        if connection is None:
            return None
        found = connection.execute(_OWNER_OF[topic], {"id": object_id}).first()
        if found is None:
            return []
        request_id = ""
        if topic in ("outputs", "jobs"):
            request_id = self._request_of.get(found.code_id, "")
            if not request_id:
                request_id = (
                    connection.execute(_REQUEST_OF_CODE, {"code_id": found.code_id}).scalar() or ""
                )
                if request_id:
                    self._request_of[found.code_id] = request_id
                    while len(self._request_of) > REQUEST_CACHE:
                        self._request_of.popitem(last=False)
        return [(topic, object_id, what, frozenset({found.user_id}), request_id)]
