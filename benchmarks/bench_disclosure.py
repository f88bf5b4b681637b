"""Disclosure-check benchmark (issue 13): prints a Markdown table.

    .venv/bin/python benchmarks/bench_disclosure.py [--rows 1000000] [--repeat 5]

The target: checking a result costs at most 10 % of the run that made it. Measured in one
process, as the worker does it: the scientist's pandas call with the group tracking installed
(``disclosure.track``), then ``check_result`` on its result. "untracked" is the same call
without tracking (what the check would see if the worker did not install it); best of
``--repeat`` runs each.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import numpy as np
    import pandas as pd

    from jupyter_syft.disclosure import RuleSet, check_result, track

    rng = np.random.default_rng(0)
    n = args.rows
    data = pd.DataFrame(
        {
            "region": rng.integers(0, 20, n).astype(str),
            "a": rng.integers(0, 100, n),
            "b": rng.integers(0, 100, n),
            "income": rng.lognormal(10, 1, n),
        }
    )
    rules = RuleSet.from_json("acro")
    cases: dict[str, Callable[[], Any]] = {
        "groupby(region).income.mean()": lambda: data.groupby("region")["income"].mean(),
        "groupby(region).size()": lambda: data.groupby("region").size(),
        "crosstab(a, b) 100 x 100": lambda: pd.crosstab(data["a"], data["b"]),
        "crosstab(a, b, values=income, aggfunc=mean)": lambda: pd.crosstab(
            data["a"], data["b"], values=data["income"], aggfunc="mean"
        ),
    }
    print(f"{n:,} input rows; best of {args.repeat}\n")
    print("| result | tracking | run (ms) | check (ms) | check / run | outcome |")
    print("|---|---|---:|---:|---:|---|")
    for tracked in (False, True):
        if tracked:
            track.install()
        for name, make in cases.items():
            run_s, value = best(make, args.repeat)
            check_s, report = best(lambda v=value: check_result(v, {"data": data}, rules), 3)
            print(
                f"| {name} | {'on' if tracked else 'off'} | {run_s * 1e3:.1f} | "
                f"{check_s * 1e3:.1f} | {check_s / run_s:.0%} | {report['outcome']} |"
            )
    track.uninstall()


if __name__ == "__main__":
    main()
