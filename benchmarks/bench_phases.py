"""Issue #18's phases, each end to end, beside PySyft 0.9.5 and the goals: one Markdown table.

    .venv/bin/python benchmarks/bench_phases.py [--quick] [--db sqlite|postgresql|both]
        [--only request,launch,first,list,floor,mixed,jobs,memory] [--repeat N] [--json FILE]
    .venv/bin/python benchmarks/bench_phases.py --compare BEFORE.json AFTER.json

Every figure goes through real processes and a real server on loopback, as users run it, with
the public client API only (so the same script measures any checkout: run it with that
checkout's Python from its folder; ``--compare`` then prints two runs' ``--json`` side by side).
``--repeat N`` runs each row N times (fresh processes, fresh Datasites) and shows the median;
the request row takes its samples in one session. Rows:

- request: a scientist's ``client.code.request_code_execution(fn)``, fresh functions, after one
  untimed call; median and p90.
- launch: ``sy.orchestra.launch(...)`` to ready in a fresh process, after ``import jupyter_syft``
  (the import is printed below the table); beside it, its floor: a fresh process importing only
  the libraries a Datasite is built on (SQLAlchemy, SQLModel, pydantic, tornado).
- first: in a fresh process, launch, log in, upload a 569-row asset, a scientist submits, the
  owner approves; then the first execute + ``.get()`` is timed.
- list: 32 scientists x 10 ``datasets.get_all()`` at once; p50 / p99 of one call.
- floor: the list row's load with the lightest signed-in call there is (``GET /me`` through the
  client's own connection: a token check, one row, no list): what the server, the clients and
  the machine allow for any call at that concurrency. It has no PySyft figure; its goal is the
  list row's.
- mixed: 50 scientists for 60 s, each repeating list (``datasets.get_all()``), mock (the
  listed asset's ``.mock``), request, approve (the owner's
  ``client.requests.get_by_id(uid).approve()``); operations per second, errors, and the HTTP
  calls per second they made (to hold against the floor row's calls/s); in the notes, the
  server's CPU per operation and how many of the machine's cores were busy (which of the two
  was the limit).
- jobs: 4 scientists queue 10 jobs each (``blocking=False``) at once, and 10 scientists 20 each
  in the full mode; jobs per second from the first submission to the last job done.
- memory: the extra memory (peak RSS over the RSS before) of the client process uploading a
  1 GB DataFrame (0.25 GB with ``--quick``).

All rows but launch and first use a standalone Datasite (``jupyter-syft serve``) in a process of
its own, and scientists in client processes of their own (threads spread over
``--client-procs`` processes: one process's GIL would be the limit otherwise). ``--db
postgresql`` (or ``both``, the default) runs list and mixed on a throwaway PostgreSQL cluster as
well, started as the tests start theirs (tests/postgres.py). PySyft's figures are constants,
measured once on the same machine (pysyft_reference.py).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import importlib.util
import itertools
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    OWNER_EMAIL,
    ROOT,
    CpuSampler,
    StandaloneDatasite,
    percentile,
    syft_function,
)
from pysyft_reference import MEASURED_HOW, MEASURED_ON, PYSYFT_VERSION, REFERENCE, Reference

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("JUPYTER_SYFT_HOME", tempfile.mkdtemp(prefix="bench-phases-"))

ROWS = ("request", "launch", "first", "list", "floor", "mixed", "jobs", "memory")
LOAD_ROWS = ("list", "floor", "mixed")  # measured on each database of --db
PASSWORD = "bench-phases-pw"  # the standalone Datasite's root password
SCIENTIST_PASSWORD = "bench-scientist-pw"
ASSET_ROWS = 569  # the breast-cancer study's size


@dataclass
class Settings:
    quick: bool
    repeat: int
    request_samples: int
    list_scientists: int
    list_calls: int
    mixed_scientists: int
    mixed_seconds: float
    jobs: list[tuple[int, int]]  # (scientists, jobs each)
    upload_gb: float
    client_procs: int
    serve_args: list[str]
    processes: int  # load rows: `serve --processes N`

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        quick = args.quick
        return cls(
            quick=quick,
            repeat=args.repeat or (1 if quick else 2),
            request_samples=10 if quick else 30,
            list_scientists=32,
            list_calls=10,
            mixed_scientists=50,
            mixed_seconds=args.seconds or (15.0 if quick else 60.0),
            jobs=[(4, 10)] if quick else [(4, 10), (10, 20)],
            upload_gb=args.upload_gb or (0.25 if quick else 1.0),
            client_procs=args.client_procs,
            serve_args=args.serve_args.split() if args.serve_args else [],
            processes=args.processes,
        )


# --- client processes ---------------------------------------------------------------------------


def run_clients(target: Callable[..., Any], arg_lists: list[tuple], timeout: float) -> list[Any]:
    """Run ``target(start, *args)`` in a fresh process per ``args``; return their results.

    Each child sets itself up (imports, logins), then calls ``start()``, which returns once every
    child is set up: the timed part starts at the same moment in all of them."""
    ctx = mp.get_context("spawn")  # fresh interpreters, as users' notebooks are
    ready: Any = ctx.Queue()
    results: Any = ctx.Queue()
    go = ctx.Event()
    procs = [
        ctx.Process(target=_client_main, args=(target, args, ready, go, results), daemon=True)
        for args in arg_lists
    ]
    for proc in procs:
        proc.start()
    finished = False
    try:
        for _ in procs:
            failure = ready.get(timeout=timeout)
            if failure is not None:
                raise RuntimeError(f"a client process failed while setting up:\n{failure}")
        go.set()
        out = []
        for _ in procs:
            ok, value = results.get(timeout=timeout)
            if not ok:
                raise RuntimeError(f"a client process failed:\n{value}")
            out.append(value)
        finished = True
        return out
    finally:
        for proc in procs:
            if not finished:  # the others would wait for the start, or run for nothing
                proc.kill()
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


def _client_main(
    target: Callable[..., Any], args: tuple, ready: Any, go: Any, results: Any
) -> None:
    started = False
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (messages such as "Stopped Datasite")

    def start() -> None:
        nonlocal started
        started = True
        ready.put(None)
        go.wait()

    try:
        results.put((True, target(start, *args)))
    except BaseException:
        if not started:
            ready.put(traceback.format_exc())
        results.put((False, traceback.format_exc()))


def _frame(rows: int = ASSET_ROWS) -> Any:
    """A study-like frame: an integer column ``a`` and 30 float features."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((rows, 30)), columns=[f"f{i}" for i in range(30)])
    frame.insert(0, "a", np.arange(rows))
    return frame


def _scientist(i: int) -> str:
    return f"ds{i}@phases.bench"


def _login(sy: Any, url: str, email: str, password: str = SCIENTIST_PASSWORD) -> Any:
    return sy.login(url=url, email=email, password=password, verbose=False)


# --- the standalone Datasite the load rows share ------------------------------------------------


class Datasite(StandaloneDatasite):
    """A standalone Datasite with the study dataset and ``scientists`` scientist accounts."""

    @staticmethod
    def group_args(settings: Settings, db_url: str | None) -> list[str]:
        """``--processes N``, when more than one."""
        return ["--processes", str(settings.processes)] if settings.processes > 1 else []

    def __init__(self, settings: Settings, scientists: int, db_url: str | None = None):
        super().__init__(
            PASSWORD,
            db_url=db_url,
            extra_args=settings.serve_args + self.group_args(settings, db_url),
            name="phases",
            # as sy.orchestra.launch and PySyft: approving a request releases its results
            env={"JUPYTER_SYFT_RELEASE": "on_approval"},
        )
        try:
            import jupyter_syft as sy

            self.owner = _login(sy, self.url, OWNER_EMAIL, PASSWORD)
            frame = _frame()
            self.owner.upload_dataset(
                sy.Dataset(
                    name="study", asset_list=[sy.Asset(name="cells", data=frame, mock=frame * 0)]
                ),
                progress=False,
            )
            for i in range(scientists):
                self.owner.users.create(
                    sy.UserCreate(email=_scientist(i), name=f"ds{i}", password=SCIENTIST_PASSWORD)
                )
        except BaseException:
            self.close()
            raise


# --- the rows -----------------------------------------------------------------------------------


def row_request(settings: Settings) -> dict[str, Any]:
    with Datasite(settings, scientists=1) as site:
        (samples,) = run_clients(
            _request_client, [(site.url, settings.request_samples)], timeout=600
        )
    ms = [s * 1000 for s in samples]
    return {"value": statistics.median(ms), "p90": percentile(ms, 90), "samples_ms": ms}


def _request_client(start: Callable[[], None], url: str, samples: int) -> list[float]:
    import jupyter_syft as sy

    ds = _login(sy, url, _scientist(0))
    asset = ds.datasets[0].assets[0]
    functions = [
        syft_function(f"phase_request_{i}", "int(data['a'].sum())", _single_use(sy, asset))
        for i in range(samples + 1)
    ]
    start()
    ds.code.request_code_execution(functions[0])  # untimed: the first call of a session
    took = []
    for fn in functions[1:]:
        t = time.perf_counter()
        ds.code.request_code_execution(fn)
        took.append(time.perf_counter() - t)
    return took


def _single_use(sy: Any, asset: Any) -> Any:
    return sy.syft_function_single_use(data=asset)


def row_launch(settings: Settings) -> dict[str, Any]:
    runs = [run_clients(_launch_client, [()], timeout=300)[0] for _ in range(settings.repeat)]
    # The launch's floor: a fresh process importing only the libraries a Datasite is built on.
    floor = [
        run_clients(_stack_import_client, [()], timeout=300)[0] for _ in range(settings.repeat)
    ]
    return {
        "value": statistics.median(r["launch_s"] for r in runs),
        "import_s": statistics.median(r["import_s"] for r in runs),
        "stack_import_s": statistics.median(floor),
        "runs": runs,
    }


def _stack_import_client(start: Callable[[], None]) -> float:
    start()
    t = time.perf_counter()
    import pydantic  # noqa: F401
    import sqlalchemy.orm  # noqa: F401
    import sqlmodel  # noqa: F401
    import tornado.httpserver
    import tornado.web  # noqa: F401

    return time.perf_counter() - t


def _launch_client(start: Callable[[], None]) -> dict[str, float]:
    start()
    t = time.perf_counter()
    import jupyter_syft as sy

    imported = time.perf_counter()
    node = sy.orchestra.launch(name="phases-launch", port="auto", reset=True, verbose=False)
    ready = time.perf_counter()
    node.land()
    return {"import_s": imported - t, "launch_s": ready - imported}


def row_first(settings: Settings) -> dict[str, Any]:
    runs = [run_clients(_first_client, [()], timeout=600)[0] for _ in range(settings.repeat)]
    return {"value": statistics.median(r * 1000 for r in runs), "runs_ms": [r * 1000 for r in runs]}


def _first_client(start: Callable[[], None]) -> float:
    start()
    import jupyter_syft as sy

    node = sy.orchestra.launch(name="phases-first", port="auto", reset=True, verbose=False)
    try:
        root = node.login(email=OWNER_EMAIL, password="changethis", verbose=False)
        frame = _frame()
        root.upload_dataset(
            sy.Dataset(name="study", asset_list=[sy.Asset(name="cells", data=frame, mock=frame)]),
            progress=False,
        )
        root.users.create(sy.UserCreate(email=_scientist(0), name="ds", password="pw"))
        ds = _login(sy, node.url, _scientist(0), "pw")
        asset = ds.datasets[0].assets[0]
        fn = syft_function("first_sum", "int(data['a'].sum())", _single_use(sy, asset))
        request = ds.code.request_code_execution(fn)
        root.requests.get_by_id(request.id).approve()
        t = time.perf_counter()
        value = ds.code.first_sum(data=asset).get()
        took = time.perf_counter() - t
        if value != int(frame["a"].sum()):
            raise RuntimeError(f"first execute returned {value!r}")
        return took
    finally:
        node.land()


def _groups(count: int, procs: int) -> list[list[int]]:
    groups = [list(range(count))[p::procs] for p in range(max(1, procs))]
    return [g for g in groups if g]


def _store(db_url: str | None) -> str:
    """Which store a load row's Datasite ran on (recorded with its figures)."""
    return "sqlite" if db_url is None else db_url.split(":", 1)[0].split("+", 1)[0]


def row_list(settings: Settings, db_url: str | None) -> dict[str, Any]:
    return _many_calls(settings, db_url, "list")


def row_floor(settings: Settings, db_url: str | None) -> dict[str, Any]:
    return _many_calls(settings, db_url, "floor")


def _many_calls(settings: Settings, db_url: str | None, row: str) -> dict[str, Any]:
    """``list_scientists`` scientists make ``list_calls`` calls each, all at once."""
    n = settings.list_scientists
    with Datasite(settings, scientists=n, db_url=db_url) as site:
        groups = _groups(n, settings.client_procs)
        args = [(site.url, g, settings.list_calls, row) for g in groups]
        per_proc = run_clients(_calls_client, args, timeout=600)
    ms = [s * 1000 for samples, _, _ in per_proc for s in samples]
    elapsed = max(end for _, _, end in per_proc) - min(begin for _, begin, _ in per_proc)
    return {
        "store": _store(db_url),
        "value": percentile(ms, 50),
        "p99": percentile(ms, 99),
        "calls": len(ms),
        "calls_per_s": len(ms) / elapsed,
    }


def _calls_client(
    start: Callable[[], None], url: str, scientists: list[int], calls: int, row: str
) -> tuple[list[float], float, float]:
    """list: ``datasets.get_all()``; floor: ``GET /me`` through the client's connection."""
    import jupyter_syft as sy
    from jupyter_syft.wire import routes

    clients = [_login(sy, url, _scientist(i)) for i in scientists]
    if row == "list":
        # client.datasets lists when it is read: a collection kept would list only once
        calls_of = [functools.partial(_get_all_datasets, ds) for ds in clients]
    else:
        calls_of = [functools.partial(ds.session.api.connection.get, routes.ME) for ds in clients]
    for call in calls_of:
        call()  # untimed: each scientist has looked once already
    took: list[float] = []
    lock = threading.Lock()

    def scientist(call: Callable[[], Any]) -> None:
        mine = []
        for _ in range(calls):
            t = time.perf_counter()
            call()
            mine.append(time.perf_counter() - t)
        with lock:
            took.extend(mine)

    start()
    began = time.monotonic()
    _in_threads(scientist, calls_of)
    return took, began, time.monotonic()


def _get_all_datasets(client: Any) -> Any:
    return client.datasets.get_all()


def _in_threads(work: Callable[[Any], None], items: list[Any]) -> None:
    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def row_mixed(settings: Settings, db_url: str | None) -> dict[str, Any]:
    n = settings.mixed_scientists
    with Datasite(settings, scientists=n, db_url=db_url) as site:
        args = [(site.url, g, settings.mixed_seconds) for g in _groups(n, settings.client_procs)]
        group = bool(Datasite.group_args(settings, db_url))
        with CpuSampler(site.proc.pid, group=group) as sampler:
            per_proc = run_clients(_mixed_client, args, timeout=600 + settings.mixed_seconds)
    ops = {op: sum(p["ops"][op] for p in per_proc) for op in per_proc[0]["ops"]}
    errors = sum(p["errors"] for p in per_proc)
    began, ended = min(p["start"] for p in per_proc), max(p["end"] for p in per_proc)
    elapsed = ended - began
    # what limited the row: the server's one process (its GIL) or the machine's cores
    busy, server_cpu, sampled = sampler.between(began, ended)
    first_errors = [e for p in per_proc for e in p["first_errors"]][:3]
    latency_ms = {
        op: statistics.median(t * 1000 for p in per_proc for t in p["latencies"][op])
        for op in ops
        if any(p["latencies"][op] for p in per_proc)
    }
    done = sum(ops.values())
    return {
        "store": _store(db_url),
        "latency_ms": latency_ms,
        "cores_busy": busy / sampled if sampled else None,
        # the server's CPU over the sampled part of the window, per op done in that part
        "server_ms_per_op": (
            server_cpu / (done * sampled / elapsed) * 1000 if done and sampled else None
        ),
        # the client processes' CPU (building each function included), per op
        "client_ms_per_op": (
            sum(p.get("client_cpu_s", 0.0) for p in per_proc) / done * 1000 if done else None
        ),
        "value": done / elapsed,
        "calls_per_s": sum(p.get("http_calls", 0) for p in per_proc) / elapsed,
        "errors": errors,
        "ops": ops,
        "elapsed_s": elapsed,
        "first_errors": first_errors,
    }


def _mixed_client(
    start: Callable[[], None], url: str, scientists: list[int], seconds: float
) -> dict[str, Any]:
    import jupyter_syft as sy

    owner = _login(sy, url, OWNER_EMAIL, PASSWORD)  # one owner per process approves
    clients = [(i, _login(sy, url, _scientist(i))) for i in scientists]
    # Every HTTP call the clients make, to compare with the floor row's calls/s: JSON calls
    # and value downloads are the connection's two entry points (in every version measured).
    calls = itertools.count()

    def counted(send: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            next(calls)
            return send(*args, **kwargs)

        return call

    for client in [owner] + [ds for _, ds in clients]:
        connection = client.session.api.connection
        connection.call = counted(connection.call)
        connection.download = counted(connection.download)
    ops = {"list": 0, "mock": 0, "request": 0, "approve": 0}
    latencies: dict[str, list[float]] = {op: [] for op in ops}
    errors: list[str] = []
    lock = threading.Lock()

    def scientist(item: tuple[int, Any]) -> None:
        number, ds = item
        done = dict.fromkeys(ops, 0)
        failed: list[str] = []
        took: dict[str, list[float]] = {op: [] for op in ops}

        def attempt(op: str, call: Callable[[], Any]) -> Any:
            t = time.perf_counter()
            try:
                value = call()
            except Exception as exc:
                failed.append(f"{op}: {type(exc).__name__}: {exc}"[:300])
                return None
            took[op].append(time.perf_counter() - t)
            done[op] += 1
            return value

        k = 0
        while time.monotonic() < deadline:
            datasets = attempt("list", lambda: ds.datasets.get_all())
            if datasets:
                attempt("mock", lambda datasets=datasets: datasets[0].assets[0].mock)
                asset = datasets[0].assets[0]
                fn = syft_function(
                    f"mixed_{os.getpid()}_{number}_{k}",
                    "int(data['a'].sum())",
                    _single_use(sy, asset),
                )
                request = attempt("request", lambda fn=fn: ds.code.request_code_execution(fn))
                if request is not None:
                    attempt(
                        "approve",
                        lambda rid=request.id: owner.requests.get_by_id(rid).approve(),
                    )
            k += 1
        with lock:
            for op in ops:
                ops[op] += done[op]
                latencies[op] += took[op]
            errors.extend(failed)

    start()
    began = time.monotonic()
    deadline = began + seconds
    calls_before = next(calls)
    cpu_before = time.process_time()
    _in_threads(scientist, clients)
    return {
        "client_cpu_s": time.process_time() - cpu_before,
        "http_calls": next(calls) - calls_before - 1,
        "ops": ops,
        "latencies": latencies,
        "errors": len(errors),
        "first_errors": errors[:3],
        "start": began,
        "end": time.monotonic(),
    }


def row_jobs(settings: Settings, scientists: int, jobs: int) -> dict[str, Any]:
    import jupyter_syft as sy

    with Datasite(settings, scientists=scientists) as site:
        for i in range(scientists):
            ds = _login(sy, site.url, _scientist(i))
            asset = ds.datasets[0].assets[0]
            fn = syft_function(
                f"phase_job_{i}",
                "int(data['a'].sum())",
                sy.syft_function(
                    input_policy=sy.ExactMatch(data=asset),
                    output_policy=sy.OutputPolicyExecuteCount(limit=10_000),
                ),
            )
            request = ds.code.request_code_execution(fn)
            site.owner.requests.get_by_id(request.id).approve()
        # untimed: the first call after approving waits for the first warm worker
        getattr(ds.code, f"phase_job_{scientists - 1}")(data=asset).get()
        args = [(site.url, i, jobs) for i in range(scientists)]
        per_proc = run_clients(_jobs_client, args, timeout=1800)
    done = sum(p["completed"] for p in per_proc)
    elapsed = max(p["end"] for p in per_proc) - min(p["start"] for p in per_proc)
    return {
        "value": scientists * jobs / elapsed,
        "completed": done,
        "jobs": scientists * jobs,
        "elapsed_s": elapsed,
    }


def _jobs_client(start: Callable[[], None], url: str, number: int, jobs: int) -> dict[str, Any]:
    import jupyter_syft as sy

    ds = _login(sy, url, _scientist(number))
    asset = ds.datasets[0].assets[0]
    fn = getattr(ds.code, f"phase_job_{number}")
    start()
    began = time.monotonic()
    queued = [fn(data=asset, blocking=False) for _ in range(jobs)]
    for job in queued:
        job.wait(timeout=1200)
    end = time.monotonic()
    completed = sum(job.status == sy.JobStatus.COMPLETED for job in queued)
    return {"start": began, "end": end, "completed": completed}


def row_memory(settings: Settings) -> dict[str, Any]:
    with Datasite(settings, scientists=0) as site:
        (result,) = run_clients(_memory_client, [(site.url, settings.upload_gb)], timeout=1800)
    return result


def _memory_client(start: Callable[[], None], url: str, gigabytes: float) -> dict[str, Any]:
    import resource

    import numpy as np
    import pandas as pd

    import jupyter_syft as sy

    owner = _login(sy, url, OWNER_EMAIL, PASSWORD)
    cols = 100
    frame = pd.DataFrame(
        np.random.default_rng(1).random((int(gigabytes * 1e9 / 8 / cols), cols)),
        columns=[f"c{i}" for i in range(cols)],
    )
    small = frame.head(10)
    owner.upload_dataset(  # untimed: the upload path's imports and first connection
        sy.Dataset(name="warm", asset_list=[sy.Asset(name="x", data=small, mock=small)]),
        progress=False,
    )
    start()
    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * page

    baseline = rss()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    t = time.perf_counter()
    owner.upload_dataset(
        sy.Dataset(name="big", asset_list=[sy.Asset(name="x", data=frame, mock=small)]),
        progress=False,
    )
    took = time.perf_counter() - t
    done.set()
    sampler.join()
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if peak_after > peak_before:  # a new lifetime peak: exact, where sampling may miss it
        peak[0] = max(peak[0], peak_after)
    frame_mb = frame.memory_usage(index=True).sum() / 1e6
    return {"value": (peak[0] - baseline) / 1e6, "frame_mb": frame_mb, "upload_s": took}


# --- PostgreSQL ---------------------------------------------------------------------------------


class Postgres:
    """The tests' throwaway cluster (tests/postgres.py): one fresh database per Datasite."""

    def __init__(self) -> None:
        path = ROOT / "tests" / "postgres.py"
        spec = importlib.util.spec_from_file_location("_bench_postgres", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        bindir = module.find_bindir()
        if bindir is None:
            raise RuntimeError("initdb/pg_ctl not found (apt-get install postgresql, or PG_BINDIR)")
        self.cluster = module.PostgresCluster(bindir)
        self.cluster.start()

    def database(self) -> str:
        return self.cluster.url(self.cluster.create_database())

    def stop(self) -> None:
        self.cluster.stop()


# --- the table ----------------------------------------------------------------------------------


def verdict(value: float, ref: Reference) -> str:
    """Whether ``value`` meets the goal, and by how much it misses."""
    goal = ref.goal
    ratio = value / goal.value
    met = ratio <= 1 if goal.lower_is_better else ratio >= 1
    if met:
        return f"✓ met ({ratio:.2f}x goal)"
    if goal.lower_is_better:
        return f"✗ {ratio:.1f}x over"
    return f"✗ {goal.value / value:.1f}x short" if value > 0 else "✗ nothing done"


def versus_pysyft(value: float, ref: Reference) -> str:
    if ref.best is None or value <= 0:
        return "—"
    times = ref.best / value if ref.goal.lower_is_better else value / ref.best
    return f"{times:.1f}x" if times >= 1 else f"{1 / times:.1f}x slower"


HEADER = ("phase", f"PySyft {PYSYFT_VERSION}", "jupyter_syft", "goal", "ratio to goal", "x PySyft")


def table(results: dict[str, Any]) -> list[str]:
    return _markdown(HEADER, [cells(key, result) for key, result in results.items()])


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Two ``--json`` files side by side: each row's figure before and after, and the change."""
    header = (*HEADER[:2], "before", "after", "goal", "ratio to goal (after)", "x PySyft (after)",
              "after vs before")  # fmt: skip
    rows = []
    for key in [*after, *(k for k in before if k not in after)]:
        old, new = before.get(key), after.get(key)
        shown = cells(key, new if new is not None else old)
        was = cells(key, old)[2] if old is not None else "not run"
        now = shown[2] if new is not None else "not run"
        change = "—"
        if old and new and "error" not in old and "error" not in new:
            change = _change(key, old["value"], new["value"])
        rows.append((shown[0], shown[1], was, now, shown[3], shown[4], shown[5], change))
    return _markdown(header, rows)


def _change(key: str, old: float, new: float) -> str:
    name = key.partition("@")[0]
    ref = REFERENCE["list_p50" if name in ("list", "floor") else name]
    if old <= 0 or new <= 0:
        return "—"
    better = old / new if ref.goal.lower_is_better else new / old
    return f"{better:.1f}x better" if better >= 1 else f"{1 / better:.1f}x worse"


def _markdown(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def cells(key: str, result: dict[str, Any]) -> tuple[str, str, str, str, str, str]:
    """One row of the table: phase, PySyft's figure, ours, the goal, the ratio, x PySyft."""
    name, _, db = key.partition("@")
    label = f" ({'PostgreSQL' if db == 'postgresql' else 'SQLite'})" if db else ""
    ref = REFERENCE["list_p50" if name in ("list", "floor") else name]
    if name == "floor":
        ref = REFERENCE["floor"]
    if "error" in result:
        return (
            ref.phase + label,
            ref.pysyft,
            f"failed: {result['error']}",
            ref.goal.text(),
            "",
            "",
        )
    value = result["value"]
    if name == "list":
        p99, tail = REFERENCE["list_p99"], result["p99"]
        return (
            f"32 scientists x 10 `datasets.get_all()`, p50 / p99{label}",
            f"{ref.pysyft} / {p99.pysyft}",
            f"{value:.0f} / {tail:.0f} ms{_rate(result)}",
            f"≤ {ref.goal.value:g} / {p99.goal.value:g} ms",
            f"p50 {verdict(value, ref)}; p99 {verdict(tail, p99)}",
            f"{versus_pysyft(value, ref)} / {versus_pysyft(tail, p99)}",
        )
    if name == "floor":
        p99 = REFERENCE["list_p99"]
        return (
            f"{ref.phase}{label}",
            "—",
            f"{value:.0f} / {result['p99']:.0f} ms{_rate(result)}",
            f"≤ {ref.goal.value:g} / {p99.goal.value:g} ms",
            f"p50 {verdict(value, ref)}; p99 {verdict(result['p99'], p99)}",
            "—",
        )
    phase = ref.phase + label
    if name == "memory" and result["frame_mb"] < 900:  # --quick's smaller frame
        phase = ref.phase.replace("1 GB", f"{result['frame_mb'] / 1000:.2g} GB")
    return (
        phase,
        ref.pysyft,
        _figure(name, result),
        ref.goal.text(),
        verdict(value, ref),
        versus_pysyft(value, ref),
    )


def _rate(result: dict[str, Any]) -> str:
    rate = result.get("calls_per_s")  # not in --json files of older checkouts
    return f" ({rate:.0f} calls/s)" if rate else ""


def _figure(name: str, result: dict[str, Any]) -> str:
    value = result["value"]
    if name == "request":
        return f"{value:.1f} ms (p90 {result['p90']:.1f})"
    if name == "launch":
        floor = result.get("stack_import_s")  # not in --json files of older checkouts
        stack = (
            f" (importing SQLAlchemy, SQLModel and tornado alone: {floor:.2f} s)" if floor else ""
        )
        return f"{value:.2f} s{stack}"
    if name == "first":
        return f"{value:.0f} ms"
    if name == "mixed":
        return f"{value:.1f} ops/s, {result['errors']} errors{_rate(result)}"
    if name in ("jobs", "jobs_full"):
        return f"{value:.1f} jobs/s ({result['completed']}/{result['jobs']} done)"
    return f"+{value:,.0f} MB (of a {result['frame_mb']:,.0f} MB frame)"  # memory


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    import jupyter_syft

    tree = Path(jupyter_syft.__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(tree), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if commit and git("status", "--porcelain", "--untracked-files=no"):
        commit += " + uncommitted changes"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(memory_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tree": str(tree),
        "commit": commit,
    }


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "load: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- main ---------------------------------------------------------------------------------------


def measure(settings: Settings, rows: list[str], dbs: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    postgres: Postgres | None = None
    pg_error = ""
    if "postgresql" in dbs and any(r in LOAD_ROWS for r in rows):
        try:
            postgres = Postgres()
        except Exception as exc:  # shown in the table, the other rows still run
            pg_error = f"no PostgreSQL: {exc}"[:200]
    try:
        for name in rows:
            if name in LOAD_ROWS:
                for db in dbs:
                    key = f"{name}@{db}"
                    if db == "postgresql" and postgres is None:
                        results[key] = {"error": pg_error}
                        continue
                    fn = {"list": row_list, "floor": row_floor}.get(name, row_mixed)
                    # (each PostgreSQL run gets a fresh database; SQLite runs get none)
                    runs = [
                        _attempt(fn, settings, _database(db, postgres))
                        for _ in range(settings.repeat)
                    ]
                    results[key] = _median_of(runs)
                    _progress(key, results[key])
            elif name == "jobs":
                for index, (scientists, jobs) in enumerate(settings.jobs):
                    key = "jobs" if index == 0 else "jobs_full"
                    runs = [
                        _attempt(row_jobs, settings, scientists, jobs)
                        for _ in range(settings.repeat)
                    ]
                    results[key] = _median_of(runs)
                    _progress(key, results[key])
            else:
                fn = {"request": row_request, "launch": row_launch, "first": row_first}.get(name)
                if fn is not None:  # these repeat inside (fresh processes per run)
                    results[name] = _attempt(fn, settings)
                else:
                    runs = [_attempt(row_memory, settings) for _ in range(settings.repeat)]
                    results[name] = _median_of(runs)
                _progress(name, results[name])
    finally:
        if postgres is not None:
            postgres.stop()
    return results


def _database(db: str, postgres: Postgres | None) -> str | None:
    """The database URL a load row's Datasite gets: None (its own SQLite file) for ``sqlite``,
    even while the cluster for the ``postgresql`` rows is up."""
    if db == "sqlite":
        return None
    assert postgres is not None
    return postgres.database()


def _attempt(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """One run of a row; a failure becomes the row's figure (the others still run)."""
    try:
        return fn(*args)
    except Exception as exc:
        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:150]}"}


def _median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    merged = dict(good[len(good) // 2])
    for key, value in good[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            middle = statistics.median(r[key] for r in good)
            merged[key] = round(middle) if isinstance(value, int) else middle  # counts stay whole
    merged["runs"] = runs
    return merged


def _progress(key: str, result: dict[str, Any]) -> None:
    shown = result.get("error") or f"{result['value']:.3f}"
    print(f"  measured {key}: {shown}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run in a few minutes")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--only", help=f"comma-separated rows: {','.join(ROWS)}")
    parser.add_argument("--repeat", type=int, help="runs per row, median shown (2; quick: 1)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--seconds", type=float, help="mixed row's length (60; quick: 15)")
    parser.add_argument("--upload-gb", type=float, help="memory row's frame (1; quick: 0.25)")
    parser.add_argument("--client-procs", type=int, default=4, help="client processes for load")
    parser.add_argument("--serve-args", help="extra arguments for `jupyter-syft serve`")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="the load rows (both stores): serve with `jupyter-syft serve --processes N`",
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("BEFORE.json", "AFTER.json"),
        help="measure nothing: print two --json files' figures side by side",
    )
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.loads(path.read_text()) for path in args.compare)
        for line in compare(before["results"], after["results"]):
            print(line)
        if before["mode"] != after["mode"]:
            print(f"- careful: a {before['mode']} run beside a {after['mode']} run (other sizes)")
        for which, figures in (("before", before), ("after", after)):
            machine_info = figures["machine"]
            print(f"- {which}: {machine_info['tree']} at {machine_info['commit']}, "
                  f"{machine_info['date']}, {figures['mode']} mode; load {figures['load_before']}")  # fmt: skip
        return 0

    rows = list(ROWS)
    if args.only:
        rows = [r.strip() for r in args.only.split(",") if r.strip()]
        unknown = [r for r in rows if r not in ROWS]
        if unknown:
            parser.error(f"unknown row(s) {', '.join(unknown)}: choose from {', '.join(ROWS)}")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    settings = Settings.from_args(args)

    info = machine()
    load_before = uptime()
    started = time.perf_counter()
    results = measure(settings, rows, dbs)
    load_after = uptime()

    mode = "quick" if settings.quick else "full"
    print(f"\nIssue #18's phases ({mode} mode; medians of {settings.repeat} run(s) per row)\n")
    for line in table(results):
        print(line)
    notes = [
        f"PySyft {PYSYFT_VERSION}: constants measured {MEASURED_ON} ({MEASURED_HOW});"
        " x PySyft divides by PySyft's most favourable figure.",
        f"jupyter_syft: {info['tree']} at {info['commit'] or '?'}; {info['date']}.",
        f"machine: {info['cpus']} cores ({info['cpu_model']}), {info['memory_gb']} GB,"
        f" Python {info['python']}, {info['platform']}.",
        f"load before: {load_before}",
        f"load after:  {load_after} ({time.perf_counter() - started:.0f} s of measuring)",
    ]
    if settings.processes > 1:
        notes.append(
            f"load rows: `jupyter-syft serve --processes {settings.processes}` "
            "(server CPU: every process of the group)."
        )
    if "launch" in results and "import_s" in results["launch"]:
        notes.append(
            f"`import jupyter_syft` before the launch: {results['launch']['import_s'] * 1000:.0f} ms."
        )
    for key, result in results.items():
        if key.startswith("mixed") and "ops" in result:
            ops = ", ".join(
                f"{op} {n} ({result['latency_ms'].get(op, 0):.0f} ms median)"
                for op, n in result["ops"].items()
            )
            cpu = ""
            if result.get("cores_busy") is not None:
                clients = result.get("client_ms_per_op")
                cpu = (
                    f" Server CPU {result['server_ms_per_op']:.1f} ms/op"
                    + (f", the clients' {clients:.1f}" if clients is not None else "")
                    + f"; machine busy {result['cores_busy']:.2f} of {os.cpu_count()} cores."
                )
            notes.append(f"{key}: {ops} in {result['elapsed_s']:.1f} s.{cpu}")
            for err in result.get("first_errors", []):
                notes.append(f"{key} error: {err}")
    print()
    for note in notes:
        print(f"- {note}")
    if args.json:
        payload = {"machine": info, "load_before": load_before, "load_after": load_after,
                   "mode": mode, "repeat": settings.repeat, "results": results}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
