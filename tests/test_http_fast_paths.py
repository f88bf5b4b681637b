"""The HTTP layer's shortcuts keep every check: write routes that resolve the caller inside
their service call (one hand-off to the pool) still refuse forged tokens first and never read
more body than a caller without a session may send; the route table dispatches as before."""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import re
import socket
import textwrap
import types
import uuid
from datetime import timedelta

import pytest
import requests
import tornado.httputil
import tornado.web
from handoffs import counting_handoffs

import jupyter_syft as sy
from jupyter_syft.hosts.standalone import NotFoundHandler, make_app
from jupyter_syft.server.http import handlers
from jupyter_syft.server.http.base import (
    _PENDING,
    DatasiteHandler,
    DatasiteHandlerMixin,
    _anyone_may_send,
)
from jupyter_syft.server.http.handlers import HOT_ROUTES, ROUTES, VERBS, hosted, route_table
from jupyter_syft.server.services import limits
from jupyter_syft.wire import routes

API = "/syft/api/v1/"
FORGED = {"Authorization": "Bearer forged-token"}


def raw_request(port: int, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """Headers only, no body: a server that waits for the declared body times out here."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while piece := sock.recv(65536):
            data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _request_id(scientist) -> str:
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def mean_age(data):
        return float(data["age"].mean())

    return scientist.code.request_code_execution(mean_age).id


def _bearer(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.connection.token}"}


# --- write routes: caller and service call in one hand-off -----------------------------------
def test_an_approval_is_one_hand_off_and_a_forged_token_approves_nothing(
    node, root, scientist, uploaded, monkeypatch
):
    request_id = _request_id(scientist)
    url = node.url.rstrip("/") + API + f"requests/{request_id}/approve"
    submitted = counting_handoffs(node.datasite, monkeypatch)
    # a valid body with a forged token: refused before the body is looked at
    answer = requests.post(url, headers=FORGED, json={"approve_nested": False}, timeout=30)
    assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    # the scientist may not approve (the caller is theirs, not the placeholder's)
    answer = requests.post(url, headers=_bearer(scientist), json={}, timeout=30)
    assert answer.status_code == 403, answer.text
    # an owner's bad body is still refused as one
    answer = requests.post(url, headers=_bearer(root), json={"approve_nested": "x"}, timeout=30)
    assert answer.status_code == 400 and "approve_nested" in answer.text
    assert root.requests.get_by_id(request_id).status.name == "PENDING"
    submitted.clear()
    answer = requests.post(url, headers=_bearer(root), json={}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert len(submitted) == 1  # the caller, the body and the approval in one hand-off
    assert root.requests.get_by_id(request_id).status.name == "APPROVED"


def test_a_body_over_the_anonymous_limit_is_read_only_for_a_known_caller(
    node, root, scientist, uploaded, monkeypatch
):
    request_id = _request_id(scientist)
    url = node.url.rstrip("/") + API + f"requests/{request_id}/approve"
    padded = b"{}" + b" " * limits.ANONYMOUS_JSON_BODY  # valid JSON, over the anonymous limit
    submitted = counting_handoffs(node.datasite, monkeypatch)
    answer = requests.post(url, headers=FORGED, data=padded, timeout=30)
    assert answer.status_code == 401
    assert len(submitted) == 1  # only the caller: no service call
    submitted.clear()
    answer = requests.post(url, headers=_bearer(root), data=padded, timeout=30)
    assert answer.status_code == 200, answer.text
    assert len(submitted) == 2  # the caller first (its body limit depends on it), then the call


@pytest.mark.parametrize("route", ["requests", "requests/{rid}/approve"])
def test_a_declared_large_body_with_a_forged_token_is_refused_unread(
    node, root, scientist, uploaded, route
):
    path = API + route.format(rid=_request_id(scientist))
    length = str(limits.ANONYMOUS_JSON_BODY + 1)
    status, body = raw_request(node.port, "POST", path, {**FORGED, "Content-Length": length})
    assert status == 401 and json.loads(body)["error"] == "unauthorized"
    # without a token: over the anonymous limit, refused unread too
    status, body = raw_request(node.port, "POST", path, {"Content-Length": length})
    assert status == 413 and json.loads(body)["error"] == "payload_too_large"
    # a known caller's body may be larger; over the route's own limit it is refused unread
    too_big = str(limits.VALUE_JSON_BODY + 1)
    status, _ = raw_request(node.port, "POST", path, {**_bearer(root), "Content-Length": too_big})
    assert status == 413


def test_a_request_is_created_in_one_hand_off(node, scientist, uploaded, monkeypatch):
    submitted = counting_handoffs(node.datasite, monkeypatch)
    request_id = _request_id(scientist)
    creates = [fn for fn in submitted if "_create" in repr(fn)]
    assert len(creates) == 1 and "_as_actor" in repr(creates[0])
    assert scientist.requests.get_by_id(request_id).id == request_id


def _request(headers: dict[str, str]) -> types.SimpleNamespace:
    return types.SimpleNamespace(headers=tornado.httputil.HTTPHeaders(headers))


def test_only_bodies_anyone_may_send_defer_the_caller():
    small = str(limits.ANONYMOUS_JSON_BODY)
    assert _anyone_may_send(_request({}))
    assert _anyone_may_send(_request({"Content-Length": "0"}))
    assert _anyone_may_send(_request({"Content-Length": small}))
    assert not _anyone_may_send(_request({"Content-Length": str(int(small) + 1)}))
    assert not _anyone_may_send(_request({"Transfer-Encoding": "chunked"}))  # size unknown
    compressed = {"Content-Length": "10", "Content-Encoding": "gzip"}  # could inflate
    assert not _anyone_may_send(_request(compressed))
    with pytest.raises(Exception, match="Content-Length"):
        _anyone_may_send(_request({"Content-Length": " 1_0"}))


def test_the_body_cannot_be_read_before_the_caller_is_known():
    handler = types.SimpleNamespace(actor=_PENDING, _body_overflow=False, _body=bytearray(b"{}"))
    with pytest.raises(RuntimeError, match="before the caller"):
        DatasiteHandlerMixin.json_body(handler)  # type: ignore[arg-type]
    handler.actor = None
    assert DatasiteHandlerMixin.json_body(handler) == {}  # type: ignore[arg-type]


# --- the route table: busiest routes first, same dispatch ------------------------------------
def _overlap(a: str, b: str) -> bool:
    """Could some path match both templates? (A parameter never matches "/", so only
    templates of as many segments can; a literal segment must match the other's.)"""
    sa, sb = a.split("/"), b.split("/")
    if len(sa) != len(sb):
        return False
    for x, y in zip(sa, sb, strict=True):
        px, py = routes._PARAM.fullmatch(x), routes._PARAM.fullmatch(y)
        if px and py:
            continue  # two parameters: assume they can meet
        if px or py:
            param, literal = (x, y) if px else (y, x)
            if not re.fullmatch(routes.PARAMETERS[param[1:-1]], literal):
                return False
        elif x != y:
            return False
    return True


def test_no_route_moves_ahead_of_one_it_overlaps():
    templates = [template for template, _ in ROUTES]
    for later, hot in enumerate(templates):
        if hot in HOT_ROUTES:  # moved ahead of every route before it that is not hot
            for earlier in templates[:later]:
                assert earlier in HOT_ROUTES or not _overlap(earlier, hot), (earlier, hot)
    # the check itself sees the overlap that needs its order
    assert _overlap(routes.DATASET_PREFLIGHT, routes.DATASET)


def _sample_paths() -> list[str]:
    """Each template filled in several ways, including with every literal segment of the
    table at that place (where a name parameter could take it), and paths of no route."""
    literals = {s for t, _ in ROUTES for s in t.split("/") if not routes._PARAM.fullmatch(s)}
    values = {"ID": [uuid.uuid4().hex, "0" * 32], "NAME": ["x", "my data", *sorted(literals)]}
    paths = set()
    for template, _ in ROUTES:
        names = routes.parameters(template)
        choices = [
            values["ID"]
            if routes.PARAMETERS[n] == routes.ID
            else ["mock", "data"]
            if n == "which"
            else values["NAME"]
            for n in names
        ]
        for combo in itertools.product(*choices):
            paths.add(routes.path(template, **dict(zip(names, combo, strict=True))))
    return [*sorted(paths), "nope", "users/me/extra", "datasets/", "", "requests/ABC/approve"]


def test_every_path_finds_the_same_handler_as_in_the_declared_order():
    prefix = "/" + routes.API_PREFIX
    fast = make_app(object())
    declared = tornado.web.Application(
        [
            (prefix + routes.pattern(t) + "$", hosted(e, DatasiteHandler, None), {"datasite": 1})
            for t, e in ROUTES
        ],
        default_handler_class=NotFoundHandler,
    )
    assert [p for p, _ in route_table(prefix)][: len(HOT_ROUTES)] == [
        prefix + routes.pattern(t) + "$" for t, _ in ROUTES if t in HOT_ROUTES
    ]
    assert len(route_table(prefix)) == len(ROUTES)
    connection = types.SimpleNamespace(set_close_callback=lambda _: None)
    for path in _sample_paths():
        start = tornado.httputil.RequestStartLine("GET", prefix + path, "HTTP/1.1")
        request = tornado.httputil.HTTPServerRequest(
            connection=connection,
            start_line=start,
            headers=tornado.httputil.HTTPHeaders({"Host": "127.0.0.1"}),
        )
        a, b = fast.find_handler(request), declared.find_handler(request)
        assert a.handler_class.__name__ == b.handler_class.__name__, path
        assert a.path_args == b.path_args, path


def test_an_unknown_route_is_a_json_404(node):
    for path in ("nope", "users/me/extra", "requests/ABC/approve"):
        answer = requests.get(node.url.rstrip("/") + API + path, headers=FORGED, timeout=30)
        assert answer.status_code == 404, path
        assert answer.json() == {
            "error": "http_error",
            "detail": "No such Datasite route. Is the client up to date?",
        }


# --- the caller's token: read anew on every call ---------------------------------------------
def test_the_caller_is_read_anew_on_every_call(node, root, scientist):
    from sqlmodel import select

    from jupyter_syft.server import models
    from jupyter_syft.server.services.errors import Unauthorized

    auth, store = node.datasite.services.auth, node.datasite.store
    header = "Bearer " + scientist.connection.token
    actor = auth.actor_for(header)
    assert (actor.email, actor.name, actor.role) == (
        "ds@example.org",
        "Dana Scientist",
        sy.ServiceRole.DATA_SCIENTIST,
    )
    with store.session() as session:
        user = session.exec(select(models.User).where(models.User.id == actor.user_id)).one()
        user.role = int(sy.ServiceRole.DATA_OWNER)
        session.add(user)
        session.commit()
    assert auth.actor_for(header).role == sy.ServiceRole.DATA_OWNER  # the next call sees it
    with store.session() as session:
        user.disabled = True
        session.add(user)
        session.commit()
    with pytest.raises(Unauthorized, match="disabled"):
        auth.actor_for(header)
    with store.session() as session:
        user.disabled = False
        session.add(user)
        token = session.exec(
            select(models.ApiToken).where(models.ApiToken.user_id == actor.user_id)
        ).one()
        token.expires_at = models.utcnow() + timedelta(seconds=-1)
        session.add(token)
        session.commit()
    with pytest.raises(Unauthorized, match="expired"):
        auth.actor_for(header)
    with pytest.raises(Unauthorized, match="not valid"):  # the expired token was deleted
        auth.actor_for(header)
    assert auth.actor_for(None).is_anonymous


def test_the_plain_read_gives_cores_row_and_is_seen_by_whoever_listens(node, root):
    from sqlalchemy import event

    from jupyter_syft.server.security import token_hash
    from jupyter_syft.server.services import auth as auth_module
    from jupyter_syft.server.services.view_cache import PlainRead

    engine = node.datasite.store.engine
    read = PlainRead(node.datasite.store, auth_module._ACTOR_QUERY, "token_hash")
    hashed = token_hash(root.connection.token)
    with engine.connect() as connection:
        core = tuple(connection.execute(auth_module._ACTOR_QUERY, {"token_hash": hashed}).one())
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    assert read.row(hashed) == core  # (PostgreSQL: through Core, its NUL filter listens)
    assert core[0].utcoffset() is not None and isinstance(core[5], bool)
    assert read.row("0" * 64) is None
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert read.row(hashed) == core
        assert read.row("0" * 64) is None
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == 2 and all("api_tokens" in s for s in seen)


# --- which routes may defer the caller -------------------------------------------------------
def _deferral_problems(endpoint: type) -> list[str]:
    """Why ``endpoint``'s verbs could not resolve their caller inside their first service
    call: ``self.actor`` used other than as an argument of ``self.run`` (or ``self.read``), a
    first such call without it, or the body read in the verb itself (on the event loop,
    before the caller)."""
    problems = []
    for verb in VERBS:
        function = getattr(endpoint, verb, None)
        if function is None:
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        runs = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("self.run", "self.read")
        ]
        run_args = {id(arg) for run in runs for arg in run.args}
        for node in ast.walk(tree):
            text = ast.unparse(node) if isinstance(node, ast.Attribute | ast.Call) else ""
            if text == "self.actor" and id(node) not in run_args:
                problems.append(f"{verb}: self.actor outside self.run/read")
            if text in ("self.body()", "self.json_body()"):
                problems.append(f"{verb}: reads the body on the event loop")
        first = min(runs, key=lambda run: (run.lineno, run.col_offset), default=None)
        if first is None or "self.actor" not in [ast.unparse(a) for a in first.args]:
            problems.append(f"{verb}: its first self.run/read does not take self.actor")
    return problems


def test_every_deferring_route_resolves_its_caller_in_its_first_service_call():
    deferring = [endpoint for _, endpoint in ROUTES if endpoint.defer_actor]
    assert deferring
    for endpoint in deferring:
        assert _deferral_problems(endpoint) == [], endpoint.__name__
    # the check sees what would break it
    assert _deferral_problems(handlers.LogoutHandler)  # answers without the caller
    assert _deferral_problems(handlers.EventsHandler)  # subscribes the caller on the loop
    assert _deferral_problems(handlers.RequestDenyHandler)  # reads its body on the loop


def test_a_refusal_before_the_body_is_read_says_the_connection_closes(node, root):
    """Refused in prepare (here an unknown route, and a forged token on a route that checks
    the caller first), tornado closes the connection: the answer says so, and a client that
    reuses its connection never meets a reset on its next call."""
    connection = root.session.api.connection
    for _ in range(200):
        with pytest.raises(sy.SyftException, match="No such Datasite route"):
            connection.get("no/such/route")
        assert connection.get("users/me")["id"]
    with requests.Session() as session:
        unknown = session.get(f"{node.url}/{routes.API_PREFIX}no/such", timeout=10)
        assert unknown.status_code == 404 and unknown.headers["Connection"] == "close"
        forged = session.get(
            f"{node.url}/{routes.API_PREFIX}code",
            headers=FORGED,
            timeout=10,
        )
        assert forged.status_code == 401 and forged.headers["Connection"] == "close"
        # refused by a service after the request was read: the connection is kept
        missing = session.get(
            f"{node.url}/{routes.API_PREFIX}datasets/no-such-dataset",
            headers=_bearer(root),
            timeout=10,
        )
        assert missing.status_code == 404 and "Connection" not in missing.headers
