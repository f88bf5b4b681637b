"""Less server CPU per code request and decision (#18), with the same outcomes: the submitted
source parsed once (``analysis.check_submission``), and what the notifications and push threads
read back of a request carried on its change (``Change.about``) instead."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_requests_answers import _actor, _payload

from jupyter_syft import analysis
from jupyter_syft.server import models
from jupyter_syft.server.events import Change, ChangeBus
from jupyter_syft.server.push import PushHub
from jupyter_syft.server.rows import loaded, set_values
from jupyter_syft.server.services import notifications as notification_service
from jupyter_syft.server.services.code import submission
from jupyter_syft.wire import models as wire

SOURCES = [
    ("@sy.syft_function_single_use(data=asset)\ndef f(data):\n    return data.sum()\n", "f"),
    ("    @sy.syft_function()\n    def f(x, *args, y=1, **kw):\n        return x\n", "f"),
    (
        "def helper():\n    return 1\n\n@sy.syft_function()\ndef f(data):\n    return np.sum(data)\n",
        "f",
    ),
    (
        "def f(data, datasite):\n    datasite.launch_job(g, data)\n    datasite.launch_job(g)\n"
        "    datasite.launch_job(fns[0])\n    datasite.launch_job(func=h)\n    return 1\n",
        "f",
    ),
    ("def f(data):\n    return [r for r in data.to_dict('records')]\n", "f"),
    ("def f(data):\n    break\n", "f"),
    ("def f(data:\n    return 1\n", "f"),
    ("x = 1\n", "f"),
    ("def g():\n    return 1\n", "f"),
    ("def f(data):\n    return open('/etc/passwd').read()\n", None),
]


@pytest.mark.parametrize(("source", "name"), SOURCES)
def test_a_submission_checked_from_one_parse_is_what_the_four_functions_give(source, name):
    keys = ["data", "missing"]
    checked = analysis.check_submission(source, name, policy_keys=keys, known_functions=["g"])
    assert checked.findings == analysis.analyze(
        source, name, policy_keys=keys, known_functions=["g"]
    )
    if any(f.kind in ("syntax_error", "not_a_function") for f in checked.findings):
        return  # the server refuses it: the other parts are not used
    assert checked.code == analysis.strip_decorators(source, name)
    assert checked.parameters == analysis.function_parameters(source, name)
    assert checked.nested_calls == analysis.nested_calls(source, name)


def _changes(node: Any) -> list[Change]:
    seen: list[Change] = []
    node.datasite.services.audit.changes.subscribe(seen.append)
    return seen


def test_a_request_and_its_decision_say_whose_they_are_outside_the_audit_detail(
    node, root, scientist, uploaded
):
    services = node.datasite.services
    owner, ds = _actor(node, root), _actor(node, scientist)
    project = services.projects.create(ds, wire.ProjectCreate(name="About"))
    seen = _changes(node)
    asset_id = scientist.datasets[0].assets[0].id
    created = services.requests.create(ds, _payload("about_me", asset_id, project.id))
    services.requests.approve(owner, created.id)
    services.requests.deny(owner, created.id, "no longer")
    about = {"user_id": ds.user_id, "project_id": project.id, "function": "about_me"}
    mine = [c for c in seen if c.object_id == created.id]
    assert [c.action for c in mine] == ["request.create", "request.approved", "request.revoked"]
    assert [c.about for c in mine[1:]] == [about, about]
    # the first request of a function's name says what its notification says of it
    first = {"first": "1", "name": "Dana Scientist", "email": "ds@example.org"}
    assert mine[0].about == {**about, **first, "project_name": "About"}
    events = {e["action"]: e["detail"] for e in services.audit.events(10)}
    assert events["request.approved"] == {"reason": ""}  # the hashed detail is unchanged
    assert services.audit.verify()


def test_a_decision_is_drafted_from_its_change_without_reading_the_request(
    node, root, scientist, uploaded, monkeypatch
):
    services = node.datasite.services
    owner, ds = _actor(node, root), _actor(node, scientist)
    created = services.requests.create(
        ds, _payload("told_unread", scientist.datasets[0].assets[0].id)
    )
    assert services.notifications.flush(30)
    reads: list[str] = []
    real = notification_service._request_and_code

    def counted(connection: Any, request_id: str) -> Any:
        reads.append(request_id)
        return real(connection, request_id)

    monkeypatch.setattr(notification_service, "_request_and_code", counted)
    services.requests.approve(owner, created.id)
    assert services.notifications.flush(30)
    assert reads == []
    inbox = services.notifications.list(ds).items
    assert [(n.subject, n.object_id) for n in inbox if n.kind == "request_approved"] == [
        ("Approved: told_unread", created.id)
    ]
    # a change that does not say (as another process's code might publish it) is read
    services.audit.changes.publish(
        Change("request.rejected", "request", created.id, owner.user_id or "", detail={})
    )
    assert services.notifications.flush(30)
    assert reads == [created.id]


def test_a_request_is_pushed_on_the_publishing_thread_unless_changes_wait_before_it(node):
    """A request's readers come with its change: published at once, no read; while a change
    that needs a read waits on the hub's thread, the next ones queue behind it (order kept)."""
    bus = ChangeBus()
    hub = PushHub(node.datasite.store, bus)
    try:
        about = {"user_id": "u1", "project_id": "p1", "function": "f"}
        bus.publish(Change("request.create", "request", "r1", "u1", about=about))
        events = list(hub._ring)
        assert [(e.topic, e.object_id, e.audience, e.request_id) for e in events] == [
            ("requests", "r1", frozenset({"u1"}), "r1"),
            ("projects", "p1", frozenset({"u1"}), "r1"),
        ]

        gate, reading = threading.Event(), threading.Event()
        real = hub._events

        def held(change: Change, connection: Any) -> Any:
            if connection is not None and change.object_id == "j1":
                reading.set()
                gate.wait(30)
                return [("jobs", "j1", "finished", frozenset({"u2"}), "")]
            return real(change, connection)

        hub._events = held  # type: ignore[method-assign]
        bus.publish(Change("job.finish", "job", "j1", detail={"status": "done"}))
        assert reading.wait(30)
        bus.publish(Change("request.approved", "request", "r1", "o1", about=about))
        assert len(hub._ring) == 2  # queued behind the job's change
        gate.set()
        hub.close()
        assert [(e.topic, e.object_id, e.change) for e in list(hub._ring)[2:]] == [
            ("jobs", "j1", "finished"),
            ("requests", "r1", "approved"),
            ("projects", "p1", "approved"),
        ]
    finally:
        hub.close()


@pytest.mark.parametrize("count", [0, 1, 2, 3, 5, 17, 500])
def test_an_in_of_any_count_is_one_of_a_few_statements_with_every_value(count):
    values = [f"name_{i}" for i in range(count)]
    query, binds = submission._among(submission._names_query, values)
    assert set(binds.values()) == set(values or [""])
    assert len(binds) == 1 << max(count - 1, 0).bit_length()  # a power of two, at least count
    assert query is submission._names_query(len(binds))  # built once per size


def test_a_loaded_rows_values_are_set_in_hand():
    request = loaded(models.Request, {"id": "r1", "status": "pending", "deny_reason": ""})
    set_values(request, status="rejected", deny_reason="no")
    assert (request.id, request.status, request.deny_reason) == ("r1", "rejected", "no")
