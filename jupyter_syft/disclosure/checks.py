"""``check_result``: the automatic disclosure checks of one result, next to the private data.

It runs inside the sandboxed worker, in the process that did NOT run the user's function (see
``jupyter_syft.server.execution.worker``): on the result decoded from the bytes the function's
process sent, with the function's inputs (the private data or its mock) and the per-cell group
statistics that process computed for the tracked tables it returned (``collect_claims``, then
``check_result(..., claims=...)``): untrusted evidence, checked for consistency (impossible
statistics fail as "inconsistent group statistics"; a claim for other labels is ignored), and
never a reason to skip the row-level checks. In one process (tests, local runs) it looks the
tracked tables up itself. What it decides, per kind of result:

- **Row-level data fails**: a table (DataFrame, Series, ndarray, list of dicts, dict of lists)
  holding rows of an input (same index labels with equal values in the shared columns, or the
  same combinations of values in the input's own columns), the first or last values of an
  input's column, values of an identifier-like input column (all values unique), or as many rows
  as an input.
- **Frequency tables** (integer-valued tables: ``value_counts``, ``size``, ``count``,
  ``crosstab``, ``pivot_table(aggfunc="count")``...): a cell below the minimum count fails,
  a zero (or a NaN: pivot_table's empty cell) fails where zeros are disclosive, an unrounded
  count fails under a rounding rule. Untracked, a table of integer *sums* cannot be told from
  counts and is checked as counts; tracked, it is checked as the magnitude table it is.
- **Magnitude tables** (means, sums, ``describe``): "review" unless the group sizes are known
  (``jupyter_syft.disclosure.track`` records them when installed), then minimum group size,
  n-k dominance and p-ratio are checked with the real groups.
- **Anything else** (a lone number, text, an object, a model): "review" with the reason.
- **Size caps**: more rows, or more bytes, than the rule set allows fails.

``check_result`` never raises and never puts a value of the data into a reason: a check that
raises becomes "review" with "the checker failed: <type>".
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from jupyter_syft.disclosure import helpers, track
from jupyter_syft.disclosure.report import FAIL, PASS, REVIEW, Check, build_report, label
from jupyter_syft.disclosure.rules import PRESETS, RuleSet
from jupyter_syft.disclosure.tables import frequency_checks, marked_cells, plural

__all__ = ["check_result", "collect_claims"]

MAX_DEPTH = 3  # nesting of containers looked into
MAX_ITEMS = 50  # items of a container looked into
SAMPLE = 2000  # rows compared where a check would be quadratic
DESCRIBE_ROWS = frozenset({"count", "mean", "std", "min", "max"})
_HEAD_TAIL = (
    "row-level data: a column of the result holds the first or last values of a column of "
    "the input {input}"
)
_IDENTIFIER = (
    "row-level data: the result holds values of single records: of an identifier-like column "
    "of the input {input} (every value unique)"
)


def check_result(
    value: Any,
    inputs: Mapping[str, Any] | None = None,
    rules: RuleSet | dict[str, Any] | str | None = None,
    *,
    encoded_size: int | None = None,
    claims: list[Any] | None = None,
) -> dict[str, Any]:
    """The disclosure report of ``value`` (see the module docstring). Never raises.

    ``inputs`` maps the function's argument names to the data it was given; ``encoded_size``
    (optional) is the size in bytes of the result as it would be sent, for the size cap.

    ``claims``: the per-cell group statistics of the tracked tables in ``value``, made by
    ``collect_claims`` in another process (the one that ran the function, which may have
    lied: they are checked, see ``track.check_claim``); the tracking of this process is then
    not consulted. Without it, tracked tables are looked up here (one process).
    """
    checks: list[Check] = []
    try:
        if not isinstance(rules, RuleSet):
            rules = RuleSet.from_json(rules)
    except Exception:
        rules = PRESETS["acro"]
        checks.append(Check("rules", REVIEW, "the rule set was invalid; ACRO's defaults used"))
    try:
        ctx = _Context(rules, dict(inputs or {}), encoded_size, claims=claims)
        if encoded_size is not None and encoded_size > rules.max_bytes:
            checks.append(
                Check(
                    "max_bytes",
                    FAIL,
                    f"the result is larger than {rules.max_bytes} bytes (the size cap)",
                )
            )
        with track.suppressed():
            checks.extend(ctx.check(value, depth=0))
    except BaseException as exc:  # a checker error must hold the result, not crash
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        checks.append(Check("checker", REVIEW, f"the checker failed: {type(exc).__name__}"))
    try:
        return build_report(checks, rules)
    except Exception as exc:  # pragma: no cover - build_report is plain
        return {
            "outcome": REVIEW,
            "rules": "unknown",
            "rules_digest": "",
            "checks": [
                {
                    "rule": "checker",
                    "outcome": REVIEW,
                    "reason": f"the checker failed: {type(exc).__name__}",
                    "cells": [],
                }
            ],
        }


def collect_claims(
    value: Any, rules: RuleSet | dict[str, Any] | str | None = None, max_bytes: int = 16 << 20
) -> list[dict[str, Any]]:
    """The per-cell group statistics of each tracked table in ``value`` (found as
    ``check_result`` walks it), as JSON-ready dicts keyed by the table's place in ``value``:
    made in the process that ran the function (where ``track`` recorded its aggregations), for
    ``check_result(..., claims=...)`` in the one that checks. At most ``max_bytes`` of JSON:
    tables beyond are left out (they stay "review"). Never raises."""
    try:
        if not isinstance(rules, RuleSet):
            rules = RuleSet.from_json(rules)
        ctx = _Context(rules, {}, None, collect=[], collect_bytes=max_bytes)
        with track.suppressed():
            ctx.check(value, depth=0)
        return ctx.collected
    except Exception:
        return []


# ---------------------------------------------------------------------------------------------


class _Context:
    def __init__(
        self,
        rules: RuleSet,
        inputs: dict[str, Any],
        encoded_size: int | None,
        claims: list[Any] | None = None,
        collect: list[dict[str, Any]] | None = None,
        collect_bytes: int = 0,
    ):
        self.rules = rules
        self.inputs = inputs
        self.encoded_size = encoded_size
        self._frames: dict[str, pd.DataFrame] | None = None
        # claims made elsewhere, by path (later ones for the same path are ignored)
        self.claims: dict[str, Any] | None = None
        if claims is not None:
            self.claims = {}
            for item in claims:
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    self.claims.setdefault(item["path"], item)
        self.collected: list[dict[str, Any]] = []
        self.collecting = collect is not None
        self._room = collect_bytes

    def lookup(self, value: Any, any_column: bool = False) -> track.Info | None:
        if self.claims is not None:
            return None  # the claims stand for this process's (empty) tracking
        return track.lookup(value, any_column=any_column)

    # ---- dispatch ---------------------------------------------------------------------

    def check(self, value: Any, depth: int, path: tuple[str, ...] = ()) -> list[Check]:
        if value is None:
            return [Check("empty", PASS, "the result is None: it holds no data")]
        if isinstance(value, pd.DataFrame):
            return self.table(value, self.lookup(value), path)
        if isinstance(value, pd.Series):
            return self.table(_series_frame(value), self.lookup(value), path)
        if isinstance(value, pd.Index):
            return self.table(pd.DataFrame({"value": value}), None, path)
        if isinstance(value, np.ndarray):
            return self.array(value, path)
        if isinstance(value, (bool, np.bool_)):
            return [Check("scalar", REVIEW, "a lone true/false value: no rule can classify it")]
        if isinstance(value, (numbers.Number, np.generic)):
            return [
                Check(
                    "scalar",
                    REVIEW,
                    "a lone number: no rule can tell whether it is safe "
                    "(its group size is unknown)",
                )
            ]
        if isinstance(value, (str, bytes)):
            return [Check("text", REVIEW, "text: no rule can classify it")]
        if isinstance(value, Mapping):
            return self.mapping(value, depth, path)
        if isinstance(value, (list, tuple)):
            return self.sequence(value, depth, path)
        model = _model_checks(value, self.rules)
        if model is not None:
            return model
        return [
            Check(
                "object",
                REVIEW,
                f"an object of type {label(type(value).__name__)}: no rule can classify it",
            )
        ]

    def array(self, arr: np.ndarray, path: tuple[str, ...]) -> list[Check]:
        if arr.ndim == 0:
            return self.check(arr.item(), depth=MAX_DEPTH, path=path)
        if arr.ndim == 1:
            return self.table(pd.Series(arr).to_frame(), None, path)
        if arr.ndim == 2:
            return self.table(pd.DataFrame(arr), None, path)
        checks = self.size(int(arr.shape[0]), int(arr.nbytes))
        checks.append(
            Check("object", REVIEW, f"an array of {arr.ndim} dimensions: no rule can classify it")
        )
        return checks

    def mapping(self, value: Mapping[Any, Any], depth: int, path: tuple[str, ...]) -> list[Check]:
        items = list(value.items())[: MAX_ITEMS + 1]
        if not items:
            return [Check("empty", PASS, "an empty mapping: it holds no data")]
        values = [v for _, v in items]
        if all(isinstance(v, (list, tuple, np.ndarray, pd.Series)) for v in values):
            lengths = {len(v) for v in values}
            if len(lengths) == 1 and len(value) <= MAX_ITEMS * 20:
                n = lengths.pop()
                if n > self.rules.max_rows:
                    return self.size(n, None) + self.row_count(n)
                try:
                    frame = pd.DataFrame({k: list(v) for k, v in value.items()})
                except Exception:
                    frame = None
                if frame is not None:
                    return self.table(frame, None, path)
        if len(value) <= self.rules.max_rows and all(
            isinstance(v, (numbers.Number, np.generic)) for v in value.values()
        ):
            frame = pd.Series(dict(value)).to_frame("value")
            return self.table(frame, self.lookup(frame, any_column=True), path)
        return self.container(items, depth, len(value), path)

    def sequence(
        self, value: list[Any] | tuple[Any, ...], depth: int, path: tuple[str, ...]
    ) -> list[Check]:
        if not value:
            return [Check("empty", PASS, "an empty list: it holds no data")]
        n = len(value)
        head = value[:SAMPLE]
        if all(isinstance(v, Mapping) for v in head):
            if n > self.rules.max_rows:
                return self.size(n, None) + self.row_count(n)
            try:
                frame = pd.DataFrame.from_records(list(value))
            except Exception:
                frame = None
            if frame is not None:
                return self.table(frame, None, path)
        if all(isinstance(v, (numbers.Number, np.generic, str)) for v in head):
            if n > self.rules.max_rows:
                return self.size(n, None) + self.row_count(n)
            return self.table(pd.Series(list(value)).to_frame(), None, path)
        return self.container(list(enumerate(value[: MAX_ITEMS + 1])), depth, n, path)

    def container(
        self, items: list[tuple[Any, Any]], depth: int, n: int, path: tuple[str, ...]
    ) -> list[Check]:
        if depth >= MAX_DEPTH:
            return [Check("object", REVIEW, "nested too deeply to check")]
        checks: list[Check] = []
        if n > MAX_ITEMS:
            checks.append(
                Check("object", REVIEW, f"more than {MAX_ITEMS} items: only the first checked")
            )
        for key, item in items[:MAX_ITEMS]:
            for c in self.check(item, depth + 1, (*path, label(key))):
                c["reason"] = f"item {label(key)}: {c['reason']}"
                checks.append(Check(c["rule"], c["outcome"], c["reason"], c["cells"]))
        return checks

    # ---- tables -----------------------------------------------------------------------

    def size(self, rows: int, nbytes: int | None) -> list[Check]:
        checks = []
        if rows > self.rules.max_rows:
            checks.append(
                Check(
                    "max_rows",
                    FAIL,
                    f"the result has more than {self.rules.max_rows} rows (the size cap)",
                )
            )
        # with the encoded size known, check_result judged the whole result by it
        size = nbytes if self.encoded_size is None else None
        if size is not None and size > self.rules.max_bytes:
            checks.append(
                Check(
                    "max_bytes",
                    FAIL,
                    f"the result is larger than {self.rules.max_bytes} bytes (the size cap)",
                )
            )
        return checks

    def row_count(self, rows: int) -> list[Check]:
        checks = []
        for name, frame in self.frames().items():
            if len(frame) > self.rules.safe_threshold and rows == len(frame):
                checks.append(
                    Check(
                        "row_level",
                        FAIL,
                        f"row-level data: the result has as many rows as the input {label(name)!r}",
                    )
                )
        return checks

    def frames(self) -> dict[str, pd.DataFrame]:
        if self._frames is None:
            self._frames = {}
            for name, value in self.inputs.items():
                frame = _as_frame(value)
                if frame is not None:
                    self._frames[str(name)] = frame
        return self._frames

    def input_rows(self) -> int | None:
        """Rows of the largest input table: no group of a plain aggregation holds more
        records. A bound for claims made elsewhere only (in one process, the tracking is
        trusted, and a table of concatenated or merged inputs may hold more)."""
        if self.claims is None:
            return None
        sizes = [len(f) for f in self.frames().values()]
        return max(sizes) if sizes else None

    def table(
        self, frame: pd.DataFrame, info: track.Info | None, path: tuple[str, ...] = ()
    ) -> list[Check]:
        if self.collecting:
            self.collect(frame, info, path)
            return []
        claimed: Any = None
        if self.claims is not None:
            claimed = self.claims.get(json.dumps(list(path)))
        elif info is not None:
            try:
                claimed = helpers.claim(frame, info.source) or track.claim(frame, info, self.rules)
            except Exception as exc:  # a source it cannot map: the table is not passed
                return [Check("table", REVIEW, f"the checker failed: {type(exc).__name__}")]
        rows = len(frame)
        nbytes: int | None = None
        if rows <= self.rules.max_rows and self.encoded_size is None:
            nbytes = int(frame.memory_usage(deep=True, index=True).sum())
        checks = self.size(rows, nbytes)
        checks += self.row_count(rows)
        if checks:  # fails already: skip the costly checks on a huge result
            return checks
        if claimed is None:
            checks += _guard(lambda: _row_level(frame, self.frames(), self.rules), "row_level")
        elif self.claims is not None:
            # claims from the process that ran the function, which may have lied: row-level
            # data fails even in a table claimed to be an aggregation. Only the columns of
            # single records' values by nature (medians, min, max...) are left out.
            checks += _guard(
                lambda: _row_level(
                    _claimed_statistics(frame, claimed, ("spread", "single")),
                    self.frames(),
                    self.rules,
                    _claimed_statistics(frame, claimed, _STATISTICS),
                ),
                "row_level",
            )
        if any(c["outcome"] == FAIL for c in checks):
            return checks
        if claimed is not None:
            # an aggregation pandas computed (tracked): its cells are judged by the group rules
            # with the real groups behind them
            tracked = _guard_none(
                lambda: (
                    helpers.check_claim(frame, claimed, self.rules, self.input_rows())
                    or track.check_claim(frame, claimed, self.rules, self.input_rows())
                ),
                "table",
            )
            if tracked is not None:
                return checks + tracked
        checks += _guard(lambda: _classify(frame, self.rules), "table")
        return checks

    def collect(self, frame: pd.DataFrame, info: track.Info | None, path: tuple[str, ...]) -> None:
        if info is None or len(frame) > self.rules.max_rows:
            return
        try:
            item = helpers.claim(frame, info.source) or track.claim(frame, info, self.rules)
            item["path"] = json.dumps(list(path))
            size = len(json.dumps(item))
        except Exception:
            return
        if size <= self._room:
            self._room -= size
            self.collected.append(item)


# what a claimed table's cells are, when its values are looked for in the inputs' identifier
# columns: statistics (equal to a record's value by nature, or by chance), and counts
_STATISTICS = ("spread", "single", "stat", "count", "share")


def _claimed_statistics(
    frame: pd.DataFrame, claimed: Any, leave_out: tuple[str, ...]
) -> pd.DataFrame:
    """``frame`` without the columns a claim says are statistics of kinds ``leave_out``:
    medians, min, max are a record's value by nature, and a mean may equal one by chance;
    the group rules judge them."""
    if not isinstance(claimed, dict):
        return frame
    if claimed.get("kind") == "counts":  # every column holds counts
        return frame.iloc[:, []] if "count" in leave_out else frame
    kinds = claimed.get("kinds")
    if not isinstance(kinds, list) or len(kinds) != frame.shape[1]:
        return frame
    keep = [j for j, k in enumerate(kinds) if k not in leave_out]
    return frame.iloc[:, keep]


def _guard_none(fn: Any, rule: str) -> list[Check] | None:
    try:
        result: list[Check] | None = fn()
        return result
    except Exception as exc:
        return [Check(rule, REVIEW, f"the checker failed: {type(exc).__name__}")]


def _guard(fn: Any, rule: str) -> list[Check]:
    try:
        result: list[Check] = fn()
        return result
    except Exception as exc:
        return [Check(rule, REVIEW, f"the checker failed: {type(exc).__name__}")]


def _series_frame(series: pd.Series) -> pd.DataFrame:
    name = series.name if series.name is not None else "value"
    return series.to_frame(name=name)


def _as_frame(value: Any) -> pd.DataFrame | None:
    try:
        if isinstance(value, pd.DataFrame):
            return value
        if isinstance(value, pd.Series):
            return _series_frame(value)
        if isinstance(value, np.ndarray) and value.ndim in (1, 2):
            return pd.DataFrame(value)
    except Exception:
        return None
    return None


# ---- row-level ------------------------------------------------------------------------------


def _row_level(
    result: pd.DataFrame,
    inputs: dict[str, pd.DataFrame],
    rules: RuleSet,
    for_identifiers: pd.DataFrame | None = None,
) -> list:
    """``for_identifiers``: the part of ``result`` looked into for values of single records
    (default: all of it)."""
    checks: list[Check] = []
    if not len(result):
        return checks
    for name, frame in inputs.items():
        if not len(frame):
            continue
        for fn in (_same_rows, _same_values, _head_tail, _identifier):
            try:
                part = (
                    for_identifiers if fn is _identifier and for_identifiers is not None else result
                )
                found = fn(part, frame, rules)
            except Exception:
                found = None
            if found:
                checks.append(Check("row_level", FAIL, found.replace("{input}", repr(label(name)))))
                break
    return checks


def _shared_columns(result: pd.DataFrame, frame: pd.DataFrame) -> list[Any]:
    try:
        return [c for c in result.columns if c in frame.columns]
    except TypeError:
        return []


def _same_rows(result: pd.DataFrame, frame: pd.DataFrame, rules: RuleSet) -> str | None:
    """Rows with the same index labels and equal values in every shared column."""
    shared = _shared_columns(result, frame)
    if not shared or not frame.index.is_unique:
        return None
    index = result.index[:SAMPLE]
    if not index.is_unique:
        index = index.unique()
    if not _comparable(index, frame.index):
        return None  # no label can be equal (and a costly conversion of the input's labels)
    common = index.intersection(frame.index)
    if not len(common):
        return None
    mine = result.loc[common, shared]
    theirs = frame.loc[common, shared]
    equal = (mine.to_numpy() == theirs.to_numpy()) | (
        mine.isna().to_numpy() & theirs.isna().to_numpy()
    )
    matched = int(equal.all(axis=1).sum())
    if matched and matched * 2 >= len(common):
        return "row-level data: rows of the result are rows of the input {input} (same labels)"
    return None


def _same_values(result: pd.DataFrame, frame: pd.DataFrame, rules: RuleSet) -> str | None:
    """A projection of the input: its rows are combinations of values found in the input."""
    shared = _shared_columns(result, frame)
    if len(shared) != len(result.columns) or not shared:
        return None
    if len(shared) < 2:
        return None  # one low-cardinality column: see _identifier for the others
    mine = result[shared].iloc[:SAMPLE]
    theirs = frame[shared]
    h_mine = pd.util.hash_pandas_object(mine, index=False)
    h_theirs = pd.util.hash_pandas_object(theirs, index=False)
    matched = int(h_mine.isin(h_theirs).sum())
    if matched and matched * 2 >= len(mine):
        return "row-level data: rows of the result are rows of the input {input} (same values)"
    return None


def _head_tail(result: pd.DataFrame, frame: pd.DataFrame, rules: RuleSet) -> str | None:
    """A column of the result equals the first or last values of a column of the input."""
    k = len(result)
    if k < 2 or k > len(frame):
        return None
    head = result.iloc[:, :MAX_ITEMS]
    if head.shape[1] and len(set(head.dtypes)) == 1 and isinstance(head.dtypes.iloc[0], np.dtype):
        mine_columns = list(head.to_numpy().T)  # one block: no per-column indexing
    else:
        mine_columns = [head.iloc[:, j].to_numpy() for j in range(head.shape[1])]
    mine_columns = [m for m in mine_columns if m.dtype.kind in "biufcmMO"]
    if not mine_columns:
        return None
    parts = []  # each input column's first and last k values, taken once
    for j in range(min(frame.shape[1], 200)):
        col = frame.iloc[:, j]
        parts += [col.iloc[:k].to_numpy(), col.iloc[-k:].to_numpy()]
    for mine in mine_columns:
        for theirs in parts:
            if theirs.dtype.kind != mine.dtype.kind and not (
                theirs.dtype.kind in "iuf" and mine.dtype.kind in "iuf"
            ):
                continue
            try:
                if bool(np.all(theirs == mine)):
                    return _HEAD_TAIL
            except Exception:  # noqa: S112 - incomparable types: not the same values
                continue
    return None


def _identifier(result: pd.DataFrame, frame: pd.DataFrame, rules: RuleSet) -> str | None:
    """Values of an identifier-like input column (every value unique) in the result."""
    if len(frame) <= rules.safe_threshold:
        return None
    columns: list[tuple[Any, pd.Series]] = [
        (c, result[c].iloc[:SAMPLE]) for c in list(result.columns)[:MAX_ITEMS]
    ]
    if not isinstance(result.index, pd.RangeIndex):
        columns.append((result.index.name, pd.Series(result.index[:SAMPLE])))
    columns = [(rc, values.dropna()) for rc, values in columns]
    columns = [(rc, values) for rc, values in columns if len(values)]
    for c in list(frame.columns)[:200]:
        col = frame[c]
        kind = col.dtype.kind
        if kind not in "iufOSUmM" and not isinstance(col.dtype, pd.StringDtype):
            continue
        # integer ids are dense ranges: counts fall in them by chance, so only a column of the
        # same name counts; values of another type cannot be equal (and would make the
        # membership test below a slow one of Python objects)
        candidates = [
            (rc, v)
            for rc, v in columns
            if (kind not in "iu" or rc == c)
            and (kind != "f" or v.dtype.kind == "f")  # float identifiers: of floats only
            and _comparable(pd.Index(v), col)
        ]
        if not candidates:
            continue
        if not col.iloc[:SAMPLE].is_unique:
            continue
        pool = pd.concat([v for _, v in candidates], ignore_index=True)
        present = col[col.isin(pool)]  # one pass over the input column
        if not len(present) or not col.is_unique:  # the costly uniqueness only when needed
            continue
        for _, values in candidates:
            found = int(values.isin(present).sum())
            if found and found * 2 >= len(values):
                return _IDENTIFIER
    return None


def _numbers_in(values: Any) -> bool:
    return any(isinstance(v, (numbers.Number, np.generic)) for v in list(values[:SAMPLE]))


def _comparable(mine: Any, theirs: Any) -> bool:
    """Whether values of ``mine`` (a small sample) can equal values of ``theirs``: numbers
    compare with numbers, anything with Python objects that may hold numbers."""
    a, b = mine.dtype.kind, theirs.dtype.kind
    numeric_a, numeric_b = a in "iufb", b in "iufb"
    if numeric_a and numeric_b:
        return True
    if numeric_b:
        return a == "O" and _numbers_in(mine)
    if numeric_a:
        return b == "O"  # (a sample check of the input would cost the input's size)
    if a in "mM" or b in "mM":
        return a == b or "O" in (a, b)
    return True


# ---- tables ---------------------------------------------------------------------------------


def _classify(frame: pd.DataFrame, rules: RuleSet) -> list[Check]:
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        return [Check("empty", PASS, "an empty table: it holds no data")]
    numeric = [c for c in frame.columns if _numeric(frame[c])]
    labels = [c for c in frame.columns if c not in numeric]
    if not numeric:
        return [Check("table", REVIEW, "a table of text or labels only: no rule can classify it")]
    values = frame[numeric] if labels else frame
    if labels:
        try:
            values = values.set_axis(
                pd.MultiIndex.from_frame(frame[labels].astype(str))
                if len(labels) > 1
                else pd.Index(frame[labels[0]].astype(str)),
                axis=0,
            )
        except Exception:
            values = frame[numeric]
    if _is_describe(values):
        return _describe(values, rules)
    arr = values.to_numpy(dtype="float64", na_value=np.nan)
    checks: list[Check] = []
    nan = np.isnan(arr)
    inf = np.isinf(arr)
    if inf.any():
        checks.append(
            Check(
                "not_finite",
                REVIEW,
                f"{plural(int(inf.sum()), 'cell is', 'cells are')} infinite: cannot be checked",
                marked_cells(values, inf),
            )
        )
    vals = np.where(nan | inf, 0.0, arr)
    integer = bool(np.all(vals == np.round(vals)))
    if integer and (vals < 0).any():
        checks.append(
            Check(
                "negative",
                REVIEW,
                f"{plural(int((vals < 0).sum()), 'cell')} negative: not counts, and the group "
                "sizes are unknown",
                marked_cells(values, vals < 0),
            )
        )
        return checks
    if not integer:
        if nan.any():
            checks.append(
                Check(
                    "not_finite",
                    REVIEW,
                    f"{plural(int(nan.sum()), 'cell is', 'cells are')} missing (NaN)",
                    marked_cells(values, nan),
                )
            )
        checks.append(
            Check(
                "magnitude",
                REVIEW,
                "a table of statistics (means, sums...): the group sizes behind its cells "
                "cannot be known from the result",
            )
        )
        return checks
    # a table of counts: a missing cell (pivot_table's NaN for an empty combination) is empty
    return checks + frequency_checks(values, arr, rules, skip=inf)


def _numeric(col: pd.Series) -> bool:
    kind = col.dtype.kind
    return kind in "iuf" and not isinstance(col.dtype, pd.CategoricalDtype)


def _is_describe(frame: pd.DataFrame) -> bool:
    try:
        return {str(i) for i in frame.index} >= DESCRIBE_ROWS
    except Exception:
        return False


def _describe(frame: pd.DataFrame, rules: RuleSet) -> list[Check]:
    counts = frame.loc[["count"]]
    checks = frequency_checks(counts, counts.to_numpy(dtype="float64", na_value=np.nan), rules)
    checks.append(
        Check(
            "describe",
            REVIEW,
            "summary statistics (describe): min and max are values of single records, and "
            "the other statistics cannot be checked for dominance",
            [[label(r), label(c)] for r in ("min", "max") for c in frame.columns][:50],
        )
    )
    return checks


# ---- models ---------------------------------------------------------------------------------


def _model_checks(value: Any, rules: RuleSet) -> list[Check] | None:
    params = getattr(value, "params", None)
    df_resid = getattr(value, "df_resid", None)
    if params is not None and df_resid is not None and not callable(params):
        checks = []
        try:
            dof = float(df_resid)
            if dof < rules.min_dof:
                checks.append(
                    Check(
                        "dof",
                        FAIL,
                        f"a model with fewer than {rules.min_dof} residual degrees of freedom",
                    )
                )
            else:
                checks.append(
                    Check("dof", PASS, f"residual degrees of freedom at least {rules.min_dof}")
                )
            nobs = float(getattr(value, "nobs", 0) or 0)
            if rules.max_params_per_record is not None and nobs > 0:
                k = len(params)
                if k > rules.max_params_per_record * nobs:
                    checks.append(
                        Check(
                            "params_per_record",
                            FAIL,
                            f"a model with more than {rules.max_params_per_record} parameters "
                            "per record",
                        )
                    )
        except Exception as exc:
            checks.append(Check("dof", REVIEW, f"the checker failed: {type(exc).__name__}"))
        checks.append(
            Check(
                "model",
                REVIEW,
                "a fitted model object: it may carry its training data; "
                "return its parameters as a table",
            )
        )
        return checks
    if hasattr(value, "fit") and (hasattr(value, "predict") or hasattr(value, "get_params")):
        return [Check("model", REVIEW, "a fitted model: no rule can tell what it memorised")]
    return None
