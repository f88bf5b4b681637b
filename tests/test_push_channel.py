"""The push channel (server/push.py, route ``events``): a real Datasite on loopback, streams
read over HTTP as a browser would (server-sent events), and its JSON catch-up answer."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import pytest
import requests
from lab_config import extension_config

import jupyter_syft as sy
from jupyter_syft.wire import routes

STREAM = {"Accept": "text/event-stream"}
CODE = "def {name}():\n    return 1\n"


class Reader:
    """One open stream, read on a thread of its own: its events (and resets) in a queue."""

    def __init__(self, url: str, token: str | None, last_event_id: str | None = None):
        headers = dict(STREAM)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.response = requests.get(url, headers=headers, stream=True, timeout=30)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.comments = 0
        self.ended = threading.Event()
        if self.response.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        kind, data, event_id = "message", "", None
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                line = raw or ""
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line == "" and data:
                    self.events.put({"kind": kind, "id": event_id, **json.loads(data)})
                    kind, data, event_id = "message", "", None
        except (requests.RequestException, AttributeError, ValueError):
            pass
        finally:
            self.ended.set()

    def next(self, timeout: float = 10.0) -> dict[str, Any]:
        return self.events.get(timeout=timeout)

    def until(self, match: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The first event ``match`` accepts (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if match(event):
                return event

    def drain(self, wait: float = 0.5) -> list[dict[str, Any]]:
        time.sleep(wait)
        found = []
        while True:
            try:
                found.append(self.events.get_nowait())
            except queue.Empty:
                return found

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def site(node, root, scientist):
    other = _account(root, node, "other@example.org")
    url = root.connection.api_url + routes.EVENTS
    readers: list[Reader] = []

    def open_reader(who: Any, last_event_id: str | None = None) -> Reader:
        reader = Reader(url, who.connection.token, last_event_id)
        readers.append(reader)
        return reader

    yield {
        "url": url,
        "root": root,
        "sci": scientist,
        "other": other,
        "open": open_reader,
        "hub": node.datasite.push,
    }
    for reader in readers:
        reader.close()


def _account(root: Any, node: Any, email: str) -> Any:
    root.users.create(
        sy.UserCreate(
            email=email, name=email, password="pw-x-123456", role=sy.ServiceRole.DATA_SCIENTIST
        )
    )
    return sy.login(url=node.url, email=email, password="pw-x-123456", verbose=False)


def _request(client: Any, name: str) -> str:
    body = {"code": {"name": name, "raw_code": CODE.format(name=name)}, "reason": "why"}
    return client.connection.post(routes.REQUESTS, body)["id"]


def _poll(url: str, token: str, **params: Any) -> requests.Response:
    return requests.get(
        url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _wait_connected(site: dict[str, Any], count: int) -> None:
    """Until the hub counts ``count`` open streams (they are open once it does)."""
    deadline = time.monotonic() + 10
    hub = site["hub"]
    while hub.connections() < count:
        assert time.monotonic() < deadline, hub.connections()
        time.sleep(0.02)


def test_a_request_reaches_the_owner_and_only_its_scientist(site):
    owner, sci = site["open"](site["root"]), site["open"](site["sci"])
    other = site["open"](site["other"])
    _wait_connected(site, 3)
    request_id = _request(site["sci"], "mine")
    seen = owner.until(lambda e: e["topic"] == "requests")
    assert seen["object_id"] == request_id and seen["change"] == "created"
    assert seen["id"] and set(seen) == {"kind", "id", "topic", "object_id", "change", "request_id"}
    assert seen["request_id"] == request_id
    assert sci.until(lambda e: e["topic"] == "requests")["object_id"] == request_id
    # another scientist hears nothing of it: neither the request nor anything else of theirs
    assert not [e for e in other.drain() if e["topic"] != "datasets"]
    # the decision: the owner and the requester, never the other scientist
    site["root"].connection.post(
        routes.path(routes.REQUEST_DENY, request_id=request_id), {"reason": "no"}
    )
    assert sci.until(lambda e: e["change"] == "denied")["object_id"] == request_id
    assert owner.until(lambda e: e["change"] == "denied")["object_id"] == request_id
    theirs = _request(site["other"], "theirs")
    assert owner.until(lambda e: e["object_id"] == theirs)["topic"] == "requests"
    assert other.until(lambda e: e["object_id"] == theirs)["topic"] == "requests"
    assert not [e for e in sci.drain() if e["object_id"] == theirs]


def test_events_never_carry_values_names_or_code(site):
    owner = site["open"](site["root"])
    _wait_connected(site, 1)
    _request(site["sci"], "secret_function_name")
    event = owner.until(lambda e: e["topic"] == "requests")
    text = json.dumps(event)
    assert "secret_function_name" not in text and "why" not in text and "return" not in text


def test_resume_with_last_event_id_replays_what_was_missed(site):
    owner = site["open"](site["root"])
    _wait_connected(site, 1)
    first = _request(site["sci"], "first")
    last_id = owner.until(lambda e: e["object_id"] == first)["id"]
    owner.close()
    missed = [_request(site["sci"], f"missed_{i}") for i in range(3)]
    theirs = _request(site["other"], "not_for_sci")
    # the scientist resuming from the same id gets their own missed requests, in order, only
    resumed = site["open"](site["sci"], last_event_id=last_id)
    got = [resumed.until(lambda e, i=i: e["object_id"] == i)["object_id"] for i in missed]
    assert got == missed
    assert not [e for e in resumed.drain() if e["object_id"] == theirs]
    again = site["open"](site["root"], last_event_id=last_id)
    ids = [again.until(lambda e, i=i: e["object_id"] == i)["id"] for i in [*missed, theirs]]
    assert ids == sorted(ids, key=lambda i: int(i.split("-")[1]))  # monotonic


def test_the_json_answer_is_the_same_catch_up_for_polling(site):
    root, sci = site["root"], site["sci"]
    start = _poll(site["url"], sci.connection.token).json()
    assert start["events"] == [] and start["reset"] is False
    request_id = _request(sci, "polled")
    deadline = time.monotonic() + 10
    while True:
        answer = _poll(site["url"], sci.connection.token, last_event_id=start["last_event_id"])
        assert answer.status_code == 200, answer.text
        events = answer.json()["events"]
        if any(e["object_id"] == request_id for e in events):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert {e["topic"] for e in events} <= {"requests", "datasets", "users"}
    other = _poll(site["url"], site["other"].connection.token, last_event_id=start["last_event_id"])
    assert request_id not in other.text
    # paged: limit=1 gives one event and the id to go on from
    answer = _poll(site["url"], root.connection.token, last_event_id="0", limit=1)
    assert answer.status_code == 400 and "Last-Event-ID" in answer.json()["detail"]
    first_id = start["last_event_id"]
    page = _poll(site["url"], root.connection.token, last_event_id=first_id, limit=1).json()
    assert len(page["events"]) == 1 and page["last_event_id"] == page["events"][0]["id"]


def test_bad_or_unknown_last_event_ids_are_a_400_or_a_reset_never_a_500(site):
    token = site["sci"].connection.token
    for bad in ("x" * 5000, "abc", "-1", "zzzzzzzz-1", "\u00b2", "12345678-" + "9" * 30):
        answer = _poll(site["url"], token, last_event_id=bad)
        assert answer.status_code == 400, (bad, answer.text)
        assert "Last-Event-ID" in answer.json()["detail"]
        stream = Reader(site["url"], token, last_event_id=bad[:200])
        assert stream.response.status_code == 400, bad
        stream.close()
    # well-formed, but of another process (or too old): reset, i.e. reload everything
    reset = _poll(site["url"], token, last_event_id="00000000-5").json()
    assert reset["reset"] is True and reset["events"] == []
    stream = site["open"](site["sci"], last_event_id="00000000-5")
    event = stream.next()
    assert event["kind"] == "reset" and event["last_event_id"] == event["id"]
    answer = _poll(site["url"], token, limit="many")
    assert answer.status_code == 400 and "limit" in answer.json()["detail"]


def test_the_connection_cap_is_a_429_that_says_what_to_do(site):
    root, sci = site["root"], site["sci"]
    root.connection.patch(routes.SETTINGS, {"push_connections_per_user": 2})
    site["open"](sci), site["open"](sci)
    _wait_connected(site, 2)
    third = Reader(site["url"], sci.connection.token)
    assert third.response.status_code == 429
    detail = third.response.json()["detail"]
    assert "push_connections_per_user" in detail and "(2)" in detail
    third.close()
    # the cap is per account: the owner still connects
    assert site["open"](root).response.status_code == 200


def test_anonymous_callers_and_bad_tokens_are_refused(site):
    anonymous = Reader(site["url"], None)
    assert anonymous.response.status_code in (401, 403)
    assert "Log in" in anonymous.response.json()["detail"]
    anonymous.close()
    bad = Reader(site["url"], "not-a-token")
    assert bad.response.status_code == 401
    bad.close()


def test_a_stream_ends_when_its_session_does_or_the_datasite_closes(site):
    sci = site["sci"]
    hub = site["hub"]
    hub.keepalive = 0.2
    stream = site["open"](sci)
    _wait_connected(site, 1)
    time.sleep(0.5)
    assert stream.comments >= 1  # keepalive comments while nothing happens
    sci.connection.post(routes.LOGOUT)
    assert stream.ended.wait(5)  # the session ended: so did the stream
    assert hub.connections() == 0
    owner = site["open"](site["root"])
    _wait_connected(site, 1)
    hub.close()
    assert owner.ended.wait(5)


def test_a_job_finishing_and_a_held_output_are_told(site, uploaded):
    root, sci = site["root"], site["sci"]
    root.connection.patch(routes.SETTINGS, {"release": "manual"})
    asset = root.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def mean_age(data):
        return float(data["age"].mean())

    owner, mine = site["open"](root), site["open"](sci)
    _wait_connected(site, 2)
    request = sci.code.request_code_execution(mean_age)
    root.requests[0].approve()
    assert mine.until(lambda e: e["change"] == "approved")["object_id"] == request.id
    job = sci.code.mean_age(data=asset, blocking=False)
    job.wait()
    # the run's output is held (both sides hear of it), then its job finishes
    held = owner.until(lambda e: e["topic"] == "outputs" and e["change"] == "held")
    mine_held = mine.until(lambda e: e["change"] == "held")
    assert mine_held["object_id"] == held["object_id"]
    # both name the request, so the scientist's notification opens its view
    assert held["request_id"] == mine_held["request_id"] == request.id
    finished = mine.until(lambda e: e["topic"] == "jobs" and e["change"] == "completed")
    assert finished["object_id"] == job.id
    assert finished["request_id"] == request.id


def test_a_failed_job_is_told_as_errored_with_its_request(site, uploaded):
    root, sci = site["root"], site["sci"]
    asset = root.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def broken(data):
        return data["no such column"].sum()

    owner, mine = site["open"](root), site["open"](sci)
    _wait_connected(site, 2)
    request = sci.code.request_code_execution(broken)
    root.requests[0].approve()
    job = sci.code.broken(data=asset, blocking=False)
    with pytest.raises(sy.SyftException, match="no such column"):
        job.wait()
    errored = mine.until(lambda e: e["topic"] == "jobs" and e["change"] == "errored")
    assert (errored["object_id"], errored["request_id"]) == (job.id, request.id)
    assert owner.until(lambda e: e["change"] == "errored")["object_id"] == job.id


# --- inside Jupyter Server: the lab route (Jupyter login) and the remote route (tokens) ---------
@pytest.fixture
def jp_server_config(tmp_path):
    return extension_config(
        tmp_path / "datasite",
        "lab-push",
        root_email="owner@lab.example",
        root_password="pw-owner-123",
    )


async def test_the_lab_route_streams_to_the_jupyter_user(
    jp_fetch, jp_serverapp, http_server_client, jp_http_port, jp_base_url, jp_auth_header
):
    import asyncio

    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    hub = jp_serverapp.web_app.settings["jupyter_syft_datasite"].push
    hub.keepalive = 0.2
    text: list[str] = []
    opened, told = asyncio.Event(), asyncio.Event()

    def on_chunk(chunk: bytes) -> None:
        text.append(chunk.decode())
        if "retry:" in "".join(text):
            opened.set()
        if '"topic": "users"' in "".join(text) or '"topic":"users"' in "".join(text):
            told.set()

    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}syft/lab/api/v1/events"
    request = HTTPRequest(
        url,
        headers={**jp_auth_header, "Accept": "text/event-stream"},
        streaming_callback=on_chunk,
        request_timeout=60,
    )
    fetch = asyncio.ensure_future(AsyncHTTPClient().fetch(request, raise_error=False))
    try:
        await asyncio.wait_for(opened.wait(), 10)
    except TimeoutError:
        raise AssertionError(text) from None
    body = {"email": "ds@lab.example", "name": "Dee", "password": "pw-ds-123"}
    await jp_fetch("syft", "lab", "api", "v1", "users", method="POST", body=json.dumps(body))
    await asyncio.wait_for(told.wait(), 10)
    # the stream ends at its age limit (the client resumes from its last id)
    hub.max_age = 0.0
    response = await asyncio.wait_for(fetch, 10)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    # a Datasite token on the remote route: JSON catch-up, only what that account may see
    login = await jp_fetch(
        "syft", "api", "v1", "auth", "login",
        method="POST",
        body=json.dumps({"email": "ds@lab.example", "password": "pw-ds-123"}),
        headers={"Authorization": ""},
    )  # fmt: skip
    token = json.loads(login.body)["token"]
    answer = await jp_fetch(
        "syft", "api", "v1", "events",
        params={"last_event_id": hub.event_id(0)},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    events = json.loads(answer.body)["events"]
    me = json.loads(
        (
            await jp_fetch(
                "syft", "api", "v1", "users", "me", headers={"Authorization": f"Bearer {token}"}
            )
        ).body
    )  # fmt: skip
    assert {(e["topic"], e["object_id"]) for e in events} == {("users", me["id"])}
    # without the Jupyter login, the lab route refuses
    refused = await jp_fetch(
        "syft", "lab", "api", "v1", "events", headers={"Authorization": ""}, raise_error=False
    )
    assert refused.code == 403


async def test_the_sidebar_hears_a_remote_datasite_through_the_relay(
    node, root, scientist, jp_fetch, http_server_client, jp_http_port, jp_base_url, jp_auth_header
):
    """A scientist connected to a remote Datasite from JupyterLab: its push channel is relayed
    (only what that scientist may see), and its JSON catch-up too."""
    import asyncio

    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    node.datasite.push.keepalive = 0.2
    connected = await jp_fetch(
        "syft", "lab", "remotes",
        method="POST",
        body=json.dumps({"url": node.url, "email": "ds@example.org", "password": "pw-ds-123"}),
    )  # fmt: skip
    remote_id = json.loads(connected.body)["id"]
    text: list[str] = []
    opened, told = asyncio.Event(), asyncio.Event()
    wanted: dict[str, str] = {}

    def on_chunk(chunk: bytes) -> None:
        text.append(chunk.decode())
        joined = "".join(text)
        if "retry:" in joined:
            opened.set()
        if wanted.get("id") and wanted["id"] in joined:
            told.set()

    lab = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    url = f"{lab}syft/lab/remotes/{remote_id}/api/v1/events"
    request = HTTPRequest(
        url,
        headers={**jp_auth_header, "Accept": "text/event-stream"},
        streaming_callback=on_chunk,
        request_timeout=60,
    )
    fetch = asyncio.ensure_future(AsyncHTTPClient().fetch(request, raise_error=False))
    await asyncio.wait_for(opened.wait(), 10)
    start = node.datasite.push.last_id()
    theirs = _account(root, node, "else@example.org")
    other_id = await asyncio.to_thread(_request, theirs, "not_relayed")
    wanted["id"] = await asyncio.to_thread(_request, scientist, "relayed")
    await asyncio.wait_for(told.wait(), 10)
    assert other_id not in "".join(text)
    node.datasite.push.max_age = 0.0  # the remote ends its stream: so does the relay
    response = await asyncio.wait_for(fetch, 10)
    assert response.code == 200
    caught_up = await jp_fetch(
        "syft", "lab", "remotes", remote_id, "api", "v1", "events",
        params={"last_event_id": start},
    )  # fmt: skip
    ids = {e["object_id"] for e in json.loads(caught_up.body)["events"]}
    assert wanted["id"] in ids and other_id not in ids
    bad = await jp_fetch(
        "syft", "lab", "remotes", remote_id, "api", "v1", "events",
        params={"last_event_id": "nonsense"},
        raise_error=False,
    )  # fmt: skip
    assert bad.code == 400 and "Last-Event-ID" in json.loads(bad.body)["detail"]
