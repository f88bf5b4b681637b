"""numpy arrays as ``.npy`` segments: dtype checks, header writing and validation, reading.

Headers are parsed and dtypes checked in pure Python, so checking a payload needs no numpy
and nothing in a hostile header can run code.
"""

from __future__ import annotations

import ast
import math
import re
import struct
from typing import Any, NamedTuple

from .errors import SerdeError, bad, snippet
from .layout import ALIGN, MAX_DTYPE_CHARS
from .lazy_imports import import_numpy

NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 65536
_MAX_NDIM = 64
_MAX_ITEMSIZE = 2**31 - 1  # numpy refuses larger fixed-width string dtypes
SCALAR_KINDS = frozenset("biufcMm")
ARRAY_KINDS = frozenset("biufcMmUS")

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


class NpyOut(NamedTuple):
    descr: str
    fortran: bool
    shape: tuple[int, ...]
    data: Any


def npy_parts(npy: NpyOut, offset: int) -> tuple[Any, ...]:
    """A standard .npy v1.0 header padded so the data lands 64-aligned, plus the data."""
    text = f"{{'descr': {npy.descr!r}, 'fortran_order': {npy.fortran!r}, 'shape': {npy.shape!r}, }}"
    pad = -(offset + 10 + len(text) + 1) % ALIGN
    header = (text + " " * pad + "\n").encode("latin1")
    assert len(header) < 65536  # 64 dims of 64-bit sizes stay far below this
    return (NPY_MAGIC + b"\x01\x00" + struct.pack("<H", len(header)) + header, npy.data)


def descr_info(descr: Any, kinds: frozenset[str]) -> int:
    """Check a dtype string without numpy; returns its itemsize."""
    if type(descr) is not str or len(descr) > MAX_DTYPE_CHARS:
        raise SerdeError(
            f"Refusing numpy dtype {snippet(descr)}: structured/record dtypes and dtype "
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


class NpyInfo(NamedTuple):
    descr: str
    fortran: bool
    shape: tuple[int, ...]
    nitems: int
    offset: int  # where the data starts within the segment


def npy_header_size(prefix: bytes, index: int, size: int) -> int:
    """From the first min(size, 12) bytes of an npy segment: the full header length."""
    if prefix[:6] != NPY_MAGIC:
        raise bad(
            f"segment {index} should be a numpy .npy array but does not start with "
            f"{NPY_MAGIC!r} (starts {prefix[:6]!r})"
        )
    major = prefix[6]
    if major == 1:
        total = 10 + struct.unpack_from("<H", prefix, 8)[0]
    elif major in (2, 3) and len(prefix) >= 12:
        total = 12 + struct.unpack_from("<I", prefix, 8)[0]
    else:
        raise bad(f"segment {index} has an unsupported or truncated .npy version ({major})")
    if total - 10 > _MAX_NPY_HEADER:
        raise bad(f"segment {index} has a .npy header over {_MAX_NPY_HEADER} bytes")
    if total > size:
        raise bad(f"segment {index} is shorter than its .npy header")
    return total


def parse_npy_header(head: bytes, index: int, size: int) -> NpyInfo:
    """Validate a complete .npy header (pure Python, like numpy's own safe reader)."""
    start = 10 if head[6] == 1 else 12
    try:
        text = head[start:].decode("utf-8" if head[6] == 3 else "latin1")
        # literal_eval only builds literals; it cannot call anything.
        meta = ast.literal_eval(text)
    except Exception:
        raise bad(f"segment {index} has an unreadable .npy header") from None
    if type(meta) is not dict or set(meta) != {"descr", "fortran_order", "shape"}:
        raise bad(f"segment {index} has a .npy header without exactly descr/fortran_order/shape")
    descr, fortran, shape = meta["descr"], meta["fortran_order"], meta["shape"]
    try:
        itemsize = descr_info(descr, ARRAY_KINDS)
    except SerdeError as exc:
        raise SerdeError(f"Segment {index} (a numpy array): {exc}") from None
    if type(fortran) is not bool:
        raise bad(f"segment {index} has a non-boolean fortran_order")
    if (
        type(shape) is not tuple
        or len(shape) > _MAX_NDIM
        or not all(type(n) is int and 0 <= n < 2**63 for n in shape)
    ):
        raise bad(f"segment {index} has an invalid .npy shape {snippet(repr(shape))}")
    count = math.prod(shape)
    if len(head) + count * itemsize != size:
        raise bad(
            f"segment {index} holds {size - len(head)} data bytes but its .npy header "
            f"describes {count * itemsize}"
        )
    return NpyInfo(descr, fortran, shape, count, len(head))


def np_dtype(descr: str, kinds: frozenset[str], itemsize: int) -> Any:
    np = import_numpy()
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError):
        raise bad(f"numpy cannot read dtype {descr!r}") from None
    if dtype.hasobject or dtype.kind not in kinds or dtype.names is not None:
        raise bad(f"dtype {descr!r} is not allowed")
    if dtype.itemsize != itemsize:
        raise bad(f"dtype {descr!r} has itemsize {dtype.itemsize} on this machine, not {itemsize}")
    return dtype


def ndarray_from_npy(view: memoryview, info: NpyInfo, index: int) -> Any:
    np = import_numpy()
    dtype = np_dtype(info.descr, ARRAY_KINDS, descr_info(info.descr, ARRAY_KINDS))
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
        raise bad(f"segment {index} could not be read as a numpy array ({exc})") from None
