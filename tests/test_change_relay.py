"""Two processes serving one Datasite hear each other's changes: on one PostgreSQL database
(server/change_relay.py, NOTIFY), or on one SQLite file as a ``serve --processes N`` group
(server/group_relay.py, datagrams in the group's folder). The push channel and held job
answers of one are told of what the other did, what a change sets off (inbox rows, mail)
happens once, and a change too big for NOTIFY still arrives whole. Two Datasites on one
database stand for the two processes: each has its own change bus, relay and connections, as
a process of its own would."""

from __future__ import annotations

import asyncio
import threading

import pytest

import jupyter_syft as sy
from jupyter_syft.hosts.bootstrap import open_datasite
from jupyter_syft.hosts.standalone import DatasiteServer
from jupyter_syft.server import change_relay
from jupyter_syft.server.datasite import DatasiteConfig
from jupyter_syft.server.events import Change
from tests.waiting import HANG, wait_for

pytest_plugins = ["tests.postgres"]

ROOT_EMAIL, ROOT_PASSWORD = "root@relay.example", "root-pass-123"


class Recorder:
    """Every change a bus publishes, in order."""

    def __init__(self, datasite) -> None:
        self.changes: list[Change] = []
        self._lock = threading.Lock()
        datasite.services.audit.changes.subscribe(self._heard)

    def _heard(self, change: Change) -> None:
        with self._lock:
            self.changes.append(change)

    def of(self, action: str) -> list[Change]:
        with self._lock:
            return [c for c in self.changes if c.action == action]


@pytest.fixture(params=["postgresql", "sqlite"])
def config_of(request, tmp_path):
    """The config of a process named ``name`` on the shared database: PostgreSQL, or a SQLite
    file shared by a group (its relay's folder made as the supervisor makes it: 0700)."""
    if request.param == "postgresql":
        db_url, folder = request.getfixturevalue("postgres_url"), None
    else:
        db_url, folder = f"sqlite:///{tmp_path / 'shared.db'}", tmp_path / "group"
        folder.mkdir(mode=0o700)

    def config(name: str) -> DatasiteConfig:
        return DatasiteConfig(
            name="relay",
            data_dir=tmp_path / name,
            db_url=db_url,
            root_email=ROOT_EMAIL,
            root_password=ROOT_PASSWORD,
            group_folder=folder,
        )

    return config


@pytest.fixture
def two(config_of):
    """Datasites "a" and "b" on one database, each relay listening."""
    sites = []
    try:
        for name in ("a", "b"):
            sites.append(open_datasite(config_of(name)))
        for site in sites:
            assert site.relay is not None and site.relay.wait_listening(HANG)
        wait_for(lambda: all(site.relay.others == 1 for site in sites), "each knows the other")
        yield sites
    finally:
        for site in sites:
            site.close()


def test_each_process_hears_the_others_changes_once_and_marked_relayed(two):
    a, b = two
    heard_a, heard_b = Recorder(a), Recorder(b)
    a.services.audit.changes.publish(Change("job.finish", "job", "j-1", detail={"n": 1}))
    b.services.audit.changes.publish(Change("job.finish", "job", "j-2", detail={"n": 2}))
    wait_for(lambda: len(heard_a.of("job.finish")) == 2, "a hears b's change")
    wait_for(lambda: len(heard_b.of("job.finish")) == 2, "b hears a's change")
    for heard, own, other in ((heard_a, "j-1", "j-2"), (heard_b, "j-2", "j-1")):
        by_id = {c.object_id: c for c in heard.of("job.finish")}
        assert not by_id[own].relayed  # its own, published once: no echo came back
        assert by_id[other].relayed and by_id[other].detail["n"] in (1, 2)
    # nothing is relayed back again: each bus has exactly the two changes
    a.services.audit.changes.publish(Change("job.finish", "job", "marker"))
    wait_for(lambda: any(c.object_id == "marker" for c in heard_b.changes), "the marker")
    assert [c.object_id for c in heard_a.of("job.finish")].count("j-2") == 1
    assert [c.object_id for c in heard_b.of("job.finish")].count("j-1") == 1


def test_a_process_alone_on_its_database_sends_nothing(two, config_of):
    a, b = two
    b.close()  # its goodbye: a is alone again
    wait_for(lambda: a.relay.others == 0, "a hears b leave")
    sent = a.relay.sent
    a.services.audit.changes.publish(Change("job.finish", "job", "alone"))
    a.services.audit.record(a.services.auth.owner_actor(), "relay.test", "dataset", "d-2")
    assert a.relay.sent == sent  # nothing queued at all: one process pays nothing
    # a third process comes: a counts it at once, and tells it its changes
    c = open_datasite(config_of("c"))
    try:
        assert c.relay is not None and c.relay.wait_listening(HANG) and c.relay.others == 1
        wait_for(lambda: a.relay.others == 1, "a hears c's hello")
        heard_c = Recorder(c)
        a.services.audit.changes.publish(Change("job.finish", "job", "to-c"))
        wait_for(lambda: heard_c.of("job.finish"), "c hears a")
        assert a.relay.sent == sent + 1
    finally:
        c.close()


def test_a_change_too_big_for_notify_arrives_with_its_whole_detail(two):
    a, b = two
    heard_b = Recorder(b)
    owner = a.services.auth.owner_actor()
    big = "x" * (change_relay.PAYLOAD_LIMIT * 2)
    a.services.audit.record(owner, "relay.test", "dataset", "d-1", note=big)
    wait_for(lambda: heard_b.of("relay.test"), "b hears the big change")
    (change,) = heard_b.of("relay.test")
    assert change.relayed and change.seq is not None
    assert change.detail["note"] == big  # read back from the audit log by its seq


def test_a_held_job_answer_is_woken_by_the_other_process(two):
    a, b = two

    async def wait_on_b() -> None:
        woken = b.job_waits.watch("job-7")
        assert woken is not None
        # a's worker finished the job: b's held answer goes out now, not at its timeout
        a.services.audit.changes.publish(
            Change("job.finish", "job", "job-7", detail={"status": "completed"})
        )
        await asyncio.wait_for(woken, HANG)

    asyncio.run(wait_on_b())


def test_push_and_inbox_across_processes(two):
    """A scientist's request made through one process: the owner's push stream on the other is
    told, and each owner's inbox gets the new request once, not once per process."""
    a, b = two
    servers = [DatasiteServer(site) for site in two]
    for server in servers:
        server.start()
    try:
        url_a = f"http://127.0.0.1:{servers[0].port}"
        root = sy.login(url=url_a, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        dataset = sy.Dataset(name="shared")
        dataset.add_asset(sy.Asset(name="values", data=[1, 2, 3], mock=[0, 0, 0]))
        root.upload_dataset(dataset, progress=False)
        root.users.create(sy.UserCreate(email="ds@relay.example", name="DS", password="ds-pass-1"))
        scientist = sy.login(
            url=url_a, email="ds@relay.example", password="ds-pass-1", verbose=False
        )
        asset = scientist.datasets[0].assets[0]

        @sy.syft_function_single_use(values=asset)
        def total(values):
            return sum(values)

        scientist.code.request_code_execution(total)
        request_id = root.requests[0].id

        owner_b = b.services.auth.owner_actor()
        wait_for(
            lambda: any(
                e.topic == "requests" and e.object_id == str(request_id)
                for e in b.push.catch_up(owner_b, b.push.event_id(0)).events
            ),
            "b's push channel tells of a's request",
        )
        for site in two:
            assert site.services.notifications.flush()
        from sqlmodel import select

        from jupyter_syft.server import models

        told = select(models.Notification).where(models.Notification.object_id == str(request_id))
        with a.store.session() as session:
            rows = session.exec(told).all()
        per_reader = [(row.user_id, row.kind) for row in rows]
        assert per_reader, "the owner is told of the new request"
        assert len(per_reader) == len(set(per_reader))  # once, though both processes heard it
    finally:
        for server in servers:
            server.stop()
