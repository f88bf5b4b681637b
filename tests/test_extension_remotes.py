"""Remote Datasites through the server extension: the sidebar logs in as a data scientist.

A real ServerApp (pytest-jupyter, base_url "/a%40b/") with the extension, and a real standalone
Datasite (``node``, ``scientist`` from conftest) on another loopback port.
"""

from __future__ import annotations

import json
import logging
import socket

import pytest
import requests
from lab_config import extension_config

from jupyter_syft.hosts.extension.remotes import (
    SETTINGS_KEY,
    RemoteError,
    api_path,
    normalize_url,
    remote_routes,
)

DS_EMAIL, DS_PASSWORD = "ds@example.org", "pw-ds-123"  # conftest's ``scientist``


@pytest.fixture
def jp_server_config(tmp_path):
    return extension_config(
        tmp_path / "lab-datasite", "lab-remotes-test", root_password="pw-lab-owner-1"
    )


def _json(response):
    return json.loads(response.body)


async def _post(jp_fetch, *parts, body, **kwargs):
    return await jp_fetch(*parts, method="POST", body=json.dumps(body), **kwargs)


async def _connect(jp_fetch, node, password=DS_PASSWORD, email=DS_EMAIL, raise_error=True):
    return await _post(
        jp_fetch,
        "syft",
        "lab",
        "remotes",
        body={"url": node.url, "email": email, "password": password},
        raise_error=raise_error,
    )


def _me_url(node) -> str:
    return node.url.rstrip("/") + "/syft/api/v1/users/me"


def _registry(jp_serverapp):
    return jp_serverapp.web_app.settings[SETTINGS_KEY]


async def test_connect_proxy_and_disconnect(jp_fetch, jp_serverapp, node, scientist, caplog):
    caplog.set_level(logging.DEBUG)
    response = await _connect(jp_fetch, node)
    assert response.code == 201
    remote = _json(response)
    assert set(remote) == {"id", "url", "email", "name", "role"}  # no token, no password
    assert remote["email"] == DS_EMAIL and remote["role"] == "DATA_SCIENTIST"
    assert remote["name"] == node.name
    assert DS_PASSWORD not in response.body.decode()

    listed = _json(await jp_fetch("syft", "lab", "remotes"))
    assert listed == [remote]

    # The proxy acts as the scientist on the remote Datasite.
    api = ("syft", "lab", "remotes", remote["id"], "api", "v1")
    me = _json(await jp_fetch(*api, "users", "me"))
    assert me["email"] == DS_EMAIL
    assert _json(await jp_fetch(*api, "datasets"))["items"] == []
    created = await _post(jp_fetch, *api, "projects", body={"name": "Ages", "description": "d"})
    assert created.code == 201
    projects = _json(await jp_fetch(*api, "projects", params={"limit": "1"}))["items"]
    assert [p["name"] for p in projects] == ["Ages"]  # the page's query reaches the remote
    pending = _json(await jp_fetch(*api, "requests", params={"status": "pending"}))
    assert pending["items"] == []
    # The remote's own errors come through with its status and detail.
    refused = await jp_fetch(*api, "settings", method="PATCH", body="{}", raise_error=False)
    assert refused.code == 403
    assert _json(refused)["detail"]

    # Logging out ends the session on the remote Datasite too.
    token = _registry(jp_serverapp).get(remote["id"]).token
    assert requests.get(_me_url(node), headers={"Authorization": f"Bearer {token}"}).ok
    assert _json(await jp_fetch("syft", "lab", "remotes", remote["id"], method="DELETE")) == {
        "ok": True
    }
    assert (
        requests.get(_me_url(node), headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    assert _json(await jp_fetch("syft", "lab", "remotes")) == []
    gone = await jp_fetch(*api, "users", "me", raise_error=False)
    assert gone.code == 404 and "connect again" in _json(gone)["detail"]

    # Nothing secret reached the log.
    assert DS_PASSWORD not in caplog.text and token not in caplog.text


async def test_wrong_password_is_refused_with_the_remote_detail(jp_fetch, node, scientist):
    response = await _connect(jp_fetch, node, password="not-it", raise_error=False)
    assert response.code == 401
    body = _json(response)
    assert body["detail"] == "Wrong email or password."
    assert "not-it" not in response.body.decode()
    assert _json(await jp_fetch("syft", "lab", "remotes")) == []


async def test_connecting_again_keeps_the_id_and_ends_the_old_session(
    jp_fetch, jp_serverapp, node, scientist
):
    first = _json(await _connect(jp_fetch, node))
    old_token = _registry(jp_serverapp).get(first["id"]).token
    second = _json(await _connect(jp_fetch, node))
    assert second["id"] == first["id"]
    assert len(_json(await jp_fetch("syft", "lab", "remotes"))) == 1
    check = requests.get(_me_url(node), headers={"Authorization": f"Bearer {old_token}"})
    assert check.status_code == 401


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("file:///etc/passwd", "Only http:// and https://"),
        ("javascript:alert(1)", "is not a Datasite address"),
        ("", "Give the remote Datasite's address"),
        ("http://user:pw@127.0.0.1:1/", "without credentials"),
    ],
)
async def test_bad_addresses_are_refused(jp_fetch, url, detail):
    response = await _post(
        jp_fetch,
        "syft",
        "lab",
        "remotes",
        body={"url": url, "email": "a@b.c", "password": "x"},
        raise_error=False,
    )
    assert response.code == 400
    assert detail in _json(response)["detail"]


async def test_unreachable_datasite_says_so(jp_fetch):
    response = await _post(
        jp_fetch,
        "syft",
        "lab",
        "remotes",
        body={"url": f"http://127.0.0.1:{_free_port()}", "email": "a@b.c", "password": "x"},
        raise_error=False,
    )
    assert response.code == 400
    body = _json(response)
    assert body["error"] == "unreachable"
    assert "Could not reach a Datasite at http://127.0.0.1:" in body["detail"]


async def test_missing_fields_are_refused(jp_fetch, node):
    for body, detail in (
        ({"url": node.url, "password": "x"}, "email"),
        ({"url": node.url, "email": "a@b.c"}, "password"),
    ):
        response = await _post(jp_fetch, "syft", "lab", "remotes", body=body, raise_error=False)
        assert response.code == 400
        assert detail in _json(response)["detail"]
    not_json = await jp_fetch(
        "syft", "lab", "remotes", method="POST", body="nope", raise_error=False
    )
    assert not_json.code == 400 and _json(not_json)["error"] == "bad_request"


async def test_proxy_passes_json_only_and_stays_under_the_api(jp_fetch, node, scientist, uploaded):
    remote = _json(await _connect(jp_fetch, node))
    api = ("syft", "lab", "remotes", remote["id"], "api", "v1")
    datasets = _json(await jp_fetch(*api, "datasets"))["items"]
    asset_id = datasets[0]["assets"][0]["id"]
    # By name, with a space in it: the path is re-encoded for the remote.
    assert _json(await jp_fetch(*api, "datasets", "Patients"))["name"] == "Patients"
    # A raw value is binary: never served from the JupyterLab origin.
    raw = await jp_fetch(*api, "assets", asset_id, "mock", raise_error=False)
    assert raw.code == 415
    assert "Python client" in _json(raw)["detail"]
    # The private value stays private for the scientist.
    private = await jp_fetch(*api, "assets", asset_id, "data", raise_error=False)
    assert private.code == 403
    for bad in ("..%2Fmetadata", "a/../b", "a//b"):
        response = await jp_fetch(*api, bad, raise_error=False)  # jp_fetch joins parts with "/"
        assert response.code in (400, 404), bad


async def test_every_remote_route_needs_the_jupyter_login(jp_fetch, node, scientist):
    remote = _json(await _connect(jp_fetch, node))
    anonymous = {"Authorization": ""}
    for parts, method in (
        (("syft", "lab", "remotes"), "GET"),
        (("syft", "lab", "remotes"), "POST"),
        (("syft", "lab", "remotes", remote["id"]), "DELETE"),
        (("syft", "lab", "remotes", remote["id"], "api", "v1", "users", "me"), "GET"),
        (("syft", "lab", "remotes", remote["id"], "api", "v1", "projects"), "POST"),
    ):
        response = await jp_fetch(
            *parts,
            method=method,
            body="{}" if method == "POST" else None,
            headers=anonymous,
            raise_error=False,
        )
        assert response.code == 403, (parts, method)
    assert len(_json(await jp_fetch("syft", "lab", "remotes"))) == 1


def test_every_remote_handler_verb_is_authenticated():
    for _pattern, handler in remote_routes():
        for verb in ("get", "post", "patch", "delete"):
            method = handler.__dict__.get(verb)
            if method is not None:
                assert getattr(method, "__wrapped__", None) is not None, (handler, verb)
    assert [p for p, _h in remote_routes()] == [
        "syft/lab/remotes",
        "syft/lab/remotes/([0-9a-f]{16})",
        "syft/lab/remotes/([0-9a-f]{16})/api/v1/events",  # the push channel, relayed
        "syft/lab/remotes/([0-9a-f]{16})/api/v1/(.*)",
    ]


def test_normalize_url_and_api_path():
    assert normalize_url("localhost:8080") == "http://127.0.0.1:8080/"
    assert normalize_url(" https://ds.example.org/base ") == "https://ds.example.org/base/"
    with pytest.raises(RemoteError):
        normalize_url("ftp://ds.example.org")
    with pytest.raises(RemoteError):
        normalize_url("http://ds.example.org/?q=1")
    assert api_path("datasets/Breast Cancer Wisconsin") == "datasets/Breast%20Cancer%20Wisconsin"
    assert api_path("requests/abc/approve") == "requests/abc/approve"
    for bad in ("", "a/../b", "../x", "a//b", "a\\b"):
        with pytest.raises(RemoteError):
            api_path(bad)
