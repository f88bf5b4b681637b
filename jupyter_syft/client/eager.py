"""PySyft's eager execution (``asset.pointer``, ``client.numpy``, ``pointer.request``,
``approve_with_client``) is not in jupyter_syft's design: user code runs only inside the
Datasite's sandbox, as a Syft function the owner approved. These names exist so that PySyft
code reaching them learns that, and how to do the same thing here."""

from __future__ import annotations

from typing import NoReturn

from ..errors import SyftException

SYFT_FUNCTION_WAY = (
    "Write the computation as a Syft function instead:\n"
    "    @sy.syft_function_single_use(data=asset)\n"
    "    def analysis(data):\n"
    "        return data.describe()\n"
    "    client.code.request_code_execution(analysis)\n"
    "Try it on the mock first: analysis(data=asset.mock)."
)


def refuse(name: str) -> NoReturn:
    raise SyftException(
        f"{name} is PySyft's eager execution, which jupyter_syft does not have: code runs on "
        f"private data only inside the Datasite's sandbox, once an owner approved it.\n"
        f"{SYFT_FUNCTION_WAY}"
    )


# Attributes of PySyft's client that start eager computations on pointers.
CLIENT_NAMES = frozenset({"numpy", "np", "torch", "pandas", "lib", "jax"})
