"""First step of starting a worker: ``python -I -S stage.py CONFIG CMD...``.

Every worker: from here on it dies with the server (PR_SET_PDEATHSIG), and if the server is
already gone (it died between forking this process and this point) it does not start at all.
Otherwise a worker started at the moment of a kill -9 would outlive the server.

As root: when the server runs as root but its Python lives in a folder the worker's uid
cannot enter (pyenv under /root, mode 0700, is the usual case), neither the worker's
interpreter nor bubblewrap, which runs as that uid, could start. Still root, this step
enters a private mount namespace, covers each such folder with an empty read-only tmpfs,
binds back only the Python folders listed in CONFIG, then drops to the worker's uid and gid
for good and executes CMD. The host's mounts are untouched, and everything else in those
folders stays invisible.

Environments: the folders in ``ro_binds`` (an environment's prefix) are bound onto themselves
(or back into a cover) read-only, so a worker without bubblewrap cannot change them either,
even where their files are writable for it (uv leaves a world-writable ``.lock`` there).

CONFIG is JSON: ``{"parent": pid, "uid": int, "gid": int, "cover": [folder, ...],
"binds": [folder, ...], "ro_binds": [folder, ...]}``; all optional (no uid: keep this one).
Run as a script (standard library only, no site-packages) so it starts in a few ms.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1
SIGKILL = 9
PARENT_GONE = 125  # exit status when the server died before the worker could start


def _fail(what: str) -> None:
    err = ctypes.get_errno()
    sys.stderr.write(f"jupyter_syft worker stage: {what}: {os.strerror(err)}\n")
    sys.exit(126)


def main(argv: list[str]) -> None:
    config = json.loads(argv[0])
    command = argv[1:]
    cover: list[str] = config.get("cover", [])
    ro_binds: list[str] = config.get("ro_binds", [])
    if cover or ro_binds:
        libc = ctypes.CDLL(None, use_errno=True)

        def mount(
            source: str | None, target: str, fstype: str | None, flags: int, data: str | None
        ) -> None:
            args = [None if s is None else s.encode() for s in (source, target, fstype, data)]
            if libc.mount(args[0], args[1], args[2], ctypes.c_ulong(flags), args[3]) != 0:
                _fail(f"mount {target}")

        os.umask(0o022)  # the folders made below must be enterable by the worker's uid
        if libc.unshare(CLONE_NEWNS) != 0:
            _fail("unshare(CLONE_NEWNS)")
        mount(None, "/", None, MS_REC | MS_PRIVATE, None)  # nothing below leaks to the host
        # Open the folders first: once covered, their paths lead into the empty tmpfs.
        binds = [
            (path, os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
            for path in [*config.get("binds", []), *ro_binds]
        ]
        for folder in cover:
            mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        for path, fd in binds:
            os.makedirs(path, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
            os.close(fd)
        for path in ro_binds:
            flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
            mount(None, path, None, flags, None)
        for folder in cover:
            mount(None, folder, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
    if "uid" in config:
        os.setgroups([])
        os.setresgid(config["gid"], config["gid"], config["gid"])
        os.setresuid(config["uid"], config["uid"], config["uid"])
    if config.get("parent") is not None:
        _die_with(int(config["parent"]))
    os.execv(command[0], command)  # noqa: S606 -- an absolute path built by sandbox.py


def _die_with(parent: int) -> None:
    """Die with the server from now on: set after the uid change (which clears it) and kept
    across execv (neither bwrap nor python is set-uid). Then check the server is still our
    parent: if it died before this, no signal will ever come."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0:
        _fail("prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:
        os._exit(PARENT_GONE)


if __name__ == "__main__":
    main(sys.argv[1:])
