"""Input and output policies: which values a Syft function may run on, and how often.

They are plain descriptions that travel as JSON; the Datasite enforces them, never the client.
"""

from __future__ import annotations

import base64
import inspect
from typing import Any, Protocol, runtime_checkable

from .errors import SyftException


@runtime_checkable
class AssetReference(Protocol):
    """What a policy needs of an asset: how to name it on the wire. A Datasite's assets
    (``client.datasets[...].assets[...]``) are these; the policies need nothing else of them."""

    def policy_input(self) -> dict[str, Any]: ...


class Constant:
    """A fixed argument the data owner sees and approves along with the code."""

    def __init__(self, val: Any):
        self.val = val

    def __repr__(self) -> str:
        return f"Constant(val={self.val!r})"


def input_spec(value: Any) -> dict[str, Any]:
    """How one policy input (or call argument) is described on the wire."""
    if isinstance(value, AssetReference):
        return value.policy_input()
    if isinstance(value, dict) and value.get("kind") in ("asset", "type", "constant", "value"):
        return value
    if isinstance(value, Constant):
        return {"kind": "constant", "data": _encode(value.val)}
    if isinstance(value, type):
        if value.__name__ not in USER_TYPES:
            raise SyftException(
                f"MixedInputPolicy accepts the types {', '.join(USER_TYPES)}; not {value.__name__}."
            )
        return {"kind": "type", "type": value.__name__}
    if isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return {"kind": "asset", "id": value, "name": ""}
    raise SyftException(
        f"A policy input must be an asset (client.datasets[...].assets[...]), not "
        f"{type(value).__name__}. Use sy.Constant(val=...) for a fixed value."
    )


def value_spec(value: Any) -> dict[str, Any]:
    """A call argument: an asset reference, or a value of the caller's own, sent inline."""
    if isinstance(value, AssetReference):
        return value.policy_input()
    if isinstance(value, Constant):
        value = value.val
    return {"kind": "value", "data": _encode(value)}


USER_TYPES = ("int", "float", "str", "bool", "dict", "list", "set", "tuple", "bytes")


def _encode(value: Any) -> str:
    from . import serde

    return base64.b64encode(serde.dumps(value)).decode()


def decode_inline(data: str) -> Any:
    from . import serde

    return serde.loads(base64.b64decode(data))


class PolicyCode:
    """``Policy.policy_code``: the policy class's source, with the policy classes it builds on,
    as text (``print(fn.output_policy_type.policy_code)``). Works on the class and on an
    instance."""

    def __get__(self, instance: Any, owner: type) -> str:
        builtin = owner.__module__ == __name__
        header = (
            f"# {owner.__name__}: a description sent with the code; the Datasite enforces it "
            "(it never runs this code)."
            if builtin
            else f"# {owner.__name__}"
        )
        parts = [header]
        for cls in owner.__mro__:
            if cls in (InputPolicy, OutputPolicy, object) or not _is_policy(cls):
                continue
            try:
                parts.append(inspect.getsource(cls).rstrip())
            except (OSError, TypeError):
                parts.append(f"# (the source of {cls.__name__} is not available here)")
        return "\n\n".join(parts) + "\n"


def _is_policy(cls: type) -> bool:
    return issubclass(cls, (InputPolicy, OutputPolicy))


class InputPolicy:
    kind = "InputPolicy"
    policy_code = PolicyCode()

    def __init__(self, **inputs: Any):
        self.inputs = {name: input_spec(v) for name, v in inputs.items()}

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.inputs)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "inputs": self.inputs}

    def __repr__(self) -> str:
        inputs = ", ".join(f"{k}={_describe(v)}" for k, v in self.inputs.items())
        return f"{self.kind}({inputs})"


class EmptyInputPolicy(InputPolicy):
    kind = "EmptyInputPolicy"


class ExactMatch(InputPolicy):
    """Each parameter must receive exactly the given asset."""

    kind = "ExactMatch"

    def __init__(self, *args: Any, **inputs: Any):
        if args:
            raise SyftException("ExactMatch takes keyword arguments: ExactMatch(data=asset).")
        super().__init__(**inputs)
        for name, spec in self.inputs.items():
            if spec["kind"] != "asset":
                raise SyftException(
                    f"ExactMatch input {name!r} must be an asset; for types and constants use "
                    "MixedInputPolicy."
                )


class MixedInputPolicy(InputPolicy):
    """Per parameter: an asset, a type the scientist supplies (int, str, ...), or a Constant."""

    kind = "MixedInputPolicy"

    def __init__(self, client: Any = None, **inputs: Any):
        super().__init__(**inputs)


class OutputPolicy:
    kind = "OutputPolicy"
    limit: int | None = None
    policy_code = PolicyCode()

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "limit": self.limit}

    def __repr__(self) -> str:
        return f"{self.kind}(limit={self.limit})"


class OutputPolicyExecuteCount(OutputPolicy):
    """The code may run on private data at most ``limit`` times."""

    kind = "OutputPolicyExecuteCount"

    def __init__(self, limit: int = 1):
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise SyftException("limit must be a whole number of at least 1.")
        self.limit = limit


class OutputPolicyExecuteOnce(OutputPolicyExecuteCount):
    kind = "OutputPolicyExecuteOnce"

    def __init__(self) -> None:
        super().__init__(limit=1)


SingleExecutionExactOutput = OutputPolicyExecuteOnce

INPUT_POLICIES: dict[str, type[InputPolicy]] = {
    c.kind: c for c in (EmptyInputPolicy, ExactMatch, MixedInputPolicy)
}
OUTPUT_POLICIES: dict[str, type[OutputPolicy]] = {
    c.kind: c for c in (OutputPolicyExecuteCount, OutputPolicyExecuteOnce)
}


def _describe(spec: dict[str, Any]) -> str:
    if spec["kind"] == "asset":
        return f"Asset({spec.get('name') or spec['id']})"
    if spec["kind"] == "type":
        return spec["type"]
    return "Constant(...)"
