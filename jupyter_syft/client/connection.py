"""HTTP to one Datasite: JSON calls, and values streamed in chunks with a progress bar.

The transport only: which route to call, with what, is ``api.py``'s business.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import SyftException
from ..wire.contract import VALUE_MEDIA_TYPE
from ..wire.routes import API_PREFIX

if TYPE_CHECKING:
    import requests

    from ..serde import Encoded

PROGRESS_MIN_BYTES = 8 << 20  # smaller transfers finish before a bar would be useful
CHUNK = 4 << 20
TIMEOUT = (10, 600)  # (connect, read) seconds


def resolve_url(url: str | None = None, port: int | str | None = None) -> str:
    """``"localhost"``, ``"host:8083"``, ``"http://host:8888/base/"`` (+ ``port``) -> base URL."""
    url = (url or "localhost").strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyftException(f"{url!r} is not a Datasite address; use e.g. 'http://localhost:8083'.")
    host = parts.hostname
    if host == "localhost":
        host = "127.0.0.1"  # skips a failed ::1 attempt on every new connection
    if port is not None and str(port).strip():
        if not str(port).strip().isdigit():
            raise SyftException(f"port must be a number, not {port!r}.")
        port_number: int | None = int(port)
    else:
        port_number = parts.port
    netloc = f"[{host}]" if ":" in host else host
    if port_number is not None:
        netloc += f":{port_number}"
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


class Connection:
    page_size = 500  # the most a Datasite gives per page: fewest round trips

    def __init__(self, base_url: str, token: str | None = None):
        import requests

        self.base_url = base_url
        self.api_url = base_url + API_PREFIX
        self.token = token
        self.session: requests.Session = requests.Session()
        self.session.trust_env = False  # a proxy in the environment must not see Datasite tokens
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def with_token(self, token: str | None) -> Connection:
        return Connection(self.base_url, token)

    # --- JSON --------------------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None)

    def get_pages(self, path: str, **params: Any) -> Iterator[Any]:
        """Every item of a paged list route, page after page (see server/services/paging.py);
        ``limit``: rows per page (default ``page_size``), other params filter the list.

        Pages are keyset pages: items added while this walks never make it repeat or skip one.
        """
        params = {k: v for k, v in params.items() if v is not None}
        params["limit"] = params.get("limit") or self.page_size
        while True:
            page = self.get(path, **params)
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, json=body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        return response.json() if response.content else None

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        import requests

        try:
            response = self.session.request(method, self.api_url + path, timeout=TIMEOUT, **kwargs)
        except requests.ConnectionError:
            raise SyftException(
                f"Cannot reach the Datasite at {self.base_url}. Is it running, and is the "
                "address right? (Start one with sy.orchestra.launch(...) or `jupyter-syft serve`.)"
            ) from None
        except requests.Timeout:
            raise SyftException(
                f"The Datasite at {self.base_url} did not answer in time."
            ) from None
        if response.status_code >= 400:
            raise error_from_response(response, self.base_url)
        return response

    # --- values ------------------------------------------------------------------------------
    def upload(self, path: str, encoded: Encoded, label: str = "") -> Any:
        """Stream a value: a large DataFrame is converted batch by batch as it is sent."""
        bar = _progress(encoded.nbytes, f"Uploading {label}".strip())
        try:
            response = self._send(
                "POST",
                path,
                data=_Body(encoded, bar),
                headers={"Content-Type": VALUE_MEDIA_TYPE},
            )
        finally:
            if bar is not None:
                bar.close()
        return response.json()

    def download(self, path: str, label: str = "", **params: Any) -> Any:
        """Fetch a value and decode it; the body goes straight into one preallocated buffer."""
        from .. import serde

        response = self._send("GET", path, params=params or None, stream=True)
        try:
            size = int(response.headers.get("Content-Length") or 0)
            if not size:
                return serde.decode(response.content)
            buffer = bytearray(size)
            view = memoryview(buffer)
            bar = _progress(size, f"Downloading {label}".strip())
            received = 0
            raw = response.raw
            while received < size:
                n = raw.readinto(view[received : received + CHUNK])
                if not n:
                    raise SyftException("The download was cut off; try again.")
                received += n
                if bar is not None:
                    bar.update(n)
            if bar is not None:
                bar.close()
        finally:
            response.close()
        return serde.decode(buffer)


class _Body:
    """An upload's body: its length is known, so it goes with a Content-Length (the Datasite
    refuses one over its limit before reading it), and its chunks are made as it is sent."""

    def __init__(self, encoded: Encoded, bar: Any):
        self.encoded = encoded
        self.bar = bar

    def __len__(self) -> int:
        return self.encoded.nbytes

    def __iter__(self) -> Iterator[memoryview]:
        for chunk in self.encoded.iter_chunks(CHUNK):
            yield chunk
            if self.bar is not None:
                self.bar.update(len(chunk))


def _progress(total: int, label: str) -> Any:
    if total < PROGRESS_MIN_BYTES:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, leave=False)


def error_from_response(response: requests.Response, base_url: str) -> SyftException:
    try:
        body = response.json()
        detail, code = body.get("detail") or body.get("error"), body.get("error", "")
    except ValueError:
        detail, code = None, ""
    if not detail:
        if response.status_code == 404:
            detail = f"{base_url} does not look like a Datasite (no Datasite API there)."
        else:
            detail = f"The Datasite answered {response.status_code} {response.reason}."
    return SyftException(str(detail), status=response.status_code, code=str(code))
