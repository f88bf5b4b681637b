"""The disclosure checks run out of the user function's reach (issue 13).

A job with a rule set runs its function in a child of the worker; the worker (which never runs
user code) checks the result the child sent, against its own copy of the inputs. Real worker
processes, with and without bubblewrap, as an approved function would attack them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from test_execution import HAS_BWRAP, Site, value_of

from jupyter_syft.disclosure import RuleSet
from jupyter_syft.server.execution import CodeRunner, Limits, RunResult, RunSpec

pytestmark = pytest.mark.timeout(180)

LIMITS = Limits(wall_seconds=30, cpu_seconds=10, memory_mb=1024, max_processes=16)
ACRO = RuleSet.from_json("acro").to_json()
# 40 records: "group" a/b (20 each); "tiny": 37 x "big", 3 x "small"
DATA = pd.DataFrame(
    {
        "age": range(40),
        "group": ["a", "b"] * 20,
        "tiny": ["big"] * 37 + ["small"] * 3,
        "income": [1000.0 + 7 * i for i in range(40)],
    }
)
PASS_REPORT = repr(
    {
        "outcome": "pass",
        "rules": "acro",
        "rules_digest": RuleSet.from_json("acro").digest(),
        "checks": [{"rule": "min_count", "outcome": "pass", "reason": "fine", "cells": []}],
    }
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = Site(tmp_path_factory.mktemp("isolation"))
    s.data = s.put(DATA)  # type: ignore[attr-defined]
    yield s
    s.cleanup()


@pytest.fixture(scope="module", params=["bwrap", "none"])
def runner(request: pytest.FixtureRequest, site: Site) -> Iterator[CodeRunner]:
    if request.param == "bwrap" and not HAS_BWRAP:
        pytest.skip("bubblewrap is not installed")
    with site.runner(request.param, warm=1) as runner:
        yield runner


def checked(
    runner: CodeRunner,
    site: Site,
    source: str,
    limits: Limits = LIMITS,
    on_call: Any = None,
    rules: Any = ACRO,
    nested: tuple[str, ...] = (),
) -> RunResult:
    spec = RunSpec(
        textwrap.dedent(source),
        "f",
        {"data": site.data},  # type: ignore[attr-defined]
        limits,
        label="isolation",
        rules=rules,
        on_call=on_call,
        nested=list(nested),
    )
    return runner.run(spec)


def failing(report: dict[str, Any]) -> set[str]:
    return {c["rule"] for c in report["checks"] if c["outcome"] == "fail"}


# ---- tampering ----------------------------------------------------------------------------


def test_patching_the_checks_in_the_function_forges_nothing(runner, site):
    result = checked(
        runner,
        site,
        f"""
        def f(data):
            import jupyter_syft.disclosure as disclosure
            from jupyter_syft.disclosure import checks, report, track
            from jupyter_syft.server.execution import worker
            ok = {PASS_REPORT}
            fake = lambda *args, **kwargs: ok
            disclosure.check_result = fake
            checks.check_result = fake
            checks._row_level = lambda *args, **kwargs: []
            checks.collect_claims = lambda *args, **kwargs: []
            report.build_report = fake
            track.check_tracked = lambda *args, **kwargs: []
            track.check_claim = lambda *args, **kwargs: []
            worker._Checker.report = lambda self, *args, **kwargs: ok
            worker._Checker._review = lambda self, *args, **kwargs: ok
            return data.head(40)
        """,
    )
    assert result.ok, result
    assert result.report is not None and result.report["outcome"] == "fail"
    assert "row_level" in failing(result.report)
    assert len(value_of(result)) == 40


def test_the_function_holds_no_handle_to_the_control_socket(runner, site):
    result = checked(
        runner,
        site,
        """
        def f(data):
            import ctypes, os, stat
            sockets = []
            for name in os.listdir('/proc/self/fd'):
                try:
                    if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                        sockets.append(int(name))
                except OSError:
                    pass
            dumpable = ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
            parent = os.getppid()
            refused = []
            for path in (f'/proc/{parent}/mem', f'/proc/{parent}/fd', f'/proc/{parent}/environ'):
                try:
                    os.listdir(path) if path.endswith('fd') else open(path, 'rb').read(1)
                except PermissionError:
                    refused.append(path.rsplit('/', 1)[1])
            return {'sockets': len(sockets), 'dumpable': dumpable, 'refused': refused}
        """,
    )
    value = value_of(result)
    # one socket: the pair to the worker that checks; the control socket is closed
    assert value["sockets"] == 1
    assert value["dumpable"] == 0
    assert sorted(value["refused"]) == ["environ", "fd", "mem"]


FORGE = """
def f(data):
    import json, os, stat, struct
    from jupyter_syft import serde
    report = {report}
    frames = b''
    {data_frames}
    frames += struct.pack('<cI', b'K', 2) + b'[]'
    status = json.dumps({{'ok': True, 'result_bytes': {size}, 'report': report}}).encode()
    frames += struct.pack('<cI', b'S', len(status)) + status
    for name in os.listdir('/proc/self/fd'):
        try:
            fd = int(name)
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, frames)
        except OSError:
            pass
    return data.head(40)
"""


def test_a_forged_status_on_every_socket_wins_nothing(runner, site):
    # a DONE with a passing report and an empty result: the run fails, no report is stored
    bare = FORGE.format(report=PASS_REPORT, data_frames="", size=0)
    result = checked(runner, site, bare)
    assert not result.ok and result.error_kind in ("internal", "bad_result"), result
    assert result.report is None
    # a whole forged answer (a result, no claims, a passing report): the worker checks the
    # value it was sent with its own checks; the forged report is never used
    whole = FORGE.format(
        report=PASS_REPORT,
        data_frames=(
            "value = serde.dumps(data.head(40))\n"
            "    frames += struct.pack('<cI', b'D', len(value)) + value"
        ),
        size="len(value)",
    )
    result = checked(runner, site, whole)
    assert result.ok, result
    assert result.report is not None and "row_level" in failing(result.report)


def test_garbage_from_the_function_ends_the_run(runner, site):
    result = checked(
        runner,
        site,
        """
        def f(data):
            import os, stat
            for name in os.listdir('/proc/self/fd'):
                try:
                    if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                        os.write(int(name), b'Z' + bytes(4) + b'??')
                except OSError:
                    pass
            return 1
        """,
    )
    assert not result.ok and result.error_kind == "internal"
    assert result.report is None


# ---- the checks still see what they need ---------------------------------------------------


def test_tracked_tables_are_judged_with_their_groups(runner, site):
    means = checked(
        runner, site, "def f(data):\n    return data.groupby('group')['income'].mean()\n"
    )
    assert means.ok and means.report["outcome"] == "pass", means.report
    small = checked(
        runner, site, "def f(data):\n    return data.groupby('tiny')['income'].mean()\n"
    )
    assert small.ok and "min_group_size" in failing(small.report), small.report
    nested = checked(
        runner,
        site,
        "def f(data):\n"
        "    return {'by': data.groupby('group')['income'].sum(), 'n': [len(data)]}\n",
    )
    assert nested.ok and nested.report["outcome"] != "fail", nested.report
    crosstab = checked(
        runner,
        site,
        "def f(data):\n"
        "    import pandas as pd\n"
        "    return pd.crosstab(data['group'], data['tiny'], values=data['income'], "
        "aggfunc='mean')\n",
    )
    assert crosstab.ok and "min_group_size" in failing(crosstab.report), crosstab.report


def test_the_size_cap_uses_the_encoded_size(runner, site):
    rules = RuleSet.from_json({"preset": "acro", "max_bytes": 1000}).to_json()
    result = checked(runner, site, "def f(data):\n    return 'x' * 5000\n", rules=rules)
    assert result.ok and "max_bytes" in failing(result.report), result.report


def test_calls_and_progress_pass_through_the_worker(runner, site):
    calls: list[dict[str, Any]] = []

    def on_call(header: dict[str, Any], data: bytes) -> tuple[dict[str, Any], bytes]:
        from jupyter_syft import serde

        calls.append(header)
        if header.get("call") == "launch_job":
            return {"ok": True}, serde.dumps(serde.loads(data)["x"] * 2)
        return {"ok": True}, b""

    result = checked(
        runner,
        site,
        """
        def f(data, datasite):
            datasite.init_progress(2)
            job = datasite.launch_job(g, x=21)
            datasite.increment_progress()
            return job.result
        """,
        on_call=on_call,
        nested=("g",),
    )
    assert value_of(result) == 42
    assert [c["call"] for c in calls] == ["progress", "launch_job", "progress"]


def test_user_errors_and_limits_read_as_before(runner, site):
    error = checked(runner, site, "def f(data):\n    return 1 / 0\n")
    assert error.error_kind == "user_error" and error.report is None
    assert error.error is not None and error.error.startswith("ZeroDivisionError")
    assert "worker.py" not in error.error
    cpu = checked(
        runner,
        site,
        "def f(data):\n    while True:\n        pass\n",
        Limits(wall_seconds=30, cpu_seconds=1, memory_mb=1024),
    )
    assert cpu.error_kind == "cpu_time", cpu
    assert cpu.error is not None and "CPU time limit of 1 s" in cpu.error
    memory = checked(runner, site, "def f(data):\n    x = bytearray(20 << 30)\n    return 1\n")
    assert memory.error_kind in ("memory", "killed"), memory
    if memory.error_kind == "memory":
        assert "1024 MB" in (memory.error or "")
    exited = checked(runner, site, "def f(data):\n    import os\n    os._exit(3)\n")
    assert exited.error_kind == "user_error" and "exit status 3" in (exited.error or "")
    killed = checked(
        runner, site, "def f(data):\n    import os, signal\n    os.kill(os.getpid(), 9)\n"
    )
    assert killed.error_kind == "killed" and "SIGKILL" in (killed.error or ""), killed
    too_big = checked(
        runner,
        site,
        "def f(data):\n    return 'x' * 5000\n",
        Limits(wall_seconds=30, cpu_seconds=10, memory_mb=1024, max_result_bytes=1000),
    )
    assert too_big.error_kind == "bad_result" and "limit of 1,000 bytes" in (too_big.error or "")


def test_output_is_captured(runner, site):
    result = checked(
        runner,
        site,
        "def f(data):\n"
        "    import sys\n"
        "    print('to stdout')\n"
        "    print('to stderr', file=sys.stderr)\n"
        "    return data.groupby('group').size()\n",
    )
    assert result.ok and result.report["outcome"] == "pass", result.report
    assert result.stdout == "to stdout\n" and result.stderr == "to stderr\n"
