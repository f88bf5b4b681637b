"""Binding a call's arguments to an input policy, and answering a job's nested calls: pure
parts of the run path, tested without a database or a worker process."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from jupyter_syft import serde
from jupyter_syft.server import models
from jupyter_syft.server.execution import NestedFunction, RunResult, RunSpec
from jupyter_syft.server.execution.nested import NestedCalls
from jupyter_syft.server.services.code.binding import bind
from jupyter_syft.server.services.errors import BadRequest, Forbidden, NotFound

ASSET = models.Asset(
    id="asset-1", dataset_id="d", name="ages", data_blob_id="data-blob", mock_blob_id="mock-blob"
)
NO_MOCK = models.Asset(id="asset-2", dataset_id="d", name="secret", data_blob_id="only-data")
ASSETS = {a.id: a for a in (ASSET, NO_MOCK)}


def code(params, inputs, policy="ExactMatch"):
    return models.UserCode(
        service_func_name="f",
        parameters=list(params),
        input_policy={"type": policy, "inputs": inputs},
    )


def value(obj) -> dict:
    return {"kind": "value", "data": base64.b64encode(serde.dumps(obj)).decode()}


def ref(asset_id: str) -> dict:
    return {"kind": "asset", "id": asset_id}


APPROVED = code(["data"], {"data": {"kind": "asset", "id": "asset-1", "name": "ages"}})


def test_approved_code_reads_the_asset_data_on_private_runs_and_the_mock_otherwise():
    assert bind(APPROVED, {"data": ref("asset-1")}, True, ASSETS.get) == {
        "data": ("blob", "data-blob")
    }
    assert bind(APPROVED, {"data": ref("asset-1")}, False, ASSETS.get) == {
        "data": ("blob", "mock-blob")
    }


def test_private_runs_take_only_the_named_asset():
    with pytest.raises(Forbidden, match="approved inputs"):
        bind(APPROVED, {"data": ref("asset-2")}, True, ASSETS.get)
    with pytest.raises(Forbidden, match="approved inputs"):
        bind(APPROVED, {"data": value(1)}, True, ASSETS.get)


def test_mock_runs_may_use_the_callers_own_values():
    bound = bind(APPROVED, {"data": value([1, 2])}, False, ASSETS.get)
    assert bound["data"][0] == "inline" and serde.loads(bound["data"][1]) == [1, 2]


def test_an_asset_gone_since_submission_is_not_found():
    with pytest.raises(NotFound, match="no longer"):
        bind(APPROVED, {"data": ref("asset-1")}, True, {}.get)


def test_arguments_are_checked_against_the_parameters():
    with pytest.raises(BadRequest, match="no parameter"):
        bind(APPROVED, {"data": ref("asset-1"), "other": value(1)}, True, ASSETS.get)
    with pytest.raises(BadRequest, match="Missing argument 'data'"):
        bind(APPROVED, {}, True, ASSETS.get)
    with pytest.raises(BadRequest, match="must be an object"):
        bind(APPROVED, {"data": "asset-1"}, True, ASSETS.get)
    with pytest.raises(BadRequest, match="inputs must be an object"):
        bind(APPROVED, ["data"], True, ASSETS.get)


def test_the_datasite_parameter_is_not_an_argument():
    nested = code(["datasite", "data"], APPROVED.input_policy["inputs"])
    assert bind(nested, {"data": ref("asset-1")}, True, ASSETS.get) == {
        "data": ("blob", "data-blob")
    }


def test_constants_come_from_the_policy_and_types_are_checked():
    mixed = code(
        ["n", "k", "x"],
        {
            "n": {"kind": "constant", "data": value(7)["data"]},
            "k": {"kind": "type", "type": "int"},
        },
        policy="MixedInputPolicy",
    )
    with pytest.raises(Forbidden, match="not covered"):
        bind(mixed, {"k": value(1), "x": value(2)}, True, ASSETS.get)
    bound = bind(mixed, {"k": value(1), "x": value(2)}, False, ASSETS.get)
    assert {p: serde.loads(data) for p, (_, data) in bound.items()} == {"n": 7, "k": 1, "x": 2}
    with pytest.raises(Forbidden, match="must be a int"):
        bind(mixed, {"k": value("one"), "x": value(2)}, False, ASSETS.get)


def test_assets_outside_the_policy():
    free = code(["x"], {})
    assert bind(free, {"x": ref("asset-1")}, False, ASSETS.get) == {"x": ("blob", "mock-blob")}
    with pytest.raises(Forbidden, match="no mock"):
        bind(free, {"x": ref("asset-2")}, False, ASSETS.get)
    with pytest.raises(NotFound, match="No asset"):
        bind(free, {"x": ref("nope")}, False, ASSETS.get)


def test_inline_values_must_be_valid():
    free = code(["x"], {})
    with pytest.raises(BadRequest, match="base64"):
        bind(free, {"x": {"kind": "value", "data": "not base64!"}}, False, ASSETS.get)
    bad = base64.b64encode(b"not a value").decode()
    with pytest.raises(BadRequest, match="not a valid value"):
        bind(free, {"x": {"kind": "value", "data": bad}}, False, ASSETS.get)


# --- the nested-call handler, with a runner that runs nothing ------------------------------


class FakeRunner:
    """Answers every run with the value of its ``x`` input plus one, or fails on request."""

    sandbox = "none"

    def __init__(self, work_dir: Path, fail: bool = False):
        self.work_dir = work_dir
        self.fail = fail
        self.specs: list[RunSpec] = []

    def run(self, spec: RunSpec) -> RunResult:
        self.specs.append(spec)
        if self.fail:
            return RunResult(False, None, "boom", "user_error", "", "", 0.0, "none")
        out = self.work_dir / f"out-{len(self.specs)}.jsyf"
        out.write_bytes(serde.dumps(serde.loads(spec.inputs["x"].read_bytes()) + 1))
        return RunResult(True, out, None, None, "", "", 0.0, "none")

    def cancel(self, label: str) -> bool:
        return True

    def active_runs(self) -> int:
        return 0

    def close(self) -> None:
        pass


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def init_progress(self, n_iters: int) -> None:
        self.calls.append(("init", n_iters))

    def set_progress(self, n: int) -> None:
        self.calls.append(("set", n))

    def increment_progress(self, n: int) -> None:
        self.calls.append(("increment", n))


def parent(private: bool, progress=None) -> RunSpec:
    return RunSpec(
        "def f(datasite):\n    pass\n",
        "f",
        {},
        label="job 1",
        nested=("g", "h"),
        nested_code={"g": NestedFunction("code-g", "def g(x):\n    return x\n", ("x",))},
        private=private,
        progress=progress,
    )


def launch(calls: NestedCalls, name: str, **kwargs):
    return calls({"call": "launch_job", "name": name}, serde.dumps(kwargs))


def test_a_launch_runs_the_planned_function_in_the_parents_run(tmp_path):
    runner = FakeRunner(tmp_path)
    calls = NestedCalls(runner, parent(private=True), tmp_path)
    reply, data = launch(calls, "g", x=41)
    assert reply == {"ok": True} and serde.loads(data) == 42
    (spec,) = runner.specs
    assert (spec.func_name, spec.label, spec.on_call) == ("g", "job 1 > g", calls)
    assert spec.nested_code == parent(True).nested_code  # the plan holds at any depth
    assert [(r.name, r.code_id, r.ok) for r in calls.launched] == [("g", "code-g", True)]
    assert list(tmp_path.glob("nested-*")) == []  # its inputs are gone


def test_launches_outside_the_plan_are_refused_with_the_reason(tmp_path):
    runner = FakeRunner(tmp_path)
    reply, _ = launch(NestedCalls(runner, parent(private=True), tmp_path), "h", x=1)
    assert not reply["ok"] and "approve_nested=True" in reply["error"]
    reply, _ = launch(NestedCalls(runner, parent(private=False), tmp_path), "h", x=1)
    assert not reply["ok"] and "No submitted function named 'h'" in reply["error"]
    calls = NestedCalls(runner, parent(private=True), tmp_path)
    reply, _ = launch(calls, "g", y=1)
    assert not reply["ok"] and "'g' takes x" in reply["error"]
    reply, _ = calls({"call": "launch_job", "name": "g"}, b"garbage")
    assert not reply["ok"] and "not valid" in reply["error"]
    assert calls({"call": "format_disk"}, b"")[0] == {"ok": False, "error": "Unknown call."}
    assert runner.specs == [] and calls.launched == []


def test_a_failed_nested_job_fails_the_call_and_is_listed(tmp_path):
    calls = NestedCalls(FakeRunner(tmp_path, fail=True), parent(private=True), tmp_path)
    reply, _ = launch(calls, "g", x=1)
    assert reply == {"ok": False, "error": "Nested job g failed: boom"}
    assert [r.ok for r in calls.launched] == [False]


def test_progress_goes_to_the_sink_checked(tmp_path):
    progress = Progress()
    calls = NestedCalls(FakeRunner(tmp_path), parent(True, progress), tmp_path)
    for op, n in [("init", 3), ("set", -1), ("increment", 1), ("bogus", 1), ("set", True)]:
        assert calls({"call": "progress", "op": op, "n": n}, b"") == ({"ok": True}, b"")
    assert progress.calls == [("init", 3), ("set", 0), ("increment", 1)]
    # without a sink (a blocking call) progress goes nowhere
    assert NestedCalls(FakeRunner(tmp_path), parent(True), tmp_path)(
        {"call": "progress", "op": "init", "n": 1}, b""
    ) == ({"ok": True}, b"")
