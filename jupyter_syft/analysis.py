"""Static checks of a Syft function's source, run by the client decorator and by the server.

A Syft function is sent as source text and later executed in a fresh namespace on the
server, so it must be self-contained: every name it reads must be a parameter, something it
binds itself, a builtin, another submitted Syft function (``known_functions``) or a name the
server provides (``injected``). Reading a notebook global (``np`` imported in another cell, a
helper or a constant defined outside) works in the notebook and fails on the server, so
:func:`analyze` reports it up front, together with warnings a reviewer wants to see (risky
calls and imports, ``global`` statements, policy inputs that match no parameter).

Pure standard library (``ast``), no project imports, cheap to import: it runs on both sides.

Line numbers in findings are 1-based lines of ``source`` exactly as passed to
:func:`analyze` (decorator lines and any lines before the ``def`` count). They do not refer to
the output of :func:`strip_decorators`; analyze that output to get lines relative to it.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Finding",
    "Submission",
    "analyze",
    "check_submission",
    "function_parameters",
    "nested_calls",
    "strip_decorators",
]

ERROR = "error"
WARNING = "warning"

# Finding kinds
FREE_NAME = "free_name"
GLOBAL_STATEMENT = "global_statement"
NONLOCAL_STATEMENT = "nonlocal_statement"
RISKY_CALL = "risky_call"
RISKY_IMPORT = "risky_import"
UNKNOWN_POLICY_KEY = "unknown_policy_key"
SYNTAX_ERROR = "syntax_error"
NOT_A_FUNCTION = "not_a_function"
COMPUTED_NESTED_JOB = "computed_nested_job"
ENVIRONMENT_READ = "environment_read"
ROW_LEVEL_RETURN = "row_level_return"


@dataclass(frozen=True)
class Finding:
    """One problem found in a Syft function's source."""

    kind: str  # one of the kind constants above
    severity: str  # "error": will fail on the server; "warning": the reviewer should look
    line: int  # 1-based line in the analyzed source, 0 if not applicable
    name: str  # the name involved ("np", "open", "subprocess", a policy key...)
    message: str  # plain text: what is wrong and what to do

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "line": self.line,
            "name": self.name,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            kind=str(data["kind"]),
            severity=str(data["severity"]),
            line=int(data.get("line", 0)),
            name=str(data.get("name", "")),
            message=str(data.get("message", "")),
        )


# Names every fresh namespace can read. IPython adds its own helpers to `builtins` in the
# kernel; the server has none of them, so they must not count on the client either.
_BUILTINS = (frozenset(dir(builtins)) - {"display", "get_ipython", "__IPYTHON__"}) | {
    "__builtins__"
}

# Conventional aliases, to turn "`np` is undefined" into "import numpy inside it".
_ALIASES = {
    "np": "numpy",
    "pd": "pandas",
    "plt": "matplotlib.pyplot",
    "mpl": "matplotlib",
    "sk": "sklearn",
    "tf": "tensorflow",
    "sp": "scipy",
    "sns": "seaborn",
    "pl": "polars",
    "pa": "pyarrow",
    "pq": "pyarrow.parquet",
    "sm": "statsmodels.api",
    "smf": "statsmodels.formula.api",
    "px": "plotly.express",
    "go": "plotly.graph_objects",
    "xgb": "xgboost",
    "lgb": "lightgbm",
    "nx": "networkx",
    "jnp": "jax.numpy",
    "nn": "torch.nn",
    "F": "torch.nn.functional",
    "dd": "dask.dataframe",
}
# Modules often read as `name.attr` in data science code. Not all of the standard library:
# `array`, `code`, `test` or `string` are as likely to be notebook variables.
_COMMON_MODULE_NAMES = (
    "abc asyncio base64 bisect calendar cmath collections concurrent contextlib copy csv "
    "dataclasses datetime decimal enum fractions functools glob gzip hashlib heapq html "
    "http inspect io itertools json logging math operator os pathlib pickle pprint random "
    "re shutil socket sqlite3 statistics struct subprocess sys tempfile textwrap threading "
    "time traceback typing unicodedata urllib uuid warnings zipfile zlib "
    "numpy pandas scipy sklearn torch tensorflow keras matplotlib seaborn statsmodels "
    "polars pyarrow plotly xgboost lightgbm catboost networkx jax transformers nltk spacy "
    "cv2 PIL skimage sympy dask opendp tqdm joblib yaml h5py shap"
)
_COMMON_MODULES = frozenset(_COMMON_MODULE_NAMES.split())

# Calls a reviewer should see, by resolved dotted name, with what they do.
_RUNS_CODE = "runs code built at run time"
_RUNS_PROGRAMS = "runs other programs"
_DELETES = "deletes files"
_NAMESPACES = "reads or changes namespaces directly"
_UNPICKLES = "loads pickled data, which can run arbitrary code"
_READS_FILES = "reads files on the server (the function's data comes in as its inputs)"
_LISTS_FILES = "lists files on the server"
_READS_ENVIRONMENT = "reads the server's environment variables, which can hold secrets"
_RISKY_CALLS = {
    "open": "opens files on the server",
    "io.open": "opens files on the server",
    "exec": _RUNS_CODE,
    "eval": _RUNS_CODE,
    "compile": _RUNS_CODE,
    "__import__": "imports a module chosen at run time",
    "importlib.import_module": "imports a module chosen at run time",
    "globals": _NAMESPACES,
    "locals": _NAMESPACES,
    "vars": _NAMESPACES,
    "breakpoint": "stops for a debugger, which hangs the job on the server",
    "input": "waits for keyboard input, which hangs the job on the server",
    "os.system": "runs a shell command",
    "os.popen": "runs a shell command",
    "os.fork": "starts a new process",
    "os.forkpty": "starts a new process",
    "os.remove": _DELETES,
    "os.unlink": _DELETES,
    "os.rmdir": _DELETES,
    "os.removedirs": _DELETES,
    "shutil.rmtree": _DELETES,
    "pickle.load": _UNPICKLES,
    "pickle.loads": _UNPICKLES,
    "marshal.load": "loads code objects",
    "marshal.loads": "loads code objects",
    "pandas.read_pickle": _UNPICKLES,
    "numpy.load": _READS_FILES,
    "numpy.loadtxt": _READS_FILES,
    "numpy.genfromtxt": _READS_FILES,
    "numpy.fromfile": _READS_FILES,
    "pathlib.Path": "names a file on the server",
    "os.listdir": _LISTS_FILES,
    "os.scandir": _LISTS_FILES,
    "os.walk": _LISTS_FILES,
    "glob.glob": _LISTS_FILES,
    "glob.iglob": _LISTS_FILES,
    "os.getenv": _READS_ENVIRONMENT,
    "os.getenvb": _READS_ENVIRONMENT,
}
_RISKY_CALL_PREFIXES = (
    ("os.exec", _RUNS_PROGRAMS),
    ("os.spawn", _RUNS_PROGRAMS),
    ("os.posix_spawn", _RUNS_PROGRAMS),
    ("subprocess.", _RUNS_PROGRAMS),
    ("socket.", "opens network connections"),
    ("urllib.request.", "accesses the network"),
    ("requests.", "accesses the network"),
    ("http.client.", "accesses the network"),
    ("httpx.", "accesses the network"),
    ("urllib3.", "accesses the network"),
    ("aiohttp.", "accesses the network"),
    ("ctypes.", "calls native code directly"),
    ("pandas.read_", _READS_FILES),
)
_ATTRIBUTE_BUILTINS = frozenset({"getattr", "setattr", "delattr"})

# Top-level modules whose import a reviewer should see (common ones like os and sys are not).
_NETWORK = "can reach the network"
_RISKY_MODULES = {
    "subprocess": "can run other programs",
    "multiprocessing": "can start processes",
    "pty": "can start processes",
    "socket": _NETWORK,
    "requests": _NETWORK,
    "urllib": _NETWORK,
    "urllib3": _NETWORK,
    "http": _NETWORK,
    "httpx": _NETWORK,
    "aiohttp": _NETWORK,
    "ftplib": _NETWORK,
    "smtplib": _NETWORK,
    "telnetlib": _NETWORK,
    "paramiko": _NETWORK,
    "ctypes": "can call native code",
    "pickle": "can run arbitrary code while loading data",
    "marshal": "can load code objects",
    "dill": "can run arbitrary code while loading data",
    "cloudpickle": "can run arbitrary code while loading data",
    "shelve": "can run arbitrary code while loading data",
    "shutil": "can delete or move files",
    "importlib": "can import modules chosen at run time",
    # The output checks run in the function's own process: code reaching for them, or for any
    # object of the process, could tamper with the report a reviewer relies on.
    "jupyter_syft": "can reach the Datasite's own code in the sandbox (e.g. its output checks)",
    "gc": "can reach any object of the process (e.g. the output checks)",
}

# How a free name is read; the fix we suggest depends on it.
_ATTR = 1  # `np.sum`: looks like a module
_CALL = 2  # `helper(x)`: looks like a helper function
_SIG_DEFAULT = 4  # in a default value of the analyzed function itself
_SIG_ANNOTATION = 8  # in a parameter/return annotation of the analyzed function itself
_SIG = _SIG_DEFAULT | _SIG_ANNOTATION

_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


class _Scope:
    """The names one function, lambda, class body or comprehension binds and declares."""

    __slots__ = (
        "assigned",
        "bound",
        "declared_global",
        "declared_nonlocal",
        "imports",
        "kind",
        "parent",
    )

    def __init__(self, kind: str, parent: _Scope | None) -> None:
        self.kind = kind  # "module", "function", "class" or "comprehension"
        self.parent = parent
        self.bound: set[str] = set()  # every local binding, parameters included
        # Bindings that give the name a value (`x += 1` and `del x` need one already).
        self.assigned: set[str] = set()
        self.declared_global: set[str] = set()
        self.declared_nonlocal: set[str] = set()
        self.imports: dict[str, str] = {}  # local name -> dotted import path, for risky calls


_Read = tuple[str, int, _Scope, int]  # name, line, scope it is read in, _ATTR/_CALL/_SIG flags


class _Walker:
    """First pass: record scopes, bindings, reads and calls of one function (two-pass, since
    a name may be bound after it is read)."""

    def __init__(self, offset: int) -> None:
        self.offset = offset  # parsed line - offset = line in the caller's source
        self.module = _Scope("module", None)
        self.scope = self.module
        self.scopes: list[_Scope] = [self.module]
        self.reads: list[_Read] = []
        self.calls: list[tuple[_Scope, ast.Call]] = []
        self.attributes: list[tuple[_Scope, ast.Attribute]] = []  # `name.attr` reads
        self.findings: list[Finding] = []
        self.nonlocals: list[tuple[_Scope, str, int]] = []
        self.sig = 0  # _SIG_* while visiting the analyzed function's own signature
        self.annotation: ast.expr | None = None  # the signature annotation being visited
        self.sig_annotations: dict[str, ast.expr] = {}  # free name -> first annotation using it
        # Whether a construct the compiler may still reject after parsing was seen (see
        # _compiler_checked): only then is the function compiled, which costs as much as
        # parsing it.
        self.needs_compile = False

    # -- helpers ---------------------------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            self.generic(node)
        else:
            handler(self, node)

    def generic(self, node: ast.AST) -> None:
        for field in _child_fields(type(node)):
            value = getattr(node, field, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    def line(self, node: ast.AST) -> int:
        return int(getattr(node, "lineno", 0)) - self.offset

    def read(self, name: str, node: ast.AST, flags: int) -> None:
        self.reads.append((name, self.line(node), self.scope, flags | self.sig))
        if self.sig & _SIG_ANNOTATION and self.annotation is not None:
            self.sig_annotations.setdefault(name, self.annotation)

    def bind(self, name: str, *, assigned: bool = True, scope: _Scope | None = None) -> None:
        scope = scope or self.scope
        scope.bound.add(name)
        if assigned:
            scope.assigned.add(name)

    def push(self, kind: str) -> tuple[_Scope, int]:
        saved = (self.scope, self.sig)
        self.scope = _Scope(kind, self.scope)
        self.scopes.append(self.scope)
        if kind != "comprehension":  # a comprehension in a default still runs at def time
            self.sig = 0
        return saved

    def pop(self, saved: tuple[_Scope, int]) -> None:
        self.scope, self.sig = saved

    def add(self, kind: str, severity: str, node: ast.AST | int, name: str, message: str) -> None:
        line = node if isinstance(node, int) else self.line(node)
        self.findings.append(Finding(kind, severity, line, name, message))

    # -- scopes ----------------------------------------------------------------------------

    def function(self, node: _FunctionNode, top: bool = False) -> None:
        # Decorators, defaults and annotations run in the enclosing scope when the `def`
        # runs. The analyzed function's own decorators stay on the client: skip them.
        if not top:
            self.visit_all(node.decorator_list)
        self.bind(node.name)
        type_params = getattr(node, "type_params", None)  # `def f[T](x: T)`, Python 3.12+
        outer = self.push("function") if type_params else None
        for param in type_params or ():
            self.bind(param.name)
        self.signature(node.args, node.returns, top)
        saved = self.push("function")
        self.parameters(node.args)
        self.visit_all(node.body)
        self.pop(saved)
        if outer is not None:
            self.needs_compile = True
            self.pop(outer)

    def parameters(self, args: ast.arguments) -> None:
        params = _arguments(args)
        for arg in params:
            self.bind(arg.arg)
        if len(self.scope.bound) != len(params):  # `def f(a, a)`
            self.needs_compile = True

    def signature(self, args: ast.arguments, returns: ast.expr | None, top: bool) -> None:
        self.sig = _SIG_DEFAULT if top else 0
        self.visit_all(args.defaults)
        self.visit_all(args.kw_defaults)
        self.sig = _SIG_ANNOTATION if top else 0
        for annotation in [arg.annotation for arg in _arguments(args)] + [returns]:
            if annotation is not None:
                self.annotation = annotation
                self.visit(annotation)
        self.sig, self.annotation = 0, None

    def lambda_(self, node: ast.Lambda) -> None:
        self.visit_all(node.args.defaults)
        self.visit_all(node.args.kw_defaults)
        saved = self.push("function")
        self.parameters(node.args)
        self.visit(node.body)
        self.pop(saved)

    def class_(self, node: ast.ClassDef) -> None:
        self.visit_all(node.decorator_list)
        self.visit_all(node.bases)
        self.visit_all(kw.value for kw in node.keywords)
        self.bind(node.name)
        saved = self.push("class")
        for param in getattr(node, "type_params", ()):
            self.bind(param.name)
        self.visit_all(node.body)
        self.pop(saved)

    def comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        # The first iterable is evaluated outside the comprehension's own scope.
        generators = node.generators
        if any(generator.is_async for generator in generators):
            self.needs_compile = True
        self.visit(generators[0].iter)
        saved = self.push("comprehension")
        for i, generator in enumerate(generators):
            self.visit(generator.target)
            if i:
                self.visit(generator.iter)
            self.visit_all(generator.ifs)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        self.pop(saved)

    # -- names -----------------------------------------------------------------------------

    def name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.read(node.id, node, 0)
        else:  # `del x` makes x local too, but gives it no value
            self.bind(node.id, assigned=isinstance(node.ctx, ast.Store))

    def attribute(self, node: ast.Attribute) -> None:
        if node.attr == "__debug__":
            self.needs_compile = True
        if type(node.value) is ast.Name:
            self.read(node.value.id, node.value, _ATTR)
            self.attributes.append((self.scope, node))
        else:
            self.visit(node.value)

    def call(self, node: ast.Call) -> None:
        if type(node.func) is ast.Name:
            self.read(node.func.id, node.func, _CALL)
        else:
            self.visit(node.func)
        self.visit_all(node.args)
        keywords = node.keywords
        if len(keywords) > 1 and len({kw.arg for kw in keywords}) < len(keywords):
            self.needs_compile = True  # `f(a=1, a=2)`, or just two `**kwargs`
        for kw in keywords:
            if kw.arg == "__debug__":
                self.needs_compile = True
            self.visit(kw.value)
        self.calls.append((self.scope, node))

    def named_expr(self, node: ast.NamedExpr) -> None:
        self.needs_compile = True
        self.visit(node.value)
        # A walrus in a comprehension binds in the enclosing function, not the comprehension.
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        self.bind(node.target.id, scope=scope)

    def aug_assign(self, node: ast.AugAssign) -> None:
        if type(node.target) is ast.Name:  # `x += 1` reads x before binding it
            self.read(node.target.id, node.target, 0)
            self.bind(node.target.id, assigned=False)
        else:
            self.visit(node.target)
        self.visit(node.value)

    def ann_assign(self, node: ast.AnnAssign) -> None:
        self.visit(node.target)
        # Annotations of local variables are never evaluated; in a class body they are.
        if self.scope.kind != "function":
            self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)

    def binop(self, node: ast.BinOp) -> None:
        # Iterate down `a + b + c + ...`: long sums nest deeply and would exhaust the stack.
        rights = []
        current: ast.expr = node
        while type(current) is ast.BinOp:
            rights.append(current.right)
            current = current.left
        self.visit(current)
        self.visit_all(reversed(rights))

    def if_(self, node: ast.If) -> None:
        # Same for long `elif` chains, which nest in `orelse`.
        current = node
        while True:
            self.visit(current.test)
            self.visit_all(current.body)
            orelse = current.orelse
            if len(orelse) == 1 and type(orelse[0]) is ast.If:
                current = orelse[0]
                continue
            self.visit_all(orelse)
            return

    def except_handler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        else:  # a bare `except:` must come last
            self.needs_compile = True
        if node.name:
            self.bind(node.name)
        self.visit_all(node.body)

    def match_as(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name:
            self.bind(node.name)

    def match_star(self, node: ast.MatchStar) -> None:
        if node.name:
            self.bind(node.name)

    def match_mapping(self, node: ast.MatchMapping) -> None:
        self.visit_all(node.keys)
        self.visit_all(node.patterns)
        if node.rest:
            self.bind(node.rest)

    # -- statements ------------------------------------------------------------------------

    def import_(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                local, target = alias.asname, alias.name
            else:  # `import a.b` binds `a`
                local = target = alias.name.partition(".")[0]
            self.bind(local)
            self.scope.imports[local] = target
            self.check_import(alias.name, node)

    def import_from(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        absolute = node.level == 0
        if module == "__future__":  # only allowed at the top of a module
            self.needs_compile = True
        if absolute and module:
            self.check_import(module, node)
        for alias in node.names:
            if alias.name == "*":
                self.add(
                    SYNTAX_ERROR,
                    ERROR,
                    node,
                    module or "*",
                    f"`from {module} import *` is not allowed inside a function "
                    f"(line {self.line(node)}): import the names you use instead.",
                )
                continue
            local = alias.asname or alias.name
            self.bind(local)
            if absolute:
                self.scope.imports[local] = f"{module}.{alias.name}"

    def check_import(self, module: str, node: ast.AST) -> None:
        reason = _RISKY_MODULES.get(module.partition(".")[0])
        if reason is not None:
            self.add(
                RISKY_IMPORT,
                WARNING,
                node,
                module,
                f"imports `{module}`, which {reason} (line {self.line(node)}): "
                "keep it only if the function needs it; the reviewer will see this.",
            )

    def global_(self, node: ast.Global) -> None:
        self.needs_compile = True
        for name in node.names:
            self.scope.declared_global.add(name)
            self.add(
                GLOBAL_STATEMENT,
                WARNING,
                node,
                name,
                f"`global {name}` (line {self.line(node)}) refers to a variable outside the "
                "function, which does not exist on the server: pass values in as arguments "
                "and return results instead.",
            )

    def nonlocal_(self, node: ast.Nonlocal) -> None:
        self.needs_compile = True
        for name in node.names:
            self.scope.declared_nonlocal.add(name)
            self.nonlocals.append((self.scope, name, self.line(node)))
            self.add(
                NONLOCAL_STATEMENT,
                WARNING,
                node,
                name,
                f"`nonlocal {name}` (line {self.line(node)}) rebinds a variable of an "
                "enclosing function: make sure that is intended; returning the value is "
                "clearer.",
            )

    def return_(self, node: ast.Return) -> None:
        if self.scope.kind == "class":
            self.needs_compile = True
        if node.value is not None:
            self.visit(node.value)

    def compiler_checked(self, node: ast.AST) -> None:
        self.needs_compile = True
        self.generic(node)

    def constant(self, node: ast.Constant) -> None:
        pass


def _comprehension(walker: _Walker, node: ast.AST) -> None:
    walker.comprehension(node)  # type: ignore[arg-type]


_HANDLERS: dict[type, Callable[[_Walker, Any], None]] = {
    ast.Name: _Walker.name,
    ast.Attribute: _Walker.attribute,
    ast.Call: _Walker.call,
    ast.Constant: _Walker.constant,
    ast.BinOp: _Walker.binop,
    ast.If: _Walker.if_,
    ast.NamedExpr: _Walker.named_expr,
    ast.AugAssign: _Walker.aug_assign,
    ast.AnnAssign: _Walker.ann_assign,
    ast.FunctionDef: _Walker.function,
    ast.AsyncFunctionDef: _Walker.function,
    ast.Lambda: _Walker.lambda_,
    ast.ClassDef: _Walker.class_,
    ast.ListComp: _comprehension,
    ast.SetComp: _comprehension,
    ast.GeneratorExp: _comprehension,
    ast.DictComp: _comprehension,
    ast.ExceptHandler: _Walker.except_handler,
    ast.MatchAs: _Walker.match_as,
    ast.MatchStar: _Walker.match_star,
    ast.MatchMapping: _Walker.match_mapping,
    ast.Import: _Walker.import_,
    ast.ImportFrom: _Walker.import_from,
    ast.Global: _Walker.global_,
    ast.Nonlocal: _Walker.nonlocal_,
    ast.Return: _Walker.return_,
}
# Constructs the parser accepts but the compiler may reject (`break` outside a loop, `await`
# outside `async def`, `yield` in a class body, starred or pattern misuse...). Everything else
# the compiler can reject is flagged in the handlers above: duplicate parameters or keywords,
# `__debug__`, bare `except:`, `__future__`, `global`/`nonlocal`, walrus, async comprehensions.
for _name in (
    "Break",
    "Continue",
    "Starred",
    "Await",
    "Yield",
    "YieldFrom",
    "AsyncFor",
    "AsyncWith",
    "Match",
    "TryStar",  # Python 3.11+
    "TypeAlias",  # Python 3.12+
):
    _node_type = getattr(ast, _name, None)
    if _node_type is not None:
        _HANDLERS[_node_type] = _Walker.compiler_checked

# Fields that never hold a name: contexts, operators and plain values.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "kind", "type_comment", "type_ignores"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        all_fields: tuple[str, ...] = getattr(cls, "_fields", ())
        fields = _CHILD_FIELDS[cls] = tuple(f for f in all_fields if f not in _LEAF_FIELDS)
    return fields


def _arguments(args: ast.arguments) -> list[ast.arg]:
    """All parameters in signature order."""
    params = [*args.posonlyargs, *args.args]
    if args.vararg is not None:
        params.append(args.vararg)
    params.extend(args.kwonlyargs)
    if args.kwarg is not None:
        params.append(args.kwarg)
    return params


# -- second pass ---------------------------------------------------------------------------


def _binding_scope(scope: _Scope, name: str) -> _Scope | None:
    """The scope `name` read in `scope` resolves to, None for the module (server) namespace."""
    current: _Scope | None = scope
    first = True
    while current is not None and current.kind != "module":
        if current.kind == "class" and not first:
            # Class bodies are invisible to the functions inside them, except for the
            # implicit `__class__` cell that `super()` uses.
            if name == "__class__":
                return current
        elif name in current.declared_global:
            return None
        elif name in current.bound or name in current.declared_nonlocal:
            return current
        current = current.parent
        first = False
    return None


def _nonlocal_has_binding(scope: _Scope, name: str) -> bool:
    current = scope.parent
    while current is not None and current.kind != "module":
        if current.kind != "class":
            if name in current.declared_global:
                return False
            if name in current.bound or name in current.declared_nonlocal:
                return True
        current = current.parent
    return False


def _resolve_call(scope: _Scope, func: ast.expr, available: frozenset[str]) -> str:
    """Dotted name a call goes to (`sp.run` after `import subprocess as sp` -> subprocess.run),
    or "" when it is not a plain name or attribute chain, or is a local non-import value."""
    attrs: list[str] = []
    while type(func) is ast.Attribute:
        attrs.append(func.attr)
        func = func.value
    if type(func) is not ast.Name:
        return ""
    base = func.id
    binding = _binding_scope(scope, base)
    if binding is not None:
        target = binding.imports.get(base)
        if target is None:
            return ""  # a local variable that happens to share a module's name
    elif base in available:
        return ""  # the function itself, another Syft function or a server-provided name
    else:
        target = base  # a builtin, or a free name (reported separately)
    attrs.append(target)
    return ".".join(reversed(attrs)).removeprefix("builtins.")


def _risky_call(walker: _Walker, scope: _Scope, call: ast.Call, available: frozenset[str]) -> None:
    qualname = _resolve_call(scope, call.func, available)
    if not qualname:
        return
    line = walker.line(call)
    if qualname in _ATTRIBUTE_BUILTINS:
        literal = (
            len(call.args) >= 2
            and isinstance(call.args[1], ast.Constant)
            and isinstance(call.args[1].value, str)
        )
        if not literal:
            walker.add(
                RISKY_CALL,
                WARNING,
                line,
                qualname,
                f"`{qualname}` with a computed attribute name (line {line}) can reach "
                "anything: use a literal name if you can; the reviewer will see this.",
            )
        return
    reason = _RISKY_CALLS.get(qualname)
    if reason is None:
        for prefix, prefix_reason in _RISKY_CALL_PREFIXES:
            if qualname.startswith(prefix):
                reason = prefix_reason
                break
        else:
            return
    walker.add(
        RISKY_CALL,
        WARNING,
        line,
        qualname,
        f"`{qualname}` {reason} (line {line}): keep it only if the function needs it; "
        "the reviewer will see this.",
    )


def _module_for(name: str) -> str | None:
    """The module a name used as `name.attr` most likely stands for."""
    if name in _ALIASES:
        return _ALIASES[name]
    if name in _COMMON_MODULES:
        return name
    return None


def _free_name_message(
    name: str, line: int, flags: int, sig_flags: int, annotation: ast.expr | None
) -> str:
    """`flags`: how the body reads the name (-1 if it does not); `sig_flags`: where the
    function's own signature does."""
    fixes = []
    if flags >= 0:
        module = _module_for(name) if flags & _ATTR else None
        if module is not None:
            statement = f"import {module}" + (f" as {name}" if module != name else "")
            fixes.append(f"import {module} inside it (`{statement}`)")
        elif flags & _CALL and name[:1].isupper():
            fixes.append("import or define it inside the function")
        elif flags & _CALL:
            fixes.append(
                "define the helper inside the function or submit it as its own Syft function"
            )
        elif flags & _ATTR:
            fixes.append(
                "define it inside the function or pass it as an argument "
                "(if it is a module, import it inside the function)"
            )
        else:
            fixes.append("define it inside the function or pass it as an argument")
    # The function's own defaults and annotations are evaluated when the server defines it,
    # before its body runs: importing inside the body does not help them.
    if sig_flags & _SIG_ANNOTATION:
        text = ast.unparse(annotation) if annotation is not None else name
        fixes.append(
            f"annotations are evaluated when the function is defined, so use a string "
            f'annotation ("{text}") or remove it'
        )
    if sig_flags & _SIG_DEFAULT:
        fixes.append(
            "defaults are evaluated when the function is defined, so use a literal default "
            "and compute the value inside the function"
        )
    return f"`{name}` comes from outside the function (line {line}): {'; '.join(fixes)}."


def _second_pass(walker: _Walker, available: frozenset[str]) -> None:
    # Names the server namespace will hold: the function itself, plus what the function
    # assigns through `global` declarations.
    module_names = set(walker.module.bound)
    for scope in walker.scopes:
        if scope.declared_global:
            module_names |= scope.assigned & scope.declared_global
        if "__debug__" in scope.bound:  # a compile error
            walker.needs_compile = True
    defined = available | module_names

    # name -> [first line, flags of body reads (-1: none), flags of signature reads]
    free: dict[str, list[int]] = {}
    for name, line, scope, flags in walker.reads:
        if name in _BUILTINS or name in defined or _binding_scope(scope, name) is not None:
            continue
        seen = free.setdefault(name, [line, -1, 0])
        seen[0] = min(seen[0], line)
        if flags & _SIG:
            seen[2] |= flags
        else:
            seen[1] = max(seen[1], 0) | flags
    for name, (line, flags, sig_flags) in free.items():
        annotation = walker.sig_annotations.get(name)
        message = _free_name_message(name, line, flags, sig_flags, annotation)
        walker.add(FREE_NAME, ERROR, line, name, message)

    for scope, name, line in walker.nonlocals:
        if not _nonlocal_has_binding(scope, name):
            walker.add(
                SYNTAX_ERROR,
                ERROR,
                line,
                name,
                f"`nonlocal {name}` (line {line}) has no enclosing function that binds "
                f"`{name}` (was the function nested in another one?): pass `{name}` as an "
                "argument instead.",
            )

    for scope, call in walker.calls:
        _risky_call(walker, scope, call, defined)
    for scope, attribute in walker.attributes:
        _environment_read(walker, scope, attribute, defined)


_ENVIRONMENT_ATTRIBUTES = frozenset({"os.environ", "os.environb", "posix.environ"})


def _environment_read(
    walker: _Walker, scope: _Scope, node: ast.Attribute, available: frozenset[str]
) -> None:
    """`os.environ` (read, indexed, iterated or copied): the server's secrets, not data."""
    qualname = _resolve_call(scope, node, available)
    if qualname not in _ENVIRONMENT_ATTRIBUTES:
        return
    line = walker.line(node)
    walker.add(
        ENVIRONMENT_READ,
        WARNING,
        line,
        qualname,
        f"`{qualname}` (line {line}) reads the server's environment variables, which can "
        "hold secrets (tokens, passwords); a function computing on its inputs does not need "
        "them. The reviewer will see this.",
    )


# Methods that hand back rows of a table as they are, and methods that aggregate. A return
# whose chain has a row method and no aggregate is flagged: rows identify people.
_ROW_METHOD_NAMES = (
    "head tail sample nlargest nsmallest to_records to_numpy tolist to_list to_csv to_json "
    "to_string to_markdown to_html to_parquet iterrows itertuples take"
)
_ROW_METHODS = frozenset(_ROW_METHOD_NAMES.split())
_ROW_ATTRIBUTES = frozenset({"values", "iloc", "loc", "at", "iat", "T"})
_AGGREGATE_NAMES = (
    "groupby agg aggregate mean median sum count size std var min max quantile describe "
    "value_counts nunique corr cov crosstab pivot_table resample rolling cumsum prod sem "
    "skew kurt mode idxmax idxmin any all fit predict score"
)
_AGGREGATES = frozenset(_AGGREGATE_NAMES.split())
_RECORD_ORIENTS = frozenset({"records", "list", "index", "split", "tight", "dict"})


def row_level_returns(node: _FunctionNode, offset: int) -> list[Finding]:
    """Returns that give back rows of an input rather than an aggregate of it: the input
    itself (`return data`), or a chain like `data.head(50).to_dict("records")` with no
    aggregation on the way. A heuristic for the reviewer (a warning), not a rule: the safe
    outputs checks decide what is released."""
    params = {a.arg for a in _arguments(node.args)} - {"datasite"}
    assigned: dict[str, list[ast.expr]] = {}
    returns: list[tuple[ast.Return, ast.expr]] = []
    for child in _own_nodes(node):
        if isinstance(child, ast.Assign) and len(child.targets) == 1:
            target = child.targets[0]
            if isinstance(target, ast.Name):
                assigned.setdefault(target.id, []).append(child.value)
        elif isinstance(child, ast.Return) and child.value is not None:
            returns.append((child, child.value))
    findings = []
    for ret, value in returns:
        what = _rows_in(value, params, assigned, depth=0)
        if what:
            line = ret.lineno - offset
            findings.append(
                Finding(
                    ROW_LEVEL_RETURN,
                    WARNING,
                    line,
                    what,
                    f"line {line} returns rows of the input ({what}), not an aggregate of "
                    "them: rows identify people. Return counts, means or model parameters "
                    "instead; the reviewer will see this.",
                )
            )
    return findings


def _own_nodes(node: _FunctionNode) -> Iterable[ast.AST]:
    """The function's nodes, without those of functions and classes nested in it."""
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    stack: list[ast.AST] = [n for n in node.body if not isinstance(n, nested)]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in ast.iter_child_nodes(current) if not isinstance(c, nested))


def _rows_in(
    expr: ast.expr, params: set[str], assigned: dict[str, list[ast.expr]], depth: int
) -> str:
    """What in ``expr`` hands back rows ("" when nothing does)."""
    if depth > 3:
        return ""
    if isinstance(expr, (ast.Tuple, ast.List)):
        return next((w for e in expr.elts if (w := _rows_in(e, params, assigned, depth))), "")
    if isinstance(expr, ast.Dict):
        values = [v for v in expr.values if v is not None]
        return next((w for v in values if (w := _rows_in(v, params, assigned, depth))), "")
    chain: list[tuple[str, ast.expr]] = []  # (method or attribute, node), outermost first
    current = expr
    while True:
        if isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
            chain.append((current.func.attr, current))
            current = current.func.value
        elif isinstance(current, ast.Attribute):
            chain.append((current.attr, current))
            current = current.value
        elif isinstance(current, ast.Subscript):
            chain.append(("[]", current))
            current = current.value
        else:
            break
    if not isinstance(current, ast.Name):
        return ""
    names = [name for name, _node in chain]
    if any(name in _AGGREGATES for name in names):
        return ""
    rowish = [
        name
        for name, part in chain
        if name in _ROW_METHODS
        or name in _ROW_ATTRIBUTES
        or (name == "to_dict" and _record_orient(part))
    ]
    if current.id in params:
        if rowish or not chain or all(n == "[]" for n in names):
            return ast.unparse(expr)[:120]
        return ""
    if not chain and current.id in assigned:  # `rows = data.head(); return rows`
        for value in assigned[current.id]:
            found = _rows_in(value, params, assigned, depth + 1)
            if found:
                return f"{current.id} = {found}"
    return ""


def _record_orient(call: ast.expr) -> bool:
    if not isinstance(call, ast.Call):
        return False
    orient = call.args[0] if call.args else None
    for kw in call.keywords:
        if kw.arg == "orient":
            orient = kw.value
    return isinstance(orient, ast.Constant) and orient.value in _RECORD_ORIENTS


# -- parsing and selecting the function -----------------------------------------------------


def _parse(source: str) -> tuple[list[ast.stmt], int]:
    """Top-level statements of a possibly indented snippet, and the line offset to subtract.

    An indented snippet is parsed inside `if 1:` rather than dedented, so that string
    contents and line numbers stay exactly those of the source.
    """
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped and not stripped.startswith("#"):
            indented = stripped != line
            break
    else:
        indented = False
    if not indented:
        return ast.parse(source).body, 0
    try:
        wrapper = ast.parse("if 1:\n" + source).body[0]
    except SyntaxError as exc:
        if exc.lineno is not None:
            exc.lineno = max(exc.lineno - 1, 1)
        raise
    assert isinstance(wrapper, ast.If)
    return wrapper.body, 1


def _select(body: list[ast.stmt], func_name: str | None) -> _FunctionNode | str:
    """The function to analyze, or a message saying why there is none."""
    defs = [node for node in body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    names = ", ".join(node.name for node in defs)
    if func_name is not None:
        matches = [node for node in defs if node.name == func_name]
        if matches:
            return matches[-1]  # a later `def` replaces an earlier one, as in Python
        found = f" (found: {names})" if defs else ""
        return f"the source has no function named `{func_name}`{found}: pass the source of it."
    if len(defs) == 1:
        return defs[0]
    if not defs:
        return "the source does not define a function: a Syft function must be a `def`."
    decorated = [node for node in defs if node.decorator_list]
    if len(decorated) == 1:
        return decorated[0]  # a cell with helpers and one decorated Syft function
    return f"the source defines several functions ({names}): say which one to analyze."


def _syntax_finding(exc: SyntaxError, offset: int = 0) -> Finding:
    line = max((exc.lineno or 0) - offset, 0)
    where = f" (line {line})" if line else ""
    return Finding(
        SYNTAX_ERROR,
        ERROR,
        line,
        "",
        f"Python cannot compile the function: {exc.msg}{where}. Fix it before submitting.",
    )


def _compile_error(node: _FunctionNode, offset: int) -> Finding | None:
    """What the server's compiler would reject (e.g. `break` outside a loop), decorators
    excluded."""
    # A shallow copy: the AST is shared with the caller's walk.
    bare = type(node)(**{field: getattr(node, field) for field in node._fields})
    bare.decorator_list = []
    ast.copy_location(bare, node)
    try:
        compile(
            ast.Module(body=[bare], type_ignores=[]), "<syft function>", "exec", dont_inherit=True
        )
    except SyntaxError as exc:
        return _syntax_finding(exc, offset)
    except (ValueError, RecursionError, MemoryError) as exc:
        return Finding(SYNTAX_ERROR, ERROR, 0, "", f"Python cannot compile the function: {exc}.")
    return None


def _policy_findings(node: _FunctionNode, keys: Iterable[str], offset: int) -> list[Finding]:
    params = [arg.arg for arg in _arguments(node.args)]
    findings = []
    for key in dict.fromkeys(keys):  # once each, in order
        if key in params:
            continue
        # Point at `key=` in the decorator when it is there, else at the `def` line.
        line = node.lineno - offset
        for keyword in (
            kw for dec in node.decorator_list for kw in ast.walk(dec) if isinstance(kw, ast.keyword)
        ):
            if keyword.arg == key:
                line = keyword.lineno - offset
                break
        if params:
            listed = f"parameters: {', '.join(params)}"
            import difflib  # only needed here, and rarely

            close = difflib.get_close_matches(key, params, n=1)
            fix = f"did you mean `{close[0]}`?" if close else "use a parameter name as the key."
        else:
            listed, fix = "it has no parameters", "add the parameter or remove the input."
        findings.append(
            Finding(
                UNKNOWN_POLICY_KEY,
                WARNING,
                line,
                key,
                f"policy input `{key}` matches no parameter of `{node.name}` ({listed}): {fix}",
            )
        )
    return findings


# -- public API -----------------------------------------------------------------------------


def analyze(
    source: str,
    func_name: str | None = None,
    *,
    policy_keys: Iterable[str] = (),
    known_functions: Iterable[str] = (),
    injected: Iterable[str] = ("datasite",),
) -> list[Finding]:
    """Check that a Syft function will run on the server and list what a reviewer should see.

    ``source`` is one function definition, possibly decorated and indented (a notebook cell or
    a method's source). ``func_name`` picks the function when the source has several; without
    it the only (or the only decorated) top-level function is used. ``policy_keys`` are the
    input names of the function's policy, ``known_functions`` other Syft functions the server
    provides by name, ``injected`` names the server puts in the function's namespace.

    Returns findings sorted by (line, kind); lines are those of ``source`` as given.
    """
    parsed = _parsed(source, func_name)
    if isinstance(parsed, list):
        return parsed
    selected, offset = parsed
    return _findings(
        selected, offset, list(_launch_job_calls(selected)), policy_keys, known_functions, injected
    )


@dataclass(frozen=True)
class Submission:
    """A submitted function checked from one parse of its source: :func:`analyze`'s
    findings and, when the function was found, what :func:`strip_decorators`,
    :func:`function_parameters` and :func:`nested_calls` give for it."""

    findings: list[Finding]
    code: str  # these three are empty when the function was not found
    parameters: list[str]
    nested_calls: list[str]


def check_submission(
    source: str,
    func_name: str | None = None,
    *,
    policy_keys: Iterable[str] = (),
    known_functions: Iterable[str] = (),
    injected: Iterable[str] = ("datasite",),
) -> Submission:
    """:func:`analyze` (same arguments) and the function's stored parts, parsing the source
    once (the server's submission)."""
    parsed = _parsed(source, func_name)
    if isinstance(parsed, list):
        return Submission(parsed, "", [], [])
    selected, offset = parsed
    calls = list(_launch_job_calls(selected))
    return Submission(
        _findings(selected, offset, calls, policy_keys, known_functions, injected),
        code=_stripped(source, selected, offset),
        parameters=[arg.arg for arg in _arguments(selected.args)],
        nested_calls=_nested_names(calls),
    )


def _parsed(source: str, func_name: str | None) -> tuple[_FunctionNode, int] | list[Finding]:
    """The function to analyze and its line offset, or the finding saying why there is none."""
    try:
        body, offset = _parse(source)
    except SyntaxError as exc:
        return [_syntax_finding(exc)]
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. NUL bytes, deep nesting
        return [Finding(SYNTAX_ERROR, ERROR, 0, "", f"Python cannot parse the function: {exc}.")]
    selected = _select(body, func_name)
    if isinstance(selected, str):
        return [Finding(NOT_A_FUNCTION, ERROR, 0, func_name or "", selected)]
    return selected, offset


def _findings(
    selected: _FunctionNode,
    offset: int,
    calls: list[tuple[ast.Call, str | None]],
    policy_keys: Iterable[str],
    known_functions: Iterable[str],
    injected: Iterable[str],
) -> list[Finding]:
    """``analyze``'s findings for the selected function (``calls``: its ``launch_job`` calls)."""
    walker = _Walker(offset)
    try:
        walker.function(selected, top=True)
        _second_pass(walker, frozenset(known_functions) | frozenset(injected))
    except RecursionError:
        return [
            Finding(
                SYNTAX_ERROR,
                ERROR,
                selected.lineno - offset,
                selected.name,
                "the function is nested too deeply to check: split it into smaller parts.",
            )
        ]
    findings = walker.findings
    # Our own syntax findings explain better than the compiler's message.
    if walker.needs_compile and not any(f.kind == SYNTAX_ERROR for f in findings):
        error = _compile_error(selected, offset)
        if error is not None:
            findings.append(error)
    findings.extend(_policy_findings(selected, policy_keys, offset))
    findings.extend(_nested_findings(calls, offset))
    findings.extend(row_level_returns(selected, offset))
    findings.sort(key=lambda f: (f.line, f.kind, f.name))
    return findings


def _select_or_raise(source: str, func_name: str | None) -> tuple[_FunctionNode, int]:
    body, offset = _parse(source)
    selected = _select(body, func_name)
    if isinstance(selected, str):
        raise ValueError(selected)
    return selected, offset


def strip_decorators(source: str, func_name: str | None = None) -> str:
    """The selected function's source from its ``def`` line on, without decorators, dedented.

    Lines are not kept in place: line 1 of the result is the ``def`` line. Raises SyntaxError
    if the source does not parse and ValueError if it has no (such) function.
    """
    node, offset = _select_or_raise(source, func_name)
    return _stripped(source, node, offset)


def _stripped(source: str, node: _FunctionNode, offset: int) -> str:
    """``strip_decorators`` of ``node``, found in ``source`` at line offset ``offset``."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = node.lineno - offset - 1
    end = (node.end_lineno or node.lineno) - offset
    selected = lines[start:end]
    first = selected[0]
    indent = first[: len(first) - len(first.lstrip())]
    out = []
    for line in selected:
        if line.startswith(indent):
            out.append(line[len(indent) :])
        else:  # blank, or inside a string literal: leave its text alone
            out.append(line if line.strip() else "")
    return "\n".join(out) + "\n"


def function_parameters(source: str, func_name: str | None = None) -> list[str]:
    """Parameter names of the selected function in signature order (``*args``/``**kwargs``
    included). Raises SyntaxError or ValueError like :func:`strip_decorators`."""
    node, _ = _select_or_raise(source, func_name)
    return [arg.arg for arg in _arguments(node.args)]


# -- nested jobs ------------------------------------------------------------------------------


def nested_calls(source: str, func_name: str | None = None) -> list[str]:
    """The Syft functions the selected function launches as nested jobs, in order of first use.

    Only real calls count: ``datasite.launch_job(other_fn, ...)`` where ``datasite`` is the
    function's injected parameter and ``other_fn`` a plain name. Text in comments and strings,
    or a function computed at run time, is not a nested call: the Datasite refuses to launch
    anything its owner was not shown. Raises SyntaxError or ValueError like
    :func:`strip_decorators`.
    """
    node, _ = _select_or_raise(source, func_name)
    return _nested_names(_launch_job_calls(node))


def _nested_names(calls: Iterable[tuple[ast.Call, str | None]]) -> list[str]:
    names: list[str] = []
    for _call, target in calls:
        if target is not None and target not in names:
            names.append(target)
    return names


def _launch_job_calls(node: _FunctionNode) -> Iterable[tuple[ast.Call, str | None]]:
    """Each ``datasite.launch_job(...)`` call, with the launched function's name (None when it
    is not a plain name, e.g. ``launch_job(fns[0])``)."""
    calls = sorted(
        (n for n in ast.walk(node) if isinstance(n, ast.Call)),
        key=lambda n: (n.lineno, n.col_offset),  # source order (ast.walk is breadth-first)
    )
    for call in calls:
        if not (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "launch_job"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "datasite"
        ):
            continue
        first = call.args[0] if call.args else None
        if first is None:
            first = next((kw.value for kw in call.keywords if kw.arg == "func"), None)
        yield call, first.id if isinstance(first, ast.Name) else None


def _nested_findings(calls: Iterable[tuple[ast.Call, str | None]], offset: int) -> list[Finding]:
    return [
        Finding(
            COMPUTED_NESTED_JOB,
            WARNING,
            call.lineno - offset,
            "launch_job",
            "datasite.launch_job is given a computed function; only a Syft function named "
            "directly (launch_job(other_fn, ...)) can be approved as a nested job, so this call "
            "will be refused on private data.",
        )
        for call, target in calls
        if target is None
    ]


# -- custom policy classes ------------------------------------------------------------------

NOT_A_POLICY = "not_a_policy"
# What the sandbox puts in a policy class's namespace (``server.execution.worker``): ``sy`` and
# ``syft`` (with the two base classes and SyftException), the bases by name, and the typing
# names policy annotations use (annotations are not evaluated there).
POLICY_NAMES = (
    "sy",
    "syft",
    "CustomInputPolicy",
    "CustomOutputPolicy",
    "SyftException",
    "Any",
    "Callable",
    "ClassVar",
    "Dict",
    "List",
    "Optional",
    "Set",
    "Tuple",
    "Type",
)


def analyze_policy_class(source: str, class_name: str, base: str) -> list[Finding]:
    """Check a custom policy class as :func:`analyze` checks a function: ``source`` must be
    exactly one class ``class_name`` deriving directly from ``base`` (``CustomInputPolicy``
    or ``CustomOutputPolicy``, written bare or as ``sy.<base>``); the names its methods read
    must be their own, builtins or what the sandbox provides (``POLICY_NAMES``); risky calls
    and imports are reported for the reviewer. Lines are those of ``source``."""
    try:
        body, offset = _parse(source)
    except SyntaxError as exc:
        return [_syntax_finding(exc)]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [Finding(SYNTAX_ERROR, ERROR, 0, "", f"Python cannot parse the policy: {exc}.")]
    classes = [n for n in body if isinstance(n, ast.ClassDef)]
    if len(body) != 1 or len(classes) != 1 or classes[0].name != class_name:
        message = (
            f"the policy source must be exactly one class, `class {class_name}({base}):`, with "
            "nothing else at the top level."
        )
        return [Finding(NOT_A_POLICY, ERROR, 0, class_name, message)]
    node = classes[0]
    bases = [ast.unparse(b) for b in node.bases]
    if bases not in ([base], [f"sy.{base}"], [f"syft.{base}"]) or node.keywords:
        message = (
            f"`{class_name}` must derive directly and only from sy.{base} "
            f"(found: {', '.join(bases) or 'no base'})."
        )
        return [Finding(NOT_A_POLICY, ERROR, node.lineno - offset, class_name, message)]
    walker = _Walker(offset)
    try:
        walker.class_(node)
        _second_pass(walker, frozenset(POLICY_NAMES))
    except RecursionError:
        return [
            Finding(
                SYNTAX_ERROR,
                ERROR,
                node.lineno - offset,
                class_name,
                "the policy is nested too deeply to check: split it into smaller parts.",
            )
        ]
    findings = walker.findings
    try:
        compile(ast.Module(body=[node], type_ignores=[]), "<policy>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        findings.append(_syntax_finding(exc, offset))
    except (ValueError, RecursionError, MemoryError) as exc:
        findings.append(Finding(SYNTAX_ERROR, ERROR, 0, "", f"Python cannot compile it: {exc}."))
    findings.sort(key=lambda f: (f.line, f.kind, f.name))
    return findings
