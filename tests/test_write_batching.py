"""Less work per change (issue 18): the notifications of changes queued together are drafted
in order and written in one transaction."""

from __future__ import annotations

import linecache
import threading
import types

import pandas as pd
import pytest
from sqlalchemy import event

import jupyter_syft as sy
from jupyter_syft.server import models
from jupyter_syft.server.events import Change


def _service(node):
    return node.datasite.services.notifications


def _hold(node) -> threading.Event:
    """Keep the notification thread busy (on a change of its own) until the event is set:
    what happens meanwhile queues up behind it, and becomes the next batch."""
    service = _service(node)
    assert service.flush(30)
    gate, holding = threading.Event(), threading.Event()
    real = service._drafts

    def held(change):
        if change.action == "test.hold":
            holding.set()
            gate.wait(60)
            service._drafts = real
        return real(change)

    service._drafts = held
    node.datasite.services.audit.changes.publish(Change("test.hold"))
    # its batch is taken (the thread gathers for GATHER_S first): what comes next is not in it
    assert holding.wait(30)
    return gate


def _release(node, gate: threading.Event) -> None:
    gate.set()
    assert _service(node).flush(30), "the notification thread did not keep up"


def _kinds(client) -> list[str]:
    return [n.to_json()["kind"] for n in client.session.api.notifications()]


@pytest.fixture
def asset(root, scientist):
    frame = pd.DataFrame({"v": [1, 2, 3]})
    root.upload_dataset(
        sy.Dataset(name="Batch", asset_list=[sy.Asset(name="t", data=frame, mock=frame * 0)]),
        progress=False,
    )
    return scientist.datasets["Batch"].assets[0]


def _function(name: str, asset):
    """A new function per name (its source registered, as a notebook cell's is)."""
    source = f"def {name}(data):\n    return len(data)\n"
    filename = f"<batch {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    func = types.FunctionType(code.co_consts[0], {"__builtins__": __builtins__}, name)
    return sy.syft_function_single_use(data=asset)(func)


def test_changes_queued_together_each_notify_in_one_write(node, root, scientist, asset):
    """While the notification thread is busy, requests and decisions queue up: each still
    becomes its own notification (content unchanged), all written by one INSERT."""
    inserts: list[int] = []

    def count(_conn, _cursor, statement, parameters, _context, many):
        if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS"):
            inserts.append(len(parameters) if many else 1)

    engine = node.datasite.store.engine
    gate = _hold(node)
    event.listen(engine, "before_cursor_execute", count)
    try:
        names = [f"batch_{i}" for i in range(4)]
        for name in names:
            scientist.code.request_code_execution(_function(name, asset))
        for request in root.requests:
            request.approve()
    finally:
        _release(node, gate)
        event.remove(engine, "before_cursor_execute", count)
    assert inserts == [8]  # 4 new requests for the owner, 4 approvals for the scientist
    assert _kinds(root).count("request_new") == 4
    assert _kinds(scientist).count("request_approved") == 4
    subjects = {n.to_json()["subject"] for n in scientist.session.api.notifications()}
    assert subjects == {f"Approved: {name}" for name in names}


def test_a_deleted_account_keeps_nothing_queued_before_its_deletion(node, root):
    """A change that notifies an owner, then the owner's deletion, in one batch: what was
    drafted before the deletion is written first, and goes with the account."""
    other = root.users.create(
        email="owner2@example.org", name="Owner 2", password="pw-owner-2", role="DATA_OWNER"
    )
    gate = _hold(node)
    try:
        frame = pd.DataFrame({"v": [1]})
        root.upload_dataset(
            sy.Dataset(name="Second", asset_list=[sy.Asset(name="t", data=frame, mock=frame)]),
            progress=False,
        )
        root.users.delete(other.id)
    finally:
        _release(node, gate)
    table = models.Notification.__table__
    with node.datasite.store.session() as session:
        left = session.exec(table.select().where(table.c.user_id == other.id)).all()
    assert left == []
    assert "dataset_new" not in _kinds(root)  # its uploader is not told


def test_a_batch_that_cannot_be_written_is_written_one_by_one(node, root, scientist, asset):
    """When the batch's one transaction fails, each notification is written alone: only the
    one that cannot be written is lost (logged), not the whole batch."""
    service = _service(node)
    real = service._write
    bad = "batch_bad"

    def failing(drafts):
        if len(drafts) > 1:
            raise RuntimeError("the batch's transaction failed")
        if any(bad in d.subject for d in drafts):
            raise RuntimeError("this row cannot be written")
        return real(drafts)

    gate = _hold(node)
    service._write = failing
    try:
        for name in ("batch_a", bad, "batch_c"):
            scientist.code.request_code_execution(_function(name, asset))
    finally:
        _release(node, gate)
        service._write = real
    subjects = [n.to_json()["subject"] for n in root.session.api.notifications()]
    assert any("batch_a" in s for s in subjects) and any("batch_c" in s for s in subjects)
    assert not any(bad in s for s in subjects)
