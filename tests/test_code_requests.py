"""Code requests: the rules the Datasite enforces on submitting, reviewing and running code."""

import concurrent.futures

import pytest

import jupyter_syft as sy


@pytest.fixture
def asset(uploaded, scientist):
    return scientist.datasets[0].assets[0]


def _single_use(asset):
    @sy.syft_function_single_use(data=asset)
    def mean_age(data):
        print("rows:", len(data))
        return float(data["age"].mean())

    return mean_age


def test_approve_then_run_once_then_cached(root, scientist, asset, uploaded):
    private, _ = uploaded
    request = scientist.code.request_code_execution(_single_use(asset), reason="average age")
    assert request.status == sy.RequestStatus.PENDING and request.reason == "average age"
    with pytest.raises(sy.SyftException, match="waiting for approval"):
        scientist.code.mean_age(data=asset)
    # a job is refused at once, as the blocking call is, rather than queued to fail later
    with pytest.raises(sy.SyftException, match="waiting for approval"):
        scientist.code.mean_age(data=asset, blocking=False)
    assert len(scientist.jobs) == 0
    assert "mean_age" in dir(scientist.code) and "request_code_execution" in dir(scientist.code)

    assert root.requests[0].code.findings == []
    root.requests[0].approve()
    result = scientist.code.mean_age(data=asset)
    assert result.get() == pytest.approx(private["age"].mean()) and result.on_private_data
    assert "stdout" not in result.execution  # prints from private runs are for the owner only

    again = scientist.code.mean_age(data=asset)
    assert again.get() == result.get() and "allows no more runs" in again.execution["notice"]


def test_denied_code_says_why(root, scientist, asset):
    scientist.code.request_code_execution(_single_use(asset))
    with pytest.raises(sy.SyftException, match="reason"):
        root.requests[0].deny("")
    root.requests[0].deny("Too few rows for a safe mean")
    assert scientist.requests[0].status == sy.RequestStatus.REJECTED
    with pytest.raises(sy.SyftException, match="Too few rows for a safe mean"):
        scientist.code.mean_age(data=asset)


def test_scientist_cannot_approve_or_see_others(node, root, scientist, asset):
    scientist.code.request_code_execution(_single_use(asset))
    with pytest.raises(sy.SyftException, match="Only data owners") as info:
        scientist.requests[0].approve()
    assert info.value.status == 403
    root.users.create(sy.UserCreate(email="eve@example.org", name="Eve", password="pw"))
    eve = sy.login(url=node.url, email="eve@example.org", password="pw", verbose=False)
    assert len(eve.requests) == 0 and len(eve.code) == 0
    with pytest.raises(sy.SyftException, match="No code named"):
        eve.code.mean_age(data=asset)


def test_approved_code_runs_only_on_its_assets(root, scientist, asset, frames):
    scientist.code.request_code_execution(_single_use(asset))
    root.requests[0].approve()
    other = sy.Dataset(
        name="Other", asset_list=[sy.Asset(name="t2", data=frames[0], mock=frames[1])]
    )
    root.upload_dataset(other, progress=False)
    with pytest.raises(sy.SyftException, match="must be the asset"):
        scientist.code.mean_age(data=scientist.datasets["Other"].assets[0])
    with pytest.raises(sy.SyftException, match="must be the asset"):
        scientist.code.mean_age(data=frames[0])


def test_twenty_concurrent_calls_run_on_private_data_once(node, root, scientist, asset):
    scientist.code.request_code_execution(_single_use(asset))
    root.requests[0].approve()

    def call(_):
        try:
            return scientist.code.mean_age(data=asset).execution
        except sy.SyftException as exc:
            return {"error": str(exc)}

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(call, range(20)))
    from sqlmodel import select

    from jupyter_syft.server import models

    with node.datasite.store.session() as session:
        runs = session.exec(
            select(models.Execution).where(models.Execution.on_private_data.is_(True))
        ).all()
        code = session.exec(select(models.UserCode)).one()
    assert len(runs) == 1 and code.runs_used == 1
    fresh = [o for o in outcomes if o.get("ok") and not o.get("notice")]
    assert len(fresh) == 1
    for outcome in outcomes:
        assert outcome.get("ok") or "running on the private data right now" in outcome.get(
            "error", ""
        )


def test_execute_count_limit(root, scientist, asset):
    @sy.syft_function(
        input_policy=sy.ExactMatch(data=asset), output_policy=sy.OutputPolicyExecuteCount(limit=2)
    )
    def n_rows(data):
        return len(data)

    scientist.code.request_code_execution(n_rows)
    root.requests[0].approve()
    first = scientist.code.n_rows(data=asset)
    second = scientist.code.n_rows(data=asset)
    third = scientist.code.n_rows(data=asset)
    assert not first.execution["notice"] and not second.execution["notice"]
    assert third.execution["notice"] and third.id == second.id


def test_user_errors_are_readable_and_owner_sees_prints(root, scientist, asset):
    @sy.syft_function_single_use(data=asset)
    def broken(data):
        print("about to fail")
        return data["no such column"]

    scientist.code.request_code_execution(broken)
    root.requests[0].approve()
    with pytest.raises(sy.SyftException) as info:
        scientist.code.broken(data=asset)
    message = str(info.value)
    assert "KeyError" in message and "no such column" in message
    assert "jupyter_syft" not in message and "/site-packages/" not in message


def test_mixed_input_policy_with_types_and_constants(root, scientist, asset):
    @sy.syft_function(
        input_policy=sy.MixedInputPolicy(
            client=scientist, data=asset, n=int, scale=sy.Constant(val=10)
        )
    )
    def head_sum(data, n, scale):
        return float(data["age"].head(n).sum()) * scale

    scientist.code.request_code_execution(head_sum)
    request = root.requests[0]
    assert request.code.input_policy["inputs"]["scale"]["preview"] == "10"
    request.approve()
    value = scientist.code.head_sum(data=asset, n=3).get()
    private = root.datasets[0].assets[0].data
    assert value == float(private["age"].head(3).sum()) * 10
    with pytest.raises(sy.SyftException, match="must be a int"):
        scientist.code.head_sum(data=asset, n="3")


def test_guests_submit_only_where_allowed(node, root, asset):
    guest = sy.login_as_guest(url=node.url, verbose=False)
    guest_asset = guest.datasets[0].assets[0]
    fn = _single_use(guest_asset)
    with pytest.raises(sy.SyftException, match="Guests cannot submit code"):
        guest.code.request_code_execution(fn)
    root.settings.update(allow_guest_code_requests=True)
    assert guest.code.request_code_execution(fn).status == sy.RequestStatus.PENDING


def test_request_shows_the_sandbox(root, scientist, asset):
    scientist.code.request_code_execution(_single_use(asset))
    assert root.requests[0].sandbox in ("bwrap", "none")


def test_owner_runs_pending_code_on_mock_and_deposits(root, scientist, asset, uploaded):
    scientist.code.request_code_execution(_single_use(asset))
    request = root.requests[0]
    do_asset = root.datasets[0].assets[0]
    assert request.code.run(data=do_asset.mock) == pytest.approx(uploaded[1]["age"].mean())
    request.deposit_result(42.0)
    assert scientist.code.mean_age(data=asset).get() == 42.0


def test_emulated_run_fails_like_the_datasite_on_outside_names(asset):
    import numpy as np

    @sy.syft_function_single_use(data=asset)
    def uses_outside(data):
        return np.mean(data["age"])

    with pytest.raises(sy.SyftException, match="import numpy inside"):
        uses_outside(data=asset)


def test_unsupported_result_type_is_explained(root, scientist, asset):
    @sy.syft_function_single_use(data=asset)
    def returns_a_function(data):
        return lambda: 1

    scientist.code.request_code_execution(returns_a_function)
    root.requests[0].approve()
    with pytest.raises(sy.SyftException, match="Cannot send a value of type"):
        scientist.code.returns_a_function(data=asset)


def test_code_listing_and_reprs(scientist, asset):
    scientist.code.request_code_execution(_single_use(asset))
    code = scientist.code[0]
    assert code.service_func_name == "mean_age" and code.status == "PENDING"
    assert "mean_age" in repr(scientist.code) and "mean_age" in scientist.code._repr_html_()


def test_owner_sees_what_private_runs_printed_and_scientist_does_not(root, scientist, asset):
    scientist.code.request_code_execution(_single_use(asset))
    root.requests[0].approve()
    scientist.code.mean_age(data=asset)
    owner_view = root.requests[0].code
    assert owner_view.output_history[-1]["stdout"] == "rows: 50\n"
    assert owner_view.logs() == "rows: 50"
    assert "stdout" not in scientist.code[0].output_history[-1]
    assert "only the data owner" in scientist.code[0].logs()


def test_hostile_code_is_contained_and_the_datasite_stays_up(
    node, root, scientist, asset, uploaded
):
    """Through the Datasite: reading its files, the network, a busy loop, a fork bomb, a memory
    hog. Each fails with a readable error; afterwards a normal request still runs."""
    root.settings.update(exec_wall_seconds=3, exec_cpu_seconds=3, exec_memory_mb=1500)
    data_dir = str(node.data_dir)
    attacks = {
        "read_files": f"import os\n    return os.listdir({data_dir!r})",
        "network": (
            "import socket\n"
            f"    socket.create_connection(('127.0.0.1', {node.port}), timeout=2)\n"
            "    return 'connected'"
        ),
        "busy_loop": "while True:\n        pass",
        "fork_bomb": "import os\n    while True:\n        os.fork()",
        "memory_hog": "blocks = []\n    while True:\n        blocks.append(bytearray(100 << 20))",
    }
    import linecache
    import types

    for name, body in attacks.items():
        source = f"def {name}(data):\n    {body}\n"
        filename = f"<attack {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(source, filename, "exec")
        func = types.FunctionType(code.co_consts[0], {}, name)
        fn = sy.syft_function_single_use(data=asset)(func)
        scientist.code.request_code_execution(fn)
        root.requests[-1].approve()
        with pytest.raises(sy.SyftException) as info:
            getattr(scientist.code, name)(data=asset)
        assert "Exception encountered while running" in str(info.value), (name, str(info.value))
        assert "connected" not in str(info.value)
    # the Datasite still answers and runs normal code
    scientist.code.request_code_execution(_single_use(asset))
    root.requests[-1].approve()
    assert scientist.code.mean_age(data=asset).get() == pytest.approx(uploaded[0]["age"].mean())
