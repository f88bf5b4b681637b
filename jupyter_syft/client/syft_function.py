"""Writing Syft functions: ``@sy.syft_function`` and ``@sy.syft_function_single_use`` turn a
function into a code request-to-be, which runs on its assets' mocks when called. Submitting
and calling submitted code is ``code.py``; what runs return is ``results.py``."""

from __future__ import annotations

import builtins
import inspect
import textwrap
import types
from collections.abc import Callable
from typing import Any

from .. import display
from ..errors import SyftException, SyftInfo, SyftSuccess, SyftWarning, show
from ..policies import (
    EmptyInputPolicy,
    ExactMatch,
    InputPolicy,
    OutputPolicy,
    OutputPolicyExecuteOnce,
)
from .results import MockResult

CREATED = (
    "Syft function '{name}' successfully created. Try it on the mocks with {name}(...), then "
    "submit it: client.code.request_code_execution({name}), or "
    "project.create_code_request({name}, client) to add it to a project."
)


class SyftFunction:
    """A function turned into a code request-to-be. Calling it runs it on the assets' mocks."""

    def __init__(
        self,
        func: Callable[..., Any],
        input_policy: InputPolicy | None = None,
        output_policy: OutputPolicy | None = None,
        share_results_with_owners: bool = False,
        worker_pool_name: str | None = None,
        name: str | None = None,
        environment: str | None = None,
    ):
        from .. import analysis

        if not inspect.isfunction(func):
            raise SyftException("@sy.syft_function decorates a function (def ...).")
        self.func = func
        self.func_name = name or func.__name__
        try:
            source = textwrap.dedent(inspect.getsource(func))
        except (OSError, TypeError):
            raise SyftException(
                f"Cannot read the source of {func.__name__}: "
                "define it in a notebook cell or a file."
            ) from None
        if self.func_name != func.__name__:
            source = source.replace(f"def {func.__name__}(", f"def {self.func_name}(", 1)
        self.raw_code = source
        self.input_policy = input_policy if input_policy is not None else EmptyInputPolicy()
        self.output_policy = (
            output_policy if output_policy is not None else OutputPolicyExecuteOnce()
        )
        self.share_results_with_owners = share_results_with_owners
        self.worker_pool_name = worker_pool_name or "default-pool"
        # The Datasite environment it runs in (client.environments); "" is the default one.
        if environment is not None and not isinstance(environment, str):
            raise SyftException("environment= takes an environment's name (client.environments).")
        self.environment = (environment or "").strip()
        if self.environment == "default":
            self.environment = ""
        self.findings = analysis.analyze(
            source,
            self.func_name,
            policy_keys=self.input_policy.inputs,
            known_functions=_syft_functions_in_scope(),
        )
        self.findings += _custom_policy_findings(self.input_policy, self.output_policy)
        problems = [f for f in self.findings if f.severity == "error"]
        if problems:
            show(SyftWarning("\n".join(f.message for f in problems)))
        show(SyftSuccess(CREATED.format(name=self.func_name)))

    # --- PySyft's attributes -----------------------------------------------------------------
    @property
    def code(self) -> str:
        return self.raw_code

    @property
    def kwargs(self) -> dict[str, Any]:
        """The inputs by parameter name; ``fn.kwargs[ServerIdentity]`` (PySyft's keying) gives
        ``{parameter: asset id}`` of one Datasite's inputs."""
        from .identity import InputKwargs, inputs_by_server

        return InputKwargs(self.input_policy.kwargs, inputs_by_server(self.input_policy))

    @property
    def input_policy_init_kwargs(self) -> dict[Any, dict[str, str]]:
        """PySyft's ``{ServerIdentity: {parameter: asset id}}`` of the input policy."""
        from .identity import inputs_by_server

        return inputs_by_server(self.input_policy)

    @property
    def input_policy_type(self) -> type[InputPolicy]:
        return type(self.input_policy)

    @property
    def output_policy_type(self) -> type[OutputPolicy]:
        return type(self.output_policy)

    @property
    def service_func_name(self) -> str:
        return self.func_name

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.func_name,
            "raw_code": self.raw_code,
            "input_policy": self.input_policy.to_json(),
            "output_policy": self.output_policy.to_json(),
            "share_results_with_owners": self.share_results_with_owners,
            "worker_pool_name": self.worker_pool_name,
            "environment": self.environment,
        }

    # --- emulated run ------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> MockResult:
        """Run on the mocks of the given assets, in a fresh namespace like the Datasite's.

        Nothing is sent anywhere and no private data is involved.
        """
        from .datasets import RemoteAsset
        from .local_run import local_datasite, takes_datasite

        if args:
            raise SyftException(f"Call {self.func_name} with keyword arguments, e.g. data=asset.")
        hints = " ".join(f.message for f in self.findings if f.kind == "free_name")
        if self.func.__code__.co_freevars:
            raise SyftException(
                f"{self.func_name} uses variables of an enclosing function "
                f"({', '.join(self.func.__code__.co_freevars)}); a Syft function must be "
                f"self-contained. {hints}".strip()
            )
        values = {k: v.mock if isinstance(v, RemoteAsset) else v for k, v in kwargs.items()}
        inputs = dict(values)  # what the checks compare the result with (not ``datasite``)
        if takes_datasite(self.func):
            values.setdefault("datasite", local_datasite())
        # The same code object with empty globals: like on the Datasite, notebook globals are
        # not visible, so a missing import fails here first instead of after approval.
        isolated = types.FunctionType(
            self.func.__code__,
            {"__builtins__": builtins, "__name__": "__syft_function__"},
            self.func_name,
            self.func.__defaults__,
            None,
        )
        try:
            value = isolated(**values)
        except NameError as exc:
            raise SyftException(
                f"{self.func_name} failed on the mocks: {exc}. {hints}".strip()
            ) from None
        n_assets = sum(isinstance(v, RemoteAsset) for v in kwargs.values())
        if self.environment:  # this kernel's packages against the environment's lock
            from .environment_display import warn_mock_versions

            sessions = [v._session for v in kwargs.values() if isinstance(v, RemoteAsset)]
            warn_mock_versions(self.environment, list({id(s): s for s in sessions}.values()))
        show(
            SyftInfo(
                f"Ran '{self.func_name}' on the mocks of {n_assets} asset(s) in an emulated "
                "Datasite: no private data was used."
            )
        )
        return MockResult(value, report=_mock_report(value, inputs), where="mocks")

    def __repr__(self) -> str:
        return (
            f"SyftFunction {self.func_name}\n  input policy: {self.input_policy!r}\n"
            f"  output policy: {self.output_policy!r}\n\n{self.raw_code}"
            + "".join(
                f"\n\n{src}" for src in _policy_sources(self.input_policy, self.output_policy)
            )
        )

    def _repr_html_(self) -> str:
        return display.card(
            self.func_name,
            [
                ("Input policy", repr(self.input_policy)),
                ("Output policy", repr(self.output_policy)),
            ],
            extra_html=display.code_html(self.raw_code)
            + "".join(
                display.code_html(src)
                for src in _policy_sources(self.input_policy, self.output_policy)
            )
            + display.findings_html(self.findings),
            kind="Syft function",
        )


def _custom_policy_findings(*policies: Any) -> list[Any]:
    """Custom policies are checked when the function is made: their arguments must be JSON
    values and their class's source readable (SyftException otherwise); their class gets the
    static checks the function gets, each finding naming it."""
    import dataclasses

    from .. import analysis
    from ..policies import _CustomPolicy

    findings = []
    for policy in policies:
        if not isinstance(policy, _CustomPolicy):
            continue
        data = policy.to_json()  # raises, with the reason, for what cannot be sent
        name = data["class_name"]
        for f in analysis.analyze_policy_class(data["code"], name, data["type"]):
            message = f"In the policy class {name} (line {f.line}): {f.message}"
            findings.append(dataclasses.replace(f, message=message))
    return findings


def _policy_sources(*policies: Any) -> list[str]:
    """The source of each custom policy, with a header line naming it."""
    from ..policies import _CustomPolicy

    return [
        f"# {type(p).kind} {type(p).__name__}\n{type(p).class_source()}"
        for p in policies
        if isinstance(p, _CustomPolicy)
    ]


def _mock_report(value: Any, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The disclosure checks of an emulated run, here on the mocks, with the default rules
    (the Datasite checks its own runs with its rule set). Only where pandas is loaded already
    (the checks need it; a run on plain values does not pay for importing it)."""
    import sys

    if "pandas" not in sys.modules:
        return None
    try:
        from ..disclosure import check_result

        return check_result(value, inputs)
    except Exception:  # the checks are a courtesy here: never fail the emulated run
        return None


def _syft_functions_in_scope() -> list[str]:
    """Names of Syft functions defined where the decorator runs (the notebook, or the calling
    script or function): nested jobs may launch them by name."""
    import sys

    namespaces: list[dict[str, Any]] = []
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            namespaces.append(shell.user_ns)
    except ImportError:  # pragma: no cover
        pass
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("jupyter_syft"):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is not None:
        namespaces += [frame.f_locals, frame.f_globals]
    # In a notebook cell (and at a module's top level) these are one dict: read it once.
    unique = {id(ns): ns for ns in namespaces}.values()
    return sorted(
        {name for ns in unique for name, v in list(ns.items()) if isinstance(v, SyftFunction)}
    )


def syft_function(
    input_policy: InputPolicy | None = None,
    output_policy: OutputPolicy | None = None,
    share_results_with_owners: bool = False,
    worker_pool_name: str | None = None,
    name: str | None = None,
    environment: str | None = None,
) -> Callable[[Callable[..., Any]], SyftFunction]:
    """``environment``: the name of the Datasite environment it runs in (one listed in
    ``client.environments``); None runs it in the Datasite's default environment."""

    def decorator(func: Callable[..., Any]) -> SyftFunction:
        return SyftFunction(
            func,
            input_policy,
            output_policy,
            share_results_with_owners,
            worker_pool_name,
            name,
            environment,
        )

    return decorator


def syft_function_single_use(
    *args: Any,
    share_results_with_owners: bool = False,
    worker_pool_name: str | None = None,
    environment: str | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], SyftFunction]:
    """Shorthand: ExactMatch(**kwargs) inputs, one run on private data."""
    if args:
        raise SyftException("Name each asset: @sy.syft_function_single_use(data=asset).")
    return syft_function(
        input_policy=ExactMatch(**kwargs),
        output_policy=OutputPolicyExecuteOnce(),
        share_results_with_owners=share_results_with_owners,
        worker_pool_name=worker_pool_name,
        environment=environment,
    )


def require_function(code: Any) -> None:
    if not isinstance(code, SyftFunction):
        raise SyftException(
            "Expected a Syft function (decorate it with @sy.syft_function), "
            f"not {type(code).__name__}."
        )
