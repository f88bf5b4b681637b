"""The reviewers' workflow from the Python client (issue 13): ``output.release(suppress=True)``
and ``output.original()``, two reviewers' votes (``release_reviewers``), and the scientist's
``result.justify`` / ``job.justify``, on a real Datasite."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import jupyter_syft as sy
from jupyter_syft.client.results import OutputHeld

EVIL = '<script>alert("x")</script>'


def _assert_escaped(html: str) -> None:
    assert "<script>" not in html, html
    assert "&lt;script&gt;" in html, html


@pytest.fixture
def asset(root, scientist):
    rows = [(g, k) for g in "abc" for k in "xyz" for _ in range(2 if (g, k) == ("b", "z") else 20)]
    private = pd.DataFrame(rows, columns=["g", "k"])
    mock = private.sample(frac=1.0, random_state=1).reset_index(drop=True)
    dataset = sy.Dataset(name="Kinds", summary="Groups and kinds", description="Synthetic.")
    dataset.add_asset(sy.Asset(name="kinds", data=private, mock=mock))
    root.upload_dataset(dataset, progress=False)
    root.settings.update(release="checked")
    return scientist.datasets["Kinds"].assets[0]


def _approved_table(root, scientist, asset):
    @sy.syft_function_single_use(data=asset)
    def kinds_table(data):
        import pandas as pd

        return pd.crosstab(data["g"], data["k"], margins=True)

    request = scientist.code.request_code_execution(kinds_table, reason="a table")
    root.requests.get_by_usercode_id(request.code.id)[0].approve()


def test_suppressed_release_and_justification_from_the_client(root, scientist, asset):
    _approved_table(root, scientist, asset)
    result = scientist.code.kinds_table(data=asset)
    assert result.held
    with pytest.raises(OutputHeld) as info:
        result.get()
    assert info.value.execution_id == result.id and "result.justify" in str(info.value)
    reason = f"Needed for table 2 {EVIL}"
    assert isinstance(result.justify(reason), sy.SyftSuccess)
    with pytest.raises(sy.SyftException) as empty:
        result.justify("")
    assert empty.value.status == 400

    output = root.outputs[result.id]
    assert output.justification == reason and output.justified_at
    assert "justified" in repr(root.outputs)
    assert "Justification" in repr(output) and reason in repr(output)
    _assert_escaped(output._repr_html_())
    with pytest.raises(sy.SyftException) as owner_justifies:
        root.session.api.justify_output(result.id, "mine")
    assert owner_justifies.value.status == 403

    done = output.release(comment="small cell suppressed", suppress=True)
    assert isinstance(done, sy.SyftSuccess) and "4 cell(s) suppressed" in str(done)
    assert output.suppressed and output.suppressed_cells == 4
    got = result.get()
    assert math.isnan(got.loc["b", "z"]) and got.loc["All", "All"] != 162
    original = output.original()
    assert original.loc["b", "z"] == 2 and original.loc["All", "All"] == 162
    assert math.isnan(output.get().loc["b", "z"])  # what was released
    assert "Suppressed cells: 4" in repr(output)
    assert "4 cell(s) suppressed" in repr(root.outputs.released)


def test_two_reviewers_vote_from_the_client(root, scientist, asset, node):
    root.settings.update(release_reviewers=2)
    root.users.create(
        sy.UserCreate(
            email="owner2@example.org",
            name="Olga",
            password="pw-owner-2",
            role=sy.ServiceRole.DATA_OWNER,
        )
    )
    owner2 = sy.login(url=node.url, email="owner2@example.org", password="pw-owner-2")
    _approved_table(root, scientist, asset)
    job = scientist.code.kinds_table(data=asset, blocking=False)
    pointer = job.wait(timeout=120)
    assert pointer.held
    assert isinstance(job.justify("please"), sy.SyftSuccess)

    first = root.outputs[pointer.id].release(comment=f"ok {EVIL}")
    assert "Vote recorded (1 of 2)" in str(first)
    assert "1/2 votes" in repr(owner2.outputs)
    theirs = owner2.outputs[pointer.id]
    assert theirs.votes_cast == 1 and theirs.my_vote == "" and theirs.votes == []
    assert EVIL not in repr(theirs)  # the vote's note stays hidden
    split = theirs.withhold(reason="no")
    assert "disagree" in str(split) and theirs.conflict and len(theirs.votes) == 2
    _assert_escaped(theirs._repr_html_())
    final = theirs.release(comment="fine then")
    assert "released" in str(final) and theirs.state == "released"
    assert pointer.get().shape == (4, 4)
    with pytest.raises(sy.SyftException):
        job.justify("too late")
