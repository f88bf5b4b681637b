"""Forwarding, for the front processes of ``jupyter-syft serve --processes N``.

A front process answers the plain calls itself (``handlers.FRONT_ROUTES``: lists, mocks,
requests, approvals, results, the push channel): they read and write only the shared database
and blob folder. Every other call goes, as it came, to the primary process: logins (its login
limits are the Datasite's only ones, whichever process a guess reaches), code runs and jobs (its
runner and job queue), uploads, builds. The primary listens for them on a Unix socket in a
private folder (mode 0700), and takes the caller's address from ``X-Real-Ip`` there only.

Bodies stream both ways. A call with a body asks the primary first (``Expect: 100-continue``),
so a refusal before the body (401, 404, 413) reaches the caller as the primary gave it, without
the body being sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import tornado.web
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.iostream import StreamClosedError
from tornado.netutil import Resolver
from tornado.simple_httpclient import SimpleAsyncHTTPClient

from ..services.errors import Unavailable
from .base import JsonApiMixin

CONNECT_TIMEOUT = 10.0
# A forwarded call may be a blocking run or a held job wait: the primary bounds those itself.
REQUEST_TIMEOUT = 24 * 3600.0
# Not forwarded either way: they describe one connection, not the call. The caller's address
# headers are dropped too, and set again from the connection the front process accepted.
HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Expect",
        "Host",
    )
)
ADDRESS_HEADERS = frozenset(("x-real-ip", "x-forwarded-for", "x-scheme", "x-forwarded-proto"))
ANSWER_SKIPPED = HOP_BY_HOP | {"date", "server"}
QUEUED_CHUNKS = 4  # body chunks held between the caller and the primary (flow control)


class _CallerLeft:
    """Queued when the caller's connection closes mid-body: the forward ends."""


_CALLER_LEFT = _CallerLeft()
PRIMARY_DOWN = (
    "The Datasite's main process is not answering (it may be restarting). "
    "Try again in a moment; if it persists, tell the Datasite's owner."
)


class _UnixSocketResolver(Resolver):
    """Every host name resolves to the primary's Unix socket."""

    def initialize(self, path: str) -> None:
        self.path = path

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        return [(socket.AF_UNIX, self.path)]


class Primary:
    """Where a front process forwards to: the primary's socket, and one HTTP client for it."""

    # Calls forwarded at once; more wait their turn. Held answers (job waits, the push
    # channel) are served by the fronts themselves, so the long ones here are blocking runs.
    def __init__(self, socket_path: str, max_clients: int = 1000):
        self.socket_path = socket_path
        self.client = SimpleAsyncHTTPClient(
            force_instance=True,
            resolver=_UnixSocketResolver(path=socket_path),
            max_clients=max_clients,
            max_body_size=1 << 50,  # answers stream through; the primary bounds them
        )

    def close(self) -> None:
        self.client.close()


class ForwardHandler(JsonApiMixin, tornado.web.RequestHandler):
    """Sends the call to the primary and its answer back, both streamed."""

    _stream_request_body = True

    def initialize(self, primary: Primary) -> None:
        self.primary = primary
        self._chunks: asyncio.Queue[bytes | _CallerLeft | None] = asyncio.Queue(QUEUED_CHUNKS)
        self._answer: asyncio.Future[None] | None = None
        self._answer_status = 0
        self._answer_reason = ""
        self._answer_headers: list[tuple[str, str]] = []
        self._started = False  # the answer's status and headers were sent to the caller
        self._gone = False

    async def prepare(self) -> None:
        # Tornado's own limit would cut an upload; the primary applies each route's limit.
        set_max = getattr(self.request.connection, "set_max_body_size", None)
        if set_max is not None:
            set_max(1 << 50)
        # As the caller sent it: a body whatever the verb (the primary refuses what it must).
        headers = self.request.headers
        with_body = headers.get("Content-Length", "0") != "0" or "Transfer-Encoding" in headers
        self._answer = asyncio.ensure_future(self._forward(with_body))
        if not with_body:
            await self._answer

    def data_received(self, chunk: bytes) -> Any:
        if self._answer is None or self._answer.done():
            return None  # answered before the body was needed: the rest is dropped
        return self._chunks.put(chunk)

    async def _body_done(self, *args: str) -> None:
        if self._answer is None or self._finished:
            return
        if not self._answer.done():
            await self._chunks.put(None)
        await self._answer

    get = post = put = patch = delete = head = options = _body_done

    async def _forward(self, with_body: bool) -> None:
        headers = {
            name: value
            for name, value in self.request.headers.get_all()
            if name.lower() not in HOP_BY_HOP and name.lower() not in ADDRESS_HEADERS
        }
        headers["X-Real-Ip"] = self.request.remote_ip or ""
        request = HTTPRequest(
            "http://primary" + self.request.uri,
            method=self.request.method or "GET",
            headers=headers,
            body_producer=self._produce if with_body else None,  # type: ignore[arg-type]
            expect_100_continue=with_body,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            decompress_response=False,
            connect_timeout=CONNECT_TIMEOUT,
            request_timeout=REQUEST_TIMEOUT,
            header_callback=self._on_header,
            streaming_callback=self._on_chunk,
        )
        try:
            await self.primary.client.fetch(request, raise_error=False)
        except (StreamClosedError, HTTPClientError, OSError, asyncio.TimeoutError):
            if self._started:  # cut mid-answer: cut the caller's too, never a short "whole" one
                self._cut_off()
            elif not self._gone:
                self.send_error_json(503, Unavailable(PRIMARY_DOWN))
            return
        finally:
            self._drop_queued()
        if self._gone or self._finished:
            return
        if not self._started and self._answer_status in (0, 599):
            self.send_error_json(503, Unavailable(PRIMARY_DOWN))
            return
        self._start_answer()
        with contextlib.suppress(StreamClosedError):
            self.finish()

    async def _produce(self, write: Any) -> None:
        while (chunk := await self._chunks.get()) is not None:
            if isinstance(chunk, _CallerLeft):
                raise StreamClosedError()  # the primary sees a cut-off body, as from a caller
            await write(chunk)

    def _cut_off(self) -> None:
        self._auto_finish = False  # a finish() would end the chunked answer as if complete
        stream = getattr(self.request.connection, "stream", None)
        if stream is not None:
            stream.close()

    def _drop_queued(self) -> None:
        """Unblock a caller's body still waiting to be queued (the primary answered first)."""
        while not self._chunks.empty():
            self._chunks.get_nowait()

    def _on_header(self, line: str) -> None:
        if line.startswith("HTTP/"):
            parts = line.rstrip("\r\n").split(" ", 2)
            self._answer_status, self._answer_reason = (
                int(parts[1]),
                parts[2] if len(parts) > 2 else "",
            )
            self._answer_headers = []
        elif ":" in line:
            name, value = line.split(":", 1)
            self._answer_headers.append((name.strip(), value.strip()))

    def _start_answer(self) -> None:
        if self._started:
            return
        self._started = True
        self.clear()
        self.set_status(self._answer_status, self._answer_reason or None)
        kept = [(n, v) for n, v in self._answer_headers if n.lower() not in ANSWER_SKIPPED]
        for name in {n for n, _ in kept}:  # the primary's, not this handler's defaults
            self.clear_header(name)
        for name, value in kept:
            self.add_header(name, value)
        if not getattr(self.request.connection, "_read_finished", True):
            self.set_header("Connection", "close")  # refused before the body: as the primary

    def _on_chunk(self, chunk: bytes) -> None:
        if self._gone:
            raise StreamClosedError()  # the caller left: stop reading the primary's answer
        self._start_answer()
        self.write(chunk)
        self.flush()

    def on_connection_close(self) -> None:
        self._gone = True
        self._drop_queued()
        self._chunks.put_nowait(_CALLER_LEFT)  # (room made just above)
        super().on_connection_close()
