"""Our per-cell outcomes agree with ACRO's own (acro 1.0.2) on the same tables.

ACRO (https://github.com/AI-SDC/ACRO) builds the table itself (``acro.crosstab``,
``acro.pivot_table``) and marks each cell "ok" or with the checks it fails. We build the same
table with plain pandas and check it with ``check_result``: the cells we fail must be exactly
the cells ACRO does not mark "ok".
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from jupyter_syft.disclosure import RuleSet, check_result
from jupyter_syft.disclosure.report import label

acro = pytest.importorskip("acro")

# acro 1.0.2 passes numpy callables to pandas' groupby (a FutureWarning in pandas 2.x)
pytestmark = pytest.mark.filterwarnings("ignore:The provided callable:FutureWarning")


@pytest.fixture(scope="module")
def session():
    logging.getLogger("acro").setLevel(logging.ERROR)
    return acro.ACRO(suppress=False)


def patients(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ward": rng.choice(
                list("ABCDEFGH"), n, p=[0.3, 0.25, 0.2, 0.1, 0.06, 0.05, 0.03, 0.01]
            ),
            "sex": rng.choice(["F", "M"], n),
            "band": rng.choice(["young", "mid", "old"], n, p=[0.5, 0.4, 0.1]),
            "income": rng.lognormal(3, 1.2, n),
        }
    )


def acro_failing(session) -> set[tuple[str, str]]:
    outcome = session.results.get_index(-1).outcome
    return {
        (label(r), label(c))
        for r in outcome.index
        for c in outcome.columns
        if str(outcome.loc[r, c]).strip() != "ok"
    }


def our_failing(report) -> set[tuple[str, str]]:
    return {tuple(cell) for c in report["checks"] if c["outcome"] == "fail" for cell in c["cells"]}


SEEDS = [1, 2, 3, 4, 5]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("margins", [False, True])
def test_crosstab_counts_agree(session, seed, margins):
    data = patients(seed)
    theirs = session.crosstab(data["ward"], data["sex"], margins=margins)
    ours = pd.crosstab(data["ward"], data["sex"], margins=margins)
    pd.testing.assert_frame_equal(theirs, ours, check_names=False)
    report = check_result(ours, {"data": data}, RuleSet())
    expected = acro_failing(session)
    assert our_failing(report) == expected
    assert report["outcome"] == ("fail" if expected else "pass")


@pytest.mark.parametrize("seed", SEEDS)
def test_crosstab_two_row_keys_agree(session, seed):
    data = patients(seed)
    session.crosstab([data["ward"], data["band"]], data["sex"])
    ours = pd.crosstab([data["ward"], data["band"]], data["sex"])
    report = check_result(ours, {"data": data}, RuleSet())
    # ACRO's table also lists row combinations nobody has (all zero); pandas leaves them out, so
    # compare the cells pandas shows
    shown = {(label(r), label(c)) for r in ours.index for c in ours.columns}
    assert our_failing(report) == acro_failing(session) & shown


@pytest.mark.parametrize("seed", SEEDS)
def test_pivot_table_count_agrees(session, seed):
    data = patients(seed)
    session.pivot_table(data, index="ward", columns="band", values="income", aggfunc="count")
    ours = data.pivot_table(index="ward", columns="band", values="income", aggfunc="count")
    report = check_result(ours, {"data": data}, RuleSet())
    assert our_failing(report) == acro_failing(session)


@pytest.mark.parametrize("threshold", [3, 5, 20])
def test_custom_threshold_agrees(threshold):
    session = acro.ACRO(suppress=False)
    session.sdc_checks.risk_appetite["safe_threshold"] = threshold
    data = patients(11)
    session.crosstab(data["ward"], data["band"])
    ours = pd.crosstab(data["ward"], data["band"])
    report = check_result(ours, {"data": data}, RuleSet.from_json({"safe_threshold": threshold}))
    expected = acro_failing(session)
    assert our_failing(report) == expected
    assert expected  # the comparison means something


# ---- magnitude tables: group sizes, n-k dominance and p-ratio from the tracked groups ----------


@pytest.fixture
def tracked():
    from jupyter_syft.disclosure import track

    track.install()
    yield track
    track.uninstall()


def skewed(seed: int, n: int = 400) -> pd.DataFrame:
    data = patients(seed, n)
    rng = np.random.default_rng(seed + 100)
    # a few dominant records in some groups
    rich = rng.choice(n, 6, replace=False)
    data.loc[rich, "income"] = rng.uniform(5e4, 1e6, 6)
    return data


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("aggfunc", ["mean", "sum", "median"])
def test_pivot_table_magnitude_agrees(session, tracked, seed, aggfunc):
    data = skewed(seed)
    session.pivot_table(data, index="ward", columns="sex", values="income", aggfunc=aggfunc)
    expected = acro_failing(session)
    ours = data.pivot_table(index="ward", columns="sex", values="income", aggfunc=aggfunc)
    report = check_result(ours, {"data": data}, RuleSet())
    assert our_failing(report) == expected
    dominance = {"nk_dominance", "p_ratio"} & {c["rule"] for c in report["checks"]}
    assert bool(dominance) == (aggfunc != "median")  # ACRO checks no dominance on a median


@pytest.mark.parametrize("seed", SEEDS)
def test_crosstab_values_agree(session, tracked, seed):
    data = skewed(seed)
    session.crosstab(data["ward"], data["band"], values=data["income"], aggfunc="mean")
    expected = acro_failing(session)
    ours = pd.crosstab(data["ward"], data["band"], values=data["income"], aggfunc="mean")
    report = check_result(ours, {"data": data}, RuleSet())
    assert our_failing(report) == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_groupby_mean_agrees_with_acro_pivot(session, tracked, seed):
    # the same cells built with groupby(...).mean().unstack() are not tracked once reshaped,
    # but groupby(...).mean() on two keys is: compare cell by cell
    data = skewed(seed)
    session.pivot_table(data, index=["ward", "sex"], values="income", aggfunc="mean")
    expected = acro_failing(session)
    ours = data.groupby(["ward", "sex"])[["income"]].mean()
    report = check_result(ours, {"data": data}, RuleSet())
    assert our_failing(report) == expected


@pytest.mark.parametrize(
    ("n", "k", "p"), [(2, 0.9, 0.1), (3, 0.7, 0.3), (1, 0.5, 0.05), (6, 0.95, 0.2)]
)
def test_dominance_settings_agree(tracked, n, k, p):
    session = acro.ACRO(suppress=False)
    session.sdc_checks.risk_appetite.update({"safe_nk_n": n, "safe_nk_k": k, "safe_pratio_p": p})
    data = skewed(21, 600)
    session.pivot_table(data, index="ward", columns="band", values="income", aggfunc="sum")
    ours = data.pivot_table(index="ward", columns="band", values="income", aggfunc="sum")
    rules = RuleSet.from_json({"nk_n": n, "nk_k": k, "p_ratio": p})
    report = check_result(ours, {"data": data}, rules)
    assert our_failing(report) == acro_failing(session)


# ---- models: residual degrees of freedom ----------------------------------------------------


@pytest.mark.parametrize("n", [8, 12, 13, 14, 40])
def test_regression_dof_agrees(n):
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(n)
    x = pd.DataFrame({"x1": rng.random(n), "x2": rng.random(n)})
    y = x["x1"] * 2 + rng.random(n)
    session = acro.ACRO(suppress=False)
    session.ols(y, sm.add_constant(x))
    theirs = session.results.get_index(-1).status
    fitted = sm.OLS(y, sm.add_constant(x)).fit()
    report = check_result(fitted, {"data": x}, RuleSet())
    ours = {c["rule"]: c["outcome"] for c in report["checks"]}
    assert ours["dof"] == theirs
    assert report["outcome"] == ("fail" if theirs == "fail" else "review")  # the object itself
