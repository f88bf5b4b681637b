"""Worker processes: starting one, and keeping a few started ones ready.

A worker serves exactly one job and then dies, so nothing a job leaves behind (threads,
monkeypatches, files in its /tmp) can meet the next job's data. Starting one costs about
0.4-0.6 s of CPU (importing numpy, pandas and pyarrow), so the pool keeps workers that have
done that and now wait for their job; each one taken is replaced in the background.

Under bubblewrap each pool also keeps a worker template (``WorkerTemplate``, template.py): a
sandboxed process that has done those imports once and forks each new worker, in its own
namespaces, in ~10-20 ms of CPU. Where the template cannot run (no bubblewrap, it failed,
JUPYTER_SYFT_WORKER_TEMPLATE=0) workers are started the usual way: a job never waits for it.

Two shelves: ``size`` workers for any run, and ``reserved`` more that only interactive runs
(blocking calls) may take. When 200 jobs keep every worker busy, a blocking call still finds
a warm worker and is answered in about the idle latency instead of waiting for a cold start.
Workers for background runs (jobs) start at a lower CPU priority (``BACKGROUND_NICE``), so
the job queue, starting workers as fast as it can, does not slow blocking calls down either.

Environments: a worker has its environment's packages loaded, so each environment has its
own pool (``EnvironmentPools``): the default environment's is the one above, started with the
runner and never dropped; another environment's is made on its first run, and at most
``limit`` of them keep warm workers (the least recently used is closed when one more is
needed; its next run starts a worker, then warms the pool again). A rebuilt environment (a new
lock hash) gets a new pool: no worker keeps packages of an older build.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict, deque
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ..environments.runtime import EnvironmentRuntime

from . import protocol
from .sandbox import Launcher, sandbox_pidfd

log = logging.getLogger("jupyter_syft.server")

START_TIMEOUT = 120.0  # importing pandas on a busy 2-core machine can take a while
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0)  # after failed starts, before the pool tries again
BACKGROUND_NICE = 10  # nice value of workers for jobs: ~1/10 of the CPU share of the others
WORKER_MODULE = "jupyter_syft.server.execution.worker"  # run with python -m
TEMPLATE_MODULE = "jupyter_syft.server.execution.template"


class WorkerStartError(RuntimeError):
    """``reason``: the last line the worker printed (e.g. an ImportError), for the message
    of a run in an environment; it comes before any job, so it holds no data."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or "see the server's log"


class ForkedProcess:
    """A worker forked by a template (template.py), as the server sees it: the init process of
    its job sandbox (``pid``, in this process's pid namespace) and the socket on which that
    init reports the worker's wait status. Mirrors what ``Worker`` uses of ``Popen``."""

    def __init__(self, pid: int, status: socket.socket):
        self.pid = pid
        self.returncode: int | None = None
        self.lost = False  # its init ended without reporting: killed from outside
        self._status = status

    def poll(self) -> int | None:
        if self.returncode is None:
            ready, _, _ = select.select([self._status], [], [], 0)
            if ready:
                self._read()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            ready, _, _ = select.select([self._status], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired("worker", timeout or 0.0)
            self._read()
        assert self.returncode is not None
        return self.returncode

    def _read(self) -> None:
        try:
            data = self._status.recv(protocol.EXIT_STATUS.size, socket.MSG_WAITALL)
        except OSError:
            data = b""
        if len(data) == protocol.EXIT_STATUS.size:
            self.returncode = os.waitstatus_to_exitcode(protocol.EXIT_STATUS.unpack(data)[0])
        else:  # its init was killed (by us, or with the template) before it could report
            self.returncode = -signal.SIGKILL
            self.lost = True

    def close(self) -> None:
        self._status.close()


class Worker:
    """One started worker process, its end of the control socket and its private tmp."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes] | ForkedProcess,
        sock: socket.socket,
        log_file: IO[bytes],
        tmp: Path | None,
    ):
        self.proc = proc
        self.sandbox_pidfd: int | None = None  # under bwrap, set once the worker is ready
        self.sock = sock
        self._log = log_file
        self._tmp = tmp
        self._lock = threading.Lock()
        self.output = ""  # what it printed outside a job (bwrap errors, ...), read when killed
        self._discarded = False
        self.cancelled = False  # set by CodeRunner.cancel (job.kill()) before stopping it

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return not self.exited()

    def exited(self) -> bool:
        """Whether the process has ended, without reaping it: until it is reaped, its pid
        and process group id cannot be reused, so signalling them stays safe."""
        if self.proc.returncode is not None:
            return True
        if isinstance(self.proc, ForkedProcess):
            return self.proc.poll() is not None
        if not hasattr(os, "waitid"):  # macOS: reaping is the only way to ask
            return self.proc.poll() is not None
        try:
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, self.proc.pid, flags) is not None
        except ChildProcessError:
            return True

    def _killpg(self) -> None:
        if isinstance(self.proc, subprocess.Popen) and self.proc.returncode is None:
            # Not reaped yet, so the pid (and process group id) is still ours to signal.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def _kill_sandbox(self) -> bool:
        if self.sandbox_pidfd is None or self.proc.returncode is not None:
            return False
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(self.sandbox_pidfd, signal.SIGKILL)
        return True

    def _wait_exit(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.exited() and time.monotonic() < end:
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop the job's code at once: the whole sandbox, or (without bwrap) the process
        group. Reaping is ``kill``'s business."""
        with self._lock:
            if not self._kill_sandbox():
                self._killpg()

    def kill(self, grace: float = 0.0, wait: float = 5.0) -> int | None:
        """Let the worker end by itself for up to ``grace`` seconds, then kill it and its
        process group, reap it and clean up; its return code."""
        with self._lock:
            self._wait_exit(grace)
            if not self.exited() and self._kill_sandbox():
                self._wait_exit(1.0)  # bwrap exits by itself once its sandbox is gone
            # Also catches what the job forked into the group, even after the worker exited.
            self._killpg()
            try:
                code: int | None = self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                code = None
            self._cleanup()
            return code

    def discard(self, stop: bool = True) -> None:
        """Done with this worker: stop it now (or let it exit: it does right after its
        result), then reap and clean up in the background."""
        with self._lock:
            if self._discarded:
                return
            self._discarded = True
        if stop:
            self.stop()
        _reaper.put(self)

    def _cleanup(self) -> None:
        self.sock.close()
        if isinstance(self.proc, ForkedProcess):
            self.proc.close()
        if self.sandbox_pidfd is not None:
            os.close(self.sandbox_pidfd)
            self.sandbox_pidfd = None
        with contextlib.suppress(OSError, ValueError):
            self._log.seek(0)
            self.output = self._log.read(65536).decode("utf-8", "replace").strip()
            self._log.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


class _Reaper:
    """Waits for killed workers in one background thread, so jobs return without waiting."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, worker: Worker) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="syft-reaper", daemon=True)
                self._thread.start()
        self._queue.put(worker)

    def _run(self) -> None:
        while True:
            worker = self._queue.get()
            try:
                worker.kill(grace=2.0, wait=60.0)
            except Exception:
                log.exception("Could not reap worker %d", worker.pid)
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Wait until every worker handed over so far is reaped and cleaned up."""
        self._queue.join()


_reaper = _Reaper()


def start_worker(
    launcher: Launcher, work_dir: Path, timeout: float = START_TIMEOUT, nice: int = 0
) -> Worker:
    """Start a worker and wait until it has imported its libraries and is ready for a job.
    ``nice``: how much the worker lowers its own CPU priority first (it cannot raise it)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    # Startup messages (and bwrap's own errors) land in an anonymous file, read on failure.
    log_file = tempfile.TemporaryFile(dir=work_dir)  # noqa: SIM115 -- the Worker closes it
    tmp = launcher.private_tmp()
    args = [str(theirs.fileno()), owner_marker(work_dir)]  # sweep_leftover_workers finds it
    if nice > 0:
        args.append(f"--nice={int(nice)}")
    argv = launcher.worker_argv(WORKER_MODULE, args)
    try:
        proc, info_r = launcher.spawn(argv, [theirs.fileno()], log_file, tmp)
    except BaseException:
        ours.close()
        log_file.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        theirs.close()
    worker = Worker(proc, ours, log_file, tmp)
    try:
        _ready(ours, timeout)
        if info_r is not None:
            worker.sandbox_pidfd = sandbox_pidfd(info_r)
            info_r = None
    except (OSError, protocol.ProtocolError) as exc:
        if info_r is not None:
            os.close(info_r)
        code = worker.kill()
        lines = [line.strip() for line in worker.output.splitlines() if line.strip()]
        raise WorkerStartError(
            f"the worker process did not start ({exc}; exit status {code}): "
            f"{worker.output[-4000:] or 'no output'}",
            reason=lines[-1][:300] if lines else "",
        ) from None
    return worker


def _ready(sock: socket.socket, timeout: float) -> None:
    """Wait for the READY frame of a worker (or of a template)."""
    sock.settimeout(timeout)
    kind, payload, _ = protocol.recv_frame(sock)
    if kind != protocol.READY:
        raise protocol.ProtocolError(f"expected READY, got {kind!r}")
    protocol.parse_json(payload)
    sock.settimeout(None)


class TemplateUnavailable(RuntimeError):
    """The worker template cannot fork a worker now: start one the usual way."""


def templates_enabled() -> bool:
    """JUPYTER_SYFT_WORKER_TEMPLATE=0 turns the worker templates off (every worker spawned)."""
    return os.environ.get("JUPYTER_SYFT_WORKER_TEMPLATE", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


class WorkerTemplate:
    """The warm template process of one launcher (environment), from which workers are forked
    (see template.py): a worker in ~10 ms instead of ~0.5 s of CPU. Started and restarted (with
    backoff, ``RETRY_DELAYS``) by its own long-lived thread, since bwrap dies with the thread
    that started it. ``fork`` never waits for a template that is not running: it raises
    ``TemplateUnavailable`` and the caller starts a worker the usual way. Thread-safe."""

    def __init__(self, launcher: Launcher, work_dir: Path):
        self._launcher = launcher
        self._work_dir = work_dir
        self._cond = threading.Condition()
        self._request = threading.Lock()  # one FORK frame and its answer at a time
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._log: IO[bytes] | None = None
        self._pidfd: int | None = None
        self._starting = True
        self._failures = 0  # starts that failed in a row
        self._losses = 0  # times in a row it broke since a fork last worked
        self._spawning: subprocess.Popen[bytes] | None = None  # being started: close kills it
        self._closed = False
        self._warned = False
        self._thread = threading.Thread(target=self._keep, name="syft-template", daemon=True)
        self._thread.start()

    def running(self) -> bool:
        with self._cond:
            return self._sock is not None

    def fork(self, nice: int = 0, timeout: float = START_TIMEOUT) -> Worker:
        """A new worker forked from the template, READY for its job."""
        with self._cond:
            while self._starting and self._failures == 0 and not self._closed:
                self._cond.wait()  # the first start: sooner than starting a worker alone
            sock = self._sock
            if sock is None:
                raise TemplateUnavailable("the worker template is not running")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        status, status_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        status.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # the HELLO's sender
        log_file = tempfile.TemporaryFile(dir=self._work_dir)  # noqa: SIM115 -- Worker closes it
        fds = [theirs.fileno(), status_theirs.fileno(), log_file.fileno()]
        try:
            with self._request:
                protocol.send_json(sock, protocol.FORK, {"nice": max(0, int(nice))}, fds)
                kind, payload, _ = protocol.recv_frame(sock)
            answer = protocol.parse_json(payload)
        except (OSError, protocol.ProtocolError, ValueError) as exc:
            for item in (ours, status, log_file):
                item.close()
            self._lost(sock, f"it did not answer ({exc})")
            raise TemplateUnavailable(f"the worker template failed: {exc}") from None
        finally:
            theirs.close()
            status_theirs.close()
        if kind != protocol.DONE or not answer.get("ok"):
            log_file.seek(0)
            output = log_file.read(4000).decode("utf-8", "replace").strip()
            for item in (ours, status, log_file):
                item.close()
            self._lost(sock, f"{answer.get('error')}: {output}")
            raise TemplateUnavailable(f"the worker template could not fork: {output}")
        worker = self._adopt(ours, status, log_file, timeout)
        with self._cond:
            self._losses = 0
        return worker

    def _adopt(
        self, ours: socket.socket, status: socket.socket, log_file: IO[bytes], timeout: float
    ) -> Worker:
        """The forked worker: its sandbox init's pid (from the HELLO's credentials, which the
        kernel translates into our pid namespace), a pidfd on it, and its READY."""
        pid = 0
        proc = ForkedProcess(0, status)
        worker = Worker(proc, ours, log_file, None)
        try:
            status.settimeout(timeout)
            space = socket.CMSG_SPACE(struct.calcsize("3i"))
            data, ancdata, _, _ = status.recvmsg(1, space)
            status.settimeout(None)
            for level, kind, cdata in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", cdata[: struct.calcsize("3i")])[0]
            if data != protocol.HELLO or pid <= 0:
                raise protocol.ProtocolError("the worker's sandbox did not start")
            proc.pid = pid
            worker.sandbox_pidfd = os.pidfd_open(pid)
            _ready(ours, timeout)
            # The init still runs (it reports only once the worker ended), so the pidfd opened
            # above is certainly its own, not a reused pid's.
            if select.select([status], [], [], 0)[0]:
                raise protocol.ProtocolError("the worker's sandbox ended")
        except (OSError, protocol.ProtocolError) as exc:
            code = worker.kill()
            raise WorkerStartError(
                f"the forked worker did not start ({exc}; exit status {code}): "
                f"{worker.output[-4000:] or 'no output'}"
            ) from None
        return worker

    def _lost(self, sock: socket.socket, why: str) -> None:
        """The template broke: stop it; its thread starts a new one (after a pause)."""
        log.error("The worker template failed (%s): restarting it", why)
        with self._cond:
            if self._sock is sock:
                self._losses += 1
                self._stop()
            self._cond.notify_all()

    def _stop(self) -> None:
        """Kill the template's sandbox (under the condition's lock)."""
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            os.close(self._pidfd)
            self._pidfd = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        proc, self._proc = self._proc, None
        if proc is not None:
            _kill_group(proc)
            _reap_later(proc)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _keep(self) -> None:
        """The template's thread: start it, and start it again whenever it ended."""
        while True:
            with self._cond:
                while not self._closed and self._sock is not None:
                    if self._proc is not None and self._proc.poll() is not None:
                        log.error("The worker template ended (status %s)", self._proc.returncode)
                        self._losses += 1
                        self._stop()
                        break
                    self._cond.wait(1.0)
                if self._losses:  # it keeps breaking: pause before each new start
                    delay = RETRY_DELAYS[min(self._losses - 1, len(RETRY_DELAYS) - 1)]
                    end = time.monotonic() + delay
                    while not self._closed and (left := end - time.monotonic()) > 0:
                        self._cond.wait(left)
                if self._closed:
                    return
                self._starting = True
            try:
                started = self._start()
            except Exception as exc:
                delay = RETRY_DELAYS[min(self._failures, len(RETRY_DELAYS) - 1)]
                with self._cond:
                    self._failures += 1
                    self._starting = False
                    self._cond.notify_all()
                    if self._closed:  # close() killed the start
                        return
                    if not self._warned:
                        self._warned = True
                        log.warning(
                            "Workers start without a template for now (each imports its "
                            "libraries: slower); retry in %gs: %s",
                            delay,
                            exc,
                        )
                    self._cond.wait(delay)
                continue
            with self._cond:
                self._proc, self._sock, self._log, self._pidfd = started
                self._failures = 0
                self._starting = False
                self._cond.notify_all()
                if self._closed:
                    self._stop()
                    return

    def _start(
        self,
    ) -> tuple[subprocess.Popen[bytes], socket.socket, IO[bytes], int | None]:
        if self._launcher.mode != "bwrap":
            raise TemplateUnavailable("worker templates need the bubblewrap sandbox")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        log_file = tempfile.TemporaryFile(dir=self._work_dir)  # noqa: SIM115 -- kept while it runs
        args = [str(theirs.fileno()), owner_marker(self._work_dir)]
        args += [f"--rebind={path}" for path in self._launcher.tmp_rebinds()]
        argv = self._launcher.worker_argv(TEMPLATE_MODULE, args)
        try:
            proc, info_r = self._launcher.spawn(
                argv, [theirs.fileno()], log_file, None, template=True
            )
        except BaseException:
            ours.close()
            log_file.close()
            raise
        finally:
            theirs.close()
        with self._cond:
            self._spawning = proc
            if self._closed:
                _kill_group(proc)
        pidfd = None
        try:
            _ready(ours, START_TIMEOUT)
            if info_r is not None:
                pidfd, info_r = sandbox_pidfd(info_r), None
        except (OSError, protocol.ProtocolError) as exc:
            if info_r is not None:
                os.close(info_r)
            _kill_group(proc)
            proc.wait()
            log_file.seek(0)
            output = log_file.read(4000).decode("utf-8", "replace").strip()
            ours.close()
            log_file.close()
            raise TemplateUnavailable(f"the template did not start ({exc}): {output}") from None
        finally:
            with self._cond:
                self._spawning = None
        return proc, ours, log_file, pidfd

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._stop()
            if self._spawning is not None:
                _kill_group(self._spawning)
            self._cond.notify_all()
        self._thread.join(START_TIMEOUT)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.returncode is None:  # not reaped: its process group id is still its own
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def _reap_later(proc: subprocess.Popen[bytes]) -> None:
    threading.Thread(target=proc.wait, name="syft-template-reap", daemon=True).start()


def owner_marker(work_dir: Path) -> str:
    """The argument that names a worker's Datasite (by its work folder) on its command line,
    and on those of the bwrap and stage processes around it. A hash: the path stays private."""
    digest = hashlib.sha256(str(Path(work_dir).resolve()).encode()).hexdigest()[:32]
    return f"--syft-owner={digest}"


def sweep_leftover_workers(work_dir: Path, wait: float = 5.0) -> int:
    """Kill workers a previous run of this Datasite left behind (a kill -9 of the server at
    the moment one started): processes whose command line carries its owner marker, except
    this process's own. Returns how many were killed. Linux only (reads /proc)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return 0
    marker = owner_marker(work_dir).encode()
    ours = os.getpid()
    parents: dict[int, int] = {}
    found: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            stat_text = (entry / "stat").read_text()
            parents[pid] = int(stat_text.rsplit(")", 1)[1].split()[1])
            if marker in (entry / "cmdline").read_bytes().split(b"\0"):
                found.append(pid)
        except (OSError, ValueError, IndexError):
            continue
    leftovers = [pid for pid in found if not _descends_from(pid, ours, parents)]
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + wait
    while time.monotonic() < end and any(_running(pid) for pid in leftovers):
        time.sleep(0.02)
    if leftovers:
        log.warning("Killed %d worker process(es) left behind by a crash", len(leftovers))
    return len(leftovers)


def _descends_from(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    seen: set[int] = set()
    while pid > 1 and pid not in seen:
        if pid == ancestor:
            return True
        seen.add(pid)
        pid = parents.get(pid, 0)
    return False


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie is gone for our purpose: it runs nothing)."""
    try:
        stat_text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat_text.rsplit(")", 1)[1].split()[0] != "Z"


class _Shelf:
    """Ready workers of one kind, and the thread that keeps ``size`` of them."""

    def __init__(self, name: str, size: int, nice: int):
        self.name = name
        self.size = max(0, size)
        self.nice = nice
        self.ready: deque[Worker] = deque()
        self.thread: threading.Thread | None = None
        self.starting = False  # the thread is starting a worker right now


class WorkerPool:
    """Keeps ``size`` ready workers for any run and ``reserved`` more for interactive runs
    only (see the module's doc). Thread-safe."""

    def __init__(
        self,
        launcher: Launcher,
        work_dir: Path,
        size: int,
        reserved: int = 1,
        background_nice: int = BACKGROUND_NICE,
    ):
        self._launcher = launcher
        self._work_dir = work_dir
        self._background_nice = max(0, background_nice)
        self._any = _Shelf("syft-workers", size, self._background_nice)
        self._reserved = _Shelf("syft-workers-reserved", reserved, 0)
        self._closed = False
        self._cond = threading.Condition()
        self._waiting = False  # an interactive run waits for the reserved worker being started
        self._template: WorkerTemplate | None = None
        if templates_enabled() and launcher.mode == "bwrap":
            self._template = WorkerTemplate(launcher, work_dir)
        for shelf in (self._reserved, self._any):
            if shelf.size:
                # Warm workers are started from one long-lived thread per shelf: bwrap ties a
                # sandbox's life to the thread that started it (PR_SET_PDEATHSIG).
                shelf.thread = threading.Thread(
                    target=self._refill, args=(shelf,), name=shelf.name, daemon=True
                )
                shelf.thread.start()

    def acquire(self, background: bool = False) -> Worker:
        """A ready worker, or a freshly started one when none is ready (forked: ~20 ms;
        without the template ~0.5 s).

        Interactive runs take a reserved worker first, then any ready one; when there is
        none, one of them waits for the reserved worker being started, if it is (sooner than
        starting one from scratch), and the others start their own. Background runs (jobs)
        take only from the shelf for any run and start their own worker, at low priority,
        when it is empty."""
        shelves = [self._any] if background else [self._reserved, self._any]
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the code runner is closed")
                for shelf in shelves:
                    while shelf.ready:
                        worker = shelf.ready.popleft()
                        self._cond.notify_all()  # the refill thread starts a replacement
                        if worker.alive():
                            return worker
                        worker.discard()
                if background or not self._reserved.starting or self._waiting:
                    break
                self._waiting = True
                try:
                    self._cond.wait()  # woken when a worker is ready or the start failed
                finally:
                    self._waiting = False
        nice = self._background_nice if background else 0
        return self._start(nice)

    def _start(self, nice: int) -> Worker:
        """A new worker: forked from the template when it runs, else started on its own."""
        if self._template is not None:
            try:
                return self._template.fork(nice=nice)
            except (TemplateUnavailable, WorkerStartError) as exc:
                if self._closed:  # the template was closed with the pool: start nothing
                    raise RuntimeError("the code runner is closed") from None
                log.debug("Starting a worker without the template: %s", exc)
        return start_worker(self._launcher, self._work_dir, nice=nice)

    def ready_counts(self) -> tuple[int, int]:
        """How many workers are ready: (for any run, reserved for interactive runs)."""
        with self._cond:
            return len(self._any.ready), len(self._reserved.ready)

    def _refill(self, shelf: _Shelf) -> None:
        failures = 0
        while True:
            with self._cond:
                while not self._closed and len(shelf.ready) >= shelf.size:
                    self._cond.wait()
                if self._closed:
                    return
                shelf.starting = True
            try:
                worker = self._start(shelf.nice)
            except Exception as exc:
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                with self._cond:
                    shelf.starting = False
                    self._cond.notify_all()  # whoever waits for it starts its own
                    if self._closed:
                        return
                    log.error(
                        "Could not start a warm worker process (retry in %gs): %s", delay, exc
                    )
                    self._cond.wait(delay)
                continue
            failures = 0
            with self._cond:
                shelf.starting = False
                self._cond.notify_all()
                if self._closed:
                    worker.discard()
                    return
                shelf.ready.append(worker)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle = [*self._any.ready, *self._reserved.ready]
            self._any.ready.clear()
            self._reserved.ready.clear()
            self._cond.notify_all()
        # The template first: a shelf thread waiting for its first start then gives up at
        # once (closing right after launch would otherwise wait for that start, ~0.4 s).
        if self._template is not None:
            self._template.close()
        for worker in idle:
            worker.discard()
        for shelf in (self._any, self._reserved):
            if shelf.thread is not None:
                shelf.thread.join(START_TIMEOUT)
        _reaper.join()


class EnvironmentPools:
    """The warm worker pools of the environments other than the default one: at most
    ``limit`` (least recently used dropped), each with ``size`` workers for any run and
    ``reserved`` for interactive ones. ``limit`` 0: runs in those environments start their
    own worker (no warm ones). Thread-safe."""

    def __init__(
        self, launcher: Launcher, work_dir: Path, limit: int, size: int = 1, reserved: int = 1
    ):
        self._launcher = launcher
        self._work_dir = work_dir
        self.limit = max(0, limit)
        self._size = max(0, size)
        self._reserved = max(0, reserved)
        self._lock = threading.Lock()
        self._pools: OrderedDict[tuple[str, str, str], tuple[Launcher, WorkerPool]] = OrderedDict()
        self._launchers: dict[tuple[str, str, str], Launcher] = {}  # also without a pool
        # Builds whose worker did not start (e.g. a numpy the Datasite's pyarrow refuses): no
        # pool keeps retrying them; each run tries once, and a start that works heals it.
        self._broken: set[tuple[str, str, str]] = set()
        self._closed = False

    @staticmethod
    def key(env: EnvironmentRuntime) -> tuple[str, str, str]:
        return (env.name, env.lock_hash, str(env.prefix))

    def launcher(self, env: EnvironmentRuntime) -> Launcher:
        """The launcher for ``env`` (checked once per build: raises SandboxUnavailable)."""
        key = self.key(env)
        with self._lock:
            found = self._launchers.get(key)
        if found is None:
            found = self._launcher.for_environment(env)
            with self._lock:
                self._launchers = {k: v for k, v in self._launchers.items() if k[0] != env.name}
                self._launchers[key] = found
        return found

    def acquire(self, env: EnvironmentRuntime, background: bool = False) -> Worker:
        """A worker of ``env``: a warm one if its pool has one, else a freshly started one
        (and the pool, made now if it was not there, warms up for the next run)."""
        launcher = self.launcher(env)
        key = self.key(env)
        nice = BACKGROUND_NICE if background else 0
        with self._lock:
            broken = key in self._broken
        if self.limit == 0 or broken:
            worker = start_worker(launcher, self._work_dir, nice=nice)
            with self._lock:
                self._broken.discard(key)
            return worker
        pool = self._pool(env, launcher)
        try:
            return pool.acquire(background=background)
        except WorkerStartError:
            self._drop(key)
            raise
        except RuntimeError:  # its pool was dropped just now (another environment's turn)
            with self._lock:
                if self._closed:
                    raise
            return start_worker(launcher, self._work_dir, nice=nice)

    def _drop(self, key: tuple[str, str, str]) -> None:
        """A build whose worker did not start: close its pool (it would retry forever)."""
        with self._lock:
            self._broken.add(key)
            while len(self._broken) > 1000:
                self._broken.pop()
            entry = self._pools.pop(key, None)
        if entry is not None:
            threading.Thread(target=entry[1].close, name="syft-pool-close", daemon=True).start()

    def _pool(self, env: EnvironmentRuntime, launcher: Launcher) -> WorkerPool:
        key = self.key(env)
        dropped: list[WorkerPool] = []
        with self._lock:
            if self._closed:
                raise RuntimeError("the code runner is closed")
            entry = self._pools.get(key)
            if entry is not None:
                self._pools.move_to_end(key)
                return entry[1]
            # An older build of the same environment: its workers have the old packages.
            for old in [k for k in self._pools if k[0] == env.name]:
                dropped.append(self._pools.pop(old)[1])
            while len(self._pools) >= self.limit:
                dropped.append(self._pools.popitem(last=False)[1][1])
            pool = WorkerPool(launcher, self._work_dir, self._size, self._reserved)
            self._pools[key] = (launcher, pool)
        for old_pool in dropped:  # closing waits for starting workers: not on this thread
            threading.Thread(target=old_pool.close, name="syft-pool-close", daemon=True).start()
        return pool

    def warm(self) -> list[str]:
        """The environments with a pool, least recently used first."""
        with self._lock:
            return [key[0] for key in self._pools]

    def ready_counts(self, env: EnvironmentRuntime) -> tuple[int, int]:
        with self._lock:
            entry = self._pools.get(self.key(env))
        return (0, 0) if entry is None else entry[1].ready_counts()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools = [pool for _, pool in self._pools.values()]
            self._pools.clear()
        for pool in pools:
            pool.close()
