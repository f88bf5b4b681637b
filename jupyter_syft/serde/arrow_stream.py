"""A large DataFrame as an Arrow IPC stream of record batches, converted slice by slice as it
is sent, so encoding never holds a second copy of the frame.

The format needs each segment's size in the header, before its bytes. ``frame_segment``
therefore converts the frame twice: a sizing pass that writes every batch to a counting
sink (keeping the first batches, up to ``KEEP_BYTES``, so they are not converted again),
then, as the payload is read, a pass that converts and writes each batch for real. Both
passes make the same batches, so the sizes agree; a frame changed in between is refused.

Small frames take the one-table path (``arrow_parts``): their bytes are what they always
were. A frame whose slices do not all convert to the same Arrow types (an object column
that is all None in its first rows, say) is converted whole, as before: whole-frame type
inference decides its types, and slices could not agree with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .arrow import _PartsSink, arrow_parts, table_from_pandas
from .encoded import LazyPart
from .errors import SerdeError

BATCH_BYTES = 8 << 20  # about this much column data per record batch
KEEP_BYTES = 16 << 20  # batches kept from the sizing pass (most of the client's extra memory)
_SAMPLE_ROWS = 1024  # rows sampled to estimate a row's size (strings included)


class ArrowFrameStream(LazyPart):
    """The Arrow IPC stream of a DataFrame: ``nbytes`` known up front, bytes made on demand.

    Iterating it yields the stream's buffers (zero-copy views of one batch at a time). It can
    be iterated again; each pass converts the frame anew."""

    def __init__(self, frame: Any, schema: Any, rows_per_batch: int, nbytes: int, kept: list[Any]):
        self.frame = frame
        self.schema = schema
        self.rows_per_batch = rows_per_batch
        self.nbytes = nbytes
        self._kept = kept

    def _batches(self) -> Iterator[Any]:
        import pyarrow as pa

        for i, start in enumerate(range(0, len(self.frame), self.rows_per_batch)):
            if i < len(self._kept) and self._kept[i] is not None:
                batch, self._kept[i] = self._kept[i], None  # freed once sent
                yield batch
                continue
            rows = self.frame.iloc[start : start + self.rows_per_batch]
            batch = _convert(pa, rows)
            if not batch.schema.equals(self.schema, check_metadata=False):
                raise _changed()
            yield batch

    def __iter__(self) -> Iterator[Any]:
        import pyarrow as pa

        sink = _PartsSink()
        stream = pa.PythonFile(sink, mode="w")
        sent = 0
        with pa.ipc.new_stream(stream, self.schema) as writer:
            for batch in self._batches():
                writer.write_batch(batch)
                sink._flush()
                parts, sink.parts = sink.parts, []
                for part in parts:
                    sent += len(part)
                    yield part
                del batch, parts
                _release_freed(pa)
        stream.close()
        sink.close()
        for part in sink.parts:
            sent += len(part)
            yield part
        if sent != self.nbytes:
            raise _changed()


def frame_segment(frame: Any, series: Any) -> tuple[list[Any], int]:
    """The Arrow segment of ``frame`` (a Series' ``series`` for error messages) as its parts:
    buffers, or one ``ArrowFrameStream`` for a large frame; and the table's ``nbytes``."""
    rows = len(frame)
    sample = frame.iloc[:_SAMPLE_ROWS]
    row_bytes = max(1, int(sample.memory_usage(index=True, deep=True).sum()) // max(1, len(sample)))
    rows_per_batch = max(1, BATCH_BYTES // row_bytes)
    if rows <= 2 * rows_per_batch:
        table = table_from_pandas(frame, series)
        return arrow_parts(table), int(table.nbytes)
    sized = _size_batches(frame, rows_per_batch)
    if sized is None:  # the slices disagree on types, or one fails: convert it whole
        table = table_from_pandas(frame, series)
        return arrow_parts(table), int(table.nbytes)
    schema, nbytes, table_nbytes, kept = sized
    return [ArrowFrameStream(frame, schema, rows_per_batch, nbytes, kept)], table_nbytes


def _size_batches(frame: Any, rows_per_batch: int) -> tuple[Any, int, int, list] | None:
    """The sizing pass: the stream's schema, its size in bytes, the table's ``nbytes`` and the
    first batches; None when slices convert to different types (or fail to convert)."""
    import pyarrow as pa

    schema = None
    writer = None
    sink = pa.MockOutputStream()
    kept: list[Any] = []
    kept_bytes = 0
    table_nbytes = 0
    for start in range(0, len(frame), rows_per_batch):
        try:
            batch = _convert(pa, frame.iloc[start : start + rows_per_batch])
        except Exception:
            return None
        if schema is None:
            schema = _whole_frame_schema(batch.schema, frame)
            writer = pa.ipc.new_stream(sink, schema)
        elif not batch.schema.equals(schema, check_metadata=False):
            return None
        assert writer is not None
        writer.write_batch(batch)
        size = int(batch.nbytes)
        table_nbytes += size
        if kept_bytes + size <= KEEP_BYTES and len(kept) == start // rows_per_batch:
            kept.append(batch)
            kept_bytes += size
    assert writer is not None
    writer.close()
    _release_freed(pa)
    return schema, int(sink.size()), table_nbytes, kept


def _release_freed(pa: Any) -> None:
    # Arrow's allocator (mimalloc, jemalloc) keeps freed batches' pages for reuse: without
    # this the process would grow by all the batches it ever converted at once.
    pa.default_memory_pool().release_unused()


def _convert(pa: Any, rows: Any) -> Any:
    # One thread: a slice is small, and a thread pool per slice costs more than it saves.
    return pa.RecordBatch.from_pandas(rows, preserve_index=None, nthreads=1)


def _whole_frame_schema(first: Any, frame: Any) -> Any:
    """The first slice's schema with the pandas metadata of the whole frame: a RangeIndex is
    stored as metadata (start, stop, step), which for a slice names the slice's rows."""
    import json

    import pandas as pd

    meta = first.pandas_metadata
    index = frame.index
    if isinstance(meta, dict) and isinstance(index, pd.RangeIndex):
        for entry in meta.get("index_columns", []):
            if isinstance(entry, dict) and entry.get("kind") == "range":
                entry.update(start=index.start, stop=index.stop, step=index.step)
        metadata = dict(first.metadata)
        metadata[b"pandas"] = json.dumps(meta).encode()
        return first.with_metadata(metadata)
    return first


def _changed() -> SerdeError:
    return SerdeError(
        "The DataFrame changed while it was being sent; do not modify a value until its "
        "upload has finished, then send it again."
    )
