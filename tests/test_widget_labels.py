"""Every input of the notebook review widgets has a label (#16 item 9): ipywidgets renders a
widget's ``description`` as a ``<label for=...>`` tied to its input, so a screen reader names
the field and the name stays once the placeholder is gone. Buttons say what they do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ipywidgets as w
import pytest
from held_outputs import COUNTS, SCIENTIST, Site

import jupyter_syft as sy
from jupyter_syft.notebook.review import OutputReview, RequestReview

# Widgets that only show text: no input to name.
DISPLAY_ONLY = (w.HTML, w.HTMLMath, w.Label, w.Output)


def mean_age(data):
    return data["age"].mean()


def walk(widget: Any) -> Iterator[Any]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def inputs(widget: Any) -> list[w.Widget]:
    """The widgets a user types in, ticks or picks from."""
    return [
        c
        for c in walk(widget)
        if isinstance(c, w.ValueWidget)
        and not isinstance(c, DISPLAY_ONLY)
        and not isinstance(c, w.Box)
    ]


def unlabelled(widget: Any) -> list[str]:
    missing = []
    for c in inputs(widget):
        if not (getattr(c, "description", "") or "").strip():
            missing.append(f"{type(c).__name__}(placeholder={getattr(c, 'placeholder', '')!r})")
    for c in walk(widget):
        if isinstance(c, w.Button) and not (c.description.strip() and c.tooltip):
            missing.append(f"Button({c.description!r}, tooltip={c.tooltip!r})")
    return missing


def test_every_input_of_the_owners_request_review_is_labelled(root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]
    scientist.code.request_code_execution(
        sy.syft_function_single_use(data=asset)(mean_age), reason="average age"
    )
    widget = root.requests[0].review()
    assert isinstance(widget, RequestReview)
    found = inputs(widget)
    # The deny reason and the deposit field at least: the test must look at real inputs.
    assert widget.deny_reason in found and widget.deposit_input in found
    assert unlabelled(widget) == []
    assert widget.deny_reason.description == "Deny reason"
    assert widget.deposit_input.description == "Result to deposit"
    # Labels are sized to their text, not cut at ipywidgets' default 90px.
    assert widget.deny_reason.style.description_width == "initial"
    # The checkbox shown for nested jobs is labelled too (built for every request).
    assert widget.approve_nested.description.strip()

    # The confirmation that Approve opens: its buttons say what they do.
    widget.approve_button.click()
    assert widget.confirm_button is not None
    assert unlabelled(widget) == []


def test_the_scientists_view_of_a_request_is_labelled(scientist, uploaded):
    asset = scientist.datasets[0].assets[0]
    scientist.code.request_code_execution(
        sy.syft_function_single_use(data=asset)(mean_age), reason="average age"
    )
    widget = scientist.requests[0].review()
    assert unlabelled(widget) == []


@pytest.fixture
def held(node, root, scientist, uploaded):
    site = Site(node.url)
    site.login("owner", "info@openmined.org", "changethis")
    site.login("scientist", *SCIENTIST)
    site.set_release("checked", rules={"preset": "acro", "safe_threshold": 40})
    execution = site.run(site.approved("counts", COUNTS))
    assert execution["release"] == "held", execution["report"]
    return execution


def test_every_input_of_the_output_review_is_labelled(root, held):
    widget = root.outputs.held[0].review()
    assert isinstance(widget, OutputReview)
    found = inputs(widget)
    assert widget.comment in found and widget.reason in found
    assert unlabelled(widget) == []
    assert widget.comment.description == "Release comment"
    assert widget.reason.description == "Withhold reason"


def test_an_unlabelled_input_is_caught():
    """The check itself fails on a bare input (so the tests above can fail)."""
    box = w.VBox([w.Textarea(placeholder="why"), w.Button(description="Go")])
    assert len(unlabelled(box)) == 2


def test_status_lines_follow_the_jupyterlab_theme():
    """Status lines use the extension's theme-derived colours in JupyterLab (readable in the
    dark theme) and a matching fixed pair elsewhere, background and text from one source."""
    from jupyter_syft.notebook.review import _status_html

    for kind, name in (("ok", "success"), ("error", "error"), ("info", "info")):
        line = _status_html(kind, "<b>done</b>")
        assert f"background:var(--jp-syft-{name}-bg, #" in line
        assert f"color:var(--jp-syft-{name}-text, #" in line
        assert "&lt;b&gt;done&lt;/b&gt;" in line
