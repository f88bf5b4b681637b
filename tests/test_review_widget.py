"""The review widget, headless: build it, click its buttons, check the Datasite's state."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import ipywidgets as w
import pytest

import jupyter_syft as sy
from jupyter_syft.notebook.review import DatasiteReview, RequestReview

ROOT = {"email": "info@openmined.org", "password": "changethis"}


def mean_age(data):
    return data["age"].mean()


def oldest(data):
    return int(data["age"].max())


def explode(data):
    raise ValueError("no <b>thanks</b>")


def walk(widget: Any) -> Iterator[Any]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def html_of(widget: Any) -> str:
    return "\n".join(c.value for c in walk(widget) if isinstance(c, w.HTML))


def buttons(widget: Any) -> dict[str, w.Button]:
    return {c.description: c for c in walk(widget) if isinstance(c, w.Button)}


def submit(scientist, func, reason="for the study"):
    asset = scientist.datasets[0].assets[0]
    fn = sy.syft_function_single_use(data=asset)(func)
    return scientist.code.request_code_execution(fn, reason=reason)


def fresh_request(node, request_id):
    client = sy.login(url=node.url, verbose=False, **ROOT)
    return next(r for r in client.requests if r.id == request_id)


def test_owner_review_shows_the_request_and_approves(node, root, scientist, uploaded):
    _private, mock = uploaded
    submitted = submit(scientist, mean_age, reason="average age")
    widget = root.requests[0].review()
    assert isinstance(widget, RequestReview)
    html = html_of(widget)
    for expected in (
        "Dana Scientist",
        "ds@example.org",
        "average age",
        "mean_age",
        "ExactMatch",
        "OutputPolicyExecuteOnce",
        "PENDING",
        "Static analysis",  # the findings section
        "<table",
    ):
        assert expected in html, expected
    # the mock preview shows the mock's first rows
    assert f"<td>{mock['age'].iloc[0]}</td>" in widget.inputs_view.value
    assert set(buttons(widget)) == {
        "Run on mock",
        "Run on private",
        "Approve",
        "Deny",
        "Deposit result",
    }

    widget.approve_button.click()  # asks first: what approving means here
    summary = html_of(widget.confirm_box)
    assert "will run on the private data" in summary and "finding(s)" in summary
    assert fresh_request(node, submitted.id).status == sy.RequestStatus.PENDING
    buttons(widget)["Cancel"].click()
    assert widget.confirm_box.children == ()
    widget.approve_button.click()
    widget.confirm_button.click()
    assert "approved" in widget.status.value
    assert "APPROVED" in widget.header.value  # updated in place
    assert root.email in widget.header.value  # who decided
    assert fresh_request(node, submitted.id).status == sy.RequestStatus.APPROVED
    # decided: Approve is off (no second approval), Deny became Revoke
    assert widget.approve_button.disabled and "Already approved by" in widget.approve_button.tooltip
    assert widget.deny_button.description == "Revoke" and not widget.deny_button.disabled


def test_deny_needs_a_reason(node, root, scientist, uploaded):
    submitted = submit(scientist, mean_age)
    widget = root.requests[0].review()
    widget.deny_button.click()
    assert "Give a reason" in widget.status.value
    assert fresh_request(node, submitted.id).status == sy.RequestStatus.PENDING

    widget.deny_reason.value = "  ages are too <sensitive>  "
    widget.deny_button.click()
    after = fresh_request(node, submitted.id)
    assert after.status == sy.RequestStatus.REJECTED
    assert after.deny_reason == "ages are too <sensitive>"
    assert "denied" in widget.status.value
    assert "&lt;sensitive&gt;" in widget.header.value and "<sensitive>" not in widget.header.value


def test_run_on_mock_then_private_then_deposit(node, root, scientist, uploaded):
    private, mock = uploaded
    submitted = submit(scientist, mean_age)
    widget = root.requests[0].review()

    widget.run_mock_button.click()
    assert "on the mocks in the Datasite&#x27;s sandbox" in widget.status.value
    assert repr(mock["age"].mean()) in widget.result.value
    assert fresh_request(node, submitted.id).status == sy.RequestStatus.PENDING
    history = root.requests[0].code.output_history  # the run is on the Datasite's record
    assert len(history) == 1 and history[0]["ok"]

    widget.run_private_button.click()
    assert "PRIVATE" in widget.result.value
    assert repr(private["age"].mean()) in widget.result.value
    assert fresh_request(node, submitted.id).status == sy.RequestStatus.PENDING  # not shared

    widget.deposit_button.click()  # empty field: the last private run's result
    assert "deposited" in widget.status.value
    assert fresh_request(node, submitted.id).status == sy.RequestStatus.APPROVED
    asset = scientist.datasets[0].assets[0]
    assert scientist.code.mean_age(data=asset).get() == pytest.approx(private["age"].mean())


def test_deposit_from_a_variable_or_a_literal(node, root, scientist, uploaded):
    first = submit(scientist, mean_age)
    second = submit(scientist, oldest)
    by_name = {r.code.service_func_name: r for r in root.requests}
    namespace = {"answer": {"mean": 41.5}}

    widget = by_name["mean_age"].review(namespace=namespace)
    widget.deposit_button.click()
    assert "Say what to deposit" in widget.status.value
    widget.deposit_input.value = "nobody"
    widget.deposit_button.click()
    assert "no variable named 'nobody'" in html.unescape(widget.status.value)
    widget.deposit_input.value = "1 +"
    widget.deposit_button.click()
    assert "neither a notebook variable nor a Python literal" in widget.status.value
    assert fresh_request(node, first.id).status == sy.RequestStatus.PENDING

    widget.deposit_input.value = "answer"
    widget.deposit_button.click()
    assert fresh_request(node, first.id).status == sy.RequestStatus.APPROVED

    literal = by_name["oldest"].review(namespace=namespace)
    literal.deposit_input.value = "[7, 'x']"
    literal.deposit_button.click()
    assert fresh_request(node, second.id).status == sy.RequestStatus.APPROVED

    asset = scientist.datasets[0].assets[0]
    assert scientist.code.mean_age(data=asset).get() == {"mean": 41.5}
    assert scientist.code.oldest(data=asset).get() == [7, "x"]


def test_errors_show_in_the_widget(node, root, scientist, uploaded):
    submit(scientist, explode)
    owner = sy.login(url=node.url, verbose=False, **ROOT)
    widget = owner.requests[0].review()
    widget.run_mock_button.click()  # the submitted code fails: a message, not a traceback
    assert "ValueError: no &lt;b&gt;thanks&lt;/b&gt;" in widget.status.value
    assert "jsyft-error" in widget.status.value

    owner.logout()  # now the Datasite refuses: a SyftException, shown in the widget
    widget.approve_button.click()
    widget.confirm_button.click()
    assert "jsyft-error" in widget.status.value
    assert fresh_request(node, root.requests[0].id).status == sy.RequestStatus.PENDING


def test_scientist_widget_has_no_private_run(node, root, scientist, uploaded):
    _private, mock = uploaded
    submit(scientist, mean_age)
    widget = scientist.requests[0].review()
    assert widget.run_private_button is None and widget.approve_button is None
    assert set(buttons(widget)) == {"Run on mock"}
    assert "Only the Datasite" in html_of(widget)
    widget.run_mock_button.click()
    assert repr(mock["age"].mean()) in widget.result.value
    widget.run_on_private()  # even called directly, it does nothing but say no
    assert "Only owners" in widget.status.value
    assert "PRIVATE" not in widget.result.value


def test_sy_review_lists_the_pending_requests(node, root, scientist, uploaded):
    empty = sy.review(root)
    assert isinstance(empty, DatasiteReview) and empty.reviews == []
    assert "No pending requests" in html_of(empty)

    decided = submit(scientist, oldest)
    root.requests[0].approve()
    pending = submit(scientist, mean_age)
    widget = sy.review(root)
    assert [r.request.id for r in widget.reviews] == [pending.id]
    assert widget.accordion is not None
    assert widget.accordion.titles[0].startswith("mean_age")
    assert "ds@example.org" in widget.accordion.titles[0]
    assert widget.accordion.titles[0].endswith("(PENDING)")

    widget.reviews[0].deny_reason.value = "not now"
    widget.reviews[0].deny_button.click()
    assert fresh_request(node, pending.id).status == sy.RequestStatus.REJECTED
    assert widget.accordion.titles[0].endswith("(REJECTED)")  # updated in place
    assert fresh_request(node, decided.id).status == sy.RequestStatus.APPROVED

    assert isinstance(sy.review(root.requests[0]), RequestReview)
    assert len(sy.review(root.requests.get_all()).reviews) == 2
    with pytest.raises(sy.SyftException, match=r"sy\.review takes"):
        sy.review(42)
