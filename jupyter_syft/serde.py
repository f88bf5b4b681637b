"""The one versioned binary format for values that cross jupyter_syft's trust boundary.

Datasets, arguments and results travel and are stored in this format. It never uses
pickle: decoding only ever builds plain Python values, numpy arrays (from ``.npy`` bytes
with ``allow_pickle`` semantics off) and pandas objects (from Arrow IPC streams). A
malicious payload cannot run code on decode; anything malformed raises ``SerdeError``.

Layout, format version 1
------------------------
::

    offset 0    magic    b"JSYF"
    4           u8       format version (1)
    5           u8       flags (0, reserved)
    6           u32 LE   header length H
    10          H bytes  UTF-8 JSON object:
                         {"v": 1, "root": <node>,
                          "segments": [{"kind": "arrow" | "npy" | "bytes", "size": <int>}, ...],
                          "summary": {"type": ..., ...}}
    10 + H      the segments' bytes, concatenated in order, each exactly "size" bytes

The total length is exactly ``10 + H + sum(sizes)``; fewer or more bytes are an error.
The encoder pads the JSON with trailing spaces so the segment area starts 64-byte aligned,
and orders segments arrow, then npy, then bytes: Arrow streams are multiples of 8 bytes
and each ``.npy`` header is padded so its data starts 64-byte aligned, which lets decoding
hand out aligned zero-copy buffers. Decoders must not rely on either.

Nodes
-----
JSON ``null``, ``true``/``false``, integers (Python ``int``, up to ~4200 digits), finite
floats (exact: floats are written with ``repr``) and strings stand for themselves. Every
JSON array is a tagged node ``[tag, ...]``; JSON objects never appear in the value tree.

=======================================  ==================================================
``["float", "nan"|"inf"|"-inf"]``        non-finite float (NaN payload and sign are lost)
``["list"|"tuple", [nodes]]``            list, tuple
``["set"|"frozenset", [nodes]]``         set, frozenset
``["dict"|"odict", [[k, v], ...]]``      dict, collections.OrderedDict (keys are nodes)
``["bytes"|"bytearray"|"bytesio", i]``   bytes-like value in segment ``i`` (kind bytes);
                                         io.BytesIO holds its whole buffer, position 0
``["complex", re, im]``                  re, im: float nodes
``["datetime", iso, zone|null]``         zone: zoneinfo key, so the zone round-trips;
                                         otherwise the ISO offset is kept (fixed offset)
``["date", iso]``, ``["time", iso]``     datetime.date / datetime.time
``["timedelta", days, seconds, us]``     datetime.timedelta
``["decimal", str]``, ``["uuid", hex]``  decimal.Decimal, uuid.UUID
``["range", a, b, c]``                   range (ints)
``["slice", n, n, n]``                   slice (nodes)
``["npscalar", dtype, hex]``             numpy scalar: ``dtype.str`` and its raw bytes;
                                         dtype kinds b, i, u, f, c, M, m only
``["ndarray", i]``                       segment kind npy (``.npy`` version 1.0 bytes);
                                         kinds b i u f c M m U S; no object/void/records
``["dataframe", i]``                     segment kind arrow: an Arrow IPC *stream* of
                                         ``pa.Table.from_pandas(df)``
``["series", i, name]``                  a one-column Arrow stream; name is a node
``["pdtimestamp", iso|"NaT", zone|null]``  pandas.Timestamp / pandas.NaT
``["pdtimedelta", ns]``                  pandas.Timedelta
``["ok", node]``, ``["err", node]``      :class:`Ok` / :class:`Err`
=======================================  ==================================================

Each segment is referenced exactly once. Nesting is limited to ``MAX_DEPTH`` nodes, the
header to ``MAX_HEADER_BYTES``, dtype strings to ``MAX_DTYPE_CHARS`` characters. The npy
segments are standard ``.npy`` files (``numpy.lib.format.read_array(...,
allow_pickle=False)`` reads them); their headers are parsed here without numpy. Arrow
segments must be uncompressed (a compressed body could inflate without bound); decoded
tables are fully validated and refused if they claim far more values than their bytes
can hold (null or run-end-encoded arrays).

pandas notes: the index is kept (a RangeIndex as metadata, others as columns), as are
column names of one type (str, int, float; also MultiIndex columns). Column names of
mixed types come back as strings (pyarrow warns). A DatetimeIndex loses its ``freq``.
Object columns of strings are restored as object; an object *index* of strings comes
back with pandas' default string dtype.

Encoding does not copy numpy or Arrow-convertible pandas data: the encoded segments
reference the original memory, so do not mutate a value until its ``Encoded`` is written.
``import jupyter_syft.serde`` does not import numpy, pandas or pyarrow.
"""

from __future__ import annotations

import ast
import collections
import datetime as dt
import decimal
import io
import json
import math
import os
import re
import struct
import uuid
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_DEPTH",
    "MAX_DTYPE_CHARS",
    "MAX_HEADER_BYTES",
    "Encoded",
    "Err",
    "Ok",
    "SerdeError",
    "StreamChecker",
    "decode",
    "decode_file",
    "dumps",
    "encode",
    "loads",
    "read_summary",
]

FORMAT_VERSION = 1
MAGIC = b"JSYF"
MAX_HEADER_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 100
MAX_DTYPE_CHARS = 32

_PRELUDE = struct.Struct("<4sBBI")  # magic, version, flags, header length
_PRELUDE_SIZE = _PRELUDE.size
_ALIGN = 64
_KIND_RANK = {"arrow": 0, "npy": 1, "bytes": 2}
# Smallest possible valid segment: Arrow needs its 8-byte message prefix, npy its preamble.
_MIN_SEGMENT = {"arrow": 8, "npy": 10, "bytes": 0}
_ARROW_MARKER = b"\xff\xff\xff\xff"
_NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 65536
_MAX_NDIM = 64
_MAX_ITEMSIZE = 2**31 - 1  # numpy refuses larger fixed-width string dtypes
_MAX_SEGMENT = 2**62
_MAX_INT_BITS = 14_000  # stays below CPython's 4300-digit int<->str limit on both sides
_MAX_SHORT_STR = 64
_SUMMARY_ITEMS = 50
_SERIES_COLUMN = "__jsyf_series__"
_SCALAR_KINDS = frozenset("biufcMm")
_ARRAY_KINDS = frozenset("biufcMmUS")
_BIG_PART = 1 << 16  # Arrow writes below this are coalesced; larger ones are kept zero-copy

_DESCR_RE = re.compile(
    r"""[<>|=]?(?:
        (?P<b>b1)
      | (?P<iu>[iu])(?P<isz>1|2|4|8)
      | f(?P<fsz>2|4|8|12|16)
      | c(?P<csz>8|16|24|32)
      | (?P<us>[US])(?P<n>[0-9]{1,10})
      | (?P<mM>[mM])8(?:\[[0-9]{0,10}(?:Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as)\])?
    )""",
    re.VERBOSE,
)
_ZONE_RE = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
_UUID_RE = re.compile(r"[0-9a-f]{32}")
_HEX_RE = re.compile(r"(?:[0-9a-f]{2})*")
_DECIMAL_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Infinity|s?NaN[0-9]*)"
)
_PD_ISO_RE = re.compile(
    r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
)


class SerdeError(ValueError):
    """A value cannot be encoded, or bytes are not a valid jupyter_syft payload."""


@dataclass(frozen=True)
class Ok:
    """A successful result, as sent back by the server."""

    value: Any


@dataclass(frozen=True)
class Err:
    """A failed result; ``value`` is usually a message or a dict describing the error."""

    value: Any


def _bad(detail: str) -> SerdeError:
    return SerdeError(
        f"Malformed jupyter_syft payload: {detail}. The data is corrupted or was not produced "
        "by jupyter_syft.serde; ask the sender to encode it again with jupyter_syft."
    )


def _snippet(node: Any) -> str:
    try:
        text = json.dumps(node)
    except (TypeError, ValueError, RecursionError):
        text = repr(node)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- encoded bytes


def _byte_view(buf: Any) -> memoryview:
    view = memoryview(buf)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class Encoded:
    """An encoded value: the header plus the segments, not yet joined into one buffer.

    ``iter_chunks`` and ``write_to`` stream the exact payload without copying the
    segments; ``to_bytes`` makes the one copy needed to produce ``bytes``.
    """

    __slots__ = ("_joined", "_parts", "header", "nbytes", "summary")

    def __init__(self, header: bytes, segments: Sequence[Any], summary: dict[str, Any]):
        """``segments``: one buffer per segment, or a tuple of buffers making up a segment."""
        self.header = header
        self.summary = summary
        self._parts: list[tuple[Any, ...]] = [
            tuple(s) if isinstance(s, tuple | list) else (s,) for s in segments
        ]
        self._joined: list[Any] | None = None
        self.nbytes = len(header) + sum(
            _byte_view(p).nbytes for parts in self._parts for p in parts
        )

    @property
    def segments(self) -> list[Any]:
        """One buffer per segment. Multi-part segments are joined (copied) on first access."""
        if self._joined is None:
            self._joined = [p[0] if len(p) == 1 else b"".join(p) for p in self._parts]
        return self._joined

    def _iter_views(self) -> Iterator[memoryview]:
        yield memoryview(self.header)
        for parts in self._parts:
            for part in parts:
                yield _byte_view(part)

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[memoryview]:
        """Yield the payload as memoryviews of at most ``chunk_size`` bytes, without copying."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        for view in self._iter_views():
            for start in range(0, len(view), chunk_size):
                yield view[start : start + chunk_size]

    def to_bytes(self) -> bytes:
        # bytes.join sizes the result first, so this is the single unavoidable copy.
        return b"".join(self._iter_views())

    def write_to(self, fileobj: Any) -> int:
        """Write the payload to a binary file object; returns the number of bytes written."""
        total = 0
        for view in self._iter_views():
            while view:
                written = fileobj.write(view)
                # Buffered writers write everything and may return None; raw ones may not.
                n = len(view) if written is None else int(written)
                if n <= 0:
                    raise OSError("fileobj.write() wrote nothing")
                total += n
                view = view[n:]
        return total

    def __repr__(self) -> str:
        return f"<Encoded {self.summary.get('type')} nbytes={self.nbytes}>"


# --------------------------------------------------------------------------- encoding


class _Pending:
    """A segment collected while walking the value; its index is fixed in ``finish``."""

    __slots__ = ("kind", "npy", "parts", "ref")

    def __init__(self, kind: str, ref: list[Any], parts: Sequence[Any], npy: Any = None):
        self.kind = kind
        self.ref = ref
        self.parts = parts
        self.npy = npy


class _NpyOut(NamedTuple):
    descr: str
    fortran: bool
    shape: tuple[int, ...]
    data: Any


def _unsupported(value: Any, hint: str = "") -> SerdeError:
    t = type(value)
    name = t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    if not hint:
        for base in (bool, int, float, str, bytes, list, tuple, dict, set, frozenset):
            if isinstance(value, base):
                hint = f" It is a subclass of {base.__name__}: convert it with {base.__name__}(x)."
                break
    return SerdeError(
        f"Cannot send a value of type '{name}': jupyter_syft sends Python values and "
        "collections, numpy arrays and scalars, pandas DataFrames and Series, datetimes and "
        "BytesIO. Convert it first, e.g. return model.coef_ (a numpy array) or a dict of "
        f"numbers.{hint}"
    )


def _float_node(value: float) -> Any:
    if math.isfinite(value):
        return value
    return ["float", "nan" if value != value else ("inf" if value > 0 else "-inf")]


def _tz_key(tz: Any) -> str | None:
    """A zone name that round-trips through ZoneInfo/pandas, or None to keep the offset."""
    if isinstance(tz, zoneinfo.ZoneInfo):
        return str(tz.key)
    zone = getattr(tz, "zone", None)  # pytz
    if isinstance(zone, str) and _ZONE_RE.fullmatch(zone) and zone != "UTC":
        return zone
    return None


class _Writer:
    def __init__(self) -> None:
        self.pending: list[_Pending] = []
        self.root_nbytes: int | None = None

    def _segment(self, kind: str, tag: str, parts: Sequence[Any], npy: Any = None) -> list[Any]:
        ref: list[Any] = [tag, len(self.pending)]
        self.pending.append(_Pending(kind, ref, parts, npy))
        return ref

    def node(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise SerdeError(
                f"Cannot send this value: it is nested more than {MAX_DEPTH} levels deep "
                "(or contains itself). Flatten it first, e.g. into a DataFrame or a flat dict."
            )
        t = type(value)
        if value is None or t is bool or t is str:
            return value
        if t is int:
            if value.bit_length() > _MAX_INT_BITS:
                raise SerdeError(
                    f"Cannot send an int of {value.bit_length()} bits: integers are limited to "
                    f"{_MAX_INT_BITS} bits. Send str(value) or a bytes encoding instead."
                )
            return value
        if t is float:
            return _float_node(value)
        encoder = _ENCODERS.get(t)
        if encoder is not None:
            return encoder(self, value, depth)
        module = t.__module__
        if module == "numpy" or module.startswith("numpy."):
            return self._numpy(value, depth)
        if module == "pandas" or module.startswith("pandas."):
            return self._pandas(value, depth)
        raise _unsupported(value)

    def seq(self, value: Any, depth: int, tag: str) -> list[Any]:
        return [tag, [self.node(v, depth + 1) for v in value]]

    def mapping(self, value: Any, depth: int, tag: str) -> list[Any]:
        return [tag, [[self.node(k, depth + 1), self.node(v, depth + 1)] for k, v in value.items()]]

    def bytes_like(self, value: Any, depth: int, tag: str) -> list[Any]:
        if tag == "bytes":
            data = value  # immutable: safe to reference
        elif tag == "bytearray":
            data = bytes(value)  # copy so later edits or resizes of the original are unaffected
        else:
            data = value.getvalue()
        return self._segment("bytes", tag, (data,))

    def _numpy(self, value: Any, depth: int) -> Any:
        import numpy as np

        if isinstance(value, np.ndarray):
            if type(value) not in (np.ndarray, np.memmap):
                raise _unsupported(value, " Convert it with numpy.asarray(x).")
            return self._ndarray(value)
        if isinstance(value, np.generic):
            if isinstance(value, np.str_):
                return str(value)
            if isinstance(value, np.bytes_):
                return self.node(bytes(value), depth)
            dtype = value.dtype
            if dtype.kind not in _SCALAR_KINDS:
                raise _unsupported(value, " Convert it to a Python value with x.item().")
            _descr_info(dtype.str, _SCALAR_KINDS)
            return ["npscalar", dtype.str, value.tobytes().hex()]
        raise _unsupported(value)

    def _ndarray(self, arr: Any) -> list[Any]:
        import numpy as np

        dtype = arr.dtype
        if dtype.hasobject or dtype.kind not in _ARRAY_KINDS or dtype.names is not None:
            what = "object" if dtype.hasobject else ("structured" if dtype.names else "void")
            raise SerdeError(
                f"Cannot send a numpy array of {what} dtype {dtype}: only bool, number, "
                "datetime64/timedelta64 and fixed-width str/bytes arrays can be sent (other "
                "dtypes would need pickle). Convert it first, e.g. arr.astype(str), "
                "arr.astype(float), or pandas.DataFrame(arr) for records."
            )
        _descr_info(dtype.str, _ARRAY_KINDS)
        if arr.flags.c_contiguous:
            fortran, flat = False, arr
        elif arr.flags.f_contiguous:
            fortran, flat = True, arr.T
        else:
            fortran, flat = False, np.ascontiguousarray(arr)
        if flat.size and dtype.itemsize:
            data: Any = memoryview(flat.reshape(-1).view(np.uint8))
        else:
            data = b""
        npy = _NpyOut(dtype.str, fortran, tuple(int(n) for n in arr.shape), data)
        return self._segment("npy", "ndarray", (), npy)

    def _pandas(self, value: Any, depth: int) -> Any:
        import pandas as pd

        t = type(value)
        if t is pd.DataFrame:
            table = _table_from_pandas(value, None)
            if depth == 0:
                self.root_nbytes = int(table.nbytes)
            return self._segment("arrow", "dataframe", _arrow_parts(table))
        if t is pd.Series:
            name = self.node(value.name, depth + 1)
            table = _table_from_pandas(value.to_frame(name=_SERIES_COLUMN), value)
            if depth == 0:
                self.root_nbytes = int(table.nbytes)
            ref = self._segment("arrow", "series", _arrow_parts(table))
            ref.append(name)
            return ref
        if t is pd.Timestamp:
            return ["pdtimestamp", value.isoformat(), _tz_key(value.tzinfo)]
        if value is pd.NaT:
            return ["pdtimestamp", "NaT", None]
        if t is pd.Timedelta:
            return ["pdtimedelta", int(value.value)]
        hint = (
            " Convert it with x.to_series() or x.tolist()." if isinstance(value, pd.Index) else ""
        )
        raise _unsupported(value, hint)

    def finish(self) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
        """Order segments arrow, npy, bytes (for alignment) and fix up node indices."""
        order = sorted(range(len(self.pending)), key=lambda i: _KIND_RANK[self.pending[i].kind])
        segments: list[tuple[Any, ...]] = []
        descs: list[dict[str, Any]] = []
        offset = 0
        for index, old in enumerate(order):
            seg = self.pending[old]
            seg.ref[1] = index
            parts = tuple(_npy_parts(seg.npy, offset) if seg.kind == "npy" else seg.parts)
            size = sum(_byte_view(p).nbytes for p in parts)
            segments.append(parts)
            descs.append({"kind": seg.kind, "size": size})
            offset += size
        return segments, descs


def _encode_simple(tag: str) -> Callable[[_Writer, Any, int], Any]:
    return lambda w, v, d: w.seq(v, d, tag)


def _encode_map(tag: str) -> Callable[[_Writer, Any, int], Any]:
    return lambda w, v, d: w.mapping(v, d, tag)


def _encode_bytes(tag: str) -> Callable[[_Writer, Any, int], Any]:
    return lambda w, v, d: w.bytes_like(v, d, tag)


def _encode_datetime(w: _Writer, v: dt.datetime, d: int) -> Any:
    key = _tz_key(v.tzinfo) if v.utcoffset() is not None else None
    return ["datetime", v.isoformat(), key]


_ENCODERS: dict[type, Callable[[_Writer, Any, int], Any]] = {
    list: _encode_simple("list"),
    tuple: _encode_simple("tuple"),
    set: _encode_simple("set"),
    frozenset: _encode_simple("frozenset"),
    dict: _encode_map("dict"),
    collections.OrderedDict: _encode_map("odict"),
    bytes: _encode_bytes("bytes"),
    bytearray: _encode_bytes("bytearray"),
    io.BytesIO: _encode_bytes("bytesio"),
    complex: lambda w, v, d: ["complex", _float_node(v.real), _float_node(v.imag)],
    dt.datetime: _encode_datetime,
    dt.date: lambda w, v, d: ["date", v.isoformat()],
    dt.time: lambda w, v, d: ["time", v.isoformat()],
    dt.timedelta: lambda w, v, d: ["timedelta", v.days, v.seconds, v.microseconds],
    decimal.Decimal: lambda w, v, d: ["decimal", str(v)],
    uuid.UUID: lambda w, v, d: ["uuid", v.hex],
    range: lambda w, v, d: ["range", *(w.node(x, d + 1) for x in (v.start, v.stop, v.step))],
    slice: lambda w, v, d: ["slice", *(w.node(x, d + 1) for x in (v.start, v.stop, v.step))],
    Ok: lambda w, v, d: ["ok", w.node(v.value, d + 1)],
    Err: lambda w, v, d: ["err", w.node(v.value, d + 1)],
}


def _npy_parts(npy: _NpyOut, offset: int) -> tuple[Any, ...]:
    """A standard .npy v1.0 header padded so the data lands 64-aligned, plus the data."""
    text = f"{{'descr': {npy.descr!r}, 'fortran_order': {npy.fortran!r}, 'shape': {npy.shape!r}, }}"
    pad = -(offset + 10 + len(text) + 1) % _ALIGN
    header = (text + " " * pad + "\n").encode("latin1")
    assert len(header) < 65536  # 64 dims of 64-bit sizes stay far below this
    return (_NPY_MAGIC + b"\x01\x00" + struct.pack("<H", len(header)) + header, npy.data)


class _PartsSink:
    """File-like sink for pyarrow.PythonFile: keeps large buffers by reference (no copy)."""

    def __init__(self) -> None:
        self.parts: list[Any] = []
        self._small = bytearray()
        self.closed = False

    def write(self, data: Any) -> int:
        view = _byte_view(data)
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


def _arrow_parts(table: Any) -> list[Any]:
    import pyarrow as pa

    sink = _PartsSink()
    stream = pa.PythonFile(sink, mode="w")
    with pa.ipc.new_stream(stream, table.schema) as writer:
        writer.write_table(table)
    stream.close()
    sink.close()
    return sink.parts


def _table_from_pandas(df: Any, series: Any) -> Any:
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


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _summarize(value: Any, writer: _Writer, depth: int = 0) -> dict[str, Any]:
    t = type(value)
    name = t.__name__
    if t in (str, bytes, bytearray, list, tuple, set, frozenset, dict, collections.OrderedDict):
        return {"type": name, "len": len(value)}
    if t is io.BytesIO:
        return {"type": name, "len": len(value.getbuffer())}
    if t in (Ok, Err) and depth < 10:
        return {"type": name, "value": _summarize(value.value, writer, depth + 1)}
    module = t.__module__
    if module == "numpy" or module.startswith("numpy."):
        import numpy as np

        if isinstance(value, np.ndarray):
            return {
                "type": "ndarray",
                "shape": list(value.shape),
                "dtype": str(value.dtype),
                "nbytes": int(value.nbytes),
            }
        if isinstance(value, np.str_ | np.bytes_):
            return {"type": "str" if isinstance(value, np.str_) else "bytes", "len": len(value)}
        return {"type": name, "dtype": str(value.dtype)}
    if module == "pandas" or module.startswith("pandas."):
        if name == "DataFrame":
            return {
                "type": "DataFrame",
                "shape": list(value.shape),
                "columns": [_short(c) for c in value.columns[:_SUMMARY_ITEMS]],
                "dtypes": [str(d) for d in value.dtypes.iloc[:_SUMMARY_ITEMS]],
                "nbytes": writer.root_nbytes or 0,
            }
        if name == "Series":
            return {
                "type": "Series",
                "shape": list(value.shape),
                "name": None if value.name is None else _short(value.name),
                "dtype": str(value.dtype),
                "nbytes": writer.root_nbytes or 0,
            }
    return {"type": name}


def encode(value: Any) -> Encoded:
    """Encode ``value``; raises SerdeError (saying what to convert) for unsupported types."""
    writer = _Writer()
    try:
        root = writer.node(value, 0)
    except RecursionError:
        raise SerdeError(
            "Cannot send this value: it is nested too deeply. Flatten it first."
        ) from None
    summary = _summarize(value, writer)
    segments, descs = writer.finish()
    header_obj = {"v": FORMAT_VERSION, "root": root, "segments": descs, "summary": summary}
    try:
        text = json.dumps(header_obj, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError) as exc:
        raise SerdeError(f"Cannot encode this value's structure: {exc}") from None
    body = text.encode("ascii")
    pad = -(_PRELUDE_SIZE + len(body)) % _ALIGN
    length = len(body) + pad
    if length > MAX_HEADER_BYTES:
        raise SerdeError(
            f"Cannot send this value: its structure needs a {length}-byte header (limit "
            f"{MAX_HEADER_BYTES}). Send large collections of numbers as a numpy array or "
            "a DataFrame instead of Python lists/dicts."
        )
    header = _PRELUDE.pack(MAGIC, FORMAT_VERSION, 0, length) + body + b" " * pad
    return Encoded(header, segments, summary)


def dumps(value: Any) -> bytes:
    """``encode(value).to_bytes()``."""
    return encode(value).to_bytes()


# --------------------------------------------------------------------------- header parsing


def _check_prelude(buf: bytes | bytearray | memoryview) -> int | None:
    """Validate the (possibly partial) 10-byte prelude; returns H once it is complete."""
    got = bytes(buf[: len(MAGIC)])
    if got != MAGIC[: len(got)]:
        hint = ""
        if got[:1] == b"\x80":
            hint = " It looks like a pickle; jupyter_syft never unpickles data."
        raise SerdeError(
            f"Not a jupyter_syft payload: it should start with {MAGIC!r} but starts with "
            f"{bytes(buf[:8])!r}.{hint} Only data produced by jupyter_syft.serde can be decoded."
        )
    if len(buf) > 4 and buf[4] != FORMAT_VERSION:
        raise SerdeError(
            f"This payload uses jupyter_syft serde format version {buf[4]}, but this "
            f"installation reads only version {FORMAT_VERSION}. Use the same jupyter_syft "
            "version on both sides (upgrade the older one)."
        )
    if len(buf) > 5 and buf[5] != 0:
        raise SerdeError(
            f"This payload sets flags {buf[5]:#04x}, which this jupyter_syft does not "
            "understand. Use the same jupyter_syft version on both sides."
        )
    if len(buf) < _PRELUDE_SIZE:
        return None
    (length,) = struct.unpack_from("<I", buf, 6)
    if length > MAX_HEADER_BYTES:
        raise SerdeError(
            f"Payload declares a {length}-byte header; the limit is {MAX_HEADER_BYTES}. "
            "It is corrupted or hostile; it was not decoded."
        )
    if length == 0:
        raise _bad("the header is empty")
    return int(length)


def _reject_constant(name: str) -> Any:
    raise _bad(f"the header contains the non-JSON number {name}")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _bad("the header has a JSON object with duplicate keys")
    return out


class _Header(NamedTuple):
    root: Any
    kinds: list[str]
    sizes: list[int]
    summary: dict[str, Any]


def _parse_header(raw: bytes | bytearray | memoryview) -> _Header:
    """Parse and check the header JSON's top level (not the value tree)."""
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("the header is not valid UTF-8") from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_object)
    except SerdeError:
        raise
    except RecursionError:
        raise _bad(f"the header is nested too deeply (limit {MAX_DEPTH} levels)") from None
    except ValueError as exc:
        raise _bad(f"the header is not valid JSON ({exc})") from None
    if type(obj) is not dict or set(obj) != {"v", "root", "segments", "summary"}:
        raise _bad('the header must be a JSON object with keys "v", "root", "segments", "summary"')
    if type(obj["v"]) is not int or obj["v"] != FORMAT_VERSION:
        raise _bad(f'header "v" is {_snippet(obj["v"])}, expected {FORMAT_VERSION}')
    summary = obj["summary"]
    if type(summary) is not dict or type(summary.get("type")) is not str:
        raise _bad('header "summary" must be an object with a string "type"')
    segments = obj["segments"]
    if type(segments) is not list:
        raise _bad('header "segments" must be a list')
    kinds: list[str] = []
    sizes: list[int] = []
    for i, seg in enumerate(segments):
        if type(seg) is not dict or set(seg) != {"kind", "size"}:
            raise _bad(f'segment {i} must be an object with keys "kind" and "size"')
        kind, size = seg["kind"], seg["size"]
        if type(kind) is not str or kind not in _KIND_RANK:
            raise _bad(f"segment {i} has unknown kind {_snippet(kind)}")
        if type(size) is not int or not 0 <= size <= _MAX_SEGMENT:
            raise _bad(f"segment {i} has invalid size {_snippet(size)}")
        if size < _MIN_SEGMENT[kind]:
            raise _bad(f"segment {i} ({kind}) is too small to be valid ({size} bytes)")
        kinds.append(kind)
        sizes.append(size)
    return _Header(obj["root"], kinds, sizes, summary)


# --------------------------------------------------------------------------- dtypes and npy


def _descr_info(descr: Any, kinds: frozenset[str]) -> int:
    """Check a dtype string without numpy; returns its itemsize."""
    if type(descr) is not str or len(descr) > MAX_DTYPE_CHARS:
        raise SerdeError(
            f"Refusing numpy dtype {_snippet(descr)}: structured/record dtypes and dtype "
            f"strings over {MAX_DTYPE_CHARS} characters are not allowed."
        )
    m = _DESCR_RE.fullmatch(descr)
    allowed = ", ".join(sorted(kinds))
    if m is None:
        raise SerdeError(
            f"Refusing numpy dtype {descr!r}: only dtype kinds {allowed} are allowed. Object, "
            "void and structured dtypes are refused because they could carry pickled code."
        )
    if m["b"]:
        kind, size = "b", 1
    elif m["iu"]:
        kind, size = m["iu"], int(m["isz"])
    elif m["fsz"]:
        kind, size = "f", int(m["fsz"])
    elif m["csz"]:
        kind, size = "c", int(m["csz"])
    elif m["us"]:
        kind = m["us"]
        size = int(m["n"]) * (4 if kind == "U" else 1)
    else:
        kind, size = m["mM"], 8
    if kind not in kinds:
        raise SerdeError(f"Refusing numpy dtype {descr!r} here: only kinds {allowed} are allowed.")
    if size > _MAX_ITEMSIZE:
        raise SerdeError(f"Refusing numpy dtype {descr!r}: its itemsize is too large.")
    return size


class _NpyInfo(NamedTuple):
    descr: str
    fortran: bool
    shape: tuple[int, ...]
    nitems: int
    offset: int  # where the data starts within the segment


def _npy_header_size(prefix: bytes, index: int, size: int) -> int:
    """From the first min(size, 12) bytes of an npy segment: the full header length."""
    if prefix[:6] != _NPY_MAGIC:
        raise _bad(
            f"segment {index} should be a numpy .npy array but does not start with "
            f"{_NPY_MAGIC!r} (starts {prefix[:6]!r})"
        )
    major = prefix[6]
    if major == 1:
        total = 10 + struct.unpack_from("<H", prefix, 8)[0]
    elif major in (2, 3) and len(prefix) >= 12:
        total = 12 + struct.unpack_from("<I", prefix, 8)[0]
    else:
        raise _bad(f"segment {index} has an unsupported or truncated .npy version ({major})")
    if total - 10 > _MAX_NPY_HEADER:
        raise _bad(f"segment {index} has a .npy header over {_MAX_NPY_HEADER} bytes")
    if total > size:
        raise _bad(f"segment {index} is shorter than its .npy header")
    return total


def _parse_npy_header(head: bytes, index: int, size: int) -> _NpyInfo:
    """Validate a complete .npy header (pure Python, like numpy's own safe reader)."""
    start = 10 if head[6] == 1 else 12
    try:
        text = head[start:].decode("utf-8" if head[6] == 3 else "latin1")
        # literal_eval only builds literals; it cannot call anything.
        meta = ast.literal_eval(text)
    except Exception:
        raise _bad(f"segment {index} has an unreadable .npy header") from None
    if type(meta) is not dict or set(meta) != {"descr", "fortran_order", "shape"}:
        raise _bad(f"segment {index} has a .npy header without exactly descr/fortran_order/shape")
    descr, fortran, shape = meta["descr"], meta["fortran_order"], meta["shape"]
    try:
        itemsize = _descr_info(descr, _ARRAY_KINDS)
    except SerdeError as exc:
        raise SerdeError(f"Segment {index} (a numpy array): {exc}") from None
    if type(fortran) is not bool:
        raise _bad(f"segment {index} has a non-boolean fortran_order")
    if (
        type(shape) is not tuple
        or len(shape) > _MAX_NDIM
        or not all(type(n) is int and 0 <= n < 2**63 for n in shape)
    ):
        raise _bad(f"segment {index} has an invalid .npy shape {_snippet(repr(shape))}")
    count = math.prod(shape)
    if len(head) + count * itemsize != size:
        raise _bad(
            f"segment {index} holds {size - len(head)} data bytes but its .npy header "
            f"describes {count * itemsize}"
        )
    return _NpyInfo(descr, fortran, shape, count, len(head))


def _check_segment_start(kind: str, view: memoryview, index: int) -> _NpyInfo | None:
    if kind == "arrow":
        if bytes(view[:4]) != _ARROW_MARKER:
            raise _bad(
                f"segment {index} should be an Arrow IPC stream but does not start "
                "with the continuation marker 0xFFFFFFFF"
            )
    elif kind == "npy":
        size = len(view)
        total = _npy_header_size(bytes(view[:12]), index, size)
        return _parse_npy_header(bytes(view[:total]), index, size)
    return None


# --------------------------------------------------------------------------- decoding


_ARITY = {
    "float": 1,
    "list": 1,
    "tuple": 1,
    "dict": 1,
    "odict": 1,
    "set": 1,
    "frozenset": 1,
    "bytes": 1,
    "bytearray": 1,
    "bytesio": 1,
    "complex": 2,
    "datetime": 2,
    "date": 1,
    "time": 1,
    "timedelta": 3,
    "decimal": 1,
    "uuid": 1,
    "range": 3,
    "slice": 3,
    "npscalar": 2,
    "ndarray": 1,
    "dataframe": 1,
    "series": 2,
    "pdtimestamp": 2,
    "pdtimedelta": 1,
    "ok": 1,
    "err": 1,
}
_SEGMENT_KIND = {
    "bytes": "bytes",
    "bytearray": "bytes",
    "bytesio": "bytes",
    "ndarray": "npy",
    "dataframe": "arrow",
    "series": "arrow",
}
_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _zone(key: Any) -> zoneinfo.ZoneInfo:
    if type(key) is not str or len(key) > _MAX_SHORT_STR or not _ZONE_RE.fullmatch(key):
        raise _bad(f"invalid time zone name {_snippet(key)}")
    try:
        return zoneinfo.ZoneInfo(key)
    except (ValueError, KeyError, OSError):
        raise SerdeError(
            f"Unknown time zone {key!r}: install the tzdata package on this machine, "
            "or send the datetime in UTC."
        ) from None


class _Reader:
    """Walks the value tree. With ``segments=None`` it only checks (no numpy/pandas)."""

    def __init__(
        self, kinds: list[str], segments: list[memoryview] | None, npy: dict[int, _NpyInfo]
    ):
        self.kinds = kinds
        self.segments = segments
        self.npy = npy
        self.used = [False] * len(kinds)

    def check_all_used(self) -> None:
        unused = [i for i, used in enumerate(self.used) if not used]
        if unused:
            raise _bad(f"segments {unused[:10]} are declared but never referenced")

    def node(self, x: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _bad(f"values are nested more than {MAX_DEPTH} levels deep")
        t = type(x)
        if x is None or t is bool or t is str or t is int:
            return x
        if t is float:
            if not math.isfinite(x):
                raise _bad("a non-finite float appears as a JSON number")
            return x
        if t is not list:
            raise _bad(f"a JSON object appears where a value was expected: {_snippet(x)}")
        if not x or type(x[0]) is not str:
            raise _bad(f"a JSON array without a tag: {_snippet(x)}")
        tag = x[0]
        arity = _ARITY.get(tag)
        if arity is None:
            raise _bad(f"unknown tag {_snippet(tag)}")
        if len(x) != arity + 1:
            raise _bad(f"tag {tag!r} takes {arity} argument(s), got {len(x) - 1}")
        return _DECODERS[tag](self, x, depth + 1)

    def items(self, arg: Any, tag: str) -> list[Any]:
        if type(arg) is not list:
            raise _bad(f"{tag!r} expects a list of items, got {_snippet(arg)}")
        return arg

    def pairs(self, arg: Any, tag: str, depth: int) -> Iterator[tuple[Any, Any]]:
        for pair in self.items(arg, tag):
            if type(pair) is not list or len(pair) != 2:
                raise _bad(f"{tag!r} items must be [key, value] pairs, got {_snippet(pair)}")
            yield self.node(pair[0], depth), self.node(pair[1], depth)

    def segment(self, ref: Any, tag: str) -> tuple[int, memoryview | None]:
        if type(ref) is not int or not 0 <= ref < len(self.kinds):
            raise _bad(f"{tag!r} refers to segment {_snippet(ref)}, which does not exist")
        if self.used[ref]:
            raise _bad(f"segment {ref} is referenced more than once")
        if self.kinds[ref] != _SEGMENT_KIND[tag]:
            raise _bad(f"{tag!r} refers to segment {ref} of kind {self.kinds[ref]!r}")
        self.used[ref] = True
        return ref, (None if self.segments is None else self.segments[ref])

    def float_arg(self, x: Any, depth: int) -> float:
        if type(x) is float or (type(x) is list and x[:1] == ["float"]):
            return float(self.node(x, depth))
        raise _bad(f"expected a float, got {_snippet(x)}")

    def int_args(self, x: list[Any], tag: str) -> list[int]:
        if not all(type(a) is int for a in x[1:]):
            raise _bad(f"{tag!r} expects integers, got {_snippet(x)}")
        return x[1:]

    def short_str(self, x: Any, what: str, limit: int = _MAX_SHORT_STR) -> str:
        if type(x) is not str or len(x) > limit:
            raise _bad(f"invalid {what} {_snippet(x)}")
        return x


def _container(build: Callable[[list[Any]], Any], tag: str) -> Callable[..., Any]:
    def decode_items(r: _Reader, x: list[Any], depth: int) -> Any:
        values = [r.node(v, depth) for v in r.items(x[1], tag)]
        try:
            return build(values)
        except TypeError:
            raise _bad(f"a {tag} contains an unhashable element") from None

    return decode_items


def _mapping(build: Callable[[], Any], tag: str) -> Callable[..., Any]:
    def decode_pairs(r: _Reader, x: list[Any], depth: int) -> Any:
        out = build()
        for key, value in r.pairs(x[1], tag, depth):
            try:
                out[key] = value
            except TypeError:
                raise _bad(f"a {tag} has an unhashable key") from None
        return out

    return decode_pairs


def _d_float(r: _Reader, x: list[Any], depth: int) -> float:
    if type(x[1]) is not str or x[1] not in _FLOATS:
        raise _bad(f'"float" expects "nan", "inf" or "-inf", got {_snippet(x[1])}')
    return _FLOATS[x[1]]


def _d_bytes(r: _Reader, x: list[Any], depth: int) -> Any:
    _, view = r.segment(x[1], x[0])
    if view is None:  # checking only: stand-ins with the same hashability
        return object() if x[0] != "bytearray" else []
    if x[0] == "bytes":
        return bytes(view)
    if x[0] == "bytearray":
        return bytearray(view)
    return io.BytesIO(view)


def _d_complex(r: _Reader, x: list[Any], depth: int) -> complex:
    return complex(r.float_arg(x[1], depth), r.float_arg(x[2], depth))


def _d_datetime(r: _Reader, x: list[Any], depth: int) -> dt.datetime:
    iso = r.short_str(x[1], "datetime")
    try:
        value = dt.datetime.fromisoformat(iso)
    except ValueError:
        raise _bad(f"invalid datetime {iso!r}") from None
    if x[2] is not None:
        zone = _zone(x[2])
        if value.tzinfo is None:
            raise _bad(f"datetime {iso!r} has a time zone name but no UTC offset")
        value = value.astimezone(zone)
    return value


def _iso(cls: Any, tag: str) -> Callable[..., Any]:
    def decode_iso(r: _Reader, x: list[Any], depth: int) -> Any:
        iso = r.short_str(x[1], tag)
        try:
            return cls.fromisoformat(iso)
        except ValueError:
            raise _bad(f"invalid {tag} {iso!r}") from None

    return decode_iso


def _d_timedelta(r: _Reader, x: list[Any], depth: int) -> dt.timedelta:
    days, seconds, micros = r.int_args(x, "timedelta")
    try:
        return dt.timedelta(days=days, seconds=seconds, microseconds=micros)
    except OverflowError:
        raise _bad("timedelta out of range") from None


def _d_decimal(r: _Reader, x: list[Any], depth: int) -> decimal.Decimal:
    text = x[1]
    if type(text) is not str or not _DECIMAL_RE.fullmatch(text):
        raise _bad(f"invalid decimal {_snippet(text)}")
    try:
        return decimal.Decimal(text)
    except (ArithmeticError, ValueError):
        raise _bad(f"invalid decimal {_snippet(text)}") from None


def _d_uuid(r: _Reader, x: list[Any], depth: int) -> uuid.UUID:
    if type(x[1]) is not str or not _UUID_RE.fullmatch(x[1]):
        raise _bad(f"invalid uuid {_snippet(x[1])}")
    return uuid.UUID(hex=x[1])


def _d_range(r: _Reader, x: list[Any], depth: int) -> range:
    start, stop, step = r.int_args(x, "range")
    if step == 0:
        raise _bad("range step is zero")
    return range(start, stop, step)


def _d_slice(r: _Reader, x: list[Any], depth: int) -> slice:
    return slice(r.node(x[1], depth), r.node(x[2], depth), r.node(x[3], depth))


def _d_npscalar(r: _Reader, x: list[Any], depth: int) -> Any:
    descr, raw = x[1], x[2]
    itemsize = _descr_info(descr, _SCALAR_KINDS)
    if type(raw) is not str or len(raw) != 2 * itemsize or not _HEX_RE.fullmatch(raw):
        raise _bad(f"numpy scalar of dtype {descr!r} needs {itemsize} bytes as lowercase hex")
    if r.segments is None:
        return object()
    np = _numpy()
    return np.frombuffer(bytes.fromhex(raw), dtype=_np_dtype(descr, _SCALAR_KINDS, itemsize))[0]


def _d_ndarray(r: _Reader, x: list[Any], depth: int) -> Any:
    index, view = r.segment(x[1], "ndarray")
    if view is None:
        return []
    return _ndarray_from_npy(view, r.npy[index], index)


def _d_dataframe(r: _Reader, x: list[Any], depth: int) -> Any:
    index, view = r.segment(x[1], "dataframe")
    if view is None:
        return []
    return _frame_from_arrow(view, index)


def _d_series(r: _Reader, x: list[Any], depth: int) -> Any:
    index, view = r.segment(x[1], "series")
    name = r.node(x[2], depth)
    try:
        hash(name)
    except TypeError:
        raise _bad("a Series name is not hashable") from None
    if view is None:
        return []
    frame = _frame_from_arrow(view, index)
    if frame.shape[1] != 1:
        raise _bad(f"segment {index} should hold one column for a Series, has {frame.shape[1]}")
    series = frame.iloc[:, 0]
    series.name = name
    return series


def _d_pdtimestamp(r: _Reader, x: list[Any], depth: int) -> Any:
    iso, tz = x[1], x[2]
    if type(iso) is not str or not (iso == "NaT" or _PD_ISO_RE.fullmatch(iso)):
        raise _bad(f"invalid pandas Timestamp {_snippet(iso)}")
    if tz is not None and (type(tz) is not str or not _ZONE_RE.fullmatch(tz) or len(tz) > 64):
        raise _bad(f"invalid time zone name {_snippet(tz)}")
    if r.segments is None:
        return object()
    pd = _pandas()
    if iso == "NaT":
        return pd.NaT
    try:
        value = pd.Timestamp(iso)
        if tz is not None:
            if value.tzinfo is None:
                raise _bad(f"Timestamp {iso!r} has a time zone name but no UTC offset")
            value = value.tz_convert(tz)
    except SerdeError:
        raise
    except Exception as exc:
        raise _bad(f"invalid pandas Timestamp {iso!r} / {tz!r} ({exc})") from None
    return value


def _d_pdtimedelta(r: _Reader, x: list[Any], depth: int) -> Any:
    (ns,) = r.int_args(x, "pdtimedelta")
    if not -(2**63) < ns < 2**63:
        raise _bad("pandas Timedelta out of range")
    if r.segments is None:
        return object()
    return _pandas().Timedelta(ns, unit="ns")


_DECODERS: dict[str, Callable[[_Reader, list[Any], int], Any]] = {
    "float": _d_float,
    "list": _container(list, "list"),
    "tuple": _container(tuple, "tuple"),
    "set": _container(set, "set"),
    "frozenset": _container(frozenset, "frozenset"),
    "dict": _mapping(dict, "dict"),
    "odict": _mapping(collections.OrderedDict, "odict"),
    "bytes": _d_bytes,
    "bytearray": _d_bytes,
    "bytesio": _d_bytes,
    "complex": _d_complex,
    "datetime": _d_datetime,
    "date": _iso(dt.date, "date"),
    "time": _iso(dt.time, "time"),
    "timedelta": _d_timedelta,
    "decimal": _d_decimal,
    "uuid": _d_uuid,
    "range": _d_range,
    "slice": _d_slice,
    "npscalar": _d_npscalar,
    "ndarray": _d_ndarray,
    "dataframe": _d_dataframe,
    "series": _d_series,
    "pdtimestamp": _d_pdtimestamp,
    "pdtimedelta": _d_pdtimedelta,
    "ok": lambda r, x, d: Ok(r.node(x[1], d)),
    "err": lambda r, x, d: Err(r.node(x[1], d)),
}
assert set(_DECODERS) == set(_ARITY)


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise SerdeError("This payload contains numpy data: install numpy to decode it.") from None
    return numpy


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise SerdeError(
            "This payload contains pandas data: install pandas to decode it."
        ) from None
    return pandas


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise SerdeError(
            "This payload contains a DataFrame or Series: install pyarrow to decode it."
        ) from None
    version = tuple(int(p) for p in re.findall(r"[0-9]+", pyarrow.__version__)[:3])
    if version < (14, 0, 1):
        # Older pyarrow can unpickle "PyExtensionType" columns (CVE-2023-47248).
        raise SerdeError(
            f"pyarrow {pyarrow.__version__} is unsafe for untrusted data; install pyarrow>=14.0.1."
        )
    return pyarrow


def _np_dtype(descr: str, kinds: frozenset[str], itemsize: int) -> Any:
    np = _numpy()
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError):
        raise _bad(f"numpy cannot read dtype {descr!r}") from None
    if dtype.hasobject or dtype.kind not in kinds or dtype.names is not None:
        raise _bad(f"dtype {descr!r} is not allowed")
    if dtype.itemsize != itemsize:
        raise _bad(f"dtype {descr!r} has itemsize {dtype.itemsize} on this machine, not {itemsize}")
    return dtype


def _ndarray_from_npy(view: memoryview, info: _NpyInfo, index: int) -> Any:
    np = _numpy()
    dtype = _np_dtype(info.descr, _ARRAY_KINDS, _descr_info(info.descr, _ARRAY_KINDS))
    try:
        if info.nitems == 0 or dtype.itemsize == 0:
            flat = np.zeros(info.nitems, dtype=dtype)
        else:
            # Zero-copy: the array shares the payload's memory (writable iff it is).
            flat = np.frombuffer(view, dtype=dtype, count=info.nitems, offset=info.offset)
        if info.fortran:
            return flat.reshape(info.shape[::-1]).T
        return flat.reshape(info.shape)
    except (TypeError, ValueError) as exc:
        raise _bad(f"segment {index} could not be read as a numpy array ({exc})") from None


def _frame_from_arrow(view: memoryview, index: int) -> Any:
    pa = _pyarrow()
    pd = _pandas()
    try:
        buffer = pa.py_buffer(view)
        _refuse_compressed_batches(pa, buffer, index)
        table = pa.ipc.open_stream(buffer).read_all()
        # The IPC reader checks only buffer bounds; full validation checks offsets and UTF-8.
        table.validate(full=True)
        _refuse_inflated_table(pa, table, len(view), index)
        frame = table.to_pandas()
        _restore_object_columns(frame, table, pd)
    except SerdeError:
        raise
    except Exception as exc:
        raise SerdeError(
            f"Could not decode the DataFrame in segment {index}: {type(exc).__name__}: {exc}. "
            "The data is corrupted or was produced by an incompatible jupyter_syft."
        ) from None
    if type(frame) is not pd.DataFrame:
        raise _bad(f"segment {index} did not decode to a DataFrame")
    return frame


def _fb_read(fmt: str, buf: bytes, pos: int) -> int:
    if not 0 <= pos <= len(buf) - struct.calcsize(fmt):
        raise _bad("an Arrow message has out-of-bounds metadata")
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
            raise _bad(f"segment {index} holds a compressed Arrow batch, which is not allowed")


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
    total = 0
    for column in table.columns:
        for chunk in column.chunks:
            total += _logical_length(pa, chunk)
            if total > limit:
                raise SerdeError(
                    f"Refusing the DataFrame in segment {index}: it claims far more values "
                    f"than its {nbytes} bytes can hold (a memory bomb)."
                )


def _restore_object_columns(frame: Any, table: Any, pd: Any) -> None:
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
    meta = table.schema.pandas_metadata or {}
    columns = meta.get("columns")
    if type(columns) is not list:
        return
    # pyarrow writes data columns first, in frame order, then index columns.
    for i, col_meta in enumerate(columns[: frame.shape[1]]):
        dtype = str(frame.dtypes.iloc[i])
        if type(col_meta) is dict and col_meta.get("numpy_type") == "object" and dtype != "object":
            values = table.column(i).to_numpy(zero_copy_only=False)
            # A Series with dtype=object is the one container pandas 3 does not re-infer.
            frame.isetitem(i, pd.Series(values, dtype=object, index=frame.index, copy=False))


def _as_view(data: Any) -> memoryview:
    if isinstance(data, str):
        raise TypeError("decode() needs bytes, bytearray or memoryview, not str")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(
            f"decode() needs bytes, bytearray or memoryview, not {type(data).__name__}"
        ) from None
    if not view.c_contiguous:
        raise TypeError("decode() needs a contiguous buffer")
    return _byte_view(view)


def _truncated(expected: int, got: int) -> SerdeError:
    return SerdeError(
        f"jupyter_syft payload is truncated: expected {expected} bytes, got {got}. The "
        "transfer was probably interrupted; send it again."
    )


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Decode a payload. numpy arrays share the payload's memory (writable for a bytearray)."""
    view = _as_view(data)
    length = _check_prelude(view[:_PRELUDE_SIZE])
    if length is None:
        raise _truncated(_PRELUDE_SIZE, len(view))
    start = _PRELUDE_SIZE + length
    if len(view) < start:
        raise _truncated(start, len(view))
    header = _parse_header(view[_PRELUDE_SIZE:start])
    total = start + sum(header.sizes)
    if len(view) < total:
        raise _truncated(total, len(view))
    if len(view) > total:
        raise SerdeError(
            f"jupyter_syft payload has {len(view) - total} extra bytes after its declared end "
            f"({total} bytes): it is corrupted or was concatenated with other data."
        )
    segments: list[memoryview] = []
    npy: dict[int, _NpyInfo] = {}
    offset = start
    for i, (kind, size) in enumerate(zip(header.kinds, header.sizes, strict=True)):
        seg = view[offset : offset + size]
        info = _check_segment_start(kind, seg, i)
        if info is not None:
            npy[i] = info
        segments.append(seg)
        offset += size
    reader = _Reader(header.kinds, segments, npy)
    try:
        value = reader.node(header.root, 0)
    except RecursionError:
        raise _bad("values are nested too deeply") from None
    reader.check_all_used()
    return value


def loads(data: bytes | bytearray | memoryview) -> Any:
    """Alias of :func:`decode`."""
    return decode(data)


def decode_file(path: str | os.PathLike[str]) -> Any:
    """Decode a payload stored in a file (read once into memory; arrays are writable)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        buf = bytearray(size)
        view = memoryview(buf)
        got = 0
        while got < size:
            n = f.readinto(view[got:])
            if not n:
                break
            got += n
        view.release()
    if got < size:
        raise _truncated(size, got)
    return decode(buf)


def read_summary(data_or_path: bytes | bytearray | memoryview | str | os.PathLike[str]) -> dict:
    """The payload's summary, reading only the header (cheap even for huge files)."""
    if isinstance(data_or_path, str | os.PathLike):
        with open(data_or_path, "rb") as f:
            prelude = f.read(_PRELUDE_SIZE)
            length = _check_prelude(prelude)
            if length is None:
                raise _truncated(_PRELUDE_SIZE, len(prelude))
            raw: bytes | memoryview = f.read(length)
    else:
        view = _as_view(data_or_path)
        length = _check_prelude(view[:_PRELUDE_SIZE])
        if length is None:
            raise _truncated(_PRELUDE_SIZE, len(view))
        raw = view[_PRELUDE_SIZE : _PRELUDE_SIZE + length]
    if len(raw) < length:
        raise _truncated(_PRELUDE_SIZE + length, _PRELUDE_SIZE + len(raw))
    return _parse_header(raw).summary


# --------------------------------------------------------------------------- streaming check


class StreamChecker:
    """Validate a byte stream incrementally as it arrives (used by the server on uploads).

    Checks the prelude and the whole header (tags, arity, segment references, segment
    kinds) without importing numpy, pandas or pyarrow, then counts segment bytes, checking
    that each Arrow segment starts with the IPC continuation marker and each npy segment
    has a valid, pickle-free .npy header. Only the header and a few segment bytes are kept.
    """

    def __init__(self) -> None:
        self.header: dict[str, Any] | None = None
        self.summary: dict[str, Any] | None = None
        self.expected_size: int | None = None
        self.received = 0
        self._head = bytearray()
        self._head_size = _PRELUDE_SIZE
        self._kinds: list[str] = []
        self._sizes: list[int] = []
        self._seg = -1
        self._seg_left = 0
        self._prefix = bytearray()
        self._prefix_need = 0
        self._error: SerdeError | None = None

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._error is not None:
            raise self._error
        try:
            self._feed(_byte_view(chunk))
        except SerdeError as exc:
            self._error = exc
            raise

    def _feed(self, view: memoryview) -> None:
        while view and self.expected_size is None:
            piece = view[: self._head_size - len(self._head)]
            self._head += piece
            self.received += len(piece)
            view = view[len(piece) :]
            if self._head_size == _PRELUDE_SIZE:
                length = _check_prelude(self._head)
                if length is not None:
                    self._head_size += length
            elif len(self._head) == self._head_size:
                self._header_done()
        if not view:
            return
        assert self.expected_size is not None
        if self.received + len(view) > self.expected_size:
            raise SerdeError(
                f"jupyter_syft stream is longer than declared: more than {self.expected_size} "
                "bytes arrived. It is corrupted or was concatenated with other data."
            )
        self.received += len(view)
        while view:
            while self._seg_left == 0:
                self._next_segment()
            take = min(self._seg_left, len(view))
            want = self._prefix_need - len(self._prefix)
            if want > 0:
                # Collect only the prefix; a check may ask for more (the full .npy header).
                take = min(take, want)
                self._prefix += view[:take]
                if len(self._prefix) == self._prefix_need:
                    self._check_prefix()
            self._seg_left -= take
            view = view[take:]

    def _header_done(self) -> None:
        header = _parse_header(self._head[_PRELUDE_SIZE:])
        reader = _Reader(header.kinds, None, {})
        try:
            reader.node(header.root, 0)
        except RecursionError:
            raise _bad("values are nested too deeply") from None
        reader.check_all_used()
        self._kinds, self._sizes = header.kinds, header.sizes
        self.expected_size = self._head_size + sum(header.sizes)
        self.header = {
            "v": FORMAT_VERSION,
            "root": header.root,
            "segments": [
                {"kind": k, "size": s} for k, s in zip(header.kinds, header.sizes, strict=True)
            ],
            "summary": header.summary,
        }
        self.summary = header.summary
        self._head = bytearray()  # not needed any more

    def _next_segment(self) -> None:
        self._seg += 1
        kind = self._kinds[self._seg]
        self._seg_left = self._sizes[self._seg]
        self._prefix = bytearray()
        if kind == "arrow":
            self._prefix_need = len(_ARROW_MARKER)
        elif kind == "npy":
            self._prefix_need = min(self._seg_left, 12)
        else:
            self._prefix_need = 0

    def _check_prefix(self) -> None:
        kind, size = self._kinds[self._seg], self._sizes[self._seg]
        prefix = bytes(self._prefix)
        if kind == "arrow":
            _check_segment_start(kind, memoryview(prefix), self._seg)
        elif len(prefix) <= 12:
            total = _npy_header_size(prefix, self._seg, size)
            if total > len(prefix):
                self._prefix_need = total  # keep collecting the .npy header
                return
            _parse_npy_header(prefix[:total], self._seg, size)
        else:
            _parse_npy_header(prefix, self._seg, size)

    def finish(self) -> dict[str, Any]:
        """Raise SerdeError unless exactly one complete payload arrived; return its summary."""
        if self._error is not None:
            raise self._error
        if self.expected_size is None or self.received < self.expected_size:
            expected = self.expected_size if self.expected_size is not None else self._head_size
            raise _truncated(expected, self.received)
        assert self.summary is not None
        return self.summary
