"""The relay of a ``serve --processes N`` group on SQLite (server/group_relay.py): Unix
datagram sockets in the group's private folder. The Datasite-level behaviour (push, held
answers, inbox rows once, a change too big for one payload) is tests/test_change_relay.py's,
run on both relays; here, what is this relay's own: its socket, order and completeness under
a burst, peers that are gone, and a peer that reads nothing."""

from __future__ import annotations

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
    """A stuck process's queue fills; its sender gives up on it after SEND_TIMEOUT_S (said
    in the log) and the others still hear every change."""
    monkeypatch.setattr(group_relay, "SEND_TIMEOUT_S", 0.2)
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # bound, never read
    stuck.bind(str(folder / "changes-stuck0000000.sock"))
    try:
        bus_a, _ = relays()
        bus_b, _ = relays()
        heard_b = Heard(bus_b)
        with caplog.at_level(logging.WARNING, logger="jupyter_syft.server"):
            for n in range(200):  # big ones: the stuck queue is full after a few datagrams
                bus_a.publish(Change("job.finish", "job", f"j-{n}", detail={"p": "x" * 7000}))
            wait_for(lambda: len(heard_b.ids()) == 200, "the live peer hears all")
            said = "Could not tell changes-stuck0000000.sock"
            wait_for(lambda: said in caplog.text, "the sender gives up on the stuck one")
        gave_up = [r.getMessage() for r in caplog.records if "Could not tell" in r.getMessage()]
        assert all("stuck" in said and "it reads none" in said for said in gave_up), gave_up
    finally:
        stuck.close()


def test_payloads_are_packed_within_the_datagram_limit():
    payloads = [f'{{"n": {n}, "pad": "{"x" * (n * 37 % 7000)}"}}' for n in range(300)]
    datagrams = group_relay._packed(payloads)
    assert all(len(d) <= group_relay.DATAGRAM_LIMIT for d in datagrams)
    assert b"\n".join(datagrams).decode().split("\n") == payloads
    assert len(datagrams) > 1
