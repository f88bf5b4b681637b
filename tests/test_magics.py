"""The %%syft_function cell magic, in a real IPython shell, against a real Datasite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import jupyter_syft as sy
from jupyter_syft.client.code import SyftFunction

MEAN_AGE = 'def mean_age(data):\n    """Mean age."""\n    return data["age"].mean()\n'


@pytest.fixture(scope="module")
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.extension_manager.load_extension("jupyter_syft")
    yield ip
    InteractiveShell.clear_instance()


@pytest.fixture
def ip(shell: InteractiveShell) -> Iterator[InteractiveShell]:
    yield shell
    shell.reset(new_session=False)  # a clean user namespace for the next test


def _run(ip: InteractiveShell, line: str, cell: str) -> object:
    """Run the magic as a notebook cell would (errors are shown, not raised)."""
    return ip.run_cell(f"%%syft_function {line}\n{cell}")


def test_load_ext_registers_the_cell_magic(ip):
    assert "syft_function" in ip.magics_manager.magics["cell"]


def test_defines_a_syft_function_with_exact_match(node, root, uploaded, ip):
    ip.user_ns["asset"] = root.datasets[0].assets[0]
    ip.run_cell_magic("syft_function", "--single-use data=asset", MEAN_AGE)
    fn = ip.user_ns["mean_age"]
    assert isinstance(fn, SyftFunction)
    assert fn.input_policy_type is sy.ExactMatch
    assert fn.output_policy_type is sy.OutputPolicyExecuteOnce
    assert fn.kwargs["data"]["id"] == root.datasets[0].assets[0].id
    assert fn.raw_code == MEAN_AGE
    assert len(root.requests) == 0  # nothing is sent without --request


def test_mock_and_request_submit_to_the_only_client(node, root, scientist, uploaded, ip, capsys):
    _private, mock = uploaded
    ip.user_ns["client"] = scientist
    ip.user_ns["asset"] = scientist.datasets[0].assets[0]
    ip.run_cell_magic(
        "syft_function", '--mock --request --reason "average age, please" data=asset', MEAN_AGE
    )
    out = capsys.readouterr().out
    assert repr(mock["age"].mean()) in out  # the mock run's result is shown
    fresh = sy.login(url=node.url, email="info@openmined.org", password="changethis")
    requests = fresh.requests.get_all()
    assert len(requests) == 1
    request = requests[0]
    assert request.code.service_func_name == "mean_age"
    assert request.reason == "average age, please"
    assert request.requesting_user_email == "ds@example.org"
    assert request.status == sy.RequestStatus.PENDING
    assert request.code.input_policy["type"] == "ExactMatch"
    assert f"Request {request.id}" in out  # and the request is shown


def test_request_into_a_project_with_mixed_inputs(node, root, scientist, uploaded, ip):
    ip.user_ns["ds_client"] = scientist
    ip.user_ns["asset"] = scientist.datasets[0].assets[0]
    ip.user_ns["threshold"] = 40
    cell = "def older(data, threshold, label):\n    return (data['age'] > threshold).sum()\n"
    ip.run_cell_magic(
        "syft_function",
        "--request --project Study --runs 3 data=asset threshold=threshold label=str",
        cell,
    )
    fn = ip.user_ns["older"]
    assert fn.input_policy_type is sy.MixedInputPolicy
    assert fn.output_policy.limit == 3
    # a second function goes into the same project, not a new one
    ip.run_cell_magic(
        "syft_function",
        "--request --project Study data=asset",
        "def count(data):\n    return len(data)\n",
    )
    fresh = sy.login(url=node.url, email="info@openmined.org", password="changethis")
    projects = [p for p in fresh.projects if p.name == "Study"]
    assert len(projects) == 1
    requests = {r.code.service_func_name: r for r in projects[0].requests}
    assert set(requests) == {"older", "count"}
    code = requests["older"].code
    assert code.input_policy["type"] == "MixedInputPolicy"
    inputs = code.input_policy["inputs"]
    assert inputs["data"]["kind"] == "asset"
    assert inputs["threshold"]["kind"] == "constant" and inputs["threshold"]["preview"] == "40"
    assert inputs["label"] == {"kind": "type", "type": "str"}
    assert code.output_policy == {"type": "OutputPolicyExecuteCount", "limit": 3}


def test_client_must_be_unambiguous(node, root, scientist, uploaded, ip, capsys):
    ip.user_ns["asset"] = scientist.datasets[0].assets[0]
    _run(ip, "--request data=asset", MEAN_AGE)
    assert "needs a Datasite client" in capsys.readouterr().err

    ip.user_ns["root_client"] = root
    ip.user_ns["ds_client"] = scientist
    _run(ip, "--request data=asset", MEAN_AGE)
    err = capsys.readouterr().err
    assert "several Datasite clients" in err and "ds_client, root_client" in err

    ip.user_ns["number"] = 3
    _run(ip, "--request --client number data=asset", MEAN_AGE)
    assert "not a DatasiteClient" in capsys.readouterr().err
    _run(ip, "--request --client nobody data=asset", MEAN_AGE)
    assert "no such variable" in capsys.readouterr().err
    assert len(root.requests) == 0

    ip.run_cell_magic("syft_function", "--request --client ds_client data=asset", MEAN_AGE)
    requests = root.requests.get_all()
    assert [r.requesting_user_email for r in requests] == ["ds@example.org"]


def test_mock_run_with_a_plain_value_needs_no_datasite(ip, capsys):
    ip.user_ns["k"] = 21
    ip.run_cell_magic("syft_function", "--mock k=k", "def double(k):\n    return k * 2\n")
    assert ip.user_ns["double"].input_policy_type is sy.MixedInputPolicy
    assert "42" in capsys.readouterr().out


TWO = "def f(data):\n    return 1\n\ndef g(data):\n    return 2\n"
ONE = "def f(data):\n    return 1\n"


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        ("--bogus", ONE, "unrecognized arguments: --bogus"),
        ("--runs zero", ONE, "--runs takes a whole number"),
        ("--runs 0", ONE, "--runs must be at least 1"),
        ("--single-use --runs 2", ONE, "leave out --runs"),
        ("--project P", ONE, "--project only makes sense with --request"),
        ("--reason x --client c", ONE, "--client, --reason only make sense with --request"),
        ("", "def f(data=undefined_name):\n    return 1\n", "defining f failed: NameError"),
        ('--reason "unclosed', ONE, "cannot read the options"),
        ("", TWO, "exactly one function definition (def ...); it holds 2 (f, g)"),
        ("", "x = 1\n", "definition (def ...); it holds 0."),
        ("", "def f(:\n    pass\n", "syntax error on line 1"),
        ("", "import os\n" + ONE, "line 1 holds other code"),
        ("", "@staticmethod\n" + ONE, "remove the decorator"),
        ("", "async def f(data):\n    return 1\n", "f is async"),
        ("data=nope", ONE, "name 'nope' is not defined"),
        ("data", ONE, "inputs are NAME=VARIABLE"),
        ("other=1", ONE, "f has no parameter 'other'"),
        ("data=1 data=2", ONE, "'data' is given twice"),
        ("data=1/0", ONE, "ZeroDivisionError"),
        ("data=sy", ONE, "Cannot send a value of type 'module'"),
        ("data=builder", ONE, "data is a Asset"),
        ("--mock data=int", ONE, "--mock needs a value for data"),
        ("--mock", ONE, "--mock needs an input for data"),
    ],
)
def test_bad_input_gives_a_usage_message(ip, capsys, line, cell, message):
    ip.user_ns["sy"] = sy
    ip.user_ns["builder"] = sy.Asset(name="a", data=1, mock=1)
    result = ip.run_cell(f"%%syft_function {line}\n{cell}")
    assert isinstance(result.error_in_exec, UsageError)
    captured = capsys.readouterr()
    assert "UsageError: %%syft_function:" in captured.err, captured.err
    assert message in captured.err, captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "f" not in ip.user_ns


def test_usage_error_is_raised_to_callers(ip):
    with pytest.raises(UsageError, match="exactly one function"):
        ip.run_cell_magic("syft_function", "", "x = 1\n")


def test_a_refused_request_is_a_short_message(node, root, scientist, uploaded, ip, capsys):
    ip.user_ns["client"] = scientist
    ip.user_ns["asset"] = scientist.datasets[0].assets[0]
    ip.run_cell_magic("syft_function", "--request data=asset", MEAN_AGE)
    capsys.readouterr()
    result = _run(ip, "--request data=asset", MEAN_AGE)  # the same code again: refused
    assert isinstance(result.error_in_exec, sy.SyftException)
    captured = capsys.readouterr()
    assert "SyftException" in captured.out + captured.err
    assert str(result.error_in_exec) in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err
    assert len(root.requests) == 1
