"""A front process of ``jupyter-syft serve --processes N`` (server/http/forward.py): it answers
the plain calls itself and forwards the rest to its primary, bodies streamed both ways, the
caller's address carried so the primary's login limits hold whichever process a guess reaches.

The two processes are two Datasites on one database in this test's process (PostgreSQL, or the
SQLite file of their shared folder): the primary served on a Unix socket (as its fronts reach
it), the front on a loopback port. Every
call here goes to the front, so each forwarding path is taken for certain; the whole group
of real processes is tests/test_serve_processes.py.
"""

from __future__ import annotations

import json
import re
import socket
import threading

import numpy as np
import pandas as pd
import pytest
import requests

import jupyter_syft as sy
from jupyter_syft.hosts.bootstrap import RELEASE_ORCHESTRA, open_datasite
from jupyter_syft.hosts.standalone import DatasiteServer
from jupyter_syft.server.datasite import DatasiteConfig
from jupyter_syft.server.http import handlers
from jupyter_syft.server.services import limits
from jupyter_syft.wire import routes
from jupyter_syft.wire.contract import VALUE_MEDIA_TYPE
from tests.waiting import HANG, wait_for

pytest_plugins = ["tests.postgres"]

ROOT_EMAIL, ROOT_PASSWORD = "root@front.example", "root-pass-123"
API = "/" + routes.API_PREFIX


class Group:
    def __init__(self, primary, front, primary_server, front_server):
        self.primary, self.front = primary, front
        self.primary_server, self.front_server = primary_server, front_server
        self.url = f"http://127.0.0.1:{front_server.port}"


@pytest.fixture(params=["postgresql", "sqlite"])
def group(request, tmp_path):
    """A primary (served on a Unix socket) and a front forwarding to it, one database."""
    db_url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    path = str(tmp_path / "primary.sock")
    started = []
    try:
        # results released on approval, as sy.orchestra.launch does (output checks: elsewhere)
        primary = open_datasite(_config(tmp_path, db_url), release=RELEASE_ORCHESTRA)
        started.append(primary)
        sandbox = primary.runner().sandbox  # as the primary tells its supervisor
        front = open_datasite(_config(tmp_path, db_url, front=True, sandbox=sandbox))
        started.append(front)
        primary_server = DatasiteServer(primary, unix_socket=path)
        primary_server.start()
        started.append(primary_server)
        front_server = DatasiteServer(front, primary_path=path)
        front_server.start()
        started.append(front_server)
        assert front.relay is not None and front.relay.wait_listening(HANG)
        yield Group(primary, front, primary_server, front_server)
    finally:
        for thing in reversed(started):
            (thing.stop if isinstance(thing, DatasiteServer) else thing.close)()


def _config(tmp_path, db_url, front=False, sandbox=""):
    folder = tmp_path / "group"  # the group's private folder, as the supervisor makes it
    folder.mkdir(mode=0o700, exist_ok=True)
    return DatasiteConfig(
        name="front",
        data_dir=tmp_path / "site",  # one folder, as the processes of one Datasite share it
        db_url=db_url,  # None: the SQLite file in that folder
        group_folder=folder,
        root_email=ROOT_EMAIL,
        root_password=ROOT_PASSWORD,
        front=front,
        front_sandbox=sandbox,
    )


def test_the_whole_workflow_through_a_front(group):
    """Upload (streamed to the primary), accounts, a request made and approved on the front,
    a blocking run and a job run by the primary: the scientist gets the right results."""
    root = sy.login(url=group.url, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
    rows = 200_000  # a few MB: the upload is streamed through, not one small chunk
    rng = np.random.default_rng(1)
    private = pd.DataFrame({"x": rng.integers(0, 100, rows), "y": rng.normal(size=rows)})
    mock = private.sample(100, random_state=0)
    dataset = sy.Dataset(name="Measures")
    dataset.add_asset(sy.Asset(name="table", data=private, mock=mock))
    root.upload_dataset(dataset, progress=False)
    root.users.create(sy.UserCreate(email="ds@front.example", name="DS", password="ds-pass-1"))
    scientist = sy.login(
        url=group.url, email="ds@front.example", password="ds-pass-1", verbose=False
    )
    asset = scientist.datasets["Measures"].assets["table"]
    assert len(asset.mock) == 100

    @sy.syft_function_single_use(table=asset)
    def total(table):
        return int(table["x"].sum())

    scientist.code.request_code_execution(total)
    assert root.requests[0].sandbox == group.primary.runner().sandbox  # told by the primary
    root.requests[0].approve()
    assert scientist.code.total(table=asset).get() == int(private["x"].sum())

    @sy.syft_function_single_use(table=asset)
    def rows_of(table):
        return len(table)

    scientist.code.request_code_execution(rows_of)
    next(r for r in root.requests if r.code.service_func_name == "rows_of").approve()
    job = scientist.code.rows_of(table=asset, blocking=False)
    assert job.wait(timeout=HANG).get() == rows
    # the primary ran both: the front has no runner, and never started one
    assert group.front._runner is None and group.front._start is None


def test_a_front_carries_the_callers_address_and_drops_a_forged_one(group):
    """Wrong passwords through the front meet the primary's one limiter, keyed by the address
    the front saw: an X-Real-Ip the caller sets does not give each guess a fresh budget."""
    statuses = []
    for n in range(8):
        answer = requests.post(
            group.url + API + routes.LOGIN,
            json={"email": ROOT_EMAIL, "password": f"wrong-{n}"},
            headers={"X-Real-Ip": f"10.1.2.{n}", "X-Forwarded-For": f"10.9.9.{n}"},
            timeout=HANG,
        )
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert "wait" in answer.json()["detail"] and answer.headers["Retry-After"]
            break
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429, statuses
    limiter = group.primary.services.auth.limiter
    with limiter._lock:
        addresses = {key[2] for key in limiter._entries if key[0] == "pair"}
    assert addresses == {"127.0.0.1"}  # the front's view of the caller, nothing forged
    assert len(group.front.services.auth.limiter) == 0  # the front never counted a login


def test_a_refusal_before_the_body_comes_back_as_the_primary_gave_it(group):
    """A body over a forwarded route's limit is refused by the primary from its declared
    length (413, JSON), and the front answers that, unsent, without a 5xx."""
    body = b"{" + b" " * (limits.ANONYMOUS_JSON_BODY + 10) + b"}"
    with socket.create_connection(("127.0.0.1", group.front_server.port), timeout=HANG) as conn:
        conn.sendall(
            f"POST {API}{routes.REGISTER} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        conn.sendall(body[:1000])  # the rest is never needed
        answer = _read_answer(conn)
    status, headers, payload = answer
    assert status == 413, answer
    assert "at most" in json.loads(payload)["detail"]
    assert headers.get("connection") == "close"


def test_calls_a_front_answers_itself_and_calls_it_forwards(group, monkeypatch):
    """The front's own routes never reach the primary; the others all do, unknown ones too."""
    answered = {"primary": 0, "front": 0}
    for name in answered:
        site = getattr(group, name)

        def counted(site=site, name=name):
            answered[name] += 1
            return type(site).metadata(site)

        monkeypatch.setattr(site, "metadata", counted)
    assert requests.get(group.url + API + routes.METADATA, timeout=HANG).json()["name"] == "front"
    assert answered == {"primary": 0, "front": 1}
    requests.post(
        group.url + API + routes.LOGIN,
        json={"email": ROOT_EMAIL, "password": ROOT_PASSWORD},
        timeout=HANG,
    ).raise_for_status()
    assert group.primary.services.auth.limiter.verifications == 1
    assert group.front.services.auth.limiter.verifications == 0
    answer = requests.get(group.url + API + "no/such/route", timeout=HANG)
    assert answer.status_code == 404 and "No such Datasite route" in answer.json()["detail"]


def test_a_caller_that_leaves_mid_upload_ends_the_forward(group):
    """A body cut off by its caller is cut off for the primary too: the front's call to the
    primary ends (and the primary drops the partial upload), none is left hanging."""
    root = sy.login(url=group.url, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
    token = root.connection.token
    client = group.front_server._primary.client
    with socket.create_connection(("127.0.0.1", group.front_server.port), timeout=HANG) as conn:
        conn.sendall(
            f"POST {API}{routes.BLOBS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: {VALUE_MEDIA_TYPE}\r\nContent-Length: {50 << 20}\r\n\r\n".encode()
        )
        conn.sendall(b"\0" * (2 << 20))
        wait_for(lambda: len(client.active) == 1, "the upload is being forwarded")
    wait_for(lambda: not client.active, "the forward ends with the caller's connection")
    parts = group.primary.blobs.tmp_dir
    wait_for(lambda: not list(parts.glob("*.part")), "the primary drops the partial upload")


def test_an_answer_cut_off_upstream_is_cut_off_for_the_caller(group, tmp_path):
    """If the primary's answer breaks off midway, the caller's connection breaks too: a
    truncated answer never reaches it as a complete one."""
    path = str(tmp_path / "half.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()

    answered = threading.Event()

    def answer_half() -> None:  # a primary that dies midway through a chunked answer
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            first = b'{"items": [' + b"1, " * 1000
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
                + f"{len(first):x}\r\n".encode()
                + first
                + b"\r\n"
            )
            answered.wait(HANG)  # the caller has the start of the answer: now die

    half = threading.Thread(target=answer_half, daemon=True)
    half.start()
    front = DatasiteServer(group.front, primary_path=path)
    front.start()
    try:
        url = f"http://127.0.0.1:{front.port}{API}{routes.USERS}"
        with requests.get(url, timeout=HANG, stream=True) as answer:
            assert answer.status_code == 200  # the primary's status, relayed as it came
            answered.set()
            with pytest.raises(requests.exceptions.ChunkedEncodingError):
                answer.content
    finally:
        front.stop()
        half.join(HANG)
        listener.close()


def test_forwarded_calls_get_the_primarys_4xx_never_a_5xx(group):
    """Every forwarded route, every verb, without a token and with a broken body (on a GET
    too): the primary's refusal (JSON, with a message) comes back through the front."""
    for template, _ in handlers.ROUTES:
        if template in handlers.FRONT_ROUTES:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: _sample(m.group(1)), template)
        for method in ("GET", "POST", "PATCH", "DELETE"):
            answer = requests.request(
                method,
                group.url + API + path,
                data=b'{"broken": ',
                headers={"Content-Type": "application/json"},
                timeout=HANG,
            )
            assert answer.status_code < 500, (method, path, answer.status_code)
            if answer.status_code >= 400:  # (a logout without a session is no error)
                assert answer.json()["detail"], (method, path)


def test_a_chunked_body_is_forwarded_whole(group):
    """A body sent without Content-Length (chunked) reaches the primary whole."""
    body = json.dumps({"email": ROOT_EMAIL, "password": ROOT_PASSWORD}).encode()
    pieces = (body[i : i + 7] for i in range(0, len(body), 7))  # a generator: sent chunked
    answer = requests.post(
        group.url + API + routes.LOGIN,
        data=pieces,
        headers={"Content-Type": "application/json"},
        timeout=HANG,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token"]


def test_a_front_whose_primary_is_down_says_so(group):
    group.primary_server.stop()
    answer = requests.post(
        group.url + API + routes.LOGIN,
        json={"email": ROOT_EMAIL, "password": ROOT_PASSWORD},
        timeout=HANG,
    )
    assert answer.status_code == 503
    assert "main process is not answering" in answer.json()["detail"]
    # what the front answers itself still works
    assert requests.get(group.url + API + routes.METADATA, timeout=HANG).status_code == 200


def test_every_path_finds_the_handler_it_finds_in_the_whole_table():
    """A front's table (its own routes, then forwarding) sends each path where the whole
    table would: a front route never takes a path meant for another route."""
    whole = handlers.route_table("/api/")
    front = handlers.route_table("/api/", only=handlers.FRONT_ROUTES)
    assert {h.__name__ for _, h in front} == {
        e.__name__ for t, e in handlers.ROUTES if t in handlers.FRONT_ROUTES
    }
    for template, endpoint in handlers.ROUTES:
        path = "/api/" + re.sub(r"\{(\w+)\}", lambda m: _sample(m.group(1)), template)
        first = next(h for pattern, h in whole if re.fullmatch(pattern, path))
        assert first.__name__ == endpoint.__name__, template
        local = next((h for pattern, h in front if re.fullmatch(pattern, path)), None)
        expected = endpoint.__name__ if template in handlers.FRONT_ROUTES else None
        assert (local.__name__ if local else None) == expected, template


def _sample(parameter: str) -> str:
    for candidate in ("0123456789abcdef0123456789abcdef", "mock", "private", "3", "name"):
        if re.fullmatch(routes.PARAMETERS[parameter], candidate):
            return candidate
    raise AssertionError(f"no sample for {parameter}")


def _read_answer(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split()[1]), headers, rest[:length]
