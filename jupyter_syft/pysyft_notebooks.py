"""``jupyter-syft run-pysyft NOTEBOOK...``: run PySyft notebooks on jupyter_syft.

A PySyft user's notebook should run here with only its imports changed. This runner makes
exactly that change and nothing else, then runs the notebooks in order in fresh kernels that
share one temporary home folder (so a series such as PySyft's ``00-load-data`` .. ``03-...``
finds the Datasite the first one launched), and reports, per notebook, that it ran to the end
or the first cell that failed and why.

The import change:

==========================================  ==============================================
``import syft as sy``                       ``import jupyter_syft as sy``
``import syft``                             ``import jupyter_syft as syft``
``from syft import A, B``                   ``from jupyter_syft import A, B``
``from syft.service.policy.policy import A`` ``from jupyter_syft import A`` (our names are
                                            all at the top level)
==========================================  ==============================================

A ``%pip install`` / ``!pip install`` line is commented out (it would install PySyft, or
whatever the tutorial pins, into the kernel's environment while it runs; install what a notebook
needs beforehand, or run it in another kernel with ``--kernel``); it is listed with the changes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CELL_TIMEOUT_S = 300
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_IMPORT_AS = re.compile(r"^(\s*)import\s+syft\s+as\s+(\w+)\s*(#.*)?$")
_IMPORT = re.compile(r"^(\s*)import\s+syft\s*(#.*)?$")
_FROM = re.compile(r"^(\s*)from\s+syft(?:\.[\w.]+)?\s+import\s+(.+)$")
_PIP_INSTALL = re.compile(r"^(\s*)([%!]\s*(?:uv\s+)?pip\s+install\b.*)$")


@dataclass
class Swap:
    """The source with PySyft's imports changed, and what was changed (cell, before, after)."""

    source: str
    changes: list[tuple[str, str]] = field(default_factory=list)


def swap_imports(source: str) -> Swap:
    """``source`` (one cell) with every import of ``syft`` turned into one of jupyter_syft."""
    out: list[str] = []
    changes: list[tuple[str, str]] = []
    for line in source.splitlines():
        new = line
        if match := _IMPORT_AS.match(line):  # a trailing comment (noqa...) stays
            comment = f"  {match[3]}" if match[3] else ""
            new = f"{match[1]}import jupyter_syft as {match[2]}{comment}"
        elif match := _IMPORT.match(line):
            comment = f"  {match[2]}" if match[2] else ""
            new = f"{match[1]}import jupyter_syft as syft{comment}"
        elif match := _FROM.match(line):
            new = f"{match[1]}from jupyter_syft import {match[2]}"
        elif match := _PIP_INSTALL.match(line):
            new = (
                f"{match[1]}# {match[2]}  # (jupyter-syft run-pysyft: not installed while running)"
            )
        if new != line:
            changes.append((line.strip(), new.strip()))
        out.append(new)
    return Swap("\n".join(out), changes)


@dataclass
class Outcome:
    notebook: str
    ok: bool
    cells_run: int = 0
    code_cells: int = 0
    failed_cell: int | None = None  # 1-based among code cells
    failed_source: str = ""
    error: str = ""
    changes: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        if self.ok:
            return f"OK    {self.notebook} ({self.code_cells} code cells)"
        first = self.failed_source.strip().splitlines()[0][:80] if self.failed_source else ""
        return (
            f"FAIL  {self.notebook}: code cell {self.failed_cell} of {self.code_cells} "
            f"({first!r}): {self.error}"
        )


def _error_summary(outputs: list[Any]) -> str:
    for output in outputs:
        if output.get("output_type") == "error":
            value = _ANSI.sub("", str(output.get("evalue", "")))
            return f"{output.get('ename', 'Error')}: {value}"[:500]
    return "the cell failed without an error output"


def run_notebooks(
    paths: list[Path],
    *,
    home: Path | None = None,
    cache: Path | None = None,
    out_dir: Path | None = None,
    timeout: int = CELL_TIMEOUT_S,
    keep_going: bool = False,
    progress: Any = None,
    kernel: str = "python3",
) -> list[Outcome]:
    """Run ``paths`` in order (each in a fresh kernel, all sharing ``home``)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    own_home = home is None
    home = Path(tempfile.mkdtemp(prefix="pysyft-run-")) if home is None else home.resolve()
    work = home / "work"
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), TQDM_DISABLE="1", PYTHONUNBUFFERED="1")
    if cache is not None:
        env["JUPYTER_SYFT_CACHE"] = str(Path(cache).resolve())  # kernels run elsewhere
    outcomes: list[Outcome] = []
    try:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            outcome = Outcome(notebook=str(path), ok=False)
            code_cells = [c for c in nb.cells if c.cell_type == "code"]
            outcome.code_cells = len(code_cells)
            for cell in code_cells:
                swap = swap_imports(cell.source)
                cell.source = swap.source
                outcome.changes.extend(swap.changes)
            client = NotebookClient(
                nb,
                timeout=timeout,
                kernel_name=kernel,
                allow_errors=keep_going,
                resources={"metadata": {"path": str(work)}},
            )
            try:
                # the kernels' own stderr (the in-process Datasite's log lines, kernel
                # warnings) goes to a file, not into the report
                with (home / "kernels.log").open("ab") as kernel_log:
                    client.execute(env=env, stderr=kernel_log)
            except CellExecutionError:
                pass
            except Exception as exc:  # the kernel died, a cell timed out
                outcome.error = f"{type(exc).__name__}: {_ANSI.sub('', str(exc))[:500]}"
            ran = [c for c in code_cells if c.get("execution_count") is not None]
            outcome.cells_run = len(ran)
            for number, cell in enumerate(code_cells, start=1):
                if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                    outcome.failed_cell = number
                    outcome.failed_source = cell.source
                    outcome.error = _error_summary(cell.outputs)
                    break
            if outcome.failed_cell is None and outcome.error:
                outcome.failed_cell = outcome.cells_run or 1
                outcome.failed_source = code_cells[outcome.failed_cell - 1].source
            outcome.ok = outcome.failed_cell is None and not outcome.error
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, out_dir / path.name)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    finally:
        if own_home:
            shutil.rmtree(home, ignore_errors=True)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="jupyter-syft run-pysyft",
        description="Run PySyft notebooks on jupyter_syft with only their imports changed.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks, run in this order")
    parser.add_argument(
        "--home",
        type=Path,
        help="home folder the kernels share (default: a temporary one, removed afterwards)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="folder sy.autocache reads and fills (for machines without internet access)",
    )
    parser.add_argument("--out", type=Path, help="write the executed notebooks here")
    parser.add_argument(
        "--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds one cell may take"
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="run every cell even after one fails (reports the first failure)",
    )
    parser.add_argument(
        "--show-changes", action="store_true", help="print each changed import line"
    )
    parser.add_argument(
        "--kernel",
        default="python3",
        help="Jupyter kernel to run them in (one whose environment has jupyter_syft and what "
        "the notebooks import; default: python3)",
    )


def run(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        print(f"jupyter-syft run-pysyft: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2

    def report(outcome: Outcome) -> None:
        print(outcome.line(), flush=True)
        if args.show_changes:
            for before, after in dict.fromkeys(outcome.changes):
                print(f"        {before}  ->  {after}")

    outcomes = run_notebooks(
        list(args.notebooks),
        home=args.home,
        cache=args.cache,
        out_dir=args.out,
        timeout=args.timeout,
        keep_going=args.keep_going,
        progress=report,
        kernel=args.kernel,
    )
    ok = sum(o.ok for o in outcomes)
    print(f"{ok} of {len(outcomes)} notebooks ran to the end.")
    return 0 if ok == len(outcomes) else 1
