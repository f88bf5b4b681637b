"""Automatic disclosure checks of results from private data (issue 13).

Pure Python on pandas and numpy. In the sandboxed worker the approved function runs in a forked
child (``track.install()`` there records the groups behind its pandas aggregations and sends
their statistics as untrusted claims); the worker's parent, which never runs user code, calls
``check_result(value, inputs, rules)`` on the decoded result against its own copy of the inputs.
The report is a JSON dict that never carries a value of the data; ``RuleSet`` holds the
thresholds (ACRO's defaults, OpenSAFELY, DataSHIELD, custom values). ``helpers`` gives the
``datasite.crosstab/pivot_table/ols/logit/histogram/survival`` helpers with exact counts;
``suppress`` redacts failing cells when an owner releases with suppression.
"""

from __future__ import annotations

from jupyter_syft.disclosure.checks import check_result
from jupyter_syft.disclosure.rules import PRESETS, RuleSet

__all__ = ["PRESETS", "RuleSet", "check_result"]
