"""The reviewers' side of output checking (issue 13, items 3 and 4), over plain HTTP on a real
Datasite, SQLite and PostgreSQL: release with suppression (the requester gets the table with
its failing cells missing, margins recomputed and secondary suppression; the owners keep the
value as computed), two reviewers (setting ``release_reviewers``: hidden votes, agreement,
conflict, concurrent votes giving one decision) and the requester's justification.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import threading

import numpy as np
import pandas as pd
import pytest
from held_outputs import SCIENTIST, Site

import jupyter_syft as sy
from jupyter_syft import serde
from jupyter_syft.server.http.handlers import ROUTES
from jupyter_syft.wire import routes

OWNER2 = ("owner2@example.org", "pw-owner-2")
OTHER = ("eve@example.org", "pw-eve-123")
# 162 records: groups a, b, c by kinds x, y, z, 20 each, but only 2 of (b, z); and one record
# of group "rare" whose value is the marker: its sum is a cell of one record.
SECRET = 98765.4321
CROSSTAB = (
    "def table(data):\n"
    "    import pandas as pd\n"
    "    return pd.crosstab(data['g'], data['k'], margins=True)\n"
)
SUMS = "def sums(data):\n    return data.groupby('g2')['v'].sum()\n"
SCALAR = "def total(data):\n    return float(data['v'].sum())\n"
ROWS = "def rows(data):\n    return data.head(60)\n"


def _frame() -> pd.DataFrame:
    rows = []
    for g in "abc":
        for k in "xyz":
            n = 2 if (g, k) == ("b", "z") else 20
            rows += [(g, k) for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["g", "k"])
    frame["g2"] = ["common"] * (len(frame) - 1) + ["rare"]
    frame["v"] = [1.0] * (len(frame) - 1) + [SECRET]
    return frame


@pytest.fixture
def site(node, root, scientist) -> Site:
    private = _frame()
    mock = private.assign(v=0.0)
    root.upload_dataset(
        sy.Dataset(name="Kinds", asset_list=[sy.Asset(name="t", data=private, mock=mock)]),
        progress=False,
    )
    site = Site(node.url)
    site.login("owner", "info@openmined.org", "changethis")
    site.login("scientist", *SCIENTIST)
    for (email, password), role, who in ((OWNER2, "DATA_OWNER", "owner2"), (OTHER, None, "other")):
        body = {"email": email, "password": password, "name": who}
        if role:
            body["role"] = role
        site.ok("owner", "post", routes.USERS, body)
        site.login(who, email, password)
    site.guest()
    site.set_release("checked")
    return site


def _events(node, execution_id: str, action: str) -> list[dict]:
    """The output's audit events of ``action``, oldest first."""
    events = [
        e
        for e in node.datasite.services.audit.events(limit=10_000)
        if e["object_id"] == execution_id and e["action"] == action
    ]
    return sorted(events, key=lambda e: e["seq"])


def _held(site: Site, name: str, source: str) -> dict:
    execution = site.run(site.approved(name, source))
    assert execution["release"] == "held", execution["report"]
    return execution


def _owners_report(site: Site, held: dict) -> dict:
    output = site.ok("owner", "get", routes.OUTPUT, execution_id=held["id"])
    return output["report"]  # type: ignore[no-any-return]


# --- suppression ---------------------------------------------------------------------------------
def test_release_with_suppression_end_to_end(site, node):
    held = _held(site, "table", CROSSTAB)
    report = _owners_report(site, held)  # the scientist's says how many cells, not which
    failing = [c for c in report["checks"] if c["outcome"] == "fail"]
    assert [c["cells"] for c in failing] == [[["b", "z"]]], report
    original_bytes = site.ok("owner", "get", routes.EXECUTION_RESULT, execution_id=held["id"])
    original = serde.loads(original_bytes)
    assert original.loc["b", "z"] == 2 and original.loc["All", "All"] == 162
    # before the decision the scientist gets nothing
    refused = site.call("scientist", "get", routes.EXECUTION_RESULT, execution_id=held["id"])
    assert refused.status_code == 403 and refused.json()["error"] == "held"

    decided = site.ok(
        "owner",
        "post",
        routes.OUTPUT_RELEASE,
        {"comment": "Small cell suppressed.", "suppress": True},
        execution_id=held["id"],
    )
    assert decided["state"] == "released" and decided["suppressed"] is True
    assert decided["suppressed_cells"] >= 2

    got_bytes = site.ok("scientist", "get", routes.EXECUTION_RESULT, execution_id=held["id"])
    got = serde.loads(got_bytes)
    inner = got.loc[["a", "b", "c"], ["x", "y", "z"]]
    hidden = inner.isna()
    # the small cell is missing, and so is a second cell in its row and in its column
    assert hidden.loc["b", "z"]
    for line in [*hidden.sum(axis=1), *hidden.sum(axis=0)]:
        assert line != 1, got
    assert int(hidden.to_numpy().sum()) == 4  # the rectangle a/b x x/z
    # margins: the sums of the cells that remain, never including a suppressed one
    for g in "abc":
        assert got.loc[g, "All"] == pytest.approx(np.nansum(inner.loc[g]))
    for k in "xyz":
        assert got.loc["All", k] == pytest.approx(np.nansum(inner[k]))
    assert got.loc["All", "All"] == pytest.approx(np.nansum(inner.to_numpy()))
    assert got.loc["All", "All"] != 162
    # the scientist's run says so; the preview shows the same table
    (run,) = site.ok("scientist", "get", routes.CODE_EXECUTIONS, code_id=held["code_id"])["items"]
    assert "4 cells suppressed" in run["notice"] and run["release"] == "released"
    preview = site.ok("scientist", "get", routes.EXECUTION_PREVIEW, execution_id=held["id"])
    assert preview["kind"] == "dataframe"
    # the owner still reads the original through the output; the result route gives what left
    original_again = site.ok("owner", "get", routes.OUTPUT_ORIGINAL, execution_id=held["id"])
    assert original_again == original_bytes
    assert site.ok("owner", "get", routes.EXECUTION_RESULT, execution_id=held["id"]) == got_bytes
    small = site.ok("owner", "get", routes.OUTPUT_ORIGINAL_PREVIEW, execution_id=held["id"])
    assert small["kind"] == "dataframe" and small["shape"] == [4, 4]
    for who in ("scientist", "other", "guest"):
        for template in (routes.OUTPUT_ORIGINAL, routes.OUTPUT_ORIGINAL_PREVIEW):
            answer = site.call(who, "get", template, execution_id=held["id"])
            assert answer.status_code in (401, 403), (who, template, answer.text)
    # one audit event, with both hashes and the count of cells
    (event,) = _events(node, held["id"], "output.release")
    detail = event["detail"]
    assert detail["suppressed"] is True and detail["suppressed_cells"] == 4
    assert detail["original_sha256"] == hashlib.sha256(original_bytes).hexdigest()
    assert detail["suppressed_sha256"] == hashlib.sha256(got_bytes).hexdigest()
    assert node.datasite.services.audit.verify()
    # retention keeps the original (an owner's record of what was computed)
    node.datasite.retention.collect()
    assert site.ok("owner", "get", routes.OUTPUT_ORIGINAL, execution_id=held["id"])


def test_a_suppressed_value_never_reaches_the_scientist_through_any_route(site):
    held = _held(site, "sums", SUMS)
    report = _owners_report(site, held)
    cells = [c["cells"] for c in report["checks"] if c["outcome"] == "fail"]
    assert cells and all(c == [["rare", "v"]] for c in cells), report
    site.ok("owner", "post", routes.OUTPUT_RELEASE, {"suppress": True}, execution_id=held["id"])
    secrets = (struct.pack("<d", SECRET), repr(SECRET).encode(), b"98765")
    owner = site.ok("owner", "get", routes.OUTPUT_ORIGINAL, execution_id=held["id"])
    assert secrets[0] in owner  # the walk below would see it if it leaked
    got = serde.loads(site.ok("scientist", "get", routes.EXECUTION_RESULT, execution_id=held["id"]))
    assert math.isnan(got["rare"]) and got["common"] == len(_frame()) - 1
    ids = {"execution_id": held["id"], "code_id": held["code_id"], "name": "sums"}
    walked = 0
    for template, endpoint in ROUTES:
        if "get" not in endpoint.contract or not set(routes.parameters(template)) <= set(ids):
            continue
        params = {p: ids[p] for p in routes.parameters(template)}
        for who in ("scientist", "other", "guest"):
            answer = site.call(who, "get", template, **params)
            for secret in secrets:
                assert secret not in answer.content, (who, template)
            walked += 1
    assert walked > 20


def test_what_cannot_be_suppressed_gets_a_409_saying_what_to_do(site):
    scalar = _held(site, "total", SCALAR)  # a lone number: review
    rows = _held(site, "rows", ROWS)  # row-level data: fails as a whole
    for held, words in ((scalar, "not a table"), (rows, "as a whole")):
        answer = site.call(
            "owner", "post", routes.OUTPUT_RELEASE, {"suppress": True}, execution_id=held["id"]
        )
        detail = answer.json()["detail"]
        assert answer.status_code == 409 and words in detail, answer.text
        assert "withhold" in detail
        assert site.ok("owner", "get", routes.OUTPUT, execution_id=held["id"])["state"] == "held"
    bad = site.call(
        "owner", "post", routes.OUTPUT_RELEASE, {"suppress": "yes"}, execution_id=rows["id"]
    )
    assert bad.status_code == 400
    # released as it is, it still works
    plain = site.ok("owner", "post", routes.OUTPUT_RELEASE, {}, execution_id=scalar["id"])
    assert plain["state"] == "released" and plain["suppressed"] is False


# --- two reviewers ---------------------------------------------------------------------------
def _two_reviewers(site: Site) -> None:
    settings = site.ok("owner", "patch", routes.SETTINGS, {"release_reviewers": 2})
    assert settings["release_reviewers"] == 2


def test_release_reviewers_is_an_owner_setting_checked(site):
    for value in (0, 3, "2", True, None):
        answer = site.call("owner", "patch", routes.SETTINGS, {"release_reviewers": value})
        assert answer.status_code == 400, (value, answer.text)
        assert "release_reviewers" in answer.json()["detail"]
    assert "release_reviewers" not in site.ok("scientist", "get", routes.SETTINGS)
    assert site.ok("owner", "get", routes.SETTINGS)["release_reviewers"] == 1
    refused = site.call("scientist", "patch", routes.SETTINGS, {"release_reviewers": 2})
    assert refused.status_code == 403


def test_two_owners_must_agree_and_votes_stay_hidden(site, node):
    _two_reviewers(site)
    held = _held(site, "table", CROSSTAB)
    ids = {"execution_id": held["id"]}
    first = site.ok("owner", "post", routes.OUTPUT_RELEASE, {"comment": "fine"}, **ids)
    assert first["state"] == "held" and first["votes_needed"] == 2 and first["votes_cast"] == 1
    assert first["my_vote"]["decision"] == "release" and first["votes"] == []
    # the same owner again: still one vote (replaced), still held
    again = site.ok("owner", "post", routes.OUTPUT_RELEASE, {"comment": "fine!"}, **ids)
    assert again["state"] == "held" and again["votes_cast"] == 1
    assert again["my_vote"]["note"] == "fine!"
    # the other owner sees that one vote was cast, not what it was
    theirs = site.ok("owner2", "get", routes.OUTPUT, **ids)
    assert theirs["votes_cast"] == 1 and theirs["my_vote"] is None and theirs["votes"] == []
    assert "fine" not in str(theirs)
    listed = site.ok("owner2", "get", routes.OUTPUTS, query={"state": "held"})["items"]
    assert listed[0]["votes"] == [] and listed[0]["votes_cast"] == 1
    # still held for the scientist
    refused = site.call("scientist", "get", routes.EXECUTION_RESULT, **ids)
    assert refused.status_code == 403
    # the second owner agrees (asking for suppression): released, suppressed, both named
    second = site.ok("owner2", "post", routes.OUTPUT_RELEASE, {"suppress": True}, **ids)
    assert second["state"] == "released" and second["suppressed"] is True
    assert {v["reviewer"]["email"] for v in second["votes"]} == {
        "info@openmined.org",
        OWNER2[0],
    }
    got = serde.loads(site.ok("scientist", "get", routes.EXECUTION_RESULT, **ids))
    assert math.isnan(got.loc["b", "z"])
    (event,) = _events(node, held["id"], "output.release")
    assert sorted(event["detail"]["reviewers"]) == sorted(["info@openmined.org", OWNER2[0]])
    assert event["detail"]["suppressed"] is True
    votes = _events(node, held["id"], "output.vote")
    assert len(votes) == 3 and all(len(v["detail"]["result_sha256"]) == 64 for v in votes)
    # the log hides each vote too (owners read it): a hash, opened by the decision's event
    assert all(set(v["detail"]) >= {"vote_sha256"} for v in votes)
    assert not any({"decision", "note", "suppress"} & set(v["detail"]) for v in votes)
    opened = event["detail"]["votes"]
    assert {v["decision"] for v in opened} == {"release"} and len(opened) == 2
    for vote in opened:
        fields = {k: vote[k] for k in vote if k not in ("reviewer", "vote_sha256")}
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        assert hashlib.sha256(text.encode()).hexdigest() == vote["vote_sha256"]
    committed = [v["detail"]["vote_sha256"] for v in votes]
    assert {v["vote_sha256"] for v in opened} == {committed[1], committed[2]}
    # decided: a further vote is a conflict
    late = site.call("owner", "post", routes.OUTPUT_WITHHOLD, {"reason": "no"}, **ids)
    assert late.status_code == 409


def test_disagreement_is_a_conflict_until_a_vote_changes(site, node):
    _two_reviewers(site)
    held = _held(site, "table", CROSSTAB)
    ids = {"execution_id": held["id"]}
    site.ok("owner", "post", routes.OUTPUT_RELEASE, {}, **ids)
    split = site.ok("owner2", "post", routes.OUTPUT_WITHHOLD, {"reason": "b/z is tiny"}, **ids)
    assert split["state"] == "held" and split["conflict"] is True and split["votes_cast"] == 2
    assert {v["decision"] for v in split["votes"]} == {"release", "withhold"}
    seen = site.ok("owner", "get", routes.OUTPUT, **ids)
    assert seen["conflict"] and len(seen["votes"]) == 2
    assert _events(node, held["id"], "output.release") == []
    # the first owner changes their vote: both withhold, with both reasons
    final = site.ok("owner", "post", routes.OUTPUT_WITHHOLD, {"reason": "agreed"}, **ids)
    assert final["state"] == "withheld" and final["conflict"] is False
    assert "b/z is tiny" in final["decision_note"] and "agreed" in final["decision_note"]
    refused = site.call("scientist", "get", routes.EXECUTION_RESULT, **ids)
    assert refused.status_code == 403 and "b/z is tiny" in refused.json()["detail"]
    (event,) = _events(node, held["id"], "output.withhold")
    assert len(event["detail"]["reviewers"]) == 2


def test_nobody_votes_on_their_own_request(site):
    _two_reviewers(site)
    own = site.run(site.approved("table", CROSSTAB, who="owner"), who="owner")
    refused = site.call("owner", "post", routes.OUTPUT_RELEASE, {}, execution_id=own["id"])
    assert refused.status_code == 403 and "your own request" in refused.json()["detail"]
    assert site.ok("owner2", "get", routes.OUTPUT, execution_id=own["id"])["votes_cast"] == 0


@pytest.mark.parametrize("rounds", [3])
def test_concurrent_agreeing_votes_give_one_decision(site, node, rounds):
    _two_reviewers(site)
    code_id = site.approved("table", CROSSTAB)
    for round_ in range(rounds):
        held = site.run(code_id)
        ids = {"execution_id": held["id"]}
        suppress = round_ % 2 == 1
        barrier = threading.Barrier(2)
        answers: list = [None, None]

        def vote(i: int, who: str, suppress: bool = suppress, ids: dict = ids) -> None:
            barrier.wait()
            body = {"comment": who, "suppress": suppress}
            answers[i] = site.call(who, "post", routes.OUTPUT_RELEASE, body, **ids)

        threads = [
            threading.Thread(target=vote, args=(i, w)) for i, w in enumerate(["owner", "owner2"])
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        final = site.ok("owner", "get", routes.OUTPUT, **ids)
        assert final["state"] == "released" and final["votes_cast"] == 2
        assert final["suppressed"] is suppress
        assert len(_events(node, held["id"], "output.release")) == 1
        assert len(_events(node, held["id"], "output.vote")) == 2
    assert node.datasite.services.audit.verify()


def test_concurrent_disagreeing_votes_decide_nothing(site, node):
    _two_reviewers(site)
    held = _held(site, "table", CROSSTAB)
    ids = {"execution_id": held["id"]}
    barrier = threading.Barrier(2)
    answers: list = [None, None]
    calls = [
        ("owner", routes.OUTPUT_RELEASE, {}),
        ("owner2", routes.OUTPUT_WITHHOLD, {"reason": "no"}),
    ]

    def vote(i: int) -> None:
        who, template, body = calls[i]
        barrier.wait()
        answers[i] = site.call(who, "post", template, body, **ids)

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a.status_code for a in answers] == [200, 200]
    final = site.ok("owner", "get", routes.OUTPUT, **ids)
    assert final["state"] == "held" and final["conflict"] is True
    assert _events(node, held["id"], "output.release") == []
    assert _events(node, held["id"], "output.withhold") == []


# --- justification -------------------------------------------------------------------------------
def test_the_requester_justifies_a_held_output(site, node):
    held = _held(site, "table", CROSSTAB)
    ids = {"execution_id": held["id"]}
    text = "<b>Needed</b> for the paper's table 2; b/z is a known group."
    answer = site.ok("scientist", "post", routes.OUTPUT_JUSTIFICATION, {"text": text}, **ids)
    assert answer["justification"] == text and answer["justified_at"]
    output = site.ok("owner", "get", routes.OUTPUT, **ids)
    assert output["justification"] == text and output["justified_at"]
    later = site.ok("scientist", "post", routes.OUTPUT_JUSTIFICATION, {"text": "v2"}, **ids)
    assert later["justification"] == "v2"
    assert site.ok("owner", "get", routes.OUTPUT, **ids)["justification"] == "v2"
    history = _events(node, held["id"], "output.justify")
    assert [e["detail"]["justification"] for e in history] == [text, "v2"]
    # owners do not justify; others do not even see the output
    owner = site.call("owner", "post", routes.OUTPUT_JUSTIFICATION, {"text": "x"}, **ids)
    assert owner.status_code == 403
    for who in ("other", "guest"):
        answer = site.call(who, "post", routes.OUTPUT_JUSTIFICATION, {"text": "x"}, **ids)
        assert answer.status_code == 404, (who, answer.text)
    assert site.call(
        None, "post", routes.OUTPUT_JUSTIFICATION, {"text": "x"}, **ids
    ).status_code in (
        401,
        403,
    )
    for body, words in (
        ({"text": ""}, "Write why"),
        ({"text": "   "}, "Write why"),
        ({"text": "x" * 4001}, "4000 at most"),
        ({"text": 5}, "text"),
        ({}, "text"),
    ):
        answer = site.call("scientist", "post", routes.OUTPUT_JUSTIFICATION, body, **ids)
        assert answer.status_code == 400 and words in answer.json()["detail"], answer.text
        assert "x" * 200 not in answer.text
    assert site.ok("owner", "get", routes.OUTPUT, **ids)["justification"] == "v2"
    # once decided, there is nothing left to justify
    site.ok("owner", "post", routes.OUTPUT_WITHHOLD, {"reason": "no"}, **ids)
    late = site.call("scientist", "post", routes.OUTPUT_JUSTIFICATION, {"text": "please"}, **ids)
    assert late.status_code == 409 and "withheld" in late.json()["detail"]
