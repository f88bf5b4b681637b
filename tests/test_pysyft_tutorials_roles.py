"""PySyft 0.9's role tutorials (tutorials/data-owner, tutorials/data-scientist) in our own
words (issue 14): each test is a chain of steps on one Datasite, with the asserts those
tutorials make, on synthetic data of the same shape. What they reach that we added: an owner
setting someone's password with ``users.update(uid=, password=)``, the ``DatasetPageView``
name, and PySyft's gateways refused with the way to do it here."""

from __future__ import annotations

import enum
import inspect

import numpy as np
import pytest

import jupyter_syft as sy
from jupyter_syft import DatasetPageView, ServiceRole
from jupyter_syft.hosts.bootstrap import datasite_folder


def _login(node, email, password):
    return sy.login(url=node.url, email=email, password=password, verbose=False)


def test_owner_manages_accounts_and_sign_up(node, root):
    # An owner creates an account with keyword fields, finds it in the list, and views it.
    root.users.create(email="newcomer@example.org", name="Nora New", password="first-pw")
    users = root.users
    assert {u.email for u in users} == {"info@openmined.org", "newcomer@example.org"}
    newcomer = next(u for u in users if u.email == "newcomer@example.org")
    assert newcomer.role == ServiceRole.DATA_SCIENTIST
    before = _login(node, "newcomer@example.org", "first-pw")

    # One update sets a role and a password; the new password logs in, the old one does not,
    # and the session opened with the old one has ended.
    updated = root.users.update(
        uid=newcomer.id, role=ServiceRole.DATA_SCIENTIST, password="second-pw"
    )
    assert isinstance(updated, sy.SyftSuccess)
    assert updated.value.email == "newcomer@example.org"
    with pytest.raises(sy.SyftException, match=r"[Ww]rong email or password"):
        _login(node, "newcomer@example.org", "first-pw")
    with pytest.raises(sy.SyftException):
        before.datasets.get_all()
    ds_client = _login(node, "newcomer@example.org", "second-pw")
    assert ds_client.datasets.get_all() == []  # nothing uploaded yet: an empty result

    # Deleting the account takes it off the list.
    root.users.delete(newcomer.id)
    assert [u.email for u in root.users] == ["info@openmined.org"]

    # Sign-up: the owner may always register people; others only while sign-up is open.
    root.register(
        email="first@example.org", password="pw-first", password_verify="pw-first", name="First"
    )
    first = _login(node, "first@example.org", "pw-first")
    with pytest.raises(sy.SyftException, match="allow_guest_signup"):
        first.register(
            email="second@example.org", password="pw-2", password_verify="pw-2", name="Second"
        )
    root.settings.allow_guest_signup(enable=True)
    first.register(
        email="second@example.org", password="pw-2", password_verify="pw-2", name="Second"
    )
    root.settings.allow_guest_signup(enable=False)
    with pytest.raises(sy.SyftException, match="allow_guest_signup"):
        first.register(
            email="third@example.org", password="pw-3", password_verify="pw-3", name="Third"
        )
    root.register(email="fourth@example.org", password="pw-4", password_verify="pw-4", name="4th")
    assert {u.email for u in root.users} == {
        "info@openmined.org",
        "first@example.org",
        "second@example.org",
        "fourth@example.org",
    }


def test_password_through_update_is_an_owners_and_all_or_nothing(node, root, scientist):
    root.users.create(
        email="owner@example.org", name="Olga", password="pw-owner", role="DATA_OWNER"
    )
    owner = _login(node, "owner@example.org", "pw-owner")
    ds_id = scientist.account.id

    # Nobody sets their own password this way: it needs the current one.
    with pytest.raises(sy.SyftException, match="set_password"):
        scientist.users.update(uid=ds_id, password="mine-now")
    # A scientist cannot set another account's password.
    with pytest.raises(sy.SyftException):
        scientist.users.update(uid=owner.account.id, password="taken")
    # An owner cannot set the password of a higher account (the admin's).
    with pytest.raises(sy.SyftException, match="higher role"):
        owner.users.update(uid=root.account.id, password="taken")
    with pytest.raises(sy.SyftException, match="empty"):
        owner.users.update(uid=ds_id, password="")
    # A refused part refuses the whole update: the password has not changed either.
    with pytest.raises(sy.SyftException, match="higher than yours"):
        owner.users.update(uid=ds_id, password="half-done", role="ADMIN")
    assert _login(node, "ds@example.org", "pw-ds-123").account.role == ServiceRole.DATA_SCIENTIST
    with pytest.raises(sy.SyftException, match=r"[Ww]rong email or password"):
        _login(node, "ds@example.org", "half-done")

    owner.users.update(uid=ds_id, password="set-by-owner")
    assert _login(node, "ds@example.org", "set-by-owner").account.email == "ds@example.org"
    # The audit log names the change, never the password.
    events = list(root.audit.events(action="user.update"))
    assert events and "password" in events[0].detail["changes"]
    assert all("set-by-owner" not in repr(e) for e in events)


def test_dataset_search_gives_a_dataset_page_view(root, scientist):
    description = "### Contents\nArrays of three integers."
    dataset = sy.Dataset(
        name="small arrays",
        summary="Private and mock versions of three numbers",
        description=description,
        asset_list=[sy.Asset(name="numbers", data=np.array([4, 5, 6]), mock=np.array([0, 0, 0]))],
    )
    root.upload_dataset(dataset, progress=False)
    assert root.datasets["small arrays"].summary.startswith("Private and mock")
    page = scientist.datasets.search("small", page_size=1, page_index=0)
    assert isinstance(page, DatasetPageView) and isinstance(page, sy.DatasetPageView)
    assert [d.name for d in page.datasets] == ["small arrays"]
    assert page.total == 1


class _ServerType(enum.Enum):  # the shape of PySyft's ServerType
    DATASITE = "datasite"
    GATEWAY = "gateway"
    ENCLAVE = "enclave"


def test_gateways_are_refused_with_the_direct_way(node, root):
    for kind in ("gateway", "enclave", _ServerType.GATEWAY, "Gateway"):
        with pytest.raises(sy.SyftException, match=r"sy\.login") as refused:
            sy.orchestra.launch(name="not-a-gateway", server_type=kind, reset=True)
        assert "Datasites only" in str(refused.value)
    assert not datasite_folder("not-a-gateway").exists()  # nothing was started
    handle = sy.orchestra.launch(
        name="plain-datasite", server_type=_ServerType.DATASITE, reset=True, verbose=False
    )
    try:
        assert handle.server_type.value == "python"
    finally:
        handle.land()

    for reach in (
        lambda: sy.gateways,
        lambda: root.connect_to_gateway,
        lambda: root.exchange_route,
        lambda: root.api.services.network,
    ):
        with pytest.raises(sy.SyftException, match=r"[Gg]ateways"):
            reach()


def test_services_api_names_its_methods_with_signature_and_docs(root, scientist):
    services = root.api.services
    assert "user" in dir(services) and "user" in repr(services)
    user_service = services.user
    assert {"update", "get_all", "delete"} <= set(dir(user_service))
    update = user_service.update
    assert repr(update).startswith("<service method user.update(uid")  # not the user table
    assert "uid" in inspect.signature(update).parameters  # what Shift-Tab shows
    assert update.__doc__ and "uid" in update.__doc__  # what `?` shows
    update(uid=scientist.account.id, institution="Synthetic U")
    assert [u.institution for u in user_service.get_all() if u.email == "ds@example.org"] == [
        "Synthetic U"
    ]
