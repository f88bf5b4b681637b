"""Release modes (issue 13): every result of a run on private data, and of a mock run, is checked
for disclosure inside the sandboxed worker, and the Datasite's ``release`` setting decides
whether it goes to the scientist at once (on_approval), only if every check passes (checked),
or only after an owner's review (manual). End to end on a real Datasite, over HTTP.
"""

from __future__ import annotations

import pytest
from held_outputs import COUNTS, ROWS, SCIENTIST, Site, rules_of

from jupyter_syft import serde
from jupyter_syft.hosts import bootstrap
from jupyter_syft.server.datasite import DatasiteConfig
from jupyter_syft.wire import routes


@pytest.fixture
def site(node, root, scientist, uploaded) -> Site:
    site = Site(node.url)
    site.login("owner", "info@openmined.org", "changethis")
    site.login("scientist", *SCIENTIST)
    site.guest()
    return site


def _result(site: Site, who: str, execution_id: str):
    return site.call(who, "get", routes.EXECUTION_RESULT, execution_id=execution_id)


def test_on_approval_releases_at_once_with_the_report(site, uploaded):
    private, _mock = uploaded
    assert site.ok("scientist", "get", routes.SETTINGS)["release"] == "on_approval"  # launch's
    execution = site.run(site.approved("rows", ROWS))
    # released as before, but the checks ran next to the data and their report came along
    assert execution["release"] == "released" and execution["release_note"] == ""
    report = execution["report"]
    assert report["outcome"] == "fail" and "row_level" in rules_of(report, "fail")
    assert report["rules"] == "acro" and len(report["rules_digest"]) == 64
    value = serde.loads(
        site.ok("scientist", "get", routes.EXECUTION_RESULT, execution_id=execution["id"])
    )
    assert value["rows"][0]["age"] == private["age"].iloc[0]
    # the report carries no value of the data
    assert str(private["age"].iloc[0] * 1000 + 7) not in str(report)


def test_checked_releases_a_passing_table_and_holds_row_level_output(site, uploaded):
    private, _mock = uploaded
    site.set_release("checked")
    counts = site.run(site.approved("counts", COUNTS))
    assert counts["release"] == "released" and counts["report"]["outcome"] == "pass"
    table = serde.loads(
        site.ok("scientist", "get", routes.EXECUTION_RESULT, execution_id=counts["id"])
    )
    assert int(table.sum()) == len(private)

    code_id = site.approved("rows", ROWS)
    held = site.run(code_id)
    assert held["release"] == "held" and held["has_result"]
    assert held["notice"].startswith("This result is held for output review")
    assert "row_level" in rules_of(held["report"], "fail")
    # the value never reaches the scientist: not the result, not its preview
    for template in (routes.EXECUTION_RESULT, routes.EXECUTION_PREVIEW):
        refused = site.call("scientist", "get", template, execution_id=held["id"])
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "held"
        assert "held for output review" in refused.json()["detail"]
    # the run's JSON says so wherever the scientist looks, report included
    listed = site.ok("scientist", "get", routes.CODE_EXECUTIONS, code_id=code_id)["items"]
    assert [(e["release"], e["report"]["outcome"]) for e in listed] == [("held", "fail")]
    assert "stdout" not in listed[0]
    job = site.run_as_job(code_id)
    assert job["execution"]["release"] == "held"
    assert _result(site, "scientist", job["execution"]["id"]).status_code == 403
    # owners may read the value they are to review
    value = serde.loads(site.ok("owner", "get", routes.EXECUTION_RESULT, execution_id=held["id"]))
    assert len(value["rows"]) == len(private)


def test_checked_holds_what_no_rule_can_vouch_for(site):
    """A lone number is "review", never a silent pass: held in checked mode."""
    site.set_release("checked")
    source = "def total(data):\n    return int(data['age'].sum())\n"
    execution = site.run(site.approved("total", source))
    assert execution["report"]["outcome"] == "review"
    assert execution["release"] == "held"


TAMPER = """
def tamper(data):
    import jupyter_syft.disclosure as disclosure
    from jupyter_syft.disclosure import checks, report, track
    from jupyter_syft.server.execution import worker
    ok = {"outcome": "pass", "rules": "acro", "rules_digest": "0" * 64, "checks": []}
    fake = lambda *args, **kwargs: ok
    disclosure.check_result = checks.check_result = report.build_report = fake
    checks._row_level = lambda *args, **kwargs: []
    track.check_claim = track.check_tracked = lambda *args, **kwargs: []
    worker._Checker.report = lambda self, *args, **kwargs: ok
    return {'rows': data.head(50).to_dict('records')}
"""


def test_checked_holds_row_level_output_of_code_that_patches_the_checks(site):
    """The approved code replaces the checks in its own process: they run in another one."""
    site.set_release("checked")
    held = site.run(site.approved("tamper", TAMPER))
    assert held["release"] == "held", held
    assert held["report"]["outcome"] == "fail" and "row_level" in rules_of(held["report"], "fail")
    refused = site.call("scientist", "get", routes.EXECUTION_RESULT, execution_id=held["id"])
    assert refused.status_code == 403


def test_the_rule_set_setting_reaches_the_worker(site):
    """The counts pass ACRO's threshold of 10 but not a custom one of 40: held."""
    site.set_release("checked", rules={"preset": "acro", "safe_threshold": 40})
    execution = site.run(site.approved("counts", COUNTS))
    assert execution["report"]["rules"] == "custom"
    assert execution["report"]["outcome"] == "fail" and execution["release"] == "held"
    site.set_release("checked", rules="acro")
    again = site.run(site.approved("counts2", COUNTS.replace("def counts(", "def counts2(")))
    assert again["report"]["outcome"] == "pass" and again["release"] == "released"
    assert again["report"]["rules_digest"] != execution["report"]["rules_digest"]


def test_manual_holds_every_private_result(site):
    site.set_release("manual")
    execution = site.run(site.approved("counts", COUNTS))
    assert execution["report"]["outcome"] == "pass"  # passing, and held all the same
    assert execution["release"] == "held"
    assert _result(site, "scientist", execution["id"]).status_code == 403


def test_mock_runs_show_the_report_and_are_never_held(site, scientist):
    site.set_release("manual")
    me = site.ok("scientist", "get", routes.ME)
    site.ok("owner", "patch", routes.USER, {"mock_execution_permission": True}, user_id=me["id"])
    asset = site.asset()
    code = site.ok(
        "scientist",
        "post",
        routes.CODE,
        {
            "name": "rows",
            "raw_code": ROWS,
            "input_policy": {
                "type": "ExactMatch",
                "inputs": {"data": {"kind": "asset", "id": asset["id"]}},
            },
        },
    )
    for template in (routes.CODE_RUN, routes.CODE_RUN_ON_MOCKS):
        body = site.inputs() if template == routes.CODE_RUN else None
        execution = site.ok("scientist", "post", template, body, code_id=code["id"])
        assert not execution["on_private_data"]
        assert execution["release"] == "released"
        # the same report the private run would get, before anything is submitted
        assert "row_level" in rules_of(execution["report"], "fail")
        assert _result(site, "scientist", execution["id"]).status_code == 200


def test_release_settings_are_checked_and_release_is_public(site):
    for change, words in (
        ({"release": "sometimes"}, "release must be 'on_approval', 'checked' or 'manual'"),
        ({"disclosure_rules": "strict"}, "unknown preset"),
        ({"disclosure_rules": {"preset": "acro", "colour": 1}}, "unknown rule"),
        ({"disclosure_rules": {"safe_threshold": "ten"}}, "disclosure_rules"),
        ({"disclosure_rules": ["acro"]}, "disclosure_rules"),
    ):
        answer = site.call("owner", "patch", routes.SETTINGS, change)
        assert answer.status_code == 400, (change, answer.text)
        assert words in answer.json()["detail"], answer.json()["detail"]
    answer = site.call("scientist", "patch", routes.SETTINGS, {"release": "on_approval"})
    assert answer.status_code == 403
    site.set_release("manual", rules={"preset": "opensafely"})
    # scientists know before they run how results leave; the rule set is the owners' setting
    theirs = site.ok("scientist", "get", routes.SETTINGS)
    assert theirs["release"] == "manual" and "disclosure_rules" not in theirs
    assert site.ok(None, "get", routes.METADATA)["release"] == "manual"
    owners = site.ok("owner", "get", routes.SETTINGS)
    assert owners["disclosure_rules"] == {"preset": "opensafely"}


# --- the hosts' defaults -----------------------------------------------------------------------
def _opened(tmp_path, name, **kw):
    config = DatasiteConfig(name=name, data_dir=tmp_path / name, root_password="pw-root")
    datasite = bootstrap.open_datasite(config, **kw)
    try:
        return datasite.services.settings.value("release")
    finally:
        datasite.close()


def test_served_datasites_check_and_orchestra_releases_on_approval(tmp_path, node, monkeypatch):
    monkeypatch.delenv("JUPYTER_SYFT_RELEASE", raising=False)
    # jupyter-syft serve and the JupyterLab-hosted Datasite (and so Binder) take the default
    assert _opened(tmp_path, "served") == "checked"
    assert node.datasite.services.settings.value("release") == "on_approval"  # orchestra
    # an owner's choice outlives a restart; the variable sets it at every start
    config = DatasiteConfig(name="kept", data_dir=tmp_path / "kept", root_password="pw-root")
    datasite = bootstrap.open_datasite(config)
    datasite.services.settings.force(release="manual")
    datasite.close()
    assert _opened(tmp_path, "kept") == "manual"
    monkeypatch.setenv("JUPYTER_SYFT_RELEASE", "on_approval")
    assert _opened(tmp_path, "kept") == "on_approval"
    assert _opened(tmp_path, "fresh", release=bootstrap.RELEASE_ORCHESTRA) == "on_approval"
    monkeypatch.setenv("JUPYTER_SYFT_RELEASE", "sometimes")
    with pytest.raises(Exception, match="JUPYTER_SYFT_RELEASE='sometimes' is not a release mode"):
        _opened(tmp_path, "bad")


def test_deposited_results_are_released_in_any_mode(site, root):
    site.set_release("manual")
    asset = site.asset()
    code = {
        "name": "total",
        "raw_code": "def total(data):\n    return 1\n",
        "input_policy": {
            "type": "ExactMatch",
            "inputs": {"data": {"kind": "asset", "id": asset["id"]}},
        },
    }
    request = site.ok("scientist", "post", routes.REQUESTS, {"code": code})
    root.requests[0].deposit_result(12345)
    (run,) = site.ok("scientist", "get", routes.CODE_EXECUTIONS, code_id=request["code"]["id"])[
        "items"
    ]
    assert run["deposited"] and run["release"] == "released" and run["report"] is None
    value = site.ok("scientist", "get", routes.EXECUTION_RESULT, execution_id=run["id"])
    assert serde.loads(value) == 12345
    assert site.ok("owner", "get", routes.OUTPUTS)["total"] == 0  # not the owners' to review


# --- the worker's side, through the runner --------------------------------------------------
def _runner_run(tmp_path, source, rules, value=None):
    import pandas as pd

    from jupyter_syft.disclosure import RuleSet
    from jupyter_syft.server.execution import CodeRunner, RunSpec

    frame = pd.DataFrame({"age": range(40), "group": ["a", "b"] * 20}) if value is None else value
    path = tmp_path / "data.jsyf"
    path.write_bytes(serde.dumps(frame))
    with CodeRunner(tmp_path / "work", warm_workers=0, reserved_workers=0) as runner:
        rules_json = RuleSet.from_json(rules).to_json() if isinstance(rules, str) else rules
        spec = RunSpec(source=source, func_name="f", inputs={"data": path}, rules=rules_json)
        return runner.run(spec)


def test_the_worker_checks_the_result_next_to_the_data(tmp_path):
    counts = _runner_run(
        tmp_path, "def f(data):\n    return data['group'].value_counts()\n", "acro"
    )
    assert counts.ok and counts.report["outcome"] == "pass"
    rows = _runner_run(tmp_path, "def f(data):\n    return data.head(40)\n", "acro")
    assert rows.ok and "row_level" in rules_of(rows.report, "fail")
    unchecked = _runner_run(tmp_path, "def f(data):\n    return data.head(40)\n", None)
    assert unchecked.ok and unchecked.report is None  # nested runs ask for no check
    # a checker that cannot run makes a "review" report with the reason, never a pass
    broken = _runner_run(tmp_path, "def f(data):\n    return 1\n", {"safe_threshold": "ten"})
    assert broken.ok and broken.report["outcome"] == "review"
    assert "could not start" in broken.report["checks"][0]["reason"]


def test_a_report_from_the_worker_is_checked_before_it_is_stored():
    """The report comes out of the process that ran the user's code: it is bounded, and it
    never comes out better than its worst check or without any check."""
    from jupyter_syft.disclosure import RuleSet
    from jupyter_syft.server.services.code.runs import clean_report

    rules = RuleSet.from_json("acro")

    def report(outcome, checks, digest=None):
        return {
            "outcome": outcome,
            "rules": "acro",
            "rules_digest": rules.digest() if digest is None else digest,
            "checks": checks,
        }

    fail = {"rule": "row_level", "outcome": "fail", "reason": "rows", "cells": [["1", "age"]]}
    ok = {"rule": "min_count", "outcome": "pass", "reason": "fine", "cells": []}
    assert clean_report(report("pass", [ok]), rules)["outcome"] == "pass"
    assert clean_report(report("pass", [ok, fail]), rules)["outcome"] == "fail"
    assert clean_report(report("pass", []), rules)["outcome"] == "review"
    for bad in (None, "pass", report("great", [ok]), report("pass", [{"rule": 1}]), {}):
        cleaned = clean_report(bad, rules)
        assert cleaned["outcome"] == "review" and cleaned["rules_digest"] == rules.digest()
    assert clean_report(report("pass", [ok], digest="0" * 64), rules)["outcome"] == "review"
    huge = dict(ok, reason="r" * 10_000, cells=[["x" * 500, "y"]] * 1000)
    cleaned = clean_report(report("pass", [huge] * 500), rules)
    assert cleaned["outcome"] == "review"  # checks were cut: nothing vouches for the rest
    assert len(cleaned["checks"]) == 50 and len(cleaned["checks"][0]["cells"]) == 50
    assert (
        len(cleaned["checks"][0]["reason"]) <= 300
        and len(cleaned["checks"][0]["cells"][0][0]) <= 40
    )
