"""PySyft 0.9's api tutorials (load data, submit code, review, download the result; hello
syft) as one chain of steps on one Datasite, with their kind of asserts, our own code and
synthetic data (issue 14): the names those tutorials reach that the other tests do not
cover: ``ServerIdentity`` and ``fn.kwargs[identity]``, ``asset.action_id``,
``client.credentials``, ``sy.service.<module path>.<Name>``, ``request.changes`` and
``current_change_state``, ``client.api.<service>`` and completion of the services, and
PySyft internals refused with what to use instead."""

from __future__ import annotations

import pandas as pd
import pytest

import jupyter_syft as sy
from jupyter_syft import RequestStatus, ServerIdentity


def _trade_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = 20
    frame = pd.DataFrame(
        {
            "Partner": [f"P{i % 4}" for i in range(rows)],
            "Commodity Code": list(range(rows)),
            "Trade Value (US$)": [1_000 * (i + 1) for i in range(rows)],
        }
    )
    return frame[0:10], frame[10:20]


def test_tutorial_chain_load_submit_review_download(node, root):
    # --- the data owner loads data (00) ---------------------------------------------------
    private, mock = _trade_frames()
    region = sy.DataSubject(name="Region", aliases=["region_code"])
    north = sy.DataSubject(name="North", aliases=["region_code:n"])
    region.add_member(north)
    assert root.data_subject_registry.add_data_subject(region)
    dataset = sy.Dataset(name="Trade Value")
    asset = sy.Asset(name="trade_flow")
    asset.set_obj(private)
    asset.set_shape(private.shape)
    asset.add_data_subject(north)
    asset.set_mock(mock, mock_is_real=False)
    dataset.add_asset(asset)
    assert isinstance(root.upload_dataset(dataset, progress=False), sy.SyftSuccess)
    root.register(
        name="Ada Analyst",
        email="ada@example.org",
        password="pw-ada-123",
        password_verify="pw-ada-123",
        institution="Example U",
    )

    # --- the data scientist submits code (01) --------------------------------------------
    guest = node.client
    guest_credentials = guest.credentials
    ada = guest.login(email="ada@example.org", password="pw-ada-123", verbose=False)
    assert ada.credentials != guest_credentials
    assert guest_credentials == "guest" and ada.credentials == ada.account.id
    results = ada.datasets.get_all()
    assert len(results) == 1
    trade = results[0].assets[0]
    assert trade.data is None  # no access: shown, and None, as in PySyft
    assert trade.action_id == trade.id

    @sy.syft_function_single_use(trade_data=trade)
    def total_trade_thousands(trade_data):
        return float(trade_data["Trade Value (US$)"].sum() / 1_000)

    assert total_trade_thousands(trade_data=trade).get() == sum(range(11, 21))
    assert len(total_trade_thousands.kwargs) == 1
    identity = ServerIdentity.from_api(ada.api)
    assert identity == ServerIdentity.from_api(root.api) == ServerIdentity.from_api(ada)
    assert identity.server_name == node.name
    assert identity in total_trade_thousands.kwargs
    assert "trade_data" in total_trade_thousands.kwargs[identity]
    assert total_trade_thousands.input_policy_init_kwargs[identity]["trade_data"] == trade.action_id
    assert total_trade_thousands.kwargs["trade_data"]["id"] == trade.id  # our keying still works
    elsewhere = ServerIdentity(server_name="elsewhere", url="http://127.0.0.1:9")
    assert elsewhere not in total_trade_thousands.kwargs
    with pytest.raises(KeyError, match="No inputs on elsewhere"):
        total_trade_thousands.kwargs[elsewhere]

    project = sy.Project(name="Trade study", description="Totals", members=[ada])
    project.create_code_request(total_trade_thousands, ada)
    project = project.send()
    assert isinstance(project, sy.service.project.project.Project), project
    project = ada.get_project(name="Trade study")
    assert len(project.events) == 1
    assert isinstance(project.events[0], sy.service.project.project.ProjectRequest)
    assert project.events[0].request.status == RequestStatus.PENDING
    assert sy.service.request.request.RequestStatus is RequestStatus
    with sy.raises(sy.SyftException):
        ada.code.total_trade_thousands(trade_data=trade)

    # --- the data owner reviews (02, hello syft) ------------------------------------------
    request = root.projects[0].requests[0]
    assert [type(c).__name__ for c in request.changes] == ["UserCodeStatusChange"]
    change = request.changes[0]
    assert change.id == request.id and change.code.service_func_name == "total_trade_thousands"
    assert "total_trade_thousands" in change.__repr_syft_nested__()
    assert request.current_change_state == {}  # nothing decided yet
    assert not change.applied
    assert len(request.code.assets[0].data_subjects) == 1
    assert isinstance(request.approve(), sy.SyftSuccess)
    assert request.current_change_state == {change.id: True} and change.applied
    assert isinstance(request.deny(reason="Add noise first."), sy.SyftSuccess)
    assert request.current_change_state == {change.id: False}
    request.approve()

    # --- the data scientist downloads the result (03) ------------------------------------
    real = ada.code.total_trade_thousands(trade_data=trade).get()
    assert real == sum(range(1, 11))
    ops = ada.code[-1].output_policy
    assert not ops.is_valid()
    assert ops.count() > 0

    # --- hello syft: the services, as tab completion finds them -------------------------
    assert ada.api.services is ada.services
    assert {"code", "dataset", "request", "project", "user"} <= set(dir(ada.services))
    assert {"services", "lib", "code"} <= set(dir(ada.api))
    assert "get_all" in dir(ada.api.code)
    listing = repr(ada.api)  # "List the available API"
    assert "\n  code: " in listing and "request_code_execution" in listing
    assert [c.service_func_name for c in ada.api.code.get_all()] == ["total_trade_thousands"]


def test_tab_completion_sees_the_services_in_a_kernel(node, root, uploaded):
    """In a real IPython kernel, completing ``client.services.``, ``client.api.`` and
    ``client.code.`` lists PySyft's services and your functions (jedi reads the live
    objects: they are attributes, not properties)."""
    import nbformat
    from nbclient import NotebookClient

    @sy.syft_function_single_use(data=root.datasets[0].assets[0])
    def mean_age(data):
        return float(data["age"].mean())

    root.code.request_code_execution(mean_age)

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import jupyter_syft as sy\n"
            f"client = sy.login(url={node.url!r}, email='info@openmined.org', "
            "password='changethis', verbose=False)"
        ),
        nbformat.v4.new_code_cell(
            "from IPython.core.completer import provisionalcompleter\n"
            "with provisionalcompleter():\n"
            "    for text in ['client.services.', 'client.api.', 'client.api.services.code.',\n"
            "                 'client.code.']:\n"
            "        found = {c.text for c in get_ipython().Completer.completions(text, len(text))}\n"
            "        print(text, sorted(found))"
        ),
    ]
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    lines = "".join(o.get("text", "") for o in nb.cells[1].outputs).splitlines()
    found = {line.split(" ", 1)[0]: line for line in lines}
    assert "'code'" in found["client.services."] and "'dataset'" in found["client.services."]
    assert "'services'" in found["client.api."] and "'code'" in found["client.api."]
    assert "'request_code_execution'" in found["client.api.services.code."]
    assert "'mean_age'" in found["client.code."] and "'get_all'" in found["client.code."]


def test_pysyft_module_paths_and_internals():
    assert sy.service.project.project.ProjectSubmit is sy.Project
    assert sy.service.user.user_roles.ServiceRole is sy.ServiceRole
    assert sy.service.response.SyftSuccess is sy.SyftSuccess
    assert "project" in dir(sy.service) and "Project" in dir(sy.service.project.project)
    with pytest.raises(AttributeError, match=r"syft\.service\.projects is PySyft's"):
        _ = sy.service.projects
    with pytest.raises(AttributeError, match=r"sy\.Nothing"):
        _ = sy.service.project.project.Nothing
    for name, says in [
        ("UID", "plain strings"),
        ("AuthedServiceContext", "sandbox"),
        ("ServerType", "Datasite"),
        ("TwinMode", "asset.mock"),
    ]:
        with pytest.raises(sy.SyftException, match=says):
            exec(f"from jupyter_syft import {name}", {})
    assert not hasattr(sy, "NotAName")  # other names stay plain AttributeErrors
