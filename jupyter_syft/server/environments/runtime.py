"""What a run needs to know about the environment its code asked for.

The builder (``jupyter_syft.server.environments``) makes these; the execution layer
(``jupyter_syft.server.execution``) only reads them. ``None`` in place of a runtime means the
Datasite's default environment: its own interpreter and packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EnvironmentRuntime:
    """A built, ready environment: a uv virtual environment at ``prefix``.

    ``site_packages`` is the folder its packages were installed into; runs see it read-only.
    ``lock_hash`` is the sha256 of its lock (the resolved, pinned requirements): every execution
    records it, so an audit can say exactly which packages a result came from.
    """

    name: str
    prefix: Path
    python: Path
    site_packages: Path
    lock_hash: str
