# ruff: noqa: RUF001  (the issue's ranges use en dashes)
"""PySyft 0.9.5's figures and the goals for issue #18's phases (bench_phases.py prints them).

PySyft was measured once, side by side with jupyter_syft, and is not re-run: its figures are
constants here, as measured. ``best`` is PySyft's most favourable figure of its range (lowest
time, highest rate): the "x PySyft" column divides by it, so the speed-up shown is the smallest.
"""

from __future__ import annotations

from dataclasses import dataclass

MEASURED_ON = "2026-11-30"
MEASURED_HOW = "2-core machine, medians of two"
PYSYFT_VERSION = "0.9.5"


@dataclass(frozen=True)
class Goal:
    value: float
    unit: str  # "s", "ms", "ops/s", "jobs/s", "MB"
    lower_is_better: bool = True

    def text(self) -> str:
        sign = "≤" if self.lower_is_better else "≥"
        plus = "+" if self.unit == "MB" else ""
        return f"{sign} {plus}{self.value:g} {self.unit}"


@dataclass(frozen=True)
class Reference:
    phase: str  # the table's first column
    pysyft: str  # PySyft's figure as printed in the issue
    best: float | None  # PySyft's most favourable figure in ``unit`` (None: not measured)
    goal: Goal
    before: str  # jupyter_syft's figure in the issue, before this work


REFERENCE: dict[str, Reference] = {
    "request": Reference(
        "`client.code.request_code_execution(fn)` (median, p90)",
        "0.08–0.18 s",
        80.0,
        Goal(10, "ms"),
        "0.073–0.10 s",
    ),
    "launch": Reference(
        "`sy.orchestra.launch(...)` to ready, fresh process",
        "1.40–1.50 s",
        1.40,
        Goal(0.3, "s"),
        "0.65–0.73 s",
    ),
    "first": Reference(
        "first execute + `.get()` after launch, 569-row asset",
        "2.2–4.2 s",
        2200.0,
        Goal(100, "ms"),
        "0.53–0.59 s",
    ),
    "list_p50": Reference(
        "32 scientists x 10 `datasets.get_all()`: p50",
        "386 ms",
        386.0,
        Goal(40, "ms"),
        "169–204 ms",
    ),
    "list_p99": Reference(
        "32 scientists x 10 `datasets.get_all()`: p99",
        "1,835 ms",
        1835.0,
        Goal(180, "ms"),
        "247–564 ms",
    ),
    "floor": Reference(
        "floor: 32 scientists x 10 of the lightest signed-in call (`GET /me`), p50 / p99",
        "—",
        None,
        Goal(40, "ms"),
        "—",
    ),
    "mixed": Reference(
        "50 scientists, 60 s mixed (list, mock, request, approve)",
        "—",
        None,
        Goal(500, "ops/s", lower_is_better=False),
        "107.6 ops/s, 0 errors",
    ),
    "jobs": Reference(
        "jobs: 40 from 4 scientists",
        "0.29 jobs/s at best (0/40 in another run)",
        0.29,
        Goal(20, "jobs/s", lower_is_better=False),
        "2.0–3.3 jobs/s",
    ),
    "jobs_full": Reference(
        "jobs: 200 from 10 scientists",
        "0.29 jobs/s at best",
        0.29,
        Goal(20, "jobs/s", lower_is_better=False),
        "2.0–3.3 jobs/s",
    ),
    "memory": Reference(
        "client memory while uploading a 1 GB DataFrame",
        "—",
        None,
        Goal(100, "MB"),
        "+1,092 MB (a full copy)",
    ),
}
