"""The relay of a ``serve --processes N`` group on SQLite (server/group_relay.py): Unix
datagram sockets in the group's private folder. The Datasite-level behaviour (push, held
answers, inbox rows once, a change too big for one payload) is tests/test_change_relay.py's,
run on both relays; here, what is this relay's own: its socket, order and completeness under
a burst, peers that are gone, and a peer that reads nothing."""

from __future__ import annotations

import contextlib
import logging
import socket
import stat
import threading

import pytest

from jupyter_syft.server import group_relay
from jupyter_syft.server.events import Change, ChangeBus
from jupyter_syft.server.group_relay import FolderRelay
from tests.waiting import wait_for


class Heard:
    def __init__(self, bus: ChangeBus) -> None:
        self.changes: list[Change] = []
        self._lock = threading.Lock()
        bus.subscribe(self._heard)

    def _heard(self, change: Change) -> None:
        with self._lock:
            self.changes.append(change)

    def ids(self) -> list[str]:
        with self._lock:
            return [c.object_id for c in self.changes]


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "group"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def relays(folder):
    made: list[FolderRelay] = []

    def make() -> tuple[ChangeBus, FolderRelay]:
        bus = ChangeBus()
        made.append(FolderRelay(bus, folder, lambda seq: {}))
        return bus, made[-1]

    yield make
    for relay in made:
        relay.close()


def test_its_socket_is_the_owners_alone_and_goes_with_it(relays):
    _, relay = relays()
    mode = relay.path.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    _, other = relays()
    assert relay.others == 1 and other.others == 1
    other.close()
    assert not other.path.exists() and relay.others == 0


def test_a_burst_arrives_whole_and_in_order_never_echoed(relays):
    bus_a, a = relays()
    bus_b, _ = relays()
    heard_a, heard_b = Heard(bus_a), Heard(bus_b)
    sent = [f"job-{n}" for n in range(3000)]
    for job in sent:  # many to a datagram, several datagrams to a round
        bus_a.publish(Change("job.finish", "job", job, detail={"pad": "x" * 100}))
    wait_for(lambda: len(heard_b.ids()) == len(sent), "b hears every change")
    assert heard_b.ids() == sent
    assert all(c.relayed for c in heard_b.changes)
    assert heard_a.ids() == sent and not any(c.relayed for c in heard_a.changes)  # no echo
    assert a.sent == len(sent)
    bus_b.publish(Change("job.finish", "job", "from-b"))
    wait_for(lambda: "from-b" in heard_a.ids(), "a hears b")
    assert heard_b.ids().count("from-b") == 1  # b's own, once: a did not send it back


def test_peers_that_are_gone_are_skipped(relays, folder):
    gone = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # a process killed: file left
    gone.bind(str(folder / "changes-deadbeef0000.sock"))
    gone.close()
    (folder / "changes-notasocket.sock").write_text("")
    bus_a, _ = relays()
    bus_b, _ = relays()
    heard_b = Heard(bus_b)
    for n in range(5):
        bus_a.publish(Change("job.finish", "job", f"j-{n}"))
    wait_for(lambda: len(heard_b.ids()) == 5, "the live peer hears all")


def test_a_peer_that_reads_nothing_holds_nobody_for_long(relays, folder, monkeypatch, caplog):
    """A stuck process's queue fills: its sender waits SEND_TIMEOUT_S for it once (said in
    the log), then sends it only what fits, without waiting, until it reads again. The others
    hear every change all along."""
    monkeypatch.setattr(group_relay, "SEND_TIMEOUT_S", 0.2)
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # bound, not read for now
    stuck.bind(str(folder / "changes-stuck0000000.sock"))
    stuck.settimeout(0)

    def gave_up() -> list[str]:
        return [r.getMessage() for r in caplog.records if "Could not tell" in r.getMessage()]

    def burst(bus: ChangeBus, tag: str) -> None:
        for n in range(100):  # big ones: the stuck queue is full after a few datagrams
            bus.publish(Change("job.finish", "job", f"{tag}-{n}", detail={"p": "x" * 7000}))

    try:
        bus_a, _ = relays()
        bus_b, _ = relays()
        heard_b = Heard(bus_b)
        with caplog.at_level(logging.WARNING, logger="jupyter_syft.server"):
            burst(bus_a, "first")
            wait_for(lambda: len(heard_b.ids()) == 100, "the live peer hears the first burst")
            wait_for(gave_up, "the sender gives up on the stuck one")
            assert all("stuck" in said and "reads none" in said for said in gave_up())
            burst(bus_a, "second")  # no wait for the stuck one this time: no second warning
            wait_for(lambda: len(heard_b.ids()) == 200, "the live peer hears the second")
            assert len(gave_up()) == 1
            with contextlib.suppress(BlockingIOError):
                while stuck.recv(1 << 17):  # it reads again
                    pass
            burst(bus_a, "third")
            wait_for(lambda: len(heard_b.ids()) == 300, "the live peer hears the third")
            wait_for(lambda: b"third-0" in _read(stuck), "the stuck one is told again")
    finally:
        stuck.close()


def _read(sock: socket.socket) -> bytes:
    """A datagram waiting on non-blocking ``sock``, or b"" if none is."""
    try:
        return sock.recv(1 << 17)
    except BlockingIOError:
        return b""


def test_payloads_are_packed_within_the_datagram_limit():
    payloads = [f'{{"n": {n}, "pad": "{"x" * (n * 37 % 7000)}"}}' for n in range(300)]
    datagrams = group_relay._packed(payloads)
    assert all(len(d) <= group_relay.DATAGRAM_LIMIT for d in datagrams)
    assert b"\n".join(datagrams).decode().split("\n") == payloads
    assert len(datagrams) > 1
