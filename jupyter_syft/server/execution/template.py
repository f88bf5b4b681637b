"""The worker template: a sandboxed process that has imported everything a worker needs and
forks workers on request, so a job starts in milliseconds instead of ~0.5 s of imports.

The code runner (``pool.WorkerTemplate``) starts it exactly like a worker (same uid, same
bubblewrap sandbox, hidden folders and binds), except that bubblewrap lets it create user
namespaces: ``python -I -B -m jupyter_syft.server.execution.template FD [--syft-owner=...]``.
It imports numpy, pandas and pyarrow, reports READY and serves FORK frames on FD. It never
receives job data and never runs user code: each worker is a fresh fork of this pristine
process, so nothing of one job reaches the next.

A FORK frame carries three descriptors: the new worker's end of its control socket, the end
of a status socket, and a log file for what it prints before its job. For each:

- the template forks C, which enters new user, mount, pid, ipc, network, uts and cgroup
  namespaces and forks S (pid 1 of the new pid namespace, the job sandbox's init), then exits;
- S maps its uid (65534 onto itself), makes every mount private, mounts its own empty
  size-limited tmpfs on /tmp and /dev/shm and a /proc that shows only its own namespace, sets
  ``user.max_user_namespaces`` to 0 (the job cannot create user namespaces), says hello on
  the status socket (the kernel attaches S's pid as the server sees it: SCM_CREDENTIALS), and
  forks W, the worker. S then closes every other descriptor, drops all capabilities, waits
  for W and reports W's wait status on the status socket. When S ends, the kernel kills
  everything left in its pid namespace, so the server ends a job's sandbox by killing S.
- W closes every descriptor but its socket and log, drops all capabilities (bounding set
  too) with no_new_privs, reseeds numpy's global generator (forks share the template's), and
  runs the worker's loop (``worker.serve``): READY, one job under its limits, DONE, exit.

A job thus has its own namespaces (its own user namespace: RLIMIT_NPROC counts its own
processes only), its own /tmp, no capabilities, and cannot see the template or another job:
their pids live in other pid namespaces, and every process is non-dumpable.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import signal
import socket
import sys
import traceback
from typing import NoReturn

from jupyter_syft.server.execution import protocol, worker

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACES = (
    CLONE_NEWUSER
    | CLONE_NEWNS
    | CLONE_NEWPID
    | CLONE_NEWIPC
    | CLONE_NEWNET
    | CLONE_NEWUTS
    | CLONE_NEWCGROUP
)
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_CAP_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


class SetupError(RuntimeError):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        raise SetupError(f"{what}: {os.strerror(ctypes.get_errno())}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    args = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    _check(
        _libc.mount(args[0], args[1], args[2], ctypes.c_ulong(flags), args[3]), f"mount {target}"
    )


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def drop_capabilities() -> None:
    """No capabilities from here on, none to gain back (bounding set, ambient, no_new_privs)."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: twice 32 bits, all 0
    _check(_libc.capset(header, data), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _close_all_but(keep: set[int]) -> None:
    start = 0
    for fd in sorted(keep):
        if fd > start:  # closerange(n, n) would close every descriptor (close_range(n, -1))
            os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, 1 << 16)


def _enter_sandbox(uid: int, gid: int, rebinds: list[str]) -> None:
    """In S (pid 1 of the new namespaces, all capabilities in its own user namespace).
    ``rebinds``: folders in /tmp that bubblewrap bound back (a Python installation, an
    environment): bound back again, read-only, into the new /tmp."""
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # its /proc/self files must be its own to write
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1\n")
    _write("/proc/self/gid_map", f"{gid} {gid} 1\n")
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    from jupyter_syft.server.execution.sandbox import SHM_BYTES, TMP_BYTES

    tmpfs = MS_NOSUID | MS_NODEV
    # Opened first: once /tmp is covered, their paths lead into the empty tmpfs.
    kept = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)) for path in rebinds]
    _mount("tmpfs", "/tmp", "tmpfs", tmpfs, f"size={TMP_BYTES},mode=1777")  # noqa: S108
    for path, fd in kept:
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
        _mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | tmpfs, None)
        os.close(fd)
    _mount("tmpfs", "/dev/shm", "tmpfs", tmpfs, f"size={SHM_BYTES},mode=1777")  # noqa: S108
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    _write("/proc/sys/user/max_user_namespaces", "0")  # no user namespace inside the job
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    os.chdir("/tmp")  # noqa: S108


def _init(status: socket.socket, sock: int, log: int, nice: int, rebinds: list[str]) -> NoReturn:
    """S: set up the job's sandbox, fork the worker, report its end."""
    try:
        _enter_sandbox(os.getuid(), os.getgid(), rebinds)
        status.send(protocol.HELLO)
        pid = os.fork()
        if pid == 0:
            status.close()
            _worker(sock, log, nice)
        # As init it gets only the signals it handles from inside its namespace: none, so
        # the job cannot end it (its own end is the job's business, reported as such).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _close_all_but({status.fileno(), 1, 2})
        drop_capabilities()
        while True:  # as init, also reaps what the job left behind
            done, code = os.wait()
            if done == pid:
                break
        with contextlib.suppress(OSError):
            status.send(protocol.EXIT_STATUS.pack(code))
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
            sys.stderr.flush()
    os._exit(0)


def _worker(sock: int, log: int, nice: int) -> NoReturn:
    """W: the worker, as if just started."""
    try:
        os.dup2(log, 1)
        os.dup2(log, 2)
        _close_all_but({0, 1, 2, sock})
        signal.signal(signal.SIGINT, signal.default_int_handler)
        drop_capabilities()
        if nice > 0:
            os.nice(nice)
        worker.harden()
        import numpy

        numpy.random.seed()  # a fresh seed, not the template's (forks share its state)
        worker.serve(socket.socket(fileno=sock))  # exits by itself
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
            sys.stderr.flush()
    os._exit(1)


def _fork(fds: list[int], nice: int, rebinds: list[str]) -> str | None:
    """Fork one worker (C -> S -> W); None, or why it failed (printed by C)."""
    sock, status_fd, log = fds
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # C
        try:
            os.dup2(log, 1)
            os.dup2(log, 2)
            _check(_libc.unshare(NAMESPACES), "unshare")
            if os.fork() == 0:
                _init(socket.socket(fileno=status_fd), sock, log, nice, rebinds)
            os._exit(0)
        except BaseException as exc:
            with contextlib.suppress(BaseException):
                sys.stderr.write(f"jupyter_syft worker template: {exc}\n")
                sys.stderr.flush()
            os._exit(1)
    _, code = os.waitpid(pid, 0)
    if code != 0:
        return f"the template's fork failed (status {code}): see the worker's output"
    return None


def main(argv: list[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(args[0]))
    rebinds = [a.removeprefix("--rebind=") for a in args[1:] if a.startswith("--rebind=")]
    worker.harden()
    worker.preload()
    # Objects of the imports are never collected: keeps the collector off their pages, which
    # each fork then shares with the template instead of copying on its first collection.
    gc.freeze()
    protocol.send_json(control, protocol.READY, {"pid": os.getpid()})
    while True:
        try:
            kind, payload, fds = protocol.recv_frame(control, max_fds=3)
        except (OSError, protocol.ProtocolError):
            os._exit(0)  # the server closed the template
        try:
            if kind != protocol.FORK or len(fds) != 3:
                error: str | None = "expected a FORK frame with three descriptors"
            else:
                nice = int(json.loads(payload).get("nice", 0))
                error = _fork(fds, nice, rebinds)
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        protocol.send_json(control, protocol.DONE, {"ok": error is None, "error": error})


if __name__ == "__main__":
    main()
