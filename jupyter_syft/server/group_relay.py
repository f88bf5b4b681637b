"""Changes shared by the processes of one ``jupyter-syft serve --processes N`` on SQLite.

On PostgreSQL the processes tell each other their changes with NOTIFY (``change_relay``);
SQLite has nothing like it. The processes of a group share a private folder instead (the
supervisor's, mode 0700: this user's processes only). Each binds a Unix datagram socket
there (``changes-<id>.sock``, mode 0600) and sends every change it made, once committed, to
every other such socket in the folder, in the payloads NOTIFY carries (``change_relay.encode``),
several to a datagram. The receivers publish them on their own bus, marked ``relayed``, as
``ChangeRelay`` does.

A Unix socket neither loses nor reorders datagrams: a receiver whose queue is full holds its
sender back, for SEND_TIMEOUT_S at most; then those changes are not told to it, that is
logged, and it is sent only what fits, without waiting, until it reads again. The sender has
a socket per receiver (the kernel charges a datagram waiting in a receiver's queue to the
socket that sent it), so one receiver that reads nothing holds back no other. A socket whose
process is gone refuses at once and is skipped. The folder is listed for each batch, so a
process that joins hears every change committed after it bound its socket
(it reads the database only after that).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .change_relay import decode, encode
from .events import Change, ChangeBus

log = logging.getLogger("jupyter_syft.server")

PREFIX, SUFFIX = "changes-", ".sock"
DATAGRAM_LIMIT = 60_000  # bytes of payloads per datagram (each payload is within 7,900)
SEND_BATCH = 200  # changes told in one round at most
SEND_TIMEOUT_S = 5.0  # a receiver that reads nothing for this long misses those changes


class FolderRelay:
    """Relays changes between this process's ``bus`` and the others bound in ``folder``;
    ``read_detail`` reads an audited change's detail by its seq (one too big to carry).
    ``close()`` stops both threads and removes this process's socket."""

    def __init__(self, bus: ChangeBus, folder: Path, read_detail: Callable[[int], dict[str, Any]]):
        self.origin = uuid.uuid4().hex
        self.folder = Path(folder)
        # short: a Unix socket's path holds 107 bytes at most
        self.path = self.folder / f"{PREFIX}{self.origin[:12]}{SUFFIX}"
        self._bus = bus
        self._read_detail = read_detail
        self._inbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._inbox.bind(str(self.path))
            self.path.chmod(0o600)
        except OSError:
            self._inbox.close()
            raise
        self._to: dict[Path, socket.socket] = {}  # the sender's sockets, one per peer
        self._behind: set[Path] = set()  # peers whose queue stayed full (see _tell)
        self._outbox: queue.SimpleQueue[Change | None] = queue.SimpleQueue()
        self._closed = threading.Event()
        self.sent = 0  # changes told to the others so far
        self._listener = threading.Thread(target=self._listen, name="syft-relay-in", daemon=True)
        self._sender = threading.Thread(target=self._send, name="syft-relay-out", daemon=True)
        self._listener.start()
        self._sender.start()
        self._unsubscribe = bus.subscribe(self._on_change)

    @property
    def others(self) -> int:
        """How many other processes' sockets are in the folder now."""
        return len(self._peers())

    def wait_listening(self, timeout: float) -> bool:
        """Always True: the socket is bound before the relay is made, so from then on no
        change of another process is missed (the same question ``ChangeRelay`` answers)."""
        return True

    def _on_change(self, change: Change) -> None:
        if not change.relayed:  # a relayed one goes back to nobody
            self._outbox.put(change)

    def _peers(self) -> list[Path]:
        try:
            names = [p for p in self.folder.iterdir() if p.name.startswith(PREFIX)]
        except OSError:  # the group's folder is gone: the group is stopping
            return []
        return [p for p in names if p.name.endswith(SUFFIX) and p != self.path]

    # --- sending -------------------------------------------------------------------------------
    def _send(self) -> None:
        stopping = False
        while not stopping:
            changes = [self._outbox.get()]
            while len(changes) < SEND_BATCH:  # what queued meanwhile goes in the same round
                try:
                    changes.append(self._outbox.get_nowait())
                except queue.Empty:
                    break
            stopping = None in changes
            peers = self._peers()  # none: a process alone (as the group stops) sends nothing
            payloads = [encode(c, self.origin) for c in changes if c is not None and peers]
            if payloads:
                self._tell(peers, _packed(payloads), len(payloads))
                self.sent += len(payloads)
        for sock in self._to.values():
            sock.close()
        # the listener stops when it hears its own stop (at once, not at its next timeout)
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(self._signal("stop"), str(self.path))

    def _tell(self, peers: list[Path], datagrams: list[bytes], count: int) -> None:
        """Send ``datagrams`` to every peer at once: each has a socket of its own, so one
        whose queue is full (a process that reads nothing) holds back no other. A round
        waits SEND_TIMEOUT_S at most for a full queue to drain; a peer whose did not is
        *behind*: later rounds send it what fits without waiting, until all of one fits."""
        for gone in set(self._to) - set(peers):
            self._to.pop(gone).close()
            self._behind.discard(gone)
        pending: dict[socket.socket, tuple[Path, int]] = {}
        for peer in peers:
            sock = self._socket_to(peer)
            if sock is not None:
                pending[sock] = (peer, 0)
        deadline = time.monotonic() + SEND_TIMEOUT_S
        while pending:
            for sock, (peer, sent) in list(pending.items()):
                try:
                    while sent < len(datagrams):
                        sock.send(datagrams[sent])
                        sent += 1
                    self._behind.discard(peer)
                except BlockingIOError:  # its queue is full
                    if peer not in self._behind:  # on when it has room again
                        pending[sock] = (peer, sent)
                        continue
                except OSError:  # its process is gone (its file stays until the folder goes)
                    self._to.pop(peer, None)
                    sock.close()
                del pending[sock]
            left = deadline - time.monotonic()
            if pending and left <= 0:
                for peer, _ in pending.values():
                    self._behind.add(peer)
                    log.warning(
                        "Could not tell %s of %d changes: it reads none (told again without "
                        "waiting, until it reads)",
                        peer.name,
                        count,
                    )
                return
            if pending:
                select.select([], list(pending), [], left)

    def _socket_to(self, peer: Path) -> socket.socket | None:
        """A non-blocking socket connected to ``peer`` (None: nobody is bound there)."""
        sock = self._to.get(peer)
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                sock.connect(str(peer))
            except OSError:  # a process that is gone, or not a socket
                sock.close()
                return None
            sock.setblocking(False)
            self._to[peer] = sock
        return sock

    # --- listening -----------------------------------------------------------------------------
    def _listen(self) -> None:
        while True:
            try:
                datagram = self._inbox.recv(DATAGRAM_LIMIT + 8_192)
            except OSError as exc:
                if self._closed.is_set():
                    return
                log.warning("Listening for other processes' changes failed: %s", exc)
                self._closed.wait(1.0)
                continue
            for payload in datagram.split(b"\n"):
                if payload and self._heard(payload):
                    return

    def _signal(self, kind: str) -> bytes:
        return json.dumps({"origin": self.origin, kind: True}).encode()

    def _heard(self, payload: bytes) -> bool:
        """Publish another process's change; True when this relay's own stop came."""
        try:
            message = json.loads(payload)
            if message.get("origin") == self.origin:
                return bool(message.get("stop"))
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
        self._inbox.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _packed(payloads: list[str]) -> list[bytes]:
    """``payloads`` (JSON text: no raw newline) in datagrams of DATAGRAM_LIMIT bytes at most,
    one per line."""
    datagrams: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for text in payloads:
        data = text.encode()
        if current and size + len(data) + 1 > DATAGRAM_LIMIT:
            datagrams.append(b"\n".join(current))
            current, size = [], 0
        current.append(data)
        size += len(data) + 1
    if current:
        datagrams.append(b"\n".join(current))
    return datagrams
