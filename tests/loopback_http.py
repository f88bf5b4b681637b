"""A plain HTTP server on a loopback port, in a thread: for client tests that need a server
that is not a Datasite (one that records what it got, or answers what the test says)."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple


@contextlib.contextmanager
def loopback_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[int]:
    """Serve ``handler`` on 127.0.0.1 until the block ends; yields the port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class Call(NamedTuple):
    """One call a ``RecordingHandler`` got."""

    command: str
    path: str
    requestline: str
    headers: list[tuple[str, str]]  # in the order sent
    body: bytes


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Keeps every call it gets in ``seen`` and answers each with ``answer`` (status, content
    type, body); a redirect points at /login."""

    answer: tuple[int, str, bytes] = (200, "application/json", b"{}")
    seen: list[Call] = []

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = list(self.headers.items())
        type(self).seen.append(Call(self.command, self.path, self.requestline, headers, body))
        status, content_type, payload = type(self).answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if 300 <= status < 400:
            self.send_header("Location", "/login")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def recording_server(path: str = "/") -> Iterator[tuple[str, type[RecordingHandler]]]:
    """A ``RecordingHandler`` of its own on loopback: ``(its URL + path, the handler class)``;
    set ``answer`` and read ``seen`` on the class."""
    handler = type("Recorder", (RecordingHandler,), {"seen": []})
    with loopback_server(handler) as port:
        yield f"http://127.0.0.1:{port}{path}", handler
