"""Changes shared by the processes that serve one Datasite from one PostgreSQL database.

The change bus (``events``) is per process. Where several processes share a database (the
Jupyter extension beside ``jupyter-syft serve``, or several servers), each one's push channel and
held job answers must hear the others' changes too: a scientist streaming from one process is
told of an approval made in another, and a blocking call waiting in one is answered when a worker
of another finishes its job. ``ChangeRelay`` sends every change of its process to the others with
PostgreSQL's NOTIFY, once it is committed, and publishes theirs on its own bus, marked
``relayed``: what the first process did with a change (mail, inbox rows) is not done again.

NOTIFY's payload is capped (8000 bytes): a bigger change goes without its detail, which the
receivers read back from the audit log by the change's ``seq`` (unaudited changes are small).
A relay's connections are its own, outside the store's pool: one listens, one sends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from .events import Change, ChangeBus

log = logging.getLogger("jupyter_syft.server")

CHANNEL = "jupyter_syft_changes"
PAYLOAD_LIMIT = 7_900  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
# Each relay holds this shared advisory lock on its listening connection, so a relay counts the
# others (pg_locks) and sends nothing while it is alone: one process pays nothing for this.
PRESENCE_LOCK = (0x53594654, 0x52454C59)  # two int4 keys ("SYFT", "RELY")
RECOUNT_SECONDS = 30.0  # the others counted again (one that crashed said no goodbye)
SEND_BATCH = 50  # changes told in one round trip at most
RECONNECT_SECONDS = 2.0  # a lost connection is opened again after this long
_FIELDS = tuple(f.name for f in dataclasses.fields(Change) if f.name != "relayed")


def encode(change: Change, origin: str) -> str:
    """The NOTIFY payload of ``change`` (from relay ``origin``), within PAYLOAD_LIMIT."""
    fields = {name: getattr(change, name) for name in _FIELDS}
    payload = json.dumps({"origin": origin, **fields}, default=str, separators=(",", ":"))
    if len(payload.encode()) <= PAYLOAD_LIMIT:
        return payload
    # too big: the detail stays behind (audited changes: read back by seq)
    fields.update(detail={}, about={k: v[:200] for k, v in change.about.items()})
    return json.dumps(
        {"origin": origin, "detail_by_seq": change.seq is not None, **fields},
        default=str,
        separators=(",", ":"),
    )


def decode(message: dict[str, Any], read_detail: Callable[[int], dict[str, Any]]) -> Change:
    """The change of a payload ``encode`` made (parsed), marked ``relayed``."""
    fields = {name: message[name] for name in _FIELDS if name in message}
    if message.get("detail_by_seq") and fields.get("seq") is not None:
        fields["detail"] = read_detail(int(fields["seq"]))
    return Change(**fields, relayed=True)


class ChangeRelay:
    """Relays changes between this process's ``bus`` and the other processes on the database.

    ``connect()`` opens a new autocommit connection to the database (psycopg); ``read_detail``
    reads an audited change's detail by its seq. ``close()`` stops both threads."""

    def __init__(
        self,
        bus: ChangeBus,
        connect: Callable[[], Any],
        read_detail: Callable[[int], dict[str, Any]],
    ):
        self.origin = uuid.uuid4().hex  # this relay's own changes come back: they are skipped
        self._bus = bus
        self._connect = connect
        self._read_detail = read_detail
        self._outbox: queue.SimpleQueue[Change | None] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._listening = threading.Event()
        self._others = 0  # relays of other processes listening on the database (send if any)
        self.sent = 0  # changes told to the others so far
        self._listener = threading.Thread(target=self._listen, name="syft-relay-in", daemon=True)
        self._sender = threading.Thread(target=self._send, name="syft-relay-out", daemon=True)
        self._listener.start()
        self._sender.start()
        self._unsubscribe = bus.subscribe(self._on_change)

    @property
    def others(self) -> int:
        """How many relays of other processes listen on the database, as last counted."""
        return self._others

    def wait_listening(self, timeout: float) -> bool:
        """Whether the listener is listening (within ``timeout`` seconds): from then on no
        change of another process is missed."""
        return self._listening.wait(timeout)

    def _on_change(self, change: Change) -> None:
        if self._others and not change.relayed:  # a relayed one goes back to nobody
            self._outbox.put(change)

    # --- sending -------------------------------------------------------------------------------
    def _send(self) -> None:
        connection = None
        stopping = False
        while not stopping:
            changes = [self._outbox.get()]
            while len(changes) < SEND_BATCH:  # what queued meanwhile goes in the same trip
                try:
                    changes.append(self._outbox.get_nowait())
                except queue.Empty:
                    break
            stopping = None in changes
            payloads = [encode(c, self.origin) for c in changes if c is not None]
            if not payloads:
                continue
            notify = "SELECT " + ", ".join(["pg_notify(%s, %s)"] * len(payloads))
            try:
                if connection is None:
                    connection = self._connect()
                connection.execute(notify, [v for p in payloads for v in (CHANNEL, p)])
                self.sent += len(payloads)
            except Exception as exc:  # the others miss these; the next ones try again
                log.warning("Could not tell other processes of %d changes: %s", len(payloads), exc)
                _closed(connection)
                connection = None
        # the listener stops when it hears its own stop (at once, instead of at its timeout)
        stop = self._signal("stop")
        try:
            connection = connection or self._connect()
            connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, stop))
        except Exception as exc:  # the listener stops at its next timeout instead
            log.debug("Could not stop the relay's listener at once: %s", exc)
        _closed(connection)

    # --- listening -----------------------------------------------------------------------------
    def _listen(self) -> None:
        while not self._closed.is_set():
            connection = None
            try:
                connection = self._connect()
                connection.execute("SELECT pg_advisory_lock_shared(%s, %s)", PRESENCE_LOCK)
                connection.execute(f"LISTEN {CHANNEL}")
                self._others = self._count_others(connection)
                # the others send from now on (and this one hears all they send from here)
                connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self._signal("hello")))
                self._listening.set()
                recount = time.monotonic() + RECOUNT_SECONDS
                while not self._closed.is_set():
                    for note in connection.notifies(timeout=1.0):
                        if self._heard(note.payload):
                            return
                    if time.monotonic() > recount:
                        self._others = self._count_others(connection)
                        recount = time.monotonic() + RECOUNT_SECONDS
            except Exception as exc:
                self._listening.clear()
                if self._closed.is_set():
                    return
                log.warning(
                    "Listening for other processes' changes failed (%s); again in %.0f s",
                    exc,
                    RECONNECT_SECONDS,
                )
                self._closed.wait(RECONNECT_SECONDS)
            finally:
                _closed(connection)

    def _signal(self, kind: str) -> str:
        return json.dumps({"origin": self.origin, kind: True})

    @staticmethod
    def _count_others(connection: Any) -> int:
        counted = connection.execute(_OTHERS, PRESENCE_LOCK).fetchone()
        return int(counted[0]) if counted else 0

    def _heard(self, payload: str) -> bool:
        """Publish another process's change; True when this relay's own stop came."""
        try:
            message = json.loads(payload)
            if message.get("origin") == self.origin:  # its own: sent, not to be heard
                return bool(message.get("stop"))
            if message.get("hello"):  # another process listens from now on
                self._others += 1
                return False
            if message.get("stop"):  # another process stopped listening
                self._others = max(0, self._others - 1)
                return False
            change = decode(message, self._read_detail)
        except Exception:
            log.exception("A change relayed by another process could not be read")
            return False
        self._bus.publish(change)
        return False

    def close(self) -> None:
        self._unsubscribe()
        self._closed.set()
        self._outbox.put(None)
        self._sender.join(10)
        self._listener.join(10)


# the other relays holding the presence lock in this database (this one's own session excluded)
_OTHERS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid = %s::int::oid AND objid = %s::int::oid AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND pid <> pg_backend_pid()"
)


def _closed(connection: Any) -> None:
    """Close ``connection`` (if any), whatever state it is in."""
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()
