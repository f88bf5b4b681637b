"""The standalone host: a Datasite on its own tornado server.

``serve`` is ``jupyter-syft serve`` (a process of its own, until SIGINT/SIGTERM), or one
process of ``jupyter-syft serve --processes N`` (``hosts/processes.py``); ``DatasiteServer``
runs the same application in a thread, for ``sy.orchestra.launch``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets, bind_unix_socket

from ..server.datasite import Datasite
from ..server.http.base import DatasiteHandler
from ..server.http.forward import ForwardHandler, Primary
from ..server.http.handlers import FRONT_ROUTES, route_table
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


def make_app(
    datasite: Datasite, base_url: str = "/", primary: Primary | None = None
) -> tornado.web.Application:
    """The Datasite's routes; a front process (``primary`` given) answers ``FRONT_ROUTES``
    and forwards every other call under the API prefix to its primary."""
    prefix = base_url.rstrip("/") + API_PREFIX
    only = FRONT_ROUTES if primary is not None else None
    handlers: list[Any] = [
        (pattern, handler, {"datasite": datasite})
        for pattern, handler in route_table(prefix, only=only)
    ]
    if primary is not None:
        handlers.append((prefix + ".*", ForwardHandler, {"primary": primary}))
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


def make_http_server(app: tornado.web.Application, xheaders: bool = False) -> HTTPServer:
    # Every route sets its own body limit in ``prepare`` (before the body is read); the
    # server-wide one only bounds what reaches no route at all. ``xheaders``: the caller's
    # address is the one X-Real-Ip gives (only where front processes forward calls).
    return HTTPServer(
        app,
        max_body_size=limits.ANONYMOUS_JSON_BODY,
        chunk_size=1 << 20,
        idle_connection_timeout=300,
        xheaders=xheaders,
    )


@dataclass
class GroupMember:
    """One process's part: where it listens (with ``SO_REUSEPORT``), either the socket its
    fronts forward to (the primary) or that socket's path (a front), and the group's private
    folder (on SQLite the processes tell each other their changes there)."""

    host: str
    port: int
    forwarded: socket.socket | None  # the primary only
    primary_path: str | None  # fronts only
    ready_fd: int
    folder: str
    sandbox: str = ""  # fronts: the primary runner's sandbox, which requests show
    connections: int | None = None  # PostgreSQL: this process's share (connection_budget)

    def ready(self, sandbox: str = "") -> None:
        """Tell the supervisor this process serves (its stop signals are handled); the
        primary tells its runner's sandbox too ("" if it cannot run code)."""
        os.write(self.ready_fd, ("ready " + sandbox).encode())
        os.close(self.ready_fd)


async def serve(
    name: str,
    data_dir: Path,
    port: int,
    host: str = "127.0.0.1",
    db_url: str | None = None,
    dask_scheduler: str | None = None,
    seed_demo: bool = False,
    member: GroupMember | None = None,
) -> int:
    """Serve a Datasite until SIGINT or SIGTERM; the exit status (2: could not start).
    ``member``: this process's part in ``serve --processes N`` (its sockets, its role)."""
    from ..server.store import StoreUnavailable

    config = config_from_env(name, data_dir, db_url, dask_scheduler)
    primary_path = member.primary_path if member is not None else None
    front = primary_path is not None  # else the primary, or serving alone
    if member is not None:
        config = replace(
            config, group_folder=Path(member.folder), db_connections=member.connections
        )
        if front:
            config = replace(config, front=True, front_sandbox=member.sandbox)
    try:
        datasite = open_datasite(
            config, announce_password=_print_password, seed_demo=seed_demo and not front
        )
    except StoreUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    primary = Primary(primary_path) if primary_path is not None else None
    servers = [make_http_server(make_app(datasite, primary=primary))]
    try:
        if member is None:
            servers[0].listen(port, address=host)
            port = next(iter(servers[0]._sockets.values())).getsockname()[1]
        else:  # one of several processes on the port: the kernel spreads connections
            servers[0].add_sockets(bind_sockets(member.port, address=host, reuse_port=True))
    except OSError as exc:
        print(f"Cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        datasite.close()
        return 2
    if member is not None and member.forwarded is not None:  # the primary: its fronts' calls
        servers.append(make_http_server(make_app(datasite), xheaders=True))
        servers[1].add_sockets([member.forwarded])
    datasite.start_background()  # the sandbox probe and warm workers, while we serve
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Announced only once a stop signal is handled, so whoever waits for this line can stop us.
    if member is None:
        print(f"Datasite {name!r} serving at http://{host}:{port} (data in {data_dir})", flush=True)
    else:
        member.ready(_sandbox(datasite) if not front else "")
    await stop.wait()
    for server in servers:
        server.stop()
    for server in servers:
        await server.close_all_connections()
    if primary is not None:
        primary.close()
    datasite.close()
    return 0


def _sandbox(datasite: Datasite) -> str:
    """The primary's runner's sandbox, for its fronts (it waits for the runner to start)."""
    from ..server.services.errors import Unavailable

    try:
        return datasite.runner().sandbox
    except Unavailable:
        return ""  # the fronts say so when a request needs it, as this process does


def _print_password(email: str, password: str) -> None:
    print(
        f"Created the root account {email} with password {password}\n"
        "(shown once; set JUPYTER_SYFT_ROOT_PASSWORD to choose it)",
        flush=True,
    )


class DatasiteServer:
    """Runs a Datasite's HTTP server on a loopback port, in a thread of its own.

    The port is bound in the constructor, so a taken port fails at once with a clear error
    and ``port=0`` gives the chosen port before the thread starts. As the processes of
    ``serve --processes`` do: ``primary_path`` makes it a front that forwards to the primary
    at that Unix socket; ``unix_socket`` serves a primary's forwarded calls there instead of
    on a port.
    """

    def __init__(
        self,
        datasite: Datasite,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        primary_path: str | None = None,
        unix_socket: str | None = None,
    ):
        self.datasite = datasite
        self.host = host
        self.primary_path = primary_path
        self.forwarded = unix_socket is not None
        if unix_socket is not None:
            self._sockets = [bind_unix_socket(unix_socket, mode=0o600)]
            self.port = 0
        else:
            self._sockets = bind_sockets(port, address=host)
            self.port = self._sockets[0].getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: HTTPServer | None = None
        self._primary: Primary | None = None
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
        if self.primary_path is not None:  # its HTTP client belongs to this loop
            self._primary = Primary(self.primary_path)
        app = make_app(self.datasite, primary=self._primary)
        self._server = make_http_server(app, xheaders=self.forwarded)
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
        loop, server, primary = self._loop, self._server, self._primary

        async def shutdown() -> None:
            assert server is not None
            server.stop()
            await server.close_all_connections()
            if primary is not None:
                primary.close()
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        self._thread.join(timeout=10)
        self._loop = None
