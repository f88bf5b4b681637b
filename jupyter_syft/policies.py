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
        if issubclass(owner, _CustomPolicy) and owner not in (
            CustomInputPolicy,
            CustomOutputPolicy,
        ):
            # a scientist's class: its own source, as sent to the Datasite and reviewed there
            return f"# {owner.__name__}\n{custom_policy_source(owner)}"
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
        # each asset input's Datasite, client side only (PySyft's fn.kwargs[ServerIdentity])
        self.origins = {
            name: v.server_identity for name, v in inputs.items() if hasattr(v, "server_identity")
        }

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


# --- custom policies: classes the scientist writes ----------------------------------------------
# Their source travels with the code, is shown to the reviewer, and runs only in the Datasite's
# sandbox, next to the function (never in the server process). Their arguments travel as JSON
# values, their state comes back as JSON values: nothing is pickled.

MAX_POLICY_CODE = 64 << 10  # characters of a policy class's source
MAX_POLICY_JSON = 64 << 10  # characters of its init kwargs, or of its state, as JSON
CUSTOM_BASES = ("CustomInputPolicy", "CustomOutputPolicy")
SANDBOX_ONLY = (
    "{what} is PySyft's server internals; jupyter_syft runs policy code in the Datasite's "
    "sandbox, away from the server, so a policy gets only plain values: the inputs "
    "(is_valid(context, usr_input_kwargs), filter_kwargs(kwargs, context)), the outputs "
    "(apply_to_output(context, outputs)) and its own state (self.state)."
)


def json_values(value: Any, what: str) -> Any:
    """``value`` as JSON values (a copy), or a SyftException naming ``what`` and saying why."""
    import json

    _require_json(value, what, "", 0)
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SyftException(
            f"{what} must be JSON values (str, int, float, bool, None, lists and dicts with "
            f"str keys): {exc}."
        ) from None
    if len(text) > MAX_POLICY_JSON:
        raise SyftException(
            f"{what} is {len(text):,} characters as JSON, more than {MAX_POLICY_JSON:,}."
        )
    return json.loads(text)


def _require_json(value: Any, what: str, path: str, depth: int) -> None:
    """Refuse what JSON would change on the way (dict keys that are not str, e.g. ``{1: x}``
    would arrive as ``{"1": x}``) or cannot carry; tuples travel as lists."""
    if depth > 50:
        raise SyftException(f"{what} is nested too deeply (at {path or 'the top'}).")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SyftException(
                    f"{what} must be JSON values: the key {key!r} at {path or 'the top'} is of "
                    f"type {type(key).__name__}; use str keys."
                )
            _require_json(item, what, f"{path}[{key!r}]", depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _require_json(item, what, f"{path}[{i}]", depth + 1)


class PolicyContext:
    """The ``context`` a custom policy's methods get: plain facts about the run (the code's
    name and id, whether it runs on private data). PySyft's server objects (``context.server``,
    ``context.credentials``...) do not exist here, and say so."""

    def __init__(self, code_id: str = "", func_name: str = "", private: bool = False):
        self.code_id = code_id
        self.func_name = func_name
        self.private = private

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(SANDBOX_ONLY.format(what=f"context.{name}"))

    def __repr__(self) -> str:
        return f"PolicyContext(func_name={self.func_name!r}, private={self.private})"


class _CustomPolicyMeta(type):
    """Records the keyword arguments of each instance (``policy.init_kwargs``): the Datasite
    builds the policy again from them, in its sandbox. Positional arguments would be lost on
    the way, so they are refused."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if args:
            raise SyftException(
                f"Pass {cls.__name__}'s arguments by keyword ({cls.__name__}(n_calls=10)): "
                "the Datasite rebuilds the policy from its keyword arguments."
            )
        obj = super().__call__(**kwargs)
        obj.__dict__["_init_kwargs"] = dict(kwargs)
        return obj


class _CustomPolicy:
    """What both kinds of custom policy share: ``init_kwargs``, ``state``, the class source."""

    kind = "Custom"
    state: Any = None

    @property
    def init_kwargs(self) -> dict[str, Any]:
        return dict(self.__dict__.get("_init_kwargs", {}))

    @init_kwargs.setter
    def init_kwargs(self, value: dict[str, Any]) -> None:
        self.__dict__["_init_kwargs"] = dict(value)

    def public_state(self) -> Any:
        return self.state

    @classmethod
    def class_source(cls) -> str:
        """The class's own source, dedented (what is sent and shown to the reviewer)."""
        return custom_policy_source(cls)

    def _custom_json(self, what: str) -> dict[str, Any]:
        cls = type(self)
        source = cls.class_source()
        if len(source) > MAX_POLICY_CODE:
            raise SyftException(
                f"The source of {cls.__name__} is {len(source):,} characters, more than "
                f"{MAX_POLICY_CODE:,}: keep policy classes small."
            )
        return {
            "type": self.kind,
            "class_name": cls.__name__,
            "code": source,
            "init_kwargs": json_values(self._json_kwargs(), f"The arguments of {cls.__name__}"),
        }

    def _json_kwargs(self) -> dict[str, Any]:
        return self.init_kwargs

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.init_kwargs.items())
        return f"{type(self).__name__}({args})"


class CustomOutputPolicy(_CustomPolicy, OutputPolicy, metaclass=_CustomPolicyMeta):
    """Subclass it to decide what a run's output is and how often the code may run: override
    ``is_valid(context)`` (or ``_is_valid``), ``apply_to_output(context, outputs,
    update_policy=True)`` and ``update_policy(context, outputs)``; keep what it must remember
    in ``self.state`` (JSON values). On the Datasite it runs in the sandbox, next to the code:
    ``is_valid`` before each run on private data, ``apply_to_output`` after it (its return
    value is the result you get); the state is stored between runs."""

    kind = "CustomOutputPolicy"

    def is_valid(self, context: Any = None) -> Any:
        if type(self)._is_valid is not CustomOutputPolicy._is_valid:
            return self._is_valid(context)
        return True

    def _is_valid(self, context: Any = None) -> Any:
        return True

    def update_policy(self, context: Any, outputs: Any) -> None:
        return None

    def apply_to_output(self, context: Any, outputs: Any, update_policy: bool = True) -> Any:
        if update_policy:
            self.update_policy(context, outputs)
        return outputs

    def to_json(self) -> dict[str, Any]:
        return {**self._custom_json("output"), "limit": None}


class CustomInputPolicy(_CustomPolicy, InputPolicy, metaclass=_CustomPolicyMeta):
    """Subclass it to check a run's inputs: override ``is_valid(context, usr_input_kwargs)``
    (or ``_is_valid``) and, to change what the function gets, ``filter_kwargs(kwargs,
    context)``. Pass the assets as keyword arguments (``MyPolicy(x=asset)``): the Datasite
    binds them as an ExactMatch does, then runs your checks in the sandbox on their values.
    Other arguments must be JSON values."""

    kind = "CustomInputPolicy"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    @property
    def inputs(self) -> dict[str, Any]:  # type: ignore[override]
        if "_bound_inputs" in self.__dict__:  # in the sandbox: the inputs as submitted
            return dict(self.__dict__["_bound_inputs"])
        return {k: input_spec(v) for k, v in self.init_kwargs.items() if _is_input(v)}

    @property
    def kwargs(self) -> dict[str, Any]:
        return self.inputs

    def _json_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self.init_kwargs.items() if not _is_input(v)}

    def is_valid(self, context: Any = None, usr_input_kwargs: Any = None) -> Any:
        if type(self)._is_valid is not CustomInputPolicy._is_valid:
            return self._is_valid(context, usr_input_kwargs)
        return True

    def _is_valid(self, context: Any = None, usr_input_kwargs: Any = None) -> Any:
        return True

    def filter_kwargs(self, kwargs: dict[str, Any], context: Any = None) -> dict[str, Any]:
        return kwargs

    def to_json(self) -> dict[str, Any]:
        return {**self._custom_json("input"), "inputs": self.inputs}


def _is_input(value: Any) -> bool:
    """An init argument of a custom input policy that names a Datasite input (an asset, a
    type or a Constant) rather than a plain value."""
    return isinstance(value, AssetReference | Constant) or (
        isinstance(value, type) and value.__name__ in USER_TYPES
    )


def custom_policy_source(cls: type) -> str:
    """The source of one custom policy class: ``inspect.getsource``, or, for a class defined
    in a notebook cell (whose module has no file), the cell its methods come from."""
    import ast
    import linecache
    import textwrap

    try:
        return textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        pass
    for member in vars(cls).values():
        func = getattr(member, "__func__", member)
        code = getattr(func, "__code__", None)
        if code is None:
            continue
        lines = linecache.getlines(code.co_filename)
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
                return textwrap.dedent("".join(lines[start : node.end_lineno]))
    raise SyftException(
        f"Cannot read the source of {cls.__name__}: define the policy class in a notebook cell "
        "or a file (its source is sent to the Datasite and shown to the reviewer)."
    )


INPUT_POLICIES: dict[str, type[InputPolicy]] = {
    c.kind: c for c in (EmptyInputPolicy, ExactMatch, MixedInputPolicy, CustomInputPolicy)
}
OUTPUT_POLICIES: dict[str, type[OutputPolicy]] = {
    c.kind: c for c in (OutputPolicyExecuteCount, OutputPolicyExecuteOnce, CustomOutputPolicy)
}


def _describe(spec: dict[str, Any]) -> str:
    if spec["kind"] == "asset":
        return f"Asset({spec.get('name') or spec['id']})"
    if spec["kind"] == "type":
        return spec["type"]
    return "Constant(...)"
