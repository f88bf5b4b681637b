"""Back-to-back A/B runs of one benchmark on two commits, as a Markdown table.

    .venv/bin/python benchmarks/ab.py BEFORE [AFTER] [--pairs 3]
        --figure NAME=REGEX [--figure ...] -- SCRIPT [ARGS...]

A shared machine's speed drifts by 10 to 25 % from one run to the next, so a figure measured
at another time says little: only runs taken in turn compare. BEFORE and AFTER are commits
(AFTER left out: the working tree as it is). Each is checked out in a temporary git worktree
(the working tree is used in place), its bytecode compiled, and ``benchmarks/SCRIPT`` runs
from it (that checkout's own copy of the script, its folder as the current one and first on
PYTHONPATH) with this venv's Python, in turn: BEFORE, AFTER, AFTER, BEFORE... (a machine
that drifts slower or faster favours neither), ``--pairs`` pairs.
``--figure NAME=REGEX``: the figure is the first group of REGEX in a run's output (a number).
Example, the launch row::

    .venv/bin/python benchmarks/ab.py fe18d32 --pairs 3 \\
        --figure 'launch s=to ready \\| ([0-9.]+) s' -- bench_launch.py --only launch
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def checkout(ref: str | None, into: Path) -> Path:
    """The folder to run ``ref`` from: a new worktree in ``into``, or this checkout for None."""
    if ref is None:
        return ROOT
    folder = into / ref.replace("/", "_")
    added = subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(folder), ref],
        capture_output=True,
        text=True,
    )
    if added.returncode != 0:
        raise SystemExit(f"Cannot check out {ref!r}: {added.stderr.strip()}")
    return folder


def compile_package(folder: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j0", "jupyter_syft"],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run(folder: Path, script: str, args: list[str]) -> str:
    path = folder / "benchmarks" / script
    if not path.exists():
        raise SystemExit(f"{path} does not exist: that commit has no such benchmark")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(path), *args], cwd=folder, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(
            f"{script} failed in {folder}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return done.stdout


def figures(output: str, patterns: dict[str, re.Pattern[str]]) -> dict[str, float]:
    found = {}
    for name, pattern in patterns.items():
        match = pattern.search(output)
        if match is None:
            raise SystemExit(
                f"figure {name!r}: {pattern.pattern!r} is not in the output:\n{output}"
            )
        found[name] = float(match.group(1).replace(",", ""))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="the commit measured first in each pair")
    parser.add_argument("after", nargs="?", help="the other commit (default: the working tree)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--figure", action="append", required=True, help="NAME=REGEX")
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        parser.error("give the benchmark after --: SCRIPT [ARGS...]")
    split = argv.index("--")
    args, command = parser.parse_args(argv[:split]), argv[split + 1 :]
    if not command:
        parser.error("give the benchmark after --: SCRIPT [ARGS...]")
    patterns = {}
    for item in args.figure:
        name, sep, regex = item.partition("=")
        if not sep or not name:
            parser.error(f"--figure {item!r}: use NAME=REGEX")
        pattern = re.compile(regex)
        if pattern.groups < 1:
            parser.error(f"--figure {item!r}: REGEX needs a group around the number")
        patterns[name] = pattern

    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        sides = {"before": args.before, "after": args.after}
        folders = {}
        try:
            for side, ref in sides.items():
                folders[side] = checkout(ref, Path(tmp) / side)
                compile_package(folders[side])
            runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
            for pair in range(args.pairs):
                # ABBA...: a machine slowing down (or speeding up) over the runs favours
                # neither side
                for side in ("before", "after") if pair % 2 == 0 else ("after", "before"):
                    found = figures(run(folders[side], command[0], command[1:]), patterns)
                    runs[side].append(found)
                    print(f"pair {pair + 1} {side}: {found}", file=sys.stderr, flush=True)
        finally:
            for folder in folders.values():
                if folder != ROOT:
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
                        check=False,
                    )

    label = {side: ref or "working tree" for side, ref in sides.items()}
    print(f"\n{' '.join(command)}: {args.pairs} pairs, run in turn ({os.cpu_count()} cores)\n")
    print(f"| figure | {label['before']} | {label['after']} | change of the medians |")
    print("|---|---|---|---|")
    for name in patterns:
        cells = []
        for side in ("before", "after"):
            values = [r[name] for r in runs[side]]
            cells.append(f"{statistics.median(values):g} ({min(values):g}-{max(values):g})")
        old = statistics.median(r[name] for r in runs["before"])
        new = statistics.median(r[name] for r in runs["after"])
        change = f"{(new - old) / old * 100:+.1f} %" if old else "-"
        print(f"| {name} | {cells[0]} | {cells[1]} | {change} |")
    print("\nEach pair (before → after):")
    for pair, (b, a) in enumerate(zip(runs["before"], runs["after"], strict=True), 1):
        print(f"  {pair}: " + "; ".join(f"{n} {b[n]:g} → {a[n]:g}" for n in patterns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
