"""Suppression: a table released with the cells its disclosure checks failed made missing.

``suppress(value, report) -> (suppressed_value, summary)``, as ACRO's ``suppress=True``: a
cell a failing check names (the report's ``cells``, ``[row_label, column_label]`` pairs made by
``report.label``) becomes missing (NaN) in the released table. Then, for a table with margins
(``pd.crosstab(..., margins=True)``, ``pivot_table(..., margins=True)``; rows and columns
labelled ``margins_name``, "All" by default):

- **Secondary suppression.** A suppressed cell alone in its row (or column) could be
  recovered by subtracting the others from that line's total, which is known from this table
  as computed or from another release. So every row and column of the table's inner cells that
  has a margin and exactly one suppressed cell gets a second one: its smallest remaining cell
  (by absolute value) is suppressed too, and this is repeated until no such line is left.
- **Margins recomputed.** Where a margin is the sum of its line's cells (counts, sums,
  shares), it is recomputed as the sum of the cells that remain, so no released total
  includes a suppressed value (a line wholly suppressed gets a missing total). Where it is not
  a sum (a mean's margin is the mean over all records), it cannot be recomputed from the cells:
  the margin of every line with a suppressed cell is suppressed instead.

Only a table can be suppressed: a DataFrame, a Series, a 1-D or 2-D numeric numpy array. A
result that is not (a number, a dict, a list of tables), a failing check that names no cell
(row-level data, the size cap) or names more cells than a report lists, a cell label that names
no cell or several, and a failing cell that is not a number, raise :class:`CannotSuppress` with
a sentence saying why: the reviewer then releases or withholds the result as it is. Checks
whose outcome is "review" name cells for a person to look at and are not suppressed. The value
given is never changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from jupyter_syft.disclosure.report import FAIL, MAX_CELLS, label

__all__ = ["CannotSuppress", "suppress"]

MARGINS_NAME = "All"
MAX_TABLE_CELLS = 20_000  # a table of statistics to release; larger ones are withheld instead


class CannotSuppress(ValueError):
    """The value cannot be released with suppression (the message says why)."""


def suppress(
    value: Any, report: dict[str, Any] | None, margins_name: str = MARGINS_NAME
) -> tuple[Any, dict[str, Any]]:
    """``value`` with the cells ``report``'s failing checks name suppressed (see the module
    docstring), and a summary ``{"cells", "primary", "secondary", "margins", "rules"}``:
    how many cells were suppressed in all, by a failing check, as secondary suppression, how
    many margin cells were recomputed or suppressed, and the rules that failed."""
    frame, rebuild = _as_table(value)
    if frame.size > MAX_TABLE_CELLS:
        raise CannotSuppress(
            f"This table has {frame.size} cells, more than the {MAX_TABLE_CELLS} a table "
            "released with suppression may have: withhold it, and ask for a smaller table."
        )
    failing = [c for c in (report or {}).get("checks", []) if c.get("outcome") == FAIL]
    if not failing:
        raise CannotSuppress(
            "No disclosure check failed on this result, so there is nothing to suppress: "
            "release it as it is, or withhold it."
        )
    for check in failing:
        cells = check.get("cells") or []
        if not cells:
            raise CannotSuppress(
                f"The check {label(check.get('rule', '?'))!r} failed on the result as a whole "
                "(not on some of its cells), so suppressing cells cannot make it safe: "
                "withhold it, saying what to change."
            )
        if len(cells) >= MAX_CELLS:
            raise CannotSuppress(
                f"The check {label(check.get('rule', '?'))!r} failed on {MAX_CELLS} cells or "
                "more (a report lists at most that many), so they cannot all be suppressed: "
                "withhold it, and ask for a coarser table."
            )
    positions = _positions(frame)
    mask = np.zeros(frame.shape, dtype=bool)
    for check in failing:
        for cell in check["cells"]:
            key = (str(cell[0]), str(cell[1])) if len(cell) == 2 else None
            found = positions.get(key) if key else None
            if not found:
                raise CannotSuppress(
                    f"The check {label(check.get('rule', '?'))!r} names a cell this table has "
                    "no single cell for (its labels changed, or repeat), so it cannot be "
                    "suppressed: release it as it is, or withhold it."
                )
            if len(found) > 1:
                raise CannotSuppress(
                    "Several cells of this table have the same row and column labels, so the "
                    "failing ones cannot be told apart: withhold it, and ask for a table with "
                    "distinct labels."
                )
            mask[found[0]] = True
    values_in, numeric = _numbers(frame)
    if (mask & ~numeric[None, :]).any():
        column = frame.columns[int(np.nonzero((mask & ~numeric[None, :]).any(axis=0))[0][0])]
        raise CannotSuppress(
            f"The column {label(column)!r} does not hold numbers, so its cells cannot be "
            "suppressed: release it as it is, or withhold it."
        )
    primary = int(mask.sum())
    values = values_in.copy()
    margin_rows = [i for i, r in enumerate(frame.index) if _is_margin(r, margins_name, first=True)]
    margin_cols = [
        j for j, c in enumerate(frame.columns) if numeric[j] and _is_margin(c, margins_name)
    ]
    inner_rows = [i for i in range(frame.shape[0]) if i not in margin_rows]
    inner_cols = [j for j in range(frame.shape[1]) if numeric[j] and j not in margin_cols]
    blocks = _column_blocks(frame, inner_cols, margin_cols)
    secondary = 0
    margins = 0
    if margin_rows or margin_cols:
        secondary = _secondary(values, mask, inner_rows, blocks, bool(margin_cols), margin_rows)
        margins = _recompute_margins(values, mask, inner_rows, blocks, margin_rows)
    out = values.copy()
    out[mask] = np.nan
    result = frame.copy()
    for j in range(frame.shape[1]):
        if mask[:, j].any() or not np.array_equal(out[:, j], values_in[:, j], equal_nan=True):
            result.isetitem(j, out[:, j])  # as floats: a missing cell is NaN
    summary = {
        "cells": int(mask.sum()),
        "primary": primary,
        "secondary": secondary,
        "margins": margins,
        "rules": sorted({str(c.get("rule", "")) for c in failing}),
    }
    return rebuild(result), summary


# --- the table ---------------------------------------------------------------------------------
def _as_table(value: Any) -> tuple[pd.DataFrame, Any]:
    """``value`` as a numeric DataFrame labelled as the checks labelled it, and how to turn the
    suppressed frame back into the value's own type."""
    if isinstance(value, pd.DataFrame):
        frame, rebuild = value, lambda f: f
    elif isinstance(value, pd.Series):
        name = value.name if value.name is not None else "value"  # as checks._series_frame
        frame = value.to_frame(name=name)

        def rebuild(f: pd.DataFrame) -> Any:
            column = f.iloc[:, 0]
            column.name = value.name
            return column
    elif isinstance(value, np.ndarray) and value.ndim in (1, 2) and value.dtype.kind in "iufb":
        frame = pd.DataFrame(value) if value.ndim == 2 else pd.Series(value).to_frame()

        def rebuild(f: pd.DataFrame) -> Any:
            array = f.to_numpy(dtype=float, na_value=np.nan)
            return array if value.ndim == 2 else array[:, 0]
    else:
        raise CannotSuppress(
            f"A result of type {label(type(value).__name__)} is not a table, so no cell of it "
            "can be suppressed: release it as it is, or withhold it."
        )
    return frame, rebuild


def _numbers(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The table's cells as floats (NaN in a column of text or objects), and which columns
    hold numbers."""
    numeric = np.array([frame.iloc[:, j].dtype.kind in "iufb" for j in range(frame.shape[1])])
    values = np.full(frame.shape, np.nan)
    for j in np.nonzero(numeric)[0].tolist():
        column: pd.Series = frame.iloc[:, int(j)]
        values[:, j] = column.to_numpy(dtype=float, na_value=np.nan)
    return values, numeric


def _positions(frame: pd.DataFrame) -> dict[tuple[str, str], list[tuple[int, int]]]:
    rows = [label(r) for r in frame.index]
    cols = [label(c) for c in frame.columns]
    positions: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            positions.setdefault((r, c), []).append((i, j))
    return positions


def _is_margin(key: Any, name: str, first: bool = False) -> bool:
    """A margin's label: ``name``, or a tuple whose first (rows) or last (columns) level is."""
    if isinstance(key, tuple):
        return bool(key) and label(key[0] if first else key[-1]) == name
    return label(key) == name


def _column_blocks(
    frame: pd.DataFrame, inner_cols: list[int], margin_cols: list[int]
) -> list[tuple[list[int], int | None]]:
    """The table's inner columns by block, each with its margin column (None: none). A
    pivot_table of several values has one block (and one margin column) per value."""
    if not isinstance(frame.columns, pd.MultiIndex):
        return [(inner_cols, margin_cols[0] if len(margin_cols) == 1 else None)]
    blocks: dict[tuple[Any, ...], tuple[list[int], list[int]]] = {}
    for j in inner_cols:
        blocks.setdefault(tuple(frame.columns[j][:-1]), ([], []))[0].append(j)
    for j in margin_cols:
        blocks.setdefault(tuple(frame.columns[j][:-1]), ([], []))[1].append(j)
    return [(inner, margin[0] if len(margin) == 1 else None) for inner, margin in blocks.values()]


def _secondary(
    values: np.ndarray,
    mask: np.ndarray,
    inner_rows: list[int],
    blocks: list[tuple[list[int], int | None]],
    row_margins: bool,
    margin_rows: list[int],
) -> int:
    """Suppress a second cell in every line with a margin and exactly one suppressed cell,
    until there is none (it ends: each pass only adds suppressed cells)."""
    lines: list[list[tuple[int, int]]] = []
    for inner, margin_col in blocks:
        if row_margins and margin_col is not None:
            lines += [[(i, j) for j in inner] for i in inner_rows]
        if margin_rows:
            lines += [[(i, j) for i in inner_rows] for j in inner]
    added = 0
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [p for p in line if mask[p]]
            if len(hidden) != 1:
                continue
            left = [p for p in line if not mask[p] and not np.isnan(values[p])]
            if not left:
                continue
            chosen = min(left, key=lambda p: abs(values[p]))
            mask[chosen] = True
            added += 1
            changed = True
    return added


def _recompute_margins(
    values: np.ndarray,
    mask: np.ndarray,
    inner_rows: list[int],
    blocks: list[tuple[list[int], int | None]],
    margin_rows: list[int],
) -> int:
    """Margins as the sums of the cells that remain (or suppressed, where they are not sums).
    Margin cells a check failed on stay suppressed. Returns how many margin cells changed."""
    changed = 0

    def settle(target: tuple[int, int], cells: list[tuple[int, int]]) -> None:
        nonlocal changed
        if mask[target]:
            return
        if not any(mask[p] for p in cells):
            return  # nothing of this line was suppressed: its total stands as computed
        original = np.nansum([values[p] for p in cells])
        is_sum = bool(np.isclose(values[target], original, rtol=1e-9, atol=1e-9))
        remaining = [values[p] for p in cells if not mask[p] and not np.isnan(values[p])]
        if is_sum and remaining:
            values[target] = float(np.sum(remaining))
        else:
            mask[target] = True
        changed += 1

    for inner, margin_col in blocks:
        if margin_col is not None:
            for i in inner_rows:
                settle((i, margin_col), [(i, j) for j in inner])
        for m in margin_rows:
            for j in inner:
                settle((m, j), [(i, j) for i in inner_rows])
            if margin_col is not None:
                settle((m, margin_col), [(i, j) for i in inner_rows for j in inner])
    return changed
