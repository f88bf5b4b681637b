"""Run latency in a non-default environment against the default one: prints a Markdown table.

    .venv/bin/python benchmarks/bench_environment_runs.py [--repeat 20] [--sandbox auto]
        [--prefix /path/to/an/environment]

Each run goes through a real ``CodeRunner`` (sandbox, uid, limits as on a Datasite), timed
from ``run`` to its result. "first run": the first one after the runner started (the default
environment) or the first one in the environment (its pool is made then): both wait for a
worker that is starting. "warm run": a run that finds a warm worker waiting (the pools are
refilled between runs). Without ``--prefix`` the environment is a uv virtual environment built
here, offline, from two tiny local wheels; with it, an environment the builder made (e.g. one
with scikit-learn: ``client.environments.create("sk", ["scikit-learn"])``, then its folder
under the Datasite's ``environments/``). Goal (#17): a warm run in any environment within
10 % of the default's. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE = "def f():\n    return sum(range(10_000))\n"


def _build(where: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from local_wheels import write_wheel

    from jupyter_syft.server.environments.builder import find_uv

    wheels = [
        write_wheel(where / "wheels", "tinya", "1.0"),
        write_wheel(where / "wheels", "tinyb", "2.0"),
    ]
    prefix = where / "env"
    uv = find_uv()
    python = [str(prefix / "bin" / "python")]
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(prefix)], check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--offline", "--no-index", "--python", *python, *wheels],
        check=True,
    )
    return prefix


def _runtime(prefix: Path):
    from jupyter_syft.server.environments.runtime import EnvironmentRuntime

    site = next((prefix / "lib").glob("python*/site-packages"))
    return EnvironmentRuntime("bench", prefix, prefix / "bin" / "python", site, "bench-lock")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "none"])
    parser.add_argument("--prefix", type=Path, default=None)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from jupyter_syft.server.execution import CodeRunner, Limits, RunSpec

    limits = Limits(wall_seconds=120, cpu_seconds=60, memory_mb=4096)
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="bench-envruns-") as tmp:
        root = Path(tmp)
        env = _runtime(args.prefix.resolve() if args.prefix else _build(root))
        data = root / "datasite"
        data.mkdir(mode=0o700)

        def timed(runner: CodeRunner, environment) -> float:
            start = time.perf_counter()
            result = runner.run(RunSpec(SOURCE, "f", {}, limits, environment=environment))
            elapsed = time.perf_counter() - start
            if not result.ok:
                raise SystemExit(f"the run failed: {result.error}")
            return elapsed

        def wait_warm(runner: CodeRunner) -> None:
            """Until both pools are full: no worker is starting (and eating CPU) during a run."""
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and (
                sum(runner._pool.ready_counts()) < 2 or sum(runner._env_pools.ready_counts(env)) < 2
            ):
                time.sleep(0.02)
            time.sleep(0.3)  # let the last start's CPU settle

        with CodeRunner(
            data / "work", [data], warm_workers=1, reserved_workers=1, sandbox=args.sandbox
        ) as runner:
            first_default = timed(runner, None)
            first_env = timed(runner, env)
            default_runs, env_runs = [], []
            for _ in range(args.repeat):  # interleaved: both see the same machine load
                wait_warm(runner)
                default_runs.append(timed(runner, None))
                wait_warm(runner)
                env_runs.append(timed(runner, env))
            sandbox = runner.sandbox

    d, e = statistics.median(default_runs), statistics.median(env_runs)
    print(
        f"Sandbox: {sandbox}; environment: {args.prefix or 'two tiny local wheels'}; "
        f"{args.repeat} warm runs each, interleaved.\n"
    )
    print("| run | default environment | non-default environment | ratio |")
    print("|---|---|---|---|")
    print(
        f"| first run | {first_default * 1000:.1f} ms | {first_env * 1000:.1f} ms | "
        f"{first_env / first_default:.2f} |"
    )
    print(f"| warm run, median | {d * 1000:.1f} ms | {e * 1000:.1f} ms | {e / d:.2f} |")
    print(
        f"| warm run, best | {min(default_runs) * 1000:.1f} ms | {min(env_runs) * 1000:.1f} ms"
        f" | {min(env_runs) / min(default_runs):.2f} |"
    )
    verdict = "met" if e <= d * 1.10 else "NOT met"
    print(
        f"\nGoal (warm run within 10 % of the default's, medians): {verdict} ({(e / d - 1) * 100:+.1f} %)."
    )


if __name__ == "__main__":
    main()
