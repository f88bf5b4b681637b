"""Disclosure-check benchmark (issue 13): prints a Markdown table.

    .venv/bin/python benchmarks/bench_disclosure.py [--rows 1000000] [--repeat 5]

The target: checking a result costs at most 10 % of the run that made it. Measured in one
process, the two halves the worker runs in two: the scientist's pandas call with the group
tracking installed (``disclosure.track``) and the per-cell group statistics of its result
(``collect_claims``, in the process that ran the function), then, where the checks run, the
result decoded from its encoded bytes and ``check_result`` on it with those statistics.
"untracked" is the same call without tracking (no statistics: magnitude tables are
"review"). Median of ``--repeat`` runs each.

``--end-to-end`` also runs each case as approved code on a real Datasite (sandboxed worker,
checks in the worker's parent) and prints the whole run's time, blocking call to value, beside
the checks' overhead measured above: what a scientist waits for, and the checks' share of it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median time of ``repeat`` calls, and the last value."""
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--end-to-end", action="store_true")
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
    from jupyter_syft import serde
    from jupyter_syft.disclosure.checks import collect_claims

    print(f"{n:,} input rows; median of {args.repeat}\n")
    print(
        "| result | tracking | run (ms) | statistics (ms) | decode (ms) | check (ms) | "
        "overhead / run | outcome |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|")
    overheads: dict[tuple[str, bool], float] = {}
    for tracked in (False, True):
        if tracked:
            track.install()
        for name, make in cases.items():
            run_s, value = best(make, args.repeat)
            claims_s, claims = best(lambda v=value: collect_claims(v, rules), args.repeat)
            encoded = serde.dumps(value)
            size = len(encoded)
            decode_s, decoded = best(lambda e=encoded: serde.decode(e), args.repeat)
            check_s, report = best(
                lambda v=decoded, c=claims, size=size: check_result(
                    v, {"data": data}, rules, encoded_size=size, claims=c
                ),
                args.repeat,
            )
            overhead = claims_s + decode_s + check_s
            overheads[(name, tracked)] = overhead
            print(
                f"| {name} | {'on' if tracked else 'off'} | {run_s * 1e3:.1f} | "
                f"{claims_s * 1e3:.1f} | {decode_s * 1e3:.1f} | {check_s * 1e3:.1f} | "
                f"{overhead / run_s:.0%} | {report['outcome']} |"
            )
    track.uninstall()
    if args.end_to_end:
        end_to_end(data, overheads, args.repeat)


SOURCES = {
    "groupby(region).income.mean()": "data.groupby('region')['income'].mean()",
    "groupby(region).size()": "data.groupby('region').size()",
    "crosstab(a, b) 100 x 100": "pd.crosstab(data['a'], data['b'])",
    "crosstab(a, b, values=income, aggfunc=mean)": (
        "pd.crosstab(data['a'], data['b'], values=data['income'], aggfunc='mean')"
    ),
}


def end_to_end(data: Any, overheads: dict[tuple[str, bool], float], repeat: int) -> None:
    import contextlib
    import importlib.util
    import io
    import tempfile

    import jupyter_syft as sy

    with tempfile.TemporaryDirectory() as folder:
        node = sy.orchestra.launch(name="bench-disclosure", data_dir=folder, reset=True,
                                   verbose=False)  # fmt: skip
        try:
            owner = node.login(email="info@openmined.org", password="changethis", verbose=False)
            dataset = sy.Dataset(name="incomes")
            dataset.add_asset(sy.Asset(name="data", data=data, mock=data.head(1000)))
            owner.upload_dataset(dataset, progress=False)
            asset = owner.datasets[0].assets[0]
            print("\nEnd to end on a Datasite (blocking call to value, checks in the worker):\n")
            print("| result | whole run (ms) | checks' overhead (ms) | overhead / whole run |")
            print("|---|---:|---:|---:|")
            for i, (name, expression) in enumerate(SOURCES.items()):
                fn_name = f"case{i}"
                # a real module file: the decorator reads the function's source from it
                module_path = Path(folder) / f"{fn_name}.py"
                module_path.write_text(
                    f"import pandas as pd\n\n\ndef {fn_name}(data):\n"
                    f"    import pandas as pd\n\n    return {expression}\n"
                )
                spec = importlib.util.spec_from_file_location(fn_name, module_path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                with contextlib.redirect_stdout(io.StringIO()):  # its "created" message
                    fn = sy.syft_function(
                        input_policy=sy.ExactMatch(data=asset),
                        output_policy=sy.OutputPolicyExecuteCount(limit=repeat + 2),
                    )(getattr(module, fn_name))
                owner.code.request_code_execution(fn)
                owner.requests[-1].approve(disable_warnings=True)
                getattr(owner.code, fn_name)(data=asset).get()  # a warm worker
                run_s, _ = best(lambda f=fn_name: getattr(owner.code, f)(data=asset).get(), repeat)
                overhead = overheads[(name, True)]
                print(
                    f"| {name} | {run_s * 1e3:.0f} | {overhead * 1e3:.1f} | "
                    f"{overhead / run_s:.0%} |"
                )
        finally:
            node.land()


if __name__ == "__main__":
    main()
