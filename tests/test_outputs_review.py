"""Output review (issue 13): owners list held results, read each one's report and value, and
release or withhold it; the scientist then gets the value, or reads the reason. A decision is
taken once, whoever else decides at the same moment (SQLite and PostgreSQL), with one audit
event carrying the hashes of the code, the inputs, the result and the rule set.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from held_outputs import COUNTS, ROWS, SCIENTIST, Site
from sqlmodel import select

from jupyter_syft import serde
from jupyter_syft.server import models
from jupyter_syft.wire import routes

SECOND_OWNER = ("owner2@example.org", "pw-owner-2")


@pytest.fixture
def site(node, root, scientist, uploaded) -> Site:
    site = Site(node.url)
    site.login("owner", "info@openmined.org", "changethis")
    site.login("scientist", *SCIENTIST)
    site.guest()
    email, password = SECOND_OWNER
    site.ok(
        "owner",
        "post",
        routes.USERS,
        {"email": email, "password": password, "name": "Olga Owner", "role": "DATA_OWNER"},
    )
    site.login("owner2", email, password)
    site.set_release("checked")
    return site


def _decisions(node, execution_id):
    return [
        e
        for e in node.datasite.services.audit.events(limit=10_000)
        if e["object_id"] == execution_id and e["action"] in ("output.release", "output.withhold")
    ]


def test_owners_list_and_release_a_held_output(site, node, uploaded):
    private, _mock = uploaded
    released = site.run(site.approved("counts", COUNTS))
    held = site.run(site.approved("rows", ROWS))
    assert (released["release"], held["release"]) == ("released", "held")
    # the owners' list: by state, paged, with the report and who asked
    everything = site.ok("owner", "get", routes.OUTPUTS)
    assert {o["execution_id"] for o in everything["items"]} == {released["id"], held["id"]}
    waiting = site.ok("owner", "get", routes.OUTPUTS, query={"state": "held"})
    assert waiting["total"] == 1
    (output,) = waiting["items"]
    assert output["execution_id"] == held["id"] and output["state"] == "held"
    assert output["service_func_name"] == "rows" and output["user"]["email"] == SCIENTIST[0]
    assert output["report"]["outcome"] == "fail" and output["request_id"]
    assert output["decided_by"] is None and output["decision_note"] == ""
    page = site.ok("owner", "get", routes.OUTPUTS, query={"limit": "1"})
    assert page["total"] == 2 and len(page["items"]) == 1 and page["next_cursor"]
    # the owner reads the value under review, then releases it with a comment
    value = site.ok("owner", "get", routes.EXECUTION_RESULT, execution_id=held["id"])
    assert len(serde.loads(value)["rows"]) == len(private)
    decided = site.ok(
        "owner",
        "post",
        routes.OUTPUT_RELEASE,
        {"comment": "Synthetic rows: fine."},
        execution_id=held["id"],
    )
    assert decided["state"] == "released" and decided["decided_by"]["name"]
    assert decided["decision_note"] == "Synthetic rows: fine." and decided["decided_at"]
    # the scientist now gets it, and reads the comment on the run
    got = site.ok("scientist", "get", routes.EXECUTION_RESULT, execution_id=held["id"])
    assert got == value
    (run,) = site.ok("scientist", "get", routes.CODE_EXECUTIONS, code_id=held["code_id"])["items"]
    assert run["release"] == "released" and run["release_note"] == "Synthetic rows: fine."
    assert site.ok("owner", "get", routes.OUTPUTS, query={"state": "held"})["total"] == 0
    # one audit event for the report and one for the release, each with the hashes
    (event,) = _decisions(node, held["id"])
    assert event["action"] == "output.release" and event["actor"] == "info@openmined.org"
    detail = event["detail"]
    assert detail["result_sha256"] == hashlib.sha256(value).hexdigest()
    assert detail["rules_digest"] == held["report"]["rules_digest"]
    assert len(detail["code_sha256"]) == 64 and len(detail["inputs_sha256"]["data"]) == 64
    reports = [
        e
        for e in node.datasite.services.audit.events(limit=10_000)
        if e["action"] == "output.report" and e["object_id"] == held["id"]
    ]
    assert [r["detail"]["outcome"] for r in reports] == ["fail"]
    assert reports[0]["detail"]["release"] == "held"
    assert node.datasite.services.audit.verify()


def test_a_withheld_output_tells_the_scientist_why(site, node):
    held = site.run(site.approved("rows", ROWS))
    reason = "Row-level data: return the counts per group instead."
    decided = site.ok(
        "owner", "post", routes.OUTPUT_WITHHOLD, {"reason": reason}, execution_id=held["id"]
    )
    assert decided["state"] == "withheld" and decided["decision_note"] == reason
    for template in (routes.EXECUTION_RESULT, routes.EXECUTION_PREVIEW):
        refused = site.call("scientist", "get", template, execution_id=held["id"])
        assert refused.status_code == 403
        assert refused.json()["error"] == "withheld" and reason in refused.json()["detail"]
    (run,) = site.ok("scientist", "get", routes.CODE_EXECUTIONS, code_id=held["code_id"])["items"]
    assert run["release"] == "withheld" and run["release_note"] == reason
    assert reason in run["notice"]
    # decided once: releasing it afterwards is a conflict, saying what happened
    again = site.call("owner2", "post", routes.OUTPUT_RELEASE, {}, execution_id=held["id"])
    assert again.status_code == 409 and "already withheld" in again.json()["detail"]
    assert len(_decisions(node, held["id"])) == 1


def test_only_other_owners_decide(site, node):
    held = site.run(site.approved("rows", ROWS))
    ids = {"execution_id": held["id"]}
    for who in ("scientist", "guest"):
        for verb, template, body in (
            ("get", routes.OUTPUTS, None),
            ("get", routes.OUTPUT, None),
            ("post", routes.OUTPUT_RELEASE, {}),
            ("post", routes.OUTPUT_WITHHOLD, {"reason": "x"}),
        ):
            answer = site.call(
                who, verb, template, body, **({} if template == routes.OUTPUTS else ids)
            )
            assert answer.status_code == 403, (who, template, answer.text)
    assert site.call(None, "get", routes.OUTPUTS).status_code in (401, 403)
    # an owner's own request is reviewed by another owner
    own = site.run(
        site.approved("own_rows", ROWS.replace("def rows(", "def own_rows("), "owner"), "owner"
    )
    assert own["release"] == "held"
    refused = site.call("owner", "post", routes.OUTPUT_RELEASE, {}, execution_id=own["id"])
    assert refused.status_code == 403 and "your own request" in refused.json()["detail"]
    assert (
        site.ok("owner2", "post", routes.OUTPUT_RELEASE, {}, execution_id=own["id"])["state"]
        == "released"
    )
    assert _decisions(node, held["id"]) == []


def test_bad_decisions_get_a_400_or_404_with_a_message(site):
    held = site.run(site.approved("rows", ROWS))
    released = site.run(site.approved("counts", COUNTS))
    ids = {"execution_id": held["id"]}
    for body, words in (
        ({}, "reason is required"),
        ({"reason": "   "}, "Say why you withhold it"),
        ({"reason": "x" * 5000}, "The reason"),
        ({"reason": 5}, "reason"),
    ):
        answer = site.call("owner", "post", routes.OUTPUT_WITHHOLD, body, **ids)
        assert answer.status_code == 400 and words in answer.json()["detail"], answer.text
        assert "x" * 200 not in answer.text
    answer = site.call("owner", "post", routes.OUTPUT_RELEASE, {"comment": "y" * 5000}, **ids)
    assert answer.status_code == 400 and "y" * 200 not in answer.text
    answer = site.call("owner", "get", routes.OUTPUTS, query={"state": "lost"})
    assert answer.status_code == 400 and "held, released, withheld" in answer.json()["detail"]
    missing = site.call("owner", "get", routes.OUTPUT, execution_id="0" * 32)
    assert missing.status_code == 404
    not_held = site.call("owner", "post", routes.OUTPUT_RELEASE, {}, execution_id=released["id"])
    assert not_held.status_code == 409 and "not held" in not_held.json()["detail"]
    # the held one is still held after all that
    assert site.ok("owner", "get", routes.OUTPUT, **ids)["state"] == "held"


def test_a_comment_is_stored_as_text_and_never_as_markup(site):
    held = site.run(site.approved("rows", ROWS))
    comment = "<script>alert(1)</script> fine"
    decided = site.ok(
        "owner", "post", routes.OUTPUT_RELEASE, {"comment": comment}, execution_id=held["id"]
    )
    assert decided["decision_note"] == comment  # JSON text; every view escapes it


@pytest.mark.parametrize("rounds", [4])
def test_racing_decisions_give_one_outcome_and_one_audit_event(site, node, rounds):
    """Two owners at once (release against withhold, and release against release) on the same
    held output: exactly one wins, the other gets a 409, one audit event."""
    code_id = site.approved("rows", ROWS)
    for round_ in range(rounds):
        held = site.run(code_id)
        assert held["release"] == "held"
        ids = {"execution_id": held["id"]}
        second = (
            (routes.OUTPUT_WITHHOLD, {"reason": "too detailed"})
            if round_ % 2 == 0
            else (routes.OUTPUT_RELEASE, {"comment": "me too"})
        )
        calls = [("owner", routes.OUTPUT_RELEASE, {"comment": "ok"}), ("owner2", *second)]
        barrier = threading.Barrier(len(calls))
        answers: list = [None] * len(calls)

        def decide(i: int, who: str, template: str, body: dict) -> None:
            barrier.wait()
            answers[i] = site.call(who, "post", template, body, **ids)

        threads = [threading.Thread(target=decide, args=(i, *call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 409], [a.text for a in answers]
        winner = next(a for a in answers if a.status_code == 200).json()
        loser = next(a for a in answers if a.status_code == 409).json()
        assert "already" in loser["detail"]
        final = site.ok("owner", "get", routes.OUTPUT, **ids)
        assert (
            final["state"] == winner["state"] and final["decision_note"] == winner["decision_note"]
        )
        (event,) = _decisions(node, held["id"])
        assert (
            event["action"]
            == f"output.{'release' if winner['state'] == 'released' else 'withhold'}"
        )
        assert event["detail"]["note"] == winner["decision_note"]
    assert node.datasite.services.audit.verify()


def test_run_retention_never_prunes_a_held_output(site, node):
    code_id = site.approved("rows", ROWS)
    older, latest = site.run(code_id), site.run(code_id)
    assert older["release"] == latest["release"] == "held"
    store = node.datasite.store
    with store.session() as session:
        for execution in session.exec(select(models.Execution)).all():
            execution.created_at = models.utcnow() - timedelta(days=400)
            session.add(execution)
        session.commit()
    site.ok("owner", "patch", routes.SETTINGS, {"retention_days_runs": 30})
    node.datasite.retention.collect()
    # the older run is not its function's latest, yet it is kept: it still awaits a decision
    held = site.ok("owner", "get", routes.OUTPUTS, query={"state": "held"})
    assert {o["execution_id"] for o in held["items"]} == {older["id"], latest["id"]}
    # once decided, it is an ordinary old run again
    site.ok("owner", "post", routes.OUTPUT_WITHHOLD, {"reason": "rows"}, execution_id=older["id"])
    node.datasite.retention.collect()
    with store.session() as session:
        assert session.get(models.Execution, older["id"]) is None
        assert session.get(models.Execution, latest["id"]) is not None
