"""Fully checked analyses on the ``datasite`` object (issue 13): crosstab, pivot_table, ols,
logit, histogram and survival.

A Syft function that takes a ``datasite`` argument gets these methods (``AnalysisHelpers`` is a
mixin of the worker's ``datasite`` object, and of the one a local mock run gets, so the code
runs the same on the mocks and on the private data)::

    def table(data, datasite):
        return datasite.crosstab(data["sex"], data["smoker"])

Each returns what a scientist expects (a DataFrame: the table, the model's parameters, the
histogram's counts with their edges, the Kaplan-Meier table) and records, for the disclosure
checks, the exact counts behind it, where the automatic tracking of plain pandas cannot know
them:

- ``crosstab``, ``pivot_table``, ``histogram``: the real keys of every record (references, not
  copies), so the checker recomputes each cell's records, sum and largest values
  (``track.check_tracked``: minimum count, zeros, n-k dominance, p-ratio).
- ``ols``, ``logit``: the residual degrees of freedom, records and parameters (ACRO's minimum
  residual degrees of freedom; DataSHIELD's parameters per record, ``nfilter.glm``).
- ``survival``: the number at risk and of events at each time (the minimum count on the risk
  sets; ACRO's rule for Kaplan-Meier tables: a time point reached before at least the
  threshold's number of records left the risk set tells about single records).

What they record is plain data built in ONE place (:func:`_record_exact`), through the
tracking registry (``jupyter_syft.disclosure.track``); :func:`exact_checks` turns the evidence of
``ols``/``logit``/``survival`` into the report's checks with the Datasite's rules.

statsmodels is imported only when a model or a survival table is asked for; a Datasite
without it answers with :class:`MissingAnalysisPackage` saying what to install. ACRO (the
``acro`` package) is the reference these helpers are tested against, not a run-time
dependency: its checks use ACRO's own fixed thresholds, these use the Datasite's rule set.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from jupyter_syft.disclosure.report import Check
    from jupyter_syft.disclosure.rules import RuleSet

__all__ = [
    "AnalysisHelpers",
    "MissingAnalysisPackage",
    "check_claim",
    "claim",
    "exact_checks",
]

INSTALL_HINT = (
    "the Datasite's owner installs it in the Datasite's Python environment "
    "(pip install statsmodels; ACRO's test extra, jupyter-syft[test], has it too)"
)
MAX_TERMS = 1000  # parameters of a model returned as a table
MAX_BINS = 10_000  # bins of a histogram


class MissingAnalysisPackage(ImportError):
    """A helper needs a package the Datasite does not have (the message says which)."""


def _statsmodels(what: str) -> Any:
    try:
        import statsmodels.api as sm
        import statsmodels.formula.api as smf
    except ImportError as exc:
        raise MissingAnalysisPackage(f"datasite.{what} needs statsmodels: {INSTALL_HINT}") from exc
    return sm, smf


# ---- recording: the one place that talks to the tracking registry ------------------------------


@functools.cache
def _exact_source_class() -> type:
    """``track.Source`` with the evidence of a model or survival table (built on first use, so
    importing this module imports neither pandas nor the checks)."""
    from dataclasses import dataclass, field

    from jupyter_syft.disclosure import track

    @dataclass
    class ExactSource(track.Source):
        """The counts behind a helper's output, as plain data (JSON)."""

        evidence: dict[str, Any] = field(default_factory=dict)

    return ExactSource


class _Unmapped(list[Any]):
    """Row keys of an evidence-only source: ``track.check_tracked`` cannot map it (``len``
    raises), so a checker that does not know the evidence holds the result for review."""

    def __len__(self) -> int:
        raise TypeError("evidence-only source: checked by helpers.exact_checks")


def _record_exact(result: Any, source: Any = None, evidence: dict[str, Any] | None = None) -> Any:
    """Remember what is behind ``result`` for the disclosure checks; returns ``result``.

    ``source``: a ``track.Source`` (the real keys and values: the checker recomputes each cell);
    ``evidence``: plain data for :func:`exact_checks` (models, survival tables). This is the
    only call into ``jupyter_syft.disclosure.track``.
    """
    from jupyter_syft.disclosure import track

    if evidence is not None:
        source = _exact_source_class()(
            row_keys=_Unmapped(), col_keys=[], values={}, func="exact", evidence=evidence
        )
    track._record(result, source)
    return result


def evidence_of(source: Any) -> dict[str, Any] | None:
    """The evidence a helper recorded on a ``track.Source`` (None for any other source)."""
    evidence = getattr(source, "evidence", None)
    return evidence if isinstance(evidence, dict) else None


# ---- the helpers ------------------------------------------------------------------------------


class AnalysisHelpers:
    """Checked analyses: ``datasite.crosstab``, ``pivot_table``, ``ols``, ``logit``,
    ``histogram`` and ``survival``. Each returns the usual pandas output and records the counts
    behind it, so the Datasite's disclosure checks judge every cell with its real records."""

    def crosstab(
        self,
        index: Any,
        columns: Any,
        values: Any = None,
        rownames: Any = None,
        colnames: Any = None,
        aggfunc: Any = None,
        margins: bool = False,
        margins_name: str = "All",
        dropna: bool = True,
        normalize: Any = False,
    ) -> pd.DataFrame:
        """``pandas.crosstab``, checked cell by cell with the real records behind each cell.

        ``index`` and ``columns`` are Series (or lists of Series) of the data; with
        ``values`` and ``aggfunc`` (e.g. ``"mean"``) the cells are statistics of ``values``,
        checked for the minimum group size, n-k dominance and the p-ratio; without them they
        are counts, checked for the minimum count and zeros. Margins are checked too.

        Example: ``datasite.crosstab(data["sex"], data["smoker"], margins=True)``
        """
        import pandas as pd

        from jupyter_syft.disclosure import track

        if (values is None) != (aggfunc is None):
            raise ValueError("datasite.crosstab: give values and aggfunc together, or neither")
        with track.suppressed():
            result = pd.crosstab(
                index,
                columns,
                values=values,
                rownames=rownames,
                colnames=colnames,
                aggfunc=aggfunc,
                margins=margins,
                margins_name=margins_name,
                dropna=dropna,
                normalize=normalize,
            )
        source = track._crosstab_source(
            index,
            columns,
            values=values,
            aggfunc=aggfunc,
            margins=margins,
            margins_name=margins_name,
            normalize=normalize,
        )
        return _record_exact(result, source)

    def pivot_table(
        self,
        data: pd.DataFrame,
        values: Any = None,
        index: Any = None,
        columns: Any = None,
        aggfunc: Any = "mean",
        margins: bool = False,
        margins_name: str = "All",
        fill_value: Any = None,
        dropna: bool = True,
    ) -> pd.DataFrame:
        """``pandas.pivot_table``, checked cell by cell with the real records behind each cell.

        ``index`` and ``columns`` name columns of ``data`` (a name or a list of names);
        ``aggfunc`` is a name (``"mean"``, ``"sum"``, ``"count"``, ``"size"``...) or a
        function. Statistics are checked for the minimum group size, n-k dominance and the
        p-ratio, counts for the minimum count and zeros.

        Example: ``datasite.pivot_table(data, values="income", index="region",
        columns="sex", aggfunc="mean")``
        """
        import pandas as pd

        from jupyter_syft.disclosure import track

        if not isinstance(data, pd.DataFrame):
            raise TypeError("datasite.pivot_table: data must be a DataFrame")
        with track.suppressed():
            result = pd.pivot_table(
                data,
                values=values,
                index=index,
                columns=columns,
                aggfunc=aggfunc,
                fill_value=fill_value,
                margins=margins,
                dropna=dropna,
                margins_name=margins_name,
                observed=True,
            )
        source = track._pivot_source(
            data,
            values=values,
            index=index,
            columns=columns,
            aggfunc=aggfunc,
            margins=margins,
            margins_name=margins_name,
        )
        if source is None:
            raise ValueError(
                "datasite.pivot_table: index and columns must be names of columns of data "
                "(a name or a list of names)"
            )
        return _record_exact(result, source)

    def histogram(self, data: Any, bins: Any = 10, range: Any = None) -> pd.DataFrame:
        """A histogram's counts: a DataFrame with one row per bin, columns ``left``,
        ``right`` (the bin's edges) and ``count`` (records in ``[left, right)``; the last bin
        includes its right edge). Missing values and values outside ``range`` are left out.

        ``bins`` is a number of equal bins or the list of edges, as for ``numpy.histogram``.
        Every bin is checked for the minimum count (and zeros where they are disclosive).
        With a number of bins and no ``range``, the outer edges are the data's smallest and
        largest values, values of single records: the result is then held for review; give
        ``range`` (or the edges) instead.

        Example: ``datasite.histogram(data["age"], bins=[0, 20, 40, 60, 80, 120])``
        """
        import numpy as np
        import pandas as pd

        n_bins = bins if isinstance(bins, (int, np.integer)) else len(np.atleast_1d(bins)) - 1
        if not 1 <= int(n_bins) <= MAX_BINS:
            raise ValueError(f"datasite.histogram: from 1 to {MAX_BINS} bins")
        values = pd.to_numeric(pd.Series(np.asarray(data).ravel()), errors="coerce")
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
        arr = arr[np.isfinite(arr)]
        counts, edges = np.histogram(arr, bins=bins, range=range)
        result = pd.DataFrame(
            {"left": edges[:-1], "right": edges[1:], "count": counts.astype("int64")}
        )
        evidence = {
            "kind": "histogram",
            "counts": [int(c) for c in counts],
            # numpy's own edges: the smallest and largest values of the data
            "edges_from_data": bool(isinstance(bins, (int, np.integer)) and range is None),
        }
        return _record_exact(result, evidence=evidence)

    def ols(self, formula: str, data: pd.DataFrame) -> pd.DataFrame:
        """An ordinary least squares regression (statsmodels' formula, e.g. ``"y ~ x + C(g)"``).

        Returns its parameters as a table: one row per term, the columns of statsmodels'
        ``summary2()`` (``Coef.``, ``Std.Err.``, ``t``, ``P>|t|``, ``[0.025``, ``0.975]``).
        Checked: the residual degrees of freedom against the rules' minimum (ACRO's
        ``safe_dof_threshold``), and the parameters per record where the rules cap them
        (DataSHIELD's ``nfilter.glm``).
        """
        _, smf = _statsmodels("ols")
        return _model_table("ols", smf.ols(_formula(formula), data=_frame(data, "ols")).fit())

    def logit(self, formula: str, data: pd.DataFrame) -> pd.DataFrame:
        """A logistic regression (statsmodels' formula, e.g. ``"died ~ age + C(sex)"``; the
        outcome is 0/1).

        Returns its parameters as a table: one row per term (``Coef.``, ``Std.Err.``, ``z``,
        ``P>|z|``, ``[0.025``, ``0.975]``). Checked like :meth:`ols`: the residual degrees of
        freedom, and the parameters per record where the rules cap them.
        """
        _, smf = _statsmodels("logit")
        model = smf.logit(_formula(formula), data=_frame(data, "logit"))
        return _model_table("logit", model.fit(disp=0))

    def survival(self, durations: Any, event_observed: Any, entry: Any = None) -> pd.DataFrame:
        """A Kaplan-Meier survival table (statsmodels' ``SurvfuncRight``, as ACRO's
        ``surv_func``): one row per event time, the columns ``Surv prob``, ``Surv prob SE``,
        ``num at risk`` and ``num events``.

        ``durations``: time to the event or to censoring, per record; ``event_observed``: 1
        where the event happened, 0 where the record was censored; ``entry``: entry times
        (left truncation), optional. Checked: every risk set counts at least the rules'
        minimum, and (ACRO's rule) each time point is reached after at least that many
        records left the risk set; otherwise a step tells about single records (group the
        durations, e.g. into months, so that more records share each time).
        """
        import numpy as np

        sm, _ = _statsmodels("survival")
        time = np.asarray(durations, dtype="float64").ravel()
        status = np.asarray(event_observed, dtype="float64").ravel()
        if len(time) != len(status):
            raise ValueError("datasite.survival: durations and event_observed differ in length")
        start = None if entry is None else np.asarray(entry, dtype="float64").ravel()
        table = sm.SurvfuncRight(time, status, entry=start).summary()
        evidence = {
            "kind": "survival",
            "at_risk": [int(v) for v in table["num at risk"].to_numpy()],
            "events": [int(v) for v in table["num events"].to_numpy()],
        }
        return _record_exact(table, evidence=evidence)


def _formula(formula: Any) -> str:
    if not isinstance(formula, str) or "~" not in formula or len(formula) > 2000:
        raise ValueError(
            "the formula must be a text like 'y ~ x1 + x2' (statsmodels' formulas, at most "
            "2000 characters)"
        )
    return formula


def _frame(data: Any, what: str) -> Any:
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"datasite.{what}: data must be a DataFrame")
    return data


def _model_table(kind: str, fitted: Any) -> pd.DataFrame:
    table = fitted.summary2().tables[1]
    if len(table) > MAX_TERMS:
        table = table.iloc[:MAX_TERMS]
    evidence = {
        "kind": "model",
        "model": kind,
        "df_resid": float(fitted.df_resid),
        "nobs": float(fitted.nobs),
        "n_params": len(fitted.params),
    }
    return _record_exact(table, evidence=evidence)


# ---- claims: the evidence as it travels from the process that ran the code ----------------------

CLAIM_KIND = "helper"


def claim(frame: pd.DataFrame, source: Any) -> dict[str, Any] | None:
    """The claim of a helper's model or survival table (``track.claim``'s for the others):
    the evidence, tied to the table by its shape and labels. None: not a helper's evidence."""
    from jupyter_syft.disclosure import track

    evidence = evidence_of(source)
    if evidence is None:
        return None
    rows, cols = frame.shape
    return {
        "rows": rows,
        "cols": cols,
        "labels": track.labels_digest(frame),
        "kind": CLAIM_KIND,
        "evidence": evidence,
    }


def check_claim(
    frame: pd.DataFrame, claimed: Any, rules: RuleSet, input_rows: int | None = None
) -> list[Check] | None:
    """The rules on a helper's table with the evidence ``claimed`` for it by a process that
    may have lied. None: not a helper's claim, or not for this table. Evidence that cannot be
    true (more records than the largest input, a model whose parameters are not the table's
    rows, risk sets unlike the table's own) fails as "inconsistent group statistics"."""
    from jupyter_syft.disclosure import track
    from jupyter_syft.disclosure.report import FAIL, Check

    if not isinstance(claimed, dict) or claimed.get("kind") != CLAIM_KIND:
        return None
    rows, cols = frame.shape
    if (
        claimed.get("rows") != rows
        or claimed.get("cols") != cols
        or claimed.get("labels") != track.labels_digest(frame)
    ):
        return None
    evidence = claimed.get("evidence")
    try:
        consistent = _consistent(frame, evidence, input_rows)
    except Exception:
        consistent = False
    if not consistent or not isinstance(evidence, dict):
        return [Check("claims", FAIL, track.INCONSISTENT)]
    return exact_checks(frame, evidence, rules)


def _count(value: Any, most: int | None) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value  # not NaN
        and 0 <= value < float("inf")
        and (most is None or value <= most)
    )


def _consistent(frame: pd.DataFrame, evidence: Any, input_rows: int | None) -> bool:
    import numpy as np

    if not isinstance(evidence, dict):
        return False
    kind = evidence.get("kind")
    if kind == "model":
        nobs, dof, k = evidence.get("nobs"), evidence.get("df_resid"), evidence.get("n_params")
        if not _count(nobs, input_rows) or not _count(dof, None):
            return False
        assert nobs is not None and dof is not None  # numbers (_count)
        return bool(float(dof) <= float(nobs) and isinstance(k, int) and k == len(frame))
    if kind == "histogram":
        counts = evidence.get("counts")
        if not isinstance(counts, list) or len(counts) != len(frame):
            return False
        if not all(isinstance(c, int) and _count(c, input_rows) for c in counts):
            return False
        if input_rows is not None and sum(counts) > input_rows:
            return False
        if "count" not in frame.columns:
            return False  # the counts are the table's own cells: they must be there
        mine = frame["count"].to_numpy(dtype="float64", na_value=np.nan)
        return bool(np.array_equal(mine, np.asarray(counts, dtype="float64")))
    if kind == "survival":
        at_risk, events = evidence.get("at_risk"), evidence.get("events")
        if not isinstance(at_risk, list) or not isinstance(events, list):
            return False
        if len(at_risk) != len(frame) or len(events) != len(frame):
            return False
        if not all(_count(v, input_rows) for v in at_risk + events):
            return False
        if any(e > r for e, r in zip(events, at_risk, strict=True)):
            return False
        # the table's own columns, where it kept them, must be these counts
        for column, claimed in (("num at risk", at_risk), ("num events", events)):
            if column in frame.columns:
                mine = frame[column].to_numpy(dtype="float64", na_value=np.nan)
                if not np.array_equal(mine, np.asarray(claimed, dtype="float64")):
                    return False
        return True
    return False


# ---- checking the evidence ----------------------------------------------------------------------


def exact_checks(frame: pd.DataFrame, evidence: dict[str, Any], rules: RuleSet) -> list[Check]:
    """The report's checks of a helper's model or survival table, from its recorded evidence
    (``frame`` is the result, for naming its cells). Never a value of the data in a reason."""
    from jupyter_syft.disclosure.report import REVIEW, Check

    kind = evidence.get("kind")
    if kind == "model":
        return _model_checks(evidence, rules)
    if kind == "survival":
        return _survival_checks(frame, evidence, rules)
    if kind == "histogram":
        return _histogram_checks(frame, evidence, rules)
    return [Check("table", REVIEW, "a helper's output of an unknown kind")]


def _model_checks(evidence: dict[str, Any], rules: RuleSet) -> list[Check]:
    from jupyter_syft.disclosure.report import FAIL, PASS, Check

    checks: list[Check] = []
    dof = float(evidence["df_resid"])
    if dof < rules.min_dof:
        checks.append(
            Check(
                "dof",
                FAIL,
                f"the model has fewer than {rules.min_dof} residual degrees of freedom: with so "
                "few records per parameter it comes close to a table of single records",
            )
        )
    else:
        checks.append(Check("dof", PASS, f"residual degrees of freedom at least {rules.min_dof}"))
    cap = rules.max_params_per_record
    if cap is not None:
        nobs, k = float(evidence["nobs"]), int(evidence["n_params"])
        if nobs <= 0 or k > cap * nobs:
            checks.append(
                Check(
                    "params_per_record",
                    FAIL,
                    f"the model has more than {cap} parameters per record",
                )
            )
        else:
            checks.append(Check("params_per_record", PASS, f"at most {cap} parameters per record"))
    return checks


def _histogram_checks(frame: pd.DataFrame, evidence: dict[str, Any], rules: RuleSet) -> list[Check]:
    import numpy as np
    import pandas as pd

    from jupyter_syft.disclosure.report import REVIEW, Check
    from jupyter_syft.disclosure.tables import frequency_checks

    counts = np.asarray([int(c) for c in evidence["counts"]], dtype="float64")
    if len(counts) != len(frame):
        raise ValueError("the histogram does not match its evidence")
    from_data = bool(evidence.get("edges_from_data"))
    # edges taken from the data are values of single records: bins are then named by number,
    # as the report goes to the scientist even while the result is held
    labels = [f"bin {i + 1}" for i in range(len(frame))] if from_data else _bin_labels(frame)
    named = pd.DataFrame({"count": counts}, index=labels)
    checks = frequency_checks(named, counts[:, None], rules)
    if from_data:
        checks.append(
            Check(
                "bin_edges",
                REVIEW,
                "the outer bin edges are the smallest and largest values of the data (values "
                "of single records): give the edges, or range=, instead of a number of bins",
                [[named.index[0], "left"], [named.index[-1], "right"]],
            )
        )
    return checks


def _bin_labels(frame: pd.DataFrame) -> list[str]:
    """``[left, right)`` per bin (the last closed), from the table's edges where it kept them."""
    if not {"left", "right"} <= set(frame.columns):
        return [f"bin {i + 1}" for i in range(len(frame))]
    n = len(frame)
    return [
        f"[{left:.6g}, {right:.6g}" + ("]" if i == n - 1 else ")")
        for i, (left, right) in enumerate(zip(frame["left"], frame["right"], strict=True))
    ]


def survival_steps(at_risk: list[int], threshold: int) -> list[bool]:
    """Per time point, whether it is reached before ``threshold`` records left the risk set
    since the last time point that was not (ACRO's ``_rounded_survival_table``: the rows whose
    events it would hold back). The first row is never flagged (as ACRO)."""
    flagged = [False] * len(at_risk)
    left = 0
    for i in range(1, len(at_risk)):
        left += at_risk[i - 1] - at_risk[i]
        if left < threshold:
            flagged[i] = True
        else:
            left = 0
    return flagged


def _survival_checks(frame: pd.DataFrame, evidence: dict[str, Any], rules: RuleSet) -> list[Check]:
    import numpy as np

    from jupyter_syft.disclosure.report import FAIL, PASS, Check
    from jupyter_syft.disclosure.tables import marked_cells, plural

    at_risk = [int(v) for v in evidence["at_risk"]]
    t = rules.safe_threshold
    n = len(at_risk)
    if len(frame) != n:
        raise ValueError("the survival table does not match its evidence")
    columns = list(frame.columns)
    # rows named by position: a row's time is a record's own duration, and the report goes to
    # the scientist even while the result is held
    frame = frame.set_axis([f"time point {i + 1}" for i in range(n)], axis=0)

    def mask(rows: list[bool], column: str) -> np.ndarray:
        out = np.zeros(frame.shape, dtype=bool)
        if column in columns:
            out[:, columns.index(column)] = rows
        return out

    checks: list[Check] = []
    small = [0 < r < t for r in at_risk]
    if any(small):
        checks.append(
            Check(
                "min_count",
                FAIL,
                f"{plural(sum(small), 'time point has', 'time points have')} fewer than {t} "
                "records at risk",
                marked_cells(frame, mask(small, "num at risk")),
            )
        )
    steps = survival_steps(at_risk, t)
    if any(steps):
        checks.append(
            Check(
                "survival_steps",
                FAIL,
                f"{plural(sum(steps), 'time point is', 'time points are')} reached after fewer "
                f"than {t} records left the risk set: each step tells about single records "
                "(group the durations so more records share each time)",
                marked_cells(frame, mask(steps, "num events")),
            )
        )
    if not checks:
        checks.append(
            Check(
                "min_count",
                PASS,
                f"every risk set counts at least {t} records, and at least {t} records leave "
                "it between time points",
            )
        )
    return checks
