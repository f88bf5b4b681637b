"""The prelude and header of a payload, and the first bytes of each segment.

Everything here runs without numpy, pandas or pyarrow: it is what the server checks
while an upload streams in.
"""

from __future__ import annotations

import json
import struct
from typing import Any, NamedTuple

from .errors import SerdeError, bad, snippet
from .layout import (
    ARROW_MARKER,
    FORMAT_VERSION,
    KIND_RANK,
    MAGIC,
    MAX_DEPTH,
    MAX_HEADER_BYTES,
    MAX_SEGMENT,
    MIN_SEGMENT,
    PRELUDE_SIZE,
)
from .npy import NpyInfo, npy_header_size, parse_npy_header


def check_prelude(buf: bytes | bytearray | memoryview) -> int | None:
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
    if len(buf) < PRELUDE_SIZE:
        return None
    (length,) = struct.unpack_from("<I", buf, 6)
    if length > MAX_HEADER_BYTES:
        raise SerdeError(
            f"Payload declares a {length}-byte header; the limit is {MAX_HEADER_BYTES}. "
            "It is corrupted or hostile; it was not decoded."
        )
    if length == 0:
        raise bad("the header is empty")
    return int(length)


def _reject_constant(name: str) -> Any:
    raise bad(f"the header contains the non-JSON number {name}")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise bad("the header has a JSON object with duplicate keys")
    return out


class Header(NamedTuple):
    root: Any
    kinds: list[str]
    sizes: list[int]
    summary: dict[str, Any]


def parse_header(raw: bytes | bytearray | memoryview) -> Header:
    """Parse and check the header JSON's top level (not the value tree)."""
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise bad("the header is not valid UTF-8") from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_object)
    except SerdeError:
        raise
    except RecursionError:
        raise bad(f"the header is nested too deeply (limit {MAX_DEPTH} levels)") from None
    except ValueError as exc:
        raise bad(f"the header is not valid JSON ({exc})") from None
    if type(obj) is not dict or set(obj) != {"v", "root", "segments", "summary"}:
        raise bad('the header must be a JSON object with keys "v", "root", "segments", "summary"')
    if type(obj["v"]) is not int or obj["v"] != FORMAT_VERSION:
        raise bad(f'header "v" is {snippet(obj["v"])}, expected {FORMAT_VERSION}')
    summary = obj["summary"]
    if type(summary) is not dict or type(summary.get("type")) is not str:
        raise bad('header "summary" must be an object with a string "type"')
    segments = obj["segments"]
    if type(segments) is not list:
        raise bad('header "segments" must be a list')
    kinds: list[str] = []
    sizes: list[int] = []
    for i, seg in enumerate(segments):
        if type(seg) is not dict or set(seg) != {"kind", "size"}:
            raise bad(f'segment {i} must be an object with keys "kind" and "size"')
        kind, size = seg["kind"], seg["size"]
        if type(kind) is not str or kind not in KIND_RANK:
            raise bad(f"segment {i} has unknown kind {snippet(kind)}")
        if type(size) is not int or not 0 <= size <= MAX_SEGMENT:
            raise bad(f"segment {i} has invalid size {snippet(size)}")
        if size < MIN_SEGMENT[kind]:
            raise bad(f"segment {i} ({kind}) is too small to be valid ({size} bytes)")
        kinds.append(kind)
        sizes.append(size)
    return Header(obj["root"], kinds, sizes, summary)


def check_segment_start(kind: str, view: memoryview, index: int) -> NpyInfo | None:
    if kind == "arrow":
        if bytes(view[:4]) != ARROW_MARKER:
            raise bad(
                f"segment {index} should be an Arrow IPC stream but does not start "
                "with the continuation marker 0xFFFFFFFF"
            )
    elif kind == "npy":
        size = len(view)
        total = npy_header_size(bytes(view[:12]), index, size)
        return parse_npy_header(bytes(view[:total]), index, size)
    return None
