"""Launch and first-call benchmark (issue #18, rows "launch to ready" and "first execute +
`.get()` after launch"): prints a Markdown table.

    .venv/bin/python benchmarks/bench_launch.py [--repeat 5] [--profile DIR]

Every measurement runs in a fresh Python process, started in the current folder (run it from
the checkout you measure). ``launch``: ``sy.orchestra.launch(...)`` until it returns (the
Datasite serves HTTP), in a process that has imported numpy and pandas, as a notebook has.
``first``: the seed notebook's workflow (breast-cancer-study: 569 rows x 31 columns) right
after launch: the owner logs in and uploads, a scientist logs in and submits a function, the
owner approves, and the scientist's first blocking call + ``.get()`` is timed; then a second
function (submitted and approved the same way) is timed too. ``--profile DIR`` also writes
``python -X importtime`` of the launch and a cProfile of each child (``DIR/*.prof``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

# PySyft 0.9.5 on this machine (issue #18, 2026-11).
PYSYFT = {"launch": "1.40-1.50 s", "first": "2.2-4.2 s"}
GOALS = {"launch": 0.3, "first": 0.100}

LAUNCH = """
import json, os, time
import numpy, pandas  # a notebook has them already (the seed's first cells)
t0 = time.perf_counter()
import jupyter_syft as sy
t1, c1 = time.perf_counter(), time.thread_time()
node = sy.orchestra.launch(name="bench-launch", port="auto", reset=True, verbose=False)
t2, c2 = time.perf_counter(), time.thread_time()
import urllib.request
urllib.request.urlopen(node.url + "/syft/api/v1/metadata").read()
t3 = time.perf_counter()
# launch_cpu: the CPU time of the thread that called launch (its critical path on an idle
# machine; the wall time is that plus waiting for a CPU on a busy one)
print(json.dumps({"import": t1 - t0, "launch": t2 - t1, "launch_cpu": c2 - c1, "first_request": t3 - t2}))
os._exit(0)  # not timed: the process ends (land() would wait for the warm workers)
"""

FIRST = """
import contextlib, io, json, linecache, os, time, types
import numpy as np, pandas as pd
import jupyter_syft as sy

try:  # the seed notebook's data
    from sklearn.datasets import load_breast_cancer
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
except ImportError:  # the same shape
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((569, 30)), columns=[f"c{i}" for i in range(30)])
    y = pd.Series(rng.integers(0, 2, 569))
mock = X.apply(lambda s: s + np.mean(s))
X["y"], mock["y"] = y, y
assert X.shape == (569, 31)

def function(name, asset):
    source = f"def {name}(data):\\n    return float(data['y'].mean())\\n"
    filename = f"<bench {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    func = types.FunctionType(code.co_consts[0], {"__builtins__": __builtins__}, name)
    with contextlib.redirect_stdout(io.StringIO()):
        return sy.syft_function_single_use(data=asset)(func)

out = {}
mark = time.perf_counter()
def lap(key):
    global mark
    now = time.perf_counter()
    out[key] = now - mark
    mark = now

node = sy.orchestra.launch(name="bench-first", port="auto", reset=True, verbose=False)
launched = mark = time.perf_counter()
owner = sy.login(url=node.url, email="info@openmined.org", password="changethis", verbose=False)
lap("owner_login")
dataset = sy.Dataset(name="Breast Cancer", asset_list=[sy.Asset(name="data", data=X, mock=mock)])
owner.upload_dataset(dataset, progress=False)
lap("upload")
owner.users.create(sy.UserCreate(email="bob@security.edu", name="Bob", password="abc123"))
scientist = sy.login(url=node.url, email="bob@security.edu", password="abc123", verbose=False)
asset = scientist.datasets[0].assets[0]
lap("scientist_login")
with contextlib.redirect_stdout(io.StringIO()):
    scientist.code.request_code_execution(function("first_fn", asset))
lap("submit")
owner.requests[-1].approve()
lap("approve")
out["since_launch"] = time.perf_counter() - launched
value = scientist.code.first_fn(data=asset).get()
lap("first")
assert abs(value - float(y.mean())) < 1e-9, value
with contextlib.redirect_stdout(io.StringIO()):
    scientist.code.request_code_execution(function("second_fn", asset))
owner.requests[-1].approve()
mark = time.perf_counter()
value = scientist.code.second_fn(data=asset).get()
lap("second")
print(json.dumps(out))
os._exit(0)
"""


def run_child(code: str, home: str, profile: Path | None = None, name: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(JUPYTER_SYFT_HOME=home, TQDM_DISABLE="1")
    code = textwrap.dedent(code)
    if profile is not None:  # the main thread's cProfile (the server's threads: use py-spy)
        start = "import cProfile\n_profile = cProfile.Profile()\n_profile.enable()\n"
        dump = f"_profile.disable(); _profile.dump_stats({str(profile / (name + '.prof'))!r}); "
        code = start + code.replace("os._exit(0)", dump + "os._exit(0)")
    argv = [sys.executable, "-c", code]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=os.getcwd(), env=env)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_profile(home: str, path: Path) -> None:
    """``python -X importtime`` of importing jupyter_syft and launching (stderr to ``path``)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(JUPYTER_SYFT_HOME=home)
    code = textwrap.dedent(LAUNCH)
    with path.open("w") as err:
        subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=os.getcwd(),
            env=env,
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=Path, help="write importtime and cProfile output here")
    parser.add_argument("--only", choices=("launch", "first"), help="measure one row only")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-launch-")
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        import_profile(home, args.profile / "launch.importtime")
        run_child(LAUNCH, home, args.profile, "launch")
        run_child(FIRST, home, args.profile, "first")

    launches = [run_child(LAUNCH, home) for _ in range(args.repeat)] if args.only != "first" else []
    firsts = [run_child(FIRST, home) for _ in range(args.repeat)] if args.only != "launch" else []

    if args.json is not None:
        args.json.write_text(json.dumps({"launch": launches, "first": firsts}))

    def med(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    load = os.getloadavg()[0]
    print(
        f"\nLaunch benchmark ({os.cpu_count()} cores, load {load:.2f}; medians of "
        f"{args.repeat} fresh processes; {os.getcwd()})\n"
    )
    print("| phase | jupyter_syft | goal | PySyft 0.9.5 | ratio to goal |")
    print("|---|---|---|---|---|")
    if launches:
        s = med(launches, "launch")
        spread = (
            f"{min(r['launch'] for r in launches):.2f}-{max(r['launch'] for r in launches):.2f}"
        )
        print(
            f"| `sy.orchestra.launch(...)` to ready | {s:.3f} s ({spread}) | ≤ 0.3 s | "
            f"{PYSYFT['launch']} | {s / GOALS['launch']:.2f} |"
        )
    if firsts:
        s = med(firsts, "first")
        spread = f"{min(r['first'] for r in firsts) * 1000:.0f}-{max(r['first'] for r in firsts) * 1000:.0f}"
        print(
            f"| first execute + `.get()` after launch, 569-row asset | {s * 1000:.0f} ms "
            f"({spread}) | ≤ 100 ms | {PYSYFT['first']} | {s / GOALS['first']:.2f} |"
        )
    print("\nDetails (medians, ms):")
    for runs, keys in (
        (launches, ("import", "launch", "launch_cpu", "first_request")),
        (
            firsts,
            (
                "owner_login",
                "upload",
                "scientist_login",
                "submit",
                "approve",
                "since_launch",
                "first",
                "second",
            ),
        ),
    ):
        if runs:
            print("  " + ", ".join(f"{k} {med(runs, k) * 1000:.0f}" for k in keys))


if __name__ == "__main__":
    main()
