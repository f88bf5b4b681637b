"""The standalone host: a Datasite on its own tornado server.

``serve`` is ``jupyter-syft serve`` (a process of its own, until SIGINT/SIGTERM);
``DatasiteServer`` runs the same application in a thread, for ``sy.orchestra.launch``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from ..server.datasite import Datasite
from ..server.http.base import DatasiteHandler
from ..server.http.handlers import route_table
from ..server.services import limits
from ..wire import routes
from .bootstrap import config_from_env, open_datasite

API_PREFIX = "/" + routes.API_PREFIX


class NotFoundHandler(DatasiteHandler):
    # Streamed like every route: the 404 goes out before any of the body is read, so a body
    # over the server's limit gets an answer too, not a reset connection.
    _stream_request_body = True

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
        log_function=log_request,
    )


ACCESS_LOG = logging.getLogger("tornado.access")


def log_request(handler: tornado.web.RequestHandler) -> None:
    """One line per answered call, as Jupyter Server writes it: answers that went well at
    DEBUG, refusals (4xx) at WARNING, internal errors at ERROR. Successful calls are most of
    the traffic and are in the audit log when they change anything; formatting and writing a
    line for each cost a tenth of a cached list call."""
    status = handler.get_status()
    if status < 400:
        if not ACCESS_LOG.isEnabledFor(logging.DEBUG):
            return
        level = logging.DEBUG
    else:
        level = logging.WARNING if status < 500 else logging.ERROR
    took = 1000.0 * handler.request.request_time()
    ACCESS_LOG.log(level, "%d %s %.2fms", status, handler._request_summary(), took)


def make_http_server(app: tornado.web.Application) -> HTTPServer:
    # Every route sets its own body limit in ``prepare`` (before the body is read); the
    # server-wide one only bounds what reaches no route at all.
    return HTTPServer(
        app,
        max_body_size=limits.ANONYMOUS_JSON_BODY,
        chunk_size=1 << 20,
        idle_connection_timeout=300,
    )


async def serve(
    name: str,
    data_dir: Path,
    port: int,
    host: str = "127.0.0.1",
    db_url: str | None = None,
    dask_scheduler: str | None = None,
    seed_demo: bool = False,
) -> int:
    """Serve a Datasite until SIGINT or SIGTERM; the exit status (2: could not start)."""
    from ..server.store import StoreUnavailable

    try:
        datasite = open_datasite(
            config_from_env(name, data_dir, db_url, dask_scheduler),
            announce_password=_print_password,
            seed_demo=seed_demo,
        )
    except StoreUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    server = make_http_server(make_app(datasite))
    try:
        server.listen(port, address=host)
    except OSError as exc:
        print(f"Cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        datasite.close()
        return 2
    port = next(iter(server._sockets.values())).getsockname()[1]
    datasite.start_background()  # the sandbox probe and warm workers, while we serve
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Announced only once a stop signal is handled, so whoever waits for this line can stop us.
    print(f"Datasite {name!r} serving at http://{host}:{port} (data in {data_dir})", flush=True)
    await stop.wait()
    server.stop()
    await server.close_all_connections()
    datasite.close()
    return 0


def _print_password(email: str, password: str) -> None:
    print(
        f"Created the root account {email} with password {password}\n"
        "(shown once; set JUPYTER_SYFT_ROOT_PASSWORD to choose it)",
        flush=True,
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
