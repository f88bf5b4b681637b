"""Decisions on code requests leave a trace and cannot be taken twice by accident: a second
approve is refused with who approved and when; denying an approved request revokes it."""

import pytest

import jupyter_syft as sy


@pytest.fixture
def asset(uploaded, scientist):
    return scientist.datasets[0].assets[0]


def _submit(scientist, asset):
    @sy.syft_function(input_policy=sy.ExactMatch(data=asset))
    def mean_age(data):
        return float(data["age"].mean())

    return scientist.code.request_code_execution(mean_age, reason="average age")


def test_a_second_approve_is_refused_and_says_who_approved(root, scientist, asset):
    _submit(scientist, asset)
    request = root.requests[0]
    assert request.decided == "" and "decided by" not in repr(request)
    request.approve()
    assert root.email in request.decided and " at 20" in request.decided
    assert "decided by" in repr(request) and "Decided by" in request._repr_html_()
    with pytest.raises(sy.SyftException, match=r"already approved by .* at 20") as info:
        root.requests[0].approve()
    assert info.value.status == 409 and "deny it with a reason" in str(info.value)
    events = [e.action for e in root.audit.events()]
    assert events.count("request.approved") == 1
    # the scientist sees who decided too
    assert root.email in scientist.requests[0].decided


def test_denying_an_approved_request_revokes_it(root, scientist, asset, uploaded):
    private, _ = uploaded
    _submit(scientist, asset)
    root.requests[0].approve()
    assert scientist.code.mean_age(data=asset).get() == pytest.approx(private["age"].mean())
    answer = root.requests[0].revoke("The study's ethics approval ended")
    assert "revoked" in str(answer)
    assert scientist.requests[0].status == sy.RequestStatus.REJECTED
    with pytest.raises(sy.SyftException, match="ethics approval ended"):
        scientist.code.mean_age(data=asset)
    assert "request.revoked" in [e.action for e in root.audit.events()]
    # a revoked request may be approved again, and then run
    root.requests[0].approve()
    assert scientist.code.mean_age(data=asset).get() == pytest.approx(private["age"].mean())


def test_revoke_needs_an_approval_and_deny_twice_is_refused(root, scientist, asset):
    _submit(scientist, asset)
    with pytest.raises(sy.SyftException, match="no approval to revoke"):
        root.requests[0].revoke("why")
    root.requests[0].deny("Aggregate by region first")
    with pytest.raises(sy.SyftException, match="already denied by") as info:
        root.requests[0].deny("Another reason")
    assert info.value.status == 409
    assert scientist.requests[0].deny_reason == "Aggregate by region first"
    with pytest.raises(sy.SyftException, match="Only data owners"):
        scientist.requests[0].approve()


def test_a_requests_timeline_tells_its_story_to_each_role(node, root, scientist, asset):
    _submit(scientist, asset)
    request = root.requests[0]
    request.code.run_on_mocks()  # an owner's check on the mocks, in the sandbox
    request.approve()
    scientist.code.mean_age(data=asset)
    request.revoke("Consent <withdrawn>")

    owner_view = root.requests[0].timeline
    assert [e.action for e in owner_view] == [
        "request.create",  # submitted with the request
        "code.run",  # the owner's run on the mocks
        "output.report",
        "request.approved",
        "code.run",  # the scientist's run on private data
        "output.report",
        "request.revoked",
    ]
    assert [e.seq for e in owner_view] == sorted(e.seq for e in owner_view)
    summaries = [e.summary for e in owner_view]
    assert "ran it on the mocks" in summaries and "ran it on private data" in summaries
    assert summaries[-1] == "revoked the approval: Consent <withdrawn>"
    assert owner_view[-1].actor_email == root.email
    html = owner_view._repr_html_()
    assert "Consent &lt;withdrawn&gt;" in html and "Consent <withdrawn>" not in html

    # the scientist: decisions and their own steps, details cut to the reason
    theirs = scientist.requests[0].timeline
    assert [e.action for e in theirs] == [
        "request.create",
        "request.approved",
        "code.run",
        "output.report",
        "request.revoked",
    ]
    assert all(set(e.detail) <= {"reason"} for e in theirs)
    assert theirs[-1].detail == {"reason": "Consent <withdrawn>"}

    # someone else's request: not found, as any other route answers it
    root.users.create(sy.UserCreate(email="other@example.org", name="O", password="pw-other-1"))
    other = sy.login(url=node.url, email="other@example.org", password="pw-other-1", verbose=False)
    with pytest.raises(sy.SyftException) as info:
        next(other.session.api.request_timeline(request.id))
    assert info.value.status == 404


def test_a_decision_is_kept_only_with_its_audit_event(node, root, scientist, asset, monkeypatch):
    """The decision and its event commit in one transaction: when the event cannot be
    written, the request keeps its old status (no decision the log does not show)."""
    from jupyter_syft.server.services import audit

    _submit(scientist, asset)
    request_id = root.requests[0].id
    events_before = [e.action for e in root.audit.events()]

    def broken(_event):
        raise OSError("disk full (injected)")

    monkeypatch.setattr(audit, "content_digest", broken)
    with pytest.raises(sy.SyftException):
        root.requests.get_by_id(request_id).approve()
    monkeypatch.undo()
    assert root.requests.get_by_id(request_id).status == sy.RequestStatus.PENDING
    assert [e.action for e in root.audit.events()] == events_before
    root.requests.get_by_id(request_id).approve()  # and once it can be, it is
    assert root.requests.get_by_id(request_id).status == sy.RequestStatus.APPROVED
    assert next(e.action for e in root.audit.events()) == "request.approved"
    assert root.audit.verify().ok
