"""Jobs benchmark: 200 small jobs from 10 scientists at once (issue #4's workload).

    .venv/bin/python benchmarks/bench_jobs.py [--scientists 10] [--jobs 20]

Each scientist has an approved function over a small asset and queues ``--jobs`` runs with
``blocking=False`` from its own thread; meanwhile another scientist makes a blocking call
every ``--probe-interval`` seconds (2 s: slower than the slowest answers seen, so every
version of the runner gets the same number of calls, and jobs/s stays comparable). Prints
jobs/s for the local worker pool and for Dask, and the latency of a blocking call on the idle
Datasite and while the jobs run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import linecache
import os
import statistics
import tempfile
import threading
import time
import types
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("JUPYTER_SYFT_HOME", tempfile.mkdtemp(prefix="bench-jobs-"))


def _approved(sy: Any, root: Any, client: Any, name: str) -> Any:
    asset = client.datasets[0].assets[0]
    source = f"def {name}(data):\n    return int(data['a'].sum())\n"
    filename = f"<bench {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    func = types.FunctionType(compile(source, filename, "exec").co_consts[0], {}, name)
    with contextlib.redirect_stdout(io.StringIO()):
        fn = sy.syft_function(
            input_policy=sy.ExactMatch(data=asset),
            output_policy=sy.OutputPolicyExecuteCount(limit=10_000),
        )(func)
    client.code.request_code_execution(fn)
    root.requests[-1].approve()
    return asset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scientists", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument(
        "--probe-interval", type=float, default=2.0, help="seconds between blocking calls"
    )
    args = parser.parse_args()
    rows = [_measure(args, dask=False)]
    if not args.skip_dask:
        rows.append(_measure(args, dask=True))
    print(
        f"\nJobs benchmark ({os.cpu_count()} cores; {args.scientists} scientists x {args.jobs} jobs)\n"
    )
    print(
        "| executor | jobs | failed | wall time | jobs/s | blocking call, idle (median) | "
        "blocking call meanwhile (median / p90 / max) |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)


def _measure(args: Any, dask: bool) -> str:
    cluster = None
    if dask:
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=2,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
    try:
        return _run(args, cluster)
    finally:
        if cluster is not None:
            cluster.close()


def _run(args: Any, cluster: Any) -> str:

    import pandas as pd

    import jupyter_syft as sy

    node = sy.orchestra.launch(
        name="bench-jobs",
        port="auto",
        reset=True,
        verbose=False,
        dask_scheduler=cluster.scheduler_address if cluster is not None else None,
    )
    try:
        root = node.login(email="info@openmined.org", password="changethis", verbose=False)
        small = pd.DataFrame({"a": [1, 2, 3, 4, 5]})
        root.upload_dataset(
            sy.Dataset(name="small", asset_list=[sy.Asset(name="s", data=small, mock=small)]),
            progress=False,
        )
        clients = []
        for i in range(args.scientists + 1):
            email = f"ds{i}@bench.org"
            root.users.create(sy.UserCreate(email=email, name=f"ds{i}", password="pw"))
            client = sy.login(url=node.url, email=email, password="pw", verbose=False)
            clients.append((client, _approved(sy, root, client, f"job_{i}")))
        *scientists, (prober, probe_asset) = clients
        sy_sandbox = node.datasite.runner().sandbox  # starts the runner and its warm workers
        probe_fn = getattr(prober.code, f"job_{args.scientists}")
        probe_fn(data=probe_asset).get()  # not timed: the first call after approving
        time.sleep(2.0)  # the warm workers are ready
        idle = []
        for _ in range(5):
            t = time.perf_counter()
            probe_fn(data=probe_asset).get()
            idle.append(time.perf_counter() - t)
            time.sleep(0.5)

        jobs: list[Any] = []
        lock = threading.Lock()

        def queue(index: int) -> None:
            client, asset = scientists[index]
            mine = [
                getattr(client.code, f"job_{index}")(data=asset, blocking=False)
                for _ in range(args.jobs)
            ]
            with lock:
                jobs.extend(mine)

        latencies: list[float] = []
        busy = threading.Event()

        def probe() -> None:
            # At a fixed rate, so that faster answers do not mean more runs competing with
            # the jobs (each call needs a worker too).
            due = time.perf_counter()
            while not busy.is_set() or not latencies:
                t = time.perf_counter()
                probe_fn(data=probe_asset).get()
                latencies.append(time.perf_counter() - t)
                due = max(due + args.probe_interval, time.perf_counter())
                time.sleep(max(0.0, due - time.perf_counter()))

        started = time.perf_counter()
        threads = [threading.Thread(target=queue, args=(i,)) for i in range(args.scientists)]
        prober_thread = threading.Thread(target=probe)
        prober_thread.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for job in jobs:
            job.wait(timeout=600)
        elapsed = time.perf_counter() - started
        busy.set()
        prober_thread.join()
        failed = sum(job.status != sy.JobStatus.COMPLETED for job in jobs)
    finally:
        node.land()

    total = len(jobs)
    executor = (
        "Dask LocalCluster, 2 worker processes" if cluster is not None else "local worker pool"
    )
    p90 = statistics.quantiles(latencies, n=10)[-1] if len(latencies) > 1 else latencies[0]
    return (
        f"| {executor} ({sy_sandbox}) | {total} | {failed} | {elapsed:.1f} s | "
        f"{total / elapsed:.1f} | {statistics.median(idle) * 1000:.0f} ms | "
        f"{statistics.median(latencies) * 1000:.0f} / {p90 * 1000:.0f} / "
        f"{max(latencies) * 1000:.0f} ms ({len(latencies)} calls) |"
    )


if __name__ == "__main__":
    main()
