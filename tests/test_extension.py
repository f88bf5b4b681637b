"""The Datasite inside Jupyter Server: who may call what, through which routes.

A real ServerApp (pytest-jupyter) with the extension loaded and ``base_url`` "/a%40b/". The
JupyterLab user is the owner on the lab routes; data scientists use Datasite tokens on the
remote routes, where the Jupyter token counts for nothing.
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest
import tornado.web
from lab_config import extension_config

import jupyter_syft as sy
from jupyter_syft import local_session
from jupyter_syft.hosts.extension.handlers import datasite_routes

OWNER_EMAIL = "owner@lab.example"
OWNER_PASSWORD = "pw-owner-123"


@pytest.fixture
def store_url(request, tmp_path):
    """The extension's store: SQLite in the data folder, or PostgreSQL on the CI's second run."""
    if os.environ.get("JUPYTER_SYFT_TEST_DB") == "postgresql":
        # Not dropped after the test: Jupyter's cleanup stops the extension after this fixture's
        # teardown would run. The throwaway cluster goes at the end of the session anyway.
        cluster = request.getfixturevalue("postgres_cluster")
        return cluster.url(cluster.create_database())
    return ""


@pytest.fixture
def jp_server_config(tmp_path, store_url):
    return extension_config(
        tmp_path / "datasite",
        "lab-test",
        root_email=OWNER_EMAIL,
        root_password=OWNER_PASSWORD,
        db_url=store_url,
    )


@pytest.fixture
def lab_url(jp_serverapp, http_server_client, jp_http_port, jp_base_url):
    # http_server_client: the fixture that makes the server answer on jp_http_port
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


def _json(response):
    return json.loads(response.body)


async def _status(jp_fetch, *parts, **kwargs) -> int:
    response = await jp_fetch(*parts, raise_error=False, **kwargs)
    return response.code


async def _scientist_token(jp_fetch) -> str:
    await jp_fetch(
        "syft", "lab", "api", "v1", "users",
        method="POST",
        body=json.dumps({"email": "ds@lab.example", "name": "Dee", "password": "pw-ds-123"}),
    )  # fmt: skip
    answer = await jp_fetch(
        "syft", "api", "v1", "auth", "login",
        method="POST",
        body=json.dumps({"email": "ds@lab.example", "password": "pw-ds-123"}),
        headers={"Authorization": ""},
    )  # fmt: skip
    return _json(answer)["token"]


async def test_jupyter_user_is_the_datasite_owner_on_lab_routes(jp_fetch):
    me = _json(await jp_fetch("syft", "lab", "api", "v1", "users", "me"))
    assert me["email"] == OWNER_EMAIL
    assert me["role"] in ("ADMIN", sy.ServiceRole.ADMIN.name)
    # Writes work with the Jupyter token (Jupyter skips XSRF for token-authenticated calls).
    settings = await jp_fetch(
        "syft", "lab", "api", "v1", "settings",
        method="PATCH", body=json.dumps({"signup_enabled": True}),
    )  # fmt: skip
    assert _json(settings)["signup_enabled"] is True


async def test_lab_routes_refuse_callers_without_jupyter_login(jp_fetch):
    assert await _status(jp_fetch, "syft", "lab", "api", "v1", "users", "me",
                         headers={"Authorization": ""}) == 403  # fmt: skip
    token = await _scientist_token(jp_fetch)
    # A Datasite token is not a Jupyter login: it does not make a scientist the owner.
    assert await _status(jp_fetch, "syft", "lab", "api", "v1", "users", "me",
                         headers={"Authorization": f"Bearer {token}"}) == 403  # fmt: skip
    assert await _status(jp_fetch, "syft", "lab", "api", "v1", "settings", method="PATCH",
                         body="{}", headers={"Authorization": f"Bearer {token}"}) == 403  # fmt: skip


async def test_datasite_token_acts_as_its_user_on_remote_routes(jp_fetch):
    token = await _scientist_token(jp_fetch)
    me = _json(
        await jp_fetch("syft", "api", "v1", "users", "me",
                       headers={"Authorization": f"Bearer {token}"})
    )  # fmt: skip
    assert me["email"] == "ds@lab.example"
    assert me["role"] == "DATA_SCIENTIST"
    # Owner-only actions stay owner-only, whatever host serves them.
    refused = await jp_fetch("syft", "api", "v1", "settings", method="PATCH", body="{}",
                             headers={"Authorization": f"Bearer {token}"}, raise_error=False)  # fmt: skip
    assert refused.code == 403
    assert "Only data owners" in _json(refused)["detail"]


async def test_jupyter_token_alone_cannot_act_on_the_datasite(jp_fetch):
    # jp_fetch sends "Authorization: token <jupyter token>" by default.
    response = await jp_fetch("syft", "api", "v1", "users", "me", raise_error=False)
    assert response.code == 401
    assert "log in again" in _json(response)["detail"]
    assert await _status(jp_fetch, "syft", "api", "v1", "users", method="POST",
                         body=json.dumps({"email": "x@y.z", "password": "pw-x-12345"})) == 401  # fmt: skip


@pytest.mark.parametrize(
    "path", [("api", "contents"), ("api", "kernels"), ("api", "terminals"), ("api", "sessions")]
)
async def test_datasite_token_cannot_reach_jupyter_apis(jp_fetch, path):
    token = await _scientist_token(jp_fetch)
    status = await _status(jp_fetch, *path, headers={"Authorization": f"Bearer {token}"})
    assert status == 403
    assert await _status(jp_fetch, *path) == 200  # the Jupyter token does


async def test_token_less_writes_need_xsrf_but_log_in_does_not(jp_fetch):
    response = await jp_fetch("syft", "api", "v1", "requests", method="POST", body="{}",
                              headers={"Authorization": ""}, raise_error=False)  # fmt: skip
    assert response.code == 403
    assert "xsrf" in response.body.decode().lower()
    bad_login = await jp_fetch("syft", "api", "v1", "auth", "login", method="POST",
                               body=json.dumps({"email": OWNER_EMAIL, "password": "nope"}),
                               headers={"Authorization": ""}, raise_error=False)  # fmt: skip
    assert bad_login.code == 401
    assert _json(bad_login) == {"error": "unauthorized", "detail": "Wrong email or password."}


async def test_unknown_datasite_routes_answer_json_404(jp_fetch):
    response = await jp_fetch("syft", "api", "v1", "no", "such", "thing", raise_error=False)
    assert response.code == 404
    assert "No such Datasite route" in _json(response)["detail"]


def test_every_route_is_deliberately_authenticated(jp_serverapp, jp_web_app):
    """As the extension template's check_auth: no verb is left to Jupyter's default."""
    datasite = jp_serverapp.web_app.settings["jupyter_syft_datasite"]
    routes = datasite_routes(datasite)
    try:
        from jupyter_syft.hosts.extension.remotes import remote_routes

        routes += remote_routes()
    except ImportError:
        pass
    for pattern, handler, *_ in routes:
        assert jp_web_app._check_handler_auth(pattern, handler) == [], pattern
    lab = [h for p, h, *_ in routes if p.startswith("syft/lab/api/")]
    remote = [h for p, h, *_ in routes if p.startswith("syft/api/")]
    assert len(lab) >= 30 and len(remote) >= 30
    for handler in lab:  # owner routes: only ever with Jupyter's login
        for verb in ("get", "post", "patch", "delete"):
            method = getattr(handler, verb)
            if method is not tornado.web.RequestHandler._unimplemented_method:
                assert not hasattr(method, "__allow_unauthenticated"), (handler, verb)


async def test_sy_login_finds_the_datasite_under_the_base_url(jp_fetch, lab_url):
    await _scientist_token(jp_fetch)  # creates the account

    def remote_session() -> tuple:
        # The Python client is synchronous: it runs in a thread while the server serves.
        client = sy.login(url=lab_url, email="ds@lab.example", password="pw-ds-123", verbose=False)
        owner = sy.login(url=lab_url, email=OWNER_EMAIL, password=OWNER_PASSWORD, verbose=False)
        dataset = sy.Dataset(name="Lab <b>data</b>")
        dataset.add_asset(sy.Asset(name="numbers", data=[1, 2, 3], mock=[0, 0, 0]))
        owner.upload_dataset(dataset)
        asset = client.datasets[0].assets[0]
        return client.name, client.account.email, asset.mock

    name, email, mock = await asyncio.to_thread(remote_session)
    assert (name, email, mock) == ("lab-test", "ds@lab.example", [0, 0, 0])
    listed = _json(await jp_fetch("syft", "lab", "api", "v1", "datasets"))["items"]
    assert [d["name"] for d in listed] == ["Lab <b>data</b>"]


async def test_login_local_connects_as_owner_without_credentials(lab_url):
    for _ in range(100):
        if os.environ.get(local_session.ENV_VAR):
            break
        await asyncio.sleep(0.05)
    path = os.environ[local_session.ENV_VAR]
    assert os.stat(path).st_mode & 0o077 == 0  # the file holds an owner token

    def local_session_owner() -> tuple[str, str]:
        client = sy.login_local(verbose=False)
        return client.account.email, client.name

    assert await asyncio.to_thread(local_session_owner) == (OWNER_EMAIL, "lab-test")

    def local_session_as_scientist() -> str:
        owner = sy.login_local(verbose=False)
        owner.users.create(sy.UserCreate(email="ds2@lab.example", name="D", password="pw-ds2-123"))
        return sy.login_local(
            email="ds2@lab.example", password="pw-ds2-123", verbose=False
        ).account.email

    assert await asyncio.to_thread(local_session_as_scientist) == "ds2@lab.example"


async def test_kernel_started_by_jupyter_logs_in_locally(jp_serverapp, jp_fetch):
    for _ in range(100):
        if os.environ.get(local_session.ENV_VAR):
            break
        await asyncio.sleep(0.05)
    started = _json(await jp_fetch("api", "kernels", method="POST", body="{}"))
    manager = jp_serverapp.kernel_manager.get_kernel(started["id"])
    kernel = manager.client()
    kernel.start_channels()
    try:
        await kernel.wait_for_ready(timeout=60)
        code = (
            "import jupyter_syft as sy\n"
            "c = sy.login_local(verbose=False)\n"
            "print('as', c.account.email, c.account.role)"
        )
        msg_id = kernel.execute(code)
        output = []
        while True:
            msg = await kernel.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                output.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                output.append("\n".join(msg["content"]["traceback"]))
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        assert f"as {OWNER_EMAIL} ServiceRole.ADMIN" in "".join(output), output
    finally:
        kernel.stop_channels()
        await jp_serverapp.kernel_manager.shutdown_kernel(started["id"], now=True)


def test_login_local_outside_jupyter_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delenv(local_session.ENV_VAR, raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(sy.SyftException, match=r"sy.login\(url="):
        sy.login_local()


def test_installing_the_package_enables_the_extension():
    """pip installs jupyter-config/server-config/jupyter_syft.json into the environment."""
    import subprocess
    import sys

    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"},
    )
    text = listing.stdout + listing.stderr
    assert "jupyter_syft" in text and "enabled" in text.split("jupyter_syft", 1)[1][:40], text
    assert f"jupyter_syft {sy.__version__} OK" in text.replace("\x1b[32m", "").replace(
        "\x1b[0m", ""
    ), text


def test_the_store_is_the_configured_one(jp_serverapp, store_url, tmp_path):
    datasite = jp_serverapp.web_app.settings["jupyter_syft_datasite"]
    backend = datasite.store.engine.url.get_backend_name()
    assert backend == ("postgresql" if store_url else "sqlite")
    assert datasite.data_dir == tmp_path / "datasite"
