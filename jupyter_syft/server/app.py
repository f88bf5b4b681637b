"""Serving a Datasite over HTTP: the tornado application and a server that runs it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .datasite import Datasite
from .http.base import DatasiteHandler
from .http.handlers import route_table
from .services import limits

API_PREFIX = "/syft/api/v1/"


class NotFoundHandler(DatasiteHandler):
    async def prepare(self) -> None:
        raise tornado.web.HTTPError(404, "No such Datasite route. Is the client up to date?")


def make_app(datasite: Datasite, base_url: str = "/") -> tornado.web.Application:
    prefix = base_url.rstrip("/") + API_PREFIX
    handlers: list[Any] = [
        (pattern, handler, {"datasite": datasite}) for pattern, handler in route_table(prefix)
    ]
    return tornado.web.Application(
        handlers,
        default_handler_class=NotFoundHandler,
        default_handler_args={"datasite": datasite},
        compress_response=False,  # values are large and binary; gzip would only slow them down
    )


class DatasiteServer:
    """Runs a Datasite's HTTP server on a loopback port, in a thread of its own.

    The port is bound in the constructor, so a taken port fails at once with a clear error
    and ``port=0`` gives the chosen port before the thread starts.
    """

    def __init__(self, datasite: Datasite, host: str = "127.0.0.1", port: int = 0):
        self.datasite = datasite
        self.host = host
        self._sockets = bind_sockets(port, address=host)
        self.port: int = self._sockets[0].getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"datasite-{self.port}", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._server = make_http_server(make_app(self.datasite))
        self._server.add_sockets(self._sockets)
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop, server = self._loop, self._server

        async def shutdown() -> None:
            assert server is not None
            server.stop()
            await server.close_all_connections()
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        self._thread.join(timeout=10)
        self._loop = None


def make_http_server(app: tornado.web.Application) -> HTTPServer:
    # Every route sets its own body limit in ``prepare`` (before the body is read); the
    # server-wide one only bounds what reaches no route at all.
    return HTTPServer(
        app,
        max_body_size=limits.ANONYMOUS_JSON_BODY,
        chunk_size=1 << 20,
        idle_connection_timeout=300,
    )
