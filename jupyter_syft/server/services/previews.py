"""JSON previews of values (an asset's first rows, a run's result) for the sidebar.

The access rules are the dataset and code services' own: this only turns what they allow into
a small JSON table, so a browser never has to decode the binary value format.
"""

from __future__ import annotations

import math
from typing import Any

from ...disclosure.report import label
from ...wire import models as wire
from .code import CodeService
from .datasets import DatasetService, decode_stored

MAX_ROWS = 100
MAX_COLUMNS = 50
MAX_TEXT = 4000
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
    kind = type(value).__name__
    if kind == "Series":
        value = value.to_frame()
        kind = "DataFrame"
    if kind == "DataFrame":
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


def _text(value: Any, shape: list[int] | None = None) -> wire.TextPreview:
    text = repr(value)
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
