"""The disclosure report: plain JSON, never a value of the data.

A report is ``{"outcome": "pass"|"fail"|"review", "rules": name, "rules_digest": sha256,
"checks": [{"rule", "outcome", "reason", "cells"}]}``. The outcome is the worst of the
checks' (fail > review > pass); a report with no check at all is "review" (nothing vouched
for the result). Reasons are fixed sentences with thresholds and counts of cells, never a
value of the result; ``cells`` are ``[row_label, col_label]`` pairs of short strings (a table's
own labels), at most :data:`MAX_CELLS` per check.
"""

from __future__ import annotations

from typing import Any

from jupyter_syft.disclosure.rules import RuleSet

__all__ = ["MAX_CELLS", "MAX_LABEL", "Check", "build_report", "label", "worst"]

PASS, FAIL, REVIEW = "pass", "fail", "review"
_RANK = {PASS: 0, REVIEW: 1, FAIL: 2}
MAX_CELLS = 50  # cells listed per check
MAX_LABEL = 40  # characters of one label
MAX_CHECKS = 50  # checks per report
MAX_REASON = 300  # characters of a reason


def label(value: Any) -> str:
    """A short string for a row or column label (tuples of a MultiIndex joined by " / ")."""
    if isinstance(value, tuple):
        text = " / ".join(label(v) for v in value)
    else:
        try:
            text = str(value)
        except Exception:
            text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def worst(outcomes: list[str]) -> str:
    return max(outcomes, key=lambda o: _RANK.get(o, 1), default=REVIEW)


class Check(dict[str, Any]):
    """One check's result: a dict ``{"rule", "outcome", "reason", "cells"}``."""

    def __init__(self, rule: str, outcome: str, reason: str, cells: list[list[str]] | None = None):
        if outcome not in _RANK:
            outcome = REVIEW
        if len(reason) > MAX_REASON:
            reason = reason[: MAX_REASON - 1] + "…"
        super().__init__(
            rule=rule, outcome=outcome, reason=reason, cells=list(cells or [])[:MAX_CELLS]
        )


def build_report(checks: list[Check], rules: RuleSet) -> dict[str, Any]:
    if len(checks) > MAX_CHECKS:
        # keep the worst first so the cap never hides a failure
        checks = sorted(checks, key=lambda c: -_RANK.get(c["outcome"], 1))[:MAX_CHECKS]
    return {
        "outcome": worst([c["outcome"] for c in checks]),
        "rules": rules.name,
        "rules_digest": rules.digest(),
        "checks": [dict(c) for c in checks],
    }
