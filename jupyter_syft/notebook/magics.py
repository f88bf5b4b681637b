"""``%%syft_function``: a cell holding one function becomes a Syft function, and on request a
code request.

    %load_ext jupyter_syft

    %%syft_function --single-use --mock --request --reason "Mean age" data=asset
    def mean_age(data):
        return data["age"].mean()

``NAME=VALUE`` inputs are evaluated in the notebook's namespace (usually a variable: an asset, a
``sy.Constant``, a type such as ``int``, or a plain value, which becomes a constant). The input
policy is the one the decorators choose: ``ExactMatch`` when every input is an asset,
``MixedInputPolicy`` otherwise. The magic calls ``sy.syft_function`` /
``sy.syft_function_single_use``; it does not re-implement them.
"""

from __future__ import annotations

import argparse
import ast
import inspect
from typing import TYPE_CHECKING, Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.display import display

from ..errors import SyftException, SyftInfo, show

if TYPE_CHECKING:
    from ..client.client import DatasiteClient
    from ..client.requests import RequestView
    from ..client.syft_function import SyftFunction

PREFIX = "%%syft_function: "


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--runs takes a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--runs must be at least 1, not {value}")
    return value


@magics_class
class SyftMagics(Magics):
    """The ``%%syft_function`` cell magic (``%load_ext jupyter_syft``)."""

    @magic_arguments.magic_arguments()
    @magic_arguments.argument(
        "inputs",
        nargs="*",
        metavar="NAME=VALUE",
        help="A parameter and the notebook variable (or expression) it gets: data=asset. "
        "Assets give an ExactMatch input policy; types (int, str...), sy.Constant(...) and plain "
        "values (sent as constants) give a MixedInputPolicy.",
    )
    @magic_arguments.argument(
        "--single-use",
        action="store_true",
        help="As @sy.syft_function_single_use: exact inputs, one run on private data.",
    )
    @magic_arguments.argument(
        "--runs",
        type=_positive_int,
        metavar="N",
        help="Output policy OutputPolicyExecuteCount(limit=N): at most N runs on private data "
        "(default: one).",
    )
    @magic_arguments.argument(
        "--share-results-with-owners",
        action="store_true",
        help="Let the Datasite's owners see the results too.",
    )
    @magic_arguments.argument(
        "--environment",
        metavar="NAME",
        help="Run it in this environment of the Datasite (one listed in client.environments; "
        "default: the Datasite's default environment).",
    )
    @magic_arguments.argument(
        "--mock",
        action="store_true",
        help="Run it on the assets' mocks at once (nothing is sent) and show the result.",
    )
    @magic_arguments.argument(
        "--request",
        action="store_true",
        help="Submit it as a code request (client.code.request_code_execution) and show it.",
    )
    @magic_arguments.argument(
        "--project",
        metavar="NAME",
        help="With --request: add the request to this project (created if you have none by "
        "that name).",
    )
    @magic_arguments.argument(
        "--client",
        metavar="VAR",
        help="With --request: the notebook variable holding the DatasiteClient (default: the "
        "only one in the notebook).",
    )
    @magic_arguments.argument(
        "--reason", metavar="TEXT", help="With --request: why you ask (the owner reads it)."
    )
    @cell_magic
    def syft_function(self, line: str, cell: str) -> None:
        """Turn the cell's one function into a Syft function, defined under its own name."""
        args = self._parse(line)
        node = _the_function(cell)
        raw = self._execute(cell, node.name)
        values = self._inputs(args.inputs, raw)
        mock_kwargs = _mock_arguments(raw, values) if args.mock else None
        fn = self._make(raw, values, args)
        self._ip.user_ns[fn.func_name] = fn
        if mock_kwargs is not None:
            display(fn(**mock_kwargs))
        if args.request:
            display(self._submit(fn, args))

    # --- steps -------------------------------------------------------------------------------
    @property
    def _ip(self) -> InteractiveShell:
        assert self.shell is not None, "the magic runs in a shell"
        return self.shell

    def _parse(self, line: str) -> argparse.Namespace:
        parser = self.syft_function.parser
        try:
            args = magic_arguments.parse_argstring(self.syft_function, line)
        except UsageError as exc:
            usage = " ".join(parser.format_usage().replace("::", "").split())
            raise UsageError(f"{PREFIX}{exc}\nusage: %{usage}") from None
        except ValueError as exc:  # unbalanced quotes
            raise UsageError(f"{PREFIX}cannot read the options: {exc}.") from None
        for option in ("project", "client", "reason"):  # IPython's splitter keeps the quotes
            if getattr(args, option) is not None:
                setattr(args, option, _unquote(getattr(args, option)))
        if args.single_use and args.runs is not None:
            raise UsageError(f"{PREFIX}--single-use means one run; leave out --runs.")
        if not args.request:
            given = [f"--{o}" for o in ("project", "client", "reason") if getattr(args, o)]
            if given:
                verb = "makes" if len(given) == 1 else "make"
                raise UsageError(
                    f"{PREFIX}{', '.join(given)} only {verb} sense with --request "
                    "(submit the function as a code request)."
                )
        return args

    def _execute(self, cell: str, name: str) -> Any:
        """Define the function as a normal cell would (notebook globals), in a scratch namespace.

        The cell is registered with IPython's compiler cache, so ``inspect.getsource`` (which
        ``SyftFunction`` uses) finds the source, and tracebacks show the cell's lines.
        """
        filename = self._ip.compile.cache(cell, self._ip.execution_count)
        code = compile(cell, filename, "exec", dont_inherit=True)
        scratch: dict[str, Any] = {}
        # The user's own cell, run as IPython would run it (only a `def` and docstrings).
        try:
            exec(code, self._ip.user_ns, scratch)  # noqa: S102
        except Exception as exc:  # e.g. a default value naming an undefined variable
            raise UsageError(
                f"{PREFIX}defining {name} failed: {type(exc).__name__}: {exc}"
            ) from None
        return scratch[name]

    def _inputs(self, pairs: list[str], raw: Any) -> dict[str, Any]:
        signature = inspect.signature(raw)
        params = signature.parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        values: dict[str, Any] = {}
        for pair in pairs:
            name, sep, expr = pair.partition("=")
            name, expr = name.strip(), expr.strip()
            if not sep or not name.isidentifier() or not expr:
                raise UsageError(
                    f"{PREFIX}inputs are NAME=VARIABLE (e.g. data=asset), not {pair!r}."
                )
            if name not in params and not takes_any:
                known = ", ".join(params) or "none"
                raise UsageError(
                    f"{PREFIX}{raw.__name__} has no parameter {name!r} (its parameters: {known})."
                )
            if name in values:
                raise UsageError(f"{PREFIX}{name!r} is given twice.")
            try:
                # Evaluated like any expression typed in the notebook, in its namespace.
                values[name] = eval(expr, self._ip.user_ns)  # noqa: S307
            except NameError as exc:
                raise UsageError(
                    f"{PREFIX}{name}={expr}: {exc} in the notebook; run the cell that "
                    "defines it first."
                ) from None
            except Exception as exc:
                raise UsageError(
                    f"{PREFIX}{name}={expr} failed: {type(exc).__name__}: {exc}"
                ) from None
        return values

    def _make(self, raw: Any, values: dict[str, Any], args: argparse.Namespace) -> SyftFunction:
        from ..client.datasets import RemoteAsset
        from ..client.syft_function import syft_function, syft_function_single_use
        from ..policies import (
            Constant,
            ExactMatch,
            InputPolicy,
            MixedInputPolicy,
            OutputPolicyExecuteCount,
            OutputPolicyExecuteOnce,
        )
        from ..serde import SerdeError

        for name, value in values.items():
            if _is_syft_object(value) and not isinstance(value, (RemoteAsset, Constant)):
                raise UsageError(
                    f"{PREFIX}{name} is a {type(value).__name__}; an input is an asset on a "
                    "Datasite (client.datasets[...].assets[...]), a type, a sy.Constant or a "
                    "plain value."
                )
        all_assets = all(isinstance(v, RemoteAsset) for v in values.values())
        share = args.share_results_with_owners
        try:
            if args.single_use and all_assets:
                decorator = syft_function_single_use(
                    share_results_with_owners=share, environment=args.environment, **values
                )
            else:
                input_policy: InputPolicy | None
                if not values:
                    input_policy = None
                elif all_assets:
                    input_policy = ExactMatch(**values)
                else:
                    input_policy = MixedInputPolicy(**{k: _mixed(v) for k, v in values.items()})
                if args.single_use:
                    output_policy: Any = OutputPolicyExecuteOnce()
                elif args.runs is not None:
                    output_policy = OutputPolicyExecuteCount(limit=args.runs)
                else:
                    output_policy = None
                decorator = syft_function(
                    input_policy=input_policy,
                    output_policy=output_policy,
                    share_results_with_owners=share,
                    environment=args.environment,
                )
            return decorator(raw)
        except SyftException as exc:
            raise UsageError(f"{PREFIX}{exc}") from None
        except SerdeError as exc:  # a constant that cannot travel
            raise UsageError(f"{PREFIX}an input cannot be sent: {exc}") from None

    def _submit(self, fn: SyftFunction, args: argparse.Namespace) -> RequestView:
        client = self._client(args.client)
        reason = args.reason or ""
        if not args.project:
            return client.code.request_code_execution(fn, reason=reason)
        mine = [  # a request goes into one of the requester's own projects
            p
            for p in client.projects
            if p.name == args.project and (p.creator or {}).get("email") == client.email
        ]
        if mine:
            project = mine[0]
        else:
            project = client.create_project(name=args.project)
            show(SyftInfo(f"Created project '{args.project}' on {client.name}."))
        return project.create_code_request(fn, reason=reason)

    def _client(self, variable: str | None) -> DatasiteClient:
        from ..client.client import DatasiteClient

        ns = self._ip.user_ns
        if variable:
            if variable not in ns:
                raise UsageError(f"{PREFIX}--client {variable}: no such variable in the notebook.")
            if not isinstance(ns[variable], DatasiteClient):
                raise UsageError(
                    f"{PREFIX}--client {variable}: that is a {type(ns[variable]).__name__}, "
                    "not a DatasiteClient (client = sy.login(...))."
                )
            return ns[variable]
        found: dict[int, tuple[str, DatasiteClient]] = {}
        for name, value in list(ns.items()):
            if not name.startswith("_") and isinstance(value, DatasiteClient):
                found.setdefault(id(value), (name, value))
        if not found:
            raise UsageError(
                f"{PREFIX}--request needs a Datasite client: log in first "
                "(client = sy.login(...)) or pass --client VAR."
            )
        if len(found) > 1:
            names = ", ".join(sorted(name for name, _ in found.values()))
            raise UsageError(
                f"{PREFIX}several Datasite clients in the notebook ({names}): "
                "say which with --client VAR."
            )
        return next(iter(found.values()))[1]


def _the_function(cell: str) -> ast.FunctionDef:
    """The cell's one ``def``; anything else in it is a usage error."""
    try:
        tree = ast.parse(cell)
    except SyntaxError as exc:
        raise UsageError(
            f"{PREFIX}the cell has a syntax error on line {exc.lineno}: {exc.msg}."
        ) from None
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if len(defs) != 1:
        found = ", ".join(d.name for d in defs)
        raise UsageError(
            f"{PREFIX}the cell must hold exactly one function definition (def ...); "
            f"it holds {len(defs)}{f' ({found})' if found else ''}."
        )
    node = defs[0]
    if isinstance(node, ast.AsyncFunctionDef):
        raise UsageError(f"{PREFIX}{node.name} is async; a Syft function is a plain def.")
    if node.decorator_list:
        raise UsageError(
            f"{PREFIX}remove the decorator(s) from {node.name}: the magic makes it a Syft function."
        )
    for other in tree.body:
        is_docstring = isinstance(other, ast.Expr) and isinstance(other.value, ast.Constant)
        if other is not node and not is_docstring:
            raise UsageError(
                f"{PREFIX}only the function may be in the cell, but line {other.lineno} holds "
                "other code. Put imports inside the function: the Datasite runs it in a fresh "
                "namespace."
            )
    return node


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _is_syft_object(value: Any) -> bool:
    return type(value).__module__.startswith("jupyter_syft.")


def _mixed(value: Any) -> Any:
    """A MixedInputPolicy input: assets, types and Constants as given; other values fixed."""
    from ..client.datasets import RemoteAsset
    from ..policies import Constant

    if isinstance(value, (RemoteAsset, Constant, type)):
        return value
    return Constant(val=value)


def _mock_arguments(raw: Any, values: dict[str, Any]) -> dict[str, Any]:
    """What ``--mock`` calls the function with: constants unwrapped; types cannot be run."""
    from ..policies import Constant

    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, type):
            raise UsageError(
                f"{PREFIX}--mock needs a value for {name}: its input is any {value.__name__} "
                f"given at run time. Call {raw.__name__}({name}=...) yourself instead."
            )
        kwargs[name] = value.val if isinstance(value, Constant) else value
    missing = [
        p.name
        for p in inspect.signature(raw).parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name not in kwargs
    ]
    if missing:
        raise UsageError(
            f"{PREFIX}--mock needs an input for {', '.join(missing)} (e.g. {missing[0]}=asset)."
        )
    return kwargs


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(SyftMagics)
