"""Scale-out: a Datasite sending its runs to a real Dask LocalCluster (worker processes)."""

import time

import pandas as pd
import pytest

import jupyter_syft as sy
from jupyter_syft.server.services.actor import Actor
from tests.nested_example import submit_nested_example

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None, silence_logs=40
    ) as local:
        yield local


@pytest.fixture
def dask_node(cluster, request):
    node = sy.orchestra.launch(
        name=f"dask-{request.node.name}"[:50],
        port="auto",
        reset=True,
        dask_scheduler=cluster.scheduler_address,
        verbose=False,
    )
    yield node
    node.land()


@pytest.fixture
def clients(dask_node):
    root = dask_node.login(email="info@openmined.org", password="changethis", verbose=False)
    data = pd.DataFrame({"A": [1, 2, 3, 4], "B": [10, 20, 30, 40]})
    root.upload_dataset(
        sy.Dataset(name="Nums", asset_list=[sy.Asset(name="n", data=data, mock=data * 0)]),
        progress=False,
    )
    root.users.create(sy.UserCreate(email="ds@example.org", name="DS", password="pw"))
    ds = sy.login(url=dask_node.url, email="ds@example.org", password="pw", verbose=False)
    return root, ds, data


def test_runs_go_to_the_cluster_inside_the_sandbox(cluster, clients, dask_node):
    root, ds, data = clients
    asset = ds.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def where_am_i(data):
        import os

        return {"total": int(data.to_numpy().sum()), "pid": os.getpid()}

    ds.code.request_code_execution(where_am_i)
    assert root.requests[0].sandbox == "dask"
    root.requests[0].approve()
    result = ds.code.where_am_i(data=asset)
    assert result.get()["total"] == int(data.to_numpy().sum())
    assert result.execution["sandbox"].startswith("dask:")
    # the disclosure checks ran on the Dask worker, next to the data, and their report came back
    code_id = root.requests[0].code.id
    owner = Actor(root.account.id, root.account.email, "root", sy.ServiceRole.ADMIN)
    (run,) = dask_node.datasite.services.code.executions(owner, code_id).items
    assert run.report is not None and run.report.rules == "acro"
    assert "No disclosure report came back" not in str(run.report)
    workers = cluster.scheduler_info["workers"]
    assert len(workers) == 2


def test_nested_example_runs_through_dask(clients):
    root, ds, data = clients
    asset = ds.datasets[0].assets[0]

    submit_nested_example(ds, asset)
    root.requests[0].approve(approve_nested=True)
    job = ds.code.process_all(data=asset, blocking=False)
    assert int(job.wait(timeout=180).get()) == int(data.to_numpy().sum())


def _remote_runs(cluster) -> int:
    """Sandboxed runs going on right now, over all the cluster's workers."""
    from jupyter_syft.server.execution import dask_runner

    with distributed.Client(cluster, set_as_default=False) as client:
        return sum(client.run(dask_runner.active_runs).values())


def _until(condition, seconds=60.0, what="the condition"):
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_nested_example_reports_its_progress_from_the_cluster(clients):
    root, ds, data = clients
    asset = ds.datasets[0].assets[0]

    submit_nested_example(ds, asset, progress=True)
    root.requests[0].approve(approve_nested=True)
    job = ds.code.process_all(data=asset, blocking=False)
    assert int(job.wait(timeout=180).get()) == int(data.to_numpy().sum())
    assert job.fetch().progress == "2/2"


def test_progress_is_live_and_kill_stops_the_remote_run(cluster, clients):
    """Progress reaches the job while it runs on the cluster; job.kill() stops the sandboxed
    process on the Dask worker itself, not only the Dask future."""
    root, ds, _ = clients
    asset = ds.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def long_loop(datasite, data):
        import time

        datasite.init_progress(4)
        datasite.set_progress(1)
        time.sleep(90)
        return 1

    ds.code.request_code_execution(long_loop)
    root.requests[0].approve()
    job = ds.code.long_loop(data=asset, blocking=False)
    _until(lambda: job.fetch().progress == "1/4", what="the progress of the running job")
    assert job.status == sy.JobStatus.PROCESSING
    assert _remote_runs(cluster) == 1
    started = time.monotonic()
    job.kill()
    with pytest.raises(sy.SyftException, match=r"job\.kill"):
        job.wait(timeout=60)
    assert job.status == sy.JobStatus.INTERRUPTED
    _until(lambda: _remote_runs(cluster) == 0, seconds=10, what="the remote run to stop")
    assert time.monotonic() - started < 60  # catches a hang only


def test_unapproved_nested_code_is_refused_on_the_cluster_too(clients):
    root, ds, _ = clients
    asset = ds.datasets[0].assets[0]

    @sy.syft_function()
    def helper(x):
        return x

    @sy.syft_function_single_use(data=asset)
    def parent(datasite, data):
        return datasite.launch_job(helper, x=1).result

    ds.code.submit(helper)
    ds.code.request_code_execution(parent)
    root.requests[0].approve()  # not approve_nested
    with pytest.raises(sy.SyftException, match="approve_nested=True"):
        ds.code.parent(data=asset)
