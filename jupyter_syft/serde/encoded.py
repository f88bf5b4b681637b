"""Encoded: an encoded value as header plus segments, streamed without copying."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


def byte_view(buf: Any) -> memoryview:
    view = memoryview(buf)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class LazyPart:
    """Part of a segment whose size is known up front and whose buffers are made as it is
    read (a large DataFrame's Arrow stream): iterating it yields them, and can be repeated."""

    nbytes: int

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


def part_nbytes(part: Any) -> int:
    return part.nbytes if isinstance(part, LazyPart) else byte_view(part).nbytes


def part_views(part: Any) -> Iterator[memoryview]:
    if isinstance(part, LazyPart):
        for buf in part:
            yield byte_view(buf)
    else:
        yield byte_view(part)


class Encoded:
    """An encoded value: the header plus the segments, not yet joined into one buffer.

    ``iter_chunks`` and ``write_to`` stream the exact payload without copying the
    segments; ``to_bytes`` makes the one copy needed to produce ``bytes``. A large DataFrame's
    segment is a ``LazyPart``: its batches are converted as the payload is read.
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
        self.nbytes = len(header) + sum(part_nbytes(p) for parts in self._parts for p in parts)

    @property
    def segments(self) -> list[Any]:
        """One buffer per segment. Multi-part segments are joined (copied) on first access."""
        if self._joined is None:
            self._joined = [
                p[0] if len(p) == 1 and not isinstance(p[0], LazyPart)
                else b"".join(v for part in p for v in part_views(part))
                for p in self._parts
            ]  # fmt: skip
        return self._joined

    def _iter_views(self) -> Iterator[memoryview]:
        yield memoryview(self.header)
        for parts in self._parts:
            for part in parts:
                yield from part_views(part)

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
