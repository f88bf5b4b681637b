"""The wire protocol between the code runner and one worker, over a Unix stream socket.

Frames are ``kind (1 byte) + payload length (u32 LE) + payload``.

worker -> runner: ``READY`` (JSON) once numpy/pandas/pyarrow are imported; ``TAKEN`` (empty)
as soon as a job arrives, before any of its code runs (a worker that dies before it is
known not to have started the job, which may then go to another worker); after the job,
``DATA`` frames carrying the encoded result in order, then ``DONE`` (JSON status). While the
job runs it may send ``CALL`` (a nested job or progress, see ``pack_call``) and then waits
for the runner's ``REPLY``.
runner -> worker: ``JOB`` (JSON), with file descriptors attached to its header
(SCM_RIGHTS): the write ends of the job's stdout and stderr pipes, then one read-only
descriptor per input. Descriptors, not paths, so the worker never needs to see the
Datasite's folders, and the result never sits in a file the job could still write to.

The worker runs untrusted code in its own process, so the runner treats every frame it
receives as untrusted: sizes are bounded and JSON is checked field by field.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import socket
import struct
from collections.abc import Sequence
from typing import Any

READY = b"R"
JOB = b"J"
TAKEN = b"T"
DATA = b"D"
DONE = b"S"
CALL = b"C"
REPLY = b"Y"
# The worker template (template.py): the server asks it to FORK a worker; the worker's sandbox
# init says HELLO on its status socket (with its credentials), then sends the EXIT_STATUS.
FORK = b"F"
HELLO = b"H"
EXIT_STATUS = struct.Struct("<i")

HEADER = struct.Struct("<cI")
MAX_FRAME = 8 << 20  # DATA chunks are 1 MiB; JSON frames are far smaller
MAX_CALL_FRAME = 512 << 20  # a nested job's arguments travel in one CALL frame
_CALL_HEADER = struct.Struct("<I")
MAX_FDS = 200  # below the kernel's 253 descriptors per message
CHUNK = 1 << 20

_CLOEXEC = getattr(socket, "MSG_CMSG_CLOEXEC", 0)


class ProtocolError(Exception):
    """The peer sent something that is not a valid frame."""


def send_frame(
    sock: socket.socket, kind: bytes, payload: bytes | memoryview = b"", fds: Sequence[int] = ()
) -> None:
    header = HEADER.pack(kind, len(payload))
    if fds:
        # The descriptors ride on the 5 header bytes, sent alone, so the receiver gets them
        # with exactly the read that returns the header.
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
        sent = sock.sendmsg([header], rights)
        if sent != len(header):
            sock.sendall(header[sent:])
        sock.sendall(payload)
    elif len(payload) < 65536:
        sock.sendall(header + bytes(payload))
    else:
        sock.sendall(header)
        sock.sendall(payload)


def send_json(sock: socket.socket, kind: bytes, obj: Any, fds: Sequence[int] = ()) -> None:
    send_frame(sock, kind, json.dumps(obj).encode(), fds)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            raise ProtocolError("connection closed")
        got += n
    return bytes(buf)


def pack_call(header: dict[str, Any], data: bytes | memoryview = b"") -> bytes:
    """A CALL or REPLY payload: a JSON header, then an encoded value (maybe empty)."""
    text = json.dumps(header).encode()
    return _CALL_HEADER.pack(len(text)) + text + bytes(data)


def unpack_call(payload: bytes) -> tuple[dict[str, Any], bytes]:
    if len(payload) < _CALL_HEADER.size:
        raise ProtocolError("short call frame")
    (size,) = _CALL_HEADER.unpack_from(payload)
    if size > len(payload) - _CALL_HEADER.size or size > MAX_FRAME:
        raise ProtocolError("bad call header")
    start = _CALL_HEADER.size
    return parse_json(payload[start : start + size]), payload[start + size :]


def recv_frame(
    sock: socket.socket, max_fds: int = 0, max_size: int = MAX_FRAME
) -> tuple[bytes, bytes, list[int]]:
    """Blocking read of one frame and the descriptors sent with it (close-on-exec)."""
    fds: list[int] = []
    space = socket.CMSG_SPACE(max_fds * 4) if max_fds else 0
    data, ancdata, flags, _ = sock.recvmsg(HEADER.size, space, _CLOEXEC)
    for level, ctype, cdata in ancdata:
        if level == socket.SOL_SOCKET and ctype == socket.SCM_RIGHTS:
            usable = len(cdata) - len(cdata) % 4
            fds.extend(array.array("i", cdata[:usable]))
    try:
        if flags & socket.MSG_CTRUNC:
            raise ProtocolError("too many file descriptors")
        if not data:
            raise ProtocolError("connection closed")
        if len(data) < HEADER.size:
            data += _recv_exact(sock, HEADER.size - len(data))
        kind, size = HEADER.unpack(data)
        if size > max_size:
            raise ProtocolError(f"frame of {size} bytes")
        return kind, _recv_exact(sock, size), fds
    except BaseException:
        for fd in fds:
            _close(fd)
        raise


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


class FrameBuffer:
    """Incremental frame parser for the runner's non-blocking read loop."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self._buf += data
        frames = []
        while len(self._buf) >= HEADER.size:
            kind, size = HEADER.unpack_from(self._buf)
            limit = MAX_CALL_FRAME if kind == CALL else MAX_FRAME
            if size > limit or kind not in (READY, TAKEN, DATA, DONE, CALL):
                raise ProtocolError(f"unexpected frame {kind!r} of {size} bytes")
            end = HEADER.size + size
            if len(self._buf) < end:
                break
            frames.append((kind, bytes(self._buf[HEADER.size : end])))
            del self._buf[:end]
        return frames


def parse_json(payload: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError):
        raise ProtocolError("invalid JSON") from None
    if not isinstance(obj, dict):
        raise ProtocolError("JSON frame is not an object")
    return obj
