"""Output review from the Python client (issue 13): what a scientist sees of a held result,
and what an owner does with it (``client.outputs``, release, withhold), on a real Datasite."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import jupyter_syft as sy
from jupyter_syft.client.outputs import ValuePreview
from jupyter_syft.client.results import DisclosureReportView, OutputHeld

MARKER = "zq-marker-7731"  # planted in every private row: must never reach the scientist
EVIL = '<script>alert("x")</script>'


def _assert_escaped(html: str) -> None:
    assert "<script>" not in html, html
    assert "&lt;script&gt;" in html, html


@pytest.fixture
def asset(root, scientist):
    private = pd.DataFrame(
        {"name": [f"{MARKER}-{i}" for i in range(60)], "age": [20 + i % 50 for i in range(60)]}
    )
    mock = pd.DataFrame(
        {"name": [f"mock-{i}" for i in range(60)], "age": [30 + i % 40 for i in range(60)]}
    )
    dataset = sy.Dataset(name="People", summary="Names and ages", description="Synthetic.")
    dataset.add_asset(sy.Asset(name="people", data=private, mock=mock))
    root.upload_dataset(dataset, progress=False)
    root.settings.update(release="checked")
    return scientist.datasets["People"].assets[0]


def _request_rows(root, scientist, asset, name):
    """Ask to run a function returning 50 raw rows, and approve it."""

    @sy.syft_function_single_use(data=asset)
    def rows(data):
        return data.head(50).to_dict("records")

    @sy.syft_function_single_use(data=asset)
    def more_rows(data):
        return data.head(50).to_dict("records")

    function = {"rows": rows, "more_rows": more_rows}[name]
    request = scientist.code.request_code_execution(function, reason="first rows")
    root.requests.get_by_usercode_id(request.code.id)[0].approve()
    return request


def _no_marker(*texts):
    for text in texts:
        assert MARKER not in text, text


def test_scientist_sees_held_with_report_never_the_value(root, scientist, asset):
    request = _request_rows(root, scientist, asset, "rows")
    result = scientist.code.rows(data=asset)
    assert result.held and result.release == "held"

    with pytest.raises(sy.SyftException, match="held for output review") as info:
        result.get()
    held = info.value
    assert isinstance(held, sy.OutputHeld) and held.state == "held"
    report = held.report
    assert report is not None and report.outcome == "fail"
    failing = [c for c in report.checks if c["outcome"] == "fail"]
    assert failing and failing[0]["rule"] in str(held) and failing[0]["reason"] in str(held)
    # Everything the scientist can look at names the state and never holds the values.
    texts = [
        str(held),
        held._repr_html_(),
        repr(result),
        str(result),
        result._repr_html_(),
        json.dumps(result.execution),
        repr(result.report),
        result.report._repr_html_(),
    ]
    _no_marker(*texts)
    assert "held for output review" in repr(result) and "held" in result.execution["release"]
    # The code's status says so too.
    code = scientist.code.get_by_id(request.code.id)
    assert code.output_status.startswith("held for output review")
    assert "held for output review" in repr(code)
    assert "held for output review" in code._repr_html_()


def test_owner_reviews_and_withholds(root, scientist, asset):
    request = _request_rows(root, scientist, asset, "rows")
    result = scientist.code.rows(data=asset)

    held = root.outputs.held
    assert len(held) == 1
    output = held[0]
    assert output.state == "held" and output.execution_id == result.id
    assert output.report is not None and output.report.outcome == "fail"
    assert output.report.failing_cells or output.report.failing
    value = output.get()
    assert isinstance(value, list) and len(value) == 50 and value[0]["name"].startswith(MARKER)
    assert output.value == value
    preview = output.preview(rows=5)._repr_html_()
    assert MARKER in preview and "row_level" in preview  # owners see the rows and the report
    assert output.request is not None and output.request.id == request.id
    assert output.code.service_func_name == "rows"
    assert root.outputs[result.id].execution_id == result.id
    assert "held" in repr(output) and "output.release" in repr(output)
    assert "held" in root.outputs._repr_html_()

    with pytest.raises(sy.SyftException):
        output.withhold(reason="")  # a reason is required, and the Datasite says so
    reason = f"Row-level data: aggregate it first {EVIL}"
    assert isinstance(output.withhold(reason=reason), sy.SyftSuccess)
    assert output.state == "withheld" and output.decision_note == reason
    assert len(root.outputs.held) == 0 and len(root.outputs.withheld) == 1
    with pytest.raises(sy.SyftException):
        root.outputs.withheld[0].release(comment="changed my mind")  # one outcome

    with pytest.raises(sy.SyftException, match="withheld") as info:
        result.get()
    assert "Row-level data: aggregate it first" in str(info.value)
    _no_marker(str(info.value), repr(result))
    _assert_escaped(info.value._repr_html_())
    _assert_escaped(root.outputs.withheld[0]._repr_html_())
    _assert_escaped(root.outputs._repr_html_() + root.outputs.withheld[0]._repr_html_())
    code = scientist.code.get_by_id(result.execution["code_id"])
    assert code.output_status.startswith("withheld: Row-level data")


def test_release_from_a_job_reaches_the_scientist(root, scientist, asset):
    _request_rows(root, scientist, asset, "rows")
    held_first = scientist.code.rows(data=asset)
    _request_rows(root, scientist, asset, "more_rows")
    job = scientist.code.more_rows(data=asset, blocking=False)
    pointer = job.wait(timeout=120)
    assert pointer.held and job.release == "held" and "output=held" in repr(job)
    assert "held for output review" in job._repr_html_()
    with pytest.raises(OutputHeld, match="held for output review"):
        job.result.get()
    _no_marker(repr(pointer), repr(job), job._repr_html_())

    outputs = root.outputs
    assert [o.state for o in outputs] == ["held", "held"]
    target = root.outputs[pointer.id]
    comment = f"Checked by hand {EVIL}"
    assert isinstance(target.release(comment=comment), sy.SyftSuccess)
    assert target.state == "released" and target.decision_note == comment
    _assert_escaped(target._repr_html_())
    with pytest.raises(sy.SyftException):
        target.withhold(reason="too late")  # one outcome

    value = pointer.get()  # the same pointer: it asks the Datasite again
    assert len(value) == 50 and value[0]["name"].startswith(MARKER)
    assert pointer.report is not None and pointer.report.outcome == "fail"
    assert "Disclosure checks: FAIL" in repr(pointer)
    assert job.fetch().release == "released"
    # The table lists what waits for a decision first.
    assert [o.state for o in root.outputs] == ["held", "released"]
    assert [o.state for o in root.outputs.released] == ["released"]
    with pytest.raises(OutputHeld):
        held_first.get()


def test_scientists_and_guests_cannot_list_outputs(root, scientist, asset):
    _request_rows(root, scientist, asset, "rows")
    scientist.code.rows(data=asset)
    for client in (scientist, root.login_as_guest()):
        with pytest.raises(sy.SyftException) as info:
            client.outputs
        assert info.value.status in (401, 403) and "owner" in str(info.value).lower()


def test_on_approval_releases_at_once_with_the_report(root, scientist, asset):
    root.settings.update(release="on_approval")
    _request_rows(root, scientist, asset, "rows")
    result = scientist.code.rows(data=asset)
    assert not result.held and result.report is not None and result.report.outcome == "fail"
    assert len(result.get()) == 50
    assert len(root.outputs.held) == 0


def test_report_view_escapes_and_marks_failing_cells():
    report = DisclosureReportView(
        {
            "outcome": "fail",
            "rules": "acro",
            "rules_digest": "ab" * 32,
            "checks": [
                {"rule": "threshold", "outcome": "fail", "reason": EVIL, "cells": [[EVIL, "n"]]},
                {"rule": "dominance", "outcome": "pass", "reason": "ok", "cells": []},
            ],
        }
    )
    html = report._repr_html_()
    _assert_escaped(html)
    assert "jsyft-fail" in html and "jsyft-cell-fail" in html
    assert report.failing_cells == [[EVIL, "n"]] and len(report.failing) == 1
    assert "FAIL" in repr(report) and "threshold" in repr(report)
    _assert_escaped(OutputHeld("f", "withheld", report, reason=EVIL)._repr_html_())


def test_mock_runs_show_their_report(root, scientist, asset):
    @sy.syft_function_single_use(data=asset)
    def peek(data):
        return data.head(50)

    local = peek(data=asset)  # emulated here, on the mocks
    assert local.report is not None and local.report.outcome == "fail"
    assert "row_level" in repr(local) and "on the mocks" in repr(local)
    assert "jsyft-fail" in local._repr_html_()

    request = scientist.code.request_code_execution(peek)
    code = root.requests.get_by_usercode_id(request.code.id)[0].code
    assert len(code.run_on_mocks()) == 50  # in the Datasite's sandbox, on the mocks
    assert code.mock_report is not None and code.mock_report.outcome == "fail"


def test_owners_read_their_own_held_runs(root, asset):
    root.settings.update(release="manual")
    owner_asset = root.datasets["People"].assets[0]

    @sy.syft_function_single_use(data=owner_asset)
    def count_rows(data):
        return len(data)

    root.code.request_code_execution(count_rows)
    root.requests[0].approve()
    result = root.code.count_rows(data=owner_asset)
    assert result.held and result.get() == 60
    assert "held: you read it as an owner" in repr(result)
    assert [o.state for o in root.outputs.held] == ["held"]


def test_value_preview_marks_the_failing_cells():
    frame = pd.DataFrame({"n": [3, 40], EVIL: [EVIL, "x"]}, index=["a", "b"])
    report = DisclosureReportView(
        {
            "outcome": "fail",
            "rules": "acro",
            "rules_digest": "",
            "checks": [
                {"rule": "threshold", "outcome": "fail", "reason": "small", "cells": [["a", "n"]]}
            ],
        }
    )
    html = ValuePreview(frame, report)._repr_html_()
    _assert_escaped(html)
    assert '<td class="jsyft-cell-fail">3</td>' in html and "<td>40</td>" in html
    records = ValuePreview(frame.to_dict("records"), report)._repr_html_()
    assert "jsyft-cell-fail" not in records.split("<table>")[1].split("</table>")[0]
