"""pandas DataFrames and Series as Arrow IPC stream segments, both ways.

Writing keeps large column buffers by reference (no copy). Reading refuses compressed
batches and tables that claim more values than their bytes can hold, validates fully, and
undoes the two losses of a pandas -> Arrow -> pandas round trip.
"""

from __future__ import annotations

import contextlib
import json
import struct
from collections.abc import Iterator
from typing import Any

from .encoded import byte_view
from .errors import SerdeError, bad
from .lazy_imports import import_pandas, import_pyarrow

_BIG_PART = 1 << 16  # Arrow writes below this are coalesced; larger ones are kept zero-copy
_THREADED_BYTES = 16 << 20  # tables converted to pandas on pyarrow's threads from this size


class _PartsSink:
    """File-like sink for pyarrow.PythonFile: keeps large buffers by reference (no copy)."""

    def __init__(self) -> None:
        self.parts: list[Any] = []
        self._small = bytearray()
        self.closed = False

    def write(self, data: Any) -> int:
        view = byte_view(data)
        n = view.nbytes
        if n >= _BIG_PART:
            self._flush()
            self.parts.append(data)  # a pyarrow Buffer keeps the column memory alive
        else:
            self._small += view
        return n

    def _flush(self) -> None:
        if self._small:
            self.parts.append(bytes(self._small))
            self._small = bytearray()

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._flush()
        self.closed = True

    def writable(self) -> bool:
        return True


def arrow_parts(table: Any) -> list[Any]:
    import pyarrow as pa

    sink = _PartsSink()
    stream = pa.PythonFile(sink, mode="w")
    with pa.ipc.new_stream(stream, table.schema) as writer:
        writer.write_table(table)
    stream.close()
    sink.close()
    return sink.parts


def table_from_pandas(df: Any, series: Any) -> Any:
    """pa.Table.from_pandas, with errors that name the column and say what to do."""
    import pyarrow as pa

    what = "Series" if series is not None else "DataFrame"
    try:
        return pa.Table.from_pandas(df, preserve_index=None)
    except Exception as exc:
        problem = exc
    if series is None and not df.columns.is_unique:
        dups = sorted({str(c) for c in df.columns[df.columns.duplicated()]})[:5]
        raise SerdeError(
            f"Cannot send a DataFrame with duplicate column names {dups}: rename them first, "
            "e.g. df.columns = [f'{c}_{i}' for i, c in enumerate(df.columns)]."
        )
    for i in range(df.shape[1]):
        column = df.iloc[:, i]
        try:
            pa.Array.from_pandas(column)
        except Exception as exc:
            label = series.name if series is not None else df.columns[i]
            fix = (
                "s = s.astype(str)"
                if series is not None
                else f"df[{label!r}] = df[{label!r}].astype(str)"
            )
            raise SerdeError(
                f"Cannot send {what} column {label!r} (dtype {column.dtype}): Arrow cannot "
                f"convert it ({exc}). Convert it first, e.g. {fix}."
            ) from None
    raise SerdeError(
        f"Cannot send this {what}: Arrow cannot convert it ({problem}). If the index is the "
        "problem, convert it first, e.g. x.index = x.index.astype(str) or x.reset_index()."
    )


def frame_from_arrow(view: memoryview, index: int) -> Any:
    pa = import_pyarrow()
    pd = import_pandas()
    with _decoding(index):
        table = _checked_table(pa, view, index)
        meta = table.schema.pandas_metadata  # parsed once for the steps below
        table, bool_levels = _text_bool_labels(table, meta)
        # pyarrow's thread pool costs more CPU than it saves wall time on small tables (the
        # segment's size stands for the table's: its batches are uncompressed).
        frame = table.to_pandas(use_threads=len(view) >= _THREADED_BYTES)
        _restore_object_columns(frame, table, meta, pd)
        _restore_bool_labels(frame, bool_levels, pd)
    if type(frame) is not pd.DataFrame:
        raise bad(f"segment {index} did not decode to a DataFrame")
    return frame


def check_arrow(view: memoryview, index: int) -> int:
    """What :func:`frame_from_arrow` checks of a segment, without building the DataFrame (so
    a value on a memory map is checked without a copy of it on the heap): the DataFrame's
    column count."""
    pa = import_pyarrow()
    pd = import_pandas()
    with _decoding(index):
        table = _checked_table(pa, view, index)
        # Zero rows through the same conversion: the pandas metadata, index and types are
        # checked as decoding would, and no row is copied.
        meta = table.schema.pandas_metadata
        empty, bool_levels = _text_bool_labels(table.slice(0, 0), meta)
        frame = empty.to_pandas(use_threads=False)
        _restore_object_columns(frame, empty, meta, pd)
        _restore_bool_labels(frame, bool_levels, pd)
    if type(frame) is not pd.DataFrame:
        raise bad(f"segment {index} did not decode to a DataFrame")
    return int(frame.shape[1])  # as decoded: index columns are not counted


def _checked_table(pa: Any, view: memoryview, index: int) -> Any:
    buffer = pa.py_buffer(view)
    _refuse_compressed_batches(pa, buffer, index)
    table = pa.ipc.open_stream(buffer).read_all()
    # The IPC reader checks only buffer bounds; full validation checks offsets and UTF-8.
    table.validate(full=True)
    _refuse_inflated_table(pa, table, len(view), index)
    return table


@contextlib.contextmanager
def _decoding(index: int) -> Iterator[None]:
    try:
        yield
    except SerdeError:
        raise
    except Exception as exc:
        raise SerdeError(
            f"Could not decode the DataFrame in segment {index}: {type(exc).__name__}: {exc}. "
            "The data is corrupted or was produced by an incompatible jupyter_syft."
        ) from None


def _fb_read(fmt: str, buf: bytes, pos: int) -> int:
    if not 0 <= pos <= len(buf) - struct.calcsize(fmt):
        raise bad("an Arrow message has out-of-bounds metadata")
    return int(struct.unpack_from(fmt, buf, pos)[0])


def _fb_field(buf: bytes, table: int, field: int) -> int | None:
    """Position of a flatbuffer table's field, or None when the field is absent."""
    vtable = table - _fb_read("<i", buf, table)
    slot = 4 + 2 * field
    if slot + 2 > _fb_read("<H", buf, vtable):
        return None
    offset = _fb_read("<H", buf, vtable + slot)
    return table + offset if offset else None


def _fb_table(buf: bytes, pos: int) -> int:
    return pos + _fb_read("<I", buf, pos)


def _batch_is_compressed(meta: bytes) -> bool:
    """Whether an Arrow IPC Message (flatbuffer) is a record/dictionary batch with a
    compressed body. Layout from Arrow's Message.fbs: Message{version, header_type,
    header, ...}; DictionaryBatch{id, data: RecordBatch}; RecordBatch{length, nodes,
    buffers, compression}."""
    root = _fb_read("<I", meta, 0)
    type_pos = _fb_field(meta, root, 1)
    header_pos = _fb_field(meta, root, 2)
    if type_pos is None or header_pos is None:
        return False
    header_type = _fb_read("<B", meta, type_pos)
    batch = _fb_table(meta, header_pos)
    if header_type == 2:  # DictionaryBatch: its RecordBatch is field 1
        data_pos = _fb_field(meta, batch, 1)
        if data_pos is None:
            return False
        batch = _fb_table(meta, data_pos)
    elif header_type != 3:  # only RecordBatch bodies can be compressed
        return False
    return _fb_field(meta, batch, 3) is not None


def _refuse_compressed_batches(pa: Any, buffer: Any, index: int) -> None:
    # A compressed body declares its own inflated size: a tiny payload could make the
    # reader allocate gigabytes. jupyter_syft never compresses, so refuse it outright.
    for message in pa.ipc.MessageReader.open_stream(buffer):
        if _batch_is_compressed(message.metadata.to_pybytes()):
            raise bad(f"segment {index} holds a compressed Arrow batch, which is not allowed")


def _logical_length(pa: Any, array: Any) -> int:
    """Element count including nested children, dictionaries and run-end expansions."""
    types = pa.types
    kind = array.type
    total = len(array)
    if types.is_dictionary(kind):
        total += _logical_length(pa, array.dictionary)
    elif (
        types.is_list(kind)
        or types.is_large_list(kind)
        or types.is_fixed_size_list(kind)
        or types.is_list_view(kind)
        or types.is_large_list_view(kind)
        or types.is_map(kind)
        or types.is_run_end_encoded(kind)
    ):
        total += _logical_length(pa, array.values)
    elif types.is_struct(kind) or types.is_union(kind):
        total += sum(_logical_length(pa, array.field(i)) for i in range(kind.num_fields))
    return total


def _refuse_inflated_table(pa: Any, table: Any, nbytes: int, index: int) -> None:
    # Null and run-end-encoded arrays can claim any length without bytes to back it;
    # converting them to pandas would then allocate without bound.
    limit = 8 * nbytes + (1 << 24)
    # A column of a type without children or a dictionary counts just its rows (what
    # _logical_length gives it), so only the others are walked chunk by chunk.
    walk = [
        i for i, kind in enumerate(table.schema.types)
        if kind.num_fields or pa.types.is_dictionary(kind)
    ]  # fmt: skip
    total = (table.num_columns - len(walk)) * table.num_rows
    chunks = (chunk for i in walk for chunk in table.column(i).chunks)
    while total <= limit:
        chunk = next(chunks, None)
        if chunk is None:
            return
        total += _logical_length(pa, chunk)
    raise SerdeError(
        f"Refusing the DataFrame in segment {index}: it claims far more values "
        f"than its {nbytes} bytes can hold (a memory bomb)."
    )


def _text_bool_labels(table: Any, meta: Any) -> tuple[Any, list[int]]:
    """pyarrow stores boolean column labels as the text "True"/"False" and decodes them with
    ``astype(bool)``, which makes every one True (``pd.crosstab(a > 1, b > 0)`` has such
    labels). Their levels are read as text here and turned back into booleans after.
    ``meta`` is the table's parsed pandas metadata; its column levels may be rewritten."""
    levels = meta.get("column_indexes") if isinstance(meta, dict) else None
    if not isinstance(levels, list):
        return table, []
    bools = [
        i for i, level in enumerate(levels)
        if isinstance(level, dict) and level.get("pandas_type") == "bool"
    ]  # fmt: skip
    if not bools:
        return table, []
    for i in bools:
        levels[i] = dict(levels[i], pandas_type="unicode", numpy_type="object", metadata=None)
    schema_meta = dict(table.schema.metadata)
    schema_meta[b"pandas"] = json.dumps(meta).encode()
    return table.replace_schema_metadata(schema_meta), bools


def _restore_bool_labels(frame: Any, bool_levels: list[int], pd: Any) -> None:
    if not bool_levels:
        return

    def as_bool(text: Any) -> bool:
        if text not in ("True", "False"):
            raise bad(f"a boolean column label reads {str(text)[:40]!r}")
        return bool(text == "True")

    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        for i in bool_levels:
            columns = columns.set_levels(columns.levels[i].map(as_bool), level=i)
        frame.columns = columns
    else:
        frame.columns = pd.Index([as_bool(c) for c in columns], dtype=bool, name=columns.name)


def _restore_object_columns(frame: Any, table: Any, meta: Any, pd: Any) -> None:
    """Undo two pyarrow losses: object string columns (pandas>=3 reads them as "str")
    and default RangeIndex column labels."""
    labels = frame.columns
    if (
        type(labels) is pd.Index
        and labels.dtype == "int64"
        and labels.name is None
        and labels.equals(pd.RangeIndex(len(labels)))
    ):
        # Arrow keeps the labels, not that they were the default RangeIndex.
        frame.columns = pd.RangeIndex(len(labels))
    columns = (meta or {}).get("columns")
    if type(columns) is not list:
        return
    # pyarrow writes data columns first, in frame order, then index columns. Only columns
    # the metadata calls object can need restoring, so most frames build no dtypes Series.
    wanted = [
        i for i, col_meta in enumerate(columns[: frame.shape[1]])
        if type(col_meta) is dict and col_meta.get("numpy_type") == "object"
    ]  # fmt: skip
    if not wanted:
        return
    dtypes = frame.dtypes  # once: restoring column i leaves the others' dtypes as they are
    for i in wanted:
        if str(dtypes.iloc[i]) != "object":
            values = table.column(i).to_numpy(zero_copy_only=False)
            # A Series with dtype=object is the one container pandas 3 does not re-infer.
            frame.isetitem(i, pd.Series(values, dtype=object, index=frame.index, copy=False))
