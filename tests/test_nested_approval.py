"""approve(approve_nested=True) approves what the reviewer was shown, for that request only.

Issue 11, item 2: the nested functions came from a regex over the parent's text (comments and
strings included), were approved for direct use, and the reviewer saw "No nested requests".
"""

import contextlib
import html
import io
import re

import pandas as pd
import pytest

import jupyter_syft as sy
from jupyter_syft import analysis
from tests.nested_example import submit_nested_example


@pytest.fixture
def asset(root, scientist):
    data = pd.DataFrame({"A": [1, 2, 3, 4], "B": [10, 20, 30, 40]})
    root.upload_dataset(
        sy.Dataset(name="Nums", asset_list=[sy.Asset(name="n", data=data, mock=data * 0)]),
        progress=False,
    )
    return scientist.datasets[0].assets[0]


def quiet(fn):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn()


def test_only_real_calls_are_nested_calls():
    source = """
def parent(datasite, data):
    # datasite.launch_job(in_a_comment)
    text = "datasite.launch_job(in_a_string)"
    other.launch_job(not_the_datasite)
    first = datasite.launch_job(real_one, x=1)
    return datasite.launch_job(func=real_two).result
"""
    assert analysis.nested_calls(source) == ["real_one", "real_two"]


def test_text_that_mentions_a_function_does_not_approve_it(root, scientist, asset):
    """The exploit: a comment names `leak`; approving nested used to approve `leak` for direct
    use on the private data."""

    @sy.syft_function(input_policy=sy.ExactMatch(data=asset))
    def leak(data):
        return data["A"].tolist()

    @sy.syft_function_single_use(data=asset)
    def innocent(datasite, data):
        # datasite.launch_job(leak, data=data)
        return int(data["A"].sum())

    quiet(lambda: scientist.code.submit(leak))
    quiet(lambda: scientist.code.request_code_execution(innocent))
    request = root.requests[0]
    assert request.nested == [] and "No nested requests." in repr(request)
    request.approve(approve_nested=True)
    assert scientist.code.innocent(data=asset).get() == 10
    with pytest.raises(sy.SyftException, match="waiting for approval"):
        scientist.code.leak(data=asset)


def test_the_reviewer_sees_each_nested_function_with_its_code(root, scientist, asset):
    submit_nested_example(scientist, asset)
    request = root.requests[0]
    assert [n["name"] for n in request.nested] == ["process_batch", "aggregate_job"]
    assert "batch.to_numpy().sum()" in request.nested[0]["raw_code"]
    assert "Nested requests: process_batch, aggregate_job." in repr(request)
    html = request._repr_html_()
    assert "Nested jobs it launches" in html and "aggregate_job" in html


def test_nested_functions_run_only_inside_the_request(root, scientist, asset):
    submit_nested_example(scientist, asset)
    root.requests[0].approve(approve_nested=True)
    assert int(scientist.code.process_all(data=asset).get()) == 110
    # approved as part of process_all, not on their own
    with pytest.raises(sy.SyftException, match="waiting for approval"):
        scientist.code.process_batch(batch=1)


def test_a_new_version_after_review_is_not_approved(root, scientist, asset):
    submit_nested_example(scientist, asset)
    shown = root.requests[0]  # the owner reads this version of process_batch

    @sy.syft_function()
    def process_batch(batch):
        return -1  # changed after the owner looked

    quiet(lambda: scientist.code.submit(process_batch))
    with pytest.raises(sy.SyftException, match="not the ones you reviewed"):
        shown.approve(approve_nested=True)
    assert root.requests[0].status == sy.RequestStatus.PENDING

    fresh = root.requests[0]
    assert "return -1" in fresh.nested[0]["raw_code"]
    fresh.approve(approve_nested=True)
    assert scientist.code.process_all(data=asset).get() == -2  # two batches of -1, summed


def test_the_approved_versions_stay_pinned(root, scientist, asset):
    submit_nested_example(scientist, asset)
    root.requests[0].approve(approve_nested=True)

    @sy.syft_function()
    def aggregate_job(job_results):
        return "leaked"  # submitted after approval: must not run inside process_all

    quiet(lambda: scientist.code.submit(aggregate_job))
    assert int(scientist.code.process_all(data=asset).get()) == 110


def test_approving_nested_needs_the_reviewed_ids(node, root, scientist, asset):
    import requests

    submit_nested_example(scientist, asset)
    request_id = root.requests[0].id
    response = requests.post(
        f"{node.url}/syft/api/v1/requests/{request_id}/approve",
        json={"approve_nested": True},
        headers={"Authorization": f"Bearer {root.connection.token}"},
        timeout=30,
    )
    assert response.status_code == 400
    assert "nested_code_ids" in response.json()["detail"]


def test_a_missing_nested_function_cannot_be_approved(root, scientist, asset):
    @sy.syft_function_single_use(data=asset)
    def parent(datasite, data):
        return datasite.launch_job(never_submitted, x=1).result  # noqa: F821

    quiet(lambda: scientist.code.request_code_execution(parent))
    request = root.requests[0]
    assert request.nested == [
        {
            "name": "never_submitted",
            "code_id": None,
            "raw_code": "",
            "submit_time": None,
            "approved_as_nested": False,
        }
    ]
    with pytest.raises(sy.SyftException, match="has not submitted"):
        request.approve(approve_nested=True)


def test_the_review_widget_lists_nested_jobs_and_approves_them(root, scientist, asset):
    from jupyter_syft.notebook.review import RequestReview

    submit_nested_example(scientist, asset)
    widget = root.requests[0].review()
    assert isinstance(widget, RequestReview)
    assert "Nested jobs it launches" in widget.code_view.value
    text = html.unescape(re.sub(r"<[^>]+>", "", widget.code_view.value))
    assert "return batch.to_numpy().sum()" in text
    assert widget.approve_nested in widget.children
    widget.approve_nested.value = True
    widget.approve_button.click()
    assert "Also approves 2 nested function(s)" in widget.confirm_box.children[0].value
    widget.confirm_button.click()
    assert int(scientist.code.process_all(data=asset).get()) == 110
