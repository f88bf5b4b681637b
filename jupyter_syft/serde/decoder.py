"""decode(), loads(), decode_file() and read_summary(): whole payloads in memory or files."""

from __future__ import annotations

import os
from typing import Any

from .encoded import byte_view
from .errors import SerdeError, bad, truncated
from .header import check_prelude, check_segment_start, parse_header
from .layout import PRELUDE_SIZE
from .npy import NpyInfo
from .reader import Reader


def as_view(data: Any) -> memoryview:
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
    return byte_view(view)


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Decode a payload. numpy arrays share the payload's memory (writable for a bytearray)."""
    return _walk(data, validate_only=False)


def validate(data: bytes | bytearray | memoryview) -> None:
    """Check a payload as :func:`decode` would, but build no DataFrames or Series: an untrusted
    upload of any size is checked on a memory map without a decoded copy in memory. Raises
    SerdeError where decode would."""
    _walk(data, validate_only=True)


def _walk(data: bytes | bytearray | memoryview, validate_only: bool) -> Any:
    view = as_view(data)
    length = check_prelude(view[:PRELUDE_SIZE])
    if length is None:
        raise truncated(PRELUDE_SIZE, len(view))
    start = PRELUDE_SIZE + length
    if len(view) < start:
        raise truncated(start, len(view))
    header = parse_header(view[PRELUDE_SIZE:start])
    total = start + sum(header.sizes)
    if len(view) < total:
        raise truncated(total, len(view))
    if len(view) > total:
        raise SerdeError(
            f"jupyter_syft payload has {len(view) - total} extra bytes after its declared end "
            f"({total} bytes): it is corrupted or was concatenated with other data."
        )
    segments: list[memoryview] = []
    npy: dict[int, NpyInfo] = {}
    offset = start
    for i, (kind, size) in enumerate(zip(header.kinds, header.sizes, strict=True)):
        seg = view[offset : offset + size]
        info = check_segment_start(kind, seg, i)
        if info is not None:
            npy[i] = info
        segments.append(seg)
        offset += size
    reader = Reader(header.kinds, segments, npy, validate_only=validate_only)
    try:
        value = reader.node(header.root, 0)
    except RecursionError:
        raise bad("values are nested too deeply") from None
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
        raise truncated(size, got)
    return decode(buf)


def read_summary(data_or_path: bytes | bytearray | memoryview | str | os.PathLike[str]) -> dict:
    """The payload's summary, reading only the header (cheap even for huge files)."""
    if isinstance(data_or_path, str | os.PathLike):
        with open(data_or_path, "rb") as f:
            prelude = f.read(PRELUDE_SIZE)
            length = check_prelude(prelude)
            if length is None:
                raise truncated(PRELUDE_SIZE, len(prelude))
            raw: bytes | memoryview = f.read(length)
    else:
        view = as_view(data_or_path)
        length = check_prelude(view[:PRELUDE_SIZE])
        if length is None:
            raise truncated(PRELUDE_SIZE, len(view))
        raw = view[PRELUDE_SIZE : PRELUDE_SIZE + length]
    if len(raw) < length:
        raise truncated(PRELUDE_SIZE + length, PRELUDE_SIZE + len(raw))
    return parse_header(raw).summary
