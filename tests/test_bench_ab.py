"""benchmarks/ab.py: a benchmark run in turn on two commits, and its table (no timing asserted)."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "ab.py"


def _ab_module():
    spec = importlib.util.spec_from_file_location("bench_ab", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _worktrees() -> list[str]:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "list", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in listed.splitlines() if line.startswith("worktree ")]


def test_the_launch_row_in_turn_on_the_last_commit_and_the_working_tree(tmp_path):
    before = _worktrees()
    env = {**os.environ, "JUPYTER_SYFT_HOME": str(tmp_path), "TQDM_DISABLE": "1"}
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "HEAD",
            "--pairs",
            "1",
            "--figure",
            r"launch s=to ready \| ([0-9.]+) s",
            "--",
            "bench_launch.py",
            "--only",
            "launch",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,  # against a hang only
    )
    assert done.returncode == 0, done.stdout + done.stderr
    row = re.search(
        r"^\| launch s \| ([0-9.]+) .*\| ([0-9.]+) .*\| ([-+][0-9.]+ %) \|$", done.stdout, re.M
    )
    assert row is not None, done.stdout
    assert float(row.group(1)) > 0 and float(row.group(2)) > 0
    assert "| figure | HEAD | working tree |" in done.stdout
    assert _worktrees() == before  # its temporary checkout is gone


def test_a_figure_missing_from_the_output_is_named():
    ab = _ab_module()
    with pytest.raises(SystemExit, match="figure 'ops'"):
        ab.figures("| mixed | 12 ops/s |", {"ops": re.compile(r"([0-9.]+) calls/s")})
    assert ab.figures("| mixed | 1,234.5 ops/s |", {"ops": re.compile(r"([0-9,.]+) ops/s")}) == {
        "ops": 1234.5
    }


def test_a_commit_that_is_not_there_is_named(capsys):
    with pytest.raises(SystemExit, match="Cannot check out 'no-such-commit'"):
        _ab_module().main(["no-such-commit", "--figure", "x=([0-9]+)", "--", "bench_launch.py"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["HEAD", "--figure", "x=([0-9]+)"], "give the benchmark after --"),
        (["HEAD", "--figure", "x=[0-9]+", "--", "bench_launch.py"], "needs a group"),
        (["HEAD", "--figure", "no-regex", "--", "bench_launch.py"], "use NAME=REGEX"),
    ],
)
def test_bad_arguments_say_what_to_give(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        _ab_module().main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
