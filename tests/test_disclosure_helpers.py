"""The checked analyses on ``datasite`` (issue 13): crosstab, pivot_table, histogram, ols, logit
and survival return the usual output and record the exact counts behind it, so the disclosure
checks judge each cell with its real records. Outcomes are compared with ACRO's own on the same
data where ACRO has the check; the end-to-end test runs them in a real sandboxed worker.
"""

from __future__ import annotations

import logging
import sys

import numpy as np
import pandas as pd
import pytest

from jupyter_syft.disclosure import RuleSet, check_result, track
from jupyter_syft.disclosure.helpers import (
    AnalysisHelpers,
    MissingAnalysisPackage,
    exact_checks,
    survival_steps,
)

ACRO_RULES = RuleSet()


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 80
    frame = pd.DataFrame(
        {
            "ward": rng.choice(["north", "south", "east"], n, p=[0.46, 0.46, 0.08]),
            "sex": rng.choice(["f", "m"], n),
            "income": rng.gamma(2.0, 10.0, n),
            "x": rng.normal(size=n),
            "days": rng.integers(1, 30, n),
            "died": rng.integers(0, 2, n),
        }
    )
    frame["y"] = 2 * frame["x"] + rng.normal(size=n)
    return frame


@pytest.fixture
def datasite() -> AnalysisHelpers:
    return AnalysisHelpers()


@pytest.fixture
def acro_session(tmp_path, monkeypatch):
    acro = pytest.importorskip("acro")
    monkeypatch.chdir(tmp_path)  # ACRO may write its outputs folder here
    logging.getLogger("acro").setLevel(logging.WARNING)
    return acro.ACRO(suppress=False)


def report(value, data, rules=ACRO_RULES):
    return check_result(value, {"data": data}, rules)


def failing(rep, rule):
    return [c for c in rep["checks"] if c["rule"] == rule and c["outcome"] == "fail"]


def acro_status(session) -> str:
    last = list(session.results.results.values())[-1]
    return str(last.status)


# ---- tables ---------------------------------------------------------------------------------


def test_crosstab_names_the_small_cells_as_acro_does(data, datasite, acro_session):
    table = datasite.crosstab(data["ward"], data["sex"])
    assert table.equals(pd.crosstab(data["ward"], data["sex"]))  # the scientist's usual table
    rep = report(table, data)
    assert rep["outcome"] == "fail"
    cells = sorted(tuple(c) for c in failing(rep, "min_count")[0]["cells"])
    assert cells and all(row == "east" for row, _ in cells)
    # ACRO on the same data: the same cells fail its minimum threshold
    acro_table = acro_session.crosstab(data["ward"], data["sex"])
    assert acro_status(acro_session) == "fail"
    sdc = list(acro_session.results.results.values())[-1].sdc
    theirs = sorted(
        (str(acro_table.index[r]), str(acro_table.columns[c]))
        for r, c in sdc["cells"]["MinimumThresholdCheck"]
    )
    assert cells == theirs


def test_crosstab_of_large_cells_passes_and_margins_are_checked(data, datasite):
    big = data[data["ward"] != "east"]
    assert report(datasite.crosstab(big["ward"], big["sex"]), big)["outcome"] == "pass"
    rep = report(datasite.crosstab(data["ward"], data["sex"], margins=True), data)
    assert ("east", "All") in {tuple(c) for c in failing(rep, "min_count")[0]["cells"]}


def test_crosstab_of_means_checks_group_sizes_not_the_values(data, datasite, acro_session):
    table = datasite.crosstab(data["ward"], data["sex"], values=data["income"], aggfunc="mean")
    rep = report(table, data)
    assert {c[0] for c in failing(rep, "min_group_size")[0]["cells"]} == {"east"}
    acro_session.crosstab(data["ward"], data["sex"], values=data["income"], aggfunc="mean")
    assert acro_status(acro_session) == "fail"
    # untracked, the same table of means is only "review": the helper is what makes it checked
    with track.suppressed():
        plain = pd.crosstab(data["ward"], data["sex"], values=data["income"], aggfunc="mean")
    assert report(plain.copy(deep=True).set_axis(["a", "b"], axis=1), data)["outcome"] == "review"


def test_pivot_table_matches_acro(data, datasite, acro_session):
    table = datasite.pivot_table(data, values="income", index="ward", columns="sex")
    rep = report(table, data)
    assert rep["outcome"] == "fail"
    assert {c[0] for c in failing(rep, "min_group_size")[0]["cells"]} == {"east"}
    acro_session.pivot_table(data, values="income", index="ward", columns="sex")
    assert acro_status(acro_session) == "fail"
    big = data[data["ward"] != "east"]
    ok = datasite.pivot_table(big, values="income", index="ward", columns="sex")
    assert report(ok, big)["outcome"] == "pass"
    acro_session.pivot_table(big, values="income", index="ward", columns="sex")
    assert acro_status(acro_session) == "pass"


def test_pivot_table_needs_column_names(data, datasite):
    with pytest.raises(ValueError, match="names of columns"):
        datasite.pivot_table(data, values="income", index=data["ward"].to_numpy(), columns="sex")


def test_histogram_counts_are_the_values_and_small_bins_fail(data, datasite):
    hist = datasite.histogram(data["income"], bins=[0, 3, 20, 200])
    counts, edges = np.histogram(data["income"], bins=[0, 3, 20, 200])
    assert hist["count"].tolist() == counts.tolist()
    assert hist["left"].tolist() == edges[:-1].tolist()
    assert hist["right"].tolist() == edges[1:].tolist()
    rep = report(hist, data)
    small = [i for i, n in enumerate(counts) if n < 10]
    assert small  # the data are built so one bin is small
    cells = failing(rep, "min_count")[0]["cells"]
    assert {c[1] for c in cells} == {"count"}  # the bins are named by their edges
    assert len(cells) == len(small)
    assert {c[0] for c in cells} == {"[0, 3)"}
    wide = datasite.histogram(data["income"], bins=[0, 20, 200])
    assert report(wide, data)["outcome"] == "pass"


def test_histogram_edges_from_the_data_are_for_review(data, datasite):
    hist = datasite.histogram(data["x"], bins=2)  # numpy's edges: min and max of the data
    rep = report(hist, data)
    (edges,) = [c for c in rep["checks"] if c["rule"] == "bin_edges"]
    assert edges["outcome"] == "review" and rep["outcome"] != "pass"
    for extreme in (data["x"].min(), data["x"].max()):  # no value of the data in the report
        assert f"{extreme:.3g}" not in str(rep) and f"{extreme:.6g}" not in str(rep)
    assert edges["cells"] == [["bin 1", "left"], ["bin 2", "right"]]
    given = datasite.histogram(data["x"], bins=2, range=(-10, 10))
    assert report(given, data)["outcome"] == "pass"
    with pytest.raises(ValueError, match="bins"):
        datasite.histogram(data["x"], bins=10**6)


def test_histogram_empty_bins_are_zeros(data, datasite):
    hist = datasite.histogram(data["income"], bins=[0, 20, 200, 300])
    assert hist["count"].iloc[-1] == 0
    assert failing(report(hist, data), "zeros")
    assert report(hist, data, RuleSet.from_json("datashield"))["outcome"] == "pass"


# ---- models ---------------------------------------------------------------------------------


def test_ols_residual_dof_as_acro(data, datasite, acro_session):
    params = datasite.ols("y ~ x", data)
    assert list(params.index) == ["Intercept", "x"] and "Coef." in params.columns
    assert report(params, data)["outcome"] == "pass"
    acro_session.olsr(formula="y ~ x", data=data)
    assert acro_status(acro_session) == "pass"
    few = data.iloc[:8]
    rep = report(datasite.ols("y ~ x", few), few)
    assert rep["outcome"] == "fail" and failing(rep, "dof")
    acro_session.olsr(formula="y ~ x", data=few)
    assert acro_status(acro_session) == "fail"


def test_logit_residual_dof_as_acro(data, datasite, acro_session):
    assert report(datasite.logit("died ~ x", data), data)["outcome"] == "pass"
    acro_session.logitr(formula="died ~ x", data=data)
    assert acro_status(acro_session) == "pass"
    few = data.iloc[:11]
    rep = report(datasite.logit("died ~ x", few), few)
    assert failing(rep, "dof")
    acro_session.logitr(formula="died ~ x", data=few)
    assert acro_status(acro_session) == "fail"


def test_datashield_caps_parameters_per_record(data, datasite):
    rules = RuleSet.from_json({"preset": "datashield", "min_dof": 1})
    few = data.iloc[:12]
    rep = report(datasite.ols("y ~ x + C(ward) + C(sex) + income", few), few, rules)
    assert failing(rep, "params_per_record") and not failing(rep, "dof")
    assert report(datasite.ols("y ~ x", data), data, rules)["outcome"] == "pass"


def test_bad_formula_is_a_clear_error(data, datasite):
    with pytest.raises(ValueError, match="formula"):
        datasite.ols("y x", data)
    with pytest.raises(TypeError, match="DataFrame"):
        datasite.logit("died ~ x", data.to_dict())


def test_missing_statsmodels_says_what_to_install(data, datasite, monkeypatch):
    monkeypatch.setitem(sys.modules, "statsmodels.api", None)
    with pytest.raises(MissingAnalysisPackage, match="pip install statsmodels") as info:
        datasite.ols("y ~ x", data)
    assert isinstance(info.value, ImportError)


# ---- survival -------------------------------------------------------------------------------


def test_survival_flags_small_risk_sets_and_steps_as_acro(data, datasite, tmp_path, monkeypatch):
    acro = pytest.importorskip("acro")
    table = datasite.survival(data["days"], data["died"])
    assert list(table.columns) == ["Surv prob", "Surv prob SE", "num at risk", "num events"]
    rep = report(table, data)
    assert rep["outcome"] == "fail"
    small = failing(rep, "min_count")[0]["cells"]
    at_risk = table["num at risk"]
    positions = [f"time point {i + 1}" for i in range(len(table))]
    assert {c[0] for c in small} == {p for p, r in zip(positions, at_risk, strict=True) if r < 10}
    # the steps ACRO's own rounding holds back (its survival curve stays flat there)
    monkeypatch.chdir(tmp_path)
    logging.getLogger("acro").setLevel(logging.WARNING)
    rounded = acro.ACRO(suppress=True).surv_func(data["days"], data["died"], output="table")
    curve = rounded["rounded_survival_fun"].to_numpy()
    acro_held = [False] + [bool(curve[i] == curve[i - 1]) for i in range(1, len(curve))]
    ours = survival_steps([int(v) for v in at_risk], 10)
    assert ours == acro_held and any(ours)
    steps = {c[0] for c in failing(rep, "survival_steps")[0]["cells"]}
    assert steps == {p for p, held in zip(positions, ours, strict=True) if held}
    # the times are records' own durations: the report (seen while held) names positions
    assert not {str(t) for t in table.index} & ({c[0] for c in small} | steps)


def test_survival_with_large_steps_passes(datasite):
    # 200 records, events only at 4 times, 50 each: every risk set and every step is large
    durations = np.repeat([1, 2, 3, 4], 50)
    table = datasite.survival(durations, np.ones(200))
    assert report(table, None)["outcome"] == "pass"


def test_evidence_without_the_checker_hook_is_never_a_pass(datasite):
    table = datasite.survival(np.repeat([1, 2, 3, 4], 50), np.ones(200))
    info = track.lookup(table)
    assert info is not None
    with pytest.raises(TypeError):  # the tracking checks cannot map it: "review" there
        track.check_tracked(table, info, ACRO_RULES)
    assert exact_checks(table, {"kind": "other"}, ACRO_RULES)[0]["outcome"] == "review"


# ---- local (mock) runs ----------------------------------------------------------------------


def test_a_mock_run_gets_the_same_helpers(data):
    import jupyter_syft as sy

    def tab(data, datasite):
        return datasite.crosstab(data["ward"], data["sex"])

    func = sy.syft_function()(tab)
    result = func(data=data)
    assert result.report is not None and result.report.outcome == "fail"
    assert {c[0] for c in result.report.failing_cells} == {"east"}
    assert "crosstab" in repr(AnalysisHelpers.crosstab.__doc__)


# ---- claims: the evidence checked in another process -----------------------------------------


def test_claims_from_the_running_process_give_the_same_reports(data, datasite):
    from jupyter_syft.disclosure.checks import collect_claims

    outputs = {
        "crosstab": datasite.crosstab(data["ward"], data["sex"]),
        "pivot": datasite.pivot_table(data, values="income", index="ward", columns="sex"),
        "histogram": datasite.histogram(data["income"], bins=[0, 3, 20, 200]),
        "ols": datasite.ols("y ~ x", data.iloc[:8]),
        "logit": datasite.logit("died ~ x", data),
        "survival": datasite.survival(data["days"], data["died"]),
    }
    for name, value in outputs.items():
        here = report(value, data)
        claims = collect_claims(value, ACRO_RULES)
        assert len(claims) == 1, name
        there = check_result(value, {"data": data}, ACRO_RULES, claims=claims)
        assert there["outcome"] == here["outcome"], name
        assert [c["rule"] for c in there["checks"]] == [c["rule"] for c in here["checks"]], name
        # without the claim, the other process cannot vouch for the table: never a pass
        assert check_result(value, {"data": data}, ACRO_RULES, claims=[])["outcome"] != "pass"


def test_a_lying_claim_fails(data, datasite):
    from jupyter_syft.disclosure.checks import collect_claims

    params = datasite.ols("y ~ x", data)
    (claimed,) = collect_claims(params, ACRO_RULES)
    claimed["evidence"]["nobs"] = 10 * len(data)  # more records than the input has
    rep = check_result(params, {"data": data}, ACRO_RULES, claims=[claimed])
    assert failing(rep, "claims")
    table = datasite.survival(data["days"], data["died"])
    (claimed,) = collect_claims(table, ACRO_RULES)
    claimed["evidence"]["at_risk"] = [50] * len(table)  # not the table's own risk sets
    assert failing(check_result(table, {"data": data}, ACRO_RULES, claims=[claimed]), "claims")
    hist = datasite.histogram(data["income"], bins=[0, 3, 20, 200])
    (claimed,) = collect_claims(hist, ACRO_RULES)
    claimed["evidence"]["counts"] = [40, 40, 0]  # not the table's counts
    assert failing(check_result(hist, {"data": data}, ACRO_RULES, claims=[claimed]), "claims")


def test_an_owner_run_in_this_kernel_gets_the_helpers_and_nested_jobs_say_where_they_run(data):
    from jupyter_syft.client.local_run import local_datasite, run_in_this_kernel
    from jupyter_syft.errors import SyftException

    source = "def f(data, datasite):\n    return datasite.histogram(data['income'], [0, 20, 200])\n"
    table = run_in_this_kernel(source, "f", (), {"data": data})
    assert int(table["count"].sum()) == int((data["income"] < 200).sum())
    with pytest.raises(SyftException, match="on the Datasite only"):
        local_datasite().launch_job(lambda: None)
