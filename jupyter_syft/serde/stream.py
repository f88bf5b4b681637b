"""StreamChecker: validate a payload chunk by chunk as an upload arrives."""

from __future__ import annotations

from typing import Any

from .encoded import byte_view
from .errors import SerdeError, bad, truncated
from .header import check_prelude, check_segment_start, parse_header
from .layout import ARROW_MARKER, FORMAT_VERSION, PRELUDE_SIZE
from .npy import npy_header_size, parse_npy_header
from .reader import Reader


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
        self._head_size = PRELUDE_SIZE
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
            self._feed(byte_view(chunk))
        except SerdeError as exc:
            self._error = exc
            raise

    def _feed(self, view: memoryview) -> None:
        while view and self.expected_size is None:
            piece = view[: self._head_size - len(self._head)]
            self._head += piece
            self.received += len(piece)
            view = view[len(piece) :]
            if self._head_size == PRELUDE_SIZE:
                length = check_prelude(self._head)
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
        header = parse_header(self._head[PRELUDE_SIZE:])
        reader = Reader(header.kinds, None, {})
        try:
            reader.node(header.root, 0)
        except RecursionError:
            raise bad("values are nested too deeply") from None
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
            self._prefix_need = len(ARROW_MARKER)
        elif kind == "npy":
            self._prefix_need = min(self._seg_left, 12)
        else:
            self._prefix_need = 0

    def _check_prefix(self) -> None:
        kind, size = self._kinds[self._seg], self._sizes[self._seg]
        prefix = bytes(self._prefix)
        if kind == "arrow":
            check_segment_start(kind, memoryview(prefix), self._seg)
        elif len(prefix) <= 12:
            total = npy_header_size(prefix, self._seg, size)
            if total > len(prefix):
                self._prefix_need = total  # keep collecting the .npy header
                return
            parse_npy_header(prefix[:total], self._seg, size)
        else:
            parse_npy_header(prefix, self._seg, size)

    def finish(self) -> dict[str, Any]:
        """Raise SerdeError unless exactly one complete payload arrived; return its summary."""
        if self._error is not None:
            raise self._error
        if self.expected_size is None or self.received < self.expected_size:
            expected = self.expected_size if self.expected_size is not None else self._head_size
            raise truncated(expected, self.received)
        assert self.summary is not None
        return self.summary
