"""PySyft 0.9 names that tutorials reach (issue 14, items 8 and 9): paged dataset search,
``users.update(uid=...)``, and eager execution refused with the Syft-function way."""

from __future__ import annotations

import pytest

import jupyter_syft as sy


def test_dataset_search_pages_as_pysyft(root, scientist, frames):
    private, mock = frames
    for name in ("Trade CA", "Trade DE", "Trade FR", "Census"):
        dataset = sy.Dataset(name=name)
        dataset.add_asset(sy.Asset(name="t", data=private, mock=mock))
        root.upload_dataset(dataset, progress=False)
    assert [d.name for d in scientist.datasets.search("trade")] == [
        "Trade CA",
        "Trade DE",
        "Trade FR",
    ]
    page = scientist.datasets.search(name="trade", page_size=2, page_index=1)
    assert page.total == 3 and [d.name for d in page.datasets] == ["Trade FR"]
    assert len(scientist.datasets.search(name="trade", page_size=2, page_index=0)) == 2
    for bad in ({"page_size": 0}, {"page_size": 2, "page_index": -1}):
        with pytest.raises(sy.SyftException, match="page_"):
            scientist.datasets.search(name="trade", **bad)


def test_users_update_by_uid(root, scientist):
    uid = scientist.account.id
    root.users.update(uid=uid, institution="Caltech", role="DATA_SCIENTIST")
    assert root.users[scientist.email].institution == "Caltech"
    with pytest.raises(sy.SyftException, match="uid="):
        root.users.update(institution="x")
    with pytest.raises(sy.SyftException, match="what to change"):
        root.users.update(uid=uid)
    with pytest.raises(sy.SyftException):  # the Datasite's rule: nobody raises their own role
        scientist.users.update(uid=uid, role="ADMIN")


def test_eager_names_say_to_write_a_syft_function(root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]
    refusals = [
        lambda: asset.pointer,
        lambda: scientist.numpy,
        lambda: scientist.torch,
    ]
    for reach in refusals:
        with pytest.raises(sy.SyftException) as refused:
            reach()
        assert "eager execution" in str(refused.value)
        assert "@sy.syft_function_single_use" in str(refused.value)
    with pytest.raises(AttributeError, match="no attribute 'colour'"):
        _ = scientist.colour  # what a typo gives: a plain AttributeError

    @sy.syft_function_single_use(data=asset)
    def total(data):
        return int(data["age"].sum())

    request = scientist.code.request_code_execution(total)
    with pytest.raises(sy.SyftException, match=r"request\.approve\(\)"):
        root.requests[0].approve_with_client(root)
    root.requests[0].approve()
    pointer = scientist.code.total(data=asset)
    with pytest.raises(sy.SyftException, match="eager execution"):
        pointer.request(scientist)
    assert pointer.get() == int(uploaded[0]["age"].sum()) and request.id


def test_api_services_name_every_pysyft_method_with_our_docstrings(root, scientist, uploaded):
    from jupyter_syft.client.services import SERVICES

    services = root.api.services
    assert set(dir(services)) == set(SERVICES) and "dataset" in dir(root.services)
    for name, (_target, methods) in SERVICES.items():
        service = getattr(services, name)
        assert set(dir(service)) == set(methods)
        for method in methods:
            assert getattr(service, method) is not None, (name, method)
    # the tutorials' calls, answered by our collections
    assert len(root.api.services.dataset.get_all()) == 1
    assert root.api.services.user.get_current_user().email == root.email
    assert {u.email for u in root.api.services.user.get_all()} >= {scientist.email}
    assert root.api.services.settings.get().name == root.name
    assert "Datasets whose name" in (root.api.services.dataset.search.__doc__ or "")
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def rows(data):
        return len(data)

    request = scientist.api.services.code.request_code_execution(rows)
    assert root.api.services.request.get_by_id(request.id).id == request.id
    assert len(root.api.services.request.get_all_pending()) == 1
    with pytest.raises(AttributeError, match=r"has no method 'colour'.*get_all"):
        _ = root.api.services.dataset.colour
    with pytest.raises(AttributeError, match="no service 'colour'"):
        _ = root.api.services.colour
    with pytest.raises(sy.SyftException, match="sandboxed workers"):
        _ = root.api.services.worker
    assert "get_all_unread" in dir(root.api.services.notifications)
    with pytest.raises(sy.SyftException, match="eager execution"):
        _ = root.api.lib
