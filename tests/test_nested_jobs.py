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
