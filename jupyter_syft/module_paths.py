"""PySyft's module paths as attributes: ``sy.service.project.project.Project`` and the like.

PySyft tutorials reach some classes through their module path, mostly in ``isinstance``
checks. jupyter_syft has all its names at the top level (``sy.Project``...); this maps the
paths those tutorials use onto them. A path or name not listed says where to look instead.
"""

from __future__ import annotations

import importlib
from typing import Any, NoReturn

from .errors import SyftException

# PySyft module path (under ``syft.``) -> PySyft name -> "our module:our name"
MODULES: dict[str, dict[str, str]] = {
    "service.project.project": {
        "Project": "client.projects:RemoteProject",  # a sent project
        "ProjectSubmit": "client.projects:Project",  # sy.Project(...), before send()
        "ProjectRequest": "client.projects:ProjectRequest",
    },
    "service.request.request": {
        "Request": "client.requests:RequestView",
        "RequestStatus": "client.statuses:RequestStatus",
    },
    "service.code.user_code": {
        "UserCode": "client.user_code:UserCodeView",
        "UserCodeStatus": "client.statuses:UserCodeStatus",
        "SubmitUserCode": "client.syft_function:SyftFunction",
    },
    "service.user.user_roles": {"ServiceRole": "roles:ServiceRole"},
    "service.user.user": {"UserCreate": "client.users:UserCreate"},
    "service.response": {
        "SyftSuccess": "errors:SyftSuccess",
        "SyftError": "errors:SyftError",
        "SyftWarning": "errors:SyftWarning",
        "SyftInfo": "errors:SyftInfo",
    },
    "service.job.job_stash": {
        "Job": "client.jobs:Job",
        "JobStatus": "client.statuses:JobStatus",
    },
    "service.action.action_object": {"ActionObject": "action_object:ActionObject"},
    "service.dataset.dataset": {
        "CreateDataset": "client.dataset_authoring:Dataset",
        "CreateAsset": "client.dataset_authoring:Asset",
        "Contributor": "client.contributor:Contributor",
    },
}
# every prefix of a listed path ("service", "service.project", ...)
_PACKAGES = {
    ".".join(parts[:i])
    for path in MODULES
    for parts in [path.split(".")]
    for i in range(1, len(parts))
}


class ModulePath:
    """One of PySyft's module paths (``sy.service.project``): its attributes are the next
    path segments, or, on a module, the names it holds."""

    def __init__(self, path: str):
        self._path = path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        path = f"{self._path}.{name}"
        if path in MODULES or path in _PACKAGES:
            return ModulePath(path)
        target = MODULES.get(self._path, {}).get(name)
        if target is None:
            raise AttributeError(
                f"syft.{path} is PySyft's; jupyter_syft has its names at the top level "
                f"(sy.{name}, if it has one: dir(sy) lists them)."
            )
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(f".{module_name}", __package__), attr)

    def __dir__(self) -> list[str]:
        children = {
            p[len(self._path) + 1 :].split(".")[0]
            for p in (*MODULES, *_PACKAGES)
            if p.startswith(self._path + ".")
        }
        return sorted(children | set(MODULES.get(self._path, {})))

    def __repr__(self) -> str:
        return f"<PySyft module path syft.{self._path} (jupyter_syft names)>"


service = ModulePath("service")


# PySyft's internal names that its notebooks import (``from syft import UID``): not here, on
# purpose; importing one says so and what to use instead.
INTERNALS: dict[str, str] = {
    "UID": "ids here are plain strings (asset.id, request.id, code.id)",
    "AuthedServiceContext": (
        "user code and policies never reach the server here: a custom policy runs in the "
        "Datasite's sandbox and gets plain values (see sy.CustomInputPolicy's docstring)"
    ),
    "ServerType": "every jupyter_syft server is a Datasite",
    "TwinMode": (
        "private data and mocks are separate here: asset.data (owners), asset.mock, and "
        "approved code runs on the private data in the Datasite's sandbox"
    ),
}


def refuse_internal(name: str) -> NoReturn:
    raise SyftException(
        f"sy.{name} is part of PySyft's internals, which jupyter_syft does not copy: "
        f"{INTERNALS[name]}."
    )
