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


def find() -> dict[str, Any]:
    """The connection info of the JupyterLab that started this kernel (or the only one running)."""
    named = os.environ.get(ENV_VAR)
    candidates = [Path(named)] if named else _running_files()
    for path in candidates:
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if _alive(int(info.get("pid", 0))):
            return dict(info)
    raise SyftException(
        "No Datasite hosted by a running JupyterLab was found. sy.login_local() works in a "
        "kernel started by a JupyterLab that has jupyter_syft installed; elsewhere use "
        "sy.login(url=..., email=..., password=...)."
    )


def _running_files() -> list[Path]:
    from jupyter_core.paths import jupyter_runtime_dir

    files = Path(jupyter_runtime_dir()).glob(f"{PREFIX}*.json")
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


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
