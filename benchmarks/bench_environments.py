"""Environments benchmark (#17): how long an owner waits for an environment to be built.

    .venv/bin/python benchmarks/bench_environments.py [--skip-sklearn]

On a fresh Datasite (so uv's cache, which lives in the Datasite's folder, starts empty):
builds a small environment of a few pure-Python wheels, then rebuilds it (the cache now
warm), then the same for scikit-learn (numpy, scipy, joblib, threadpoolctl with it). From
PyPI when it is reachable, else the small environment from a local folder of wheels (and no
scikit-learn). Prints the times (resolve + install + move into place, as the owner's
``client.environments.create`` waits for them), the lock's package count and the size; it
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("JUPYTER_SYFT_HOME", tempfile.mkdtemp(prefix="bench-env-"))

SMALL = ["attrs", "idna", "six", "tomli", "packaging"]
SKLEARN = ["scikit-learn"]


def _pypi_reachable() -> bool:
    import requests

    try:
        return requests.head("https://pypi.org/simple/six/", timeout=5).ok
    except requests.RequestException:
        return False


def _local_wheels() -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from local_wheels import wheel_folder  # the tests' tiny wheels

    return wheel_folder(Path(tempfile.mkdtemp(prefix="bench-wheels-")))


def _timed(root: Any, name: str, packages: list[str]) -> list[Any]:
    started = time.perf_counter()
    env = root.environments.create(name=name, packages=packages, progress=False)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    root.environments.rebuild(name, progress=False)
    warm = time.perf_counter() - started
    return [name, len(env.pinned), f"{cold:.1f} s", f"{warm:.1f} s", env.size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-sklearn", action="store_true")
    args = parser.parse_args()

    import jupyter_syft as sy
    from jupyter_syft import display

    online = _pypi_reachable()
    handle = sy.orchestra.launch(name="bench-environments", port="auto", reset=True)
    try:
        root = sy.login(
            url=handle.url, email="info@openmined.org", password="changethis", verbose=False
        )
        rows = []
        if online:
            rows.append(_timed(root, "small", SMALL))
            if not args.skip_sklearn:
                rows.append(_timed(root, "sklearn", SKLEARN))
        else:
            root.settings.update(
                environment_find_links=str(_local_wheels()), environment_no_index=True
            )
            rows.append(_timed(root, "small-local", ["tinya", "tinyb>=2"]))
        source = "PyPI" if online else "a local folder of wheels (PyPI unreachable)"
        print(f"\nEnvironment builds ({os.cpu_count()} cores; from {source})\n")
        headers = ["environment", "locked packages", "first build", "rebuild (cache warm)", "size"]
        print(display.text_table(headers, rows))
    finally:
        handle.land()


if __name__ == "__main__":
    main()
