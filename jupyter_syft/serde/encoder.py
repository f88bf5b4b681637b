"""encode() and dumps(): walk a value into the header's node tree plus segments."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import io
import json
import math
import uuid
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any

from .arrow_stream import frame_segment
from .encoded import Encoded, part_nbytes
from .errors import SerdeError
from .layout import (
    ALIGN,
    FORMAT_VERSION,
    KIND_RANK,
    MAGIC,
    MAX_DEPTH,
    MAX_HEADER_BYTES,
    PRELUDE,
    PRELUDE_SIZE,
    ZONE_RE,
)
from .npy import ARRAY_KINDS, SCALAR_KINDS, NpyOut, descr_info, npy_parts
from .results import Err, Ok

_MAX_INT_BITS = 14_000  # stays below CPython's 4300-digit int<->str limit on both sides
_SUMMARY_ITEMS = 50
_SERIES_COLUMN = "__jsyf_series__"


class _Pending:
    """A segment collected while walking the value; its index is fixed in ``finish``."""

    __slots__ = ("kind", "npy", "parts", "ref")

    def __init__(self, kind: str, ref: list[Any], parts: Sequence[Any], npy: Any = None):
        self.kind = kind
        self.ref = ref
        self.parts = parts
        self.npy = npy


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
    if isinstance(zone, str) and ZONE_RE.fullmatch(zone) and zone != "UTC":
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
            if dtype.kind not in SCALAR_KINDS:
                raise _unsupported(value, " Convert it to a Python value with x.item().")
            descr_info(dtype.str, SCALAR_KINDS)
            return ["npscalar", dtype.str, value.tobytes().hex()]
        raise _unsupported(value)

    def _ndarray(self, arr: Any) -> list[Any]:
        import numpy as np

        dtype = arr.dtype
        if dtype.hasobject or dtype.kind not in ARRAY_KINDS or dtype.names is not None:
            what = "object" if dtype.hasobject else ("structured" if dtype.names else "void")
            raise SerdeError(
                f"Cannot send a numpy array of {what} dtype {dtype}: only bool, number, "
                "datetime64/timedelta64 and fixed-width str/bytes arrays can be sent (other "
                "dtypes would need pickle). Convert it first, e.g. arr.astype(str), "
                "arr.astype(float), or pandas.DataFrame(arr) for records."
            )
        descr_info(dtype.str, ARRAY_KINDS)
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
        npy = NpyOut(dtype.str, fortran, tuple(int(n) for n in arr.shape), data)
        return self._segment("npy", "ndarray", (), npy)

    def _pandas(self, value: Any, depth: int) -> Any:
        import pandas as pd

        t = type(value)
        if t is pd.DataFrame:
            segment, nbytes = frame_segment(value, None)
            if depth == 0:
                self.root_nbytes = nbytes
            return self._segment("arrow", "dataframe", segment)
        if t is pd.Series:
            name = self.node(value.name, depth + 1)
            segment, nbytes = frame_segment(value.to_frame(name=_SERIES_COLUMN), value)
            if depth == 0:
                self.root_nbytes = nbytes
            ref = self._segment("arrow", "series", segment)
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
        order = sorted(range(len(self.pending)), key=lambda i: KIND_RANK[self.pending[i].kind])
        segments: list[tuple[Any, ...]] = []
        descs: list[dict[str, Any]] = []
        offset = 0
        for index, old in enumerate(order):
            seg = self.pending[old]
            seg.ref[1] = index
            parts = tuple(npy_parts(seg.npy, offset) if seg.kind == "npy" else seg.parts)
            size = sum(part_nbytes(p) for p in parts)
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
    pad = -(PRELUDE_SIZE + len(body)) % ALIGN
    length = len(body) + pad
    if length > MAX_HEADER_BYTES:
        raise SerdeError(
            f"Cannot send this value: its structure needs a {length}-byte header (limit "
            f"{MAX_HEADER_BYTES}). Send large collections of numbers as a numpy array or "
            "a DataFrame instead of Python lists/dicts."
        )
    header = PRELUDE.pack(MAGIC, FORMAT_VERSION, 0, length) + body + b" " * pad
    return Encoded(header, segments, summary)


def dumps(value: Any) -> bytes:
    """``encode(value).to_bytes()``."""
    return encode(value).to_bytes()
