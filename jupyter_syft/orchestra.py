"""``jupyter_syft.orchestra``: where ``sy.orchestra`` lived before the hosts moved to
``jupyter_syft/hosts/``; its names stay importable from here."""

from .hosts.bootstrap import datasite_folder, datasites_root
from .hosts.orchestra import (
    DEFAULT_ROOT_EMAIL,
    DEFAULT_ROOT_PASSWORD,
    ServerHandle,
    _running,
    launch,
    orchestra,
)

__all__ = [
    "DEFAULT_ROOT_EMAIL",
    "DEFAULT_ROOT_PASSWORD",
    "ServerHandle",
    "_running",
    "datasite_folder",
    "datasites_root",
    "launch",
    "orchestra",
]
