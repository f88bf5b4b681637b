"""The inbox (issue 15): who is told what, paging, marking, pruning, and what is never in it."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pandas as pd
import pytest
import requests

import jupyter_syft as sy
from jupyter_syft.server import models
from jupyter_syft.server.services.notifications import Draft
from jupyter_syft.wire import routes
from jupyter_syft.wire.enums import NotificationKind

MARKER = "PRIVATE-NOTE-5c1e"


def _service(node):
    return node.datasite.services.notifications


def _settle(node) -> None:
    assert _service(node).flush(30), "the notification thread did not keep up"


def _inbox(client) -> list[dict]:
    """Every notification of ``client``'s account, as the wire has them (newest first)."""
    return [n.to_json() for n in client.session.api.notifications()]


def _kinds(client) -> list[str]:
    return [n["kind"] for n in _inbox(client)]


def _http(node, client, method: str, path: str, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {client.connection.token}"} if client else {}
    url = f"{node.url}/{routes.API_PREFIX}{path}"
    return requests.request(method, url, headers=headers, timeout=30, **kw)


@pytest.fixture
def secret(root):
    """A dataset whose private rows carry MARKER (the mock does not)."""
    private = pd.DataFrame({"name": [MARKER, "b", "c"], "v": [1, 2, 3]})
    mock = pd.DataFrame({"name": ["m1", "m2", "m3"], "v": [0, 0, 0]})
    root.upload_dataset(
        sy.Dataset(name="Secret", asset_list=[sy.Asset(name="t", data=private, mock=mock)]),
        progress=False,
    )


def test_owners_hear_of_requests_and_resubmissions_never_their_code(node, root, scientist, secret):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def first_name(data):
        return data["name"][0]  # CODE-LINE-a91

    scientist.code.request_code_execution(first_name, reason="a study")
    _settle(node)
    [note] = [n for n in _inbox(root) if n["kind"] == "request_new"]
    request = root.requests[0]
    assert note["subject"] == "New code request: first_name"
    assert "Dana Scientist <ds@example.org>" in note["text"]
    assert note["object_type"] == "request" and note["object_id"] == request.id
    assert note["link"] == f"requests/{request.id}" and note["read"] is False
    assert root.notifications[0].link.id == request.id
    assert "CODE-LINE" not in json.dumps(_inbox(root))
    # the scientist who asked is not told of their own request
    assert "request_new" not in _kinds(scientist)

    request.deny(reason="Use the mock column names only.")

    @sy.syft_function_single_use(data=asset)
    def first_name(data):  # a new version of the same function
        return data["v"].sum()

    scientist.code.request_code_execution(first_name)
    _settle(node)
    kinds = _kinds(root)
    assert kinds[0] == "request_resubmitted", kinds
    assert "new version of first_name" in _inbox(root)[0]["text"]


def test_scientist_hears_the_decision_with_its_reason(node, root, scientist, secret):
    asset = scientist.datasets[0].assets[0]
    project = scientist.create_project(name="Names study", description="names")

    @sy.syft_function_single_use(data=asset)
    def count_rows(data):
        return len(data)

    project.create_code_request(count_rows)
    root.requests[0].deny(reason="Say <b>why</b> you need it.")
    _settle(node)
    [denied] = scientist.notifications.get_all()
    assert denied.kind == "request_denied"
    assert denied.subject == "Denied: count_rows"
    assert "Reason: Say <b>why</b> you need it." in denied.text
    assert "&lt;b&gt;why" in denied._repr_html_() and "<b>why" not in denied._repr_html_()
    assert denied.link.id == root.requests[0].id
    assert denied.project_id == project.id and denied.project.name == "Names study"
    # the owner who decided is not told of it
    assert "request_denied" not in _kinds(root)

    @sy.syft_function_single_use(data=asset)
    def mean_v(data):
        return float(data["v"].mean())

    scientist.code.request_code_execution(mean_v)
    next(r for r in root.requests if r.code.service_func_name == "mean_v").approve()
    _settle(node)
    assert _kinds(scientist) == ["request_approved", "request_denied"]
    assert "client.code.mean_v(...)" in scientist.notifications[0].text


def test_jobs_tell_their_scientist_how_they_ended(node, root, scientist, secret):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def lookup(data):
        return int(data["v"].sum())

    @sy.syft_function_single_use(data=asset)
    def broken(data):
        return data["nope"]

    scientist.code.request_code_execution(lookup)
    scientist.code.request_code_execution(broken)
    for request in root.requests:
        request.approve()
    assert scientist.code.lookup(data=asset, blocking=False).wait(timeout=120).get() == 6
    failed = scientist.code.broken(data=asset, blocking=False)
    with pytest.raises(sy.SyftException):
        failed.wait(timeout=120).get()
    _settle(node)
    notes = {n["kind"]: n for n in _inbox(scientist)}
    assert notes["job_finished"]["subject"] == "Job finished: lookup"
    assert notes["job_failed"]["subject"] == "Job failed: broken"
    # the error's first line, as client.jobs shows it to them
    assert "KeyError" in notes["job_failed"]["text"]
    assert notes["job_failed"]["link"] == f"jobs/{failed.id}"
    assert scientist.notifications.get_by_id(notes["job_failed"]["id"]).link.id == failed.id
    assert not [k for k in _kinds(root) if k.startswith("job_")]  # owners are not told


def test_held_outputs_and_their_decisions_without_a_private_value(node, root, scientist, secret):
    root.settings.update(release="manual")
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function(
        input_policy=sy.ExactMatch(data=asset),
        output_policy=sy.OutputPolicyExecuteCount(limit=5),
    )
    def leak(data):
        print(data["name"][0])
        return data["name"][0]

    scientist.code.request_code_execution(leak)
    root.requests[0].approve()
    scientist.code.leak(data=asset)
    scientist.code.leak(data=asset)
    _settle(node)
    held = [n for n in _inbox(root) if n["kind"] == "output_held"]
    assert len(held) == 2 and held[0]["link"].startswith("outputs/")
    assert root.notifications.get_by_id(held[0]["id"]).link.execution_id == held[0]["object_id"]
    assert [n["kind"] for n in _inbox(scientist)][:2] == ["result_held", "result_held"]

    outputs = root.outputs.held
    outputs[0].release(comment="Fine for a demo.")
    outputs[1].withhold(reason="Names are identifying.")
    _settle(node)
    kinds = _kinds(scientist)
    assert "result_ready" in kinds and "result_withheld" in kinds
    withheld = next(n for n in _inbox(scientist) if n["kind"] == "result_withheld")
    assert "Reason: Names are identifying." in withheld["text"]
    assert withheld["link"] == ""  # a scientist cannot open the owners' output review
    for client in (root, scientist):
        assert MARKER not in json.dumps(_inbox(client))


def test_owners_hear_of_sign_ups_and_new_datasets(node, root):
    root.users.create(sy.UserCreate(email="do@example.org", name="Olive", password="pw-do-123",
                                    role=sy.ServiceRole.DATA_OWNER))  # fmt: skip
    root.settings.allow_guest_signup(enable=True)
    node.register(name="Sam", email="sam@example.org", password="pw-sam-123",
                  password_verify="pw-sam-123", institution="Uni")  # fmt: skip
    owner = sy.login(url=node.url, email="do@example.org", password="pw-do-123", verbose=False)
    owner.upload_dataset(
        sy.Dataset(name="Visits", asset_list=[sy.Asset(name="t", data=[1, 2], mock=[0, 0])]),
        progress=False,
    )
    _settle(node)
    notes = {n["kind"]: n for n in _inbox(root)}
    assert notes["signup"]["subject"] == "New account: sam@example.org"
    assert "(Uni) signed up" in notes["signup"]["text"]
    # an account an owner created is no sign-up
    assert [n["subject"] for n in _inbox(root) if n["kind"] == "signup"] == [
        "New account: sam@example.org"
    ]
    assert notes["dataset_new"]["subject"] == "New dataset: Visits"
    assert root.notifications.get_by_id(notes["dataset_new"]["id"]).link.name == "Visits"
    # the uploader is not told of their own upload; the other owner is
    assert "dataset_new" not in _kinds(owner)
    assert "signup" in _kinds(owner)


def _fill(node, user_id: str, count: int) -> None:
    _service(node)._write(
        [
            Draft([user_id], NotificationKind.DATASET_NEW, f"Note {i}", f"text {i}")
            for i in range(count)
        ]
    )


def test_paged_newest_first_unread_count_and_marking(node, root, scientist):
    me = scientist.account.id
    _fill(node, me, 7)
    r = _http(node, scientist, "GET", "notifications", params={"limit": 3})
    page = r.json()
    assert r.status_code == 200 and page["total"] == 7 and len(page["items"]) == 3
    seen = [n["subject"] for n in page["items"]]
    while page["next_cursor"]:
        page = _http(
            node, scientist, "GET", "notifications",
            params={"limit": 3, "cursor": page["next_cursor"]},
        ).json()  # fmt: skip
        seen += [n["subject"] for n in page["items"]]
    assert seen == [f"Note {i}" for i in reversed(range(7))]  # newest first, none twice
    assert scientist.notifications.unread_count == 7

    first = scientist.notifications[0]
    assert first.mark_read().message.endswith("marked read.") and first.read
    assert scientist.notifications.unread_count == 6
    assert first.id not in [n.id for n in scientist.notifications.unread]
    assert [n.id for n in scientist.notifications.get_all_read()] == [first.id]
    first.mark_unread()
    assert scientist.notifications.unread_count == 7

    two = [n.id for n in scientist.notifications[:2]]
    marked = scientist.session.api.mark_notifications(True, two)
    assert (marked.changed, marked.unread) == (2, 5)
    assert "5 notification(s) marked read." in str(scientist.notifications.mark_read())
    assert scientist.notifications.unread_count == 0
    scientist.notifications.mark_unread()
    assert scientist.notifications.unread_count == 7
    only_unread = _http(node, scientist, "GET", "notifications", params={"status": "unread"})
    assert only_unread.json()["total"] == 7
    items, cursor = scientist.notifications.page(limit=5)
    assert len(items) == 5 and cursor
    assert scientist.api.services.notifications.mark_as_read(items[0].id).read
    assert root.notifications.unread_count == 0  # nothing of hers reached the owner


def test_another_accounts_notification_is_not_found(node, root, scientist):
    _fill(node, root.account.id, 1)
    theirs = root.notifications[0].id
    for method, path, body in (
        ("GET", f"notifications/{theirs}", None),
        ("PATCH", f"notifications/{theirs}", {"read": True}),
        ("POST", "notifications/mark", {"read": True, "ids": [theirs]}),
    ):
        r = _http(node, scientist, method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert "No notification with id" in r.json()["detail"]
    assert root.notifications.unread_count == 1  # nothing changed
    with pytest.raises(sy.SyftException, match="No notification with id"):
        scientist.notifications.get_by_id(theirs)
    # no session: told to log in
    r = _http(node, None, "GET", "notifications")
    assert r.status_code == 403 and "Log in" in r.json()["detail"]


def test_bad_input_gets_a_400_that_says_what_to_do(node, scientist):
    r = _http(node, scientist, "PATCH", "notifications/preferences", json={"email": "hourly"})
    assert r.status_code == 400 and "instant" in r.json()["detail"]
    r = _http(node, scientist, "PATCH", "notifications/preferences", json={"colour": "red"})
    assert r.status_code == 400
    r = _http(node, scientist, "POST", "notifications/mark", json={"read": "yes"})
    assert r.status_code == 400
    r = _http(
        node, scientist, "POST", "notifications/mark", json={"read": True, "ids": ["x"] * 501}
    )
    assert r.status_code == 400
    r = _http(node, scientist, "GET", "notifications", params={"status": "old"})
    assert r.status_code == 400
    with pytest.raises(sy.SyftException, match="one of instant, digest, off"):
        scientist.notifications.set_email("weekly")
    assert "digest" in str(scientist.notifications.set_email("digest"))
    assert scientist.notifications.preferences.email.value == "digest"


def test_pruned_by_age_and_with_their_account(node, root, scientist):
    service = _service(node)
    me = scientist.account.id
    _fill(node, me, 3)
    with node.datasite.store.session() as session:
        old = session.exec(models.Notification.__table__.select()).all()
        assert len(old) == 3
        row = session.get(models.Notification, old[0].id)
        row.created_at = models.utcnow() - timedelta(days=40)
        session.add(row)
        session.commit()
    root.settings.update(notification_retention_days=0)  # keeps them for good
    assert service.prune() == 0
    root.settings.update(notification_retention_days=30)
    assert service.prune() == 1
    assert scientist.notifications.unread_count == 2
    root.users.delete(me)
    _settle(node)
    with node.datasite.store.session() as session:
        assert not session.exec(models.Notification.__table__.select()).all()


def test_a_failing_or_slow_listener_never_fails_or_holds_a_request(node, root, scientist, secret):
    service = _service(node)
    gate = threading.Event()
    real = service._drafts

    def slow(change):
        gate.wait(60)  # the notification thread is stuck while requests go on
        return real(change)

    service._drafts = slow
    try:
        asset = scientist.datasets[0].assets[0]

        @sy.syft_function_single_use(data=asset)
        def rows(data):
            return len(data)

        request = scientist.code.request_code_execution(rows)
        root.requests[0].approve()  # answered while the thread waits
        assert root.requests[0].status == sy.RequestStatus.APPROVED
    finally:
        gate.set()
    _settle(node)

    def broken(change):
        raise RuntimeError("boom")

    service._drafts = broken
    try:
        root.settings.allow_guest_signup(enable=True)
        node.register(name="Sam", email="sam@example.org", password="pw-sam-123")
        _settle(node)
    finally:
        service._drafts = real
    _settle(node)
    assert "request_approved" in _kinds(scientist)  # the slow one got there
    assert request.id in [n["object_id"] for n in _inbox(root)]
    assert "signup" not in _kinds(root)  # the failed one is lost, and only it


def test_the_push_channel_is_told_an_inbox_grew_never_what_is_in_it(node, root, scientist):
    heard = []
    stop = node.datasite.services.audit.changes.subscribe(heard.append)
    try:
        me = scientist.account.id
        _fill(node, me, 2)
    finally:
        stop()
    [change] = [c for c in heard if c.action == "notification.create"]
    assert (change.object_type, change.object_id, change.actor_id) == ("user", me, me)
    assert change.detail == {"count": 2}


def test_a_request_in_a_project_links_to_the_project_as_in_pysyft(node, root, scientist, secret):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def total(data):
        return int(data["v"].sum())

    project = sy.Project(name="Totals", description="sums", members=[scientist])
    project.create_code_request(total, scientist)
    project.send()
    _settle(node)
    [note] = [n for n in _inbox(root) if n["kind"] == "request_new"]
    assert note["object_type"] == "request" and note["link"].startswith("projects/")
    # PySyft's data-scientist tutorial: the newest notification's link is the project
    request = root.notifications[-1].link.requests[0]
    assert request.id == note["object_id"] and request.code.service_func_name == "total"


def test_a_revoked_approval_reaches_the_scientist_with_the_reason(node, root, scientist, secret):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def rows(data):
        return len(data)

    scientist.code.request_code_execution(rows)
    root.requests[0].approve()
    root.requests[0].revoke("Consent withdrawn")
    _settle(node)
    subjects = [n["subject"] for n in _inbox(scientist)]
    assert subjects[:2] == ["Approval revoked: rows", "Approved: rows"]
    assert "Consent withdrawn" in _inbox(scientist)[0]["text"]


def test_a_new_request_is_told_to_each_enabled_owner_once(node, root, scientist, secret):
    """Owners come with the request's own query (one read fewer per request): each enabled
    owner gets one notification; a disabled owner, another scientist and the owner who asked
    get none."""
    other_owner = root.users.create(
        email="do@example.org",
        name="Other Owner",
        password="pw-do-123",
        role=sy.ServiceRole.DATA_OWNER,
    )
    gone = root.users.create(
        email="gone@example.org",
        name="Gone Owner",
        password="pw-gone-12",
        role=sy.ServiceRole.ADMIN,
    )
    gone.disable()
    bystander = root.users.create(email="by@example.org", name="By Stander", password="pw-by-123")
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def rows(data):
        return len(data)

    scientist.code.request_code_execution(rows)
    owner = sy.login(url=node.url, email="do@example.org", password="pw-do-123", verbose=False)
    owner_asset = owner.datasets[0].assets[0]

    @sy.syft_function_single_use(data=owner_asset)
    def owner_rows(data):
        return len(data)

    owner.code.request_code_execution(owner_rows)
    _settle(node)
    with node.datasite.store.session() as session:
        told = sorted(
            (row.user_id, row.subject)
            for row in session.query(models.Notification).filter(
                models.Notification.kind == NotificationKind.REQUEST_NEW.value
            )
        )
    root_id = root.account.id
    assert told == sorted(
        [
            (root_id, "New code request: rows"),
            (other_owner.id, "New code request: rows"),
            (root_id, "New code request: owner_rows"),
        ]
    )
    assert {gone.id, bystander.id, scientist.account.id}.isdisjoint(u for u, _ in told)


def test_a_written_row_fills_every_column_as_the_model_would():
    """Rows are written as plain column values (no ORM object per row): each one holds every
    column of the table, with the values the model itself would give it."""
    from jupyter_syft.server.services import notifications

    draft = Draft(["u1"], NotificationKind.REQUEST_NEW, "s" * 500, "t", "request", "r1", "p1")
    row = notifications._row(draft, "u1")
    assert set(row) == {column.name for column in notifications.TABLE.columns}
    given = ("user_id", "kind", "subject", "text", "object_type", "object_id", "project_id")
    model = models.Notification(**{name: row[name] for name in given})
    assert {name: getattr(model, name) for name in row if name not in ("id", "created_at")} == {
        name: value for name, value in row.items() if name not in ("id", "created_at")
    }
    assert len(row["subject"]) == notifications.SUBJECT_LIMIT
    assert len(row["id"]) == 32 and row["id"] != notifications._row(draft, "u1")["id"]
    assert row["created_at"].utcoffset() == timedelta(0)
