"""The client's transport (client/connection.py) against real HTTP servers on loopback: what
a user reads when the address is not a Datasite, and what goes on the wire."""

import json
import math
import socket

import pytest

import jupyter_syft as sy
from jupyter_syft.client.connection import Connection
from tests.loopback_http import RecordingHandler, loopback_server, recording_server


@pytest.fixture
def other_server():
    with recording_server() as served:
        yield served


def test_an_address_that_answers_html_is_not_taken_for_a_datasite(other_server):
    url, recorder = other_server
    recorder.answer = (200, "text/html", b"<html>a blog</html>")
    with pytest.raises(sy.SyftException, match="not JSON: it does not look like a Datasite"):
        Connection(url).get("metadata")


def test_a_redirect_is_reported_not_followed(other_server):
    url, recorder = other_server
    recorder.answer = (302, "text/html", b"")
    with pytest.raises(sy.SyftException, match=r"302.*redirect") as caught:
        Connection(url).get("metadata")
    assert caught.value.status == 302
    assert len(recorder.seen) == 1  # /login was never asked for


def test_an_error_answer_without_a_datasite_body_says_what_the_status_was(other_server):
    url, recorder = other_server
    recorder.answer = (502, "text/plain", b"Bad Gateway")
    with pytest.raises(sy.SyftException, match="answered 502 Bad Gateway") as caught:
        Connection(url).get("metadata")
    assert caught.value.status == 502


def test_what_a_json_call_sends(other_server):
    url, recorder = other_server
    recorder.answer = (200, "application/json", b'{"ok": true}')
    connection = Connection(url, token="tok-123")
    assert connection.get("things", limit=5, q=None, tags=["a", "b"]) == {"ok": True}
    assert connection.post("things", {"name": "é"}) == {"ok": True}
    get, post = recorder.seen
    assert get.command == "GET" and get.path.endswith("/things?limit=5&tags=a&tags=b")
    assert dict(get.headers)["Authorization"] == "Bearer tok-123"
    assert dict(get.headers)["User-Agent"].startswith("jupyter-syft/")
    assert post.command == "POST" and dict(post.headers)["Content-Type"] == "application/json"
    assert json.loads(post.body) == {"name": "é"}


def test_a_value_json_cannot_carry_is_refused_before_sending(other_server):
    url, recorder = other_server
    with pytest.raises(sy.SyftException, match="NaN or infinity"):
        Connection(url).post("things", {"x": math.nan})
    with pytest.raises(sy.SyftException, match="cannot be sent as JSON"):
        Connection(url).post("things", {"x": object()})
    assert recorder.seen == []


def test_a_closed_port_says_the_datasite_cannot_be_reached():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends
    with pytest.raises(sy.SyftException, match="Cannot reach the Datasite"):
        Connection(f"http://127.0.0.1:{port}/").get("metadata")


def test_a_datasite_that_does_not_answer_in_time(monkeypatch):
    """A server that accepts and never answers: the read timeout ends the call."""
    import jupyter_syft.client.connection as connection_module

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        monkeypatch.setattr(connection_module, "TIMEOUT", (5, 0.5))
        port = listener.getsockname()[1]
        with pytest.raises(sy.SyftException, match="did not answer in time"):
            Connection(f"http://127.0.0.1:{port}/").get("metadata")
    finally:
        listener.close()


class _CutOff(RecordingHandler):
    def do_GET(self):
        type(self).seen.append(self.path)
        if self.path.endswith("/cut"):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.close_connection = True
            return
        payload = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def test_a_download_cut_off_says_so_and_the_next_call_works():
    _CutOff.seen = []
    with loopback_server(_CutOff) as port:
        connection = Connection(f"http://127.0.0.1:{port}/")
        with pytest.raises(sy.SyftException, match="cut off"):
            connection.download("values/cut")
        assert connection.get("metadata") == {"ok": True}
