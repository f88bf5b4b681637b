"""jupyter_syft: data science on data you are not allowed to see, native to Jupyter.

``import jupyter_syft as sy`` gives PySyft's names. Everything heavy (pandas, pyarrow, the
server) is imported on first use, so importing the package stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import compat as _compat
from .compat import Version as _Version
from .version import __version__ as _package_version

__version__ = _Version(_package_version)

# public name -> module that defines it
_EXPORTS = {
    "requires": "compat",
    "test_settings": "compat",
    "autocache": "downloads",
    "ActionObject": "action_object",
    "ServiceRole": "roles",
    "SyftException": "errors",
    "SyftError": "errors",
    "SyftSuccess": "errors",
    "SyftWarning": "errors",
    "SyftInfo": "errors",
    "raises": "errors",
    "Ok": "serde",
    "Err": "serde",
    "login": "client.login",
    "login_as_guest": "client.login",
    "login_local": "client.login",
    "review": "notebook.review",
    "DatasiteClient": "client.client",
    "UserCreate": "client.users",
    "Dataset": "client.dataset_authoring",
    "Asset": "client.dataset_authoring",
    "Contributor": "client.contributor",
    "DatasetPageView": "client.datasets",
    "DataSubject": "client.data_subjects",
    "ServerIdentity": "client.identity",
    "service": "module_paths",
    "orchestra": "hosts.orchestra",
    "syft_function": "client.syft_function",
    "syft_function_single_use": "client.syft_function",
    "SyftFunction": "client.syft_function",
    "Project": "client.projects",
    "RequestStatus": "client.statuses",
    "UserCodeStatus": "client.statuses",
    "Job": "client.jobs",
    "OutputHeld": "client.results",
    "JobStatus": "client.statuses",
    "Constant": "policies",
    "EmptyInputPolicy": "policies",
    "ExactMatch": "policies",
    "MixedInputPolicy": "policies",
    "InputPolicy": "policies",
    "OutputPolicy": "policies",
    "OutputPolicyExecuteCount": "policies",
    "OutputPolicyExecuteOnce": "policies",
    "SingleExecutionExactOutput": "policies",
    "CustomInputPolicy": "policies",
    "CustomOutputPolicy": "policies",
}

__all__ = ["__version__", *_EXPORTS]
# PySyft's registries of public networks (client/networks.py says what to do instead).
_NETWORK_NAMES = frozenset({"gateways", "datasites", "enclaves", "networks"})
# PySyft internals its notebooks import (module_paths.INTERNALS says what to use instead).
_PYSYFT_INTERNALS = frozenset({"UID", "AuthedServiceContext", "ServerType", "TwinMode"})


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None and name in _NETWORK_NAMES:  # PySyft's gateways: say they are not here
        importlib.import_module(".client.networks", __name__).refuse(f"sy.{name}")
    if module_name is None and name in _PYSYFT_INTERNALS:  # say why not, and what instead
        importlib.import_module(".module_paths", __name__).refuse_internal(name)
    if module_name is None and name in _compat.PYSYFT_ONLY_NAMES:  # sy.sync: say why not
        _compat.refuse(name)
    if module_name is None:
        raise AttributeError(f"module 'jupyter_syft' has no attribute {name!r}")
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if name == module_name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-syft"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .hosts.extension.app import SyftExtension

    return [{"module": "jupyter_syft", "app": SyftExtension}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_syft``: registers the ``%%syft_function`` cell magic."""
    from .notebook.magics import load_ipython_extension as load

    load(ipython)
