"""Hostile and malformed input gets a 4xx that says what was wrong, never a 500 or a hang.

Issue 11: body limits applied before a body is read (item 7), every user text capped and never
echoed whole (item 8), values that cannot be decoded refused at upload and answered with a 4xx
wherever they are read (item 15), and the inputs that used to give 500s (item 16).
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading

import pandas as pd
import pytest
import requests
from lab_config import extension_config

import jupyter_syft as sy
from jupyter_syft import serde
from jupyter_syft.server.services import limits

API = "/syft/api/v1/"


# --- helpers ----------------------------------------------------------------------------------
def raw_request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 exchange on a raw socket, so headers can lie about the body.

    Reads the first response only; a server that waits for a body it should refuse times out
    here (socket.timeout), which fails the test.
    """
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        got = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        length = int(got.get("content-length", "0"))
        while len(rest) < length:
            piece = sock.recv(65536)
            if not piece:
                break
            rest += piece
    return int(status_line.split()[1]), got, rest[:length]


def bearer(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.connection.token}"}


def call(node, method, path, headers=None, **kwargs) -> requests.Response:
    return requests.request(method, node.url + API + path, headers=headers, timeout=30, **kwargs)


def assert_4xx(response: requests.Response, status: int | tuple[int, ...] = 400) -> str:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    return body["detail"]


def assert_alive(node) -> None:
    assert requests.get(node.url + API + "metadata", timeout=10).status_code == 200


@pytest.fixture
def guest_headers(node):
    answer = requests.post(node.url + API + "auth/guest", timeout=10)
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture
def code_id(node, scientist):
    answer = call(node, "POST", "code", bearer(scientist), json=_code_payload("probe"))
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _code_payload(name: str, raw: str | None = None, **extra) -> dict:
    raw = raw if raw is not None else f"def {name}(data):\n    return 1\n"
    return {"name": name, "raw_code": raw, **extra}


# --- item 7: body limits, before the body is read ---------------------------------------------
def test_anonymous_login_over_the_limit_is_refused_before_its_body_is_read(node):
    # Only the headers are sent: the 413 must come without the server waiting for 2 MB.
    status, headers, body = raw_request(
        node.port,
        "POST",
        API + "auth/login",
        {"Content-Length": str(2 << 20), "Content-Type": "application/json"},
    )
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    answer = json.loads(body)
    assert answer["error"] == "payload_too_large"
    assert str(limits.ANONYMOUS_JSON_BODY) in answer["detail"] and "log in" in answer["detail"]
    assert_alive(node)


def test_many_concurrent_big_anonymous_bodies_are_all_refused_unread(node):
    results: list[int] = []

    def one() -> None:
        status, _, _ = raw_request(
            node.port, "POST", API + "auth/login", {"Content-Length": str(15 << 20)}
        )
        results.append(status)

    threads = [threading.Thread(target=one) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [413] * 40
    assert_alive(node)


def test_a_real_oversized_body_is_refused_and_the_server_stays_fine(node, root):
    try:
        answer = call(node, "POST", "auth/login", data=b'{"email": "' + b"a" * (2 << 20) + b'"}')
        assert answer.status_code == 413
    except requests.RequestException:  # reset while the client was still sending
        pass
    # a chunked body (no Content-Length) is bounded while it arrives
    chunks = (b"x" * 4096 for _ in range(64))
    try:
        answer = call(node, "POST", "auth/login", data=chunks)
        assert answer.status_code in (400, 413)
    except requests.RequestException:  # reset while the client was still sending
        pass
    assert_alive(node)
    assert root.connection.get("users/me")["email"] == "info@openmined.org"


def test_authenticated_json_bodies_have_their_own_limits(node, scientist, code_id):
    headers = {**bearer(scientist), "Content-Length": str(limits.JSON_BODY + 1)}
    status, _, body = raw_request(node.port, "POST", API + "projects", headers)
    assert status == 413 and str(limits.JSON_BODY) in json.loads(body)["detail"]
    # routes that carry values inline take more, up to their own limit
    headers["Content-Length"] = str(limits.VALUE_JSON_BODY + 1)
    status, _, _ = raw_request(node.port, "POST", API + f"code/{code_id}/run", headers)
    assert status == 413
    big_but_allowed = {"inputs": {"data": {"kind": "value", "data": "A" * (2 << 20)}}}
    answer = call(node, "POST", f"code/{code_id}/run", bearer(scientist), json=big_but_allowed)
    assert answer.status_code != 413
    assert_alive(node)


def test_a_forged_token_gets_the_anonymous_limit(node):
    headers = {"Authorization": "Bearer forged", "Content-Length": str(limits.JSON_BODY)}
    status, _, _ = raw_request(node.port, "POST", API + "projects", headers)
    assert status in (401, 413)
    assert_alive(node)


# --- item 8: every text capped, never echoed whole --------------------------------------------
TOO_LONG_NAME = "n" * (limits.NAME + 1)
TOO_LONG_TEXT = "t" * (limits.TEXT + 1)


def test_guest_cannot_store_huge_project_texts(node, guest_headers):
    detail = assert_4xx(call(node, "POST", "projects", guest_headers, json={"name": TOO_LONG_NAME}))
    assert "too long" in detail and str(limits.NAME) in detail
    payload = {"name": "ok", "description": TOO_LONG_TEXT}
    assert "too long" in assert_4xx(call(node, "POST", "projects", guest_headers, json=payload))
    listed = call(node, "GET", "projects", guest_headers).json()
    assert (listed["items"] if isinstance(listed, dict) else listed) == []


def test_a_duplicate_name_is_not_echoed_whole(node, scientist):
    name = "p" * limits.NAME
    assert call(node, "POST", "projects", bearer(scientist), json={"name": name}).status_code == 201
    detail = assert_4xx(call(node, "POST", "projects", bearer(scientist), json={"name": name}), 409)
    assert name not in detail and len(detail) < 400


def _fields_over_the_limit(node, root, scientist, code_id):
    """(who, method, path, payload) for every user text of every service, each too long."""
    ds_id = scientist.account.id
    dataset = {"name": "D", "assets": [{"name": "a", "data": "0" * 64}]}
    asset = dataset["assets"][0]
    raw_ok = "def f(data):\n    return 1\n"
    return [
        (scientist, "POST", "projects", {"name": TOO_LONG_NAME}),
        (scientist, "POST", "projects", {"name": "x", "description": TOO_LONG_TEXT}),
        (scientist, "POST", "code", _code_payload("n" * (limits.NAME + 1))),
        (scientist, "POST", "code", _code_payload("f", "#" * limits.CODE + "\n" + raw_ok)),
        (scientist, "POST", "code", _code_payload("f", worker_pool_name=TOO_LONG_NAME)),
        (scientist, "POST", "requests", {"code": _code_payload("g"), "reason": TOO_LONG_TEXT}),
        (root, "POST", "datasets", {**dataset, "name": "d" * (limits.NAME + 1)}),
        (root, "POST", "datasets", {**dataset, "description": TOO_LONG_TEXT}),
        (root, "POST", "datasets", {**dataset, "summary": TOO_LONG_TEXT}),
        (root, "POST", "datasets", {**dataset, "url": "u" * (limits.SHORT_TEXT + 1)}),
        (root, "POST", "datasets", {**dataset, "contributors": [{"name": TOO_LONG_NAME}]}),
        (
            root,
            "POST",
            "datasets",
            {**dataset, "contributors": [{"name": "c", "note": "n" * (limits.SHORT_TEXT + 1)}]},
        ),
        (root, "POST", "datasets", {**dataset, "assets": [{**asset, "name": TOO_LONG_NAME}]}),
        (
            root,
            "POST",
            "datasets",
            {**dataset, "assets": [{**asset, "description": TOO_LONG_TEXT}]},
        ),
        (scientist, "PATCH", f"users/{ds_id}", {"name": TOO_LONG_NAME}),
        (scientist, "PATCH", f"users/{ds_id}", {"institution": "i" * (limits.SHORT_TEXT + 1)}),
        (scientist, "PATCH", f"users/{ds_id}", {"website": "w" * (limits.SHORT_TEXT + 1)}),
        (
            root,
            "POST",
            "users",
            {"email": "x@example.org", "password": "pw-123456", "name": TOO_LONG_NAME},
        ),
        (root, "PATCH", "settings", {"description": TOO_LONG_TEXT}),
        (root, "PATCH", "settings", {"name": TOO_LONG_NAME}),
    ]


def test_every_user_text_is_capped_before_any_work(node, root, scientist, code_id):
    for who, method, path, payload in _fields_over_the_limit(node, root, scientist, code_id):
        answer = call(node, method, path, bearer(who), json=payload)
        detail = assert_4xx(answer)
        assert "too long" in detail, (method, path, detail)
        assert len(detail) < 400, (path, detail)
    # the deny reason, on a real request
    request = call(
        node, "POST", "requests", bearer(scientist), json={"code": _code_payload("h")}
    ).json()
    deny = call(node, "POST", f"requests/{request['id']}/deny", bearer(root),
                json={"reason": TOO_LONG_TEXT})  # fmt: skip
    assert "too long" in assert_4xx(deny)
    assert (
        call(node, "GET", f"requests/{request['id']}", bearer(root)).json()["status"] == "pending"
    )


def test_error_messages_never_repeat_unbounded_input(node, root):
    huge = "k" * 100_000
    for answer in (
        call(node, "PATCH", "settings", bearer(root), json={huge: 1}),
        call(node, "PATCH", "settings", bearer(root), json={"name": [huge]}),
        call(node, "PATCH", f"users/{root.account.id}", bearer(root), json={huge: 1}),
        call(node, "GET", f"datasets/{huge[:4000]}", bearer(root)),
        call(node, "GET", f"projects/{huge[:4000]}", bearer(root)),
    ):
        detail = assert_4xx(answer, (400, 404))
        # bounded: the input is cut short (the list of settings one may send is what grows)
        assert len(detail) < 1000 and "k" * 100 not in detail, detail[:1100]


# --- item 16: inputs that gave 500s -----------------------------------------------------------
def _upload(root, value) -> str:
    return root.connection.upload("blobs", serde.encode(value))["blob_id"]


def test_a_duplicate_dataset_name_is_a_409_sequential_and_concurrent(node, root):
    blob = _upload(root, pd.DataFrame({"a": [1, 2]}))
    payload = {"name": "Twice", "assets": [{"name": "t", "data": blob}]}
    assert call(node, "POST", "datasets", bearer(root), json=payload).status_code == 201
    assert "already exists" in assert_4xx(
        call(node, "POST", "datasets", bearer(root), json=payload), 409
    )
    payload["name"] = "Raced"
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def create() -> None:
        barrier.wait()
        statuses.append(call(node, "POST", "datasets", bearer(root), json=payload).status_code)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [201, 409, 409, 409]


@pytest.mark.parametrize(
    "path, payload",
    [
        ("projects", {"name": "\ud800"}),
        ("projects", {"name": "ok", "description": "a\udfffb"}),
        ("projects", {"\ud800": 1, "name": "ok"}),
        ("code", _code_payload("f", "def f(data):\n    return '\ud800'\n")),
    ],
)
def test_a_lone_surrogate_is_a_400(node, scientist, path, payload):
    detail = assert_4xx(call(node, "POST", path, bearer(scientist), data=json.dumps(payload)))
    assert "surrogate" in detail


def test_a_lone_surrogate_in_an_anonymous_login_is_a_400(node):
    answer = call(
        node, "POST", "auth/login", data=json.dumps({"email": "\ud800@x", "password": "p"})
    )
    assert "surrogate" in assert_4xx(answer)


def test_deep_nesting_is_a_400(node, scientist):
    deep = '{"name": "x", "description": ' + "[" * 1100 + "]" * 1100 + "}"
    detail = assert_4xx(call(node, "POST", "projects", bearer(scientist), data=deep))
    assert "nested too deeply" in detail
    deeper = "[" * 5000 + "]" * 5000  # also over the recursion limit of the JSON parser
    answer = call(node, "POST", "auth/login", data='{"email": ' + deeper + "}")
    assert "nested too deeply" in assert_4xx(answer)
    modest = '{"name": "ok", "x": ' + "[" * 60 + "]" * 60 + "}"
    assert call(node, "POST", "projects", bearer(scientist), data=modest).status_code == 201


def test_non_finite_and_huge_numbers_are_a_400(node, root):
    for body in ('{"exec_wall_seconds": NaN}', '{"exec_wall_seconds": 1e999}',
                 '{"exec_wall_seconds": ' + "9" * 30 + "}"):  # fmt: skip
        assert_4xx(call(node, "PATCH", "settings", bearer(root), data=body))
    assert_4xx(call(node, "PATCH", "settings", bearer(root), json={"token_ttl_hours": 10**15}))
    assert call(node, "POST", "auth/login", json={"email": "info@openmined.org",
                                                  "password": "changethis"}).status_code == 200  # fmt: skip


@pytest.mark.parametrize(
    "inputs",
    [
        {"data": 5},
        {"data": "x"},
        {"data": [1, 2]},
        {"data": {"kind": "value", "data": "not base64 ✗"}},
        {"data": {"kind": "asset", "id": ["x"]}},
        [1, 2],
        "text",
    ],
)
def test_run_arguments_that_are_not_objects_are_a_400(node, root, scientist, inputs):
    code = call(node, "POST", "code", bearer(scientist), json=_code_payload("run_me")).json()
    # the owner may run pending code on mocks: the arguments are checked for both callers
    for who in (root, scientist):
        for route in ("run", "jobs"):
            answer = call(node, "POST", f"code/{code['id']}/{route}", bearer(who),
                          json={"inputs": inputs})  # fmt: skip
            if route == "jobs" and isinstance(inputs, dict):
                # a job takes the arguments and checks them when it runs: never a 500
                assert answer.status_code in (201, 400, 403), answer.text
            else:
                assert_4xx(answer, (400, 403, 404))


@pytest.mark.parametrize(
    "policy",
    [
        {"input_policy": {"type": []}},
        {"input_policy": {"type": {"a": 1}}},
        {"output_policy": {"type": []}},
        {"output_policy": {"type": ["OutputPolicyExecuteOnce"], "limit": 1}},
        {"input_policy": {"type": "ExactMatch", "inputs": {"data": {"kind": "asset", "id": [1]}}}},
        {
            "input_policy": {
                "type": "MixedInputPolicy",
                "inputs": {"data": {"kind": "constant", "data": "@@not base64@@"}},
            }
        },
        {
            "input_policy": {
                "type": "MixedInputPolicy",
                "inputs": {"data": {"kind": "type", "type": ["int"]}},
            }
        },
    ],
)
def test_malformed_policies_are_a_400(node, scientist, policy):
    answer = call(node, "POST", "code", bearer(scientist), json=_code_payload("pol", **policy))
    assert_4xx(answer, (400, 404))


def test_a_corrupted_constant_is_a_400(node, scientist):
    good = serde.dumps(pd.DataFrame({"a": list(range(50))}))
    seg = len(serde.encode(pd.DataFrame({"a": list(range(50))})).header)
    statuses = set()
    for pos in range(seg + 8, len(good), 16):
        bad = bytearray(good)
        bad[pos] ^= 0xFF
        spec = {"kind": "constant", "data": base64.b64encode(bytes(bad)).decode()}
        policy = {"type": "MixedInputPolicy", "inputs": {"data": spec}}
        answer = call(node, "POST", "code", bearer(scientist),
                      json=_code_payload(f"c{pos}", input_policy=policy))  # fmt: skip
        statuses.add(answer.status_code)
    assert statuses <= {201, 400}, statuses


@pytest.mark.parametrize("project_id", [5, ["p"], {"id": "p"}, True, ""])
def test_a_non_string_project_id_is_a_400(node, scientist, project_id):
    payload = {"code": _code_payload("req"), "project_id": project_id}
    assert_4xx(call(node, "POST", "requests", bearer(scientist), json=payload))


def test_a_project_given_by_name_gets_the_request(node, scientist):
    project = call(node, "POST", "projects", bearer(scientist), json={"name": "By name"}).json()
    payload = {"code": _code_payload("named"), "project_id": "By name"}
    answer = call(node, "POST", "requests", bearer(scientist), json=payload)
    assert answer.status_code == 201, answer.text
    assert answer.json()["project"]["id"] == project["id"]
    again = call(node, "GET", f"projects/{project['id']}", bearer(scientist)).json()
    assert again["request_ids"] == [answer.json()["id"]]


@pytest.mark.parametrize("rows", ["²", "١٢", "٣", "1_0", "-1", "5.0", "9" * 40])
def test_rows_must_be_plain_ascii_digits(node, root, uploaded, rows):
    asset = root.datasets[0].assets[0]
    for suffix in ("", "/preview"):
        answer = call(node, "GET", f"assets/{asset.id}/mock{suffix}", bearer(root),
                      params={"rows": rows})  # fmt: skip
        assert "rows must be a whole number" in assert_4xx(answer)
    ok = call(node, "GET", f"assets/{asset.id}/mock/preview", bearer(root), params={"rows": "3"})
    assert ok.status_code == 200 and len(ok.json()["rows"]) == 3


@pytest.mark.parametrize("length", ["abc", "-5", "1_0", "²", " 12x", "1e3", "0x10"])
def test_a_malformed_content_length_is_a_400(node, root, length):
    for path in ("blobs", "projects", "auth/login"):
        status, _, body = raw_request(
            node.port, "POST", API + path, {**bearer(root), "Content-Length": length}
        )
        assert status == 400, (path, length, status, body)
        assert "Content-Length" in json.loads(body)["detail"]
    assert_alive(node)


# --- item 15: values the decoder rejects never become visible ---------------------------------
def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"age": list(range(40)), "name": [f"person {i}" for i in range(40)], "x": [0.5] * 40}
    )


def _read_everywhere(node, root, scientist, blob_id: str) -> None:
    """Use an accepted value as a mock and as data, and read it every way the routes allow."""
    name = f"ds-{blob_id[:12]}"
    created = call(node, "POST", "datasets", bearer(root),
                   json={"name": name, "assets": [{"name": "a", "data": blob_id, "mock": blob_id}]})  # fmt: skip
    assert created.status_code == 201, created.text
    asset_id = created.json()["assets"][0]["id"]
    for who, which in ((root, "data"), (root, "mock"), (scientist, "mock")):
        for path, params in (
            (f"assets/{asset_id}/{which}", {}),
            (f"assets/{asset_id}/{which}", {"rows": "5"}),
            (f"assets/{asset_id}/{which}/preview", {}),
        ):
            answer = call(node, "GET", path, bearer(who), params=params)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            if "preview" not in path:
                serde.decode(answer.content)
    call(node, "DELETE", f"datasets/{created.json()['id']}", bearer(root))


def test_corrupted_arrow_uploads_are_refused_or_decode_everywhere(node, root, scientist):
    encoded = serde.encode(_frame())
    good = encoded.to_bytes()
    start = len(encoded.header)  # the Arrow IPC segment follows the header
    positions = sorted(set(range(start, len(good), max(1, (len(good) - start) // 60))))
    refused = accepted = 0
    for pos in positions:
        for flip in (0xFF, 0x01):
            bad = bytearray(good)
            bad[pos] ^= flip
            answer = requests.post(node.url + API + "blobs", data=bytes(bad),
                                   headers=bearer(root), timeout=30)  # fmt: skip
            if answer.status_code == 201:
                accepted += 1
                _read_everywhere(node, root, scientist, answer.json()["blob_id"])
            else:
                refused += 1
                assert "rejected" in assert_4xx(answer), pos
    assert refused > 0 and refused + accepted == 2 * len(positions)
    assert not list((node.data_dir / "blobs" / "tmp").iterdir())
    assert_alive(node)


def _undecodable_but_well_formed() -> bytearray:
    """A frame with one byte of its Arrow segment changed: the streaming check (headers and
    segment starts) takes it, the decoder does not."""
    encoded = serde.encode(_frame())
    good = encoded.to_bytes()
    for pos in range(len(encoded.header) + 8, len(good)):
        bad = bytearray(good)
        bad[pos] ^= 0xFF
        checker = serde.StreamChecker()
        checker.feed(bytes(bad))
        checker.finish()
        try:
            serde.decode(bytes(bad))
        except serde.SerdeError:
            return bad
    raise AssertionError("no corruption the decoder rejects")


def test_a_stored_value_that_cannot_be_decoded_is_a_422_everywhere(node, root, scientist,
                                                                    monkeypatch):  # fmt: skip
    from jupyter_syft.server import blobs

    bad = _undecodable_but_well_formed()
    # as if stored before uploads were fully checked (or damaged on disk since)
    monkeypatch.setattr(blobs, "_check_decodes", lambda path: None)
    blob_id = requests.post(node.url + API + "blobs", data=bytes(bad), headers=bearer(root),
                            timeout=30).json()["blob_id"]  # fmt: skip
    monkeypatch.undo()
    with pytest.raises(serde.SerdeError):
        serde.decode(bytes(bad))
    created = call(node, "POST", "datasets", bearer(root),
                   json={"name": "Broken", "assets": [{"name": "a", "data": blob_id, "mock": blob_id}]})  # fmt: skip
    asset_id = created.json()["assets"][0]["id"]
    for who in (root, scientist):
        for path, params in (
            (f"assets/{asset_id}/mock", {"rows": "5"}),
            (f"assets/{asset_id}/mock/preview", {}),
        ):
            detail = assert_4xx(call(node, "GET", path, bearer(who), params=params), 422)
            assert "cannot be decoded" in detail and str(node.data_dir) not in detail
    # the raw value still streams (the owner can fetch and inspect it), and the site is fine
    assert call(node, "GET", f"assets/{asset_id}/data", bearer(root)).status_code == 200
    assert_alive(node)


# --- the Jupyter extension host enforces the same limits --------------------------------------
@pytest.fixture
def jp_server_config(tmp_path):
    return extension_config(
        tmp_path / "datasite",
        "lab-limits",
        root_email="owner@lab.example",
        root_password="pw-owner-123",
    )


async def _raw_async(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=15)
    status_line, *header_lines = head.decode("latin-1").strip().split("\r\n")
    got = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    body = await asyncio.wait_for(reader.readexactly(int(got["content-length"])), timeout=15)
    writer.close()
    return int(status_line.split()[1]), json.loads(body)


async def test_extension_routes_refuse_big_bodies_before_reading_them(
    jp_fetch, jp_serverapp, http_server_client, jp_http_port, jp_base_url
):
    base = jp_base_url.rstrip("/")
    big = {"Content-Length": str(2 << 20), "Content-Type": "application/json"}
    # anonymous log-in on the remote routes
    status, body = await _raw_async(jp_http_port, f"{base}/syft/api/v1/auth/login", big)
    assert status == 413 and body["error"] == "payload_too_large"
    # the JupyterLab user (the owner) on the lab routes: 1 MiB for JSON
    token = jp_serverapp.identity_provider.token
    owner = {**big, "Authorization": f"token {token}"}
    status, body = await _raw_async(jp_http_port, f"{base}/syft/lab/api/v1/projects", owner)
    assert status == 413 and str(limits.JSON_BODY) in body["detail"]
    # an unknown route too (its body is never read either)
    status, body = await _raw_async(jp_http_port, f"{base}/syft/api/v1/no/such", big)
    assert status in (404, 413)
    # and the extension still answers
    answer = await jp_fetch("syft", "api", "v1", "metadata", headers={"Authorization": ""})
    assert answer.code == 200
    surrogate = await jp_fetch("syft", "api", "v1", "auth", "login", method="POST",
                               body='{"email": "\\ud800"}', headers={"Authorization": ""},
                               raise_error=False)  # fmt: skip
    assert surrogate.code == 400 and "surrogate" in json.loads(surrogate.body)["detail"]


def test_a_scientist_can_still_use_the_datasite_normally(node, root, scientist, uploaded):
    """The limits leave ordinary use alone: a project, a request with a reason, a run."""
    asset = scientist.datasets[0].assets[0]
    project = scientist.create_project(name="Normal", description="d" * 5000)

    @sy.syft_function_single_use(data=asset)
    def mean_age(data):
        return data["age"].mean()

    project.create_code_request(mean_age)
    root.requests[0].approve()
    private, _ = uploaded
    assert scientist.code.mean_age(data=asset).get() == private["age"].mean()


def test_a_large_body_to_an_unknown_route_gets_a_404_not_a_reset(node):
    """The fallback route answers before reading the body, like every route: a body over the
    server's own limit for callers without a session still gets its JSON 404."""
    body = b"x" * (limits.ANONYMOUS_JSON_BODY * 50)
    for path in (API + "no-such-route", API + "code/not-an-id/run", "/elsewhere"):
        answer = requests.post(f"http://127.0.0.1:{node.port}{path}", data=body, timeout=60)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["error"] == "http_error"
