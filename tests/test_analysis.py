"""Static checks of Syft function source (jupyter_syft.analysis)."""

from __future__ import annotations

import ast
import builtins
import keyword
import os
import subprocess
import symtable
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_syft.analysis import Finding, analyze, function_parameters, strip_decorators


def check(source: str, *args, **kwargs) -> list[Finding]:
    return analyze(textwrap.dedent(source), *args, **kwargs)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def by_kind(findings: list[Finding], kind: str) -> dict[str, Finding]:
    return {f.name: f for f in findings if f.kind == kind}


def free(source: str, **kwargs) -> dict[str, Finding]:
    return by_kind(check(source, **kwargs), "free_name")


# -- the examples from PySyft's Code API guide ---------------------------------------------


def test_constant_defined_outside():
    findings = check(
        """
        CONST = 10

        @sy.syft_function_single_use(data=asset)
        def compute(data):
            return CONST * 2
        """
    )
    [finding] = findings
    assert (finding.kind, finding.severity, finding.name, finding.line) == (
        "free_name",
        "error",
        "CONST",
        6,
    )
    assert "define it inside the function or pass it as an argument" in finding.message


def test_constant_inside_is_fine():
    assert (
        check(
            """
            @sy.syft_function_single_use(data=asset)
            def compute(data):
                CONST = 10
                return CONST * 2
            """
        )
        == []
    )


def test_helper_defined_outside():
    found = free(
        """
        def helper(x):
            return x + 1

        @sy.syft_function_single_use(data=asset)
        def compute(data):
            return helper(data)
        """
    )
    assert list(found) == ["helper"]
    assert found["helper"].line == 7
    assert "define the helper inside the function or submit it as its own Syft function" in (
        found["helper"].message
    )


def test_helper_inside_is_fine():
    findings = check(
        """
        @sy.syft_function_single_use(data=asset)
        def compute(data):
            def helper(x):
                return x + 1

            return helper(data)
        """
    )
    assert errors(findings) == []


def test_numpy_imported_outside():
    found = free(
        """
        import numpy as np

        @sy.syft_function_single_use(data=asset)
        def compute(data):
            return np.sum(data)
        """
    )
    assert list(found) == ["np"]
    message = found["np"].message
    assert "import numpy inside it" in message
    assert "`import numpy as np`" in message
    assert "(line 6)" in message


def test_numpy_imported_inside_is_fine():
    source = """
        @sy.syft_function_single_use(data=asset)
        def compute(data):
            import numpy as np

            return np.sum(data)
        """
    assert check(source) == []


@pytest.mark.parametrize(
    ("name", "statement"),
    [
        ("pd", "import pandas as pd"),
        ("plt", "import matplotlib.pyplot as plt"),
        ("sk", "import sklearn as sk"),
        ("tf", "import tensorflow as tf"),
        ("torch", "import torch"),
        ("sp", "import scipy as sp"),
        ("scipy", "import scipy"),
        ("sns", "import seaborn as sns"),
        ("math", "import math"),
    ],
)
def test_module_aliases(name, statement):
    found = free(f"def f(x):\n    return {name}.thing(x)\n")
    assert f"`{statement}`" in found[name].message


def test_fix_depends_on_how_the_name_is_used():
    found = free(
        """
        def f(x):
            a = model.predict(x)
            b = Scaler()
            return a + b + THRESHOLD
        """
    )
    assert "if it is a module, import it inside" in found["model"].message
    assert "import or define it inside the function" in found["Scaler"].message
    assert "define it inside the function or pass it as an argument" in found["THRESHOLD"].message


def test_each_free_name_reported_once_at_first_use():
    found = free(
        """
        def f(x):
            y = x
            z = np.mean(x)
            return np.sum(y) + np.max(z)
        """
    )
    assert found["np"].line == 4
    assert len(check("def f():\n    return a + a + a\n")) == 1


# -- scopes -------------------------------------------------------------------------------


def test_all_kinds_of_local_bindings():
    source = """
        def f(p, /, q, *args, r=1, **kwargs):
            a = 1
            b: int = 2
            c += 1
            for d, (e, *g) in []:
                pass
            with open(p) as h, open(q) as (i, j):
                pass
            try:
                pass
            except Exception as k:
                pass
            if (m := 3):
                pass
            import os, os.path as osp
            from collections import OrderedDict as OD, deque
            def n(): pass
            class O: pass
            match p:
                case [s, *t]: pass
                case {"k": u, **v}: pass
                case Point(x=w) | Point(y=w): pass
                case z: pass
            del a
            return (p, q, args, r, kwargs, a, b, c, d, e, g, h, i, j, k, m, os, osp, OD, deque,
                    n, O, s, t, u, v, w, z)
        """
    found = free(source)
    assert list(found) == ["Point"]  # the class pattern refers to a class defined outside


def test_read_before_assignment_is_local():
    # Python raises UnboundLocalError here: not a missing global, so not our finding.
    assert free("def f():\n    print(x)\n    x = 1\n") == {}


def test_del_makes_a_name_local():
    assert free("def f():\n    del x\n") == {}


def test_nested_functions_and_closures():
    found = free(
        """
        def outer(data):
            scale = 2

            def inner(x, k=scale):
                return x * scale * k * offset

            def later():
                return inner(data) + total

            total = 0
            return later()
        """
    )
    assert list(found) == ["offset"]
    assert found["offset"].line == 6


def test_lambdas():
    found = free("def f(xs):\n    return sorted(xs, key=lambda x, k=KEY: x[k] + y)\n")
    assert set(found) == {"KEY", "y"}


def test_comprehensions():
    found = free(
        """
        def f(rows):
            a = [r for r in rows if r]
            b = {k: v for k, v in rows}
            c = {x for row in rows for x in row}
            d = list(g for g in rows)
            e = [z for z in range(3)] + [z]
            return a, b, c, d, e
        """
    )
    assert list(found) == ["z"]  # comprehension variables do not leak
    assert found["z"].line == 7


def test_walrus_in_comprehension_binds_in_function():
    assert free("def f(xs):\n    ys = [last := x for x in xs]\n    return last, ys\n") == {}


def test_class_body_names_are_not_visible_to_methods():
    found = free(
        """
        def f():
            class Model:
                rate = 0.1
                doubled = rate * 2
                squares = [rate * i for i in range(3)]
                firsts = [i for i in [rate]]

                def step(self):
                    return rate, Model, __class__, super()

            return Model
        """
    )
    # `squares` fails in Python too: the comprehension body cannot see class names.
    assert sorted((name, f.line) for name, f in found.items()) == [("rate", 6)]


def test_class_body_sees_enclosing_function():
    assert free("def f():\n    k = 1\n    class C:\n        x = k\n    return C\n") == {}


def test_shadowing_a_module_name_locally():
    assert free("def f(np):\n    return np.sum()\n") == {}
    assert list(free("def f():\n    def g(np):\n        return np\n    return np\n")) == ["np"]


def test_global_and_nonlocal_statements():
    findings = check(
        """
        def f():
            global counter, total
            counter = 1
            count = 0

            def inc():
                nonlocal count
                count += 1

            inc()
            return counter + total + count
        """
    )
    kinds = [(f.kind, f.name, f.line) for f in findings]
    assert ("global_statement", "counter", 3) in kinds
    assert ("global_statement", "total", 3) in kinds
    assert ("nonlocal_statement", "count", 8) in kinds
    # `counter` is assigned before use, `total` never exists on the server.
    assert [(f.name, f.severity) for f in findings if f.kind == "free_name"] == [("total", "error")]
    assert all(f.severity == "warning" for f in findings if "statement" in f.kind)


def test_nonlocal_without_enclosing_binding():
    # Typical when a function nested in another one is submitted on its own.
    findings = check("def f():\n    nonlocal seen\n    seen = True\n")
    assert [(f.kind, f.severity) for f in findings] == [
        ("nonlocal_statement", "warning"),
        ("syntax_error", "error"),
    ]


def test_star_import_inside_is_an_error():
    findings = check("def f(x):\n    from numpy import *\n    return array(x)\n")
    star = by_kind(findings, "syntax_error")["numpy"]
    assert star.severity == "error" and star.line == 2
    assert "not allowed inside a function" in star.message
    assert "array" in by_kind(findings, "free_name")


def test_builtins_and_dunder_names():
    assert free("def f(x):\n    return len(x), print, __name__, __builtins__, Exception\n") == {}
    # IPython puts these in the kernel's builtins; the server does not have them.
    assert set(free("def f(x):\n    display(x)\n    return get_ipython()\n")) == {
        "display",
        "get_ipython",
    }


def test_recursion_uses_the_function_name():
    assert check("def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n") == []


# -- annotations and defaults --------------------------------------------------------------


def test_signature_annotations_are_evaluated_at_definition():
    found = free(
        """
        def f(df: pd.DataFrame, n: int = 3) -> "pd.Series":
            return df.head(n)
        """
    )
    assert list(found) == ["pd"]
    assert "string annotation" in found["pd"].message
    assert '"pd.DataFrame"' in found["pd"].message
    assert "import pandas inside it" not in found["pd"].message


def test_annotation_and_body_use_get_both_fixes():
    message = free("def f(df: pd.DataFrame):\n    return pd.concat([df])\n")["pd"].message
    assert "import pandas inside it" in message
    assert "string annotation" in message


def test_local_annotations_are_not_evaluated():
    assert free("def f():\n    x: pd.DataFrame = 1\n    return x\n") == {}


def test_nested_function_annotations_see_imports_inside():
    source = """
        def f():
            import pandas as pd

            def g(x: pd.DataFrame) -> pd.Series:
                return x
            return g
        """
    assert free(source) == {}


def test_defaults_are_evaluated_at_definition():
    found = free("def f(data, limit=LIMIT):\n    return data[:limit]\n")
    assert "default" in found["LIMIT"].message


# -- decorators, indentation, selection -----------------------------------------------------


def test_decorator_names_are_ignored():
    source = """
        @sy.syft_function(
            input_policy=sy.ExactMatch(data=asset),
            output_policy=sy.SingleExecutionExactOutput(),
        )
        def f(data):
            return data.mean()
        """
    assert check(source) == []


def test_indented_source_keeps_line_numbers():
    source = (
        "    @sy.syft_function_single_use(data=asset)\n"
        "    def f(data):\n"
        '        text = """\n'
        'not indented"""\n'
        "        return np.sum(data)\n"
    )
    [finding] = analyze(source)
    assert (finding.name, finding.line) == ("np", 5)
    assert strip_decorators(source) == (
        'def f(data):\n    text = """\nnot indented"""\n    return np.sum(data)\n'
    )


def test_async_def():
    found = free("async def f(x):\n    async with lock:\n        return await fetch(x)\n")
    assert set(found) == {"lock", "fetch"}


def test_several_functions_need_func_name():
    source = "def a(x):\n    return x + 1\n\ndef b(y):\n    return a(y) + z\n"
    [finding] = analyze(source)
    assert finding.kind == "not_a_function"
    assert "a, b" in finding.message
    assert set(by_kind(analyze(source, "b"), "free_name")) == {"a", "z"}
    assert analyze(source, "a") == []
    [missing] = analyze(source, "c")
    assert (missing.kind, missing.name) == ("not_a_function", "c")


def test_the_decorated_function_is_picked_from_a_cell():
    source = "import numpy as np\n\ndef helper():\n    pass\n\n@sy.syft_function()\ndef f():\n    return helper()\n"
    assert list(free(source)) == ["helper"]


def test_not_a_function():
    [finding] = analyze("x = 1\n")
    assert (finding.kind, finding.severity, finding.line) == ("not_a_function", "error", 0)
    assert analyze("class C:\n    def m(self): pass\n")[0].kind == "not_a_function"


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("def f(x):\n    return x +\n", 2),
        ("def f(x):\n    if x:\n    return 1\n", 3),
        ("    def f(x):\n        return (\n", 2),
        ("def f(x):\n    break\n", 2),  # rejected by the compiler, not the parser
        ("def f(x):\n    return x\0\n", None),
    ],
)
def test_syntax_errors(source, line):
    [finding] = analyze(source)
    assert (finding.kind, finding.severity) == ("syntax_error", "error")
    if line is not None:
        assert finding.line == line


# -- names the server provides ---------------------------------------------------------------


def test_datasite_is_injected():
    source = """
        def process_all(data):
            job = datasite.launch_job(process_batch, batch=data)
            return job.wait().get()
        """
    assert list(free(source)) == ["process_batch"]
    assert free(source, known_functions=["process_batch"]) == {}
    assert set(free(source, injected=())) == {"datasite", "process_batch"}


# -- risky calls and imports -----------------------------------------------------------------


def risky(source: str) -> list[tuple[str, int]]:
    return [(f.name, f.line) for f in check(source) if f.kind == "risky_call"]


def test_risky_builtins():
    source = """
        def f(data, name):
            open("/etc/passwd")
            eval("1"); exec("x"); compile("1", "", "eval"); __import__("os")
            globals(); locals(); vars(); breakpoint(); input()
            getattr(data, name)
            getattr(data, "shape")
            setattr(data, name, 1)
        """
    names = [name for name, _ in risky(source)]
    assert names == [
        "open",
        "__import__",
        "compile",
        "eval",
        "exec",
        "breakpoint",
        "globals",
        "input",
        "locals",
        "vars",
        "getattr",
        "setattr",
    ]


def test_risky_calls_through_aliases():
    source = """
        def f():
            import subprocess as sp
            import os
            import urllib.request
            import shutil, pickle, socket, ctypes
            from os import system, remove as rm
            from http import client
            sp.run(["ls"]); sp.Popen("x").wait()
            os.system("x"); os.popen("x"); os.execv("x", []); os.spawnl(0, "x"); os.fork()
            system("ls"); rm("x"); os.unlink("x"); os.rmdir("x")
            shutil.rmtree("/"); pickle.loads(b""); socket.socket()
            urllib.request.urlopen("http://x"); client.HTTPConnection("x")
            ctypes.CDLL("x")
            os.path.join("a", "b"); shutil.copy("a", "b")
            import re; re.compile("x")
        """
    names = {name for name, _ in risky(source)}
    assert names == {
        "subprocess.run",
        "subprocess.Popen",
        "os.system",
        "os.popen",
        "os.execv",
        "os.spawnl",
        "os.fork",
        "os.remove",
        "os.unlink",
        "os.rmdir",
        "shutil.rmtree",
        "pickle.loads",
        "socket.socket",
        "urllib.request.urlopen",
        "http.client.HTTPConnection",
        "ctypes.CDLL",
    }


def test_local_names_shadow_risky_ones():
    source = """
        def f(requests):
            def open(x):
                return x
            open("a")
            return requests.get("x")
        """
    assert risky(source) == []


def test_risky_call_on_a_free_module_name():
    # Also a free name error, but the reviewer should still see what it would do.
    assert risky("def f():\n    requests.get('http://example.com')\n") == [("requests.get", 2)]


def test_risky_imports_one_finding_per_import():
    findings = check(
        """
        def f():
            import os, sys, subprocess, socket
            from urllib.request import urlopen
            import numpy
            from multiprocessing import Pool
            import importlib.util
        """
    )
    imports = [(f.name, f.line) for f in findings if f.kind == "risky_import"]
    assert imports == [
        ("socket", 3),
        ("subprocess", 3),
        ("urllib.request", 4),
        ("multiprocessing", 6),
        ("importlib.util", 7),
    ]
    assert all(f.severity == "warning" for f in findings)


# -- policy keys -----------------------------------------------------------------------------


def test_unknown_policy_key():
    source = """
        @sy.syft_function_single_use(
            data=asset,
            labls=labels_asset,
        )
        def f(data, labels):
            return len(data)
        """
    findings = check(source, policy_keys=["data", "labls"])
    [finding] = findings
    assert (finding.kind, finding.severity, finding.name, finding.line) == (
        "unknown_policy_key",
        "warning",
        "labls",
        4,
    )
    assert finding.message.startswith(
        "policy input `labls` matches no parameter of `f` (parameters: data, labels)"
    )
    assert "`labels`" in finding.message
    # Without a decorator (server side) it points at the def line.
    [server_side] = analyze("def f():\n    return 1\n", policy_keys=["x"])
    assert server_side.line == 1 and "no parameters" in server_side.message


# -- API helpers -----------------------------------------------------------------------------


def test_finding_json_round_trip():
    finding = check("def f():\n    return np.sum(1)\n")[0]
    data = finding.to_json()
    assert data == {
        "kind": "free_name",
        "severity": "error",
        "line": 2,
        "name": "np",
        "message": finding.message,
    }
    assert Finding.from_json(data) == finding


def test_findings_are_sorted():
    findings = check(
        """
        def f(x):
            global g
            import subprocess
            subprocess.run(y)
            return open(x), np.sum(z)
        """
    )
    keys = [(f.line, f.kind) for f in findings]
    assert keys == sorted(keys)
    assert len(findings) == 7


def test_strip_decorators():
    source = textwrap.dedent(
        """
        import numpy as np

        @sy.syft_function(
            input_policy=sy.ExactMatch(data=asset),
        )
        @other
        def f(data):
            # comment

            return data  # done
        """
    )
    assert strip_decorators(source) == "def f(data):\n    # comment\n\n    return data  # done\n"
    method = "    @staticmethod\n    async def g(x):\n        return x\n"
    assert strip_decorators(method) == "async def g(x):\n    return x\n"
    with pytest.raises(ValueError, match="does not define a function"):
        strip_decorators("x = 1\n")
    with pytest.raises(SyntaxError):
        strip_decorators("def f(:\n")


def test_function_parameters():
    source = "@deco(x=1)\ndef f(a, /, b, *args, c, d=1, **kw):\n    pass\n"
    assert function_parameters(source) == ["a", "b", "args", "c", "d", "kw"]
    assert function_parameters("def a(x): pass\ndef b(y): pass\n", "b") == ["y"]
    with pytest.raises(ValueError):
        function_parameters("x = 1\n")


# -- cross-check against CPython's own symbol table ------------------------------------------

BUILTIN_NAMES = set(dir(builtins)) | {"__builtins__"}


def symtable_free_names(source: str, name: str) -> set[str]:
    """Free names according to `symtable` (for sources without local annotations)."""
    top = symtable.symtable(source, "<f>", "exec")
    names = {s.get_name() for s in top.get_symbols() if s.is_referenced()}
    declared_global: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            if symbol.is_declared_global():
                declared_global.add(symbol.get_name())
            elif symbol.is_referenced() and symbol.is_global():
                names.add(symbol.get_name())
        for child in table.get_children():
            walk(child)

    for child in top.get_children():
        if child.get_name() == name:
            walk(child)
    # `super()` outside a class implies `__class__`: a run-time error, not a missing name.
    return names - declared_global - BUILTIN_NAMES - {name, "datasite", "__class__"}


def our_free_names(source: str, name: str) -> set[str]:
    findings = analyze(source, name)
    assert not [f for f in findings if f.kind in ("syntax_error", "not_a_function")], findings
    return {f.name for f in findings if f.kind == "free_name"}


def global_declarations(node: ast.AST) -> set[str]:
    return {name for n in ast.walk(node) if isinstance(n, ast.Global) for name in n.names}


CORPUS = ["argparse", "ast", "dataclasses", "inspect", "typing", "functools", "textwrap", "enum"]


@pytest.mark.parametrize("module", CORPUS)
def test_agrees_with_symtable_on_stdlib(module):
    path = Path(str(__import__(module).__file__))
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    checked = 0
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if any(isinstance(n, ast.AnnAssign) for n in ast.walk(node)):
            continue  # symtable counts local annotations, which Python never evaluates
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        if lines[first - 1][: node.col_offset].strip():
            continue  # `class C: def f(): ...` on one line
        source = "".join(lines[first - 1 : node.end_lineno])
        stripped = strip_decorators(source)
        try:
            expected = symtable_free_names(stripped, node.name) - global_declarations(node)
        except SyntaxError:  # a nested function's `nonlocal` has nothing to bind to
            assert errors(analyze(source, node.name)), source
            continue
        assert our_free_names(source, node.name) - global_declarations(node) == expected, source
        checked += 1
    assert checked > 10


# Random functions built from scoping constructs, checked against symtable.
POOL = ["a", "b", "c", "d"]


@st.composite
def statements(draw, depth: int, in_class: bool = False) -> list[str]:
    out: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        a, b, c = (draw(st.sampled_from(POOL)) for _ in range(3))
        choices = [
            f"{a} = {b}",
            f"{a} += {b}",
            f"del {a}",
            f"print({a}.x, {b}())",
            f"for {a} in {b}: pass",
            f"with {a} as {b}: pass",
            f"try:\n    pass\nexcept {a} as {b}:\n    pass",
            f"import {a}",
            f"from {a} import {b} as {c}",
            f"x = [{a} for {b} in {c} if {a}]",
            f"x = {{{a}: {b} for {a} in {c}}}",
            f"x = [{a} for {a} in {b} for {b} in {c}]",
            f"x = lambda {a}, k={b}: {a} + {c}",
            f"if ({a} := {b}): pass",
            f"match {a}:\n    case [{b}, *{c}]: pass\n    case {{'k': {b}, **{c}}}: pass",
            f"global {a}",
        ]
        if not in_class:
            choices.append(f"x = [({a} := {b}) for {c} in {c}]")
        if depth < 3:
            params = draw(st.sampled_from(["", a, f"{a}={b}", f"*{a}", f"{a}: {b}"]))
            body = draw(statements(depth + 1))
            body += [f"nonlocal {c}"] if draw(st.booleans()) and not in_class else []
            choices.append(f"def g({params}):\n" + textwrap.indent("\n".join(body), "    "))
            class_body = draw(statements(depth + 1, in_class=True))
            choices.append("class K:\n" + textwrap.indent("\n".join(class_body), "    "))
        out.append(draw(st.sampled_from(choices)))
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["", "a", "a=b", "a: b"]), statements(depth=0))
def test_agrees_with_symtable_on_random_functions(params, body):
    source = f"def f({params}):\n" + textwrap.indent("\n".join(body), "    ") + "\n"
    try:
        compile(source, "<f>", "exec", dont_inherit=True)
    except SyntaxError:
        # e.g. `nonlocal` with nothing to bind to: must be reported as an error too.
        assert errors(analyze(source)), source
        return
    tree = ast.parse(source)
    if any(isinstance(n, ast.AnnAssign) for n in ast.walk(tree)):
        return
    declared = global_declarations(tree)
    assert our_free_names(source, "f") - declared == symtable_free_names(source, "f") - declared


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_never_raises_on_arbitrary_text(text):
    findings = analyze(text)
    assert findings == sorted(findings, key=lambda f: (f.line, f.kind, f.name))
    for finding in findings:
        assert finding.severity in ("error", "warning")
        assert Finding.from_json(finding.to_json()) == finding


identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and s not in BUILTIN_NAMES | {"datasite", "f", "x"}
)


@settings(max_examples=100, deadline=None)
@given(identifiers)
def test_any_outside_name_is_reported_and_any_inside_name_is_not(name):
    assert set(free(f"def f(x):\n    return {name}.attr + x\n")) == {name}
    assert free(f"def f(x):\n    {name} = x\n    return {name}.attr\n") == {}


# -- performance -------------------------------------------------------------------------------


def long_function(blocks: int = 20) -> str:
    lines = [
        "@sy.syft_function_single_use(data=asset, labels=labels_asset)",
        "def train(data, labels, epochs: int = 10):",
        '    """Train a small model on private data."""',
        "    import numpy as np",
        "    import pandas as pd",
        "    from collections import Counter",
    ]
    for i in range(blocks):
        lines += [
            f"    # block {i}",
            f"    frame{i} = pd.DataFrame(data).dropna()",
            f"    values{i} = np.asarray(frame{i}.iloc[:, 0], dtype=float)",
            f"    counts{i} = Counter(int(v) % 7 for v in values{i})",
            f"    if values{i}.size > {i}:",
            f"        mean{i} = float(values{i}.mean())",
            "    else:",
            f"        mean{i} = 0.0",
            f"    scaled{i} = [(v - mean{i}) / (1 + abs(mean{i})) for v in values{i} if v == v]",
        ]
    lines += [
        "    def step(w, x):",
        "        return w - 0.1 * x",
        "    weights = [0.0] * 10",
        "    for epoch in range(epochs):",
        "        for j, w in enumerate(weights):",
        "            weights[j] = step(w, epoch)",
        "    return {'weights': weights, 'n': len(labels)}",
    ]
    return "\n".join(lines) + "\n"


def test_a_200_line_function_has_no_findings():
    # Its speed is measured in benchmarks/bench_analysis.py, never asserted here.
    source = long_function()
    assert 190 <= source.count("\n") <= 210
    assert analyze(source, policy_keys=["data", "labels"]) == []


def test_deeply_nested_expressions():
    # As deep as `ast.parse` goes (it stops near the recursion limit).
    long_sum = " + ".join(f"x{i}" for i in range(900))
    elifs = "".join(f"    elif x == {i}:\n        y = {i}\n" for i in range(900))
    assert len(analyze(f"def f():\n    return {long_sum}\n")) == 900
    assert analyze(f"def f(x):\n    if x:\n        y = 0\n{elifs}    return y\n") == []


def test_import_brings_nothing_heavy(tmp_path):
    # The import's cost is measured in benchmarks/bench_analysis.py, never asserted here.
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path)}
    code = "import sys, jupyter_syft.analysis; print(sorted(sys.modules))"
    loaded = subprocess.check_output([sys.executable, "-c", code], env=env, text=True)
    for heavy in ("numpy", "pandas", "symtable", "jupyter_syft.client", "jupyter_syft.server"):
        assert f"'{heavy}'" not in loaded


# Constructs the parser accepts and the compiler rejects: analyze must catch every one.
COMPILER_ERRORS = {
    "keyword repeated": "def f():\n    g(a=1, a=2)\n",
    "assign __debug__": "def f():\n    __debug__ = 1\n",
    "attribute __debug__": "def f(x):\n    x.__debug__ = 1\n",
    "keyword __debug__": "def f(x):\n    x(__debug__=1)\n",
    "bare except first": "def f():\n    try: pass\n    except: pass\n    except ValueError: pass\n",
    "duplicate argument": "def f(a, a): pass\n",
    "duplicate lambda argument": "def f():\n    return lambda a, a: a\n",
    "starred target": "def f(x):\n    *a = x\n",
    "two starred": "def f(x):\n    *a, *b = x\n",
    "starred return": "def f(x):\n    return *x\n",
    "break": "def f():\n    break\n",
    "break in loop else": "def f(x):\n    for i in x: pass\n    else: break\n",
    "continue": "def f():\n    continue\n",
    "await": "def f(x):\n    await x\n",
    "await in lambda": "async def f(x):\n    return lambda: await x\n",
    "yield in class": "def f():\n    class C:\n        yield 1\n",
    "return in class": "def f():\n    class C:\n        return 1\n",
    "return in async generator": "async def f():\n    yield 1\n    return 2\n",
    "yield from in async": "async def f(x):\n    yield from x\n",
    "async for": "def f(x):\n    async for i in x: pass\n",
    "async with": "def f(x):\n    async with x: pass\n",
    "async comprehension": "def f(x):\n    return [i async for i in x]\n",
    "global after assignment": "def f():\n    x = 1\n    global x\n",
    "parameter and global": "def f(x):\n    global x\n",
    "parameter and nonlocal": "def f():\n    x = 1\n    def g(x):\n        nonlocal x\n",
    "pattern binds twice": "def f(x):\n    match x:\n        case [a, a]: pass\n",
    "unreachable pattern": "def f(x):\n    match x:\n        case a: pass\n        case 1: pass\n",
    "yield in comprehension": "def f(x):\n    return [(yield i) for i in x]\n",
    "walrus in iterable": "def f(x):\n    return [i for i in (j := x)]\n",
    "walrus rebinds iteration variable": "def f(x):\n    return [i := 1 for i in x]\n",
    "future import": "def f():\n    from __future__ import annotations\n",
    "except star return": "def f():\n    try: pass\n    except* ValueError:\n        return 1\n",
}


@pytest.mark.parametrize("source", COMPILER_ERRORS.values(), ids=COMPILER_ERRORS.keys())
def test_compiler_errors(source):
    with pytest.raises(SyntaxError) as raised:
        compile(source, "<f>", "exec", dont_inherit=True)
    findings = [f for f in analyze(source) if f.kind == "syntax_error"]
    assert findings, source
    assert findings[0].severity == "error"
    assert findings[0].line == raised.value.lineno


def test_valid_uses_of_compiler_checked_constructs():
    source = """
        async def f(xs, *args, **kwargs):
            for x in xs:
                if x:
                    break
                continue
            first, *rest = xs
            g(*args, **kwargs, **kwargs)
            async with lock() as held:
                await held
            try:
                pass
            except ValueError:
                pass
            except:
                pass
            return [y async for y in aiter(xs)], first, rest, (n := 1), n
        """
    assert [f.name for f in check(source)] == ["g", "lock"]


def test_reaching_for_the_output_checks_is_shown_to_the_reviewer():
    # The disclosure checks run in the function's own process; code that imports them (or
    # walks every object with gc) could tamper with the report, so the reviewer is told.
    findings = check(
        """
        def f(data):
            import gc
            from jupyter_syft.disclosure import checks
            return len(data)
        """
    )
    imports = [(f.name, f.line) for f in findings if f.kind == "risky_import"]
    assert imports == [("gc", 3), ("jupyter_syft.disclosure", 4)]


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ('return data.head(50).to_dict("records")', "data.head(50).to_dict('records')"),
        ("return data", "data"),
        ("return data.iloc[:5]", "data.iloc[:5]"),
        ("return data.values.tolist()", "data.values.tolist()"),
        ('return {"n": len(data), "rows": data.sample(3)}', "data.sample(3)"),
        ("rows = data.tail(10)\n    return rows", "rows = data.tail(10)"),
        ('return data.to_dict(orient="records")', "data.to_dict(orient='records')"),
    ],
)
def test_row_level_returns_are_flagged(body, what):
    [finding] = analyze(f"def f(data):\n    {body}\n")
    assert (finding.kind, finding.severity, finding.name) == ("row_level_return", "warning", what)
    assert "rows identify people" in finding.message


@pytest.mark.parametrize(
    "body",
    [
        'return data.groupby("g")["age"].mean().to_dict()',
        'return float(data["age"].mean())',
        "return len(data)",
        "return data.describe()",
        'rows = data.head()\n    return {"n": int(rows["x"].sum())}',
        "def inner():\n        return data\n    return 1",
    ],
)
def test_aggregates_are_not_row_level(body):
    assert analyze(f"def f(data):\n    {body}\n") == []


def test_environment_and_file_reads_are_flagged():
    source = (
        "def f(data):\n"
        "    import os\n"
        "    import pandas as pd\n"
        "    from pathlib import Path\n"
        '    token = os.environ["TOKEN"]\n'
        '    other = os.getenv("X")\n'
        '    extra = pd.read_csv("/srv/other.csv")\n'
        '    names = os.listdir("/srv")\n'
        '    text = Path("/etc/passwd").read_text()\n'
        "    return len(data)\n"
    )
    found = {(f.kind, f.name, f.line) for f in analyze(source)}
    assert found == {
        ("environment_read", "os.environ", 5),
        ("risky_call", "os.getenv", 6),
        ("risky_call", "pandas.read_csv", 7),
        ("risky_call", "os.listdir", 8),
        ("risky_call", "pathlib.Path", 9),
    }
    # a local value named like the module is not the module
    assert analyze('def f(data):\n    os = {"environ": 1}\n    return os["environ"]\n') == []
