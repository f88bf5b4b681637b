"""CPU per call, one call at a time: what each kind of call costs the server and the client.

    cd <checkout> && .venv/bin/python benchmarks/bench_cpu_per_call.py [--calls 400]
        [--only me,list,mock,request,approve] [--repeat 3] [--db sqlite|postgresql]

The load rows (bench_load.py, bench_phases.py) show what a busy 2-core machine gives, and
move with everything else running on it. CPU time per call moves far less: it is what limits
those rows (the server's Python is one core, its GIL), so it says which change made a call
cheaper. The Datasite runs as ``jupyter-syft serve`` in a process of its own (bench_load's
harness); server CPU is that process's user + system time over all its threads, so a call's
row includes the work it sets off on the notifications and push threads. One scientist calls
``--calls`` times in a row, after 20 warm-up calls; the median of ``--repeat`` runs is shown.

- me: ``GET users/me``, the lightest signed-in call;
- list: ``datasets.get_all()`` (3 datasets of 2 assets: a cached page);
- mock: one 5-row asset's mock value;
- request: ``code.request_code_execution`` of a new single-use function;
- approve: the owner approves one of those requests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TQDM_DISABLE", "1")

import bench_load  # (the standalone server and the fresh functions)

CALLS = ("me", "list", "mock", "request", "approve")


def _cpu(pid: int) -> tuple[float, float]:
    """(user + system, system) CPU seconds of process ``pid`` so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, int(fields[12]) / tick


def measure(pid: int, call: Callable[[], Any], n: int) -> dict[str, float]:
    for _ in range(20):
        call()
    client, (server, system), wall = time.process_time(), _cpu(pid), time.perf_counter()
    for _ in range(n):
        call()
    wall = time.perf_counter() - wall
    client = time.process_time() - client
    server_now, system_now = _cpu(pid)
    return {
        "wall_ms": 1000 * wall / n,
        "client_ms": 1000 * client / n,
        "server_ms": 1000 * (server_now - server) / n,
        "server_sys_ms": 1000 * (system_now - system) / n,
    }


def one_run(calls: list[str], n: int, db_url: str | None) -> dict[str, dict[str, float]]:
    import jupyter_syft as sy

    proc, port = bench_load.start_server(tempfile.mkdtemp(prefix="bench-cpu-"), db_url)
    try:
        owner = sy.login(
            port=port, email=bench_load.OWNER, password=bench_load.PASSWORD, verbose=False
        )
        bench_load.upload_small_datasets(owner, "cpu")
        email, password = "ds@cpu.bench", bench_load.SCIENTIST_PASSWORD
        owner.users.create(sy.UserCreate(email=email, name="DS", password=password))
        scientist = sy.login(port=port, email=email, password=password, verbose=False)
        asset = scientist.datasets[0].assets[0]
        api = scientist.session.api
        numbers = itertools.count()
        requests: list[Any] = []

        def request() -> None:
            fn = bench_load._function(sy, f"cpu_{next(numbers)}", asset)
            requests.append(scientist.code.request_code_execution(fn))

        pending = iter(requests)
        kinds: dict[str, Callable[[], Any]] = {
            "me": lambda: api.connection.get("users/me"),
            "list": lambda: scientist.datasets.get_all(),
            "mock": lambda: api.asset_value(asset.id, "mock", label="mock"),
            "request": request,
            "approve": lambda: owner.session.api.approve_request(next(pending).id, False, None),
        }
        results = {}
        with contextlib.redirect_stdout(io.StringIO()):  # the functions' "created" messages
            for kind in calls:
                if kind == "approve" and len(requests) < n + 20:  # requests to approve
                    for _ in range(n + 20 - len(requests)):
                        request()
                results[kind] = measure(proc.pid, kinds[kind], n)
        return results
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=400, help="calls per kind and run")
    parser.add_argument("--only", help=f"comma-separated: {','.join(CALLS)}")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is shown")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    calls = [c for c in (args.only.split(",") if args.only else CALLS) if c]
    unknown = sorted(set(calls) - set(CALLS))
    if unknown:
        parser.error(f"unknown calls {unknown}: choose from {', '.join(CALLS)}")
    cluster, db_url = None, None
    if args.db == "postgresql":
        sys.path.insert(0, str(bench_load.ROOT / "tests"))
        from postgres import PostgresCluster, find_bindir

        bindir = find_bindir()
        if bindir is None:
            sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
        cluster = PostgresCluster(bindir)
        cluster.start()
    try:
        runs = []
        for _ in range(args.repeat):
            if cluster is not None:
                db_url = cluster.url(cluster.create_database())
            runs.append(one_run(calls, args.calls, db_url))
    finally:
        if cluster is not None:
            cluster.stop()
    load = os.getloadavg()
    print(
        f"\nCPU per call, one call at a time ({args.db}; {args.calls} calls per kind, median of "
        f"{args.repeat} runs; load {load[0]:.2f} {load[1]:.2f})\n"
    )
    print("| call | server CPU ms (of it system) | client CPU ms | wall ms |")
    print("|---|---|---|---|")
    for kind in calls:

        def median(key: str, kind: str = kind) -> float:
            return statistics.median(run[kind][key] for run in runs)

        print(
            f"| {kind} | {median('server_ms'):.2f} ({median('server_sys_ms'):.2f}) | "
            f"{median('client_ms'):.2f} | {median('wall_ms'):.2f} |"
        )


if __name__ == "__main__":
    main()
