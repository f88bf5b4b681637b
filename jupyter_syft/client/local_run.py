"""Running submitted code in the data owner's own kernel, after a visible warning.

This is PySyft's ``request.code.run`` / ``unsafe_function``: the owner chooses to execute code a
scientist wrote, with the owner's own permissions, to check what it does. It is the only place
outside the sandboxed worker that compiles submitted code.
"""

from __future__ import annotations

import builtins
from typing import Any

from ..errors import SyftException, SyftWarning, show
from .datasets import RemoteAsset

WARNING = (
    "UNSAFE: you are about to run code you have not approved in THIS kernel, with your own "
    "permissions and access to your files. Read it first. (Approved code runs in the Datasite's "
    "sandbox instead.)"
)


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
    return func(*args, **values)
