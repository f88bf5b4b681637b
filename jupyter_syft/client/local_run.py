"""Running submitted code in the data owner's own kernel, after a visible warning.

This is PySyft's ``request.code.run`` / ``unsafe_function``: the owner chooses to execute code a
scientist wrote, with the owner's own permissions, to check what it does. It is the only place
outside the sandboxed worker that compiles submitted code.
"""

from __future__ import annotations

import builtins
import functools
from typing import Any

from ..errors import SyftException, SyftWarning, show
from .datasets import RemoteAsset

WARNING = (
    "UNSAFE: you are about to run code you have not approved in THIS kernel, with your own "
    "permissions and access to your files. Read it first. (Approved code runs in the Datasite's "
    "sandbox instead.)"
)


class _LocalDatasite:
    """The ``datasite`` argument of a run in this kernel (a mock run, or an owner's run of
    submitted code): the same checked helpers as on the Datasite (``crosstab``,
    ``pivot_table``, ``ols``, ``logit``, ``histogram``, ``survival``; their class is mixed in
    by :func:`local_datasite`), so the code runs the same way here; nested jobs run only on
    the Datasite."""

    def launch_job(self, func: Any, **kwargs: Any) -> Any:
        name = getattr(func, "func_name", None) or getattr(func, "__name__", "the function")
        raise SyftException(
            f"datasite.launch_job({name}, ...) runs a nested job on the Datasite only; "
            "submit the code and run it there."
        )

    def init_progress(self, n_iters: int) -> None:
        self.progress = (0, int(n_iters))

    def set_progress(self, to: int) -> None:
        self.progress = (int(to), getattr(self, "progress", (0, 0))[1])

    def increment_progress(self, n: int = 1) -> None:
        done, total = getattr(self, "progress", (0, 0))
        self.progress = (done + int(n), total)

    def __repr__(self) -> str:
        return "<datasite (local run): crosstab, pivot_table, ols, logit, histogram, survival>"


@functools.cache
def _local_datasite_class() -> type:
    # imported here: the helpers' package loads pandas, which `import jupyter_syft` must not
    from ..disclosure.helpers import AnalysisHelpers

    return type("LocalDatasite", (_LocalDatasite, AnalysisHelpers), {"__module__": __name__})


def local_datasite() -> Any:
    """A ``datasite`` object for a run in this kernel, with the Datasite's checked helpers."""
    return _local_datasite_class()()


def takes_datasite(func: Any) -> bool:
    """Whether ``func`` has a ``datasite`` parameter (the Datasite passes one there)."""
    code = getattr(func, "__code__", None)
    return code is not None and "datasite" in code.co_varnames[: code.co_argcount]


def run_in_this_kernel(
    raw_code: str, func_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Define ``func_name`` from ``raw_code`` in a fresh namespace and call it; an asset
    argument becomes its private data where this account may read it, else its mock."""
    from ..analysis import strip_decorators

    show(SyftWarning(WARNING))
    values = {}
    for name, value in kwargs.items():
        if isinstance(value, RemoteAsset):
            value = value.data if value.can_read_data else value.mock
        values[name] = value
    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": "__syft_review__"}
    source = strip_decorators(raw_code, func_name)
    # dont_inherit: this module's `from __future__ import annotations` must not leak into theirs.
    compiled = compile(source, f"<syft function {func_name}>", "exec", dont_inherit=True)
    exec(compiled, namespace)  # noqa: S102 - the owner's explicit, warned choice (see module doc)
    func = namespace.get(func_name)
    if not callable(func):
        raise SyftException(f"The code does not define {func_name}.")
    if takes_datasite(func):
        values.setdefault("datasite", local_datasite())
    return func(*args, **values)
