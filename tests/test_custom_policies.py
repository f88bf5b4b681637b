"""Custom policies (#14 item 6), in the shape of PySyft 0.9's notebooks/api/0.8/05-custom-policy:
a ``sy.CustomOutputPolicy`` / ``sy.CustomInputPolicy`` subclass written by the scientist works
locally, travels with the code as source plus JSON arguments, is shown to and analysed for the
reviewer, and runs only in the Datasite's sandbox (never in the server process) with its state
kept as JSON values between runs."""

from __future__ import annotations

import builtins
import os
from typing import Any

import pytest

import jupyter_syft as sy
from jupyter_syft.server.services.code import runs


class RepeatedCallPolicy(sy.CustomOutputPolicy):
    n_calls: int = 0
    downloadable_output_args: list[str] = []
    state: dict[Any, Any] = {}

    def __init__(self, n_calls=1, downloadable_output_args: list[str] = None):  # noqa: RUF013 -- as in the notebook
        self.downloadable_output_args = (
            downloadable_output_args if downloadable_output_args is not None else []
        )
        self.n_calls = n_calls
        self.state = {"counts": 0}

    def public_state(self):
        return self.state["counts"]

    def update_policy(self, context, outputs):
        self.state["counts"] += 1

    def apply_to_output(self, context, outputs, update_policy=True):
        if hasattr(outputs, "syft_action_data"):
            outputs = outputs.syft_action_data
        output_dict = {}
        if self.state["counts"] < self.n_calls:
            for output_arg in self.downloadable_output_args:
                output_dict[output_arg] = outputs[output_arg]
            if update_policy:
                self.update_policy(context, outputs)
        else:
            return None
        return output_dict

    def is_valid(self, context):
        return self.state["counts"] < self.n_calls


def _make_function(asset: Any, policy: Any) -> Any:
    @sy.syft_function(input_policy=sy.ExactMatch(data=asset), output_policy=policy)
    def func(data):
        return {"y": float(data["age"].mean()), "secret": float(data["score"].sum())}

    return func


def test_custom_output_policy_notebook_chain(root, scientist, uploaded):
    private, _ = uploaded
    # 05-custom-policy: the policy works locally.
    policy = RepeatedCallPolicy(n_calls=1, downloadable_output_args=["y"])
    assert policy.n_calls == 1
    assert policy.downloadable_output_args == ["y"]
    assert policy.init_kwargs == {"n_calls": 1, "downloadable_output_args": ["y"]}
    x = policy.apply_to_output(None, sy.ActionObject.from_obj({"y": [1, 2, 3]}))
    assert x["y"] == [1, 2, 3]
    assert policy.state == {"counts": 1} and not policy.is_valid(None)

    asset = scientist.datasets[0].assets[0]
    func = _make_function(asset, RepeatedCallPolicy(n_calls=2, downloadable_output_args=["y"]))
    assert "class RepeatedCallPolicy(sy.CustomOutputPolicy):" in (
        func.output_policy_type.policy_code
    )
    request = scientist.code.request_code_execution(func)
    request_id = request.id

    # The reviewer reads the policy's code with the function's.
    for request in root.requests:
        if request.id == request_id:
            break
    code = request.code
    assert code.output_policy.is_custom and code.output_policy.class_name == "RepeatedCallPolicy"
    assert code.output_policy.init_kwargs == {"n_calls": 2, "downloadable_output_args": ["y"]}
    assert "def apply_to_output(self, context, outputs" in code.output_policy.policy_code
    assert "class RepeatedCallPolicy" in code.policy_code
    assert "class RepeatedCallPolicy" in code.output_policy_type.policy_code
    assert code.output_policy_type.__name__ == "RepeatedCallPolicy"
    assert issubclass(code.output_policy_type, sy.CustomOutputPolicy)
    assert code.output_policy.limit is None and code.output_policy.state is None
    assert "RepeatedCallPolicy" in request._repr_html_()
    assert "apply_to_output" in request._repr_html_()
    assert "class RepeatedCallPolicy" in repr(code)
    with pytest.raises(sy.SyftException, match="sandbox"):
        code.output_policy.is_valid()

    request.approve()
    res = scientist.code.func(data=asset).get()
    assert res["y"] == pytest.approx(private["age"].mean())
    assert set(res.keys()) == set("y")  # apply_to_output filtered the dict

    for code in root.code.get_all():
        if code.service_func_name == "func":
            break
    assert code.output_policy.state == {"counts": 1}
    # computed next to the private data: not for the scientist
    with pytest.raises(sy.SyftException, match="owners"):
        scientist.code[0].output_policy.state

    assert set(scientist.code.func(data=asset).get()) == {"y"}
    assert root.code[0].output_policy.state == {"counts": 2}
    # n_calls=2: the third run is refused by the policy, with its name, and not counted
    with pytest.raises(sy.SyftException, match="RepeatedCallPolicy allows no more runs"):
        scientist.code.func(data=asset)
    assert root.code[0].runs_used == 2
    assert root.code[0].output_policy.state == {"counts": 2}


class AtLeastRows(sy.CustomInputPolicy):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.min_rows = kwargs.get("min_rows", 1)

    def is_valid(self, context, usr_input_kwargs):
        if set(usr_input_kwargs) != set(self.inputs):
            raise sy.SyftException(f"Function arguments: {set(usr_input_kwargs)}")
        return len(usr_input_kwargs["data"]) >= self.min_rows

    def filter_kwargs(self, kwargs, context):
        return {"data": kwargs["data"].head(self.min_rows)}


def test_custom_input_policy(root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]
    local = AtLeastRows(data=asset, min_rows=10)
    assert local.init_kwargs["min_rows"] == 10 and set(local.inputs) == {"data"}
    assert local.inputs["data"]["kind"] == "asset"

    @sy.syft_function(input_policy=AtLeastRows(data=asset, min_rows=10))
    def rows(data):
        return {"n": len(data)}

    scientist.code.request_code_execution(rows)
    code = root.requests[0].code
    assert code.input_policy.is_custom and code.input_policy.init_kwargs == {"min_rows": 10}
    assert code.input_policy.inputs["data"]["id"] == asset.id  # bound as an ExactMatch
    assert "class AtLeastRows(sy.CustomInputPolicy):" in code.input_policy.policy_code
    assert repr(code.input_policy) == "AtLeastRows(data=asset table, min_rows=10)"
    root.requests[0].approve()
    # filter_kwargs decided what the function got
    assert scientist.code.rows(data=asset).get() == {"n": 10}

    @sy.syft_function(input_policy=AtLeastRows(data=asset, min_rows=1000))
    def rows_strict(data):
        return {"n": len(data)}

    scientist.code.request_code_execution(rows_strict)
    root.requests[-1].approve()
    with pytest.raises(sy.SyftException, match="input policy AtLeastRows refused this run"):
        scientist.code.rows_strict(data=asset)


def test_policy_code_runs_only_in_the_sandbox(root, scientist, uploaded):
    class WhereAmI(sy.CustomOutputPolicy):
        def __init__(self):
            self.state = {}

        def apply_to_output(self, context, outputs, update_policy=True):
            import builtins
            import os

            builtins.__jupyter_syft_policy_ran__ = True  # in the server, the test would see it
            self.state = {"pid": os.getpid(), "ppid": os.getppid(), "private": context.private}
            return outputs

    asset = scientist.datasets[0].assets[0]
    func = _make_function(asset, WhereAmI())
    scientist.code.request_code_execution(func)
    root.requests[0].approve()
    assert scientist.code.func(data=asset).get()["secret"] is not None
    state = root.code[0].output_policy.state
    assert state["private"] is True
    assert state["pid"] != os.getpid() and state["ppid"] != os.getpid()
    assert not hasattr(builtins, "__jupyter_syft_policy_ran__")


def test_refused_before_sending(scientist, uploaded):
    asset = scientist.datasets[0].assets[0]
    with pytest.raises(sy.SyftException, match="must be JSON values"):
        _make_function(asset, RepeatedCallPolicy(n_calls=object()))
    with pytest.raises(sy.SyftException, match=r"the key 1 at \['n_calls'\] is of type int"):
        _make_function(asset, RepeatedCallPolicy(n_calls={1: 2}))
    with pytest.raises(sy.SyftException, match="by keyword"):
        RepeatedCallPolicy(3)
    assert len(scientist.code) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "    def apply_to_output(self, context, outputs, update_policy=True):\n"
            "        return outputs['missing']\n",
            "The policy Broken failed in its apply_to_output: KeyError: 'missing'",
        ),
        (
            "    def apply_to_output(self, context, outputs, update_policy=True):\n"
            "        self.state = {'s': {1, 2}}\n        return outputs\n",
            "Broken: self.state must be JSON values",
        ),
        (
            "    def apply_to_output(self, context, outputs, update_policy=True):\n"
            "        self.state = {1: 'int keys would come back as str'}\n        return outputs\n",
            "Broken: self.state must be JSON values: the key 1",
        ),
        (
            "    def __init__(self):\n"
            "        if type(self).__module__ == '__syft_policy__':  # only in the sandbox\n"
            "            raise ValueError('no good')\n",
            "The policy Broken failed in its class definition and __init__: ValueError: no good",
        ),
        (
            "    def is_valid(self, context):\n        return context.server.get_service('x')\n",
            "server internals",
        ),
        (
            "    def is_valid(self, context):\n        while True:\n            pass\n",
            "took longer than 1 seconds",
        ),
    ],
)
def test_broken_policy_is_a_clear_error(root, scientist, uploaded, monkeypatch, body, message):
    monkeypatch.setattr(runs, "POLICY_SECONDS", 1.0)
    asset = scientist.datasets[0].assets[0]
    namespace: dict[str, Any] = {"sy": sy}
    source = f"class Broken(sy.CustomOutputPolicy):\n{body}"
    # a class from a file-less source, as a notebook cell makes it: read back through linecache
    import linecache

    filename = f"<cell broken-{abs(hash(body))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    func = _make_function(asset, namespace["Broken"]())
    scientist.code.request_code_execution(func)
    root.requests[0].approve()
    with pytest.raises(sy.SyftException) as info:
        scientist.code.func(data=asset)
    assert message in str(info.value)
    assert "Broken" in str(info.value)
    assert root.code[0].runs_used == 0  # nothing was delivered


def test_wire_refusals(scientist, uploaded):
    asset = scientist.datasets[0].assets[0]
    func = _make_function(asset, RepeatedCallPolicy(n_calls=1))
    good = func.to_json()

    def submit(output_policy: dict[str, Any]) -> str:
        with pytest.raises(sy.SyftException) as info:
            scientist.session.api.submit_code({**good, "output_policy": output_policy})
        return str(info.value)

    custom = good["output_policy"]
    assert "exactly one class" in submit({**custom, "code": "x = 1\n"})
    assert "derive directly" in submit(
        {**custom, "code": custom["code"].replace("sy.CustomOutputPolicy", "object")}
    )
    assert "too long" in submit({**custom, "code": custom["code"] + "#" * 70_000})
    assert "no limit" in submit({**custom, "limit": 3})
    assert "takes no class source" in submit(
        {"type": "OutputPolicyExecuteOnce", "limit": 1, "code": custom["code"]}
    )
    assert "keyword name" in submit({**custom, "init_kwargs": {"not a name": 1}})


def test_policy_findings_and_escaping(root, scientist, uploaded):
    class Sneaky(sy.CustomOutputPolicy):
        """<script>alert(1)</script>"""

        def apply_to_output(self, context, outputs, update_policy=True):
            return np.asarray(outputs)  # noqa: F821 - a free name the checks report

    asset = scientist.datasets[0].assets[0]
    func = _make_function(asset, Sneaky())
    assert any(
        "In the policy class Sneaky" in f.message and "np" in f.message for f in func.findings
    )
    scientist.code.request_code_execution(func)
    request = root.requests[0]
    assert any("policy class Sneaky" in f.message for f in request.code.findings)
    html = request._repr_html_()
    assert "<script>alert" not in html and "alert(1)" in html
