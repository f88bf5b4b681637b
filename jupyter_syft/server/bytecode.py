"""Compiled bytecode of jupyter_syft, for the worker processes.

Workers start with ``python -B``: they must never write into the installation. So a module
whose ``__pycache__`` file is missing or out of date is compiled from source at every worker
start (~0.14 s of a 0.48 s start for the whole package). ``scripts/setup.sh`` compiles the
package once; a Datasite checks at start-up, in the background, and compiles what is stale
when the package's folder is writable (an edited checkout), in a low-priority process of its
own so that neither its requests nor its first workers wait for it.

The files are written with umask 022: workers run as another uid (65534 under root), and a
``__pycache__`` they cannot read is one they silently compile around.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("jupyter_syft.server")

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../jupyter_syft
# Run as ``python -c COMPILE DIR``: lower our priority, let what we write be readable by the
# workers' uid, compile what is stale (compileall checks each file's source mtime and size).
COMPILE = (
    "import compileall, os, sys\n"
    "os.nice(10)\n"
    "os.umask(0o022)\n"
    "sys.exit(0 if compileall.compile_dir(sys.argv[1], quiet=2, workers=0) else 1)\n"
)


def stale_modules(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The package's modules without an up-to-date compiled file (as ``compileall`` judges:
    the magic number, and the source's mtime and size in the header)."""
    stale = []
    for source in package_dir.rglob("*.py"):
        if not _up_to_date(source):
            stale.append(source)
    return stale


def _up_to_date(source: Path) -> bool:
    try:
        st = source.stat()
        with open(importlib.util.cache_from_source(str(source)), "rb") as pyc:
            header = pyc.read(16)
    except OSError:
        return False
    expected = (
        importlib.util.MAGIC_NUMBER
        + (0).to_bytes(4, "little")  # flags: timestamp-based
        + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    )
    return header == expected


def compile_stale(package_dir: Path = PACKAGE_DIR) -> subprocess.Popen[bytes] | None:
    """Start compiling the package in the background if something is stale and we may write
    there; the process (to wait for or ignore), or None when there is nothing to do."""
    if not os.access(package_dir, os.W_OK):
        return None  # an installation we may not write to: its installer compiled it
    stale = stale_modules(package_dir)
    if not stale:
        return None
    log.info("Compiling %d module(s) of %s for the workers", len(stale), package_dir)
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-c", COMPILE, str(package_dir)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:  # the workers compile from source, as without this
        log.warning("Could not compile %s: %s", package_dir, exc)
        return None
