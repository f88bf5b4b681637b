"""``sy.autocache(url)`` (issue 14, item 8): downloads once from a real HTTP server on
loopback, then serves from the cache; offline and bad answers say what to do."""

from __future__ import annotations

import http.server
import threading

import pytest

import jupyter_syft as sy

CSV = b"country,value\nca,1\nde,2\n"


@pytest.fixture
def web(tmp_path, monkeypatch):
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path.startswith("/trade.csv"):
                self.send_response(200)
                self.send_header("Content-Length", str(len(CSV)))
                self.end_headers()
                self.wfile.write(CSV)
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("JUPYTER_SYFT_CACHE", str(tmp_path / "cache"))
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_autocache_downloads_once_then_reads_the_cache(web, tmp_path):
    url, hits = web
    import pandas as pd

    first = sy.autocache(f"{url}/trade.csv?raw=True")
    assert first.suffix == ".csv" and first.read_bytes() == CSV
    again = sy.autocache(f"{url}/trade.csv?raw=True")
    assert again == first and len(hits) == 1
    assert list(pd.read_csv(again)["country"]) == ["ca", "de"]
    sy.autocache(f"{url}/trade.csv?raw=True", cache=False)
    assert len(hits) == 2
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]  # no leftovers


def test_autocache_failures_say_what_to_do(web, tmp_path):
    url, _ = web
    with pytest.raises(sy.SyftException, match="answered 404"):
        sy.autocache(f"{url}/missing.csv")
    with pytest.raises(sy.SyftException, match="offline"):
        sy.autocache("http://127.0.0.1:9/closed.csv")  # the discard port: nobody listens
    with pytest.raises(sy.SyftException, match="http"):
        sy.autocache("file:///etc/passwd")
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".part-")]
