"""Transfers benchmark (issue #18 item 5): uploading a large DataFrame, and decoding one.

    .venv/bin/python benchmarks/bench_transfers.py [--sizes-mb 99 1000] [--repeat 3]

Runs against any checkout (its own venv's Python, run from its folder). For each size, a frame
of 100 float64 columns (the layout of ``pd.DataFrame(2-D array)``, whose columns are strided):

- client: peak RSS growth while ``client.upload_dataset`` sends it to a standalone Datasite in
  another process, and the upload's wall time (fresh client process per run);
- client encode: ``serde.encode`` plus reading every chunk, without a network;
- server stages, in this process on the same disk: the format check, sha256, file write,
  fsync and the decode check of a received payload, each alone; then ``BlobWriter`` as the
  upload handler uses it (write every chunk, then commit), in the background mode if the
  checkout has one;
- download: ``asset.data`` end to end, and ``Table.to_pandas`` of the stored payload with and
  without ``split_blocks``.

Prints a Markdown table of medians, and the load average.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import mmap
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import OWNER_EMAIL, StandaloneDatasite, child_env

PASSWORD = "bench-transfers-pw"

UPLOAD = """
import json, os, threading, time
import numpy as np, pandas as pd, psutil
import jupyter_syft as sy
from jupyter_syft import serde

rows = int(os.environ["BENCH_ROWS"])
client = sy.login(url=os.environ["BENCH_URL"], email=os.environ["BENCH_EMAIL"],
                  password=os.environ["BENCH_PASSWORD"], verbose=False)
frame = pd.DataFrame(np.random.default_rng(1).random((rows, 100)))
frame.columns = [f"c{i}" for i in range(100)]
serde.encode(frame.head(5)).to_bytes()  # pyarrow imported before the baseline
len(client.datasets)
process = psutil.Process()
baseline = process.memory_info().rss
peak = [baseline]
done = threading.Event()

def sample():
    while not done.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.002)

sampler = threading.Thread(target=sample)
sampler.start()
t = time.perf_counter()
client.upload_dataset(
    sy.Dataset(name=os.environ["BENCH_NAME"],
               asset_list=[sy.Asset(name="x", data=frame, mock=frame.head(5))]),
    progress=False,
)
took = time.perf_counter() - t
done.set()
sampler.join()
t = time.perf_counter()
back = client.datasets[os.environ["BENCH_NAME"]].assets["x"].data
download = time.perf_counter() - t
assert back.shape == frame.shape
print(json.dumps({"extra_mb": (peak[0] - baseline) / 1e6, "upload_s": took,
                  "download_s": download, "frame_mb": frame.memory_usage().sum() / 1e6}))
"""

ENCODE = """
import json, os, time
import numpy as np, pandas as pd
from jupyter_syft import serde

rows = int(os.environ["BENCH_ROWS"])
frame = pd.DataFrame(np.random.default_rng(1).random((rows, 100)))
frame.columns = [f"c{i}" for i in range(100)]
serde.encode(frame.head(5)).to_bytes()
t = time.perf_counter()
n = sum(len(c) for c in serde.encode(frame).iter_chunks(4 << 20))
print(json.dumps({"encode_s": time.perf_counter() - t, "nbytes": n}))
"""


def run_child(code: str, env: dict[str, str]) -> dict:
    """``code`` in a fresh interpreter of this checkout (run from the current folder, so the
    checkout measured is the one whose venv runs this script), its last line as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, check=True, cwd=os.getcwd(), env=child_env(env),
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _frame(rows: int) -> Any:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(np.random.default_rng(1).random((rows, 100)))
    frame.columns = [f"c{i}" for i in range(100)]
    return frame


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def server_stages(rows: int, folder: Path) -> dict[str, float]:
    """Each stage of receiving a value alone, then the writer as the upload handler uses it."""
    from jupyter_syft import serde
    from jupyter_syft.serde.decoder import validate
    from jupyter_syft.server.blobs import BlobStore

    payload = serde.encode(_frame(rows)).to_bytes()
    chunks = [payload[i : i + (1 << 20)] for i in range(0, len(payload), 1 << 20)]
    out: dict[str, float] = {}
    checker = serde.StreamChecker()
    out["check"] = _timed(lambda: [checker.feed(c) for c in chunks])
    digest = hashlib.sha256()
    out["sha256"] = _timed(lambda: [digest.update(c) for c in chunks])
    path = folder / "stage.part"
    with open(path, "wb") as f:
        out["write"] = _timed(lambda: [f.write(c) for c in chunks])
        out["fsync"] = _timed(lambda: (f.flush(), os.fsync(f.fileno())))
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    out["decode_check"] = _timed(lambda: validate(memoryview(mapped)))
    mapped.close()
    path.unlink()

    store = BlobStore(folder / "blobs")
    kwargs = {"max_size": None, "decode_check": True}
    if "background" in inspect.signature(store.open_writer).parameters:
        kwargs["background"] = True
    writer = store.open_writer(**kwargs)
    out["writer_receive"] = _timed(lambda: [writer.write(c) for c in chunks])
    info = None

    def commit() -> None:
        nonlocal info
        info = writer.commit()

    out["writer_commit"] = _timed(commit)
    assert info is not None
    store.path(info.id).unlink()
    return out


def decode_stages(rows: int) -> dict[str, float]:
    """``to_pandas`` of the payload this checkout stores, with and without split_blocks."""
    import pyarrow as pa

    from jupyter_syft import serde

    encoded = serde.encode(_frame(rows))
    payload = bytearray(encoded.to_bytes())
    table = pa.ipc.open_stream(pa.py_buffer(memoryview(payload)[len(encoded.header) :])).read_all()
    out = {"batches": float(table.column(0).num_chunks)}
    out["to_pandas"] = _timed(lambda: table.to_pandas())
    out["to_pandas_split_blocks"] = _timed(lambda: table.to_pandas(split_blocks=True))
    out["serde_decode"] = _timed(lambda: serde.decode(payload))
    return out


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes-mb", type=float, nargs="+", default=[99.0, 1000.0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rows_by_size = {mb: int(mb * 1e6 / 8 / 100) for mb in args.sizes_mb}
    results: dict[float, dict[str, float]] = {}
    with StandaloneDatasite(PASSWORD, name="transfers") as site:
        for mb, rows in rows_by_size.items():
            env = {
                "BENCH_ROWS": str(rows),
                "BENCH_URL": site.url,
                "BENCH_EMAIL": OWNER_EMAIL,
                "BENCH_PASSWORD": PASSWORD,
                "TQDM_DISABLE": "1",
            }
            uploads = [
                run_child(UPLOAD, {**env, "BENCH_NAME": f"frame-{mb:g}-{i}"})
                for i in range(args.repeat)
            ]
            encodes = [run_child(ENCODE, env) for _ in range(args.repeat)]
            with tempfile.TemporaryDirectory(dir=site.folder.name) as tmp:
                stages = [server_stages(rows, Path(tmp)) for _ in range(args.repeat)]
            decodes = [decode_stages(rows) for _ in range(args.repeat)]
            results[mb] = {
                **median_of(uploads),
                **median_of(encodes),
                **median_of(stages),
                **median_of(decodes),
            }

    sizes = list(results)
    rows = [
        ("client peak extra memory (MB)", "extra_mb", 1.0, "{:.0f}"),
        ("client upload wall time (ms)", "upload_s", 1e3, "{:.0f}"),
        ("client encode + read all chunks (ms)", "encode_s", 1e3, "{:.0f}"),
        ("server: format check (ms)", "check", 1e3, "{:.1f}"),
        ("server: sha256 (ms)", "sha256", 1e3, "{:.0f}"),
        ("server: file write (ms)", "write", 1e3, "{:.0f}"),
        ("server: fsync (ms)", "fsync", 1e3, "{:.0f}"),
        ("server: decode check (ms)", "decode_check", 1e3, "{:.0f}"),
        ("server: BlobWriter.write, all chunks (ms)", "writer_receive", 1e3, "{:.0f}"),
        ("server: BlobWriter.commit (ms)", "writer_commit", 1e3, "{:.0f}"),
        ("download asset.data end to end (ms)", "download_s", 1e3, "{:.0f}"),
        ("record batches in the stored stream", "batches", 1.0, "{:.0f}"),
        ("Table.to_pandas() (ms)", "to_pandas", 1e3, "{:.0f}"),
        ("Table.to_pandas(split_blocks=True) (ms)", "to_pandas_split_blocks", 1e3, "{:.0f}"),
        ("serde.decode (ms)", "serde_decode", 1e3, "{:.0f}"),
    ]
    header = " | ".join(f"{results[mb]['frame_mb']:.0f} MB frame" for mb in sizes)
    print(f"checkout: {Path.cwd()}  python: {sys.executable}")
    print(f"| medians of {args.repeat} | {header} |")
    print("|---|" + "---|" * len(sizes))
    for label, key, scale, fmt in rows:
        cells = " | ".join(fmt.format(results[mb][key] * scale) for mb in sizes)
        print(f"| {label} | {cells} |")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
