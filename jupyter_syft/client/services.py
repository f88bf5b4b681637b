"""PySyft's discoverable namespace, ``client.api.services.<service>.<method>`` (also
``client.services``): each service names the PySyft methods tutorials call and hands out the
matching method of our collection, so ``?`` shows its docstring and ``<TAB>`` lists them."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..errors import SyftException
from . import eager, networks

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
        adapter = ADAPTERS.get(self._target)
        target = adapter(self._client) if adapter else getattr(self._client, self._target)
        found = getattr(target, self._methods[name] or name)
        return ServiceMethod(f"{self._name}.{name}", found) if callable(found) else found

    def __dir__(self) -> list[str]:
        return sorted(self._methods)

    def __repr__(self) -> str:
        return f"<service {self._name}: {', '.join(sorted(self._methods))}>"


class ServiceMethod:
    """A service's method: calls ours; ``?`` and Shift-Tab show its docstring and signature,
    and its repr names it (a bound method's repr would list the whole collection)."""

    def __init__(self, name: str, method: Callable[..., Any]):
        self._name = name
        self.__wrapped__ = method  # inspect.signature follows it
        self.__doc__ = method.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self) -> str:
        try:
            signature = str(inspect.signature(self.__wrapped__))
        except (TypeError, ValueError):
            signature = "(...)"
        return f"<service method {self._name}{signature}>"


def _same(*names: str) -> dict[str, str | None]:
    return dict.fromkeys(names)


class CodeHistoryService:
    """PySyft's ``code_history`` service over ``client.code_history`` / ``code_histories``."""

    def __init__(self, client: DatasiteClient):
        self._client = client

    def get_history(self) -> Any:
        """Your functions' versions, by function name (``client.code_history``)."""
        return self._client.code_history

    def get_histories(self) -> Any:
        """Every scientist's function versions, by email (owners; ``client.code_histories``)."""
        return self._client.code_histories

    def get_history_for_user(self, email: str) -> Any:
        """One scientist's function versions, by function name (owners)."""
        return self._client.code_histories[email]


# Services that are not one collection of the client: built from the client on use.
ADAPTERS: dict[str, Callable[[DatasiteClient], Any]] = {"code_history": CodeHistoryService}

# service name -> (attribute of DatasiteClient or ADAPTERS key, PySyft method -> our method)
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
    "settings": (
        "settings",
        _same(
            "get",
            "update",
            "set",
            "allow_guest_signup",
            "welcome_preview",
            "welcome_customize",
            "welcome_show",
            "enable_notifications",
            "disable_notifications",
        ),
    ),
    "data_subject": (
        "data_subject_registry",
        {**_same("get_all", "get_by_name", "get_members"), "add": "add_data_subject"},
    ),
    "code_history": (
        "code_history",
        _same("get_history", "get_histories", "get_history_for_user"),
    ),
    "job": ("jobs", _same("get_all", "get_by_id")),
    "output": ("outputs", _same("get_all", "held", "released", "withheld")),
    "audit": ("audit", _same("events", "verify", "checkpoint", "export")),
    "notifications": (
        "notifications",
        _same(
            "get_all",
            "get_all_read",
            "get_all_unread",
            "mark_as_read",
            "mark_as_unread",
            "user_settings",
            "activate",
            "deactivate",
        ),
    ),
}
SERVICES["notification"] = SERVICES["notifications"]  # PySyft's service is named both ways
# PySyft services whose feature is not here (yet): what to do instead.
NOT_HERE = {
    "action": eager.SYFT_FUNCTION_WAY,
    "network": "Gateways (PySyft's networks of Datasites) are not part of jupyter_syft. "
    + networks.DIRECT_WAY,
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
        self._client = client
        self.services = Services(client)

    @property
    def lib(self) -> Callable[..., Any]:
        eager.refuse("client.api.lib")

    def __getattr__(self, name: str) -> Service:
        """``client.api.code`` is ``client.api.services.code``, as in PySyft."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.services, name)

    def __dir__(self) -> list[str]:
        return ["lib", "services", *dir(self.services)]

    def __repr__(self) -> str:
        """The available API: each service and its methods (``client.api.<service>.<m>``)."""
        lines = [f"{name}: {', '.join(dir(getattr(self.services, name)))}" for name in SERVICES]
        return "client.api.services\n  " + "\n  ".join(lines)
