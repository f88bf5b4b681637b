"""Automatic disclosure checks of results from private data (issue 13).

Pure Python on pandas and numpy: imported inside the sandboxed worker after the user's function
returned. ``check_result(value, inputs, rules)`` returns the report (a JSON dict, never a value
of the data); ``RuleSet`` holds the thresholds (ACRO's defaults, OpenSAFELY, DataSHIELD,
custom values). ``track.install()`` (called in the worker before the user's function runs)
records the groups behind pandas aggregations, so means and sums are checked with their real
group sizes (minimum group size, n-k dominance, p-ratio); without it they are "review".
"""

from __future__ import annotations

from jupyter_syft.disclosure.checks import check_result
from jupyter_syft.disclosure.rules import PRESETS, RuleSet

__all__ = ["PRESETS", "RuleSet", "check_result"]
