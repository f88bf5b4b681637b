"""Datasite core benchmark: prints a Markdown table (issue #2's workload).

    .venv/bin/python benchmarks/bench_core.py [--rows 400000] [--big-gb 1.0] [--repeat 5]

Each timed step runs in a fresh process where "cold" matters. Targets and PySyft 0.9.5's
figures on the same workload and machine (from the issue) are shown beside ours. The floor is
writing and reading the same frames as Arrow IPC through a local file: no network, no server.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import threading
import time

from _common import ROOT, StandaloneDatasite, run_child


def cold_import(repeat: int) -> float:
    times = [
        run_child("""
            import time, json
            t = time.perf_counter()
            import jupyter_syft
            print(json.dumps({"s": time.perf_counter() - t}))
        """)["s"]
        for _ in range(repeat)
    ]
    return statistics.median(times)


WORKLOAD = """
import json, time, statistics, tempfile, os
import numpy as np, pandas as pd
import jupyter_syft as sy

rows = int(os.environ["BENCH_ROWS"])
out = {}
t = time.perf_counter()
node = sy.orchestra.launch(name="bench", port="auto", reset=True, verbose=False)
out["launch"] = time.perf_counter() - t

t = time.perf_counter()
client = sy.login(url=node.url, email="info@openmined.org", password="changethis", verbose=False)
out["login"] = time.perf_counter() - t

rng = np.random.default_rng(0)
cols = [f"c{i}" for i in range(31)]
private = pd.DataFrame(rng.random((rows, 31)), columns=cols)
mock = pd.DataFrame(rng.random((rows, 31)), columns=cols)
out["frame_mb"] = private.memory_usage(index=True).sum() / 1e6

small = sy.Dataset(name="small", asset_list=[sy.Asset(name="a", data=private.head(), mock=mock.head())])
client.upload_dataset(small, progress=False)

t = time.perf_counter()
client.upload_dataset(sy.Dataset(name="big", asset_list=[sy.Asset(name="frame", data=private, mock=mock)]), progress=False)
out["upload"] = time.perf_counter() - t

lookups = []
for _ in range(30):
    t = time.perf_counter()
    client.datasets[0].assets[0]
    lookups.append(time.perf_counter() - t)
out["asset_lookup"] = statistics.median(lookups)

asset = client.datasets["big"].assets[0]
t = time.perf_counter()
got = asset.mock
out["download"] = time.perf_counter() - t
assert got.shape == mock.shape

# the floor: the same frames through Arrow IPC files on local disk
import pyarrow as pa
with tempfile.TemporaryDirectory() as d:
    t = time.perf_counter()
    for name, df in (("p", private), ("m", mock)):
        table = pa.Table.from_pandas(df)
        with pa.OSFile(f"{d}/{name}.arrow", "wb") as f, pa.ipc.new_stream(f, table.schema) as w:
            w.write_table(table)
    out["floor_write"] = time.perf_counter() - t
    t = time.perf_counter()
    with pa.OSFile(f"{d}/m.arrow", "rb") as f:
        pa.ipc.open_stream(f).read_all().to_pandas()
    out["floor_read"] = time.perf_counter() - t
node.land()
print(json.dumps(out))
"""


def server_memory_growth(big_gb: float) -> tuple[float, float]:
    """RSS growth of a standalone Datasite process while it receives a ``big_gb`` GB asset."""
    import numpy as np
    import pandas as pd
    import psutil

    import jupyter_syft as sy

    with StandaloneDatasite(password="bench-pw", name="mem") as server:
        port = server.port
        proc = server.proc
        client = sy.login(port=port, email="info@openmined.org", password="bench-pw", verbose=False)
        cols = 100
        rows = int(big_gb * 1e9 / 8 / cols)
        big = pd.DataFrame(np.random.default_rng(1).random((rows, cols)))
        big.columns = [f"c{i}" for i in range(cols)]
        ps = psutil.Process(proc.pid)
        len(client.datasets)  # warm up the server's imports before the baseline
        baseline = ps.memory_info().rss
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], ps.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        t = time.perf_counter()
        client.upload_dataset(
            sy.Dataset(name="big", asset_list=[sy.Asset(name="x", data=big, mock=big.head(10))]),
            progress=False,
        )
        took = time.perf_counter() - t
        done.set()
        sampler.join()
        return (peak[0] - baseline) / 1e6, big.memory_usage().sum() / 1e6 / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--big-gb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    compileall.compile_dir(ROOT / "jupyter_syft", quiet=1)
    imp = cold_import(args.repeat)
    runs = [
        run_child(WORKLOAD, {"BENCH_ROWS": str(args.rows), "TQDM_DISABLE": "1"}) for _ in range(3)
    ]
    w = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    mem_growth, big_mbps = server_memory_growth(args.big_gb)

    two_frames = 2 * w["frame_mb"]
    rows = [
        ("cold `import jupyter_syft`", f"{imp:.3f} s", "≤ 0.5 s", "5.3 s"),
        ("launch to ready", f"{w['launch']:.3f} s", "≤ 0.5 s", "1.7 s"),
        ("login", f"{w['login']:.3f} s", "≤ 0.15 s", "2.3 s"),
        ("`client.datasets[0].assets[0]`", f"{w['asset_lookup'] * 1000:.1f} ms", "≤ 10 ms", "1.07 s"),
        (f"upload data + mock ({two_frames:.0f} MB)",
         f"{w['upload']:.2f} s ({two_frames / w['upload']:.0f} MB/s; {w['upload'] / w['floor_write']:.1f}x floor)",
         "≤ 2 s", "47 s"),
        (f"download mock ({w['frame_mb']:.0f} MB)",
         f"{w['download']:.2f} s ({w['frame_mb'] / w['download']:.0f} MB/s; {w['download'] / w['floor_read']:.1f}x floor)",
         "≤ 1 s", "18 s"),
        ("floor: write both frames as Arrow IPC to a file", f"{w['floor_write']:.2f} s", "", ""),
        ("floor: read the mock back from the file", f"{w['floor_read']:.2f} s", "", ""),
        (f"server RSS growth, {args.big_gb:g} GB upload", f"{mem_growth:.0f} MB (at {big_mbps:.0f} MB/s)", "≤ 300 MB", ""),
    ]  # fmt: skip
    print(
        f"\nDatasite core benchmark ({os.cpu_count()} cores; median of {len(runs)} runs, import of {args.repeat})\n"
    )
    print("| step | jupyter_syft | target | PySyft 0.9.5 |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
