"""``disclosure.suppress``: failing cells made missing, secondary suppression where a margin
would give a lone suppressed cell away, margins recomputed (or suppressed where they are not
sums), and a clear refusal for what cannot be suppressed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jupyter_syft.disclosure import check_result
from jupyter_syft.disclosure.suppress import CannotSuppress, suppress


def _records() -> pd.DataFrame:
    rows = []
    for g in "abc":
        for k in "xyz":
            n = 2 if (g, k) == ("b", "z") else 20
            rows += [(g, k, float(i)) for i in range(n)]
    return pd.DataFrame(rows, columns=["g", "k", "v"])


def _report(*cells: list[str], rule: str = "min_count", outcome: str = "fail") -> dict:
    return {
        "outcome": outcome,
        "rules": "acro",
        "rules_digest": "",
        "checks": [{"rule": rule, "outcome": outcome, "reason": "r", "cells": list(cells)}],
    }


def _lines_ok(hidden: pd.DataFrame) -> None:
    """No row or column of the inner cells has exactly one suppressed cell."""
    for count in [*hidden.sum(axis=1), *hidden.sum(axis=0)]:
        assert count != 1, hidden


def test_a_crosstab_with_margins():
    data = _records()
    table = pd.crosstab(data["g"], data["k"], margins=True)
    before = table.copy()
    report = check_result(table, {"data": data})
    assert [c["cells"] for c in report["checks"] if c["outcome"] == "fail"] == [[["b", "z"]]]
    out, summary = suppress(table, report)
    pd.testing.assert_frame_equal(table, before)  # the value given is not changed
    inner = out.loc[list("abc"), list("xyz")]
    hidden = inner.isna()
    assert hidden.loc["b", "z"] and int(hidden.to_numpy().sum()) == 4
    _lines_ok(hidden)
    for g in "abc":
        assert out.loc[g, "All"] == np.nansum(inner.loc[g])
    for k in "xyz":
        assert out.loc["All", k] == np.nansum(inner[k])
    assert out.loc["All", "All"] == np.nansum(inner.to_numpy())
    assert summary == {
        "cells": 4,
        "primary": 1,
        "secondary": 3,
        "margins": 5,  # rows a and b, columns x and z, the grand total
        "rules": ["min_count"],
    }
    # cells nothing touched keep their values
    assert out.loc["c", "y"] == 20


def test_without_margins_only_the_failing_cells_go():
    data = _records()
    table = pd.crosstab(data["g"], data["k"])
    out, summary = suppress(table, _report(["b", "z"]))
    assert int(out.isna().to_numpy().sum()) == 1 and np.isnan(out.loc["b", "z"])
    assert summary["secondary"] == 0 and summary["margins"] == 0
    assert out.loc["a", "x"] == 20


def test_margins_that_are_not_sums_are_suppressed_not_recomputed():
    data = _records()
    table = pd.pivot_table(data, index="g", columns="k", values="v", aggfunc="mean", margins=True)
    out, _summary = suppress(table, _report(["b", "z"]))
    inner = out.loc[list("abc"), list("xyz")]
    _lines_ok(inner.isna())
    # every margin of a line with a suppressed cell is gone (a mean's margin is no sum)
    for g in "abc":
        assert np.isnan(out.loc[g, "All"]) == bool(inner.loc[g].isna().any())
    for k in "xyz":
        assert np.isnan(out.loc["All", k]) == bool(inner[k].isna().any())
    assert np.isnan(out.loc["All", "All"])


def test_a_pivot_table_of_several_statistics_has_a_margin_per_block():
    data = _records()
    table = pd.pivot_table(
        data, index="g", columns="k", values="v", aggfunc=["sum", "count"], margins=True
    )
    out, _summary = suppress(table, _report(["b", "count / z"]))
    assert np.isnan(out.loc["b", ("count", "z")])
    assert not out["sum"].isna().to_numpy().any()  # the other block is untouched
    count = out["count"].loc[list("abc"), list("xyz")]
    _lines_ok(count.isna())
    assert out.loc["a", ("count", "All")] == np.nansum(count.loc["a"])


def test_a_series_and_arrays():
    series = pd.Series({"common": 100.0, "rare": 7.0}, name="v")
    out, summary = suppress(series, _report(["rare", "v"]))
    assert isinstance(out, pd.Series) and out.name == "v"
    assert np.isnan(out["rare"]) and out["common"] == 100 and summary["cells"] == 1
    unnamed = pd.Series([5, 50], index=["p", "q"])
    out, _ = suppress(unnamed, _report(["p", "value"]))
    assert out.name is None and np.isnan(out["p"])
    grid = np.array([[1, 20], [30, 40]])
    out, _ = suppress(grid, _report(["0", "0"]))
    assert isinstance(out, np.ndarray) and np.isnan(out[0, 0]) and out[1, 1] == 40
    line = np.array([3, 30, 40])
    out, _ = suppress(line, _report(["0", "0"]))
    assert out.shape == (3,) and np.isnan(out[0])


@pytest.mark.parametrize(
    ("value", "report", "words"),
    [
        (3.5, _report(["a", "b"]), "not a table"),
        ({"a": 1}, _report(["a", "value"]), "not a table"),
        ([pd.DataFrame({"n": [1]})], _report(["0", "n"]), "not a table"),
        (np.array(["a", "b"]), _report(["0", "0"]), "not a table"),
        (pd.DataFrame({"n": [1, 20]}), _report(["0", "n"], outcome="review"), "No disclosure"),
        (pd.DataFrame({"n": [1, 20]}), _report(rule="row_level"), "as a whole"),
        (pd.DataFrame({"n": range(60)}), _report(*[[str(i), "n"] for i in range(50)]), "50"),
        (pd.DataFrame({"n": [1, 20]}), _report(["7", "n"]), "no single cell"),
        (pd.DataFrame({"n": range(20_001)}), _report(["0", "n"]), "more than the 20000"),
        (pd.DataFrame({"n": [1, 20]}, index=["a", "a"]), _report(["a", "n"]), "same row"),
        (pd.DataFrame({"name": ["x", "y"], "n": [1, 2]}), _report(["0", "name"]), "numbers"),
    ],
)
def test_what_cannot_be_suppressed_says_why(value, report, words):
    with pytest.raises(CannotSuppress, match=words) as info:
        suppress(value, report)
    assert "withhold" in str(info.value)
