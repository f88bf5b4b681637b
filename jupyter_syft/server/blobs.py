"""On-disk, content-addressed value files, written atomically and streamed in chunks.

A value arrives in pieces; ``BlobWriter`` checks the wire format as it goes, hashes it, and
writes a temporary file (for uploads on a thread of its own, while the next pieces arrive).
``commit`` fsyncs once and renames it into place, so a reader never sees half a value. The
SQL row that points at a blob is written by the caller after ``commit``.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import serde
from ..serde.decoder import validate as validate_value

CHUNK_SIZE = 4 << 20
# Uploads: pieces are handed to the writer thread in batches of about this size, and the
# request stops reading while more than BACKLOG_BYTES wait to be hashed and written.
BATCH_BYTES = 1 << 20
BACKLOG_BYTES = 32 << 20
# How long a committed value whose SQL row is not written yet (``settled``) is kept from
# deletion: an upload of the same content as a value being deleted must not lose its file.
IN_FLIGHT_SECONDS = 3600.0


@dataclass
class BlobInfo:
    id: str
    size: int
    summary: dict[str, Any] = field(default_factory=dict)


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._committed: dict[str, float] = {}  # blob id -> when it was last committed
        # Leftovers of uploads cut off by a crash are never visible; clear them on start.
        for stale in self.tmp_dir.iterdir():
            stale.unlink(missing_ok=True)

    def path(self, blob_id: str) -> Path:
        if len(blob_id) != 64 or any(c not in "0123456789abcdef" for c in blob_id):
            raise ValueError("not a blob id")
        return self.root / blob_id[:2] / blob_id

    def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).exists()

    def open_writer(
        self, max_size: int | None = None, decode_check: bool = False, background: bool = False
    ) -> BlobWriter:
        """``decode_check``: decode the whole value before it is committed (untrusted uploads).
        ``background``: hash and write on a thread of the writer's own, so ``write`` (called
        on the event loop) only checks the format and queues the piece."""
        return BlobWriter(self, max_size=max_size, decode_check=decode_check, background=background)

    def write_value(self, value: Any) -> BlobInfo:
        """Encode and store a value the server itself produced (e.g. a result)."""
        writer = self.open_writer()
        try:
            for chunk in serde.encode(value).iter_chunks(CHUNK_SIZE):
                writer.write(chunk)
            return writer.commit()
        finally:
            writer.abort()

    def ingest(self, path: Path) -> BlobInfo:
        """Take over a value file written elsewhere on this filesystem (e.g. a worker's result)."""
        writer = self.open_writer()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK_SIZE):
                    writer.write(chunk)
            return writer.commit()
        finally:
            writer.abort()
            Path(path).unlink(missing_ok=True)

    def iter_chunks(self, blob_id: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        with open(self.path(blob_id), "rb") as f:
            while chunk := f.read(chunk_size):
                yield chunk

    def settled(self, blob_id: str) -> None:
        """The SQL row of a value committed here is written: it may be deleted again."""
        with self._lock:
            self._committed.pop(blob_id, None)

    def delete(self, blob_id: str, unless: Callable[[], bool] | None = None) -> bool:
        """Remove a value's file, unless it was committed again and its row is still on the
        way, or ``unless()`` (checked while no commit can happen) says to keep it. False when
        kept: the orphan collector removes it later if nothing claims it."""
        with self._lock:
            if self._recently_committed(blob_id) or (unless is not None and unless()):
                return False
            self.path(blob_id).unlink(missing_ok=True)
            return True

    def ids_on_disk(self) -> Iterator[str]:
        """The id of every stored value file."""
        for folder in self.root.iterdir():
            if len(folder.name) != 2 or not folder.is_dir():
                continue
            for path in folder.iterdir():
                if len(path.name) == 64 and all(c in "0123456789abcdef" for c in path.name):
                    yield path.name

    def _mark_committed(self, blob_id: str) -> None:
        now = time.monotonic()
        self._committed[blob_id] = now
        if len(self._committed) > 1024:
            for key in [k for k, t in self._committed.items() if now - t > IN_FLIGHT_SECONDS]:
                del self._committed[key]

    def _recently_committed(self, blob_id: str) -> bool:
        when = self._committed.get(blob_id)
        return when is not None and time.monotonic() - when < IN_FLIGHT_SECONDS


class BlobTooLarge(ValueError):
    pass


class _DiskThread:
    """Hashes and writes batches of pieces in order, on its own thread, while the request
    receives the next ones. ``backlog``: bytes queued and not yet written."""

    def __init__(self, digest: Any, file: Any):
        self._digest = digest
        self._file = file
        self._queue: queue.SimpleQueue[list[bytes] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.backlog = 0
        self.error: Exception | None = None
        self._cancelled = False
        self._stopped = False
        self._on_room: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._run, name="blob-writer", daemon=True)
        self._thread.start()

    def put(self, batch: list[bytes], nbytes: int) -> None:
        with self._lock:
            self.backlog += nbytes
        self._queue.put(batch)

    def when_room(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from this thread, or now) once the backlog is under BACKLOG_BYTES."""
        with self._lock:
            if self.backlog > BACKLOG_BYTES and not self._cancelled and self.error is None:
                self._on_room = callback
                return
        callback()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            nbytes = sum(len(piece) for piece in batch)
            if not self._cancelled and self.error is None:
                try:
                    for piece in batch:
                        self._digest.update(piece)  # releases the GIL for large pieces
                    self._file.writelines(batch)
                except Exception as exc:  # e.g. the disk is full: ``finish`` raises it
                    self.error = exc
            with self._lock:
                self.backlog -= nbytes
                if self.backlog <= BACKLOG_BYTES or self._cancelled or self.error is not None:
                    callback, self._on_room = self._on_room, None
                else:
                    callback = None
            if callback is not None:
                callback()
        with self._lock:
            self._stopped = True
            if self._cancelled:
                self._file.close()

    def finish(self) -> None:
        """Wait until everything queued is hashed and written; raise what a write raised."""
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def cancel(self) -> bool:
        """Drop what is queued and stop without waiting; True if this thread will close the
        file, False if it has stopped already (the caller closes it; either removes it)."""
        with self._lock:
            if self._stopped:
                return False
            self._cancelled = True
            callback, self._on_room = self._on_room, None
        self._queue.put(None)
        if callback is not None:
            callback()
        return True


class BlobWriter:
    def __init__(
        self,
        store: BlobStore,
        max_size: int | None = None,
        decode_check: bool = False,
        background: bool = False,
    ):
        self.store = store
        self.max_size = max_size
        self.decode_check = decode_check
        self.size = 0
        self.error: Exception | None = None
        self._hash = hashlib.sha256()
        self._checker = serde.StreamChecker()
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, suffix=".part")
        self._tmp = Path(name)
        self._file: Any = os.fdopen(fd, "wb")
        self._done = False
        self._disk = _DiskThread(self._hash, self._file) if background else None
        self._batch: list[bytes] = []
        self._batch_bytes = 0

    @property
    def backlogged(self) -> bool:
        """More than BACKLOG_BYTES wait to be written: stop reading until ``when_room``."""
        return self._disk is not None and self._disk.backlog > BACKLOG_BYTES

    def when_room(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (now, or later from the writer's thread) once it takes more."""
        if self._disk is None:
            callback()
        else:
            self._disk.when_room(callback)

    def write(self, chunk: bytes | memoryview) -> None:
        """Take the next piece; after the first error the rest is drained and ignored."""
        if self.error is not None:
            return
        try:
            self.size += len(chunk)
            if self.max_size is not None and self.size > self.max_size:
                raise BlobTooLarge(
                    f"The value is larger than this Datasite accepts ({self.max_size} bytes)."
                )
            self._checker.feed(chunk)
            if self._disk is None:
                self._hash.update(chunk)
                self._file.write(chunk)
                return
            self._batch.append(bytes(chunk) if isinstance(chunk, memoryview) else chunk)
            self._batch_bytes += len(chunk)
            if self._batch_bytes >= BATCH_BYTES:
                self._hand_off()
        except (serde.SerdeError, BlobTooLarge) as exc:
            self.error = exc
            self.abort()

    def _hand_off(self) -> None:
        assert self._disk is not None
        if self._batch:
            self._disk.put(self._batch, self._batch_bytes)
        self._batch, self._batch_bytes = [], 0

    def commit(self) -> BlobInfo:
        if self.error is not None:
            raise self.error
        summary = self._checker.finish()
        if self._disk is not None:
            self._hand_off()
            self._disk.finish()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if self.decode_check:
            _check_decodes(self._tmp)
        blob_id = self._hash.hexdigest()
        final = self.store.path(blob_id)
        final.parent.mkdir(exist_ok=True)
        with self.store._lock:  # not while a delete of the same value decides
            self.store._mark_committed(blob_id)
            if final.exists():  # same content already stored: keep the existing file
                self._tmp.unlink(missing_ok=True)
            else:
                os.replace(self._tmp, final)
                _fsync_dir(final.parent)
        self._done = True
        return BlobInfo(id=blob_id, size=self.size, summary=summary)

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._batch = []
        try:
            # Not waited for (this may run on the event loop): the thread drops what is queued
            # and closes the file itself; the name is gone at once.
            if self._disk is None or not self._disk.cancel():
                self._file.close()
        finally:
            self._tmp.unlink(missing_ok=True)


def _check_decodes(path: Path) -> None:
    """Check the whole value as decoding would, from a memory map, without decoding it into
    memory (``serde.decoder.validate``: tables are fully validated, not turned into pandas).

    The streaming check sees only headers and the first bytes of each segment; a payload
    with, say, corrupted Arrow batches passes it, and once visible every preview of it would
    fail. Raises SerdeError (a ValueError) when the decoder rejects the value.
    """
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        validate_value(memoryview(mapped))
    except serde.SerdeError:
        raise
    except Exception as exc:  # a decoder bug must still refuse the value, not store it
        raise serde.SerdeError(
            f"The value could not be decoded ({type(exc).__name__}); it is corrupted."
        ) from None
    finally:
        # If something still views the map, it is unmapped once that is freed.
        with contextlib.suppress(BufferError):
            mapped.close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
