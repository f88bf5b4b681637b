"""The HTTP layer's work per call: routes with ``defer_actor`` resolve the caller inside their
first service call (one hand-off to the Datasite's thread pool per call instead of two, and
still no answer without a session); answers are encoded by pydantic's serializer."""

import re
import uuid

import pytest
import requests

from jupyter_syft.server.http.base import _PENDING
from jupyter_syft.server.http.handlers import route_table
from jupyter_syft.wire.routes import API_PREFIX

DEFERRED = [(p, h) for p, h in route_table("/") if h.defer_actor]


def _path(pattern: str) -> str:
    """A concrete path for a route pattern: a random id for each id group and a name for
    each name group (the caller is refused before any lookup), the first choice of each
    (a|b) group."""
    path = re.sub(r"\(\[0-9a-f\]\{32\}\)", lambda _: uuid.uuid4().hex, pattern)
    path = path.replace("([^/]+)", "some-name")
    path = re.sub(r"\(([a-z_]+)(\|[a-z_|]+)?\)", lambda m: m.group(1), path)
    return path.rstrip("$")


def test_the_hot_read_routes_defer_the_caller():
    names = {h.__name__ for _, h in DEFERRED}
    assert {"MeHandler", "DatasetsHandler", "AssetValueHandler", "JobHandler"} <= names
    assert {"RequestsHandler", "RequestHandler", "RequestApproveHandler"} <= names


@pytest.mark.parametrize(
    ("pattern", "verb"), [(p, verb) for p, h in DEFERRED for verb in h.contract]
)
def test_a_deferred_route_refuses_a_forged_token(node, pattern, verb):
    """Before anything else: a body that is not even JSON is not looked at first."""
    url = node.url.rstrip("/") + "/" + API_PREFIX + _path(pattern).lstrip("/")
    body = None if verb == "get" else b"not json"
    answer = requests.request(
        verb, url, headers={"Authorization": "Bearer forged-token"}, data=body, timeout=30
    )
    assert answer.status_code == 401, (verb, url, answer.text)
    assert answer.json()["error"] == "unauthorized"


def test_a_deferred_call_hands_off_to_the_pool_once(node, root, scientist, uploaded, monkeypatch):
    from handoffs import counting_handoffs

    submitted = counting_handoffs(node.datasite, monkeypatch)
    headers = {"Authorization": f"Bearer {scientist.session.api.connection.token}"}
    base = node.url.rstrip("/") + "/" + API_PREFIX
    listed = requests.get(base + "requests", headers=headers, timeout=30)
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert len(submitted) == 1  # the caller and the list in one hand-off
    submitted.clear()
    # one of the busiest reads: none on a SQLite file (run on the loop's thread)
    listed = requests.get(base + "datasets", headers=headers, timeout=30)
    assert listed.status_code == 200 and listed.json()["items"][0]["name"] == "Patients"
    assert len(submitted) == (0 if node.datasite.store.reads_never_wait else 1)
    submitted.clear()
    # a route that does not defer: the caller first, then the call
    mine = requests.get(base + "code", headers=headers, timeout=30)
    assert mine.status_code == 200
    assert len(submitted) == 2


def test_the_placeholder_caller_may_do_nothing():
    """Used before the first service call, it is refused like a caller with no session."""
    assert _PENDING.is_anonymous and not _PENDING.is_owner
    with pytest.raises(Exception, match=r"[Ll]og in|session"):
        _PENDING.require_user("read this")


def test_wire_models_are_encoded_by_pydantic_and_text_utf8_cannot_hold_still_goes_out():
    import json

    from jupyter_syft.server.http.base import encode_json
    from jupyter_syft.wire import models as wire

    plain = wire.Ok(ok=True)
    assert json.loads(encode_json(plain)) == plain.model_dump(mode="json", exclude_unset=True)
    broken = wire.ProjectRef(id="p1", name="a\ud800b")  # stored text with a lone surrogate
    assert json.loads(encode_json(broken)) == {"id": "p1", "name": "a\ud800b"}
    assert json.loads(encode_json({"items": [1, "é"]})) == {"items": [1, "é"]}
