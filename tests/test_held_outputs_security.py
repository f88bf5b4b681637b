"""A held or withheld result never reaches a scientist or a guest, through any route (issue 13).

The private frame carries a marker the mock does not; the requester's function returns it (and
prints it). With the Datasite in ``manual`` mode the result is held; another copy is withheld.
Then every GET route of the table is called with every real id, as the requester, another
scientist and a guest, and the re-run routes as the requester: no answer may contain the
marker. The owner reading it, and the requester reading it once it is released, show the walk
would see it if it leaked.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest
from held_outputs import SCIENTIST, Site

import jupyter_syft as sy
from jupyter_syft import serde
from jupyter_syft.server.http.handlers import ROUTES
from jupyter_syft.wire import routes

MARKER = "HELD-MARKER-5c1e"
SOURCE = "def first_name(data):\n    print(data['name'][0])\n    return data['name'][0]\n"


@pytest.fixture
def site(node, root, scientist):
    private = pd.DataFrame({"name": [MARKER, "x"], "v": [1, 2]})
    mock = pd.DataFrame({"name": ["m1", "m2"], "v": [0, 0]})
    root.upload_dataset(
        sy.Dataset(name="Secret", asset_list=[sy.Asset(name="t", data=private, mock=mock)]),
        progress=False,
    )
    site = Site(node.url)
    site.login("owner", "info@openmined.org", "changethis")
    site.login("requester", *SCIENTIST)
    site.ok(
        "owner",
        "post",
        routes.USERS,
        {"email": "eve@example.org", "password": "pw-eve-123", "name": "Eve"},
    )
    site.login("other", "eve@example.org", "pw-eve-123")
    site.guest()
    site.set_release("manual")
    project = site.ok("requester", "post", routes.PROJECTS, {"name": "Names", "description": "x"})
    code_id = site.approved("first_name", SOURCE, who="requester")
    held = site.run(code_id, who="requester")
    withheld = site.run(code_id, who="requester")
    job = site.run_as_job(code_id, who="requester")
    assert {held["release"], withheld["release"], job["execution"]["release"]} == {"held"}
    site.ok(
        "owner", "post", routes.OUTPUT_WITHHOLD, {"reason": "names"}, execution_id=withheld["id"]
    )
    # the marker is really in there: the owner reads it
    for execution in (held, withheld, job["execution"]):
        value = site.ok("owner", "get", routes.EXECUTION_RESULT, execution_id=execution["id"])
        assert serde.loads(value) == MARKER and MARKER.encode() in value
    request = site.ok("requester", "get", routes.REQUESTS)["items"][0]
    asset = site.asset()
    # the notifications of the held results (written in the background): the requester's, the
    # owner's; the walk below reads them as everyone
    notes: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while len(notes) < 2 and time.monotonic() < deadline:
        for who, kind in (("requester", "result_held"), ("owner", "output_held")):
            items = site.ok(who, "get", routes.NOTIFICATIONS)["items"]
            notes.update({who: n["id"] for n in items if n["kind"] == kind})
        time.sleep(0.05)
    assert len(notes) == 2, notes
    ids = {
        "user_id": [site.ok(w, "get", routes.ME)["id"] for w in ("owner", "requester", "other")],
        "code_id": [code_id],
        "job_id": [job["id"]],
        "asset_id": [asset["id"]],
        "execution_id": [held["id"], withheld["id"], job["execution"]["id"]],
        "request_id": [request["id"]],
        "which": ["mock", "data"],
        "dataset": ["Secret"],
        "project": [project["id"]],
        "name": ["first_name"],
        "notification_id": list(notes.values()),
        "environment": ["stats"],
        "environment_request_id": [code_id],
    }
    return site, ids, code_id, held


def _filled(template: str, ids: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of real ids for ``template``'s parameters."""
    combos: list[dict[str, str]] = [{}]
    for name in routes.parameters(template):
        combos = [{**c, name: value} for c in combos for value in ids[name]]
    return combos


def test_a_held_result_reaches_no_scientist_or_guest_through_any_route(site):
    site, ids, code_id, held = site
    called = 0
    for template, endpoint in ROUTES:
        if "get" not in endpoint.contract:
            continue
        for params in _filled(template, ids):
            for who in ("requester", "other", "guest"):
                for query in (None, {"rows": "5"}):
                    answer = site.call(who, "get", template, query=query, **params)
                    assert MARKER.encode() not in answer.content, (who, template, params)
                    called += 1
    assert called > 100
    # running the code again (the output policy allows 10) gives another held run, no value
    body = site.inputs()
    for template, params in (
        (routes.CODE_RUN, {"code_id": code_id}),
        (routes.CODE_BY_NAME_RUN, {"name": "first_name"}),
        (routes.CODE_JOBS, {"code_id": code_id}),
        (routes.CODE_BY_NAME_JOBS, {"name": "first_name"}),
    ):
        answer = site.call("requester", "post", template, body, **params)
        assert answer.ok and MARKER.encode() not in answer.content, (template, answer.text)
    refused = site.call("requester", "get", routes.EXECUTION_RESULT, execution_id=held["id"])
    assert refused.status_code == 403 and refused.json()["error"] == "held"
    # the requester may justify it (the answer is their own text); nobody else may even try
    for who, status in (("requester", 200), ("other", 404), ("guest", 404)):
        answer = site.call(
            who, "post", routes.OUTPUT_JUSTIFICATION, {"text": "why"}, execution_id=held["id"]
        )
        assert answer.status_code == status and MARKER.encode() not in answer.content, who
    # and once released, the very same route hands it over: the walk above would have seen it
    site.ok("owner", "post", routes.OUTPUT_RELEASE, {}, execution_id=held["id"])
    value = site.ok("requester", "get", routes.EXECUTION_RESULT, execution_id=held["id"])
    assert serde.loads(value) == MARKER
    # to its requester only: another scientist and a guest still get nothing
    for who in ("other", "guest"):
        answer = site.call(who, "get", routes.EXECUTION_RESULT, execution_id=held["id"])
        assert answer.status_code in (403, 404) and MARKER.encode() not in answer.content
