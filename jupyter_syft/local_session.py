"""How a kernel finds the Datasite of the JupyterLab that started it, for ``sy.login_local()``.

The server extension writes a connection file (URL and an owner token, mode 0600) into
Jupyter's runtime folder and names it in ``$JUPYTER_SYFT_CONNECTION_FILE``. Kernels inherit the
server's environment, so a kernel started by that JupyterLab knows its file without asking.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import SyftException

ENV_VAR = "JUPYTER_SYFT_CONNECTION_FILE"
PREFIX = "jupyter_syft-"


def connection_file(runtime_dir: str | Path, pid: int | None = None) -> Path:
    return Path(runtime_dir) / f"{PREFIX}{pid or os.getpid()}.json"


def write(path: Path, info: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds an owner token
    with os.fdopen(fd, "w") as f:
        json.dump(info, f)
    os.replace(tmp, path)


MAX_URL = 2000  # characters of a url= argument


def find(url: str | None = None) -> dict[str, Any]:
    """The connection info of the JupyterLab that started this kernel; outside such a kernel,
    of the only JupyterLab Datasite running on this machine, or of the one at ``url``.

    Several running and no ``url``: refused, listing them (joining the most recent one as its
    owner without a word would act on a Datasite the user may not mean). The answer's
    ``"how"`` says which way it was found, for the login message."""
    named = os.environ.get(ENV_VAR)
    if url is not None:
        if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL:
            raise SyftException(
                "login_local(url=...) takes the URL of a JupyterLab on this machine, "
                "e.g. 'http://127.0.0.1:8888/'."
            )
        wanted = _same_url(url)
        running = _running()
        for info in running:
            if _same_url(str(info.get("url", ""))) == wanted:
                return dict(info, how="the URL you gave")
        raise SyftException(
            f"No JupyterLab Datasite at {url[:200]} is running on this machine. "
            + _listing(running)
        )
    if named:
        own = _read(Path(named))
        if own is not None and _alive(int(own.get("pid", 0))):
            return dict(own, how="the JupyterLab that started this kernel")
    running = _running()
    if len(running) == 1:
        return dict(running[0], how="the only JupyterLab Datasite running on this machine")
    if not running:
        raise SyftException(
            "No Datasite hosted by a running JupyterLab was found. sy.login_local() works in a "
            "kernel started by a JupyterLab that has jupyter_syft installed; elsewhere use "
            "sy.login(url=..., email=..., password=...)."
        )
    raise SyftException(
        "This kernel was not started by a JupyterLab, and several JupyterLab Datasites are "
        f"running here. {_listing(running)} Say which: sy.login_local(url=...)."
    )


def _listing(running: list[dict[str, Any]]) -> str:
    if not running:
        return "None is running."
    urls = ", ".join(str(info.get("url", "?")) for info in running[:10])
    return f"Running: {urls}."


def _same_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


def _read(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _running() -> list[dict[str, Any]]:
    """Connection info of every JupyterLab Datasite running, newest first."""
    found = []
    for path in _running_files():
        info = _read(path)
        if info is not None and _alive(int(info.get("pid", 0))):
            found.append(info)
    return found


def _running_files() -> list[Path]:
    from jupyter_core.paths import jupyter_runtime_dir

    files = []
    for path in Path(jupyter_runtime_dir()).glob(f"{PREFIX}*.json"):
        try:
            files.append((path.stat().st_mtime, path))
        except OSError:  # removed meanwhile: that JupyterLab stopped
            continue
    return [path for _mtime, path in sorted(files, reverse=True)]


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
