"""Searching requests on the Datasite (``GET requests?q=``, ``client.requests.search``): every
word in the function's name, the requester's name or email, or the project's name; what a
scientist may not see stays out of their results; bad searches are 400s with a message."""

import pytest

import jupyter_syft as sy
from jupyter_syft.client.requests import RequestCollection
from jupyter_syft.wire import routes


def mean_age(data):
    return float(data["age"].mean())


def age_by_region(data):
    return float(data["age"].max())


def mean_age_v2(data):
    return float(data["age"].median())


def _submit(client, asset, fn, project=None):
    function = sy.syft_function_single_use(data=asset)(fn)
    if project is None:
        return client.code.request_code_execution(function)
    return client.create_project(name=project).create_code_request(function)


@pytest.fixture
def searchable(node, root, scientist, uploaded):
    root.users.create(
        sy.UserCreate(
            email="omar@other.example",
            name="Omar Quinn",
            password="pw-oq-123",
            role=sy.ServiceRole.DATA_SCIENTIST,
        )
    )
    other = sy.login(url=node.url, email="omar@other.example", password="pw-oq-123", verbose=False)
    asset = root.datasets[0].assets[0]
    _submit(scientist, asset, mean_age)
    _submit(scientist, asset, age_by_region, project="Heart study")
    _submit(other, asset, mean_age_v2, project="100% sure")
    return root, scientist, other


def _names(requests):
    return sorted(r.code.service_func_name for r in requests)


def test_every_word_must_match_a_field(searchable):
    root, _, _ = searchable
    assert _names(root.requests.search("mean")) == ["mean_age", "mean_age_v2"]
    assert _names(root.requests.search("MEAN dana")) == ["mean_age"]  # name of the requester
    assert _names(root.requests.search("other.example")) == ["mean_age_v2"]  # email
    assert _names(root.requests.search("heart")) == ["age_by_region"]  # the project's name
    assert _names(root.requests.search("age quinn")) == ["mean_age_v2"]
    assert root.requests.search("nothing-like-this") == []


def test_like_wildcards_match_themselves(searchable):
    root, _, _ = searchable
    assert _names(root.requests.search("100%")) == ["mean_age_v2"]
    assert root.requests.search("mean%region") == []
    assert root.requests.search("10_%") == []
    assert root.requests.search("_") != []  # underscores are in the names, literally
    assert _names(root.requests.search("e_b")) == ["age_by_region"]


def test_a_scientist_finds_only_their_own(searchable):
    _, scientist, other = searchable
    assert _names(scientist.requests.search("mean")) == ["mean_age"]
    assert _names(other.requests.search("dana")) == []
    assert _names(other.requests.search("mean")) == ["mean_age_v2"]


def test_search_pages_and_combines_with_status(searchable):
    root, _, _ = searchable
    first = root.connection.get(routes.REQUESTS, q="age", limit=1)
    assert first["total"] == 3 and len(first["items"]) == 1 and first["next_cursor"]
    approved = root.connection.get(routes.REQUESTS, q="mean", status="approved")
    assert approved["total"] == 0
    pending = root.connection.get(routes.REQUESTS, q="mean", status="pending")
    assert pending["total"] == 2


def test_bad_searches_are_400s_that_say_what_to_do(searchable):
    root, _, _ = searchable
    with pytest.raises(sy.SyftException, match="at most 200 characters"):
        root.requests.search("x" * 201)
    with pytest.raises(sy.SyftException, match="at most 8 words"):
        root.requests.search("a b c d e f g h i")
    assert root.requests.search("   ") != []  # blank: no filter


def test_get_by_id_asks_for_one_request_and_keeps_others_private(searchable):
    """``requests.get_by_id`` is one GET (it used to walk every page); a scientist still gets
    only their own requests, and an unknown id says so."""
    root, scientist, other = searchable
    theirs = other.requests[0]
    assert root.requests.get_by_id(theirs.id).code.service_func_name == "mean_age_v2"
    assert other.requests.get_by_id(theirs.id).id == theirs.id
    with pytest.raises(sy.SyftException) as refused:
        scientist.requests.get_by_id(theirs.id)
    assert "Traceback" not in str(refused.value) and str(refused.value)
    with pytest.raises(sy.SyftException) as missing:
        root.requests.get_by_id("0" * 32)
    assert "request" in str(missing.value).lower()


def test_get_by_id_does_not_list_every_request(searchable, monkeypatch):
    """``client.requests`` lists on first use: ``get_by_id`` alone never pages through the
    Datasite's requests (it did, and approvals slowed down as requests piled up)."""
    root, _, other = searchable
    wanted = other.requests[0].id

    def no_listing(*args, **kwargs):
        raise AssertionError("get_by_id listed every request")

    monkeypatch.setattr(root.session.api, "requests", no_listing)
    assert root.requests.get_by_id(wanted).id == wanted


def test_a_projects_get_by_id_keeps_to_its_project(searchable):
    _, scientist, _ = searchable
    project = scientist.projects[0]
    requests = RequestCollection(scientist.session, project_id=project.id)
    outside = next(r for r in scientist.requests if r.project is None)
    inside = next(r for r in scientist.requests if r.project is not None)
    assert requests.get_by_id(inside.id).id == inside.id
    with pytest.raises(sy.SyftException, match="not in this project"):
        requests.get_by_id(outside.id)
