"""The Jupyter Server config of tests that host a Datasite in the server extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def extension_config(data_dir: Path, name: str, **syft: Any) -> dict[str, Any]:
    """pytest-jupyter's ``jp_server_config``: jupyter_syft enabled, no anonymous access, and
    a Datasite ``name`` in ``data_dir`` with the given ``SyftExtension`` settings."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_syft": True},
            "allow_unauthenticated_access": False,
        },
        "SyftExtension": {"datasite_name": name, "data_dir": str(data_dir), **syft},
    }
