"""PySyft's discoverable namespace, ``client.api.services.<service>.<method>`` (also
``client.services``): each service names the PySyft methods tutorials call and hands out the
matching method of our collection, so ``?`` shows its docstring and ``<TAB>`` lists them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import SyftException
from . import eager

# The client (``client.DatasiteClient``) is typed Any here: it imports this module.
DatasiteClient = Any


class Service:
    """One PySyft service: ``methods`` maps PySyft's method names to (attribute of the client,
    method of that object); ``None`` as the method hands out the object's attribute itself."""

    def __init__(
        self, client: DatasiteClient, name: str, target: str, methods: dict[str, str | None]
    ):
        self._client = client
        self._name = name
        self._target = target
        self._methods = methods

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._methods:
            known = ", ".join(sorted(self._methods))
            raise AttributeError(
                f"client.api.services.{self._name} has no method {name!r}; it has {known}."
            )
        target = getattr(self._client, self._target)
        return getattr(target, self._methods[name] or name)

    def __dir__(self) -> list[str]:
        return sorted(self._methods)

    def __repr__(self) -> str:
        return f"<service {self._name}: {', '.join(sorted(self._methods))}>"


def _same(*names: str) -> dict[str, str | None]:
    return dict.fromkeys(names)


# service name -> (attribute of DatasiteClient, PySyft method -> our method)
SERVICES: dict[str, tuple[str, dict[str, str | None]]] = {
    "user": (
        "users",
        {
            **_same("get_all", "get_current_user", "search", "update", "delete", "create"),
            "get_by_id": "__getitem__",
        },
    ),
    "dataset": (
        "datasets",
        {**_same("get_all", "get_by_id", "search", "delete"), "get_by_name": "__getitem__"},
    ),
    "code": ("code", _same("get_all", "get_by_id", "submit", "request_code_execution")),
    "request": (
        "requests",
        _same(
            "get_all",
            "get_by_id",
            "get_all_pending",
            "get_all_approved",
            "get_all_rejected",
            "get_by_usercode_id",
        ),
    ),
    "project": ("projects", {**_same("get_all", "get_by_name"), "get_by_uid": "get_by_name"}),
    "settings": ("settings", _same("get", "update", "allow_guest_signup")),
    "data_subject": (
        "data_subject_registry",
        {**_same("get_all", "get_by_name", "get_members"), "add": "add_data_subject"},
    ),
    "job": ("jobs", _same("get_all", "get_by_id")),
    "output": ("outputs", _same("get_all", "held", "released", "withheld")),
    "audit": ("audit", _same("events", "verify", "checkpoint", "export")),
}
# PySyft services whose feature is not here (yet): what to do instead.
NOT_HERE = {
    "notification": "The notification inbox is not on this Datasite yet; list "
    "client.requests (owners) or your jobs' status (scientists).",
    "action": eager.SYFT_FUNCTION_WAY,
    "worker": "Code runs in the Datasite's sandboxed workers; there are no worker pools to manage.",
    "worker_image": "Code runs in the Datasite's sandboxed workers; there are no images.",
}


class Services:
    """``client.api.services``: PySyft's services, by name (``dir()`` lists them)."""

    def __init__(self, client: DatasiteClient):
        self._client = client

    def __getattr__(self, name: str) -> Service:
        if name in SERVICES:
            target, methods = SERVICES[name]
            return Service(self._client, name, target, methods)
        if name in NOT_HERE:
            raise SyftException(f"client.api.services.{name}: {NOT_HERE[name]}")
        raise AttributeError(
            f"There is no service {name!r}; the services are {', '.join(sorted(SERVICES))}."
        )

    def __dir__(self) -> list[str]:
        return sorted(SERVICES)

    def __repr__(self) -> str:
        return f"<services: {', '.join(sorted(SERVICES))}>"


class PySyftAPI:
    """``client.api``: ``services`` (PySyft's namespace) and ``lib`` (eager execution,
    which jupyter_syft does not have: it says what to do instead)."""

    def __init__(self, client: DatasiteClient):
        self.services = Services(client)

    @property
    def lib(self) -> Callable[..., Any]:
        eager.refuse("client.api.lib")
