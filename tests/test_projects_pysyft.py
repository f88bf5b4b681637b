"""Projects as PySyft 0.9's tutorials use them (issue 14, item 4): notebooks/api/0.8
01-submit-code and 02-review-code-and-approve, on one Datasite, with PySyft's asserts; then
the cases PySyft gets wrong: a duplicate refused at once, and send() that never half-sends."""

from __future__ import annotations

import pytest

import jupyter_syft as sy
from jupyter_syft.client.api import DatasiteAPI
from jupyter_syft.client.projects import ProjectRequest


def _function(ds_client, name="sum_ages"):
    asset = ds_client.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def sum_ages(data):
        return int(data["age"].sum())

    @sy.syft_function_single_use(data=asset)
    def mean_score(data):
        return float(data["score"].mean())

    return {"sum_ages": sum_ages, "mean_score": mean_score}[name]


def test_submit_review_and_approve_as_the_tutorials(node, root, scientist, uploaded):
    private, _ = uploaded
    ds_client = scientist
    sum_ages = _function(ds_client)
    # 01-submit-code
    new_project = sy.Project(
        name="My Cool Project",
        description="Hi, I want to calculate the sum of ages.",
        members=[ds_client],
    )
    result = new_project.create_code_request(sum_ages, ds_client)
    assert isinstance(result, sy.SyftSuccess)
    assert len(ds_client.requests) == 1  # submitted at once, before send()
    assert len(new_project.events) == 1
    project = new_project.send()
    assert len(project.events) == 1
    assert isinstance(project.events[0], ProjectRequest)
    assert project.events[0].request.status == sy.RequestStatus.PENDING
    assert len(project.requests) == 1 and len(project.request_ids) == 1  # the real counts
    assert "requests=1" in repr(project)
    assert [p.name for p in ds_client.projects] == ["My Cool Project"]
    # 02-review-code-and-approve
    project = root.projects[0]
    assert project.name == "My Cool Project"
    request = project.requests[0]
    assert request.code.service_func_name == "sum_ages"
    assert request.project["name"] == "My Cool Project"
    request.approve()
    assert project.events[0].request.status == sy.RequestStatus.APPROVED
    assert len(project.events) == 1  # a decision is the request's status, not a new event
    assert [e["kind"] for e in project.history] == ["created", "code_request", "approved"]
    # 03: the scientist runs it
    asset = ds_client.datasets[0].assets[0]
    assert ds_client.code.sum_ages(data=asset).get() == int(private["age"].sum())


def test_a_duplicate_is_refused_at_once_and_send_still_works(root, scientist, uploaded):
    sum_ages, mean_score = _function(scientist), _function(scientist, "mean_score")
    new_project = sy.Project(name="Dupes", members=[scientist])
    assert isinstance(new_project.create_code_request(sum_ages, scientist), sy.SyftSuccess)
    with pytest.raises(sy.SyftException, match="already exists: 'sum_ages'"):
        new_project.create_code_request(sum_ages, scientist)
    new_project.create_code_request(mean_score, scientist, reason="the mean too")
    project = new_project.send()
    assert len(project.requests) == 2 and len(project.events) == 2
    names = sorted(e.request.code.service_func_name for e in project.events)
    assert names == ["mean_score", "sum_ages"]
    assert new_project.send().id == project.id  # sending again changes nothing
    assert len(scientist.projects) == 1 and len(root.requests) == 2


def test_send_refused_leaves_nothing_and_can_be_retried(root, scientist, uploaded):
    scientist.create_project(name="Taken")
    new_project = sy.Project(name="Taken", members=[scientist])
    new_project.create_code_request(_function(scientist), scientist)
    with pytest.raises(sy.SyftException, match="unique"):
        new_project.send()
    assert [p.name for p in scientist.projects] == ["Taken"]
    assert scientist.get_project(name="Taken").request_ids == []  # nothing half-sent
    new_project.name = "Not taken"
    project = new_project.send()
    assert len(project.requests) == 1
    assert sorted(p.name for p in scientist.projects) == ["Not taken", "Taken"]


def test_send_whose_answer_is_lost_is_retried_into_one_project(
    root, scientist, uploaded, monkeypatch
):
    new_project = sy.Project(name="Flaky", description="d", members=[scientist])
    new_project.create_code_request(_function(scientist), scientist)
    original = DatasiteAPI.create_project

    def lost(self, *args, **kwargs):
        original(self, *args, **kwargs)  # the Datasite creates it; the answer never arrives
        raise sy.SyftException("The Datasite did not answer; try again.")

    def down(self, *args, **kwargs):
        raise sy.SyftException("The Datasite did not answer; try again.")

    monkeypatch.setattr(DatasiteAPI, "create_project", lost)
    monkeypatch.setattr(DatasiteAPI, "project", down)  # and the check that follows fails too
    with pytest.raises(sy.SyftException, match="did not answer"):
        new_project.send()
    monkeypatch.undo()
    project = new_project.send()
    assert len(project.requests) == 1 and project.name == "Flaky"
    assert [p.name for p in scientist.projects] == ["Flaky"]  # one project, not two


def test_send_recovers_by_itself_when_only_the_answer_is_lost(
    root, scientist, uploaded, monkeypatch
):
    new_project = sy.Project(name="Flaky once", members=[scientist])
    new_project.create_code_request(_function(scientist), scientist)
    original = DatasiteAPI.create_project

    def lost(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise sy.SyftException("The Datasite did not answer; try again.")

    monkeypatch.setattr(DatasiteAPI, "create_project", lost)
    project = new_project.send()  # it finds the project it made, with its request, and adopts it
    assert len(project.requests) == 1
    assert [p.name for p in scientist.projects] == ["Flaky once"]


def test_a_request_joins_one_project_only(node, root, scientist, uploaded):
    first = sy.Project(name="First", members=[scientist])
    first.create_code_request(_function(scientist), scientist)
    request_id = first.events[0].id
    first.send()
    with pytest.raises(sy.SyftException, match="already in a project"):
        scientist.session.api.create_project("Second", request_ids=[request_id])
    with pytest.raises(sy.SyftException, match="No request"):
        root.session.api.create_project("Theirs", request_ids=[request_id])
    assert [p.name for p in scientist.projects] == ["First"]
    assert [p.name for p in root.projects] == ["First"]


def test_project_submit_refuses_what_it_cannot_place(root, scientist, uploaded):
    with pytest.raises(sy.SyftException, match="members"):
        sy.Project(name="x", members=[])
    with pytest.raises(sy.SyftException, match="logged-in clients"):
        sy.Project(name="x", members=["not a client"])
    project = sy.Project(name="x", members=[scientist])
    with pytest.raises(sy.SyftException, match="not a member"):
        project.create_code_request(_function(scientist), root)
    assert len(root.requests) == 0
