"""Load benchmark: many scientists at once against one standalone Datasite (issue #18, item 3).

    cd <checkout> && .venv/bin/python benchmarks/bench_load.py [--db sqlite|postgresql] [--seconds 60]
        [--scientists 50] [--list-scientists 32] [--calls 10] [--client-procs 4]
        [--processes N] [--pg-socket] [--py-spy FILE.svg|FILE.txt [--py-spy-gil]] [--server-log FILE]

The Datasite runs as ``jupyter-syft serve`` in a process of its own on loopback; scientists are
threads spread over ``--client-procs`` client processes (one Python process's GIL would be the
limit otherwise), each thread with its own login. Two rows:

- list: ``--list-scientists`` scientists each call ``datasets.get_all()`` ``--calls`` times,
  all at once; p50 / p99 of one call's latency.
- mixed: ``--scientists`` scientists for ``--seconds`` seconds, each repeating list
  (``datasets.get_all()``), mock (one asset's mock value), request
  (``code.request_code_execution``) and approve (the owner approves that request); operations
  per second and errors. Its CPU per operation is split into the server process, the client
  processes, and everything else (PostgreSQL's backends, the kernel's loopback), with how
  many of the machine's cores were busy: a machine whose cores are all busy is the limit,
  whatever the server does.

``--db postgresql`` starts a throwaway PostgreSQL cluster (as the tests do, tests/postgres.py),
reached over TCP on loopback, or with ``--pg-socket`` through its Unix socket.
``--processes N`` serves with ``jupyter-syft serve --processes N`` (SQLite or PostgreSQL).
``--py-spy`` samples the server process (all threads) during both rows with py-spy (path in
$PY_SPY, default /tmp/pyspy/bin/py-spy); a ``.txt`` file gets py-spy's raw collapsed stacks.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TQDM_DISABLE", "1")

from _common import children, group_cpu_s, machine_busy_s

ROOT = Path.cwd()  # the checkout measured: run from its root (see the docstring)
OWNER, PASSWORD = "info@openmined.org", "bench-load-pw"
SCIENTIST_PASSWORD = "bench-scientist-pw"


def _scientist_email(i: int) -> str:
    return f"ds{i}@load.bench"


def _drain(stream: Any, log: str | None) -> None:
    """Read the server's output to its end (so it never blocks), into ``log`` if given."""
    if log is None:
        stream.read()
        return
    with open(log, "a") as file:
        for line in stream:
            file.write(line)


def start_server(
    data_dir: str, db_url: str | None, log: str | None = None, processes: int = 1
) -> tuple[Any, int]:
    env = {**os.environ, "JUPYTER_SYFT_ROOT_PASSWORD": PASSWORD, "TQDM_DISABLE": "1"}
    cmd = [sys.executable, "-m", "jupyter_syft.cli", "serve", "--name", "load", "--port", "0"]
    cmd += ["--data-dir", data_dir, "--processes", str(processes)]
    if db_url:
        cmd += ["--db-url", db_url]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT
    )
    assert proc.stdout is not None
    output = []
    for line in proc.stdout:
        output.append(line)
        if "serving at" in line:
            port = int(line.split("serving at http://")[1].split()[0].rsplit(":", 1)[1])
            threading.Thread(target=_drain, args=(proc.stdout, log), daemon=True).start()
            return proc, port
    raise RuntimeError("the Datasite did not start:\n" + "".join(output))


def upload_small_datasets(owner: Any, prefix: str) -> None:
    """Three datasets of two 5-row assets each: the load rows' data (cheap values, so what is
    measured is the calls)."""
    import pandas as pd

    import jupyter_syft as sy

    small = pd.DataFrame({"a": [1, 2, 3, 4, 5]})
    for d in range(3):
        dataset = sy.Dataset(name=f"{prefix}-{d}", description="a small dataset")
        dataset.add_asset(sy.Asset(name="small", data=small, mock=small * 0))
        dataset.add_asset(sy.Asset(name="other", data=small + 1, mock=small * 0 + 1))
        owner.upload_dataset(dataset, progress=False)


def _function(sy: Any, name: str, asset: Any) -> Any:
    """A fresh Syft function (its own name and source, so each one is a new request)."""
    import linecache
    import types

    source = f"def {name}(data):\n    return int(data['a'].sum())\n"
    filename = f"<bench {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    func = types.FunctionType(code.co_consts[0], {"__builtins__": __builtins__}, name)
    return sy.syft_function_single_use(data=asset)(func)  # (its "created" message: devnull)


def client_process(
    ports: list[int],
    scientists: list[int],
    mode: str,
    calls: int,
    seconds: float,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """One client process: a thread per scientist; puts (op, latency s or None on error)."""
    import jupyter_syft as sy

    # the decorator's "created" messages, from many threads (the process's stdout is unused)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    # scientist i (and the owner who approves for them) on server i % len(ports)
    url = {i: f"http://127.0.0.1:{ports[i % len(ports)]}" for i in scientists}
    owners = {
        u: sy.login(url=u, email=OWNER, password=PASSWORD, verbose=False) for u in set(url.values())
    }
    clients = [
        sy.login(url=url[i], email=_scientist_email(i), password=SCIENTIST_PASSWORD, verbose=False)
        for i in scientists
    ]
    asset = clients[0].datasets[0].assets[0]
    samples: list[tuple[str, float | None]] = []
    lock = threading.Lock()

    def timed(op: str, fn: Any) -> Any:
        start = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:  # counted, and the first few shown
            with lock:
                samples.append((op, None))
                if sum(1 for _, t in samples if t is None) <= 3:
                    print(f"error in {op}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return None
        took = time.perf_counter() - start
        with lock:
            samples.append((op, took))
        return value

    def list_only(ds: Any) -> None:
        for _ in range(calls):
            timed("list", lambda: ds.datasets.get_all())

    def mixed(ds: Any, tag: str, owner: Any) -> None:
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            timed("list", lambda: ds.datasets.get_all())
            timed("mock", lambda: ds.session.api.asset_value(asset.id, "mock", label="mock"))
            fn = _function(sy, f"load_{tag}_{i}", asset)
            request = timed("request", functools.partial(ds.code.request_code_execution, fn))
            if request is not None:
                approve = owner.session.api.approve_request
                timed("approve", functools.partial(approve, request.id, False, None))
            i += 1

    threads = []
    for n, ds in zip(scientists, clients, strict=True):
        if mode == "list":
            thread = threading.Thread(target=list_only, args=(ds,))
        else:
            owner = owners[url[n]]
            thread = threading.Thread(target=mixed, args=(ds, f"{n}_{os.getpid()}", owner))
        threads.append(thread)
    ready.put(len(clients))
    go.wait()
    cpu = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put((samples, time.process_time() - cpu))


def run_row(ports: list[int], mode: str, scientists: int, procs: int, **kw: Any) -> list[Any]:
    ctx = mp.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    groups = [list(range(scientists))[p::procs] for p in range(procs)]
    groups = [g for g in groups if g]
    workers = [
        ctx.Process(
            target=client_process,
            args=(ports, g, mode, kw.get("calls", 0), kw.get("seconds", 0.0), ready, go, results),
        )
        for g in groups
    ]
    for w in workers:
        w.start()
    for _ in workers:
        ready.get(timeout=600)
    cpu, busy = group_cpu_s(kw["server_pids"]), machine_busy_s()
    start = time.perf_counter()
    go.set()
    samples: list[Any] = []
    client_cpu = 0.0
    for _ in workers:
        got, used = results.get(timeout=600 + kw.get("seconds", 0.0))
        samples += got
        client_cpu += used
    wall = time.perf_counter() - start
    cpu, busy = group_cpu_s(kw["server_pids"]) - cpu, machine_busy_s() - busy
    for w in workers:
        w.join(timeout=60)
    return [samples, wall, cpu, client_cpu, busy]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--scientists", type=int, default=50, help="mixed row")
    parser.add_argument("--list-scientists", type=int, default=32, help="list row")
    parser.add_argument("--calls", type=int, default=10, help="list row: calls per scientist")
    parser.add_argument("--client-procs", type=int, default=4)
    parser.add_argument("--rows", default="list,mixed", help="which rows to run")
    parser.add_argument("--py-spy", help="sample the server with py-spy into this file")
    parser.add_argument("--server-log", help="append the server's log to this file")
    parser.add_argument(
        "--pg-socket",
        action="store_true",
        help="--db postgresql: the server connects through the cluster's Unix socket "
        "instead of TCP on loopback (as a Datasite beside its database would)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="`jupyter-syft serve --processes N` (one port; the server CPU column counts every "
        "process of the group)",
    )
    parser.add_argument(
        "--py-spy-gil",
        action="store_true",
        help="with --py-spy: sample only the thread holding the GIL (where the server's "
        "Python time goes), and not the workers",
    )
    args = parser.parse_args()
    if args.processes < 1:
        parser.error("--processes: 1 or more")

    import jupyter_syft as sy

    cluster = None
    db_url = None
    if args.db == "postgresql":
        sys.path.insert(0, str(ROOT / "tests"))
        from postgres import PG_USER, PostgresCluster, find_bindir

        bindir = find_bindir()
        if bindir is None:
            sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
        cluster = PostgresCluster(bindir)
        cluster.start()
        database = cluster.create_database()
        db_url = cluster.url(database)
        if args.pg_socket:  # (the cluster trusts its Unix socket's local users)
            db_url = f"postgresql://{PG_USER}@/{database}?host={cluster.base}&port={cluster.port}"

    data_dir = tempfile.mkdtemp(prefix="bench-load-")
    procs: list[Any] = []
    spy = None
    try:  # (the cluster is stopped even when a server does not start)
        proc, port = start_server(data_dir, db_url, args.server_log, args.processes)
        procs, ports = [proc], [port]
        server_pids = [proc.pid]
        if args.processes > 1:  # the group (a single serve's children are its workers)
            server_pids += children(proc.pid)
        root = sy.login(port=port, email=OWNER, password=PASSWORD, verbose=False)
        upload_small_datasets(root, "load")
        for i in range(max(args.scientists, args.list_scientists)):
            root.users.create(
                sy.UserCreate(
                    email=_scientist_email(i), name=f"DS {i}", password=SCIENTIST_PASSWORD
                )
            )
        if args.py_spy:
            fmt = "raw" if args.py_spy.endswith(".txt") else "flamegraph"
            spy = subprocess.Popen(
                [os.environ.get("PY_SPY", "/tmp/pyspy/bin/py-spy"), "record", "-p",
                 str(proc.pid), "-o", args.py_spy, "-f", fmt, "--threads", "-r", "200",
                 "--nonblocking", *(["--gil"] if args.py_spy_gil else ["--subprocesses"])],
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1)

        table = []
        rows = args.rows.split(",")
        if "list" in rows:
            samples, wall, cpu, client_cpu, _ = run_row(
                ports,
                "list",
                args.list_scientists,
                args.client_procs,
                calls=args.calls,
                server_pids=server_pids,
            )
            ok = [t for _, t in samples if t is not None]
            errors = len(samples) - len(ok)
            table.append(
                (
                    f"{args.list_scientists} scientists x {args.calls} `datasets.get_all()`, "
                    "p50 / p99",
                    f"{_percentile(ok, 50) * 1000:.0f} / {_percentile(ok, 99) * 1000:.0f} ms "
                    f"({len(ok) / wall:.0f} calls/s, {errors} errors; "
                    f"server CPU {cpu / max(1, len(samples)) * 1000:.1f} ms/call, "
                    f"clients' {client_cpu / max(1, len(samples)) * 1000:.1f})",
                    "≤ 40 / 180 ms",
                )
            )
        if "mixed" in rows:
            samples, wall, cpu, client_cpu, busy = run_row(
                ports,
                "mixed",
                args.scientists,
                args.client_procs,
                seconds=args.seconds,
                server_pids=server_pids,
            )
            ok = [(op, t) for op, t in samples if t is not None]
            errors = len(samples) - len(ok)
            per_op = ", ".join(
                f"{op} {statistics.median(t for o, t in ok if o == op) * 1000:.0f}"
                for op in ("list", "mock", "request", "approve")
                if any(o == op for o, _ in ok)
            )
            table.append(
                (
                    f"{args.scientists} scientists, {args.seconds:g} s mixed "
                    "(list, mock, request, approve)",
                    f"{len(ok) / wall:.1f} ops/s, {errors} errors (p50 ms: {per_op}; "
                    f"server CPU {cpu / max(1, len(samples)) * 1000:.1f} ms/op, "
                    f"clients' {client_cpu / max(1, len(samples)) * 1000:.1f}, "
                    f"everything else {(busy - cpu - client_cpu) / max(1, len(samples)) * 1000:.1f}; "
                    f"machine busy {busy / wall:.2f} of {os.cpu_count()} cores)",
                    "≥ 500 ops/s",
                )
            )
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy.wait(timeout=120)
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
        if cluster is not None:
            cluster.stop()

    load = os.getloadavg()
    print(
        f"\nLoad benchmark ({os.cpu_count()} cores, load {load[0]:.2f}; {args.db}; "
        f"{args.processes} server process{'es' if args.processes > 1 else ''}, "
        f"{args.client_procs} client processes)\n"
    )
    print("| row | jupyter_syft | goal |")
    print("|---|---|---|")
    for row in table:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
