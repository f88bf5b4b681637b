"""The output review widget, headless, against a real Datasite: a held output's report and
preview (failing cells marked, escaped), Release / Withhold buttons calling the OutputView,
disabled once decided, errors shown as messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ipywidgets as w
import pandas as pd
import pytest
from held_outputs import COUNTS, SCIENTIST, Site

import jupyter_syft as sy
from jupyter_syft.client.results import DisclosureReportView
from jupyter_syft.notebook.review import OutputReview, preview_html
from jupyter_syft.wire import routes

# Counts below 40 fail (min_count, acro threshold raised): both of COUNTS's cells on 50 rows.
STRICT = {"preset": "acro", "safe_threshold": 40}


def walk(widget: Any) -> Iterator[Any]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def html_of(widget: Any) -> str:
    return "\n".join(c.value for c in walk(widget) if isinstance(c, w.HTML))


@pytest.fixture
def site(node, root, scientist, uploaded) -> Site:
    site = Site(node.url)
    site.login("owner", "info@openmined.org", "changethis")
    site.login("scientist", *SCIENTIST)
    return site


@pytest.fixture
def held(site):
    """A held output of the scientist's ``counts`` whose threshold check fails."""
    site.set_release("checked", rules=STRICT)
    execution = site.run(site.approved("counts", COUNTS))
    assert execution["release"] == "held", execution["report"]
    return execution


def test_widget_shows_the_report_and_marks_failing_cells(root, held):
    output = root.outputs.held[0]
    widget = output.review()
    assert isinstance(widget, OutputReview) and isinstance(sy.review(output), OutputReview)
    page = html_of(widget)
    assert "Output: counts" in page and "min_count" in page
    assert 'class="jsyft-cell-fail"' in page and 'title="fails: min_count' in page
    assert widget.failing_cells >= 1
    assert not widget.release_button.disabled and not widget.withhold_button.disabled


def test_the_preview_names_rows_as_the_report_does(site, held):
    """The sidebar marks cells by the report's [row, column] labels: the owner's preview
    carries the rows' labels (``index``) written the same way."""
    preview = site.ok("owner", "get", routes.EXECUTION_PREVIEW, execution_id=held["id"])
    output = site.ok("owner", "get", routes.OUTPUT, execution_id=held["id"])
    cells = [cell for check in output["report"]["checks"] for cell in check["cells"]]
    assert cells and {row for row, _ in cells} <= set(preview["index"])
    assert len(preview["index"]) == len(preview["rows"])


def test_release_disables_the_buttons_and_says_who(root, held):
    widget = root.outputs.held[0].review()
    widget.comment.value = "Counts only: fine."
    widget.release_button.click()
    assert "jsyft-ok" in widget.status.value, widget.status.value
    assert widget.output.state == "released"
    header = widget.header.value
    assert "Released by" in header and "Counts only: fine." in header
    for button in (widget.release_button, widget.suppress_button, widget.withhold_button):
        assert button.disabled
    assert root.outputs.released[0].execution_id == held["id"]


def test_release_with_suppression(root, held):
    widget = root.outputs.held[0].review()
    assert not widget.suppress_button.disabled  # cells fail: there is something to suppress
    widget.suppress_button.click()
    assert "jsyft-ok" in widget.status.value, widget.status.value
    assert widget.output.state == "released" and widget.output.suppressed
    assert "Released with suppression" in widget.header.value
    assert widget.suppress_button.disabled and widget.release_button.disabled


def test_withhold_needs_a_reason_and_a_late_decision_shows_the_error(root, held):
    first = root.outputs.held[0].review()
    second = root.outputs.held[0].review()
    first.withhold_button.click()
    assert "Give a reason" in first.status.value and first.output.state == "held"
    first.reason.value = "Cells <b>too</b> small"
    first.withhold_button.click()
    assert first.output.state == "withheld" and first.withhold_button.disabled
    assert "Cells &lt;b&gt;too&lt;/b&gt; small" in first.header.value
    # the other widget still shows it held: its release gets the Datasite's refusal, as text
    second.release_button.click()
    assert "jsyft-error" in second.status.value
    assert second.output.state == "withheld" and second.release_button.disabled


def test_preview_html_escapes_labels_and_values():
    hostile = "<img src=x onerror=alert(1)>"
    frame = pd.DataFrame({hostile: [3, 40]}, index=[hostile, "b"])
    report = DisclosureReportView(
        {
            "outcome": "fail",
            "rules": "acro",
            "rules_digest": "",
            "checks": [
                {
                    "rule": "threshold",
                    "outcome": "fail",
                    "reason": "",
                    "cells": [[hostile, hostile]],
                },
                {"rule": "threshold", "outcome": "fail", "reason": "", "cells": [["zz", hostile]]},
            ],
        }
    )
    html, shown, outside = preview_html(frame, report)
    assert "<img" not in html and "&lt;img" in html
    assert (shown, outside) == (1, 1)
    assert html.count('class="jsyft-cell-fail"') == 1 and "1 more outside the rows shown" in html
