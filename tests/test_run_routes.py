"""Runs the Datasite resolves itself: a function called by name (which submitted version runs)
and a run on the mocks (each asset bound to its mock on the server)."""

import pytest

import jupyter_syft as sy


@pytest.fixture
def asset(uploaded, scientist):
    return scientist.datasets[0].assets[0]


def _version(asset, offset):
    """A version of ``score`` whose result says which version ran."""

    @sy.syft_function(
        input_policy=sy.ExactMatch(data=asset), output_policy=sy.SingleExecutionExactOutput()
    )
    def score(data):
        return float(data["age"].mean()) + 1

    score.raw_code = score.raw_code.replace("+ 1", f"+ {offset}")
    return score


def _request(client, function):
    client.code.request_code_execution(function)
    return client.requests[-1]


def test_by_name_runs_the_latest_approved_version(root, scientist, asset, uploaded):
    private, _ = uploaded
    for offset in (1000, 2000, 3000):
        _request(scientist, _version(asset, offset))
    root.requests[1].approve()  # the middle version; the latest stays pending
    result = scientist.code.score(data=asset)
    assert result.on_private_data
    assert result.get() == pytest.approx(private["age"].mean() + 2000)

    job = scientist.code.score(data=asset, blocking=False)  # the jobs route picks the same one
    assert job.wait().get() == pytest.approx(private["age"].mean() + 2000)


def test_by_name_runs_the_latest_version_when_none_is_approved(root, scientist, asset, uploaded):
    _, mock = uploaded
    root.users[1].allow_mock_execution()
    for offset in (1000, 2000):
        _request(scientist, _version(asset, offset))
    result = scientist.code.score(data=asset)  # pending: on the mock, the latest version
    assert not result.on_private_data
    assert result.get() == pytest.approx(mock["age"].mean() + 2000)


def test_by_name_is_no_such_function_for_others_and_unknown_names(node, root, scientist, asset):
    _request(scientist, _version(asset, 1))
    root.users.create(sy.UserCreate(email="eve@example.org", name="Eve", password="pw"))
    eve = sy.login(url=node.url, email="eve@example.org", password="pw", verbose=False)
    for client, name in ((eve, "score"), (scientist, "nothing_here")):
        with pytest.raises(sy.SyftException, match="No code named") as info:
            getattr(client.code, name)(data=asset)
        assert info.value.status == 404
    theirs = _message(eve, "code/by-name/score/run")
    assert theirs == _message(eve, "code/by-name/never_submitted/run").replace(
        "never_submitted", "score"
    )
    for bad in ("not-a-name", "x" * 300):
        with pytest.raises(sy.SyftException) as info:
            scientist.connection.post(f"code/by-name/{bad}/run", {"inputs": {}})
        assert info.value.status == 400


def _message(client, path):
    with pytest.raises(sy.SyftException) as info:
        client.connection.post(path, {"inputs": {}})
    assert info.value.status == 404
    return str(info.value)


def test_run_on_mocks_binds_the_mocks_on_the_server(root, scientist, asset, uploaded):
    _, mock = uploaded
    request = _request(scientist, _version(asset, 0))
    code = root.requests[0].code
    assert code.run_on_mocks() == pytest.approx(mock["age"].mean())
    execution = root.connection.post(f"code/{code.id}/run-on-mocks")
    assert execution["ok"] and not execution["on_private_data"]

    root.requests[0].approve()  # approved code still runs on the mocks here, counting nothing
    assert root.requests[0].code.run_on_mocks() == pytest.approx(mock["age"].mean())
    assert request.code.id == code.id
    assert scientist.code.score(data=asset).on_private_data  # its one private run is unused


def test_run_on_mocks_needs_mock_permission(root, scientist, asset, uploaded):
    _, mock = uploaded
    _request(scientist, _version(asset, 0))
    code = scientist.code.get_all()[0]
    with pytest.raises(sy.SyftException, match="mock execution") as info:
        code.run_on_mocks()
    assert info.value.status == 403
    root.users[1].allow_mock_execution()
    assert code.run_on_mocks() == pytest.approx(mock["age"].mean())


def test_run_on_mocks_refuses_an_asset_without_a_mock(root, scientist):
    secret = sy.Asset(name="secret", data=[1, 2, 3])
    secret.no_mock()
    root.upload_dataset(sy.Dataset(name="Hidden", asset_list=[secret]), progress=False)
    remote = scientist.datasets["Hidden"].assets[0]

    @sy.syft_function_single_use(values=remote)
    def total(values):
        return sum(values)

    scientist.code.request_code_execution(total)
    with pytest.raises(sy.SyftException, match="no mock") as info:
        root.requests[0].code.run_on_mocks()
    assert 400 <= info.value.status < 500


def test_run_on_mocks_asks_for_values_the_policy_leaves_to_the_caller(root, scientist):
    @sy.syft_function(input_policy=sy.MixedInputPolicy(n=int))
    def double(n):
        return n * 2

    scientist.code.request_code_execution(double)
    with pytest.raises(sy.SyftException, match="no mock") as info:
        root.requests[0].code.run_on_mocks()
    assert info.value.status == 400
