"""The disclosure rule engine (jupyter_syft.disclosure), pure: no server.

Each rule, each preset, each kind of result, the odd types, and that no reason ever carries a
value of the data.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_syft.disclosure import PRESETS, RuleSet, check_result

MARKER_TEXT = "ZQXMARKER"
MARKER_NUMBER = 98765.4321


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 2000
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i:06d}" for i in range(n)],
            "sex": rng.choice(["F", "M"], n),
            "ward": rng.choice(list("ABCD"), n),
            "age": rng.integers(18, 95, n),
            "bmi": rng.normal(27, 4, n).round(3),
            "income": rng.lognormal(10, 1, n),
            "note": rng.choice(["ok", "fine"], n),
        }
    )
    # one rare ward (3 patients) with a planted income and a planted text value
    frame.loc[:2, "ward"] = "Z"
    frame.loc[0, "income"] = MARKER_NUMBER
    frame.loc[1, "note"] = MARKER_TEXT
    return frame


def run(value, data, rules=None, **kw):
    report = check_result(value, {"data": data}, rules if rules is not None else RuleSet(), **kw)
    json.dumps(report)  # plain JSON
    return report


def rules_of(report) -> dict[str, str]:
    return {c["rule"]: c["outcome"] for c in report["checks"]}


# ---- rule sets -----------------------------------------------------------------------------


def test_acro_defaults():
    r = RuleSet.from_json(None)
    assert r == PRESETS["acro"] == RuleSet()
    assert (r.safe_threshold, r.nk_n, r.nk_k, r.p_ratio, r.zeros_disclosive, r.min_dof) == (
        10,
        2,
        0.9,
        0.1,
        True,
        10,
    )
    assert (r.max_rows, r.max_bytes) == (5000, 16 * 1024 * 1024)


def test_presets_by_name_and_object():
    os_ = RuleSet.from_json("opensafely")
    assert os_.name == "opensafely" and os_.safe_threshold == 8 and os_.rounding == 5
    ds = RuleSet.from_json({"preset": "datashield"})
    assert ds.name == "datashield"
    assert (ds.safe_threshold, ds.min_group_size, ds.max_params_per_record) == (3, 3, 0.33)
    assert RuleSet.from_json("ACRO") == RuleSet()


def test_custom_values_and_json_round_trip():
    r = RuleSet.from_json({"preset": "acro", "safe_threshold": 20, "max_rows": 100})
    assert r.name == "custom" and r.safe_threshold == 20 and r.max_rows == 100
    assert RuleSet.from_json(r.to_json()) == r
    assert RuleSet.from_json(json.dumps(r.to_json())) == r
    # same values: the preset's name, same digest
    same = RuleSet.from_json({"preset": "acro", "safe_threshold": 10})
    assert same.name == "acro" and same.digest() == RuleSet().digest()
    assert r.digest() != RuleSet().digest()
    assert len(r.digest()) == 64


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ("nope", "nope"),
        ({"preset": "nope"}, "nope"),
        ({"safe_treshold": 5}, "safe_treshold"),
        ({"safe_threshold": -1}, "safe_threshold"),
        ({"safe_threshold": "10"}, "safe_threshold"),
        ({"safe_threshold": True}, "safe_threshold"),
        ({"nk_k": 1.5}, "nk_k"),
        ({"p_ratio": 0}, "p_ratio"),
        ({"zeros_disclosive": "yes"}, "zeros_disclosive"),
        ({"rounding": 0}, "rounding"),
        ({"max_rows": 0}, "max_rows"),
        ({"name": "<script>"}, "name"),
        ("{not json", "JSON"),
        ("[1, 2]", "unknown preset"),
        (42, "int"),
    ],
)
def test_bad_rules_are_clear_value_errors(bad, named):
    with pytest.raises(ValueError, match="disclosure rules") as info:
        RuleSet.from_json(bad)
    assert named in str(info.value)


def test_bad_rule_errors_are_length_capped():
    with pytest.raises(ValueError) as info:
        RuleSet.from_json({"x" * 10_000: 1})
    assert len(str(info.value)) < 500
    with pytest.raises(ValueError) as info:
        RuleSet.from_json("y" * 10_000)
    assert len(str(info.value)) < 500


def test_rule_set_is_frozen():
    with pytest.raises(Exception, match="assign"):
        RuleSet().safe_threshold = 1  # type: ignore[misc]


# ---- report shape ----------------------------------------------------------------------------


def test_report_shape(data):
    report = run(data["ward"].value_counts(), data)
    assert set(report) == {"outcome", "rules", "rules_digest", "checks"}
    assert report["rules"] == "acro" and report["rules_digest"] == RuleSet().digest()
    for check in report["checks"]:
        assert set(check) == {"rule", "outcome", "reason", "cells"}
        assert check["outcome"] in ("pass", "fail", "review")


# ---- row-level data --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d.head(50),
        lambda d: d.head(50).to_dict("records"),
        lambda d: d.sample(20, random_state=1),
        lambda d: d.sample(20, random_state=1).to_dict("records"),
        lambda d: d.iloc[[5, 17, 99]],
        lambda d: d.head(30).to_dict("list"),
        lambda d: d.sample(30, random_state=2).to_dict("list"),
        lambda d: d[["age", "bmi"]].sample(25, random_state=3),
        lambda d: d["age"].head(40),
        lambda d: d["age"].values[:40],
        lambda d: d["bmi"].to_numpy()[-40:].tolist(),
        lambda d: d["patient_id"].sample(10, random_state=4).tolist(),
        lambda d: (
            d.set_index("patient_id").groupby("ward")["age"].mean().index.tolist()
            + d["patient_id"].head(5).tolist()
        ),
        lambda d: d["bmi"] * 2,  # as many rows as the input
        lambda d: d.values,
        lambda d: d.head(3).values,
        lambda d: {"rows": d.head(10).to_dict("records"), "n": len(d)},
    ],
    ids=[
        "head",
        "head-records",
        "sample",
        "sample-records",
        "iloc",
        "dict-list",
        "sample-dict-list",
        "columns-sample",
        "series-head",
        "column-values",
        "column-tail-list",
        "ids",
        "ids-mixed",
        "same-rows",
        "whole-values",
        "head-values",
        "nested",
    ],
)
def test_row_level_data_fails(data, make):
    report = run(make(data), data)
    assert report["outcome"] == "fail", report
    assert any(c["rule"] == "row_level" and c["outcome"] == "fail" for c in report["checks"])


def test_row_level_needs_an_input(data):
    # the same rows with no inputs known: nothing to compare, not row-level
    report = check_result(data.head(5)[["age"]], {}, RuleSet())
    assert "row_level" not in rules_of(report)


# ---- frequency tables ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d["sex"].value_counts(),
        lambda d: d.groupby(["sex", "ward"]).size(),
        lambda d: d.groupby("sex").count(),
        lambda d: d.groupby(["sex", "ward"], as_index=False).size(),
        lambda d: pd.crosstab(d["sex"], d["note"]),
        lambda d: pd.crosstab(d["sex"], d["note"], margins=True),
        lambda d: d.pivot_table(index="sex", columns="note", values="age", aggfunc="count"),
        lambda d: d.pivot_table(index="sex", columns="note", values="age", aggfunc=len),
        lambda d: d["sex"].value_counts().to_dict(),
    ],
)
def test_safe_frequency_tables_pass(data, make):
    safe = data[data["ward"] != "Z"]
    report = run(make(safe), data)
    assert report["outcome"] == "pass", report


def test_small_cells_fail_with_their_cells(data):
    table = pd.crosstab(data["ward"], data["sex"])
    report = run(table, data)
    assert report["outcome"] == "fail"
    checks = {c["rule"]: c for c in report["checks"] if c["outcome"] == "fail"}
    low = checks["min_count"]
    expected = {(w, s) for w in table.index for s in table.columns if 0 < table.loc[w, s] < 10}
    assert {tuple(c) for c in low["cells"]} == expected
    assert low["reason"] == f"{len(expected)} cells count fewer than 10".replace(
        "1 cells count", "1 cell counts"
    )


def test_zeros_fail_when_disclosive_only(data):
    table = pd.DataFrame({"a": [0, 12], "b": [15, 20]}, index=["x", "y"])
    assert rules_of(run(table, data))["zeros"] == "fail"
    assert run(table, data)["checks"][0]["cells"] == [["x", "a"]]
    relaxed = RuleSet.from_json({"zeros_disclosive": False})
    assert run(table, data, relaxed)["outcome"] == "pass"


def test_threshold_custom(data):
    table = pd.Series({"x": 12, "y": 25})
    assert run(table, data)["outcome"] == "pass"
    assert run(table, data, RuleSet.from_json({"safe_threshold": 15}))["outcome"] == "fail"


def test_opensafely_redacts_seven_and_needs_rounding(data):
    rules = RuleSet.from_json("opensafely")
    assert run(pd.Series({"x": 10, "y": 25, "z": 0}), data, rules)["outcome"] == "pass"
    seven = run(pd.Series({"x": 10, "y": 7}), data, rules)
    assert rules_of(seven)["min_count"] == "fail"
    assert seven["checks"][0]["cells"] == [["y", "value"]]
    eight = run(pd.Series({"x": 10, "y": 8}), data, rules)  # not redacted, but unrounded
    assert rules_of(eight) == {"rounding": "fail"}
    assert "multiple of 5" in eight["checks"][0]["reason"]
    assert run(pd.Series({"x": 10, "y": 23}), data)["outcome"] == "pass"  # ACRO: no rounding


def test_datashield_tables_of_three(data):
    rules = RuleSet.from_json("datashield")
    assert run(pd.Series({"x": 3, "y": 0, "z": 40}), data, rules)["outcome"] == "pass"
    assert run(pd.Series({"x": 2, "y": 40}), data, rules)["outcome"] == "fail"


def test_float_counts_and_multiindex(data):
    table = data.groupby(["sex", "ward"]).size().unstack().astype(float)
    report = run(table, data)
    assert report["outcome"] == "fail"
    assert ["Z", "F"] not in report["checks"][0]["cells"]  # cells are [row, column]
    assert any(cell[1] == "Z" for cell in report["checks"][0]["cells"])
    multi = data.groupby(["sex", "note", "ward"]).size()
    cells = run(multi, data)["checks"][0]["cells"]
    assert all(" / " in cell[0] for cell in cells)


def test_nan_inf_negative_are_review(data):
    nan = run(pd.DataFrame({"a": [12.5, np.nan], "b": [20.0, 30.0]}), data)
    assert nan["outcome"] == "review" and rules_of(nan)["not_finite"] == "review"
    # in a table of counts a NaN is an empty combination (pivot_table): a zero
    empty = pd.DataFrame({"a": [12.0, np.nan], "b": [20.0, 30.0]})
    assert rules_of(run(empty, data)) == {"zeros": "fail"}
    relaxed = RuleSet.from_json({"zeros_disclosive": False})
    assert rules_of(run(empty, data, relaxed)) == {"empty": "review"}
    inf = run(pd.Series([12.0, np.inf]), data)
    assert inf["outcome"] == "review"
    neg = run(pd.Series({"x": -12, "y": 30}), data)
    assert neg["outcome"] == "review" and rules_of(neg)["negative"] == "review"


# ---- magnitude tables, scalars, objects --------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d.groupby("ward")["bmi"].mean(),
        lambda d: d.groupby(["ward", "sex"])[["bmi", "income"]].sum(),
        lambda d: d.pivot_table(index="ward", columns="sex", values="bmi", aggfunc="mean"),
        lambda d: d.groupby("ward")["bmi"].mean().to_dict(),
    ],
)
def test_magnitude_tables_are_review(data, make):
    report = run(make(data), data)
    assert report["outcome"] == "review", report
    assert "group sizes" in " ".join(c["reason"] for c in report["checks"])


def test_describe_checks_counts_and_reviews_min_max(data):
    report = run(data[["age", "bmi"]].describe(), data)
    assert report["outcome"] == "review"
    assert rules_of(report) == {"min_count": "pass", "describe": "review"}
    small = run(data[data["ward"] == "Z"][["age"]].describe(), data)
    assert small["outcome"] == "fail"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (3.5, "scalar"),
        (np.float64(2.0), "scalar"),
        (7, "scalar"),
        (True, "scalar"),
        ("some text", "text"),
        (b"bytes", "text"),
        (object(), "object"),
        (np.zeros((2, 2, 2)), "object"),
        (np.array(4.0), "scalar"),
        ({"a": object()}, "object"),
    ],
)
def test_unclassifiable_is_review_never_pass(data, value, rule):
    report = run(value, data)
    assert report["outcome"] == "review"
    assert rule in rules_of(report)


def test_none_and_empty_pass(data):
    for value in (None, [], {}, pd.DataFrame()):
        assert run(value, data)["outcome"] == "pass"


def test_models(data):
    class Fitted:  # the attributes statsmodels results carry
        def __init__(self, params, df_resid, nobs):
            self.params, self.df_resid, self.nobs = params, df_resid, nobs

    ok = run(Fitted([1.0, 2.0], 100, 102), data)
    assert rules_of(ok) == {"dof": "pass", "model": "review"}
    assert rules_of(run(Fitted([1.0, 2.0], 5, 7), data))["dof"] == "fail"
    ds = RuleSet.from_json("datashield")
    assert rules_of(run(Fitted([1.0] * 40, 60, 100), data, ds))["params_per_record"] == "fail"
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(data[["age"]], data["bmi"])
    assert rules_of(run(model, data)) == {"model": "review"}


def test_containers_are_checked_item_by_item(data):
    safe = data[data["ward"] != "Z"]
    report = run({"counts": safe["sex"].value_counts(), "mean": 1.5}, data)
    assert report["outcome"] == "review"
    assert any(c["reason"].startswith("item mean:") for c in report["checks"])
    report = run((safe["sex"].value_counts(), data["ward"].value_counts()), data)
    assert report["outcome"] == "fail"


# ---- size caps -------------------------------------------------------------------------------


def test_size_caps(data):
    big = pd.DataFrame({"n": np.full(6000, 50)})
    report = check_result(big, {}, RuleSet())
    assert rules_of(report)["max_rows"] == "fail"
    assert check_result(big, {}, RuleSet.from_json({"max_rows": 10000}))["outcome"] == "pass"
    small = pd.Series({"x": 50, "y": 60})
    assert rules_of(check_result(small, {}, RuleSet(), encoded_size=17 << 20))["max_bytes"] == (
        "fail"
    )
    for value in (3.5, None, {"a": 1.5}, "text"):
        report = check_result(value, {}, RuleSet(), encoded_size=17 << 20)
        assert rules_of(report)["max_bytes"] == "fail" and report["outcome"] == "fail"
    assert "max_bytes" not in rules_of(check_result(small, {}, RuleSet(), encoded_size=100))
    capped = RuleSet.from_json({"max_bytes": 100})
    wide = pd.DataFrame({f"c{i}": [50, 60] for i in range(50)})
    assert rules_of(check_result(wide, {}, capped))["max_bytes"] == "fail"
    assert rules_of(check_result(list(range(10, 6020)), {}, RuleSet()))["max_rows"] == "fail"


# ---- robustness ------------------------------------------------------------------------------


class Exploding:
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        raise RuntimeError(MARKER_TEXT)


class BadFrame(pd.DataFrame):
    @property
    def columns(self):  # type: ignore[override]
        raise RuntimeError(MARKER_TEXT)


def bad_frame() -> pd.DataFrame:
    frame = pd.DataFrame({"a": [1]})
    frame.__class__ = BadFrame  # breaks only after construction
    return frame


@pytest.mark.parametrize(
    "value",
    [
        Exploding,
        bad_frame,
        pd.DataFrame({"a": ["x", "y"], "b": [[1], [2]]}),
        pd.DataFrame({("a", 1): [1, 2], ("b", 2): [3, 4]}),
        pd.Series([1, 2], index=pd.MultiIndex.from_tuples([(1, 2), (3, 4)])),
        pd.Series(["a", "b"]),
        pd.Series([pd.Timestamp("2020-01-01")] * 2),
        pd.Series([1 + 2j, 3j]),
        pd.Categorical(["a", "b"]),
        [1, "a", None, {"x": 1}],
        [[1, 2], [3, 4]],
        {1: [1, 2], 2: [3]},
        {"a": {"b": {"c": {"d": {"e": 1}}}}},
        list(range(10_000)),
        np.array(["a", "b"], dtype=object),
        np.array([np.nan, np.inf, -np.inf]),
        pd.DataFrame({"x": [1, 2]}).style if hasattr(pd.DataFrame, "style") else 1,
        range(5),
        {1, 2, 3},
        float("nan"),
    ],
)
def test_any_value_gives_a_report(data, value):
    if value is Exploding or value is bad_frame:
        value = value()
    report = check_result(value, {"data": data, "junk": Exploding(), "x": 5}, RuleSet())
    assert report["outcome"] in ("pass", "fail", "review")
    assert MARKER_TEXT not in json.dumps(report)
    if isinstance(value, (Exploding, BadFrame)):
        assert report["outcome"] == "review"


def test_checker_failure_is_review_with_type():
    report = check_result(Exploding(), {}, RuleSet())
    assert report["outcome"] == "review"
    assert any(c["reason"].startswith("the checker failed: ") for c in report["checks"]) or any(
        c["rule"] == "object" for c in report["checks"]
    )
    bad = check_result(bad_frame(), {}, RuleSet())
    assert bad["outcome"] == "review"
    assert "the checker failed: RuntimeError" in json.dumps(bad)


def test_bad_rules_argument_does_not_raise(data):
    report = check_result(pd.Series({"x": 50}), {}, {"safe_threshold": -5})  # type: ignore[arg-type]
    assert report["outcome"] == "review" and report["rules"] == "acro"


def test_huge_frame_is_quick_and_not_copied(data):
    import time
    import tracemalloc

    n = 3_000_000
    big = pd.DataFrame({"a": np.arange(n), "b": np.random.default_rng(0).random(n)})
    tracemalloc.start()
    start = time.perf_counter()
    report = check_result(big, {"data": big}, RuleSet())
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report["outcome"] == "fail" and rules_of(report)["max_rows"] == "fail"
    assert elapsed < 5
    assert peak < big.memory_usage().sum() / 2
    # a small aggregate of the huge input: the row-level checks stay quick
    start = time.perf_counter()
    agg = pd.Series({"x": 50, "y": 60})
    assert check_result(agg, {"data": big}, RuleSet())["outcome"] == "pass"
    assert time.perf_counter() - start < 5


# ---- no values in reasons --------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d.head(3),
        lambda d: d[d["ward"] == "Z"][["income", "note"]].to_dict("records"),
        lambda d: d.groupby("ward")["income"].mean(),
        lambda d: d.groupby("ward")["income"].max(),
        lambda d: d[d["ward"] == "Z"]["income"].sum(),
        lambda d: d[d["ward"] == "Z"][["income"]].describe(),
        lambda d: d.loc[1, "note"],
        lambda d: {MARKER_TEXT: 3},
    ],
)
def test_reasons_never_carry_values(data, make):
    report = run(make(data), data)
    reasons = " ".join(c["reason"] for c in report["checks"])
    for marker in (MARKER_TEXT, "98765", "9876", "P000000"):
        assert marker not in reasons


def test_count_values_not_in_reasons(data):
    table = pd.Series({"x": 3, "y": 4, "z": 100})
    reasons = " ".join(c["reason"] for c in run(table, data)["checks"])
    assert "100" not in reasons and "4" not in reasons


def test_labels_capped():
    long = "L" * 500
    report = check_result(pd.Series({long: 3}), {}, RuleSet())
    assert all(len(x) <= 40 for c in report["checks"] for cell in c["cells"] for x in cell)
    many = pd.Series(np.ones(3000, dtype=int), index=[f"k{i}" for i in range(3000)])
    report = check_result(many, {}, RuleSet())
    assert all(len(c["cells"]) <= 50 for c in report["checks"])


def test_import_is_light():
    code = (
        "import sys, jupyter_syft.disclosure;"
        "bad = {'scipy', 'statsmodels', 'matplotlib', 'acro', 'sklearn'} & set(sys.modules);"
        "assert not bad, bad;"
        "assert not any(m.startswith('jupyter_syft.server') or m.startswith('jupyter_syft.client')"
        " for m in sys.modules), [m for m in sys.modules if m.startswith('jupyter_syft.')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- tracked magnitude tables (disclosure.track) -------------------------------------------------


@pytest.fixture
def tracked():
    from jupyter_syft.disclosure import track

    track.install()
    yield track
    track.uninstall()


def test_untracked_magnitude_is_review(data):
    from jupyter_syft.disclosure import track

    assert not track.installed()
    assert run(data.groupby("ward")["income"].mean(), data)["outcome"] == "review"


def test_tracked_group_sizes_fail_small_groups(data, tracked):
    # ward Z has 3 patients, one of them the planted income
    for table in (
        data.groupby("ward")["income"].mean(),
        data.groupby("ward")[["income", "bmi"]].sum(),
        data.groupby("ward").agg({"income": "mean"}),
        data.groupby(data["ward"].str.lower())["bmi"].median(),
        data.groupby(["ward", "sex"], as_index=False)["bmi"].mean(),
        data.pivot_table(index="ward", columns="sex", values="bmi", aggfunc="mean"),
        pd.crosstab(data["ward"], data["sex"], values=data["bmi"], aggfunc="mean"),
        data.groupby("ward")["income"].mean().round(1),  # derived, same labels
        data.groupby("ward")["income"].mean().to_dict(),  # derived, same labels
    ):
        report = run(table, data)
        assert report["outcome"] == "fail", (table, report)
        failing = [c for c in report["checks"] if c["outcome"] == "fail"]
        assert failing[0]["rule"] == "min_group_size"
        assert "fewer than 10 records" in failing[0]["reason"]


def test_tracked_as_index_false_names_cells_by_keys(data, tracked):
    report = run(data.groupby(["ward", "sex"], as_index=False)["bmi"].mean(), data)
    cells = report["checks"][0]["cells"]
    assert cells and all(cell[0].startswith("Z / ") and cell[1] == "bmi" for cell in cells)


def test_tracked_integer_sums_are_not_counts(data, tracked):
    # untracked, a table of integer sums looks like counts (all large: "pass"); tracked, its
    # real groups are checked: ward Z has 3 patients
    table = data.groupby("ward")["age"].sum()
    assert (table >= 10).all()
    report = run(table, data)
    assert report["outcome"] == "fail" and rules_of(report)["min_group_size"] == "fail"


def test_tracked_named_aggregation(data, tracked):
    def summary(frame):  # the Binder demo's size_by_diagnosis, on these columns
        return (
            frame.groupby("ward")
            .agg(cases=("bmi", "size"), mean_bmi=("bmi", "mean"), mean_age=("age", "mean"))
            .round(2)
        )

    safe = data[data["ward"] != "Z"]
    report = run(summary(safe), data)
    assert report["outcome"] == "pass", report
    assert rules_of(report) == {"min_count": "pass", "magnitude": "pass"}
    report = run(summary(data), data)
    cells = {c["rule"]: c["cells"] for c in report["checks"]}
    assert cells["min_count"] == [["Z", "cases"]]
    assert cells["min_group_size"] == [["Z", "mean_bmi"], ["Z", "mean_age"]]
    series = run(data.groupby("ward")["income"].agg(total="sum", n="count"), data)
    assert {c["rule"] for c in series["checks"] if c["outcome"] == "fail"} >= {
        "min_count",
        "min_group_size",
    }


def test_tracked_safe_means_pass(data, tracked):
    safe = data[data["ward"] != "Z"]
    for table in (
        safe.groupby("ward")["bmi"].mean(),
        safe.groupby(["ward", "sex"])["bmi"].mean(),
        safe.pivot_table(index="ward", columns="sex", values="bmi", aggfunc="mean"),
        safe.groupby("ward")["bmi"].agg(["mean", "count"]),
        safe.groupby("ward")["bmi"].std(),
    ):
        report = run(table, data)
        assert report["outcome"] == "pass", (table, report)


def test_tracked_dominance(data, tracked):
    frame = pd.DataFrame({"g": ["a"] * 20 + ["b"] * 20, "v": [1.0] * 19 + [1000.0] + [5.0] * 20})
    report = run(frame.groupby("g")["v"].sum(), frame)
    assert rules_of(report) == {"nk_dominance": "fail", "p_ratio": "fail"}
    assert all(cell[0] == "a" for c in report["checks"] for cell in c["cells"])
    assert "1000" not in json.dumps(report)
    frame.loc[0, "v"] = -1.0
    assert rules_of(run(frame.groupby("g")["v"].sum(), frame)) == {"dominance": "review"}
    relaxed = RuleSet.from_json({"nk_k": 1.0, "p_ratio": 0.01})
    positive = frame.assign(v=frame["v"].abs())
    assert run(positive.groupby("g")["v"].mean(), positive, relaxed)["outcome"] == "pass"
    assert run(positive.groupby("g")["v"].mean(), positive)["outcome"] == "fail"


def test_tracked_min_max_and_lists_are_not_passed(data, tracked):
    safe = data[data["ward"] != "Z"]
    report = run(safe.groupby("ward")["bmi"].max(), data)
    assert report["outcome"] == "review" and "single_records" in rules_of(report)
    report = run(safe.groupby("ward")["bmi"].agg(list), data)
    assert report["outcome"] in ("review", "fail")
    # changed in place after the aggregation: not trusted
    table = safe.groupby("ward")["bmi"].mean().to_frame()
    table["leak"] = safe["bmi"].iloc[: len(table)].to_numpy()
    assert run(table, data)["outcome"] != "pass"


def test_tracking_leaves_results_unchanged_and_forgets(data, tracked):
    from jupyter_syft.disclosure import track as tr

    expected = data.groupby(["ward", "sex"])["bmi"].mean()
    tr.uninstall()
    assert data.groupby(["ward", "sex"])["bmi"].mean().equals(expected)
    assert pd.crosstab.__name__ == "crosstab" and not hasattr(pd.crosstab, "__wrapped__")
    tr.install()
    tr.install()  # idempotent
    for _ in range(200):
        data.groupby("ward")["bmi"].mean()
    assert len(tr._registry) <= tr.MAX_ENTRIES
    # the checks' own pandas calls are not recorded
    table = data.groupby("sex")["bmi"].mean()
    before = list(tr._registry)
    run(table, data)
    assert list(tr._registry) == before


def test_worker_style_check_of_tracked_crosstab(data, tracked):
    # counts from a tracked crosstab are checked as counts (the cells themselves)
    table = pd.crosstab(data["ward"], data["sex"], margins=True)
    report = run(table, data)
    assert rules_of(report)["min_count"] == "fail"
    assert {tuple(c) for c in report["checks"][0]["cells"]} <= {
        (w, s) for w in table.index for s in table.columns
    }
    shares = pd.crosstab(data["ward"], data["sex"], normalize=True)
    assert run(shares, data)["outcome"] == "fail"  # the counts behind the shares are small
    untracked = RuleSet()
    safe = data[data["ward"] != "Z"]
    assert check_result(pd.crosstab(safe["ward"], safe["sex"], normalize="index"), {}, untracked)[
        "outcome"
    ] in ("pass", "review")


# ---- fuzz: any table gives a valid report with no value in its reasons ---------------------------


_cells_st = st.one_of(
    st.integers(-20, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([MARKER_TEXT, "a", "", None]),
    st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(_cells_st, min_size=3, max_size=3), min_size=0, max_size=30),
    shape=st.sampled_from(["frame", "series", "records", "dict", "array", "nested"]),
    labels=st.lists(st.text(max_size=60), min_size=3, max_size=3, unique=True),
)
def test_fuzz_reports_are_valid_and_clean(rows, shape, labels):
    frame = pd.DataFrame(rows, columns=labels) if rows else pd.DataFrame(columns=labels)
    value = {
        "frame": frame,
        "series": frame.iloc[:, 0] if len(frame.columns) else frame,
        "records": frame.to_dict("records"),
        "dict": frame.to_dict("list"),
        "array": frame.to_numpy(),
        "nested": {"a": frame, "b": [frame.iloc[:2]], "c": 5},
    }[shape]
    inputs = {"data": frame.assign(extra=MARKER_NUMBER)}
    report = check_result(value, inputs, RuleSet())
    json.dumps(report)
    assert report["outcome"] in ("pass", "fail", "review")
    if report["outcome"] == "pass":
        assert report["checks"] and all(c["outcome"] == "pass" for c in report["checks"])
    for check in report["checks"]:
        assert MARKER_TEXT not in check["reason"] and "98765" not in check["reason"]
        assert all(len(x) <= 40 for cell in check["cells"] for x in cell)


# ---- the worker's split: claims made where the function ran, checked in another process --------


def _split(value, data, rules=None):
    """As the worker does it: the claims from the tracking of this process, the checks on the
    value decoded from its encoded bytes, with this process's tracking not consulted."""
    from jupyter_syft import serde
    from jupyter_syft.disclosure.checks import collect_claims

    rules = rules if rules is not None else RuleSet()
    claims = json.loads(json.dumps(collect_claims(value, rules)))
    decoded = serde.decode(serde.dumps(value))
    return check_result(decoded, {"data": data}, rules, claims=claims), claims


def _failing(report):
    return sorted(
        (c["rule"], tuple(map(tuple, c["cells"])))
        for c in report["checks"]
        if c["outcome"] == "fail"
    )


def test_claims_give_the_in_process_outcome(data, tracked):
    safe = data[data["ward"] != "Z"]
    tables = [
        data.groupby("ward")["income"].mean(),
        data.groupby("ward")[["income", "bmi"]].sum(),
        data.groupby("ward").agg({"income": "mean"}),
        data.groupby(data["ward"].str.lower())["bmi"].median(),
        data.groupby(["ward", "sex"], as_index=False)["bmi"].mean(),
        data.pivot_table(index="ward", columns="sex", values="bmi", aggfunc="mean"),
        pd.crosstab(data["ward"], data["sex"], values=data["bmi"], aggfunc="mean"),
        data.groupby("ward")["income"].mean().round(1),
        {"by_ward": data.groupby("ward")["income"].mean(), "n": 3},
        safe.groupby("ward")["bmi"].mean(),
        safe.groupby(["ward", "sex"])["bmi"].mean(),
        safe.groupby("ward")["bmi"].agg(["mean", "count"]),
        safe.groupby("ward")["bmi"].median(),
        safe.groupby("ward")["bmi"].std(),
        pd.crosstab(safe["ward"], safe["sex"]),
        pd.crosstab(safe["ward"], safe["sex"], values=safe["income"], aggfunc="sum"),
    ]
    for table in tables:
        together = run(table, data)
        split, claims = _split(table, data)
        assert claims, table
        assert split["outcome"] == together["outcome"], (table, split, together)
        assert _failing(split) == _failing(together), table


def _lie(claims, **changes):
    """The claims with some of their arrays changed (``name=function of the array``)."""
    import base64

    out = json.loads(json.dumps(claims))
    for item in out:
        for name, fn in changes.items():
            if name == "labels":
                item[name] = fn(item[name])
                continue
            arr = np.frombuffer(base64.b64decode(item[name]), dtype="<f8")
            changed = fn(arr.copy())
            if isinstance(changed, np.ndarray):
                changed = base64.b64encode(changed.astype("<f8").tobytes()).decode()
            item[name] = changed
    return out


def test_claims_are_untrusted(data, tracked):
    from jupyter_syft import serde

    table = data.groupby("ward")["income"].mean()  # ward Z: 3 records
    _, claims = _split(table, data)
    decoded = serde.decode(serde.dumps(table))

    def check(claimed):
        return check_result(decoded, {"data": data}, RuleSet(), claims=claimed)

    # larger groups than the input has rows, fractional or negative counts, a largest value
    # above the total: impossible statistics fail
    for lie in (
        {"count": lambda c: c * 0 + 1000.0},
        {"count": lambda c: c + 0.5},
        {"count": lambda c: c * 0 - 1.0},
        {"count": lambda c: c * np.inf},
        {"top1": lambda t: t * 10},
        {"count": lambda c: ["many"] * len(c)},
        {"count": lambda c: "not base64!"},
        {"sum": lambda s: s[:1]},
    ):
        report = check(_lie(claims, **lie))
        assert report["outcome"] == "fail", lie
        assert "inconsistent group statistics" in [c["reason"] for c in report["checks"]]
    # a claim for another table (other labels) is ignored: the table stays "review"
    other = _lie(claims, labels=lambda _: "0" * 64)
    assert check(other)["outcome"] == "review"
    assert check([])["outcome"] == "review"
    # a consistent lie (every group large) cannot make row-level data pass
    rows = data[["ward", "income", "bmi"]].head(40)
    import base64

    def b64(values):
        return base64.b64encode(np.asarray(values, dtype="<f8").tobytes()).decode()

    fake = [
        {
            "path": "[]",
            "rows": 40,
            "cols": 3,
            "labels": tracked.labels_digest(rows),
            "kind": "stats",
            "kinds": ["key", "stat", "stat"],
            "nk_n": 2,
            "margins": None,
            "count": b64([20.0] * 120),
            "sum": b64([2000.0] * 120),
            "top1": b64([100.0] * 120),
            "top2": b64([200.0] * 120),
            "topn": b64([200.0] * 120),
            "neg": b64([0.0] * 120),
        }
    ]
    report = check_result(rows, {"data": data}, RuleSet(), claims=fake)
    assert report["outcome"] == "fail" and "row_level" in rules_of(report)


def test_pandas_group_codes_give_the_same_statistics(tracked):
    """The fast path (pandas' own group codes) and the general one (factorizing the keys
    again) agree: same counts, sums and signs per cell, same checks."""
    import base64
    import dataclasses

    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame(
        {
            "k": rng.choice(["x", "y", None], n),
            "j": rng.integers(0, 4, n),
            "c": pd.Categorical(rng.choice(["p", "q"], n), categories=["p", "q", "r"]),
            "v": np.where(rng.random(n) < 0.05, np.nan, rng.lognormal(3, 1, n)),
            "w": rng.normal(0, 1, n),
        }
    )
    frame.loc[:4, "v"] = 5000.0  # one dominated group
    tables = [
        frame.groupby("k")["v"].mean(),
        frame.groupby(["k", "j"], sort=False)["v"].mean(),
        frame.groupby("c", observed=False)["v"].mean(),
        frame.groupby("j")[["v", "w"]].sum(),
        frame.groupby("j")["v"].agg(["mean", "median", "count"]),
        pd.crosstab(frame["k"], frame["j"], values=frame["v"], aggfunc="mean"),
        frame.pivot_table(index="j", columns="k", values="w", aggfunc="sum"),
        frame[frame["j"] == 0].groupby("k")["v"].sum(),
    ]
    rules = RuleSet()

    def arrays(claimed):
        return {
            name: np.frombuffer(base64.b64decode(claimed[name]), dtype="<f8")
            for name in ("count", "sum", "neg")
        }

    for table in tables:
        value = table.to_frame() if isinstance(table, pd.Series) else table
        info = tracked.lookup(table)
        assert info is not None and info.source.grouper is not None, table
        fast = tracked.claim(value, info, rules)
        general_info = tracked.Info(dataclasses.replace(info.source, grouper=None, grouped=None))
        general = tracked.claim(value, general_info, rules)
        for name, arr in arrays(fast).items():
            np.testing.assert_allclose(arr, arrays(general)[name], rtol=1e-9, equal_nan=True)
        assert tracked.check_claim(value, fast, rules) == tracked.check_claim(
            value, general, rules
        ), table
    # a missing key kept as a group (dropna=False): pandas' codes count its records, where
    # factorizing again had dropped them
    table = frame.groupby("k", dropna=False)["v"].sum()
    claimed = tracked.claim(table.to_frame(), tracked.lookup(table), rules)
    counts = arrays(claimed)["count"]
    assert counts.tolist() == frame.groupby("k", dropna=False)["v"].count().tolist()
