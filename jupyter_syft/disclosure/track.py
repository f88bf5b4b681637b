"""Real group sizes of the tables a scientist builds with plain pandas.

``install()`` (the worker calls it before the user's function runs) wraps pandas' GroupBy
aggregations (``mean``, ``sum``, ``size``, ``count``, ``agg``...), ``pd.crosstab`` and
``pivot_table`` so that each result they return is remembered with where it came from: the
grouped data (a reference, never a copy), the keys and the aggregated columns. Nothing is
computed then; the scientist's code and results are unchanged.

When the function returns such a table (or one derived from it keeping its labels, e.g.
``.round(2)`` or a column subset), ``check_tracked`` recomputes, for each cell, the number of
records behind it, their sum, largest value, the sum of the n largest and of the two largest,
and whether any is negative, and applies the rules: minimum group size, n-k dominance, p-ratio
(ACRO's definitions) and, for counts, the frequency rules. Anything it cannot map (a key that is
a function, an index level...) is simply not tracked, and the table stays "review".
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from jupyter_syft.disclosure.report import FAIL, PASS, REVIEW, Check, label
from jupyter_syft.disclosure.rules import RuleSet
from jupyter_syft.disclosure.tables import frequency_checks, marked_cells, plural

__all__ = ["Info", "install", "installed", "lookup", "uninstall"]

MAX_ENTRIES = 64  # tables remembered (the most recent)
MAX_SIGNED_ROWS = 100_000  # larger results are not matched by their labels

COUNT_FUNCS = frozenset({"size", "count", "len"})
SINGLE_FUNCS = frozenset({"min", "max", "first", "last", "idxmin", "idxmax", "nth"})
NO_DOMINANCE = frozenset({"nunique", "std", "var", "sem", "median"})  # as ACRO: no n-k/p
_GROUPBY_METHODS = (
    "mean",
    "sum",
    "median",
    "std",
    "var",
    "sem",
    "prod",
    "min",
    "max",
    "first",
    "last",
    "count",
    "size",
    "nunique",
    "agg",
    "aggregate",
)


@dataclass
class Source:
    """Where a table came from: its keys and aggregated values (references, not copies)."""

    row_keys: list[Any]  # arrays / Series aligned with the data, one per row key
    col_keys: list[Any]  # the same for column keys (crosstab, pivot_table)
    values: dict[Any, Any]  # value name -> Series aligned with the data
    func: Any  # the aggregation: a name, a callable, a list or a dict of them
    margins_name: str | None = None
    as_index: bool = True
    key_names: list[Any] = field(default_factory=list)
    single_value: bool = True  # the result's columns carry no value level
    positional: bool = False  # keys and values align by position, not by index labels


@dataclass
class Info:
    source: Source
    kind: str = "table"


@dataclass
class _Entry:
    ref: Callable[[], Any] | None
    source: Source
    signature: tuple[Any, ...] | None


_registry: OrderedDict[int, _Entry] = OrderedDict()
_lock = threading.RLock()
_state = threading.local()
_originals: dict[tuple[Any, str], Any] = {}
_MISSING = object()  # the method was inherited, not the class's own


# ---- recording ------------------------------------------------------------------------------


def installed() -> bool:
    return bool(_originals)


def install() -> None:
    """Start recording pandas aggregations (idempotent)."""
    if _originals:
        return
    from pandas.core.groupby import generic
    from pandas.core.reshape import pivot

    for cls in (generic.DataFrameGroupBy, generic.SeriesGroupBy):
        for name in _GROUPBY_METHODS:
            original = getattr(cls, name, None)
            if original is None:
                continue
            _originals[(cls, name)] = cls.__dict__.get(name, _MISSING)
            setattr(cls, name, _wrap_groupby(original, name))
    crosstab = pd.crosstab
    pivot_table = pivot.pivot_table
    _originals[(pd, "crosstab")] = crosstab
    _originals[(pd, "pivot_table")] = pd.pivot_table
    _originals[(pivot, "pivot_table")] = pivot_table
    _originals[(pivot, "crosstab")] = pivot.crosstab
    wrapped_crosstab = _wrap(crosstab, _crosstab_source)
    wrapped_pivot = _wrap(pivot_table, _pivot_source)
    pd.crosstab = wrapped_crosstab
    pivot.crosstab = wrapped_crosstab
    pd.pivot_table = wrapped_pivot
    pivot.pivot_table = wrapped_pivot


def uninstall() -> None:
    """Stop recording and forget (for tests)."""
    for (owner, name), original in _originals.items():
        if original is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    _originals.clear()
    with _lock:
        _registry.clear()


@contextlib.contextmanager
def _quiet() -> Any:
    depth = getattr(_state, "depth", 0)
    _state.depth = depth + 1
    try:
        yield depth == 0
    finally:
        _state.depth = depth


@contextlib.contextmanager
def suppressed() -> Any:
    """Record nothing inside (the checks' own pandas calls)."""
    with _quiet():
        yield


def _wrap_groupby(original: Any, name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _quiet() as outermost:
            result = original(self, *args, **kwargs)
            if outermost:
                with contextlib.suppress(Exception):
                    func = name if name not in ("agg", "aggregate") else _agg_arg(args, kwargs)
                    _record(result, _groupby_source(self, func))
        return result

    method.__name__ = getattr(original, "__name__", name)
    method.__doc__ = getattr(original, "__doc__", None)
    method.__wrapped__ = original  # type: ignore[attr-defined]
    return method


def _wrap(original: Any, make_source: Callable[..., Source | None]) -> Any:
    def function(*args: Any, **kwargs: Any) -> Any:
        with _quiet() as outermost:
            result = original(*args, **kwargs)
            if outermost:
                with contextlib.suppress(Exception):
                    _record(result, make_source(*args, **kwargs))
        return result

    function.__name__ = getattr(original, "__name__", "function")
    function.__doc__ = getattr(original, "__doc__", None)
    function.__wrapped__ = original  # type: ignore[attr-defined]
    return function


class _Named(dict[Any, tuple[Any, Any]]):
    """Named aggregation (``agg(out=(column, func))``): output column -> (column, func)."""


def _agg_arg(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if args and args[0] is not None:
        return args[0]
    if "func" in kwargs or "arg" in kwargs:
        return kwargs.get("func", kwargs.get("arg"))
    named = _Named()
    for out, spec in kwargs.items():
        if isinstance(spec, tuple) and len(spec) == 2:  # also pd.NamedAgg
            named[out] = (spec[0], spec[1])
        else:  # SeriesGroupBy.agg(out=func)
            named[out] = (None, spec)
    return named


def _record(result: Any, source: Source | None) -> None:
    if source is None or not isinstance(result, (pd.DataFrame, pd.Series)):
        return
    key = id(result)

    def gone(_ref: Any, key: int = key) -> None:
        _forget(key)

    try:
        ref: Callable[[], Any] | None = weakref.ref(result, gone)
    except TypeError:
        ref = None
    entry = _Entry(ref, source, _signature(result))
    with _lock:
        _registry.pop(key, None)
        _registry[key] = entry
        while len(_registry) > MAX_ENTRIES:
            _registry.popitem(last=False)


def _forget(key: int) -> None:
    # the result is gone: keep what matches by labels, but never by a reused id
    with _lock:
        entry = _registry.pop(key, None)
        if entry is not None and entry.signature is not None:
            entry.ref = None
            _registry[-key - 1] = entry
            while len(_registry) > MAX_ENTRIES:
                _registry.popitem(last=False)


def _signature(result: Any) -> tuple[Any, ...] | None:
    """An order-free digest of a table's labels (rows, and the set of columns)."""
    try:
        if len(result) > MAX_SIGNED_ROWS:
            return None
        index = result.index
        hashed = pd.util.hash_pandas_object(index.to_frame(index=False), index=False)
        digest = int(np.asarray(hashed, dtype=np.uint64).sum(dtype=np.uint64))
        columns = [result.name] if isinstance(result, pd.Series) else list(result.columns)
        return (len(index), digest, frozenset(_col_key(c) for c in columns))
    except Exception:
        return None


def _col_key(label_: Any) -> str:
    return repr(label_) if isinstance(label_, tuple) else repr((label_,))


def lookup(value: Any, any_column: bool = False) -> Info | None:
    """What is known of ``value``'s groups, or None.

    ``any_column``: ``value`` was rebuilt from a dict (its column name is made up): match a
    one-column table by its row labels alone.
    """
    if not _registry or not isinstance(value, (pd.DataFrame, pd.Series)):
        return None
    with _lock:
        entry = _registry.get(id(value))
        entries = list(reversed(_registry.values()))
    signature = _signature(value)
    if entry is not None and entry.ref is not None and entry.ref() is value:
        mine, theirs = signature, entry.signature
        if theirs is None or (mine is not None and mine[:2] == theirs[:2] and mine[2] <= theirs[2]):
            return Info(entry.source)
        return None  # changed in place since: its labels are not the aggregation's
    if signature is None:
        return None
    for other in entries:
        theirs = other.signature
        if theirs is None or theirs[:2] != signature[:2]:
            continue
        if signature[2] <= theirs[2] or (any_column and len(theirs[2]) == 1):
            return Info(other.source)
    return None


# ---- sources --------------------------------------------------------------------------------


def _groupby_source(gb: Any, func: Any) -> Source | None:
    obj = gb.obj
    grouper = getattr(gb, "_grouper", None) or getattr(gb, "grouper", None)
    groupings = getattr(grouper, "groupings", None)
    if not groupings:
        return None
    # each grouping's vector is aligned with obj by position (keys, functions, levels alike)
    arrays = [g.grouping_vector for g in groupings]
    names = [g.name for g in groupings]
    if any(len(a) != len(obj) for a in arrays):
        return None
    if isinstance(obj, pd.Series):
        values: dict[Any, Any] = {obj.name: obj, None: obj}
    else:
        values = {c: obj[c] for c in obj.columns if _is_label(c) and c not in names}
    return Source(
        row_keys=arrays,
        col_keys=[],
        values=values,
        func=func,
        as_index=bool(getattr(gb, "as_index", True)),
        key_names=names,
        positional=True,
    )


def _as_key_list(keys: Any) -> list[Any]:
    if isinstance(keys, (list, tuple)) and not (keys and np.ndim(keys[0]) == 0):
        return list(keys)
    return [keys]


def _crosstab_source(
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
) -> Source | None:
    func = "count" if values is None else aggfunc
    if normalize is not False:
        func = "share"
    return Source(
        row_keys=_as_key_list(index),
        col_keys=_as_key_list(columns),
        values={None: values} if values is not None else {},
        func=func,
        margins_name=margins_name if margins else None,
    )


def _pivot_source(
    data: pd.DataFrame,
    values: Any = None,
    index: Any = None,
    columns: Any = None,
    aggfunc: Any = "mean",
    fill_value: Any = None,
    margins: bool = False,
    dropna: bool = True,
    margins_name: str = "All",
    observed: Any = None,
    sort: bool = True,
    **_: Any,
) -> Source | None:
    rows = [] if index is None else (index if isinstance(index, list) else [index])
    cols = [] if columns is None else (columns if isinstance(columns, list) else [columns])
    if not all(_is_label(k) and k in data.columns for k in rows + cols):
        return None
    if values is None:
        names = [c for c in data.columns if c not in rows + cols]
        single = False
    elif isinstance(values, list):
        names, single = values, False
    else:
        names, single = [values], True
    return Source(
        row_keys=[data[k] for k in rows],
        col_keys=[data[k] for k in cols],
        values={n: data[n] for n in names if n in data.columns},
        func=aggfunc,
        margins_name=margins_name if margins else None,
        single_value=single,
    )


def _is_label(key: Any) -> bool:
    return isinstance(key, (str, int, np.integer)) or (
        isinstance(key, tuple) and all(isinstance(k, (str, int)) for k in key)
    )


# ---- checking -------------------------------------------------------------------------------


def _func_name(func: Any) -> str:
    if isinstance(func, str):
        return func
    if func is len:
        return "len"
    name = getattr(func, "__name__", "")
    return {"amax": "max", "amin": "min", "nanmean": "mean", "nansum": "sum"}.get(name, name)


def _kind(name: str) -> str:
    if name in COUNT_FUNCS:
        return "count"
    if name == "share":
        return "share"
    if name in SINGLE_FUNCS:
        return "single"
    if name in NO_DOMINANCE:
        return "spread"
    return "stat"


class _Stats:
    """Per-group statistics of one value over some of the keys (computed once, vectorised)."""

    def __init__(self, keys: list[Any], value: Any, n: int, positional: bool):
        if positional:
            keys = [np.asarray(k) for k in keys]
            value = None if value is None else np.asarray(value)
        columns: dict[str, Any] = {f"k{i}": k for i, k in enumerate(keys)}
        if value is not None:
            columns["v"] = value
        frame = pd.DataFrame(columns)  # aligns Series by their index, as pandas does
        self.index: dict[Hashable, int]
        if keys:
            grouped = frame.groupby(
                [f"k{i}" for i in range(len(keys))], sort=False, observed=True, dropna=True
            )
            ids_f = grouped.ngroup().to_numpy(dtype="float64", na_value=np.nan)
            ids = np.where(np.isnan(ids_f), -1, ids_f).astype(np.int64)
            labels = grouped.size().index
            self.index = {_tuple(k): i for i, k in enumerate(labels)}
            ngroups = len(labels)
        else:
            ids = np.zeros(len(frame), dtype=np.int64)
            self.index = {(): 0}
            ngroups = 1
        valid = ids >= 0
        self.has_values = value is not None
        if value is None:
            self.count = np.bincount(ids[valid], minlength=ngroups)
            return
        arr = pd.to_numeric(frame["v"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        ok = valid & ~np.isnan(arr)
        i, x = ids[ok], arr[ok]
        self.count = np.bincount(i, minlength=ngroups)
        self.sum = np.bincount(i, weights=x, minlength=ngroups)
        self.neg = np.bincount(i, weights=(x < 0).astype(float), minlength=ngroups)
        self.top1, self.top2, self.topn = _largest(i, x, ngroups, n)


def _largest(
    i: np.ndarray, x: np.ndarray, ngroups: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: the largest value, the sum of the 2 largest and of the ``n`` largest."""
    if n <= 4:
        # a few rounds of a per-group argmax (each O(len)): far quicker than a full sort
        remaining = np.ones(len(x), dtype=bool)
        tops = []
        for _ in range(max(n, 2)):
            where = np.flatnonzero(remaining)
            if not len(where):
                tops.append(np.zeros(ngroups))
                continue
            best = pd.Series(x[where], index=where).groupby(i[where]).idxmax()
            value = np.zeros(ngroups)
            positions = best.to_numpy(dtype=np.int64)
            value[best.index.to_numpy(dtype=np.int64)] = x[positions]
            tops.append(value)
            remaining[positions] = False
        return tops[0], tops[0] + tops[1], np.sum(tops[:n], axis=0)
    order = np.lexsort((-x, i))
    si, sx = i[order], x[order]
    starts = np.searchsorted(si, np.arange(ngroups))
    pos = np.arange(len(si)) - starts[si]

    def total(k: int) -> np.ndarray:
        return np.bincount(si[pos < k], weights=sx[pos < k], minlength=ngroups)

    return total(1), total(2), total(n)


def _tuple(key: Any) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,)


def check_tracked(frame: pd.DataFrame, info: Info, rules: RuleSet) -> list[Check]:
    """The rules on a tracked table, cell by cell, with the real groups behind each cell."""
    src = info.source
    if (
        src.as_index
        and isinstance(src.func, str)
        and src.func in COUNT_FUNCS
        and all(frame[c].dtype.kind in "iu" for c in frame.columns)
    ):
        # a table of counts: its cells are the group sizes themselves
        return frequency_checks(frame, frame.to_numpy(dtype="float64"), rules)
    n_rows, n_cols = len(src.row_keys), len(src.col_keys)
    value_names = [v for v in src.values if v is not None]
    cache: dict[tuple[bool, bool, Any], _Stats] = {}

    def stats(all_rows: bool, all_cols: bool, value: Any) -> _Stats:
        key = (all_rows, all_cols, value)
        if key not in cache:
            keys = ([] if all_rows else src.row_keys) + ([] if all_cols else src.col_keys)
            series = src.values.get(value) if value is not None or None in src.values else None
            cache[key] = _Stats(keys, series, rules.nk_n, src.positional)
        return cache[key]

    margin = src.margins_name
    shape = frame.shape
    count = np.zeros(shape)
    total = np.full(shape, np.nan)
    top1 = np.full(shape, np.nan)
    top2 = np.full(shape, np.nan)
    topn = np.full(shape, np.nan)
    negative = np.zeros(shape, dtype=bool)
    kinds: list[str] = []
    key_cols = set(map(_col_key, src.key_names)) if not src.as_index else set()
    for j, col in enumerate(frame.columns):
        if _col_key(col) in key_cols:
            kinds.append("key")
            continue
        if frame.iloc[:, j].dtype.kind not in "iufb":
            kinds.append("opaque")  # lists, text, objects: not a statistic the rules know
            continue
        parts = _tuple(col) if isinstance(frame.columns, pd.MultiIndex) else (col,)
        ckey = parts[len(parts) - n_cols :] if n_cols else ()
        prefix = parts[: len(parts) - n_cols] if n_cols else parts
        value, func = _value_and_func(prefix, src, value_names)
        kind = _kind(_func_name(func))
        kinds.append(kind)
        all_cols = margin is not None and n_cols > 0 and label(ckey[0]) == margin
        for i, row in enumerate(frame.index):
            if src.as_index:
                rkey = _tuple(row) if n_rows > 1 else (row,)
            else:
                rkey = tuple(frame.iloc[i][k] for k in src.key_names)
            all_rows = margin is not None and label(rkey[0]) == margin
            counting_rows = kind == "count" and _func_name(func) in ("size", "len")
            st = stats(all_rows, all_cols, None if counting_rows and value is None else value)
            group = (() if all_rows else rkey) + (() if all_cols else ckey)
            g = st.index.get(tuple(group))
            if g is None:
                continue  # an empty combination: 0 records
            count[i, j] = st.count[g]
            if st.has_values:
                total[i, j], top1[i, j] = st.sum[g], st.top1[g]
                top2[i, j], topn[i, j] = st.top2[g], st.topn[g]
                negative[i, j] = st.neg[g] > 0
    checks: list[Check] = []
    if "opaque" in kinds:
        checks.append(
            Check(
                "table",
                REVIEW,
                "cells that are not numbers (lists, text, objects): no rule can classify them",
                [["", label(frame.columns[j])] for j, k in enumerate(kinds) if k == "opaque"][:50],
            )
        )
    if not src.as_index and src.key_names:
        # the groups' keys are columns here: name the cells' rows by them
        with contextlib.suppress(Exception):
            keys = frame[[k for k in src.key_names if k in frame.columns]]
            frame = frame.set_axis(
                pd.MultiIndex.from_frame(keys) if keys.shape[1] > 1 else pd.Index(keys.iloc[:, 0]),
                axis=0,
            )
    magnitude = np.array([k in ("stat", "spread", "single") for k in kinds], dtype=bool)[None, :]
    magnitude = np.broadcast_to(magnitude, shape)
    counted = np.broadcast_to(np.array([k in ("count", "share") for k in kinds])[None, :], shape)
    if counted.any():
        arr = np.where(counted, count, np.nan)
        checks += frequency_checks(frame, arr, rules, skip=~counted)
    if magnitude.any():
        checks += _magnitude_checks(
            frame, rules, magnitude, count, total, top1, top2, topn, negative, kinds
        )
    if not checks:
        checks.append(Check("table", REVIEW, "a tracked table with nothing to check"))
    return checks


def _value_and_func(prefix: tuple[Any, ...], src: Source, names: list[Any]) -> tuple[Any, Any]:
    func = src.func
    value: Any = None
    if isinstance(func, _Named):
        for part in prefix:
            if part in func:
                column, f = func[part]
                return (column if column in src.values else None), f
        return None, "unknown"
    if isinstance(func, dict):
        for part in prefix:
            if part in func:
                value = part
                func = func[part]
                break
    if isinstance(func, (list, tuple)):
        chosen = None
        for part in prefix:
            for f in func:
                if _func_name(f) == part or (isinstance(part, str) and _func_name(f) == part):
                    chosen = f
        func = chosen if chosen is not None else "unknown"
    if value is None:
        for part in prefix:
            if _is_label(part) and part in src.values:
                value = part
                break
    if value is None:
        if None in src.values:
            value = None
        elif len(names) == 1:
            value = names[0]
    return value, func


def _magnitude_checks(
    frame: pd.DataFrame,
    rules: RuleSet,
    magnitude: np.ndarray,
    count: np.ndarray,
    total: np.ndarray,
    top1: np.ndarray,
    top2: np.ndarray,
    topn: np.ndarray,
    negative: np.ndarray,
    kinds: list[str],
) -> list[Check]:
    checks: list[Check] = []
    t = rules.min_group_size
    small = magnitude & (count < t) & ((count > 0) | rules.zeros_disclosive)
    if small.any():
        checks.append(
            Check(
                "min_group_size",
                FAIL,
                f"{plural(int(small.sum()), 'cell summarises', 'cells summarise')} fewer than "
                f"{t} records",
                marked_cells(frame, small),
            )
        )
    dominance = magnitude & np.broadcast_to(
        np.array([k == "stat" for k in kinds])[None, :], magnitude.shape
    )
    if (dominance & negative).any():
        checks.append(
            Check(
                "dominance",
                REVIEW,
                "dominance is not defined where values are negative",
                marked_cells(frame, dominance & negative),
            )
        )
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            nk = dominance & (total > 0) & (topn / total >= rules.nk_k)
            pr = dominance & (top1 > 0) & ((total - top2) / top1 < rules.p_ratio)
        if nk.any():
            checks.append(
                Check(
                    "nk_dominance",
                    FAIL,
                    f"{plural(int(nk.sum()), 'cell is', 'cells are')} dominated: the "
                    f"{rules.nk_n} largest records hold at least {rules.nk_k:.0%} of the total",
                    marked_cells(frame, nk),
                )
            )
        if pr.any():
            checks.append(
                Check(
                    "p_ratio",
                    FAIL,
                    f"{plural(int(pr.sum()), 'cell fails', 'cells fail')} the p-ratio rule: "
                    f"the others sum to less than {rules.p_ratio:.0%} of the largest record",
                    marked_cells(frame, pr),
                )
            )
    if "single" in kinds:
        checks.append(
            Check(
                "single_records",
                REVIEW,
                "min, max, first or last are values of single records",
                [
                    [label(r), label(c)]
                    for c, k in zip(frame.columns, kinds, strict=False)
                    if k == "single"
                    for r in frame.index[:5]
                ][:50],
            )
        )
    if not any(c["outcome"] != PASS for c in checks):
        checks.append(
            Check(
                "magnitude",
                PASS,
                f"every cell summarises at least {t} records, with no dominant records "
                f"(n-k {rules.nk_n}/{rules.nk_k:.0%}, p-ratio {rules.p_ratio:.0%})",
            )
        )
    return checks
