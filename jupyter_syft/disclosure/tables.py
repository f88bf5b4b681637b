"""The cell rules of a table of counts, shared by the checks of a plain result (``checks``)
and of a tracked one (``track``), which know the table's real groups."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jupyter_syft.disclosure.report import FAIL, PASS, REVIEW, Check, label
from jupyter_syft.disclosure.rules import RuleSet


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {many or one + 's'}"


def marked_cells(frame: pd.DataFrame, mask: np.ndarray) -> list[list[str]]:
    rows, cols = np.nonzero(mask)
    out = []
    for r, c in zip(rows[:50], cols[:50], strict=False):
        out.append([label(frame.index[r]), label(frame.columns[c])])
    return out


def frequency_checks(
    frame: pd.DataFrame, arr: np.ndarray, rules: RuleSet, skip: np.ndarray | None = None
) -> list[Check]:
    """Cells of a table of counts (``arr``: its values as floats, NaN for an empty cell).

    ``skip``: cells not to check (reported elsewhere).
    """
    checks: list[Check] = []
    t = rules.safe_threshold
    keep = ~skip if skip is not None else np.ones(arr.shape, dtype=bool)
    empty = np.isnan(arr) & keep
    vals = np.where(np.isnan(arr) | ~keep, 0, arr)
    low = (vals > 0) & (vals < t)
    if low.any():
        checks.append(
            Check(
                "min_count",
                FAIL,
                f"{plural(int(low.sum()), 'cell counts', 'cells count')} fewer than {t}",
                marked_cells(frame, low),
            )
        )
    zeros = (vals == 0) & keep
    if rules.zeros_disclosive and zeros.any():
        checks.append(
            Check(
                "zeros",
                FAIL,
                f"{plural(int(zeros.sum()), 'cell is', 'cells are')} zero or empty, and zeros "
                "are disclosive (they tell that nobody has that combination)",
                marked_cells(frame, zeros),
            )
        )
    elif empty.any():
        checks.append(
            Check(
                "empty",
                REVIEW,
                f"{plural(int(empty.sum()), 'cell is', 'cells are')} missing (NaN): empty or "
                "unknown",
                marked_cells(frame, empty),
            )
        )
    if rules.rounding:
        unrounded = np.mod(vals, rules.rounding) != 0
        if unrounded.any():
            checks.append(
                Check(
                    "rounding",
                    FAIL,
                    f"{plural(int(unrounded.sum()), 'count is', 'counts are')} not rounded to a "
                    f"multiple of {rules.rounding} (unrounded counts allow differencing; "
                    f"round them, e.g. (n / {rules.rounding}).round() * {rules.rounding})",
                    marked_cells(frame, unrounded),
                )
            )
    if not any(c["outcome"] != PASS for c in checks):
        checks.append(
            Check(
                "min_count",
                PASS,
                f"a table of counts: every cell counts at least {t}"
                + ("" if rules.zeros_disclosive else " or zero"),
            )
        )
    return checks
