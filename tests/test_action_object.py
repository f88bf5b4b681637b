"""``sy.ActionObject`` as PySyft's tutorials use it (issue 14, item 7): ``empty()`` means "no
mock", a run's result pointer is an ActionObject, and eager ``send`` says what to do instead."""

from __future__ import annotations

import numpy as np
import pytest

import jupyter_syft as sy


def test_empty_means_no_mock_and_results_are_action_objects(root, scientist):
    data = np.array([1, 2, 3])
    dataset = sy.Dataset(name="no mocks")
    dataset.add_asset(sy.Asset(name="given", data=data, mock=sy.ActionObject.empty()))
    later = sy.Asset(name="set later", data=data)
    later.mock = sy.ActionObject.empty()
    dataset.add_asset(later)
    root.upload_dataset(dataset, progress=False)
    assets = scientist.datasets["no mocks"].assets
    for name in ("given", "set later"):
        with pytest.raises(sy.SyftException, match="no mock"):
            _ = assets[name].mock

    asset = root.datasets["no mocks"].assets["given"]

    @sy.syft_function_single_use(data=asset)
    def total(data):
        return int(data.sum())

    root.code.request_code_execution(total)
    root.requests[0].approve(disable_warnings=True)
    pointer = root.code.total(data=asset)
    assert isinstance(pointer, sy.ActionObject)
    assert pointer.syft_action_data == pointer.get() == 6
    assert not isinstance(6, sy.ActionObject)


def test_eager_send_says_how_values_reach_a_datasite(root):
    wrapped = sy.ActionObject.from_obj(np.array([1, 2]))
    assert list(wrapped.syft_action_data) == [1, 2]
    with pytest.raises(sy.SyftException, match="upload_dataset"):
        wrapped.send(root)
    assert repr(sy.ActionObject.empty()) == "ActionObject.empty()"
