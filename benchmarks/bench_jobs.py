"""Jobs benchmark: 200 small jobs from 10 scientists at once (issue #4's workload).

    .venv/bin/python benchmarks/bench_jobs.py [--scientists 10] [--jobs 20]

Each scientist has an approved function over a small asset and queues ``--jobs`` runs with
``blocking=False`` from its own thread; meanwhile another scientist makes a blocking call
every ``--probe-interval`` seconds (2 s: slower than the slowest answers seen, so every
version of the runner gets the same number of calls, and jobs/s stays comparable). Prints
jobs/s for the local worker pool and for Dask, and the latency of a blocking call on the idle
Datasite and while the jobs run, the first blocking call after approving (the worker pool
starts then), and the CPU per run of the worker processes (getrusage of this process's
reaped children plus its live descendants: counts forked workers; bubblewrap's own reaping
hides most of a spawned worker's import CPU from it, so compare starts with ``--starts``)
and of this process (the Datasite runs in it, with the scientists' clients).

    .venv/bin/python benchmarks/bench_jobs.py --starts 8

measures only worker starts: spawned vs forked from the template (time to READY, CPU, RSS,
PSS, private memory).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import linecache
import os
import resource
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
        "--starts",
        type=int,
        default=0,
        help="only measure N worker starts, spawned and forked from the template",
    )
    parser.add_argument(
        "--probe-interval", type=float, default=2.0, help="seconds between blocking calls"
    )
    args = parser.parse_args()
    if args.starts:
        _starts(args.starts)
        return
    rows = [_measure(args, dask=False)]
    if not args.skip_dask:
        rows.append(_measure(args, dask=True))
    print(
        f"\nJobs benchmark ({os.cpu_count()} cores; {args.scientists} scientists x {args.jobs} jobs)\n"
    )
    print(
        "| executor | jobs | failed | wall time | jobs/s | first blocking call after approval | "
        "blocking call, idle (median) | blocking call meanwhile (median / p90 / max) | "
        "worker CPU per run | Datasite + clients CPU per job |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
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

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = usage.ru_utime + usage.ru_stime
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
        t = time.perf_counter()
        probe_fn(data=probe_asset).get()  # the first call after approving
        first = time.perf_counter() - t
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

        self_before = _self_cpu()
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
        self_cpu = _self_cpu() - self_before
        busy.set()
        prober_thread.join()
        failed = sum(job.status != sy.JobStatus.COMPLETED for job in jobs)
        time.sleep(1.0)  # the last workers exit and are reaped
        live = _descendants_cpu(os.getpid())  # e.g. a template process: not reaped yet
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_cpu = usage.ru_utime + usage.ru_stime - cpu_before + live
    finally:
        node.land()
    runs = len(jobs) + len(latencies) + len(idle) + 1

    total = len(jobs)
    executor = (
        "Dask LocalCluster, 2 worker processes" if cluster is not None else "local worker pool"
    )
    p90 = statistics.quantiles(latencies, n=10)[-1] if len(latencies) > 1 else latencies[0]
    return (
        f"| {executor} ({sy_sandbox}) | {total} | {failed} | {elapsed:.1f} s | "
        f"{total / elapsed:.1f} | {first * 1000:.0f} ms | {statistics.median(idle) * 1000:.0f} ms | "
        f"{statistics.median(latencies) * 1000:.0f} / {p90 * 1000:.0f} / "
        f"{max(latencies) * 1000:.0f} ms ({len(latencies)} calls) | "
        f"{worker_cpu / runs * 1000:.0f} ms | {self_cpu / total * 1000:.0f} ms |"
    )


def _starts(n: int) -> None:
    """Wall time to READY, CPU and memory of ``n`` workers started each way (the pool's own
    functions, a throwaway Datasite folder; needs bubblewrap for the template)."""
    from pathlib import Path

    from jupyter_syft.server.execution import pool, sandbox

    folder = Path(tempfile.mkdtemp(prefix="bench-starts-"))
    folder.chmod(0o700)
    launcher = sandbox.Launcher("auto", [folder])
    template = pool.WorkerTemplate(launcher, folder)
    if not template.running():
        time.sleep(0.1)
    rows = []
    for kind in ("spawned", "forked"):
        walls, cpus, rss, pss, private = [], [], [], [], []
        for _ in range(n):
            base = _descendants_cpu(os.getpid())
            t = time.perf_counter()
            worker = pool.start_worker(launcher, folder) if kind == "spawned" else template.fork()
            walls.append(time.perf_counter() - t)
            time.sleep(0.2)  # the template's fork child is reaped
            cpus.append(_descendants_cpu(os.getpid()) - base)
            pythons = [p for p in _tree(worker.pid) if "python" in _cmd(p)]
            rss.append(sum(_mem(p, "Rss") for p in pythons))
            pss.append(sum(_mem(p, "Pss") for p in pythons))
            private.append(
                sum(_mem(p, "Private_Clean") + _mem(p, "Private_Dirty") for p in pythons)
            )
            worker.kill()
        rows.append(
            f"| {kind} | {statistics.median(walls) * 1000:.0f} ms | "
            f"{statistics.median(cpus) * 1000:.0f} ms | {statistics.median(rss):.0f} MB | "
            f"{statistics.median(pss):.0f} MB | {statistics.median(private):.0f} MB |"
        )
    template.close()
    print(f"\nWorker start ({os.cpu_count()} cores, sandbox {launcher.mode}; medians of {n})\n")
    print("| worker | start to READY | CPU | RSS | PSS | private |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row)


def _tree(pid: int) -> list[int]:
    found = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for kid in f.read().split():
                    found += _tree(int(kid))
    except OSError:
        pass
    return found


def _cmd(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _mem(pid: int, key: str) -> float:
    """``key`` (Rss, Pss) of ``pid`` in MB."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _descendants_cpu(pid: int) -> float:
    """CPU seconds of the live descendants of ``pid`` and of the children they reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        kids = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        return 0.0
    for kid in kids:
        try:
            with open(f"/proc/{kid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
        except (OSError, ValueError, IndexError):
            continue
        total += _descendants_cpu(kid)
    return total


if __name__ == "__main__":
    main()
