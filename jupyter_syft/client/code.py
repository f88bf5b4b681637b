"""Syft functions and ``client.code``: write, test on mocks, submit, run, get results."""

from __future__ import annotations

import builtins
import inspect
import textwrap
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftInfo, SyftSuccess, SyftWarning, show
from ..policies import (
    EmptyInputPolicy,
    ExactMatch,
    InputPolicy,
    OutputPolicy,
    OutputPolicyExecuteOnce,
    value_spec,
)

if TYPE_CHECKING:
    from .client import DatasiteClient
    from .requests import RequestView

CREATED = (
    "Syft function '{name}' successfully created. To add a code request, please create a "
    "project using `project = syft.Project(...)`, then use command `project.create_code_request`."
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
        self.findings = analysis.analyze(
            source,
            self.func_name,
            policy_keys=self.input_policy.inputs,
            known_functions=_syft_functions_in_scope(),
        )
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
        return self.input_policy.kwargs

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
        }

    # --- emulated run ------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> MockResult:
        """Run on the mocks of the given assets, in a fresh namespace like the Datasite's.

        Nothing is sent anywhere and no private data is involved.
        """
        from .datasets import RemoteAsset

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
        show(
            SyftInfo(
                f"Ran '{self.func_name}' on the mocks of {n_assets} asset(s) in an emulated "
                "Datasite: no private data was used."
            )
        )
        return MockResult(value)

    def __repr__(self) -> str:
        return (
            f"SyftFunction {self.func_name}\n  input policy: {self.input_policy!r}\n"
            f"  output policy: {self.output_policy!r}\n\n{self.raw_code}"
        )

    def _repr_html_(self) -> str:
        return display.card(
            self.func_name,
            [
                ("Input policy", repr(self.input_policy)),
                ("Output policy", repr(self.output_policy)),
            ],
            extra_html=display.code_html(self.raw_code) + display.findings_html(self.findings),
            kind="Syft function",
        )


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
    return sorted(
        {name for ns in namespaces for name, v in list(ns.items()) if isinstance(v, SyftFunction)}
    )


def syft_function(
    input_policy: InputPolicy | None = None,
    output_policy: OutputPolicy | None = None,
    share_results_with_owners: bool = False,
    worker_pool_name: str | None = None,
    name: str | None = None,
) -> Callable[[Callable[..., Any]], SyftFunction]:
    def decorator(func: Callable[..., Any]) -> SyftFunction:
        return SyftFunction(
            func, input_policy, output_policy, share_results_with_owners, worker_pool_name, name
        )

    return decorator


def syft_function_single_use(
    *args: Any,
    share_results_with_owners: bool = False,
    worker_pool_name: str | None = None,
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
    )


class MockResult:
    """What an emulated run returns; ``get()`` gives the value, as with a Datasite result."""

    def __init__(self, value: Any):
        self._value = value

    def get(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return f"Pointer (mock run):\n{self._value!r}"

    def __str__(self) -> str:
        return str(self._value)

    def _repr_html_(self) -> str:
        return (
            f"{display.STYLE}<div class='jsyft'><strong>Pointer</strong> "
            f"<span class='muted'>(mock run: no private data used)</span>"
            f"{display.value_html(self._value, max_rows=20)}</div>"
        )


class ResultPointer:
    """A result on the Datasite. ``get()`` downloads it (once)."""

    def __init__(self, client: DatasiteClient, execution: dict[str, Any]):
        self._client = client
        self.execution = execution
        self._value: Any = _NOT_LOADED

    @property
    def id(self) -> str:
        return str(self.execution["id"])

    @property
    def on_private_data(self) -> bool:
        return bool(self.execution.get("on_private_data"))

    def get(self) -> Any:
        if self._value is _NOT_LOADED:
            self._value = self._client.connection.download(
                f"executions/{self.id}/result", label="result"
            )
        return self._value

    def __repr__(self) -> str:
        return f"Pointer:\n{self.get()!r}"

    def __str__(self) -> str:
        return str(self.get())

    def _repr_html_(self) -> str:
        value = self.get()
        to_html = getattr(value, "to_html", None)
        body = (
            str(to_html(max_rows=20))
            if callable(to_html)
            else f"<pre>{display.esc(repr(value))}</pre>"
        )
        return f"{display.STYLE}<div class='jsyft'><strong>Pointer</strong>{body}</div>"


_NOT_LOADED = object()


class UserCodeView:
    """Submitted code as the Datasite holds it: source, policies, findings, status."""

    def __init__(self, client: DatasiteClient, data: dict[str, Any]):
        self._client = client
        self._data = data

    id = property(lambda self: self._data["id"])
    service_func_name = property(lambda self: self._data["service_func_name"])
    raw_code = property(lambda self: self._data["raw_code"])
    code = property(lambda self: self._data["raw_code"])
    parameters = property(lambda self: self._data["parameters"])
    input_policy = property(lambda self: self._data["input_policy"])
    output_policy = property(lambda self: self._data["output_policy"])
    runs_used = property(lambda self: self._data["runs_used"])
    submit_time = property(lambda self: self._data["submit_time"])

    @property
    def status(self) -> str:
        return str(self._data["status"]).upper()

    @property
    def findings(self) -> list[Any]:
        from ..analysis import Finding

        return [Finding.from_json(f) for f in self._data.get("findings", [])]

    @property
    def assets(self) -> list[Any]:
        """The assets the input policy names (as this client may see them)."""
        ids = {s["id"] for s in self.input_policy["inputs"].values() if s["kind"] == "asset"}
        return [a for d in self._client.datasets for a in d.assets if a.id in ids]

    @property
    def output_history(self) -> list[dict[str, Any]]:
        """Every run on the Datasite, oldest first: ok/error, on private data or not, and (for
        owners, or for the scientist's own mock runs) what the code printed."""
        return list(self._client.connection.get_pages(f"code/{self.id}/executions"))

    def logs(self) -> str:
        """What the latest run printed (stdout, then stderr), where you may see it."""
        history = self.output_history
        if not history:
            return "This code has not run on the Datasite yet."
        last = history[-1]
        if "stdout" not in last:
            return "The latest run was on private data: only the data owner sees its prints."
        return (last["stdout"] + last["stderr"]).rstrip()

    def run_on_mocks(self) -> Any:
        """Run this code on its assets' mocks in the Datasite's sandbox (owners, and
        scientists allowed mock execution): nothing runs in this kernel. Returns the result."""
        # The Datasite binds each asset to its mock, and says why when it cannot.
        execution = self._client.connection.post(f"code/{self.id}/run-on-mocks")
        if not execution["ok"]:
            raise SyftException(
                f"Exception encountered while running {self.service_func_name} on the mocks:\n"
                f"{execution['error']}"
            )
        return ResultPointer(self._client, execution).get()

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the code HERE, in this kernel, on what you pass (assets become their data).

        This executes code someone else wrote with your permissions: read it first.
        """
        from .local_run import run_in_this_kernel

        return run_in_this_kernel(self, args, kwargs)

    @property
    def unsafe_function(self) -> Callable[..., Any]:
        return self.run

    def __repr__(self) -> str:
        return (
            f"UserCode {self.service_func_name} (status {self.status})\n"
            f"  input policy: {self.input_policy['type']} {list(self.input_policy['inputs'])}\n"
            f"  output policy: {self.output_policy['type']} "
            f"(limit {self.output_policy['limit']})\n\n"
            f"{self.raw_code}"
        )

    def _repr_html_(self) -> str:
        inputs = [(k, _describe_input(v)) for k, v in self.input_policy["inputs"].items()]
        user = self._data.get("user") or {}
        return display.card(
            self.service_func_name,
            [
                ("Id", self.id),
                ("Status", self.status),
                ("Submitted by", f"{user.get('name', '')} <{user.get('email', '')}>"),
                ("Input policy", self.input_policy["type"]),
                (
                    "Output policy",
                    f"{self.output_policy['type']} "
                    f"(limit {self.output_policy['limit']}, used {self.runs_used})",
                ),
            ],
            extra_html=display.table(["Input", "Value"], inputs)
            + display.code_html(self.raw_code)
            + display.findings_html(self.findings),
            kind="UserCode",
        )


def _describe_input(spec: dict[str, Any]) -> str:
    if spec["kind"] == "asset":
        return f"asset {spec.get('name') or spec['id']}"
    if spec["kind"] == "type":
        return f"a {spec['type']} of the scientist's choosing"
    return f"constant {spec.get('preview', '')}"


class RemoteFunction:
    """``client.code.<name>``: run submitted code on the Datasite under its policies."""

    def __init__(self, client: DatasiteClient, name: str):
        self._client = client
        self.name = name

    def __call__(self, *args: Any, blocking: bool = True, **kwargs: Any) -> Any:
        """Run it; with ``blocking=False`` get a Job at once (``job.wait().get()``)."""
        if args:
            raise SyftException(f"Call {self.name} with keyword arguments, e.g. data=asset.")
        inputs = {k: value_spec(v) for k, v in kwargs.items()}
        # The Datasite picks which submitted version runs (the latest approved, else the latest).
        by_name = f"code/by-name/{self.name}"
        if not blocking:
            from .jobs import Job

            return Job(
                self._client,
                self._client.connection.post(f"{by_name}/jobs", {"inputs": inputs}),
            )
        execution = self._client.connection.post(f"{by_name}/run", {"inputs": inputs})
        if execution.get("notice"):
            show(SyftWarning(execution["notice"]))
        if not execution["ok"]:
            raise SyftException(
                f"Exception encountered while running {self.name}:\n{execution['error']}"
            )
        return ResultPointer(self._client, execution)

    def __repr__(self) -> str:
        return f"<RemoteFunction {self.name} on {self._client.name}>"


class CodeAPI:
    """``client.code``: submit code, ask to run it, list it, and call it by name."""

    def __init__(self, client: DatasiteClient):
        self._client = client

    def submit(self, code: SyftFunction) -> SyftSuccess:
        _require_function(code)
        self._client._ensure_session()
        view = self._client.connection.post("code", code.to_json())
        show(SyftSuccess("User Code Submitted"))
        return SyftSuccess(
            f"Syft function '{code.func_name}' submitted. After submitting, you can test it using "
            f"client.code.{code.func_name}(args).",
            value=UserCodeView(self._client, view),
        )

    def request_code_execution(self, code: SyftFunction, reason: str = "") -> RequestView:
        from .requests import RequestView

        _require_function(code)
        self._client._ensure_session()
        view = self._client.connection.post("requests", {"code": code.to_json(), "reason": reason})
        return RequestView(self._client, view)

    def get_all(self) -> list[UserCodeView]:
        return display.TableList(
            (UserCodeView(self._client, c) for c in self._client.connection.get_pages("code")),
            "UserCode",
            CODE_HEADERS,
            _code_row,
        )

    def get_by_id(self, uid: str) -> UserCodeView:
        return UserCodeView(self._client, self._client.connection.get(f"code/{uid}"))

    def __getattr__(self, name: str) -> RemoteFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self._client, name)

    def __getitem__(self, index: int) -> UserCodeView:
        return self.get_all()[index]

    def __len__(self) -> int:
        return len(self.get_all())

    def __iter__(self) -> Iterator[UserCodeView]:
        return iter(self.get_all())

    def _rows(self) -> list[list[Any]]:
        return [_code_row(c) for c in self.get_all()]

    def __repr__(self) -> str:
        return display.text_table(CODE_HEADERS, self._rows())

    def _repr_html_(self) -> str:
        return display.listing("UserCode", CODE_HEADERS, self._rows())


CODE_HEADERS = ["Function", "Status", "Input policy", "Submitted", "ID"]


def _code_row(c: UserCodeView) -> list[Any]:
    return [c.service_func_name, c.status, c.input_policy["type"], c.submit_time, c.id]


def _require_function(code: Any) -> None:
    if not isinstance(code, SyftFunction):
        raise SyftException(
            "Expected a Syft function (decorate it with @sy.syft_function), "
            f"not {type(code).__name__}."
        )
