"""Static-analysis benchmark: prints a Markdown table.

    .venv/bin/python benchmarks/bench_analysis.py [--repeat 50]

What the tests used to assert (and flaked on a busy machine): analysing a 200-line Syft
function, and importing ``jupyter_syft.analysis`` on top of ``jupyter_syft``. Best and median
of ``--repeat`` runs; targets are 5 ms for each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from jupyter_syft.analysis import analyze
    from tests.test_analysis import long_function

    source = long_function()
    analyses = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        analyze(source, policy_keys=["data", "labels"])
        analyses.append(time.perf_counter() - start)

    code = (
        "import time, dataclasses, ast, jupyter_syft; t = time.perf_counter(); "
        "import jupyter_syft.analysis; print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        imports = [
            float(subprocess.check_output([sys.executable, "-c", code], env=env, text=True))
            for _ in range(min(args.repeat, 10) + 1)
        ][1:]  # the first run fills the bytecode cache

    print("| what | best | median | target |")
    print("|---|---|---|---|")
    for label, times in (
        (f"analyze a {source.count(chr(10))}-line function", analyses),
        ("import jupyter_syft.analysis", imports),
    ):
        print(
            f"| {label} | {min(times) * 1000:.2f} ms | "
            f"{statistics.median(times) * 1000:.2f} ms | 5 ms |"
        )


if __name__ == "__main__":
    main()
