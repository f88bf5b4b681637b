"""Real group sizes of the tables a scientist builds with plain pandas.

``install()`` (the worker calls it before the user's function runs) wraps pandas' GroupBy
aggregations (``mean``, ``sum``, ``size``, ``count``, ``agg``...), ``pd.crosstab`` and
``pivot_table`` so that each result they return is remembered with where it came from: the
grouped data (a reference, never a copy), the keys and the aggregated columns. Nothing is
computed then; the scientist's code and results are unchanged.

When the function returns such a table (or one derived from it keeping its labels, e.g.
``.round(2)`` or a column subset), ``claim`` computes, for each cell, the number of records
behind it, their sum, largest value, the sum of the n largest and of the two largest, and
whether any is negative: in the process that ran the function, reusing pandas' own group codes
(the GroupBy's ``group_info``, crosstab's and pivot_table's inner grouping) with a few
vectorised passes (``np.bincount``, ``np.maximum.at``; no sort, no factorizing again; where the
largest value already shows a cell clears n-k dominance and the p-ratio, upper bounds stand
for the exact top values). Only tables actually returned cost anything. ``check_claim`` (in
the process that checks, which trusts no claim) applies the rules: minimum group size, n-k
dominance, p-ratio (ACRO's definitions) and, for counts, the frequency rules. Anything it
cannot map (a key that is a function, an index level...) is simply not tracked, and the table
stays "review". ``check_tracked`` does both in one process.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
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

__all__ = [
    "Info",
    "check_claim",
    "claim",
    "install",
    "installed",
    "labels_digest",
    "lookup",
    "uninstall",
]

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
    # pandas' own grouping (a GroupBy's grouper: its group codes, already computed) and the
    # frame it grouped: the per-cell statistics reuse them instead of factorizing again
    grouper: Any = None
    grouped: Any = None


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
            if not outermost and getattr(_state, "inner", False) is None:
                # the first aggregation inside crosstab / pivot_table: its grouping (all keys)
                _state.inner = (getattr(self, "_grouper", None), getattr(self, "obj", None))
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
            if outermost:
                _state.inner = None
            try:
                result = original(*args, **kwargs)
            finally:
                inner = getattr(_state, "inner", None) if outermost else None
                if outermost:
                    _state.inner = False
            if outermost:
                with contextlib.suppress(Exception):
                    source = make_source(*args, **kwargs)
                    if source is not None and inner is not None:
                        source.grouper, source.grouped = inner
                    _record(result, source)
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
        grouper=grouper,
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
    """Per-group statistics of one value over some of the keys (computed once, vectorised):
    the general way, factorizing the keys again (a grouping pandas did not keep, margins)."""

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
        x = None
        if value is not None:
            x = pd.to_numeric(frame["v"], errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
        _group_stats(self, ids, x, ngroups, n, None)

    def ids(self, rows: list[tuple[Any, ...]], ckeys: list[tuple[Any, ...]]) -> np.ndarray:
        """The group of each cell (row, column key): shape (len(rows), len(ckeys)); -1: none."""
        out = np.array([[self.index.get(r + c, -1) for c in ckeys] for r in rows], dtype=np.int64)
        return out.reshape(len(rows), len(ckeys))


class _CodedStats:
    """The same statistics from pandas' own group codes (a GroupBy's ``group_info``: computed
    by the aggregation already), so nothing is factorized again."""

    def __init__(self, grouper: Any, value: Any, n: int, rules: RuleSet | None):
        ids, _, ngroups = grouper.group_info
        self.result_index = grouper.result_index
        x = None
        if value is not None:
            series = value if isinstance(value, pd.Series) else pd.Series(np.asarray(value))
            if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iuf":
                x = series.to_numpy().astype("float64", copy=False)  # a view for float64
            else:
                numbers = pd.to_numeric(series, errors="coerce")
                x = numbers.to_numpy(dtype="float64", na_value=np.nan)
            if len(x) != len(ids):
                raise ValueError("the values are not aligned with the groups")
        _group_stats(self, np.asarray(ids, dtype=np.intp), x, int(ngroups), n, rules)

    def ids(self, rows: list[tuple[Any, ...]], ckeys: list[tuple[Any, ...]]) -> np.ndarray:
        """As ``_Stats.ids``, with one vectorised lookup of every cell in pandas' groups."""
        k, m = len(rows), len(ckeys)
        if not k or not m:
            return np.full((k, m), -1, dtype=np.int64)
        levels: list[Any] = []
        for i in range(len(rows[0])):
            level = np.empty(k, dtype=object)
            level[:] = [r[i] for r in rows]
            levels.append(np.tile(level, m))
        for i in range(len(ckeys[0])):
            level = np.empty(m, dtype=object)
            level[:] = [c[i] for c in ckeys]
            levels.append(np.repeat(level, k))
        if self.result_index.nlevels > 1:
            target: pd.Index = pd.MultiIndex.from_arrays(levels)
        else:
            target = pd.Index(levels[0], tupleize_cols=False)
        ids = np.asarray(self.result_index.get_indexer(target), dtype=np.int64)
        return ids.reshape(m, k).T


def _group_stats(
    st: Any, ids: np.ndarray, x: np.ndarray | None, ngroups: int, n: int, rules: RuleSet | None
) -> None:
    """Per group: records, sum, whether any is negative, the largest value, the sum of the 2
    and of the ``n`` largest (``rules`` given: upper bounds where they already clear n-k
    dominance and the p-ratio, see ``_largest``). ``ids`` -1: a record in no group.

    A few vectorised passes over the data: no sort, no factorizing."""
    all_valid = not len(ids) or int(ids.min()) >= 0
    st.has_values = x is not None
    if x is None:
        st.count = np.bincount(ids if all_valid else ids[ids >= 0], minlength=ngroups)
        return
    low = float(x.min()) if len(x) else 0.0  # NaN if any value is missing
    if not all_valid or np.isnan(low):
        ok = (ids >= 0) & ~np.isnan(x)
        ids, x = ids[ok], x[ok]
        low = float(x.min()) if len(x) else 0.0
    st.count = np.bincount(ids, minlength=ngroups)
    st.sum = np.bincount(ids, weights=x, minlength=ngroups)
    if low < 0:
        st.neg = np.bincount(ids, weights=(x < 0).astype(float), minlength=ngroups)
    else:
        st.neg = np.zeros(ngroups)
    if rules is not None and n <= 2 and low >= 0 and len(x):
        # the largest value of all bounds every group's: where 2 x it is already below the
        # n-k share of a group's total, and leaves the p-ratio's share, the group clears both
        top = float(x.max())
        total = st.sum
        with np.errstate(invalid="ignore"):
            clear = (st.count >= 2) & (2 * top < rules.nk_k * total)
            clear &= total - 2 * top >= rules.p_ratio * top
        if clear.all():
            st.top1 = np.full(ngroups, top)
            st.top2 = np.full(ngroups, 2 * top)
            st.topn = st.top1 if n == 1 else st.top2
            return
    st.top1, st.top2, st.topn = _largest(ids, x, ngroups, n, st.sum, rules)


def _largest(
    i: np.ndarray,
    x: np.ndarray,
    ngroups: int,
    n: int,
    total: np.ndarray | None = None,
    rules: RuleSet | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: the largest value, the sum of the 2 largest and of the ``n`` largest.

    With ``rules`` (and ``n`` <= 2), a group whose largest value alone already shows it can
    fail neither n-k dominance nor the p-ratio (2 x largest < k x total, and the total minus
    2 x largest at least p x largest) gets 2 x largest as its sum of the two largest: an upper
    bound that gives the same outcome, without the second pass.
    """
    if n <= 2:
        top1 = np.full(ngroups, -np.inf)
        np.maximum.at(top1, i, x)
        empty = np.isneginf(top1)
        top1[empty] = 0.0
        top2 = 2 * top1
        if total is not None and rules is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                clear = (
                    (top1 >= 0)
                    & (top2 < rules.nk_k * total)
                    & (total - top2 >= rules.p_ratio * top1)
                )
            todo = ~clear & ~empty
        else:
            todo = ~empty
        if todo.any():
            second = _second(i, x, top1, todo, ngroups)
            top2 = np.where(todo, top1 + second, top2)
        return top1, top2, (top1 if n == 1 else top2)
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

    def total_of(k: int) -> np.ndarray:
        return np.bincount(si[pos < k], weights=sx[pos < k], minlength=ngroups)

    return total_of(1), total_of(2), total_of(n)


def _second(
    i: np.ndarray, x: np.ndarray, top1: np.ndarray, todo: np.ndarray, ngroups: int
) -> np.ndarray:
    """The second largest value of the groups ``todo`` (0 for a group of one record)."""
    rows = todo[i]
    if not rows.all():
        i, x = i[rows], x[rows]
    at_top = x == top1[i]
    ties = np.bincount(i, weights=at_top, minlength=ngroups)
    rest = np.full(ngroups, -np.inf)
    np.maximum.at(rest, i, np.where(at_top, -np.inf, x))
    second = np.where(ties >= 2, top1, rest)
    return np.where(np.isneginf(second), 0.0, second)


def _tuple(key: Any) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,)


# ---- the statistics of a returned table (the "claim") and the rules on them -----------------

CLAIM_FIELDS = ("count", "sum", "top1", "top2", "topn", "neg")
_KINDS = frozenset({"count", "share", "stat", "spread", "single", "key", "opaque"})
INCONSISTENT = "inconsistent group statistics"


def labels_digest(frame: pd.DataFrame) -> str:
    """A digest of a table's shape and labels (as text, so 1 and "1" match), to tie a claim
    to the table it describes."""
    digest = hashlib.sha256()
    for axis in (frame.index, frame.columns):
        digest.update(json.dumps([str(v) for v in axis.tolist()]).encode())
        digest.update(b"\x00")
    digest.update(f"{frame.shape}".encode())
    return digest.hexdigest()


def _is_count_table(frame: pd.DataFrame, src: Source) -> bool:
    return bool(
        src.as_index
        and isinstance(src.func, str)
        and src.func in COUNT_FUNCS
        and all(frame[c].dtype.kind in "iu" for c in frame.columns)
    )


def claim(frame: pd.DataFrame, info: Info, rules: RuleSet) -> dict[str, Any]:
    """The per-cell statistics of a tracked table, as plain JSON: computed where the table
    was made (next to the data it summarises), checked by ``check_claim``."""
    src = info.source
    rows, cols = frame.shape
    base: dict[str, Any] = {
        "rows": rows,
        "cols": cols,
        "labels": labels_digest(frame),
        "margins": src.margins_name,
    }
    if _is_count_table(frame, src):
        # a table of counts: its cells are the group sizes themselves
        return {**base, "kind": "counts"}
    n_rows, n_cols = len(src.row_keys), len(src.col_keys)
    value_names = [v for v in src.values if v is not None]
    cache: dict[tuple[bool, bool, Any], Any] = {}
    coded = _coded(src, n_rows + n_cols)

    def stats(all_rows: bool, all_cols: bool, value: Any) -> Any:
        key = (all_rows, all_cols, value)
        if key not in cache:
            series = src.values.get(value) if value is not None or None in src.values else None
            if coded is not None and not all_rows and not all_cols:
                if series is not None and src.grouped is not None:
                    series = _inner_values(src, value)
                cache[key] = _CodedStats(coded, series, rules.nk_n, rules)
            else:
                keys = ([] if all_rows else src.row_keys) + ([] if all_cols else src.col_keys)
                cache[key] = _Stats(keys, series, rules.nk_n, src.positional)
        return cache[key]

    margin = src.margins_name
    shape = frame.shape
    arrays = {
        "count": np.zeros(shape),
        "sum": np.full(shape, np.nan),
        "top1": np.full(shape, np.nan),
        "top2": np.full(shape, np.nan),
        "topn": np.full(shape, np.nan),
        "neg": np.zeros(shape, dtype=bool),
    }
    kinds: list[str] = []
    key_cols = set(map(_col_key, src.key_names)) if not src.as_index else set()
    if src.as_index:
        row_keys = [(_tuple(row) if n_rows > 1 else (row,)) for row in frame.index]
    else:
        names = [k for k in src.key_names if k in frame.columns]
        row_keys = [tuple(r) for r in frame[names].itertuples(index=False, name=None)]
    row_margin = np.array(
        [margin is not None and len(r) > 0 and label(r[0]) == margin for r in row_keys],
        dtype=bool,
    )
    # columns that share their statistics (same value, margin or not): looked up together
    together: dict[tuple[Any, bool], list[tuple[int, tuple[Any, ...]]]] = {}
    dtypes = list(frame.dtypes)
    for j, col in enumerate(frame.columns):
        if _col_key(col) in key_cols:
            kinds.append("key")
            continue
        if dtypes[j].kind not in "iufb":
            kinds.append("opaque")  # lists, text, objects: not a statistic the rules know
            continue
        parts = _tuple(col) if isinstance(frame.columns, pd.MultiIndex) else (col,)
        ckey = parts[len(parts) - n_cols :] if n_cols else ()
        prefix = parts[: len(parts) - n_cols] if n_cols else parts
        value, func = _value_and_func(prefix, src, value_names)
        kind = _kind(_func_name(func))
        kinds.append(kind)
        all_cols = margin is not None and n_cols > 0 and label(ckey[0]) == margin
        counting_rows = kind == "count" and _func_name(func) in ("size", "len")
        wanted = None if counting_rows and value is None else value
        together.setdefault((_Hashed(wanted), all_cols), []).append((j, () if all_cols else ckey))
    for (wanted_key, all_cols), columns in together.items():
        js = np.array([j for j, _ in columns], dtype=np.int64)
        ckeys = [ck for _, ck in columns]
        for all_rows in (False, True):
            rows_here = np.flatnonzero(row_margin == all_rows)
            if not len(rows_here):
                continue
            st = stats(all_rows, all_cols, wanted_key.value)
            cell_rows = [() if all_rows else row_keys[i] for i in rows_here]
            g = st.ids(cell_rows, ckeys)  # (rows, columns)
            found = g >= 0  # not found: an empty combination, 0 records
            ri, ci = np.nonzero(found)
            at, cols_at, gi = rows_here[ri], js[ci], g[ri, ci]
            arrays["count"][at, cols_at] = st.count[gi]
            if st.has_values:
                arrays["sum"][at, cols_at], arrays["top1"][at, cols_at] = st.sum[gi], st.top1[gi]
                arrays["top2"][at, cols_at], arrays["topn"][at, cols_at] = st.top2[gi], st.topn[gi]
                arrays["neg"][at, cols_at] = st.neg[gi] > 0
    # a group of no record (an unobserved category) has no statistics, as a missing one
    empty = arrays["count"] == 0
    for name in ("sum", "top1", "top2", "topn"):
        arrays[name][empty] = np.nan
    arrays["neg"][empty] = False
    out = {**base, "kind": "stats", "kinds": kinds, "nk_n": rules.nk_n}
    for name, arr in arrays.items():  # row-major float64, little-endian, base64
        flat = np.ascontiguousarray(arr.ravel(), dtype="<f8")
        flat = np.where(np.isfinite(flat), flat, np.nan)  # a value it cannot judge: none
        out[name] = base64.b64encode(flat.tobytes()).decode("ascii")
    return out


class _Hashed:
    """A value name as a dict key (names may be unhashable: compared by equality)."""

    def __init__(self, value: Any):
        self.value = value

    def __hash__(self) -> int:
        try:
            return hash(self.value)
        except TypeError:
            return 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Hashed):
            return NotImplemented
        try:
            return bool(self.value == other.value) and type(self.value) is type(other.value)
        except Exception:
            return self.value is other.value


def _coded(src: Source, nkeys: int) -> Any:
    """pandas' grouping of the table's keys, when it can be reused as it is."""
    grouper = src.grouper
    if grouper is None or not src.as_index:
        return None
    try:
        if len(grouper.groupings) != nkeys or grouper.result_index.nlevels != nkeys:
            return None
        if len(grouper.result_index) != grouper.group_info[2]:
            return None
        if src.grouped is None and not src.positional:
            return None
        return grouper
    except Exception:
        return None


def _inner_values(src: Source, value: Any) -> Any:
    """A value column of the frame crosstab / pivot_table grouped (aligned with its codes)."""
    grouped = src.grouped
    if isinstance(grouped, pd.DataFrame):
        if value is None and "__dummy__" in grouped.columns:  # crosstab's values
            return grouped["__dummy__"]
        if value in grouped.columns:
            return grouped[value]
    raise ValueError("the value is not in the grouped frame")


def check_tracked(frame: pd.DataFrame, info: Info, rules: RuleSet) -> list[Check]:
    """The rules on a tracked table, cell by cell, with the real groups behind each cell
    (in one process: ``claim`` then ``check_claim``)."""
    checks = check_claim(frame, claim(frame, info, rules), rules)
    if checks is None:  # pragma: no cover - a claim made here always matches its table
        return [Check("table", REVIEW, "a tracked table that could not be checked")]
    return checks


def check_claim(
    frame: pd.DataFrame, claimed: Any, rules: RuleSet, input_rows: int | None = None
) -> list[Check] | None:
    """The rules on a table, with per-cell statistics ``claimed`` for it (see ``claim``) by
    a process that may have lied. None: the claim is not for this table (ignore it).
    Statistics that cannot be true (a cell of no record with values, fractional counts, a
    largest value above the total, more records in a column than the largest input has rows
    ``input_rows``) fail as "inconsistent group statistics"."""
    if not isinstance(claimed, dict):
        return None
    rows, cols = frame.shape
    if (
        claimed.get("rows") != rows
        or claimed.get("cols") != cols
        or claimed.get("labels") != labels_digest(frame)
    ):
        return None
    kind = claimed.get("kind")
    if kind == "counts":
        if all(frame[c].dtype.kind in "iu" for c in frame.columns):
            return frequency_checks(frame, frame.to_numpy(dtype="float64"), rules)
        return None
    if kind != "stats":
        return None
    try:
        stats = _claimed_arrays(claimed, rows, cols)
    except (TypeError, ValueError, UnicodeError, binascii.Error):
        return [Check("claims", FAIL, INCONSISTENT)]
    kinds = claimed.get("kinds")
    if not isinstance(kinds, list) or len(kinds) != cols or not all(k in _KINDS for k in kinds):
        return [Check("claims", FAIL, INCONSISTENT)]
    dtypes = list(frame.dtypes)
    for j in range(cols):  # the decoded table's own types decide what is a statistic
        if kinds[j] != "key" and dtypes[j].kind not in "iufb":
            kinds[j] = "opaque"
    margin = claimed.get("margins")
    if not _consistent(frame, stats, kinds, margin, input_rows):
        return [Check("claims", FAIL, INCONSISTENT)]
    count, total, top1, top2, topn, negative = (stats[f] for f in CLAIM_FIELDS)
    negative = negative > 0
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
    keys = [j for j, k in enumerate(kinds) if k == "key"]
    if keys:
        # the groups' keys are columns here: name the cells' rows by them
        with contextlib.suppress(Exception):
            key_frame = frame.iloc[:, keys]
            frame = frame.set_axis(
                pd.MultiIndex.from_frame(key_frame)
                if key_frame.shape[1] > 1
                else pd.Index(key_frame.iloc[:, 0]),
                axis=0,
            )
    shape = frame.shape
    magnitude = np.array([k in ("stat", "spread", "single") for k in kinds], dtype=bool)[None, :]
    magnitude = np.broadcast_to(magnitude, shape)
    counted = np.broadcast_to(np.array([k in ("count", "share") for k in kinds])[None, :], shape)
    if counted.any():
        arr = np.where(counted, count, np.nan)
        checks += frequency_checks(frame, arr, rules, skip=~counted)
    if magnitude.any():
        if claimed.get("nk_n") != rules.nk_n:
            topn = np.full(shape, np.nan)  # for another n: dominance cannot be judged
            checks.append(Check("dominance", REVIEW, "the group statistics are for another n"))
        checks += _magnitude_checks(
            frame, rules, magnitude, count, total, top1, top2, topn, negative, kinds
        )
    if not checks:
        checks.append(Check("table", REVIEW, "a tracked table with nothing to check"))
    return checks


def _claimed_arrays(claimed: dict[str, Any], rows: int, cols: int) -> dict[str, np.ndarray]:
    out = {}
    for name in CLAIM_FIELDS:
        text = claimed.get(name)
        if not isinstance(text, str) or len(text) > 4 * (rows * cols * 8 + 2) // 3 + 4:
            raise ValueError(name)
        data = base64.b64decode(text.encode("ascii"), validate=True)
        if len(data) != rows * cols * 8:
            raise ValueError(name)
        arr = np.frombuffer(data, dtype="<f8").astype("float64")
        if name != "count":
            arr = np.where(np.isfinite(arr), arr, np.nan)
        out[name] = arr.reshape(rows, cols)
    return out


def _consistent(
    frame: pd.DataFrame,
    stats: dict[str, np.ndarray],
    kinds: list[str],
    margin: Any,
    input_rows: int | None,
) -> bool:
    count, total, top1, top2, topn, neg = (stats[f] for f in CLAIM_FIELDS)
    used = np.broadcast_to(
        np.array([k not in ("key", "opaque") for k in kinds], dtype=bool)[None, :], count.shape
    )
    c = np.where(used, count, 0.0)
    if not np.isfinite(c).all() or (c < 0).any() or (c != np.round(c)).any():
        return False
    if not np.isin(np.where(used, neg, 0.0), (0.0, 1.0)).all():
        return False
    valued = used & ~np.isnan(total)
    if (valued & (c < 1)).any():
        return False  # statistics of a group with no record
    for arr in (top1, top2, topn):
        if (valued & np.isnan(arr)).any():
            return False
    if (valued & (neg > c)).any():
        return False
    plain = valued & (neg == 0)
    if plain.any():
        scale = np.abs(np.where(plain, total, 0.0)) * 1e-9 + 1e-9
        t, a, b, m = (np.where(plain, v, 0.0) for v in (total, top1, top2, topn))
        if (
            (a < 0).any()
            or (a > t + scale).any()  # the largest is part of the total
            or (b < a - scale).any()
            or (m < a - scale).any()
            or (a * np.where(plain, c, 0.0) < t - scale).any()  # n x the largest >= the total
        ):
            return False
        single = plain & (c == 1)
        if (single & (np.abs(a - t) > scale)).any():
            return False
    if input_rows is not None:
        # each column's cells (margins left out) are disjoint groups of records
        keep = np.ones(count.shape[0], dtype=bool)
        colkeep = np.ones(count.shape[1], dtype=bool)
        if margin is not None:
            keep = np.array([label(_tuple(r)[0]) != str(margin) for r in frame.index], dtype=bool)
            colkeep = np.array(
                [label(_tuple(col)[-1]) != str(margin) for col in frame.columns], dtype=bool
            )
        per_column = np.where(used & keep[:, None] & colkeep[None, :], c, 0.0).sum(axis=0)
        if (per_column > input_rows).any():
            return False
    return True


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
