"""Code and policies as objects, in the shape of PySyft 0.9's tutorials (api/0.8 02 review and
approve, 03 download the result, 08 code version): ``code.show_code``, ``code.status``,
``code.input_policy`` / ``output_policy`` with ``is_valid()`` and ``count()``,
``output_policy_type.policy_code``, ``client.code_history`` / ``code_histories``."""

import pytest

import jupyter_syft as sy


def test_review_and_download_tutorials(root, scientist, uploaded):
    private, _ = uploaded
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function(
        input_policy=sy.ExactMatch(data=asset), output_policy=sy.SingleExecutionExactOutput()
    )
    def mean_age(data):
        return float(data["age"].mean())

    # The local function's output policy: its class, with its source as text (02).
    assert mean_age.output_policy_type is sy.OutputPolicyExecuteOnce
    source = mean_age.output_policy_type.policy_code
    assert "class OutputPolicyExecuteOnce" in source and "limit" in source
    assert "the Datasite enforces it" in source

    request = scientist.code.request_code_execution(mean_age, reason="average age")
    code = scientist.code[0]
    assert code.status == "pending" and code.status == sy.UserCodeStatus.PENDING
    assert str(code.status) == "pending" and code.status.pending and not code.status.approved
    assert code.status == "PENDING"  # any case
    assert "RequestStatus" not in repr(code) and "UserCodeStatus" not in repr(code)
    assert f"{request.status}" == "pending" and "RequestStatus" not in repr(request)

    # 02: the reviewer reads the request's code.
    func = root.requests[0].code
    shown = func.show_code
    assert shown.startswith("# Syft function mean_age, submitted by Dana Scientist")
    assert "def mean_age(data):" in shown and repr(shown) == str(shown)
    assert "mean_age" in shown._repr_html_()
    op = func.output_policy_type
    assert op is sy.OutputPolicyExecuteOnce
    assert "class OutputPolicyExecuteOnce" in op.policy_code
    assert func.output_policy is not None and func.input_policy is not None
    assert func.input_policy_type is sy.ExactMatch
    assert func.input_policy["type"] == "ExactMatch"  # the wire form still reads as a dict
    assert func.output_policy == {"type": "OutputPolicyExecuteOnce", "limit": 1}
    assert func.input_policy.is_valid() and [a.id for a in func.input_policy.assets] == [asset.id]
    assert repr(func.input_policy) == "ExactMatch(data=asset table)"
    assert func.output_policy.is_valid() and func.output_policy.count() == 0
    assert "class ExactMatch" in func.input_policy.policy_code

    result = root.requests[0].approve()
    assert isinstance(result, sy.SyftSuccess)
    assert scientist.code[0].status == "approved" and scientist.code[0].status.approved

    # 03: the scientist runs it, and the output policy is used up.
    assert scientist.code.mean_age(data=asset).get() == pytest.approx(private["age"].mean())
    ops = scientist.code[-1].output_policy
    assert not ops.is_valid()
    assert ops.count() > 0 and ops.count() == 1 and ops.runs_left() == 0
    assert "used 1, 0 left" in repr(ops)

    # Denied code says so in words.
    root.requests[0].deny("Add noise to the mean, then resubmit.")
    denied = scientist.code[0].status
    assert denied == "denied" and denied == "rejected" and denied == sy.UserCodeStatus.DENIED
    assert str(denied) == "denied" and denied.denied and "denied" in denied.get_status_message()


def test_input_policy_is_invalid_once_its_asset_is_gone(root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def row_count(data):
        return len(data)

    scientist.code.submit(row_count)
    policy = scientist.code[0].input_policy
    assert policy.is_valid()
    root.datasets.delete(root.datasets[0].name)
    assert not policy.is_valid()
    assert scientist.code[0].output_policy.is_valid()  # no runs used: the count is separate


def test_code_version_tutorial(root, scientist):
    # 08-code-version: an empty ExactMatch, two versions of one function.
    @sy.syft_function(input_policy=sy.ExactMatch(), output_policy=sy.SingleExecutionExactOutput())
    def test_func():
        return 1

    scientist.code.request_code_execution(code=test_func)
    history = scientist.code_history
    assert "test_func" in dir(history) and len(history.test_func) == 1

    @sy.syft_function(input_policy=sy.ExactMatch(), output_policy=sy.SingleExecutionExactOutput())
    def test_func():  # a new version, as the tutorial submits it
        return 2

    scientist.code.request_code_execution(code=test_func)
    versions = scientist.code_history.test_func
    assert len(versions) == 2 and versions is not None
    assert "return 1" in versions[0].raw_code and "return 2" in versions[1].raw_code
    assert "return 2" in versions[-1].raw_code  # the scientist's own history: the latest
    assert scientist.code_history["test_func"][0].id == versions[0].id
    assert "2 version(s)" in repr(versions) and "<table>" in versions._repr_html_()

    # As an admin.
    admin = root
    assert admin.code_history.keys() == []  # the admin submitted nothing
    histories = admin.code_histories
    assert histories.user_dict == {"ds@example.org": ["test_func"]}
    assert "ds@example.org" in repr(histories)
    assert "return 1" in admin.code_histories["ds@example.org"].test_func[0].raw_code
    test_func_history = admin.code_histories["ds@example.org"].test_func
    assert len(test_func_history) == 2
    with pytest.raises(sy.SyftException, match="negative index"):
        admin.code_histories["ds@example.org"].test_func[-1]


def test_code_history_errors(root, scientist):
    with pytest.raises(sy.SyftException, match="data owners and admins") as info:
        scientist.code_histories
    assert "client.code_history" in str(info.value)
    with pytest.raises(sy.SyftException, match=r"No code submitted by 'nobody@example\.org'"):
        root.code_histories["nobody@example.org"]

    @sy.syft_function()
    def only():
        return "<b>1</b>"

    scientist.code.submit(only)
    mine = scientist.code_history
    html = mine.only[0].show_code._repr_html_() + mine.only._repr_html_() + mine._repr_html_()
    assert "<b>1</b>" not in html and "&lt;b&gt;" in html  # user strings escaped
    with pytest.raises(sy.SyftException, match=r"submitted no function 'other'.*only"):
        mine["other"]
    with pytest.raises(AttributeError):
        mine.other
    with pytest.raises(sy.SyftException, match="version number"):
        mine.only["0"]
    with pytest.raises(sy.SyftException, match="1 version"):
        mine.only[3]


def test_code_history_service_as_pysyft_names_it(root, scientist):
    @sy.syft_function()
    def counted():
        return 1

    scientist.code.request_code_execution(counted)
    service = scientist.api.services.code_history
    assert "get_history" in dir(service) and "code_history" in dir(scientist.api.services)
    assert len(service.get_history().counted) == 1
    owner_view = root.api.services.code_history
    assert owner_view.get_histories().user_dict == {"ds@example.org": ["counted"]}
    assert "return 1" in owner_view.get_history_for_user("ds@example.org").counted[0].raw_code
    with pytest.raises(sy.SyftException, match="data owners and admins"):
        service.get_histories()
    with pytest.raises(AttributeError, match="get_history_for_user"):
        service.no_such_method
