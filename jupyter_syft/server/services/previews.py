"""JSON previews of values (an asset's first rows, a run's result) for the sidebar.

The access rules are the dataset and code services' own: this only turns what they allow into
a small JSON table, so a browser never has to decode the binary value format.
"""

from __future__ import annotations

import math
from typing import Any

from ...wire import models as wire
from .code import CodeService
from .datasets import DatasetService, decode_stored

MAX_ROWS = 100
MAX_COLUMNS = 50
MAX_TEXT = 4000
MAX_TABLE_ITEMS = 1_000_000  # a dict or list longer than this stays text (no table built)
# The models behind ``wire.models.Preview`` (the route's answer, one of them by ``kind``).
AnyPreview = wire.DataFramePreview | wire.ArrayPreview | wire.TextPreview


class PreviewService:
    def __init__(self, datasets: DatasetService, code: CodeService):
        self.datasets = datasets
        self.code = code

    def asset(self, actor: Any, asset_id: str, which: str, rows: int = 5) -> AnyPreview:
        path, _size = self.datasets.open_value(actor, asset_id, which)
        return preview(decode_stored(path), rows)

    def result(self, actor: Any, execution_id: str, rows: int = 20) -> AnyPreview:
        path, _size = self.code.open_result(actor, execution_id)
        return preview(decode_stored(path), rows)


def preview(value: Any, rows: int = 5) -> AnyPreview:
    """A table (``kind`` dataframe or array) of at most ``rows`` rows, or the value as text."""
    rows = max(1, min(int(rows), MAX_ROWS))
    table = _as_table(value)
    if table is not None:
        value = table
    kind = type(value).__name__
    if kind == "Series":
        value = value.to_frame()
        kind = "DataFrame"
    if kind == "DataFrame":
        from ...disclosure.report import label  # the disclosure package: not on start-up's path

        columns = list(value.columns[:MAX_COLUMNS])
        head = value.iloc[:rows, :MAX_COLUMNS]
        return wire.DataFramePreview(
            kind="dataframe",
            shape=list(value.shape),
            columns=[str(c) for c in columns],
            rows=[[_cell(v) for v in row] for row in head.itertuples(index=False)],
            index=[label(i) for i in head.index],
        )
    if kind == "ndarray":
        head = value[:rows]
        if head.ndim == 1:
            table = [[_cell(v)] for v in head.tolist()]
        elif head.ndim == 2:
            table = [[_cell(v) for v in row[:MAX_COLUMNS]] for row in head.tolist()]
        else:
            return _text(value, shape=list(value.shape))
        width = 1 if head.ndim == 1 else min(value.shape[1], MAX_COLUMNS)
        return wire.ArrayPreview(
            kind="array",
            shape=list(value.shape),
            dtype=str(value.dtype),
            columns=[str(i) for i in range(width)],
            rows=table,
        )
    return _text(value)


def _is_number(value: Any) -> bool:
    import numbers

    if isinstance(value, numbers.Number):
        return True
    return type(value).__module__ == "numpy" and hasattr(value, "item")  # numpy scalars


def _as_table(value: Any) -> Any:
    """A dict or list as the table the disclosure checks read it as (``disclosure/checks.py``:
    a dict of equal-length columns, a dict of numbers as a "value" column keyed by the dict's
    keys, a list of records, a list of numbers or strings), so a result such as
    ``df.head(50).to_dict("records")`` shows as rows and columns, not as a repr; None otherwise."""
    from collections.abc import Mapping

    if not isinstance(value, (Mapping, list, tuple)) or not value or len(value) > MAX_TABLE_ITEMS:
        return None
    import pandas as pd

    try:
        if isinstance(value, Mapping):
            columns = list(value.values())
            if all(
                isinstance(v, (list, tuple)) or type(v).__name__ in ("ndarray", "Series")
                for v in columns
            ):
                if len({len(v) for v in columns}) == 1:
                    return pd.DataFrame({k: list(v) for k, v in value.items()})
                return None
            if all(_is_number(v) for v in columns):
                return pd.Series(dict(value)).to_frame("value")
            return None
        if all(isinstance(v, Mapping) for v in value):
            return pd.DataFrame.from_records(list(value))
        if all(_is_number(v) or isinstance(v, str) for v in value):
            return pd.Series(list(value)).to_frame()
    except Exception:  # an odd container: shown as text
        return None
    return None


def _text(value: Any, shape: list[int] | None = None) -> wire.TextPreview:
    text = repr(value)
    if _is_number(value) and type(value).__module__ == "numpy":
        text = repr(value.item())  # 2.5, not np.float64(2.5)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + " …"
    return wire.TextPreview(kind="text", type=type(value).__name__, shape=shape, text=text)


def _cell(value: Any) -> Any:
    """A JSON-safe cell: finite numbers and booleans as they are, anything else as text."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _cell(item())
        except (TypeError, ValueError):
            pass
    return str(value)
