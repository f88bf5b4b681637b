"""``jupyter-syft serve --processes N``: one Datasite served by N processes.

One process answers calls at about 0.85 of a core (its GIL). Here the supervisor reserves
the port, then forks:

- the **primary**: the Datasite as ``serve`` opens it (recovery, code runner, job queue,
  collector, login limits), serving the port and, on a Unix socket in a private folder, the
  calls its fronts forward;
- N - 1 **fronts**: the same Datasite opened as a front (``DatasiteConfig.front``), serving
  the port too. Each answers the plain calls itself and forwards the rest to the primary
  (``server/http/forward.py``).

Each process listens on the port with ``SO_REUSEPORT``: the kernel spreads new connections
over them. The supervisor's own socket holds the port (bound, never listening) meanwhile.

The processes share the database (a SQLite file in WAL mode, or PostgreSQL) and the blob
folder. They hear each other's changes, so the push channel and held job answers see every
process's writes: through PostgreSQL's NOTIFY (``server/change_relay.py``), or on SQLite
through Unix datagram sockets in the group's private folder (``server/group_relay.py``).
View caches check the database itself (``services/view_cache.py``).

The supervisor forks before any thread, connection or event loop exists. A process that dies
stops the others, and ``serve`` exits 1, for a process manager to restart it whole. SIGINT
or SIGTERM stops them all (exit 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from tornado.netutil import bind_unix_socket

from ..server import connection_budget
from ..server.store import StoreUnavailable, normalize_url, not_shareable
from .standalone import GroupMember, serve

MAX_PROCESSES = 64


def serve_group(
    name: str,
    data_dir: Path,
    port: int,
    processes: int,
    host: str = "127.0.0.1",
    db_url: str | None = None,
    dask_scheduler: str | None = None,
    seed_demo: bool = False,
    auto: bool = False,
) -> int:
    """Serve with ``processes`` processes until SIGINT or SIGTERM; the exit status.
    ``auto``: ``processes`` is what the machine gives; fewer if PostgreSQL has no room for
    them (``connection_budget``)."""
    if not 1 <= processes <= MAX_PROCESSES:
        print(f"--processes takes 1 to {MAX_PROCESSES}, not {processes}.", file=sys.stderr)
        return 2
    try:
        why_not = not_shareable(db_url)
    except StoreUnavailable as exc:
        why_not = str(exc).rstrip(".")
    if why_not is not None:
        print(f"--processes {processes}: {why_not}.", file=sys.stderr)
        return 2
    share = None  # each process's connections: the pools' defaults
    if db_url is not None and normalize_url(db_url).get_backend_name() == "postgresql":
        try:
            plan = connection_budget.plan(connection_budget.room(db_url), processes, auto)
        except (StoreUnavailable, connection_budget.NoRoom) as exc:
            print(str(exc).rstrip(".") + ".", file=sys.stderr)
            return 2
        processes, share = plan.processes, plan.per_process
        if plan.note is not None:
            print(plan.note, file=sys.stderr, flush=True)
    try:
        reserved = _reserve(host, port)
    except OSError as exc:
        print(f"Cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    port = reserved.getsockname()[1]
    private = tempfile.mkdtemp(prefix="jupyter-syft-")  # mode 0700: this user's processes only
    path = os.path.join(private, "primary.sock")
    forwarded = bind_unix_socket(path, mode=0o600)
    group = _Group()
    signal.signal(signal.SIGINT, group.on_signal)
    signal.signal(signal.SIGTERM, group.on_signal)
    try:

        def start(member: GroupMember) -> str | None:
            def run() -> int:
                if member.forwarded is None:
                    forwarded.close()  # a front never accepts its primary's calls
                return _run(name, data_dir, port, host, db_url, dask_scheduler, seed_demo, member)

            return group.start(member, run)

        sandbox = start(GroupMember(host, port, forwarded, None, -1, private, "", share))
        ok = sandbox is not None
        for _ in range(processes - 1):
            front = GroupMember(host, port, None, path, -1, private, sandbox or "", share)
            ok = ok and start(front) is not None
        if not ok:
            return group.stop_all(2)
        print(
            f"Datasite {name!r} serving at http://{host}:{port} from {processes} process"
            f"{'es' if processes > 1 else ''} "
            f"(data in {data_dir})",
            flush=True,
        )
        return group.supervise()
    finally:
        reserved.close()
        forwarded.close()
        shutil.rmtree(private, ignore_errors=True)


def _reserve(host: str, port: int) -> socket.socket:
    """The port, bound with ``SO_REUSEPORT`` and not listening: no other program takes it,
    and no connection waits in a queue nobody reads."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _run(
    name: str,
    data_dir: Path,
    port: int,
    host: str,
    db_url: str | None,
    dask_scheduler: str | None,
    seed_demo: bool,
    member: GroupMember,
) -> int:
    return asyncio.run(serve(name, data_dir, port, host, db_url, dask_scheduler, seed_demo, member))


class _Group:
    def __init__(self) -> None:
        self.children: dict[int, str] = {}  # pid: what it is
        self.stopping = False

    def on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True
        self._signal_all(signal.SIGTERM)

    def _signal_all(self, signum: int) -> None:
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def start(self, member: GroupMember, run: Callable[[], int]) -> str | None:
        """Fork one process; what it said once it serves, None if it ended first (it said
        why)."""
        role = "main process" if member.forwarded is not None else "front process"
        ready_read, member.ready_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: serve, then leave without running the parent's cleanup
            os.close(ready_read)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            code = 1
            try:
                code = run()
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(member.ready_fd)
        self.children[pid] = f"{role} {pid}"
        try:
            said = os.read(ready_read, 256).decode()
        finally:
            os.close(ready_read)
        if not said.startswith("ready") or self.stopping:
            return None
        return said.removeprefix("ready").strip()

    def supervise(self) -> int:
        """Wait for the processes; the first that ends unasked stops the others (exit 1)."""
        status = 0
        while self.children:
            try:
                pid, _ = os.wait()
            except ChildProcessError:
                break
            what = self.children.pop(pid, None)
            if what is not None and not self.stopping:
                print(
                    f"The Datasite's {what} stopped unexpectedly: stopping the others "
                    "(restart `jupyter-syft serve`).",
                    file=sys.stderr,
                    flush=True,
                )
                status = 1
                self.stopping = True
                self._signal_all(signal.SIGTERM)
        return status

    def stop_all(self, status: int) -> int:
        self.stopping = True
        self._signal_all(signal.SIGTERM)
        self.supervise()
        return status
