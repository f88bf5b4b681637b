"""PySyft's networks (gateways, enclaves, routes between servers) are not part of
jupyter_syft: it runs Datasites, and a scientist connects to each Datasite directly. These
names exist so that PySyft code reaching them learns that, and what to do instead."""

from __future__ import annotations

from typing import NoReturn

from ..errors import SyftException

DIRECT_WAY = (
    "Connect to each Datasite directly instead:\n"
    '    client = sy.login(url="http://host:port", email=..., password=...)\n'
    "and find its data with client.datasets.search(name)."
)


def refuse(name: str) -> NoReturn:
    raise SyftException(
        f"{name} is part of PySyft's networks of servers (gateways, enclaves), "
        f"which jupyter_syft does not have: it runs Datasites only.\n{DIRECT_WAY}"
    )


# Attributes of PySyft's client that join or use a network.
CLIENT_NAMES = frozenset({"connect_to_gateway", "exchange_route", "peers", "associations"})
# ``sy.orchestra.launch(server_type=...)`` values that are not a Datasite.
SERVER_TYPES = frozenset({"gateway", "network", "enclave"})
