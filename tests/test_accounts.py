"""Accounts: root account, login, guests, sign-up, users, settings, roles."""

import pytest
import requests

import jupyter_syft as sy
from jupyter_syft import ServiceRole, UserCreate
from tests.conftest import ROOT_EMAIL, ROOT_PASSWORD


def test_root_login_warns_about_the_default_password(node, capsys):
    client = sy.login(url="localhost", port=node.port, email=ROOT_EMAIL, password=ROOT_PASSWORD)
    out = capsys.readouterr().out
    assert f"as <{ROOT_EMAIL}>" in out
    assert "default password" in out and "set_password" in out
    assert client.role == ServiceRole.ADMIN

    client.account.set_password("a-better-one", confirm=False)
    sy.login(url=node.url, email=ROOT_EMAIL, password="a-better-one")
    assert "default password" not in capsys.readouterr().out
    with pytest.raises(sy.SyftException, match="Wrong email or password"):
        sy.login(url=node.url, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)


def test_url_may_carry_the_port(node):
    client = sy.login(
        url=f"localhost:{node.port}", email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False
    )
    assert client.email == ROOT_EMAIL
    client = sy.login(
        url=f"http://127.0.0.1:{node.port}/",
        email=ROOT_EMAIL,
        password=ROOT_PASSWORD,
        verbose=False,
    )
    assert client.email == ROOT_EMAIL


def test_wrong_password_is_rate_limited(node):
    for _ in range(5):
        with pytest.raises(sy.SyftException, match="Wrong email or password"):
            sy.login(url=node.url, email=ROOT_EMAIL, password="nope", verbose=False)
    with pytest.raises(sy.SyftException, match="Too many failed logins") as info:
        sy.login(url=node.url, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
    assert info.value.status == 429


def test_missing_password_without_a_terminal_is_a_clear_error(node, monkeypatch):
    def no_tty(prompt=""):
        raise EOFError

    monkeypatch.setattr("getpass.getpass", no_tty)
    with pytest.raises(sy.SyftException, match="pass password="):
        sy.login(url=node.url, email=ROOT_EMAIL)


def test_guest_signup_is_off_until_enabled(node, root):
    guest = sy.login_as_guest(url="localhost", port=node.port, verbose=False)
    with pytest.raises(sy.SyftException, match="allow_guest_signup") as info:
        guest.register(email="new@example.org", name="New", password="123", password_verify="123")
    assert info.value.status == 403

    result = root.settings.allow_guest_signup(enable=True)
    assert isinstance(result, sy.SyftSuccess) and "enabled" in result.message
    guest.register(email="new@example.org", name="New", password="123", password_verify="123")
    ds = sy.login(url=node.url, email="new@example.org", password="123", verbose=False)
    assert ds.role == ServiceRole.DATA_SCIENTIST

    with pytest.raises(sy.SyftException, match="do not match"):
        guest.register(email="other@example.org", name="O", password="123", password_verify="124")
    with pytest.raises(sy.SyftException, match="already exists"):
        guest.register(email="NEW@example.org", name="Again", password="x")


def test_an_admin_may_always_register_users(node, root):
    root.register(
        email="ds2@example.org", password="123", password_verify="123", name="Curious Scientist"
    )
    assert root.users.search(email="ds2@example.org")[0].role == ServiceRole.DATA_SCIENTIST


def test_users_create_list_index_search_update(node, root):
    bob = root.users.create(
        UserCreate(
            email="bob@security.edu",
            name="Bob Science",
            role=ServiceRole.DATA_SCIENTIST,
            password="abc123",
            password_verify="abc123",
            institution="Security Institute",
            website="security.edu",
        )
    )
    assert bob.role == ServiceRole.DATA_SCIENTIST and bob.institution == "Security Institute"
    users = root.users
    assert len(users) == 2 and users[1].email == "bob@security.edu"
    assert users["bob@security.edu"].name == "Bob Science"
    assert [u.email for u in users.search(name="bob")] == ["bob@security.edu"]

    result = root.users[1].allow_mock_execution()
    assert result.message == "User details successfully updated."
    assert root.users[1].mock_execution_permission is True
    root.users[1].update(name="Robert", institution="Elsewhere")
    assert root.users[1].name == "Robert"


def test_scientist_cannot_manage_the_datasite(node, root, scientist):
    for attempt, match in [
        (
            lambda: scientist.users.create(UserCreate(email="x@y.z", name="x", password="p")),
            "Only data owners",
        ),
        (lambda: scientist.settings.update(name="mine"), "Only data owners"),
        (lambda: scientist.settings.allow_guest_signup(enable=True), "Only data owners"),
        (lambda: scientist.account.update(role=ServiceRole.ADMIN), "Only data owners"),
        (lambda: scientist.account.allow_mock_execution(), "Only data owners"),
    ]:
        with pytest.raises(sy.SyftException, match=match) as info:
            attempt()
        assert info.value.status == 403
    # a scientist sees only their own account
    assert [u.email for u in scientist.users] == ["ds@example.org"]
    root_id = root.account.id
    r = requests.get(f"{node.url}/syft/api/v1/users/{root_id}", headers=_auth(scientist))
    assert r.status_code == 404
    # ...and may change their own profile
    scientist.account.update(name="Dana S.")
    assert scientist.account.name == "Dana S."


def test_roles_cannot_be_escalated(node, root):
    owner = root.users.create(
        UserCreate(email="do@example.org", name="Owner", password="pw", role="data_owner")
    )
    assert owner.role == ServiceRole.DATA_OWNER
    do = sy.login(url=node.url, email="do@example.org", password="pw", verbose=False)
    with pytest.raises(sy.SyftException, match="higher role"):
        do.users.create(
            UserCreate(email="admin2@example.org", name="A", password="pw", role=ServiceRole.ADMIN)
        )
    with pytest.raises(sy.SyftException, match="own role"):
        do.account.update(role=ServiceRole.ADMIN)
    with pytest.raises(sy.SyftException, match="higher role"):
        do.users[ROOT_EMAIL].update(role=ServiceRole.DATA_SCIENTIST)


def test_settings_get_and_update(root):
    root.settings.update(organization="OpenMined", description="Demo")
    settings = root.settings.get()
    assert settings.organization == "OpenMined" and settings.signup_enabled is False
    with pytest.raises(sy.SyftException, match="Unknown setting 'colour'"):
        root.settings.update(colour="blue")
    with pytest.raises(sy.SyftException, match="True or False"):
        root.settings.update(signup_enabled="yes")


def test_tokens_are_stored_hashed_and_expire(node, root):
    from sqlmodel import select

    from jupyter_syft.server import models

    token = root.connection.token
    store = node.datasite.store
    with store.session() as session:
        rows = session.exec(select(models.ApiToken)).all()
        assert rows and all(token not in (r.token_hash,) for r in rows)
        for row in rows:
            row.expires_at = models.utcnow()
            session.add(row)
        session.commit()
    with pytest.raises(sy.SyftException, match="expired") as info:
        root.users
    assert info.value.status == 401


def test_passwords_are_argon2_hashed(node, root):
    from sqlmodel import select

    from jupyter_syft.server import models

    with node.datasite.store.session() as session:
        user = session.exec(select(models.User)).first()
    assert user.password_hash.startswith("$argon2id$") and ROOT_PASSWORD not in user.password_hash


def test_a_bad_token_is_refused(node):
    r = requests.get(f"{node.url}/syft/api/v1/users", headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = requests.get(f"{node.url}/syft/api/v1/users", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


def test_logout_invalidates_the_token(node, root):
    token = root.connection.token
    root.logout()
    r = requests.get(f"{node.url}/syft/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def _auth(client):
    return {"Authorization": f"Bearer {client.connection.token}"}


def test_hashes_with_old_parameters_are_upgraded_on_login(node, root):
    from argon2 import PasswordHasher
    from sqlmodel import select

    from jupyter_syft.server import models

    store = node.datasite.store
    with store.session() as session:
        user = session.exec(select(models.User)).first()
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(
            ROOT_PASSWORD
        )
        session.add(user)
        session.commit()
    sy.login(url=node.url, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
    with store.session() as session:
        user = session.exec(select(models.User)).first()
    assert "m=19456,t=2,p=1" in user.password_hash


def test_me_is_the_same_account_as_users_get(node, root, scientist):
    """``users/me`` reads its row without the ORM: every field as ``users/{id}`` gives it,
    after a change, for an owner and a scientist; without a session it is null."""
    root.users.update(scientist.account.id, institution="Lab \u2713", website="https://lab.example")
    for client in (root, scientist):
        connection = client.session.api.connection
        me = connection.get("users/me")
        assert me == connection.get(f"users/{me['id']}")
        assert me["created_at"] and me["role"] in ("ADMIN", "DATA_SCIENTIST")
    assert me["institution"] == "Lab \u2713" and me["disabled"] is False
    assert requests.get(f"{node.url}/syft/api/v1/users/me", timeout=10).json() is None
