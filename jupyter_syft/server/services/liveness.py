"""Which Datasite process holds something, and whether that process is still alive.

Several Datasite processes may share one PostgreSQL database. A process that starts must give
back only what dead processes held (a run claimed by a process killed with -9), never what a
live one on this or another host is still using.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path


def identity(pid: int | None = None) -> str:
    """This process (or process ``pid`` of this host): host, boot, pid and start time (a pid
    alone is reused)."""
    pid = os.getpid() if pid is None else pid
    return json.dumps([socket.gethostname(), _boot_id(), pid, _start_time(pid)])


def is_alive(owner: str) -> bool:
    """Whether the process ``identity()`` gave ``owner`` may still run. Unknown (another host,
    a malformed value from an older version is not: it is gone) counts as alive."""
    try:
        host, boot, pid, start = json.loads(owner)
        pid = int(pid)
    except (ValueError, TypeError):
        return False
    if host != socket.gethostname():
        return True  # another machine's: only it can tell
    if boot and boot != _boot_id():
        return False  # from before a reboot
    if start:
        return _start_time(pid) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "" if unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""
