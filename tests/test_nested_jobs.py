"""Nested jobs: the Code API guide's process_all / process_batch / aggregate_job example."""

import numpy as np
import pandas as pd
import pytest

import jupyter_syft as sy
from tests.nested_example import submit_nested_example


@pytest.fixture
def nested_request(root, scientist):
    data = pd.DataFrame({"A": [1, 2, 3, 4], "B": [10, 20, 30, 40]})
    root.upload_dataset(
        sy.Dataset(name="Nums", asset_list=[sy.Asset(name="n", data=data, mock=data * 0)]),
        progress=False,
    )
    asset = scientist.datasets[0].assets[0]
    request = submit_nested_example(scientist, asset, progress=True)
    return asset, int(data.to_numpy().sum()), request


def test_nested_jobs_need_approve_nested(root, scientist, nested_request):
    asset, _, _ = nested_request
    root.requests[0].approve()
    with pytest.raises(sy.SyftException, match="approve_nested=True"):
        scientist.code.process_all(data=asset)


def test_nested_example_runs_to_the_right_total(root, scientist, nested_request):
    asset, total, _ = nested_request
    root.requests[0].approve(approve_nested=True)
    job = scientist.code.process_all(data=asset, blocking=False)
    assert int(job.wait(timeout=120).get()) == total
    assert job.fetch().progress == "2/2"


def test_nested_results_stay_inside_the_parent(node, root, scientist, nested_request):
    asset, total, _ = nested_request
    root.requests[0].approve(approve_nested=True)
    assert int(scientist.code.process_all(data=asset).get()) == total
    # only the parent's result is stored for the scientist; nested values are not
    with node.datasite.store.session() as session:
        from sqlmodel import select

        from jupyter_syft.server import models

        runs = session.exec(select(models.Execution)).all()
    assert len(runs) == 1 and np.isclose(float(scientist.code.process_all(data=asset).get()), total)


def test_kill_stops_the_running_nested_job_too(node, root, scientist, nested_request):
    """job.kill() while the job waits for a nested job stops both sandboxed processes."""
    import time

    asset, _, _ = nested_request

    @sy.syft_function()
    def nap(seconds):
        import time

        time.sleep(seconds)
        return seconds

    @sy.syft_function_single_use(data=asset)
    def waits_for_nap(datasite, data):
        return datasite.launch_job(nap, seconds=90).result

    scientist.code.submit(nap)
    scientist.code.request_code_execution(waits_for_nap)
    root.requests[-1].approve(approve_nested=True)
    runner = node.datasite.runner()
    job = scientist.code.waits_for_nap(data=asset, blocking=False)
    deadline = time.monotonic() + 60
    while runner.active_runs() < 2:  # the parent and its nested job
        assert time.monotonic() < deadline, job.fetch().status
        time.sleep(0.05)
    started = time.monotonic()
    job.kill()
    with pytest.raises(sy.SyftException, match=r"job\.kill"):
        job.wait(timeout=30)
    while runner.active_runs():
        assert time.monotonic() - started < 60, "the nested job is still running"
        time.sleep(0.05)


def test_nested_runs_are_audited_before_their_parent(node, root, scientist, nested_request):
    asset, total, _ = nested_request
    root.requests[0].approve(approve_nested=True)
    assert int(scientist.code.process_all(data=asset).get()) == total
    ids = {c.service_func_name: c.id for c in scientist.code}
    events = [
        e for e in node.datasite.services.audit.events() if e["action"].startswith("code.run")
    ]
    events.sort(key=lambda e: e["seq"])
    assert [(e["action"], e["object_id"]) for e in events] == [
        ("code.run_nested", ids["process_batch"]),
        ("code.run_nested", ids["process_batch"]),
        ("code.run_nested", ids["aggregate_job"]),
        ("code.run", ids["process_all"]),
    ]
    assert all(e["detail"]["private"] and e["detail"]["ok"] for e in events)
