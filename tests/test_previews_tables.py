"""Run results previewed as tables, the way the disclosure checks read them: a list of records,
a dict of columns, a dict of numbers, a list of numbers; single values as their plain text;
anything else stays text. (Through the Datasite and the sidebar: ui-tests/tests/triage.spec.ts
runs ``data.head(50).to_dict("records")`` on the mocks and reads a 50 x 3 table.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jupyter_syft.disclosure.checks import check_result
from jupyter_syft.server.services.previews import preview


def test_records_preview_as_rows_and_columns():
    records = pd.DataFrame({"a": range(50), "b": [x * 0.5 for x in range(50)]}).to_dict("records")
    shown = preview(records, rows=20)
    assert shown.kind == "dataframe"
    assert shown.shape == [50, 2] and shown.columns == ["a", "b"]
    assert len(shown.rows) == 20 and shown.rows[1] == [1, 0.5]


def test_dicts_preview_as_tables_keyed_as_the_checks_key_them():
    means = preview({"radius": 14.1, "texture": np.float64(19.2)})
    assert means.kind == "dataframe"
    assert means.columns == ["value"] and means.index == ["radius", "texture"]
    assert means.rows == [[14.1], [19.2]]
    columns = preview({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    assert columns.kind == "dataframe" and columns.shape == [3, 2]
    numbers = preview([3, 1, 4])
    assert numbers.kind == "dataframe" and numbers.shape == [3, 1]


def test_the_index_labels_match_the_disclosure_report():
    """The sidebar marks failing cells by the report's [row, column] labels."""
    data = pd.DataFrame({"g": ["a", "a", "b"], "v": [1, 2, 3]})
    value = data.groupby("g")["v"].count().to_dict()  # {"a": 2, "b": 1}: small counts
    shown = preview(value)
    cells = [
        tuple(cell)
        for check in check_result(value, {"data": data})["checks"]
        for cell in check["cells"]
    ]
    assert cells == [("a", "value"), ("b", "value")]
    assert all(row in shown.index and column in shown.columns for row, column in cells)


def test_single_values_and_other_objects_stay_text():
    assert preview(3.5).kind == "text" and preview(3.5).text == "3.5"
    scalar = preview(np.float64(2.5))
    assert (scalar.kind, scalar.type, scalar.text) == ("text", "float64", "2.5")
    nested = preview({"a": {"b": 1}})
    assert nested.kind == "text" and nested.type == "dict"
    assert preview([]).kind == "text"  # nothing to tabulate
    mixed = preview([{"a": 1}, 2])
    assert mixed.kind == "text"
