"""Account and permission holes (issue 11, items 1, 3, 4 and guest sessions of 8): nobody
changes an account of a higher role; owners can cut a scientist off; changing your own password
needs the current one; guest sessions are rate-limited and expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlmodel import select

import jupyter_syft as sy
from jupyter_syft.server import models
from tests.conftest import ROOT_EMAIL, ROOT_PASSWORD

DISABLED = "This account is disabled; ask the Datasite's owner."


def api(node, path):
    return f"{node.url}/syft/api/v1/{path}"


def auth(client):
    return {"Authorization": f"Bearer {client.connection.token}"}


@pytest.fixture
def owner(node, root):
    root.users.create(
        sy.UserCreate(email="do@example.org", name="Owner", password="pw-do", role="data_owner")
    )
    return sy.login(url=node.url, email="do@example.org", password="pw-do", verbose=False)


def _single_use(asset):
    @sy.syft_function_single_use(data=asset)
    def mean_age(data):
        return float(data["age"].mean())

    return mean_age


# --- 1. nobody changes an account of a higher role ---------------------------------------------
def test_a_data_owner_cannot_touch_the_admin(node, root, owner):
    admin_id = root.account.id
    for method, path, body in [
        ("post", f"users/{admin_id}/password", {"new_password": "taken-over"}),
        ("patch", f"users/{admin_id}", {"email": "mine@example.org"}),
        ("patch", f"users/{admin_id}", {"name": "Renamed"}),
        ("patch", f"users/{admin_id}", {"mock_execution_permission": True}),
        ("patch", f"users/{admin_id}", {"disabled": True}),
        ("delete", f"users/{admin_id}", None),
    ]:
        r = requests.request(method, api(node, path), json=body, headers=auth(owner), timeout=30)
        assert r.status_code == 403, (path, body, r.text)
        assert "higher role" in r.json()["detail"]
    again = sy.login(url=node.url, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
    assert again.account.name == root.account.name and again.account.email == ROOT_EMAIL


def test_a_data_owner_still_manages_scientists(node, owner, scientist):
    ds = owner.users["ds@example.org"]
    ds.update(institution="Lab")
    ds.set_password("reset-by-owner", confirm=False)
    assert sy.login(url=node.url, email="ds@example.org", password="reset-by-owner", verbose=False)


# --- 3a. a password change ends the account's other sessions -------------------------------------
def test_an_owner_reset_ends_the_scientists_sessions(node, root, scientist):
    assert requests.get(api(node, "users/me"), headers=auth(scientist), timeout=30).ok
    root.users["ds@example.org"].set_password("new-pw-by-owner", confirm=False)
    r = requests.get(api(node, "users/me"), headers=auth(scientist), timeout=30)
    assert r.status_code == 401
    assert root.users["ds@example.org"].email == "ds@example.org"  # the owner's session lives


def test_changing_your_password_ends_your_other_sessions_but_not_this_one(node, scientist):
    other = sy.login(url=node.url, email="ds@example.org", password="pw-ds-123", verbose=False)
    scientist.account.set_password("a-new-pw-456", confirm=False)
    assert requests.get(api(node, "users/me"), headers=auth(scientist), timeout=30).ok
    r = requests.get(api(node, "users/me"), headers=auth(other), timeout=30)
    assert r.status_code == 401


# --- 3b. owners can disable an account ---------------------------------------------------------
def test_a_disabled_account_is_cut_off_at_once_and_its_history_stays(
    node, root, scientist, uploaded
):
    asset = scientist.datasets[0].assets[0]
    scientist.code.request_code_execution(_single_use(asset), reason="mean")
    ds = root.users["ds@example.org"]

    result = ds.disable()
    assert isinstance(result, sy.SyftSuccess)
    assert root.users["ds@example.org"].disabled is True
    r = requests.get(api(node, "users/me"), headers=auth(scientist), timeout=30)
    assert r.status_code == 401 and r.json()["detail"] == DISABLED
    r = requests.post(
        api(node, "auth/login"),
        json={"email": "ds@example.org", "password": "pw-ds-123"},
        timeout=30,
    )
    assert r.status_code == 403 and r.json()["detail"] == DISABLED
    assert len(root.requests) == 1 and root.requests[0].code.service_func_name == "mean_age"

    root.users["ds@example.org"].enable()
    back = sy.login(url=node.url, email="ds@example.org", password="pw-ds-123", verbose=False)
    assert len(back.requests) == 1
    r = requests.get(api(node, "users/me"), headers=auth(scientist), timeout=30)
    assert r.status_code == 401  # the old session is not revived


def test_only_owners_disable_and_not_themselves(node, root, scientist):
    r = requests.patch(
        api(node, f"users/{scientist.account.id}"),
        json={"disabled": True},
        headers=auth(scientist),
        timeout=30,
    )
    assert r.status_code == 403
    r = requests.patch(
        api(node, f"users/{root.account.id}"), json={"disabled": True}, headers=auth(root)
    )
    assert r.status_code == 403 and "your own account" in r.json()["detail"]
    r = requests.patch(
        api(node, f"users/{scientist.account.id}"), json={"disabled": "yes"}, headers=auth(root)
    )
    assert r.status_code == 400


def test_deleting_a_scientist_with_history_says_disable_instead(node, root, scientist, uploaded):
    asset = scientist.datasets[0].assets[0]
    scientist.code.request_code_execution(_single_use(asset))
    r = requests.delete(api(node, f"users/{scientist.account.id}"), headers=auth(root))
    assert r.status_code == 409 and "disable" in r.json()["detail"].lower()
    # an account with no history can still be deleted
    root.users.create(sy.UserCreate(email="tmp@example.org", name="Tmp", password="pw"))
    tmp = root.users["tmp@example.org"]
    assert requests.delete(api(node, f"users/{tmp.id}"), headers=auth(root)).ok


def test_a_disabled_account_runs_no_queued_code(node, root, scientist, uploaded):
    from jupyter_syft.server.services.actor import Actor
    from jupyter_syft.server.services.errors import Forbidden

    asset = scientist.datasets[0].assets[0]
    scientist.code.request_code_execution(_single_use(asset))
    root.requests[0].approve()
    root.users["ds@example.org"].disable()
    with node.datasite.store.session() as session:
        user = session.exec(select(models.User).where(models.User.email == "ds@example.org")).one()
        code = session.exec(select(models.UserCode)).one()
    # A queued job runs as an Actor rebuilt from the user's row (no token involved).
    as_job = Actor(user.id, user.email, user.name, sy.ServiceRole(user.role))
    with pytest.raises(Forbidden, match="disabled"):
        node.datasite.services.code.run(as_job, code.id, {})


# --- 3c. a role change applies on the next call ------------------------------------------------
def test_demotion_to_guest_stops_the_old_token_running_approved_code(
    node, root, scientist, uploaded
):
    asset = scientist.datasets[0].assets[0]
    scientist.code.request_code_execution(_single_use(asset))
    root.requests[0].approve()
    root.users["ds@example.org"].update(role=sy.ServiceRole.GUEST)
    with pytest.raises(sy.SyftException, match="Guests cannot run code") as info:
        scientist.code.mean_age(data=asset)
    assert info.value.status == 403
    # promoted back, the same token runs it at once
    root.users["ds@example.org"].update(role=sy.ServiceRole.DATA_SCIENTIST)
    assert scientist.code.mean_age(data=asset).get() > 0


# --- 4. changing your own password needs the current one ----------------------------------------
@pytest.mark.parametrize("who", ["root", "scientist"])
def test_your_own_password_needs_the_current_one(node, root, scientist, who):
    client = {"root": root, "scientist": scientist}[who]
    path = api(node, f"users/{client.account.id}/password")
    r = requests.post(path, json={"new_password": "stolen-token"}, headers=auth(client))
    assert r.status_code == 400 and "current password" in r.json()["detail"]
    r = requests.post(
        path,
        json={"new_password": "stolen-token", "current_password": "a-guess"},
        headers=auth(client),
    )
    assert r.status_code == 403 and "current password is wrong" in r.json()["detail"]
    current = ROOT_PASSWORD if who == "root" else "pw-ds-123"
    r = requests.post(
        path, json={"new_password": "rightful", "current_password": current}, headers=auth(client)
    )
    assert r.ok
    email = ROOT_EMAIL if who == "root" else "ds@example.org"
    assert sy.login(url=node.url, email=email, password="rightful", verbose=False)


def test_guessing_the_current_password_is_rate_limited(node, scientist):
    path = api(node, f"users/{scientist.account.id}/password")
    statuses = [
        requests.post(
            path,
            json={"new_password": "x", "current_password": f"guess-{i}"},
            headers=auth(scientist),
        ).status_code
        for i in range(8)
    ]
    assert statuses[:5] == [403] * 5 and 429 in statuses[5:]


def test_the_client_sends_the_password_it_logged_in_with(node, scientist):
    scientist.account.set_password("first-change", confirm=False)
    scientist.account.set_password("second-change", confirm=False)  # remembers the new one
    assert sy.login(url=node.url, email="ds@example.org", password="second-change", verbose=False)


def test_the_client_asks_for_the_current_password_when_it_has_none(node, scientist, monkeypatch):
    scientist._password = None  # e.g. a client that did not log in with a password
    asked = []

    def answer(prompt=""):
        asked.append(prompt)
        return "pw-ds-123"

    monkeypatch.setattr("getpass.getpass", answer)
    scientist.account.set_password("after-prompt", confirm=False)
    assert asked == ["Current password: "]

    def no_tty(prompt=""):
        raise EOFError

    monkeypatch.setattr("getpass.getpass", no_tty)
    scientist._password = None
    with pytest.raises(sy.SyftException, match="current_password="):
        scientist.account.set_password("again", confirm=False)
    scientist.account.set_password("explicit", current_password="after-prompt", confirm=False)


# --- 8. guest sessions: rate-limited, and they expire --------------------------------------------
def test_guest_sessions_are_rate_limited_per_address(node):
    statuses = [requests.post(api(node, "auth/guest"), timeout=30) for _ in range(60)]
    codes = [r.status_code for r in statuses]
    assert codes[:30] == [201] * 30 and 429 in codes
    refused = next(r for r in statuses if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1 and "guest" in refused.json()["detail"]


def test_expired_guests_are_pruned_but_history_stays(node, root):
    root.settings.update(allow_guest_code_requests=True)
    auth_service = node.datasite.services.auth
    idle = requests.post(api(node, "auth/guest"), timeout=30).json()
    busy = requests.post(api(node, "auth/guest"), timeout=30).json()
    r = requests.post(
        api(node, "projects"),
        json={"name": "guest work", "description": ""},
        headers={"Authorization": f"Bearer {busy['token']}"},
        timeout=30,
    )
    assert r.status_code in (200, 201), r.text
    assert auth_service.prune_expired_guests() == 0  # nothing has expired yet

    long_ago = models.utcnow() - timedelta(hours=25)
    store = node.datasite.store
    with store.session() as session:
        for user_id in (idle["user"]["id"], busy["user"]["id"]):
            user = session.get(models.User, user_id)
            user.created_at = long_ago
            session.add(user)
            for token in session.exec(
                select(models.ApiToken).where(models.ApiToken.user_id == user_id)
            ):
                token.expires_at = long_ago
                session.add(token)
        session.commit()

    assert auth_service.prune_expired_guests() == 1
    with store.session() as session:
        assert session.get(models.User, idle["user"]["id"]) is None
        assert session.get(models.User, busy["user"]["id"]) is not None  # it has a project
        assert (
            session.exec(
                select(models.ApiToken).where(models.ApiToken.expires_at <= models.utcnow())
            ).all()
            == []
        )
    r = requests.get(
        api(node, "users/me"), headers={"Authorization": f"Bearer {idle['token']}"}, timeout=30
    )
    assert r.status_code == 401
