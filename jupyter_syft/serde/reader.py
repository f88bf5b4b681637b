"""Reader: walks a header's value tree, one decoder per tag.

With segments it builds the value; without (``segments=None``) it only checks the tree,
which needs no numpy, pandas or pyarrow (StreamChecker does that on uploads).
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import io
import math
import re
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

from .arrow import check_arrow, frame_from_arrow
from .errors import SerdeError, bad, snippet
from .layout import MAX_DEPTH, ZONE_RE
from .lazy_imports import import_numpy, import_pandas
from .npy import SCALAR_KINDS, NpyInfo, descr_info, ndarray_from_npy, np_dtype
from .results import Err, Ok

_MAX_SHORT_STR = 64
_UUID_RE = re.compile(r"[0-9a-f]{32}")
_HEX_RE = re.compile(r"(?:[0-9a-f]{2})*")
_DECIMAL_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Infinity|s?NaN[0-9]*)"
)
_PD_ISO_RE = re.compile(
    r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
)


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
    if type(key) is not str or len(key) > _MAX_SHORT_STR or not ZONE_RE.fullmatch(key):
        raise bad(f"invalid time zone name {snippet(key)}")
    try:
        return zoneinfo.ZoneInfo(key)
    except (ValueError, KeyError, OSError):
        raise SerdeError(
            f"Unknown time zone {key!r}: install the tzdata package on this machine, "
            "or send the datetime in UTC."
        ) from None


class Reader:
    """Walks the value tree. With ``segments=None`` it only checks (no numpy/pandas)."""

    def __init__(
        self,
        kinds: list[str],
        segments: list[memoryview] | None,
        npy: dict[int, NpyInfo],
        validate_only: bool = False,
    ):
        self.kinds = kinds
        self.segments = segments
        self.npy = npy
        # Check tables fully but build no pandas objects (what comes back is not the value).
        self.validate_only = validate_only
        self.used = [False] * len(kinds)

    def check_all_used(self) -> None:
        unused = [i for i, used in enumerate(self.used) if not used]
        if unused:
            raise bad(f"segments {unused[:10]} are declared but never referenced")

    def node(self, x: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise bad(f"values are nested more than {MAX_DEPTH} levels deep")
        t = type(x)
        if x is None or t is bool or t is str or t is int:
            return x
        if t is float:
            if not math.isfinite(x):
                raise bad("a non-finite float appears as a JSON number")
            return x
        if t is not list:
            raise bad(f"a JSON object appears where a value was expected: {snippet(x)}")
        if not x or type(x[0]) is not str:
            raise bad(f"a JSON array without a tag: {snippet(x)}")
        tag = x[0]
        arity = _ARITY.get(tag)
        if arity is None:
            raise bad(f"unknown tag {snippet(tag)}")
        if len(x) != arity + 1:
            raise bad(f"tag {tag!r} takes {arity} argument(s), got {len(x) - 1}")
        return _DECODERS[tag](self, x, depth + 1)

    def items(self, arg: Any, tag: str) -> list[Any]:
        if type(arg) is not list:
            raise bad(f"{tag!r} expects a list of items, got {snippet(arg)}")
        return arg

    def pairs(self, arg: Any, tag: str, depth: int) -> Iterator[tuple[Any, Any]]:
        for pair in self.items(arg, tag):
            if type(pair) is not list or len(pair) != 2:
                raise bad(f"{tag!r} items must be [key, value] pairs, got {snippet(pair)}")
            yield self.node(pair[0], depth), self.node(pair[1], depth)

    def segment(self, ref: Any, tag: str) -> tuple[int, memoryview | None]:
        if type(ref) is not int or not 0 <= ref < len(self.kinds):
            raise bad(f"{tag!r} refers to segment {snippet(ref)}, which does not exist")
        if self.used[ref]:
            raise bad(f"segment {ref} is referenced more than once")
        if self.kinds[ref] != _SEGMENT_KIND[tag]:
            raise bad(f"{tag!r} refers to segment {ref} of kind {self.kinds[ref]!r}")
        self.used[ref] = True
        return ref, (None if self.segments is None else self.segments[ref])

    def float_arg(self, x: Any, depth: int) -> float:
        if type(x) is float or (type(x) is list and x[:1] == ["float"]):
            return float(self.node(x, depth))
        raise bad(f"expected a float, got {snippet(x)}")

    def int_args(self, x: list[Any], tag: str) -> list[int]:
        if not all(type(a) is int for a in x[1:]):
            raise bad(f"{tag!r} expects integers, got {snippet(x)}")
        return x[1:]

    def short_str(self, x: Any, what: str, limit: int = _MAX_SHORT_STR) -> str:
        if type(x) is not str or len(x) > limit:
            raise bad(f"invalid {what} {snippet(x)}")
        return x


def _container(build: Callable[[list[Any]], Any], tag: str) -> Callable[..., Any]:
    def decode_items(r: Reader, x: list[Any], depth: int) -> Any:
        values = [r.node(v, depth) for v in r.items(x[1], tag)]
        try:
            return build(values)
        except TypeError:
            raise bad(f"a {tag} contains an unhashable element") from None

    return decode_items


def _mapping(build: Callable[[], Any], tag: str) -> Callable[..., Any]:
    def decode_pairs(r: Reader, x: list[Any], depth: int) -> Any:
        out = build()
        for key, value in r.pairs(x[1], tag, depth):
            try:
                out[key] = value
            except TypeError:
                raise bad(f"a {tag} has an unhashable key") from None
        return out

    return decode_pairs


def _d_float(r: Reader, x: list[Any], depth: int) -> float:
    if type(x[1]) is not str or x[1] not in _FLOATS:
        raise bad(f'"float" expects "nan", "inf" or "-inf", got {snippet(x[1])}')
    return _FLOATS[x[1]]


def _d_bytes(r: Reader, x: list[Any], depth: int) -> Any:
    _, view = r.segment(x[1], x[0])
    if view is None:  # checking only: stand-ins with the same hashability
        return object() if x[0] != "bytearray" else []
    if x[0] == "bytes":
        return bytes(view)
    if x[0] == "bytearray":
        return bytearray(view)
    return io.BytesIO(view)


def _d_complex(r: Reader, x: list[Any], depth: int) -> complex:
    return complex(r.float_arg(x[1], depth), r.float_arg(x[2], depth))


def _d_datetime(r: Reader, x: list[Any], depth: int) -> dt.datetime:
    iso = r.short_str(x[1], "datetime")
    try:
        value = dt.datetime.fromisoformat(iso)
    except ValueError:
        raise bad(f"invalid datetime {iso!r}") from None
    if x[2] is not None:
        zone = _zone(x[2])
        if value.tzinfo is None:
            raise bad(f"datetime {iso!r} has a time zone name but no UTC offset")
        value = value.astimezone(zone)
    return value


def _iso(cls: Any, tag: str) -> Callable[..., Any]:
    def decode_iso(r: Reader, x: list[Any], depth: int) -> Any:
        iso = r.short_str(x[1], tag)
        try:
            return cls.fromisoformat(iso)
        except ValueError:
            raise bad(f"invalid {tag} {iso!r}") from None

    return decode_iso


def _d_timedelta(r: Reader, x: list[Any], depth: int) -> dt.timedelta:
    days, seconds, micros = r.int_args(x, "timedelta")
    try:
        return dt.timedelta(days=days, seconds=seconds, microseconds=micros)
    except OverflowError:
        raise bad("timedelta out of range") from None


def _d_decimal(r: Reader, x: list[Any], depth: int) -> decimal.Decimal:
    text = x[1]
    if type(text) is not str or not _DECIMAL_RE.fullmatch(text):
        raise bad(f"invalid decimal {snippet(text)}")
    try:
        return decimal.Decimal(text)
    except (ArithmeticError, ValueError):
        raise bad(f"invalid decimal {snippet(text)}") from None


def _d_uuid(r: Reader, x: list[Any], depth: int) -> uuid.UUID:
    if type(x[1]) is not str or not _UUID_RE.fullmatch(x[1]):
        raise bad(f"invalid uuid {snippet(x[1])}")
    return uuid.UUID(hex=x[1])


def _d_range(r: Reader, x: list[Any], depth: int) -> range:
    start, stop, step = r.int_args(x, "range")
    if step == 0:
        raise bad("range step is zero")
    return range(start, stop, step)


def _d_slice(r: Reader, x: list[Any], depth: int) -> slice:
    return slice(r.node(x[1], depth), r.node(x[2], depth), r.node(x[3], depth))


def _d_npscalar(r: Reader, x: list[Any], depth: int) -> Any:
    descr, raw = x[1], x[2]
    itemsize = descr_info(descr, SCALAR_KINDS)
    if type(raw) is not str or len(raw) != 2 * itemsize or not _HEX_RE.fullmatch(raw):
        raise bad(f"numpy scalar of dtype {descr!r} needs {itemsize} bytes as lowercase hex")
    if r.segments is None:
        return object()
    np = import_numpy()
    return np.frombuffer(bytes.fromhex(raw), dtype=np_dtype(descr, SCALAR_KINDS, itemsize))[0]


def _d_ndarray(r: Reader, x: list[Any], depth: int) -> Any:
    index, view = r.segment(x[1], "ndarray")
    if view is None:
        return []
    return ndarray_from_npy(view, r.npy[index], index)


def _d_dataframe(r: Reader, x: list[Any], depth: int) -> Any:
    index, view = r.segment(x[1], "dataframe")
    if view is None:
        return []
    if r.validate_only:
        check_arrow(view, index)
        return []  # unhashable, as a DataFrame is: a dict key of it fails here too
    return frame_from_arrow(view, index)


def _d_series(r: Reader, x: list[Any], depth: int) -> Any:
    index, view = r.segment(x[1], "series")
    name = r.node(x[2], depth)
    try:
        hash(name)
    except TypeError:
        raise bad("a Series name is not hashable") from None
    if view is None:
        return []
    if r.validate_only:
        columns = check_arrow(view, index)
        if columns != 1:
            raise bad(f"segment {index} should hold one column for a Series, has {columns}")
        return []  # unhashable, as a Series is
    frame = frame_from_arrow(view, index)
    if frame.shape[1] != 1:
        raise bad(f"segment {index} should hold one column for a Series, has {frame.shape[1]}")
    series = frame.iloc[:, 0]
    series.name = name
    return series


def _d_pdtimestamp(r: Reader, x: list[Any], depth: int) -> Any:
    iso, tz = x[1], x[2]
    if type(iso) is not str or not (iso == "NaT" or _PD_ISO_RE.fullmatch(iso)):
        raise bad(f"invalid pandas Timestamp {snippet(iso)}")
    if tz is not None and (type(tz) is not str or not ZONE_RE.fullmatch(tz) or len(tz) > 64):
        raise bad(f"invalid time zone name {snippet(tz)}")
    if r.segments is None:
        return object()
    pd = import_pandas()
    if iso == "NaT":
        return pd.NaT
    try:
        value = pd.Timestamp(iso)
        if tz is not None:
            if value.tzinfo is None:
                raise bad(f"Timestamp {iso!r} has a time zone name but no UTC offset")
            value = value.tz_convert(tz)
    except SerdeError:
        raise
    except Exception as exc:
        raise bad(f"invalid pandas Timestamp {iso!r} / {tz!r} ({exc})") from None
    return value


def _d_pdtimedelta(r: Reader, x: list[Any], depth: int) -> Any:
    (ns,) = r.int_args(x, "pdtimedelta")
    if not -(2**63) < ns < 2**63:
        raise bad("pandas Timedelta out of range")
    if r.segments is None:
        return object()
    return import_pandas().Timedelta(ns, unit="ns")


_DECODERS: dict[str, Callable[[Reader, list[Any], int], Any]] = {
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
